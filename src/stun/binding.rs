//! Binding checks: "what address does this server see for me?" as a sans-IO [`Machine`] — one
//! STUN Binding transaction per check, over a UDP socket (retransmitted, RFC 8489 §6.2.1) or
//! over a stream the driver opens (sent once, §6.2.2; framed by the length field). Used by
//! nat-probe's STUN over TCP (alone, or beside the RFC 5780 discovery to tell "UDP blocked"
//! from "server down") and by upnp-map's `--stun`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;

use super::message::{BindingRequest, StunMessage, decode, encode_binding_request};
use super::transaction::{Action, ClientTransaction, new_transaction_id};
use crate::machine::{Input, Machine, SocketId, StreamError, Transmit};

/// How a check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    /// Still running.
    Pending,
    /// The server answered.
    Answered {
        /// Source of the answer.
        from: SocketAddr,
        /// Time from the request to the answer.
        rtt: Duration,
        /// The answer.
        message: Box<StunMessage>,
    },
    /// No answer (or, over a stream, no connection) within the timeout.
    Timeout,
    /// Nothing listens there: TCP RST or ICMP port unreachable.
    Refused(String),
    /// Any other failure, in words.
    Failed(String),
    /// Stopped before it ended (Ctrl-C, or no longer needed).
    Cancelled,
}

/// One Binding check.
#[derive(Debug, Clone)]
pub struct BindingCheck {
    /// The server asked.
    pub server: SocketAddr,
    /// The socket it runs on.
    pub socket: SocketId,
    /// Whether it runs over a stream.
    pub stream: bool,
    /// Our end: the UDP socket's address, or the stream's once connected.
    pub local: Option<SocketAddr>,
    /// For a stream: the time from the start to the connection (one round trip).
    pub connected_after: Option<Duration>,
    /// How it ended (so far).
    pub outcome: CheckOutcome,
    transaction: ClientTransaction,
}

impl BindingCheck {
    /// The STUN transaction ID.
    pub fn transaction_id(&self) -> &[u8; 12] {
        self.transaction.transaction_id()
    }

    /// Transmissions made.
    pub fn transmissions(&self) -> u32 {
        self.transaction.transmissions()
    }

    /// The mapped address the server reported, if it answered with one.
    pub fn mapped(&self) -> Option<SocketAddr> {
        match &self.outcome {
            CheckOutcome::Answered { message, .. } => message.mapped(),
            _ => None,
        }
    }

    fn is_pending(&self) -> bool {
        self.outcome == CheckOutcome::Pending
    }
}

/// What the checks tell their owner while they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingEvent {
    /// A check's stream connected `after` the start: the server is there, one round trip away.
    Connected {
        /// The server.
        server: SocketAddr,
        /// Time from the start to the connection.
        after: Duration,
    },
}

/// A set of Binding checks, all bounded by one timeout.
#[derive(Debug)]
pub struct BindingClient {
    checks: Vec<BindingCheck>,
    start: Instant,
    deadline: Instant,
    rto: Duration,
    software: Option<String>,
    rng: StdRng,
    transmits: VecDeque<Transmit>,
    events: VecDeque<BindingEvent>,
}

impl BindingClient {
    /// Checks that start at `start` and end by `start + timeout`; UDP requests are
    /// retransmitted from `rto` (RFC 8489: 500 ms). Transaction IDs come from `rng`; requests
    /// carry `software` as SOFTWARE.
    pub fn new(
        start: Instant,
        timeout: Duration,
        rto: Duration,
        software: Option<String>,
        rng: StdRng,
    ) -> Self {
        BindingClient {
            checks: Vec::new(),
            start,
            deadline: start + timeout,
            rto,
            software,
            rng,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    fn add(&mut self, socket: SocketId, server: SocketAddr, stream: bool) -> usize {
        let tid = new_transaction_id(&mut self.rng);
        let request = BindingRequest {
            software: self.software.clone(),
            ..Default::default()
        };
        let bytes = encode_binding_request(tid, &request).unwrap_or_default();
        let mut check = BindingCheck {
            server,
            socket,
            stream,
            local: None,
            connected_after: None,
            outcome: CheckOutcome::Pending,
            transaction: ClientTransaction::new(tid, bytes, stream),
        };
        if check.transaction.request().is_empty() {
            check.outcome = CheckOutcome::Failed("the request could not be encoded".into());
        }
        self.checks.push(check);
        self.checks.len() - 1
    }

    /// A check over the UDP socket `socket` (bound to `local`); it starts at once.
    pub fn add_udp(&mut self, socket: SocketId, local: SocketAddr, server: SocketAddr) -> usize {
        let i = self.add(socket, server, false);
        self.checks[i].local = Some(local);
        let (start, rto, deadline) = (self.start, self.rto, self.deadline);
        self.checks[i].transaction.start(start, rto, deadline);
        self.step(start);
        i
    }

    /// A check over the stream `socket` the driver opens to `server`; it starts when the
    /// stream is connected.
    pub fn add_stream(&mut self, socket: SocketId, server: SocketAddr) -> usize {
        self.add(socket, server, true)
    }

    /// Every check, in the order added.
    pub fn checks(&self) -> &[BindingCheck] {
        &self.checks
    }

    /// Whether `socket` belongs to one of the checks.
    pub fn owns(&self, socket: SocketId) -> bool {
        self.checks.iter().any(|c| c.socket == socket)
    }

    /// Ends the checks still running as cancelled.
    pub fn cancel(&mut self) {
        for c in &mut self.checks {
            if c.is_pending() {
                c.outcome = CheckOutcome::Cancelled;
            }
        }
    }

    fn step(&mut self, now: Instant) {
        for c in &mut self.checks {
            if !c.is_pending() {
                continue;
            }
            if !c.transaction.is_started() {
                if now >= self.deadline {
                    c.outcome = CheckOutcome::Timeout;
                }
                continue;
            }
            loop {
                match c.transaction.step(now) {
                    Action::Transmit => self.transmits.push_back(Transmit {
                        socket: c.socket,
                        destination: c.server,
                        payload: c.transaction.request().to_vec(),
                    }),
                    Action::Wait => break,
                    Action::GiveUp => {
                        c.outcome = CheckOutcome::Timeout;
                        break;
                    }
                }
            }
        }
    }
}

impl Machine for BindingClient {
    type Event = BindingEvent;

    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        match input {
            Input::Connected { socket, local } => {
                let after = now.saturating_duration_since(self.start);
                let deadline = self.deadline;
                let rto = self.rto;
                if let Some(c) = self
                    .checks
                    .iter_mut()
                    .find(|c| c.socket == socket && c.is_pending())
                {
                    c.local = Some(local);
                    c.connected_after = Some(after);
                    c.transaction.start(now, rto, deadline);
                    self.events.push_back(BindingEvent::Connected {
                        server: c.server,
                        after,
                    });
                }
            }
            Input::StreamFailed { socket, error } => {
                if let Some(c) = self
                    .checks
                    .iter_mut()
                    .find(|c| c.socket == socket && c.is_pending())
                {
                    c.outcome = match error {
                        StreamError::Refused => CheckOutcome::Refused(error.to_string()),
                        StreamError::Closed => CheckOutcome::Failed(
                            "connection closed before a complete response".into(),
                        ),
                        other => CheckOutcome::Failed(other.to_string()),
                    };
                }
            }
            Input::Unreachable {
                socket,
                destination,
                reason,
            } => {
                for c in &mut self.checks {
                    if c.socket == socket && c.server == destination && c.is_pending() {
                        c.outcome = CheckOutcome::Refused(reason.to_string());
                    }
                }
            }
            Input::Message { socket, from, data } => {
                let Some(c) = self
                    .checks
                    .iter_mut()
                    .find(|c| c.socket == socket && c.is_pending())
                else {
                    return;
                };
                match decode(data) {
                    Ok(m) if c.transaction.matches(&m) => {
                        let rtt = c.transaction.answered(now);
                        c.outcome = CheckOutcome::Answered {
                            from,
                            rtt,
                            message: Box::new(m),
                        };
                    }
                    // On a stream the first message is the answer or a failure; a stray
                    // datagram is only ignored.
                    Ok(_) if c.stream => {
                        c.outcome =
                            CheckOutcome::Failed("response with another transaction ID".into());
                    }
                    Err(e) if c.stream => c.outcome = CheckOutcome::Failed(e.to_string()),
                    _ => {}
                }
            }
        }
        self.step(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.step(now);
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    fn poll_event(&mut self) -> Option<BindingEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.checks
            .iter()
            .filter(|c| c.is_pending())
            .map(|c| c.transaction.poll_timeout().unwrap_or(self.deadline))
            .min()
    }

    fn is_done(&self) -> bool {
        !self.checks.iter().any(BindingCheck::is_pending)
    }

    fn interrupt(&mut self, _now: Instant) {
        self.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::simulate;
    use crate::stun::message::encode_binding_success;
    use rand::SeedableRng;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn client(t0: Instant, timeout_s: u64) -> BindingClient {
        let rto = Duration::from_millis(500);
        let timeout = Duration::from_secs(timeout_s);
        BindingClient::new(t0, timeout, rto, None, StdRng::seed_from_u64(1))
    }

    #[test]
    fn udp_check_retransmits_until_answered() {
        #[allow(clippy::disallowed_methods)]
        let t0 = Instant::now();
        let server = sa("198.51.100.10:3478");
        let mut c = client(t0, 3);
        c.add_udp(0, sa("10.0.0.2:5000"), server);
        let mut sent = 0;
        let end = simulate(
            &mut c,
            t0,
            100,
            |_, t| {
                sent += 1;
                // The first request is lost; the retransmission is answered after 20 ms.
                if sent == 1 {
                    return vec![];
                }
                let tid = decode(&t.payload).unwrap().transaction_id;
                let resp = encode_binding_success(tid, sa("203.0.113.1:40000"), None, None);
                vec![(Duration::from_millis(20), 0, server, resp.unwrap())]
            },
            |_, _, _| {},
        );
        let check = &c.checks()[0];
        assert_eq!(check.mapped(), Some(sa("203.0.113.1:40000")));
        assert_eq!(check.transmissions(), 2);
        assert_eq!(end - t0, Duration::from_millis(520));
    }

    #[test]
    fn stream_check_waits_for_the_connection_and_times_out() {
        #[allow(clippy::disallowed_methods)]
        let t0 = Instant::now();
        let mut c = client(t0, 2);
        c.add_stream(3, sa("198.51.100.10:3478"));
        assert_eq!(c.poll_transmit(), None, "nothing before the connection");
        let end = simulate(&mut c, t0, 100, |_, _| vec![], |_, _, _| {});
        assert_eq!(end - t0, Duration::from_secs(2));
        assert_eq!(c.checks()[0].outcome, CheckOutcome::Timeout);

        let mut c = client(t0, 2);
        c.add_stream(3, sa("198.51.100.10:3478"));
        let at = t0 + Duration::from_millis(4);
        c.handle_input(
            at,
            Input::Connected {
                socket: 3,
                local: sa("10.0.0.2:41000"),
            },
        );
        assert_eq!(
            c.poll_event(),
            Some(BindingEvent::Connected {
                server: sa("198.51.100.10:3478"),
                after: Duration::from_millis(4)
            })
        );
        assert_eq!(c.poll_transmit().map(|t| t.socket), Some(3));
        assert_eq!(c.poll_transmit(), None, "sent once over a stream");
        c.handle_input(
            at,
            Input::StreamFailed {
                socket: 3,
                error: &StreamError::Closed,
            },
        );
        assert!(c.is_done());
        assert!(matches!(c.checks()[0].outcome, CheckOutcome::Failed(_)));
    }
}
