//! One request to the gateway's port 5351 and its answer, as a sans-IO [`Machine`]: the request
//! is sent on the RFC 6886 §3.1 schedule ([`super::schedule`]: 250 ms, doubling) until a
//! datagram from the gateway decodes as the answer, an ICMP error says nothing listens, or the
//! bound ends. NAT-PMP and PCP both use it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::SendSchedule;
use crate::machine::{Input, Machine, SocketId, Transmit};

/// Why an exchange got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// Nothing usable within the bound.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// ICMP port unreachable: nothing listens on the port.
    #[error("port unreachable (nothing listens there)")]
    Refused,
    /// Stopped by Ctrl-C.
    #[error("interrupted")]
    Interrupted,
    /// No socket to send from.
    #[error("{0}")]
    Io(String),
}

/// A decoder that accepts a datagram as the answer (`Some`) or ignores it (`None`).
pub type Decoder<T> = Box<dyn Fn(&[u8]) -> Option<T> + Send>;

/// One request/answer exchange with the gateway over the driver's socket 0.
pub struct PortMapExchange<T> {
    gateway: SocketAddr,
    request: Vec<u8>,
    decode: Decoder<T>,
    schedule: SendSchedule,
    queued: Option<Transmit>,
    outcome: Option<Result<(T, Duration), ExchangeError>>,
}

impl<T> std::fmt::Debug for PortMapExchange<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PortMapExchange({} bytes to {})",
            self.request.len(),
            self.gateway
        )
    }
}

impl<T> PortMapExchange<T> {
    /// Sends `request` to `gateway` from `start` on, for at most `bound`; `decode` picks the
    /// answer out of what the gateway sends.
    pub fn new(
        gateway: SocketAddr,
        request: Vec<u8>,
        decode: Decoder<T>,
        start: Instant,
        bound: Duration,
    ) -> Self {
        let mut e = PortMapExchange {
            gateway,
            request,
            decode,
            schedule: SendSchedule::new(start, bound),
            queued: None,
            outcome: None,
        };
        e.release(start);
        e
    }

    /// Queues the send due at `now`, if any (at most one: a late wakeup does not burst).
    fn release(&mut self, now: Instant) {
        let due = self.schedule.due(now);
        if due {
            self.queued = Some(Transmit {
                socket: SOCKET,
                destination: self.gateway,
                payload: self.request.clone(),
            });
        }
    }

    /// The answer and the time from the first send to it, or why there is none; `None` while
    /// running.
    pub fn outcome(&self) -> Option<&Result<(T, Duration), ExchangeError>> {
        self.outcome.as_ref()
    }

    /// Takes the outcome (a timeout if it never ended).
    pub fn into_outcome(self) -> Result<(T, Duration), ExchangeError> {
        self.outcome
            .unwrap_or(Err(ExchangeError::Timeout(self.schedule.bound())))
    }
}

const SOCKET: SocketId = 0;

impl<T> Machine for PortMapExchange<T> {
    type Event = ();

    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        if self.outcome.is_some() {
            return;
        }
        match input {
            Input::Message { from, data, .. } if from == self.gateway => {
                if let Some(answer) = (self.decode)(data) {
                    let took = now.saturating_duration_since(self.schedule.start());
                    self.outcome = Some(Ok((answer, took)));
                }
            }
            Input::Unreachable { destination, .. } if destination == self.gateway => {
                self.outcome = Some(Err(ExchangeError::Refused));
            }
            _ => {}
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.outcome.is_some() {
            return;
        }
        if self.schedule.expired(now) {
            self.outcome = Some(Err(ExchangeError::Timeout(self.schedule.bound())));
            return;
        }
        self.release(now);
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.queued.take()
    }

    fn poll_event(&mut self) -> Option<()> {
        None
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.outcome.is_some() {
            return None;
        }
        Some(self.schedule.next_wakeup())
    }

    fn is_done(&self) -> bool {
        self.outcome.is_some()
    }

    fn interrupt(&mut self, _now: Instant) {
        if self.outcome.is_none() {
            self.outcome = Some(Err(ExchangeError::Interrupted));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::simulate;

    fn t0() -> Instant {
        #[allow(clippy::disallowed_methods)]
        Instant::now()
    }

    /// Retransmits on the RFC 6886 schedule, ignores what does not decode or comes from
    /// elsewhere, and takes the answer.
    #[test]
    fn retransmits_filters_and_answers() {
        let gw: SocketAddr = "192.168.1.1:5351".parse().unwrap();
        let start = t0();
        let mut x = PortMapExchange::new(
            gw,
            b"ping".to_vec(),
            Box::new(|b: &[u8]| (b == b"pong").then_some(42)),
            start,
            Duration::from_secs(2),
        );
        let mut sent = Vec::new();
        simulate(
            &mut x,
            start,
            100,
            |now, t| {
                sent.push(now - start);
                if sent.len() < 2 {
                    return vec![];
                }
                let d = Duration::from_millis(5);
                vec![
                    (d, 0, gw, b"junk".to_vec()),
                    (d, 0, "192.168.1.9:5351".parse().unwrap(), b"pong".to_vec()),
                    (d, 0, gw, t.payload.iter().map(|_| 0).collect()),
                    (d, 0, gw, b"pong".to_vec()),
                ]
            },
            |_, _, _| {},
        );
        assert_eq!(sent, [Duration::ZERO, Duration::from_millis(250)]);
        let (v, took) = x.into_outcome().unwrap();
        assert_eq!((v, took), (42, Duration::from_millis(255)));
    }

    #[test]
    fn icmp_is_refused_and_silence_times_out() {
        let gw: SocketAddr = "192.168.1.1:5351".parse().unwrap();
        let start = t0();
        let mut x = PortMapExchange::new(
            gw,
            vec![0],
            Box::new(|_: &[u8]| Some(())),
            start,
            Duration::from_secs(1),
        );
        x.handle_input(
            start,
            Input::Unreachable {
                socket: 0,
                destination: gw,
                reason: "ICMP port unreachable",
            },
        );
        assert_eq!(x.into_outcome(), Err(ExchangeError::Refused));
        let mut x = PortMapExchange::new(
            gw,
            vec![0],
            Box::new(|_: &[u8]| Some(())),
            start,
            Duration::from_secs(1),
        );
        let end = simulate(&mut x, start, 100, |_, _| vec![], |_, _, _| {});
        assert_eq!(end - start, Duration::from_secs(1));
        assert_eq!(
            x.into_outcome(),
            Err(ExchangeError::Timeout(Duration::from_secs(1)))
        );
    }
}
