//! Client transactions (RFC 3261 §17.1): retransmission timers A/E, timeout timers B/F,
//! provisional and final responses, response matching (§17.1.3). Sans-IO: the driver passes
//! `now` in and asks when to wake up.

use std::time::{Duration, Instant};

use super::message::Message;

/// Timer values (RFC 3261 §17.1.1.1, Table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// RTT estimate, 500 ms by default.
    pub t1: Duration,
    /// Longest retransmit interval for non-INVITE requests, 4 s.
    pub t2: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
        }
    }
}

/// INVITE (§17.1.1) or non-INVITE (§17.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Timers A and B; retransmission stops at the first provisional response.
    Invite,
    /// Timers E and F; retransmission continues at T2 after a provisional response.
    NonInvite,
}

/// Transaction state (§17.1.1.2 / §17.1.2.2, the states we need on the client side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Request sent, nothing heard (Calling / Trying).
    Trying,
    /// A provisional response arrived.
    Proceeding,
    /// A final response arrived.
    Completed,
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
    /// 2xx–6xx: the transaction is over.
    Final(u16),
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
            transmissions: 1,
        }
    }

    /// Current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether the transaction is over (final response or timeout).
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Completed | State::TimedOut)
    }

    /// When the driver must call [`Self::handle_timeout`] next; `None` when done.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_done() {
            return None;
        }
        Some(match self.retransmit_at {
            Some(r) => r.min(self.deadline),
            None => self.deadline,
        })
    }

    /// Fires due timers.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Action> {
        if self.is_done() {
            return None;
        }
        if now >= self.deadline {
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

    /// Feeds a matching response.
    pub fn handle_response(&mut self, status: u16) -> Outcome {
        if self.is_done() {
            return Outcome::Duplicate;
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
        self.state = State::Completed;
        self.retransmit_at = None;
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
    fn schedule(kind: Kind, reliable: bool, provisional_at: Option<u64>) -> (Vec<u64>, u64) {
        let t0 = Instant::now();
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
            let next = tx.poll_timeout().expect("not done");
            if let Some(p) = provisional
                && t0 + Duration::from_millis(p) <= next
            {
                tx.handle_response(180);
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
        let (sent, _) = schedule(Kind::Invite, false, Some(1000));
        assert_eq!(sent, [500]);
    }

    #[test]
    fn reliable_transport_never_retransmits() {
        let (sent, timeout) = schedule(Kind::NonInvite, true, None);
        assert!(sent.is_empty());
        assert_eq!(timeout, 32_000);
    }

    #[test]
    fn user_deadline_and_final_responses() {
        let t0 = Instant::now();
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
        assert_eq!(tx.handle_response(100), Outcome::Provisional(100));
        assert_eq!(tx.handle_response(200), Outcome::Final(200));
        assert_eq!(tx.handle_response(200), Outcome::Duplicate);
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
            Instant::now(),
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
}
