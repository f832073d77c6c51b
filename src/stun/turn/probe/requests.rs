//! The relay test's request flow: the peer socket's Binding (self strategy), the second
//! allocation (two-allocations strategy), what each answered request leads to, the hold's
//! refresh timers, and the allocation's events; the phase machine that calls them is in
//! `mod.rs`.

use super::*;

impl TurnProbe {
    /// The self strategy's Binding: from the peer socket to the server's UDP port.
    pub(super) fn start_peer_binding(&mut self, now: Instant) {
        let tid = new_transaction_id(&mut self.rng);
        let Ok(req) = encode_binding_request(
            tid,
            &BindingRequest {
                software: Some(self.config.software.clone()),
                ..BindingRequest::default()
            },
        ) else {
            return;
        };
        let mut tx = ClientTransaction::new(tid, req, false);
        tx.start(
            now,
            crate::stun::retransmit::DEFAULT_RTO,
            now + self.config.timeout,
        );
        self.peer_binding = Some(tx);
        self.step_peer_binding(now);
    }

    pub(super) fn step_peer_binding(&mut self, now: Instant) {
        let Some(tx) = &mut self.peer_binding else {
            return;
        };
        loop {
            match tx.step(now) {
                Action::Transmit => self.transmits.push_back(Transmit {
                    socket: SOCKET_PEER,
                    destination: self.config.stun_server,
                    payload: tx.request().to_vec(),
                }),
                Action::Wait => break,
                Action::GiveUp => {
                    self.peer_binding = None;
                    self.peer_binding_failed = Some(format!(
                        "no STUN answer over UDP from {} to the peer socket",
                        self.config.stun_server
                    ));
                    break;
                }
            }
        }
    }

    pub(super) fn start_second(&mut self, now: Instant) {
        let mut b = Allocation::new(
            SOCKET_SECOND,
            self.config.server,
            self.config.reliable,
            self.config.credentials.clone(),
            self.config.family,
            self.config.software.clone(),
            self.config.timeout,
        );
        b.request(now, RequestKind::Allocate, &mut self.rng);
        self.b = Some(b);
        self.strategy = PeerStrategy::TwoAllocations;
    }

    pub(super) fn on_answered(
        &mut self,
        now: Instant,
        second: bool,
        kind: RequestKind,
        outcome: Outcome,
    ) {
        let (accepted, code) = match &outcome {
            Outcome::Success => ("accepted", None),
            Outcome::Error(c, _) => ("refused", Some(*c)),
            Outcome::NoAnswer | Outcome::Unreachable(_) => ("no-answer", None),
        };
        match kind {
            RequestKind::Allocate => {
                if self.phase == Phase::Deleting && outcome == Outcome::Success {
                    // Allocated while we were already stopping (Ctrl-C): delete it too.
                    let a = if second {
                        self.b.as_mut()
                    } else {
                        Some(&mut self.a)
                    };
                    if let Some(a) = a {
                        a.request(now, RequestKind::Refresh(0), &mut self.rng);
                    }
                }
                let a = if second {
                    self.b.as_ref()
                } else {
                    Some(&self.a)
                };
                if let Some(a) = a {
                    let rep = alloc_report_with(a, &outcome);
                    if second {
                        self.second_report = Some(rep);
                    } else {
                        self.first_report = Some(rep);
                    }
                    if self.phase == Phase::Deleting {}
                }
            }
            RequestKind::CreatePermission(ip) => {
                if let Some(p) = self
                    .policy
                    .iter_mut()
                    .find(|p| p.peer == ip && p.outcome == "no-answer" && !second)
                {
                    p.outcome = accepted;
                    p.error_code = code;
                } else if self.phase == Phase::Hold {
                    if let Some(r) = &mut self.refresh {
                        if outcome == Outcome::Success {
                            r.permission_refreshes += 1;
                        } else {
                            r.outcome = if code == Some(437) { "lost" } else { "failed" };
                            r.error_code = code;
                        }
                    }
                } else {
                    self.permissions.push(PermissionReport {
                        peer: ip,
                        purpose: "media-peer",
                        outcome: accepted,
                        error_code: code,
                    });
                }
            }
            RequestKind::ChannelBind(..) => {
                if self.phase == Phase::Hold {
                    if let Some(r) = &mut self.refresh {
                        if outcome == Outcome::Success {
                            r.channel_refreshes += 1;
                        } else {
                            r.outcome = if code == Some(437) { "lost" } else { "failed" };
                            r.error_code = code;
                        }
                    }
                } else if let Some(c) = &mut self.channel {
                    c.outcome = match accepted {
                        "accepted" => "bound",
                        other => other,
                    };
                    c.error_code = code;
                }
            }
            RequestKind::Refresh(0) => {
                // 437: the allocation is already gone; nothing more to delete.
                let gone = matches!(outcome, Outcome::Success | Outcome::Error(437, _));
                if second {
                    self.deleted_b = gone;
                } else {
                    self.deleted_a = gone;
                }
            }
            RequestKind::Refresh(_) => {
                if let Some(r) = &mut self.refresh {
                    if outcome == Outcome::Success {
                        r.allocation_refreshes += 1;
                    } else {
                        r.outcome = if code == Some(437) { "lost" } else { "failed" };
                        r.error_code = code;
                    }
                }
                if code == Some(437) {
                    // The allocation is gone for this 5-tuple (a NAT rebinding): nothing we
                    // can delete from here; it expires on the server.
                    self.lost = true;
                }
            }
        }
    }

    pub(super) fn fire_hold_timers(&mut self, now: Instant) {
        if self.phase != Phase::Hold {
            return;
        }
        if self
            .refresh
            .as_ref()
            .is_some_and(|r| r.outcome != "holding")
        {
            // A refresh failed: end the hold now.
            self.hold_until = Some(now);
            return;
        }
        if self.next_alloc_refresh.is_some_and(|t| now >= t) {
            let lifetime = self.a.lifetime_s.unwrap_or(600);
            self.a
                .request(now, RequestKind::Refresh(lifetime), &mut self.rng);
            self.next_alloc_refresh = Some(now + Duration::from_secs(u64::from(lifetime) / 2));
        }
        if self.next_perm_refresh.is_some_and(|t| now >= t) {
            if let Some(ip) = self.peer_target.or(self.peer_mapped).map(|a| a.ip()) {
                self.a
                    .request(now, RequestKind::CreatePermission(ip), &mut self.rng);
            }
            self.next_perm_refresh = Some(now + PERMISSION_REFRESH);
        }
        if self.next_chan_refresh.is_some_and(|t| now >= t) {
            if let Some(c) = &self.channel {
                let (n, p) = (c.number, c.peer);
                self.a
                    .request(now, RequestKind::ChannelBind(n, p), &mut self.rng);
            }
            self.next_chan_refresh = Some(now + CHANNEL_REFRESH);
        }
    }

    pub(super) fn drain_allocation_events(&mut self, now: Instant) {
        for _ in 0..1024 {
            let (second, ev) = if let Some(e) = self.a.poll_event() {
                (false, e)
            } else if let Some(e) = self.b.as_mut().and_then(Allocation::poll_event) {
                (true, e)
            } else {
                break;
            };
            match ev {
                AllocationEvent::Answered { kind, outcome } => {
                    self.on_answered(now, second, kind, outcome);
                }
                AllocationEvent::Data { peer, data, .. } => {
                    if second {
                        self.on_peer_data(now, &data);
                    } else {
                        self.on_client_data(now, peer, &data);
                    }
                }
            }
        }
        self.advance(now);
    }
}
