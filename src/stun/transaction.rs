//! One STUN client transaction (RFC 8489 §6.2): a request, its 96-bit transaction ID drawn from
//! the caller's RNG, the retransmission schedule over UDP (§6.2.1, see [`Retransmit`]) or a
//! single send over a stream (§6.2.2), the match of a response by transaction ID (§6.3), and
//! the round-trip sample Karn's rule allows (only from a request sent once).
//!
//! Every STUN client in the project is built on it: the RFC 5780 behaviour discovery,
//! nat-probe's STUN over TCP, upnp-map's `--stun`, and TURN next.

use std::time::{Duration, Instant};

use rand::RngExt;

use super::message::StunMessage;
use super::retransmit::{Retransmit, Step};

/// What the transaction says to do at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send [`ClientTransaction::request`] now.
    Transmit,
    /// Nothing before [`ClientTransaction::poll_timeout`].
    Wait,
    /// No response within the schedule or the deadline: the transaction failed.
    GiveUp,
}

/// One STUN client transaction. It starts when [`ClientTransaction::start`] is called, so a
/// machine can create it before it knows the RTO.
#[derive(Debug, Clone)]
pub struct ClientTransaction {
    transaction_id: [u8; 12],
    request: Vec<u8>,
    reliable: bool,
    schedule: Option<Retransmit>,
    first_sent: Option<Instant>,
    transmissions: u32,
    answered: bool,
}

/// A fresh 96-bit transaction ID (RFC 8489 §5: uniformly random).
pub fn new_transaction_id(rng: &mut impl rand::Rng) -> [u8; 12] {
    let mut tid = [0u8; 12];
    rng.fill(&mut tid[..]);
    tid
}

impl ClientTransaction {
    /// A transaction for the encoded `request` carrying `transaction_id`; `reliable` for a
    /// stream (one transmission, RFC 8489 §6.2.2).
    pub fn new(transaction_id: [u8; 12], request: Vec<u8>, reliable: bool) -> Self {
        ClientTransaction {
            transaction_id,
            request,
            reliable,
            schedule: None,
            first_sent: None,
            transmissions: 0,
            answered: false,
        }
    }

    /// Starts (or restarts) the schedule at `now` with initial `rto` (ms-scale), giving up at
    /// `deadline` at the latest. A restart keeps the transmissions already made.
    pub fn start(&mut self, now: Instant, rto: Duration, deadline: Instant) {
        let mut r = Retransmit::new(now, rto, deadline);
        if self.reliable {
            r = r.single();
        }
        self.schedule = Some(r);
    }

    /// Whether [`ClientTransaction::start`] was called.
    pub fn is_started(&self) -> bool {
        self.schedule.is_some()
    }

    /// The transaction ID.
    pub fn transaction_id(&self) -> &[u8; 12] {
        &self.transaction_id
    }

    /// The encoded request.
    pub fn request(&self) -> &[u8] {
        &self.request
    }

    /// Transmissions made so far.
    pub fn transmissions(&self) -> u32 {
        self.transmissions
    }

    /// When the request was first sent.
    pub fn first_sent(&self) -> Option<Instant> {
        self.first_sent
    }

    /// When [`ClientTransaction::step`] has something to do; `None` before the start and
    /// after the end.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.answered {
            return None;
        }
        self.schedule.as_ref().map(Retransmit::next_event)
    }

    /// Advances the schedule to `now`: each [`Action::Transmit`] is one (re)transmission the
    /// caller must send; call again until [`Action::Wait`] or [`Action::GiveUp`].
    pub fn step(&mut self, now: Instant) -> Action {
        let Some(schedule) = &mut self.schedule else {
            return Action::Wait;
        };
        if self.answered {
            return Action::Wait;
        }
        match schedule.step(now) {
            Step::Transmit => {
                self.transmissions += 1;
                self.first_sent.get_or_insert(now);
                Action::Transmit
            }
            Step::Wait => Action::Wait,
            Step::GiveUp => Action::GiveUp,
        }
    }

    /// Whether `message` answers this transaction (RFC 8489 §6.3: same transaction ID).
    pub fn matches(&self, message: &StunMessage) -> bool {
        message.transaction_id == self.transaction_id
    }

    /// Records the answer at `now`; returns the time since the first transmission.
    pub fn answered(&mut self, now: Instant) -> Duration {
        self.answered = true;
        self.first_sent
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(t))
    }

    /// A round-trip sample for the RTO, under Karn's rule: only when the request went out
    /// once, so the answer cannot belong to a retransmission.
    pub fn karn_sample(&self, rtt: Duration) -> Option<Duration> {
        (self.transmissions == 1).then_some(rtt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stun::message::{decode, encode_binding_success};
    use rand::SeedableRng;

    #[test]
    fn udp_schedule_answer_and_karn() {
        #[allow(clippy::disallowed_methods)]
        let t0 = Instant::now();
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let tid = new_transaction_id(&mut rng);
        let mut t = ClientTransaction::new(tid, b"req".to_vec(), false);
        assert_eq!(t.poll_timeout(), None, "not started");
        t.start(t0, Duration::from_millis(100), t0 + Duration::from_secs(1));
        assert_eq!(t.step(t0), Action::Transmit);
        assert_eq!(t.step(t0), Action::Wait);
        let at = t.poll_timeout().unwrap();
        assert_eq!(at - t0, Duration::from_millis(100));
        assert_eq!(t.step(at), Action::Transmit);
        let resp = decode(
            &encode_binding_success(tid, "192.0.2.1:1".parse().unwrap(), None, None).unwrap(),
        )
        .unwrap();
        assert!(t.matches(&resp));
        let rtt = t.answered(at + Duration::from_millis(5));
        assert_eq!(rtt, Duration::from_millis(105));
        assert_eq!(t.karn_sample(rtt), None, "sent twice: ambiguous");
        assert_eq!(t.poll_timeout(), None);
    }

    #[test]
    fn stream_sends_once_and_waits_for_the_deadline() {
        #[allow(clippy::disallowed_methods)]
        let t0 = Instant::now();
        let mut t = ClientTransaction::new([1; 12], b"req".to_vec(), true);
        t.start(t0, Duration::from_millis(100), t0 + Duration::from_secs(3));
        assert_eq!(t.step(t0), Action::Transmit);
        assert_eq!(t.poll_timeout(), Some(t0 + Duration::from_secs(3)));
        assert_eq!(t.step(t0 + Duration::from_secs(3)), Action::GiveUp);
        assert_eq!(t.transmissions(), 1);
        assert_eq!(
            t.karn_sample(Duration::from_millis(7)),
            Some(Duration::from_millis(7))
        );
    }
}
