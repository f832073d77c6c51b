//! What the INVITE dialog does with what arrives: provisional responses (PRACK for reliable
//! ones), the INVITE's final response (ACK, authentication, forks, Session-Timer retries),
//! a 2xx retransmitted, the far end's requests (re-INVITE, UPDATE, BYE, CANCEL…), and the
//! completion of our other transactions. The machine and the requests we send are in
//! `mod.rs`.

use super::*;

impl Invite {
    pub(super) fn on_provisional(&mut self, now: Instant, m: Message) {
        self.log_message(now, &m, Sender::Them);
        let Some((_, _, sent)) = &self.invite else {
            return;
        };
        let since = now.saturating_duration_since(*sent);
        let code = m.status().unwrap_or(0);
        self.outcome.first_response.get_or_insert(since);
        if code >= 180 {
            self.outcome.pdd.get_or_insert(since);
        }
        // §9.1: any provisional response (100 included) allows a CANCEL.
        self.provisional_seen = true;
        if self.outcome.answer_sdp.is_none() && is_sdp(&m) {
            self.outcome.answer_sdp = Some((m.body.clone(), true));
            self.events.push_back(InviteEvent::Answer {
                sdp: m.body.clone(),
                early: true,
            });
        }
        // RFC 3262 §4: a reliable provisional response is PRACKed (once per RSeq).
        let reliable = m.headers_named("Require").any(|r| {
            r.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("100rel"))
        });
        if let (true, Some(peer), Some(rseq)) = (
            reliable && code > 100,
            peer_of(&m),
            m.header("RSeq").and_then(|r| r.trim().parse::<u32>().ok()),
        ) && !self.pracked.contains(&(peer.to_tag.clone(), rseq))
        {
            self.pracked.push((peer.to_tag.clone(), rseq));
            let invite_cseq = self.invite.as_ref().map_or(0, |i| i.1.cseq);
            self.cseq += 1;
            let mut prack = self.in_dialog(Method::Prack, self.cseq, &peer);
            prack
                .extra
                .push(("RAck".into(), format!("{rseq} {invite_cseq} INVITE")));
            self.log(
                now,
                Sender::Us,
                "PRACK".into(),
                u64::from(self.cseq),
                false,
                false,
            );
            let dest = self.dialog_destination(&peer);
            let _ = self.endpoint.send_request_to(now, 0, dest, prack);
            self.outcome.prack = true;
        }
    }

    pub(super) fn on_invite_final(&mut self, now: Instant, result: TransactionResult) {
        let Some((_, spec, sent)) = self.invite.clone() else {
            return;
        };
        let Some(resp) = result.final_response else {
            // Timer B (bounded by --timeout): no response at all.
            if self.state == State::Cancelling {
                self.end(CallOutcome::Cancelled);
            } else {
                self.end(CallOutcome::NoAnswer);
            }
            return;
        };
        let m = resp.message;
        self.log_message(now, &m, Sender::Them);
        let code = m.status().unwrap_or(0);
        let since = now.saturating_duration_since(sent);
        self.outcome.first_response.get_or_insert(since);
        self.outcome.pdd.get_or_insert(since);
        self.outcome.final_status = Some((
            code,
            crate::text::clip(m.reason().unwrap_or("").to_string())
                .0
                .to_string(),
        ));
        if (200..300).contains(&code) {
            let Some(peer) = peer_of(&m) else {
                // A 2xx without a To-tag cannot form a dialog: nothing to ACK or BYE.
                self.outcome.error = Some("the 2xx to INVITE has no To tag".into());
                self.end(CallOutcome::Rejected);
                return;
            };
            self.outcome.answer.get_or_insert(since);
            self.outcome.answered_at = Some(now.saturating_duration_since(self.config.start));
            self.outcome.answer_response = Some(m.clone());
            self.send_ack(now, &peer, spec.cseq);
            if self.outcome.answer_sdp.is_none() && is_sdp(&m) {
                self.outcome.answer_sdp = Some((m.body.clone(), false));
                self.events.push_back(InviteEvent::Answer {
                    sdp: m.body.clone(),
                    early: false,
                });
            }
            self.confirmed = Some(peer);
            if let Some((interval, refresher)) = session_expires(&m) {
                self.outcome.session_timer = Some((interval, refresher));
                self.schedule_refresh(now);
            }
            let cancelled = self.state == State::Cancelling;
            self.state = State::Confirmed;
            self.outcome.outcome = Some(CallOutcome::Answered);
            self.close_deadline = None;
            self.answer_deadline = None;
            self.cancel_at = None;
            if cancelled {
                // §9.1: the 2xx crossed our CANCEL; the call is up, so end it with a BYE.
                self.send_bye(now, self.credentials.clone());
                return;
            }
            self.events.push_back(InviteEvent::Confirmed);
            return;
        }
        match code {
            401 | 407 if self.state == State::Calling => {
                self.reset_attempt();
                match self.auth.challenged(&m) {
                    AuthStep::Retry => self.retry_authenticated(now),
                    AuthStep::NeedPassword { realm } => {
                        self.events.push_back(InviteEvent::PasswordNeeded { realm });
                    }
                    AuthStep::Failed => {
                        self.outcome.auth_failure = self.auth.failure().cloned();
                        self.end(CallOutcome::AuthFailed);
                    }
                }
            }
            422 if self.state == State::Calling
                && self.outcome.session_interval_retry.is_none() =>
            {
                let min = m
                    .header("Min-SE")
                    .and_then(|v| v.split(';').next()?.trim().parse::<u32>().ok());
                match min {
                    Some(min) => {
                        self.outcome.session_interval_retry = Some(min);
                        self.session_expires = Some(min);
                        self.reset_attempt();
                        self.auth.forget_sent();
                        self.send_invite(now);
                    }
                    None => self.end(CallOutcome::Rejected),
                }
            }
            487 if self.state == State::Cancelling => self.end(CallOutcome::Cancelled),
            486 | 600 => self.end(CallOutcome::Busy),
            _ if self.state == State::Cancelling => self.end(CallOutcome::Cancelled),
            _ => self.end(CallOutcome::Rejected),
        }
    }

    /// A new INVITE (after a challenge or 422) starts its timings afresh.
    pub(super) fn reset_attempt(&mut self) {
        self.outcome.first_response = None;
        self.outcome.pdd = None;
        self.outcome.final_status = None;
        self.provisional_seen = false;
    }

    pub(super) fn on_2xx_again(&mut self, now: Instant, m: &Message) {
        let invite_cseq = self.invite.as_ref().map_or(0, |i| i.1.cseq);
        let Some(fork) = peer_of(m) else {
            return;
        };
        self.log_message(now, m, Sender::Them);
        let same = self
            .confirmed
            .as_ref()
            .is_some_and(|p| p.to_tag == fork.to_tag);
        if same {
            // RFC 6026 §7.2 / RFC 3261 §13.2.2.4: each retransmitted 2xx gets the ACK again.
            let peer = self.confirmed.clone();
            if let Some(peer) = peer {
                self.send_ack(now, &peer, invite_cseq);
            }
        } else {
            self.release_fork(now, &fork, invite_cseq);
        }
    }

    pub(super) fn on_request(&mut self, now: Instant, id: ServerId, m: Message) {
        self.log_message(now, &m, Sender::Them);
        let ours = m
            .header("Call-ID")
            .is_some_and(|c| c.trim() == self.ctx.call_id);
        let method = m.method().unwrap_or("").to_ascii_uppercase();
        let in_dialog = ours
            && self.confirmed.as_ref().is_some_and(|p| {
                tag_of(&m, "From").as_deref() == Some(p.to_tag.as_str())
                    && tag_of(&m, "To").as_deref() == Some(self.ctx.from_tag.as_str())
            });
        let contact = vec![
            ("Contact".to_string(), format!("<{}>", self.config.contact)),
            ("Allow".to_string(), ALLOW.to_string()),
        ];
        let (status, reason): (u16, &str) = match method.as_str() {
            _ if !in_dialog && method != "OPTIONS" => (481, "Call/Transaction Does Not Exist"),
            "BYE" => {
                self.outcome.hangup = Some((HangupBy::FarEnd, None));
                self.events.push_back(InviteEvent::RemoteBye);
                (200, "OK")
            }
            "INVITE" | "UPDATE" => {
                if self.outcome.session_timer.is_some() {
                    // A refresh by the far end (RFC 4028 §10): the interval starts again.
                    self.outcome.refreshes += 1;
                    self.schedule_refresh(now);
                }
                if is_sdp(&m) {
                    self.events.push_back(InviteEvent::NewOffer {
                        sdp: m.body.clone(),
                    });
                }
                let sdp = self.current_sdp.clone();
                let mut contact = contact;
                if let Some(se) = m.header("Session-Expires") {
                    // RFC 4028 §9: the 2xx to a refresh carries the interval and refresher.
                    let se = if se.contains("refresher") {
                        se.to_string()
                    } else {
                        format!("{se};refresher=uac")
                    };
                    contact.push(("Session-Expires".into(), se));
                    contact.push(("Require".into(), "timer".into()));
                }
                self.endpoint.respond_with_body(
                    now,
                    id,
                    200,
                    "OK",
                    &contact,
                    Some(("application/sdp", &sdp)),
                );
                self.log(
                    now,
                    Sender::Us,
                    "200 OK".into(),
                    m.cseq().map_or(0, |c| c.0),
                    false,
                    true,
                );
                return;
            }
            "OPTIONS" | "INFO" | "PRACK" => (200, "OK"),
            "ACK" => return,
            _ => (501, "Not Implemented"),
        };
        self.endpoint.respond(now, id, status, reason, &contact);
        self.log(
            now,
            Sender::Us,
            format!("{status} {reason}"),
            m.cseq().map_or(0, |c| c.0),
            false,
            false,
        );
        if method == "BYE" && in_dialog {
            self.end(CallOutcome::Answered);
        }
    }

    pub(super) fn on_completed(&mut self, now: Instant, id: ClientId, result: TransactionResult) {
        if self.invite.as_ref().is_some_and(|i| i.0 == id) {
            self.on_invite_final(now, result);
            return;
        }
        if let Some((rid, cseq)) = self.refresh
            && rid == id
        {
            self.refresh = None;
            let code = result
                .final_response
                .as_ref()
                .and_then(|r| r.message.status());
            if let Some(r) = &result.final_response {
                self.log_message(now, &r.message, Sender::Them);
            }
            match code {
                Some(200..=299) => {
                    if let Some(peer) = self.confirmed.clone() {
                        self.send_ack(now, &peer, cseq);
                    }
                    if let Some(m) = result.final_response.as_ref().map(|r| &r.message)
                        && let Some(timer) = session_expires(m)
                    {
                        self.outcome.session_timer = Some(timer);
                    }
                    self.outcome.refreshes += 1;
                    self.schedule_refresh(now);
                }
                // RFC 4028 §10 / RFC 3261 §14.1: the dialog is gone, end the call.
                None | Some(408 | 481) => {
                    if self.state == State::Confirmed {
                        self.send_bye(now, self.credentials.clone());
                    }
                }
                // 491 glare or another refusal: the session goes on; try again later.
                Some(_) => self.schedule_refresh(now),
            }
            return;
        }
        if self.cancel == Some(id) {
            // The CANCEL's own answer (200, or 481 when the INVITE had already completed).
            if let Some(r) = &result.final_response {
                self.log_message(now, &r.message, Sender::Them);
            }
            return;
        }
        if self.bye == Some(id) {
            let Some(r) = result.final_response else {
                self.outcome.hangup = Some((HangupBy::Us, None));
                self.end(CallOutcome::Answered);
                return;
            };
            self.log_message(now, &r.message, Sender::Them);
            let code = r.message.status().unwrap_or(0);
            if matches!(code, 401 | 407) && !self.bye_challenged {
                self.bye_challenged = true;
                // A challenged BYE is sent again with credentials (the INVITE's nonce is
                // not a rejection of these).
                self.auth.forget_sent();
                let uri = self
                    .confirmed
                    .as_ref()
                    .and_then(|p| p.remote_target.clone())
                    .unwrap_or_else(|| self.ctx.request_uri.clone());
                if self.auth.challenged(&r.message) == AuthStep::Retry
                    && let Some(signed) = self.auth.sign(&mut self.rng, "BYE", &uri, b"")
                {
                    self.send_bye(now, Some((signed.header, signed.value)));
                    return;
                }
            }
            self.outcome.hangup = Some((HangupBy::Us, Some(code)));
            self.end(CallOutcome::Answered);
        }
        // PRACK and fork BYE answers need nothing more.
    }
}
