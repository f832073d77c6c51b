//! Client transactions (RFC 3261 §17.1): retransmission timers A/E, timeout timers B/F,
//! provisional and final responses, response matching (§17.1.3); for INVITE the Completed
//! state of §17.1.1.2 (an ACK for each non-2xx final response, Timer D) and the Accepted
//! state of RFC 6026 §7.2 (2xx retransmissions handed to the dialog, Timer M). Sans-IO: the
//! owner passes `now` in and asks when to wake up.

use std::time::{Duration, Instant};

use super::Timers;
use crate::sip::message::Message;

/// INVITE (§17.1.1) or non-INVITE (§17.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Timers A and B; retransmission stops at the first provisional response.
    Invite,
    /// Timers E and F; retransmission continues at T2 after a provisional response.
    NonInvite,
}

/// Transaction state (§17.1.1.2 / §17.1.2.2; Accepted from RFC 6026 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Request sent, nothing heard (Calling / Trying).
    Trying,
    /// A provisional response arrived.
    Proceeding,
    /// A final response arrived (INVITE: a non-2xx one, absorbed again until Timer D).
    Completed,
    /// INVITE only: a 2xx arrived; its retransmissions go to the dialog until Timer M.
    Accepted,
    /// Over: nothing more is matched to it.
    Terminated,
    /// Timer B/F fired.
    TimedOut,
}

/// What the driver must do after a timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send the request again (UDP only).
    Retransmit,
    /// Timer B/F fired: the transaction failed with no final response (treated as 408).
    Timeout,
}

/// What a matching response meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 1xx.
    Provisional(u16),
    /// 2xx–6xx: the transaction's result. For a non-2xx final response to INVITE the
    /// owner sends the ACK of §17.1.1.3.
    Final(u16),
    /// INVITE: a retransmission of the non-2xx final response: send the same ACK again.
    RepeatAck,
    /// INVITE: a 2xx after the first (a retransmission, or another fork): for the dialog,
    /// which ACKs it itself (RFC 6026 §7.2).
    Retransmitted2xx(u16),
    /// A retransmitted final response after completion: ignore.
    Duplicate,
}

/// One client transaction.
#[derive(Debug, Clone)]
pub struct ClientTransaction {
    kind: Kind,
    reliable: bool,
    timers: Timers,
    branch: String,
    method: String,
    state: State,
    /// Next retransmission (Timer A/E), if any.
    retransmit_at: Option<Instant>,
    interval: Duration,
    /// Timer B/F.
    deadline: Instant,
    /// Timer D (Completed) or M (Accepted): when the transaction terminates.
    linger_until: Option<Instant>,
    /// Requests sent, the first included.
    pub transmissions: u32,
}

impl ClientTransaction {
    /// Starts a transaction whose request was just sent at `now`. `reliable` transports
    /// (TCP/TLS) get no retransmissions (§17.1.2.2). `deadline` overrides Timer B/F = 64·T1
    /// when shorter (the user's `--timeout`).
    pub fn new(
        kind: Kind,
        reliable: bool,
        timers: Timers,
        branch: &str,
        method: &str,
        now: Instant,
        deadline: Option<Duration>,
    ) -> Self {
        let timer_bf = timers.t1 * 64;
        let wait = deadline.map_or(timer_bf, |d| d.min(timer_bf));
        ClientTransaction {
            kind,
            reliable,
            timers,
            branch: branch.to_string(),
            method: method.to_string(),
            state: State::Trying,
            retransmit_at: (!reliable).then(|| now + timers.t1),
            interval: timers.t1,
            deadline: now + wait,
            linger_until: None,
            transmissions: 1,
        }
    }

    /// The branch (the transaction's key, §17.1.3).
    pub fn branch(&self) -> &str {
        &self.branch
    }

    /// The method of the request.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// INVITE or non-INVITE.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether the transaction has its result (a final response, or the timeout).
    pub fn is_done(&self) -> bool {
        !matches!(self.state, State::Trying | State::Proceeding)
    }

    /// Whether nothing more will be matched to it (after Timer D or M for INVITE).
    pub fn is_terminated(&self) -> bool {
        matches!(self.state, State::Terminated | State::TimedOut)
    }

    /// When the owner must call [`Self::handle_timeout`] next; `None` when terminated.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Terminated | State::TimedOut => None,
            State::Completed | State::Accepted => self.linger_until,
            // §17.1.1.2: Timer B runs only in Calling; once an INVITE has a provisional
            // response, its owner decides how long to wait (and CANCELs, §9.1).
            State::Proceeding if self.kind == Kind::Invite => None,
            State::Trying | State::Proceeding => Some(match self.retransmit_at {
                Some(r) => r.min(self.deadline),
                None => self.deadline,
            }),
        }
    }

    /// Fires due timers.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Action> {
        if matches!(self.state, State::Completed | State::Accepted) {
            if self.linger_until.is_none_or(|t| now >= t) {
                self.state = State::Terminated;
            }
            return None;
        }
        if self.is_done() {
            return None;
        }
        if now >= self.deadline && !(self.kind == Kind::Invite && self.state == State::Proceeding) {
            self.state = State::TimedOut;
            self.retransmit_at = None;
            return Some(Action::Timeout);
        }
        match self.retransmit_at {
            Some(at) if now >= at => {
                self.interval = match (self.kind, self.state) {
                    (Kind::Invite, _) => self.interval * 2,
                    (Kind::NonInvite, State::Proceeding) => self.timers.t2,
                    (Kind::NonInvite, _) => (self.interval * 2).min(self.timers.t2),
                };
                self.retransmit_at = Some(now + self.interval);
                self.transmissions += 1;
                Some(Action::Retransmit)
            }
            _ => None,
        }
    }

    /// Whether a response belongs to this transaction (§17.1.3): the top Via branch and the
    /// CSeq method match.
    pub fn matches(&self, response: &Message) -> bool {
        let branch_ok = response
            .top_via()
            .is_some_and(|v| v.branch() == Some(self.branch.as_str()));
        let method_ok = response.cseq().is_some_and(|(_, m)| m == self.method);
        branch_ok && method_ok && response.status().is_some()
    }

    /// Feeds a matching response at `now`.
    pub fn handle_response(&mut self, now: Instant, status: u16) -> Outcome {
        match self.state {
            State::Completed if self.kind == Kind::Invite && status >= 300 => {
                return Outcome::RepeatAck;
            }
            State::Accepted if (200..300).contains(&status) => {
                return Outcome::Retransmitted2xx(status);
            }
            _ if self.is_done() => return Outcome::Duplicate,
            _ => {}
        }
        if status < 200 {
            self.state = State::Proceeding;
            match self.kind {
                Kind::Invite => self.retransmit_at = None,
                Kind::NonInvite => {
                    if let Some(at) = self.retransmit_at {
                        // §17.1.2.2: in Proceeding, retransmit every T2.
                        self.retransmit_at = Some(at.max(at - self.interval + self.timers.t2));
                        self.interval = self.timers.t2;
                    }
                }
            }
            return Outcome::Provisional(status);
        }
        self.retransmit_at = None;
        match self.kind {
            Kind::Invite if status < 300 => {
                // RFC 6026 §7.2: Accepted, Timer M = 64·T1.
                self.state = State::Accepted;
                self.linger_until = Some(now + self.timers.t1 * 64);
            }
            Kind::Invite => {
                // §17.1.1.2: Completed, Timer D ≥ 32 s over UDP, 0 over a reliable transport.
                self.state = State::Completed;
                let d = if self.reliable {
                    Duration::ZERO
                } else {
                    Duration::from_secs(32)
                };
                self.linger_until = Some(now + d);
            }
            Kind::NonInvite => {
                // Timer K would absorb retransmissions; a client that ignores them as
                // strays needs no state for it.
                self.state = State::Terminated;
            }
        }
        Outcome::Final(status)
    }

    /// Whether retransmissions are on.
    pub fn is_reliable(&self) -> bool {
        self.reliable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the timers with a fake clock until the transaction ends; returns the offsets (ms)
    /// of every retransmission and of the timeout.
    #[allow(clippy::disallowed_methods)]
    fn t0() -> Instant {
        Instant::now()
    }

    fn schedule(kind: Kind, reliable: bool, provisional_at: Option<u64>) -> (Vec<u64>, u64) {
        let t0 = t0();
        let mut tx = ClientTransaction::new(
            kind,
            reliable,
            Timers::default(),
            "z9hG4bKa",
            "OPTIONS",
            t0,
            None,
        );
        let mut sent = Vec::new();
        let mut provisional = provisional_at;
        for _ in 0..1000 {
            let Some(next) = tx.poll_timeout() else {
                // An INVITE in Proceeding: no Timer B, its owner bounds the wait.
                return (sent, u64::MAX);
            };
            if let Some(p) = provisional
                && t0 + Duration::from_millis(p) <= next
            {
                tx.handle_response(t0, 180);
                provisional = None;
                continue;
            }
            match tx.handle_timeout(next) {
                Some(Action::Retransmit) => sent.push((next - t0).as_millis() as u64),
                Some(Action::Timeout) => return (sent, (next - t0).as_millis() as u64),
                None => {}
            }
        }
        panic!("no timeout");
    }

    #[test]
    fn non_invite_udp_timer_e_and_f() {
        // §17.1.2.2: E doubles from T1 to T2 = 4 s; F fires at 64·T1 = 32 s.
        let (sent, timeout) = schedule(Kind::NonInvite, false, None);
        assert_eq!(
            sent,
            [
                500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500
            ]
        );
        assert_eq!(timeout, 32_000);
    }

    #[test]
    fn non_invite_proceeding_retransmits_every_t2() {
        let (sent, timeout) = schedule(Kind::NonInvite, false, Some(600));
        assert_eq!(&sent[..3], [500, 4500, 8500]);
        assert_eq!(timeout, 32_000);
    }

    #[test]
    fn invite_timer_a_doubles_and_stops_on_provisional() {
        let (sent, timeout) = schedule(Kind::Invite, false, None);
        assert_eq!(sent, [500, 1500, 3500, 7500, 15500, 31500]);
        assert_eq!(timeout, 32_000);
        let (sent, timeout) = schedule(Kind::Invite, false, Some(1000));
        assert_eq!(sent, [500]);
        assert_eq!(timeout, u64::MAX, "§17.1.1.2: Timer B only in Calling");
    }

    #[test]
    fn reliable_transport_never_retransmits() {
        let (sent, timeout) = schedule(Kind::NonInvite, true, None);
        assert!(sent.is_empty());
        assert_eq!(timeout, 32_000);
    }

    #[test]
    fn user_deadline_and_final_responses() {
        let t0 = t0();
        let mut tx = ClientTransaction::new(
            Kind::NonInvite,
            false,
            Timers::default(),
            "z9hG4bKa",
            "OPTIONS",
            t0,
            Some(Duration::from_secs(2)),
        );
        assert_eq!(
            tx.handle_timeout(t0 + Duration::from_millis(2000)),
            Some(Action::Timeout)
        );
        let mut tx = ClientTransaction::new(
            Kind::NonInvite,
            false,
            Timers::default(),
            "z9hG4bKa",
            "OPTIONS",
            t0,
            None,
        );
        assert_eq!(tx.handle_response(t0, 100), Outcome::Provisional(100));
        assert_eq!(tx.handle_response(t0, 200), Outcome::Final(200));
        assert_eq!(tx.handle_response(t0, 200), Outcome::Duplicate);
        assert_eq!(tx.poll_timeout(), None);
    }

    #[test]
    fn matching_by_branch_and_method() {
        let tx = ClientTransaction::new(
            Kind::NonInvite,
            false,
            Timers::default(),
            "z9hG4bKa",
            "OPTIONS",
            t0(),
            None,
        );
        let resp = |branch: &str, method: &str| {
            Message::parse(
                format!(
                    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch={branch}\r\nCSeq: 1 {method}\r\n\
                     Content-Length: 0\r\n\r\n"
                )
                .as_bytes(),
            )
            .unwrap()
        };
        assert!(tx.matches(&resp("z9hG4bKa", "OPTIONS")));
        assert!(!tx.matches(&resp("z9hG4bKb", "OPTIONS")));
        assert!(!tx.matches(&resp("z9hG4bKa", "INVITE")));
    }

    #[test]
    fn invite_completed_absorbs_retransmissions_until_timer_d() {
        let t0 = t0();
        for (reliable, d) in [(false, 32), (true, 0)] {
            let mut tx = ClientTransaction::new(
                Kind::Invite,
                reliable,
                Timers::default(),
                "z9hG4bKi",
                "INVITE",
                t0,
                None,
            );
            let at = t0 + Duration::from_millis(40);
            assert_eq!(tx.handle_response(at, 100), Outcome::Provisional(100));
            assert_eq!(tx.handle_response(at, 486), Outcome::Final(486));
            assert_eq!(tx.state(), State::Completed);
            assert_eq!(tx.handle_response(at, 486), Outcome::RepeatAck);
            assert_eq!(tx.poll_timeout(), Some(at + Duration::from_secs(d)));
            tx.handle_timeout(at + Duration::from_secs(d));
            assert!(tx.is_terminated());
        }
    }

    #[test]
    fn invite_accepted_passes_2xx_retransmissions_until_timer_m() {
        let t0 = t0();
        let mut tx = ClientTransaction::new(
            Kind::Invite,
            false,
            Timers::default(),
            "z9hG4bKi",
            "INVITE",
            t0,
            None,
        );
        assert_eq!(tx.handle_response(t0, 200), Outcome::Final(200));
        assert_eq!(tx.state(), State::Accepted);
        assert_eq!(tx.handle_response(t0, 200), Outcome::Retransmitted2xx(200));
        assert_eq!(tx.poll_timeout(), Some(t0 + Duration::from_secs(32)));
        tx.handle_timeout(t0 + Duration::from_secs(32));
        assert!(tx.is_terminated());
    }
}
