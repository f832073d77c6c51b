//! The STUN client retransmission schedule over UDP, RFC 8489 §6.2.1, within a total bound.
//!
//! Transmission `k` (0-based) goes out at `start + RTO·(2^k − 1)`: the interval doubles after
//! each. After `Rc` transmissions the client waits `Rm·RTO` more, then gives up. voipdiag adds a
//! hard `deadline` so that a probe waiting for silence ends in bounded time.

use std::time::{Duration, Instant};

/// RFC 8489 §6.2.1 default initial RTO.
pub const DEFAULT_RTO: Duration = Duration::from_millis(500);
/// RFC 8489 §6.2.1 default Rc: the number of transmissions.
pub const DEFAULT_RC: u32 = 7;
/// RFC 8489 §6.2.1 default Rm: the last wait, in multiples of the initial RTO.
pub const DEFAULT_RM: u32 = 16;

/// What the schedule says to do at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Send (or resend) the request now.
    Transmit,
    /// Nothing to do before [`Retransmit::next_event`].
    Wait,
    /// The transaction has failed: no response within the schedule or the deadline.
    GiveUp,
}

/// Retransmission state of one client transaction.
#[derive(Debug, Clone)]
pub struct Retransmit {
    start: Instant,
    rto: Duration,
    rc: u32,
    rm: u32,
    deadline: Instant,
    sent: u32,
    /// One transmission, then wait until the deadline (a reliable transport, RFC 8489 §6.2.2).
    single: bool,
}

impl Retransmit {
    /// A schedule starting at `start` with initial `rto` (ms-scale), RFC defaults Rc=7, Rm=16,
    /// and a hard `deadline` (absolute) after which the transaction gives up.
    pub fn new(start: Instant, rto: Duration, deadline: Instant) -> Self {
        Self {
            start,
            rto: rto.max(Duration::from_millis(1)),
            rc: DEFAULT_RC,
            rm: DEFAULT_RM,
            deadline,
            sent: 0,
            single: false,
        }
    }

    /// The same schedule for a reliable transport: one transmission, then the wait until the
    /// deadline (RFC 8489 §6.2.2; Ti = 39.5 s there, the caller's deadline here).
    pub fn single(mut self) -> Self {
        self.rc = 1;
        self.single = true;
        self
    }

    /// Number of transmissions made so far.
    pub fn transmissions(&self) -> u32 {
        self.sent
    }

    /// Time of transmission number `k` (0-based).
    fn transmit_at(&self, k: u32) -> Instant {
        let factor = (1u32 << k.min(20)) - 1;
        self.start + self.rto * factor
    }

    fn give_up_at(&self) -> Instant {
        if self.single {
            return self.deadline;
        }
        let last = self.transmit_at(self.rc - 1);
        (last + self.rto * self.rm).min(self.deadline)
    }

    /// The next instant at which [`Retransmit::step`] will do something.
    pub fn next_event(&self) -> Instant {
        if self.sent < self.rc {
            self.transmit_at(self.sent).min(self.give_up_at())
        } else {
            self.give_up_at()
        }
    }

    /// Advances the schedule to `now`. Call it whenever `now >= next_event()`; each
    /// [`Step::Transmit`] counts as one transmission.
    pub fn step(&mut self, now: Instant) -> Step {
        if now >= self.give_up_at() {
            return Step::GiveUp;
        }
        if self.sent < self.rc && now >= self.transmit_at(self.sent) {
            self.sent += 1;
            return Step::Transmit;
        }
        Step::Wait
    }
}

/// RTO from one round-trip sample, as RFC 6298 §2.2 computes it for the first sample
/// (SRTT = R, RTTVAR = R/2, RTO = SRTT + 4·RTTVAR = 3R), kept within `[floor, ceiling]`.
pub fn rto_from_rtt(rtt: Duration, floor: Duration, ceiling: Duration) -> Duration {
    (rtt * 3).clamp(floor, ceiling.max(floor))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::disallowed_methods)] // a start time for the fake clock
    use super::*;

    /// Drives a schedule with a fake clock, jumping to each next event.
    fn run(mut r: Retransmit, start: Instant) -> (Vec<u64>, u64) {
        let mut sends = vec![];
        let mut now = start;
        for _ in 0..100 {
            match r.step(now) {
                Step::Transmit => sends.push((now - start).as_millis() as u64),
                Step::GiveUp => return (sends, (now - start).as_millis() as u64),
                Step::Wait => now = r.next_event(),
            }
        }
        panic!("schedule did not end");
    }

    #[test]
    fn rfc8489_example_schedule() {
        // RFC 8489 §6.2.1: "with an RTO of 500 ms, requests would be sent at times 0 ms,
        // 500 ms, 1500 ms, 3500 ms, 7500 ms, 15500 ms, and 31500 ms. If the client has not
        // received a response after 39500 ms, the client will consider the transaction to
        // have timed out."
        let t0 = Instant::now();
        let r = Retransmit::new(t0, DEFAULT_RTO, t0 + Duration::from_secs(3600));
        let (sends, gave_up) = run(r, t0);
        assert_eq!(sends, vec![0, 500, 1500, 3500, 7500, 15500, 31500]);
        assert_eq!(gave_up, 39500);
    }

    #[test]
    fn deadline_bounds_the_schedule() {
        let t0 = Instant::now();
        let r = Retransmit::new(
            t0,
            Duration::from_millis(20),
            t0 + Duration::from_millis(250),
        );
        let (sends, gave_up) = run(r, t0);
        assert_eq!(sends, vec![0, 20, 60, 140]);
        assert_eq!(gave_up, 250);
    }

    #[test]
    fn rto_follows_rtt_within_bounds() {
        let f = Duration::from_millis(20);
        let c = Duration::from_millis(500);
        assert_eq!(rto_from_rtt(Duration::from_micros(100), f, c), f);
        assert_eq!(
            rto_from_rtt(Duration::from_millis(50), f, c),
            Duration::from_millis(150)
        );
        assert_eq!(rto_from_rtt(Duration::from_secs(2), f, c), c);
    }
}
