//! The media rounds of the TURN relay test: RTP-sized packets paced both ways through the
//! relay (Send/Data indications or a channel), echoes for the round trip, and the totals.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::report::{Counts, MediaReport, Round, RttMs};
use super::{PACKET_LEN, PeerStrategy, Phase, SOCKET_PEER, TurnProbe};
use crate::machine::Transmit;
use crate::rtp::stats::round_ms;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Inbound = 1,
    Outbound = 2,
    Echo = 3,
}

#[derive(Debug)]
pub(super) struct RoundState {
    pub(super) via_channel: bool,
    pub(super) after_hold: bool,
    pub(super) start: Instant,
    pub(super) peer_sent: u32,
    pub(super) next_peer: Instant,
    pub(super) client_sent: u32,
    pub(super) next_client: Option<Instant>,
    pub(super) sent_at: Vec<Option<Instant>>,
    pub(super) inbound: u32,
    pub(super) outbound: u32,
    pub(super) echoes: u32,
    pub(super) rtts: Vec<Duration>,
    pub(super) end: Option<Instant>,
}

impl TurnProbe {
    pub(super) fn media_report(&self) -> Option<MediaReport> {
        if self.rounds.is_empty() {
            return None;
        }
        let sum = |f: fn(&Round) -> Option<u32>| -> Option<u32> {
            self.rounds.iter().map(f).sum::<Option<u32>>()
        };
        let inbound = Counts {
            sent: sum(|r| r.inbound.sent),
            received: sum(|r| r.inbound.received),
        };
        let outbound = Counts {
            sent: sum(|r| r.outbound.sent),
            received: sum(|r| r.outbound.received),
        };
        let mut via = Vec::new();
        for r in &self.rounds {
            let both = match self.strategy {
                PeerStrategy::Peer(_) => r.inbound.received.unwrap_or(0) > 0,
                _ => r.inbound.received.unwrap_or(0) > 0 && r.outbound.received.unwrap_or(0) > 0,
            };
            if both && !via.contains(&r.via) {
                via.push(r.via);
            }
        }
        let rtts: Vec<RttMs> = self.rounds.iter().filter_map(|r| r.rtt_ms).collect();
        let rtt_ms = (!rtts.is_empty()).then(|| RttMs {
            min: rtts.iter().map(|r| r.min).fold(f64::INFINITY, f64::min),
            max: rtts.iter().map(|r| r.max).fold(0.0, f64::max),
            avg: crate::rtp::stats::round3(
                rtts.iter().map(|r| r.avg).sum::<f64>() / rtts.len() as f64,
            ),
        });
        let loss_pct = match self.strategy {
            PeerStrategy::Peer(_) => outbound.sent.zip(inbound.received).map(|(s, r)| {
                crate::rtp::stats::round3(
                    100.0 * f64::from(s.saturating_sub(r)) / f64::from(s.max(1)),
                )
            }),
            _ => match (
                inbound.sent,
                inbound.received,
                outbound.sent,
                outbound.received,
            ) {
                (Some(is), Some(ir), Some(os), Some(or)) if is + os > 0 => {
                    Some(crate::rtp::stats::round3(
                        100.0 * f64::from(is.saturating_sub(ir) + os.saturating_sub(or))
                            / f64::from(is + os),
                    ))
                }
                _ => None,
            },
        };
        Some(MediaReport {
            strategy: match self.strategy {
                PeerStrategy::Peer(_) => "peer",
                PeerStrategy::TwoAllocations => "two-allocations",
                _ => "self",
            },
            peer_address: self.peer_target,
            inbound,
            outbound,
            via,
            rtt_ms,
            loss_pct,
            rounds: self.rounds.clone(),
        })
    }

    // ---- the test's steps ----

    pub(super) fn start_round(&mut self, now: Instant, via_channel: bool, after_hold: bool) {
        self.phase = Phase::Media;
        let n = self.config.count as usize;
        let client_first = matches!(self.strategy, PeerStrategy::Peer(_));
        self.round = Some(RoundState {
            via_channel,
            after_hold,
            start: now,
            peer_sent: if client_first { self.config.count } else { 0 },
            next_peer: now,
            client_sent: 0,
            next_client: (client_first || via_channel || self.peer_target.is_some()).then_some(now),
            sent_at: vec![None; n],
            inbound: 0,
            outbound: 0,
            echoes: 0,
            rtts: Vec::new(),
            end: None,
        });
        self.pump_round(now);
    }

    pub(super) fn close_round(&mut self) {
        let Some(r) = self.round.take() else { return };
        let rtt = (!r.rtts.is_empty()).then(|| {
            let min = r.rtts.iter().min().copied().unwrap_or_default();
            let max = r.rtts.iter().max().copied().unwrap_or_default();
            let avg = r.rtts.iter().sum::<Duration>() / r.rtts.len() as u32;
            RttMs {
                min: round_ms(min),
                avg: round_ms(avg),
                max: round_ms(max),
            }
        });
        let peer_mode = matches!(self.strategy, PeerStrategy::Peer(_));
        self.rounds.push(Round {
            via: if r.via_channel {
                "channel"
            } else {
                "indication"
            },
            after_hold: r.after_hold,
            inbound: Counts {
                sent: (!peer_mode).then_some(r.peer_sent),
                received: Some(if peer_mode { r.echoes } else { r.inbound }),
            },
            outbound: Counts {
                sent: Some(r.client_sent),
                received: (!peer_mode).then_some(r.outbound),
            },
            rtt_ms: rtt,
        });
    }

    fn packet(&self, kind: Kind, seq: u16, via_channel: bool) -> Vec<u8> {
        let mut p = vec![0xFFu8; PACKET_LEN];
        p[0] = 0x80;
        p[1] = 0; // PCMU
        p[2..4].copy_from_slice(&seq.to_be_bytes());
        p[4..8].copy_from_slice(&(u32::from(seq) * 160).to_be_bytes());
        p[8..12].copy_from_slice(&(0x5644_0000u32 | kind as u32).to_be_bytes());
        p[12..20].copy_from_slice(&self.nonce);
        p[20] = kind as u8;
        p[21] = u8::from(via_channel);
        p
    }

    fn parse(&self, data: &[u8]) -> Option<(Kind, u16)> {
        if data.len() < 22 || data[0] != 0x80 || data[12..20] != self.nonce {
            return None;
        }
        let kind = match data[20] {
            1 => Kind::Inbound,
            2 => Kind::Outbound,
            3 => Kind::Echo,
            _ => return None,
        };
        Some((kind, u16::from_be_bytes([data[2], data[3]])))
    }

    /// Sends from the peer's side to our relayed address.
    fn peer_send(&mut self, payload: Vec<u8>) {
        let Some(relayed) = self.a.relayed else {
            return;
        };
        match self.strategy {
            PeerStrategy::TwoAllocations => {
                if let Some(b) = &mut self.b {
                    b.send_indication(relayed, &payload, &mut self.rng);
                }
            }
            PeerStrategy::Peer(_) => {}
            _ => self.transmits.push_back(Transmit {
                socket: SOCKET_PEER,
                destination: relayed,
                payload,
            }),
        }
    }

    /// Sends from our allocation to the peer.
    fn client_send(&mut self, payload: &[u8], via_channel: bool) {
        let Some(target) = self.peer_target.or(self.peer_mapped) else {
            return;
        };
        if via_channel {
            self.a.send_channel(target, payload);
        } else {
            self.a.send_indication(target, payload, &mut self.rng);
        }
    }

    pub(super) fn pump_round(&mut self, now: Instant) {
        let n = self.config.count;
        let interval = self.config.interval;
        let Some(r) = &mut self.round else { return };
        let mut out: Vec<(bool, Vec<u8>)> = Vec::new(); // (from peer, payload)
        let via = r.via_channel;
        while r.peer_sent < n && r.next_peer <= now {
            let seq = r.peer_sent as u16;
            r.peer_sent += 1;
            r.next_peer += interval;
            out.push((true, vec![seq as u8, (seq >> 8) as u8]));
        }
        // The client starts at the first inbound packet, or half way through the peer's
        // sends at the latest (then to the peer's Binding address).
        if r.next_client.is_none() && now >= r.start + interval * (n / 2).max(1) {
            r.next_client = Some(now);
        }
        while let Some(t) = r.next_client {
            if r.client_sent >= n || t > now {
                break;
            }
            let seq = r.client_sent as u16;
            if let Some(slot) = r.sent_at.get_mut(seq as usize) {
                *slot = Some(now);
            }
            r.client_sent += 1;
            r.next_client = Some(t + interval);
            out.push((false, vec![seq as u8, (seq >> 8) as u8]));
        }
        let all_sent = r.peer_sent >= n && r.client_sent >= n;
        let peer_mode = matches!(self.strategy, PeerStrategy::Peer(_));
        let all_back = if peer_mode {
            r.echoes >= n
        } else {
            r.inbound >= n && r.outbound >= n && r.echoes >= n
        };
        if all_sent && r.end.is_none() {
            let grace = (self.rtt_estimate * 4).max(Duration::from_millis(300));
            r.end = Some(now + grace.min(self.config.timeout));
        }
        if all_sent && all_back {
            r.end = Some(now);
        }
        for (from_peer, seq) in out {
            let seq = u16::from(seq[0]) | (u16::from(seq[1]) << 8);
            if from_peer {
                let p = self.packet(Kind::Inbound, seq, via);
                self.peer_send(p);
            } else {
                let p = self.packet(Kind::Outbound, seq, via);
                self.client_send(&p, via);
            }
        }
    }

    pub(super) fn on_client_data(&mut self, now: Instant, peer: SocketAddr, data: &[u8]) {
        let Some((kind, seq)) = self.parse(data) else {
            return;
        };
        let peer_mode = matches!(self.strategy, PeerStrategy::Peer(_));
        let Some(r) = &mut self.round else { return };
        match kind {
            Kind::Inbound if !peer_mode => {
                r.inbound += 1;
                if self.peer_target.is_none() || self.strategy != PeerStrategy::TwoAllocations {
                    // The address the relay saw the peer from (its NAT's mapping towards
                    // the relay): where our packets must go.
                    if self.peer_target.is_none() {
                        self.peer_target = Some(peer);
                    }
                }
                if r.next_client.is_none() {
                    r.next_client = Some(now);
                }
            }
            Kind::Echo | Kind::Outbound => {
                // From a peer echo server, our own Outbound packet comes back verbatim.
                if kind == Kind::Outbound && !peer_mode {
                    return;
                }
                r.echoes += 1;
                if let Some(Some(t)) = r.sent_at.get(seq as usize) {
                    let rtt = now.saturating_duration_since(*t);
                    r.rtts.push(rtt);
                    self.rtt_estimate = rtt;
                }
            }
            Kind::Inbound => {}
        }
        self.pump_round(now);
    }

    pub(super) fn on_peer_data(&mut self, now: Instant, data: &[u8]) {
        let Some((kind, seq)) = self.parse(data) else {
            return;
        };
        let Some(r) = &mut self.round else { return };
        if kind != Kind::Outbound {
            return;
        }
        r.outbound += 1;
        let via = r.via_channel;
        let echo = self.packet(Kind::Echo, seq, via);
        self.peer_send(echo);
        self.pump_round(now);
    }
}
