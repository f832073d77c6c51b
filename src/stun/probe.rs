//! RFC 5780 NAT behaviour discovery as a sans-IO state machine.
//!
//! The machine owns no socket and reads no clock. The driver (see `net::udp`) binds
//! [`Probe::socket_count`] unconnected UDP sockets, tells the machine their local addresses,
//! then loops:
//! - [`Probe::poll_transmit`] until `None`, sending each datagram from the named socket;
//! - waits until [`Probe::poll_timeout`] or a datagram arrives;
//! - feeds [`Probe::handle_datagram`] / [`Probe::handle_unreachable`] /
//!   [`Probe::handle_timeout`] with the current time;
//! - stops when [`Probe::is_done`].
//!
//! Sockets (RFC 5780 §4): 0 carries test I to every server and the mapping tests II/III
//! (§4.3); 1 carries only the filtering tests (§4.4), so no other destination opens its
//! filter; 2 sends the hairpinning request to socket 0's mapped address (§4.5); with a
//! lifetime probe, 3 sends the RESPONSE-PORT checks and 4.. each hold one binding (§4.6).
//!
//! Timing: tests that must be answered wait up to `timeout`; tests whose *silence* is the
//! answer (filtering, hairpinning, lifetime) wait `8·RTO` (at least `min_silence`, at most
//! `timeout`), with RTO taken from the first round-trip sample (RFC 6298, 3·RTT). On a LAN
//! the whole probe therefore ends in about 0.1 s.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng, rngs::StdRng};
use serde::Serialize;

use super::attributes::ChangeRequest;
use super::behavior::{
    FilteringBehavior, FilteringObservation, MappingBehavior, classify_filtering, classify_mapping,
    classify_mapping_multi,
};
use super::message::{BindingRequest, Class, StunMessage, decode, encode_binding_request};
use super::retransmit::{Retransmit, Step, rto_from_rtt};

/// Index of one of the probe's local sockets.
pub type SocketId = usize;
/// Socket of test I and the mapping tests.
pub const SOCKET_MAPPING: SocketId = 0;
/// Socket of the filtering tests.
pub const SOCKET_FILTERING: SocketId = 1;
/// Socket that sends the hairpinning request.
pub const SOCKET_HAIRPIN: SocketId = 2;
/// Socket that sends the lifetime checks (RESPONSE-PORT).
pub const SOCKET_LIFETIME_CHECK: SocketId = 3;
const FIRST_LIFETIME_SOCKET: SocketId = 4;

/// The lower bound of the RTO once a round-trip time is known.
const RTO_FLOOR: Duration = Duration::from_millis(10);

/// Waits (s) after which a lifetime check asks whether a binding still exists; 0 is the
/// control that shows the server honours RESPONSE-PORT.
const LIFETIME_STEPS_S: &[u64] = &[
    0, 1, 2, 3, 5, 8, 12, 18, 25, 35, 45, 60, 75, 90, 105, 120, 150, 180, 240, 300, 450, 600,
];

/// What the probe should do.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// STUN servers (resolved), in order of preference; the first one answering with
    /// OTHER-ADDRESS becomes the primary server for the RFC 5780 tests.
    pub servers: Vec<SocketAddr>,
    /// Bound on any one test (s-scale); also the wait for servers of unknown round-trip time.
    pub timeout: Duration,
    /// Initial RTO before any round trip was measured (RFC 8489: 500 ms).
    pub initial_rto: Duration,
    /// Lower bound of the wait for an answer whose absence is itself the result.
    pub min_silence: Duration,
    /// Run the hairpinning test.
    pub hairpinning: bool,
    /// Measure the binding lifetime up to this bound (`None`: do not).
    pub lifetime_max: Option<Duration>,
    /// SOFTWARE attribute for requests.
    pub software: Option<String>,
    /// Addresses of this host's interfaces (to decide whether a mapped address is ours).
    pub local_ips: Vec<IpAddr>,
}

/// Which RFC 5780 test a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "test")]
pub enum TestKind {
    /// Test I: plain Binding request to a server's primary address (§4.3).
    Binding,
    /// Mapping test II: to the alternate IP address, primary port (§4.3).
    MappingTest2,
    /// Mapping test III: to the alternate IP address and port (§4.3).
    MappingTest3,
    /// Filtering test II: CHANGE-REQUEST for IP and port (§4.4).
    FilteringTest2,
    /// Filtering test III: CHANGE-REQUEST for port only (§4.4).
    FilteringTest3,
    /// Hairpinning: a request to our own mapped address (§4.5).
    Hairpinning,
    /// Lifetime: create a binding on its own socket (§4.6).
    LifetimeSetup {
        /// Seconds until the matching check.
        wait_s: u64,
    },
    /// Lifetime: does the binding still deliver a response after `wait_s` (§4.6)?
    LifetimeCheck {
        /// Seconds since the binding was created.
        wait_s: u64,
    },
}

impl TestKind {
    /// Short stable name, as in the JSON `tests[].test`.
    pub fn name(&self) -> String {
        match self {
            Self::Binding => "binding".into(),
            Self::MappingTest2 => "mapping-test-2".into(),
            Self::MappingTest3 => "mapping-test-3".into(),
            Self::FilteringTest2 => "filtering-test-2".into(),
            Self::FilteringTest3 => "filtering-test-3".into(),
            Self::Hairpinning => "hairpinning".into(),
            Self::LifetimeSetup { wait_s } => format!("lifetime-setup-{wait_s}s"),
            Self::LifetimeCheck { wait_s } => format!("lifetime-check-{wait_s}s"),
        }
    }
}

/// A response (or, for hairpinning, our own request) that completed a test.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Source address of the datagram.
    pub from: SocketAddr,
    /// Local socket that received it.
    pub received_on: SocketId,
    /// Time from the first transmission to the answer.
    pub rtt: Duration,
    /// The decoded message.
    pub message: StunMessage,
}

/// How a test ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Still running.
    Pending,
    /// Answered as expected.
    Answered(Answer),
    /// No answer within the schedule.
    Timeout,
    /// An ICMP error (or a socket error) said the destination is unreachable.
    Unreachable(String),
    /// The server answered with an error response.
    ErrorResponse {
        /// ERROR-CODE number, e.g. 420.
        code: u16,
        /// Reason phrase.
        reason: String,
    },
    /// Answered, but in a way that makes the test meaningless (e.g. CHANGE-REQUEST ignored).
    Unusable {
        /// What was wrong.
        reason: String,
        /// The answer.
        answer: Answer,
    },
    /// Stopped because the verdict no longer needed it.
    Cancelled,
    /// Not run, with the reason.
    Skipped(&'static str),
}

/// One transaction of the probe, with everything the report shows about it.
#[derive(Debug, Clone)]
pub struct Test {
    /// Which test.
    pub kind: TestKind,
    /// Local socket it was sent from.
    pub socket: SocketId,
    /// The server the test concerns.
    pub server: SocketAddr,
    /// Where the request was sent.
    pub destination: SocketAddr,
    /// What the request asked for.
    pub request: BindingRequest,
    /// STUN transaction ID.
    pub transaction_id: [u8; 12],
    /// For change requests: the address the answer must come from.
    pub expect_from: Option<SocketAddr>,
    /// The socket the answer must arrive on, when not the sending one.
    pub expect_on: Option<SocketId>,
    /// How it ended (so far).
    pub outcome: Outcome,
    /// Transmissions made.
    pub transmissions: u32,
    /// Offset of the first transmission from the start of the probe.
    pub started_after: Option<Duration>,
    payload: Vec<u8>,
    not_before: Instant,
    may_be_silent: bool,
    first_sent: Option<Instant>,
    retransmit: Option<Retransmit>,
}

impl Test {
    fn is_pending(&self) -> bool {
        matches!(self.outcome, Outcome::Pending)
    }

    fn answer(&self) -> Option<&Answer> {
        match &self.outcome {
            Outcome::Answered(a) => Some(a),
            _ => None,
        }
    }
}

/// A datagram the machine wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Local socket to send from.
    pub socket: SocketId,
    /// Destination.
    pub destination: SocketAddr,
    /// The encoded STUN message.
    pub payload: Vec<u8>,
}

/// Datagrams the machine received and ignored, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Ignored {
    /// Not STUN, truncated or with malformed attributes.
    pub malformed: u32,
    /// FINGERPRINT did not match (RFC 8489 §7.3: silently discard).
    pub bad_fingerprint: u32,
    /// Valid STUN, but no running test has its transaction ID (stray or late duplicate).
    pub unknown_transaction: u32,
}

/// The binding lifetime bounds measured by the RFC 5780 §4.6 test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lifetime {
    /// The longest wait (s) after which the binding still delivered a response.
    pub at_least_s: u64,
    /// The shortest wait (s) after which it did not; `None` if it survived every wait.
    pub less_than_s: Option<u64>,
}

/// The conclusions of a finished (or interrupted) probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The server the RFC 5780 tests ran against (or whose mapping is reported).
    pub primary: Option<SocketAddr>,
    /// Whether the primary server supports RFC 5780 (sent OTHER-ADDRESS).
    pub rfc5780: bool,
    /// Local address of the mapping socket.
    pub local_address: Option<SocketAddr>,
    /// Mapped (server-reflexive) address of the mapping socket as the primary server saw it.
    pub mapped_address: Option<SocketAddr>,
    /// Whether the mapped address differs from every local address; `None` without answers.
    pub nat_detected: Option<bool>,
    /// RFC 4787 mapping behaviour.
    pub mapping: MappingBehavior,
    /// Whether port dependence of the mapping was tested (always with RFC 5780).
    pub mapping_port_tested: bool,
    /// RFC 4787 filtering behaviour.
    pub filtering: FilteringBehavior,
    /// Whether the NAT hairpins; `None` if not tested or meaningless (no NAT).
    pub hairpinning: Option<bool>,
    /// Whether the NAT kept our local port; `None` if there is no NAT or no answer.
    pub port_preservation: Option<bool>,
    /// Binding lifetime bounds, when measured.
    pub lifetime: Option<Lifetime>,
    /// Why the lifetime was not measured although asked for.
    pub lifetime_problem: Option<String>,
    /// Whether any server answered at all over UDP.
    pub any_answer: bool,
}

#[derive(Debug, Clone, Copy)]
struct Primary {
    server: SocketAddr,
    other: Option<SocketAddr>,
}

/// The RFC 5780 NAT behaviour discovery machine (see the module documentation).
#[derive(Debug)]
pub struct Probe {
    config: ProbeConfig,
    start: Instant,
    rng: StdRng,
    tests: Vec<Test>,
    local: Vec<Option<SocketAddr>>,
    transmits: std::collections::VecDeque<Transmit>,
    rtt_sample: Option<Duration>,
    primary: Option<Primary>,
    primary_tests_started: bool,
    hairpin_started: bool,
    ignored: Ignored,
    interrupted: bool,
}

impl Probe {
    /// A new probe starting at `now`; `seed` drives transaction IDs (use a random one in
    /// production, a fixed one in tests). Test I to every server is sent on the first
    /// [`Probe::handle_timeout`] or [`Probe::poll_transmit`].
    pub fn new(config: ProbeConfig, now: Instant, seed: u64) -> Self {
        let sockets = Self::sockets_for(&config);
        let mut probe = Self {
            start: now,
            rng: StdRng::seed_from_u64(seed),
            tests: Vec::new(),
            local: vec![None; sockets],
            transmits: Default::default(),
            rtt_sample: None,
            primary: None,
            primary_tests_started: false,
            hairpin_started: false,
            ignored: Ignored::default(),
            interrupted: false,
            config,
        };
        for server in probe.config.servers.clone() {
            probe.add_test(
                TestKind::Binding,
                SOCKET_MAPPING,
                server,
                server,
                BindingRequest::default(),
                now,
                false,
            );
        }
        probe.drive(now);
        probe
    }

    fn sockets_for(config: &ProbeConfig) -> usize {
        match config.lifetime_max {
            Some(max) => FIRST_LIFETIME_SOCKET + lifetime_steps(max).len(),
            None => SOCKET_LIFETIME_CHECK,
        }
    }

    /// How many local UDP sockets the driver must bind (all of one address family).
    pub fn socket_count(&self) -> usize {
        self.local.len()
    }

    /// Tells the machine the local address a socket is bound to.
    pub fn set_local_addr(&mut self, socket: SocketId, addr: SocketAddr) {
        if let Some(slot) = self.local.get_mut(socket) {
            *slot = Some(addr);
        }
    }

    /// All tests so far, in the order they were created.
    pub fn tests(&self) -> &[Test] {
        &self.tests
    }

    /// Datagrams ignored so far.
    pub fn ignored(&self) -> &Ignored {
        &self.ignored
    }

    /// The instant the probe started.
    pub fn start(&self) -> Instant {
        self.start
    }

    fn silence(&self) -> Duration {
        let rto = self.rto();
        (rto * 8).clamp(
            self.config.min_silence,
            self.config.timeout.max(self.config.min_silence),
        )
    }

    fn rto(&self) -> Duration {
        match self.rtt_sample {
            Some(rtt) => rto_from_rtt(rtt, RTO_FLOOR, self.config.initial_rto),
            None => self.config.initial_rto,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_test(
        &mut self,
        kind: TestKind,
        socket: SocketId,
        server: SocketAddr,
        destination: SocketAddr,
        request: BindingRequest,
        not_before: Instant,
        may_be_silent: bool,
    ) -> usize {
        let mut tid = [0u8; 12];
        self.rng.fill(&mut tid[..]);
        let mut request = request;
        request.software.clone_from(&self.config.software);
        let (payload, outcome) = match encode_binding_request(tid, &request) {
            Ok(p) => (p, Outcome::Pending),
            Err(_) => (Vec::new(), Outcome::Skipped("request could not be encoded")),
        };
        self.tests.push(Test {
            kind,
            socket,
            server,
            destination,
            request,
            transaction_id: tid,
            expect_from: None,
            expect_on: None,
            outcome,
            transmissions: 0,
            started_after: None,
            payload,
            not_before,
            may_be_silent,
            first_sent: None,
            retransmit: None,
        });
        self.tests.len() - 1
    }

    /// Next datagram to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// When [`Probe::handle_timeout`] must be called next; `None` when done.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.tests
            .iter()
            .filter(|t| t.is_pending())
            .map(|t| match &t.retransmit {
                Some(r) => r.next_event(),
                None => t.not_before,
            })
            .min()
    }

    /// Whether every test has ended.
    pub fn is_done(&self) -> bool {
        self.interrupted || !self.tests.iter().any(Test::is_pending)
    }

    /// Stops the probe (Ctrl-C): pending tests become cancelled; the verdict shows what was
    /// learned.
    pub fn interrupt(&mut self) {
        self.interrupted = true;
        for t in &mut self.tests {
            if t.is_pending() {
                t.outcome = Outcome::Cancelled;
            }
        }
    }

    /// Advances timers: (re)transmissions and give-ups due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.drive(now);
    }

    /// A STUN-over-TCP (or other) exchange showed `server` answering in `rtt`: UDP tests to
    /// it can stop waiting for a reply after a silence window instead of the full timeout
    /// (this is how "UDP blocked" is told quickly).
    pub fn handle_server_reachable(&mut self, now: Instant, server: SocketAddr, rtt: Duration) {
        if self.rtt_sample.is_none() {
            self.rtt_sample = Some(rtt);
        }
        let rto = self.rto();
        let silence = self.silence();
        for t in &mut self.tests {
            if t.is_pending() && t.kind == TestKind::Binding && t.server == server {
                t.retransmit = Some(Retransmit::new(now, rto, now + silence));
            }
        }
        self.drive(now);
    }

    /// An ICMP error (or a socket error) about datagrams from `socket` to `destination`.
    pub fn handle_unreachable(
        &mut self,
        now: Instant,
        socket: SocketId,
        destination: SocketAddr,
        reason: &str,
    ) {
        for t in &mut self.tests {
            if t.is_pending()
                && t.socket == socket
                && t.destination == destination
                && t.first_sent.is_some()
            {
                t.outcome = Outcome::Unreachable(reason.to_string());
            }
        }
        self.advance(now);
        self.drive(now);
    }

    /// A datagram arrived on `socket` from `from`. Anything that is not an expected STUN
    /// answer is counted in [`Probe::ignored`] and otherwise has no effect.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        socket: SocketId,
        from: SocketAddr,
        data: &[u8],
    ) {
        let msg = match decode(data) {
            Ok(m) => m,
            Err(super::message::DecodeError::BadFingerprint) => {
                self.ignored.bad_fingerprint += 1;
                return;
            }
            Err(_) => {
                self.ignored.malformed += 1;
                return;
            }
        };
        let Some(idx) = self
            .tests
            .iter()
            .position(|t| t.is_pending() && t.transaction_id == msg.transaction_id)
        else {
            self.ignored.unknown_transaction += 1;
            return;
        };
        let test = &self.tests[idx];
        let is_request_echo = test.kind == TestKind::Hairpinning;
        let class_ok = if is_request_echo {
            msg.class == Class::Request
        } else {
            matches!(msg.class, Class::SuccessResponse | Class::ErrorResponse)
        };
        if !class_ok || msg.method != 0x001 {
            self.ignored.unknown_transaction += 1;
            return;
        }
        let rtt = test
            .first_sent
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
        let answer = Answer {
            from,
            received_on: socket,
            rtt,
            message: msg,
        };
        let expected_socket = test.expect_on.unwrap_or(test.socket);
        let outcome = if let Some((code, reason)) = answer.message.error_code.clone() {
            Outcome::ErrorResponse { code, reason }
        } else if socket != expected_socket {
            Outcome::Unusable {
                reason: format!(
                    "answer arrived on socket {socket}, expected {expected_socket}: the server ignored RESPONSE-PORT"
                ),
                answer,
            }
        } else if let Some(expected) = test.expect_from.filter(|e| *e != from) {
            let reason = if from == test.destination {
                format!(
                    "the server answered from {from}, not {expected}: it ignored CHANGE-REQUEST"
                )
            } else {
                format!("answer came from {from}, expected {expected}")
            };
            Outcome::Unusable { reason, answer }
        } else {
            Outcome::Answered(answer)
        };
        if test.transmissions == 1 && self.rtt_sample.is_none() && !is_request_echo {
            // Karn: only unambiguous samples.
            self.rtt_sample = Some(rtt);
        }
        self.tests[idx].outcome = outcome;
        self.advance(now);
        self.drive(now);
    }

    /// Sends due (re)transmissions and ends tests whose time is up.
    fn drive(&mut self, now: Instant) {
        let rto = self.rto();
        let silence = self.silence();
        let timeout = self.config.timeout;
        let mut changed = false;
        for t in &mut self.tests {
            if !t.is_pending() || now < t.not_before {
                continue;
            }
            let retransmit = t.retransmit.get_or_insert_with(|| {
                let wait = if t.may_be_silent { silence } else { timeout };
                Retransmit::new(now, rto, now + wait)
            });
            loop {
                match retransmit.step(now) {
                    Step::Transmit => {
                        t.transmissions += 1;
                        if t.first_sent.is_none() {
                            t.first_sent = Some(now);
                            t.started_after = Some(now.saturating_duration_since(self.start));
                        }
                        self.transmits.push_back(Transmit {
                            socket: t.socket,
                            destination: t.destination,
                            payload: t.payload.clone(),
                        });
                    }
                    Step::GiveUp => {
                        t.outcome = Outcome::Timeout;
                        changed = true;
                        break;
                    }
                    Step::Wait => break,
                }
            }
        }
        if changed {
            self.advance(now);
            // New tests may be due now.
            if self
                .tests
                .iter()
                .any(|t| t.is_pending() && t.retransmit.is_none() && t.not_before <= now)
            {
                self.drive(now);
            }
        }
    }

    /// Moves the discovery forward after any test ended.
    fn advance(&mut self, now: Instant) {
        if self.interrupted {
            return;
        }
        self.choose_primary();
        if let Some(p) = self.primary
            && !self.primary_tests_started
        {
            self.primary_tests_started = true;
            self.start_primary_tests(now, p);
        }
        self.start_hairpinning(now);
        self.start_lifetime_checks();
        self.cancel_unneeded_bindings();
    }

    fn choose_primary(&mut self) {
        if self.primary.is_some() {
            return;
        }
        let bindings: Vec<&Test> = self
            .tests
            .iter()
            .filter(|t| t.kind == TestKind::Binding)
            .collect();
        if let Some((t, a)) = bindings
            .iter()
            .filter_map(|t| t.answer().map(|a| (t, a)))
            .find(|(_, a)| a.message.other_address.is_some() && a.message.mapped().is_some())
        {
            self.primary = Some(Primary {
                server: t.server,
                other: a.message.other_address,
            });
            return;
        }
        if bindings.iter().all(|t| !t.is_pending())
            && let Some(t) = bindings
                .iter()
                .find(|t| t.answer().is_some_and(|a| a.message.mapped().is_some()))
        {
            self.primary = Some(Primary {
                server: t.server,
                other: None,
            });
        }
    }

    fn start_primary_tests(&mut self, now: Instant, p: Primary) {
        let Some(other) = p.other else {
            if self.config.lifetime_max.is_some() {
                self.skip_lifetime("the server does not support RFC 5780 (no OTHER-ADDRESS)");
            }
            return;
        };
        let server = p.server;
        let alt_ip_primary_port = SocketAddr::new(other.ip(), server.port());
        self.add_test(
            TestKind::MappingTest2,
            SOCKET_MAPPING,
            server,
            alt_ip_primary_port,
            BindingRequest::default(),
            now,
            false,
        );
        self.add_test(
            TestKind::MappingTest3,
            SOCKET_MAPPING,
            server,
            other,
            BindingRequest::default(),
            now,
            false,
        );
        let change = |ip, port| BindingRequest {
            change_request: Some(ChangeRequest {
                change_ip: ip,
                change_port: port,
            }),
            ..Default::default()
        };
        let i = self.add_test(
            TestKind::FilteringTest2,
            SOCKET_FILTERING,
            server,
            server,
            change(true, true),
            now,
            true,
        );
        self.tests[i].expect_from = Some(other);
        let i = self.add_test(
            TestKind::FilteringTest3,
            SOCKET_FILTERING,
            server,
            server,
            change(false, true),
            now,
            true,
        );
        self.tests[i].expect_from = Some(SocketAddr::new(server.ip(), other.port()));
        if let Some(max) = self.config.lifetime_max {
            for (k, wait_s) in lifetime_steps(max).into_iter().enumerate() {
                self.add_test(
                    TestKind::LifetimeSetup { wait_s },
                    FIRST_LIFETIME_SOCKET + k,
                    server,
                    server,
                    BindingRequest::default(),
                    now,
                    false,
                );
            }
        }
    }

    fn skip_lifetime(&mut self, reason: &'static str) {
        let server = self.primary.map(|p| p.server);
        if let Some(server) = server {
            let i = self.add_test(
                TestKind::LifetimeCheck { wait_s: 0 },
                SOCKET_LIFETIME_CHECK,
                server,
                server,
                BindingRequest::default(),
                self.start,
                true,
            );
            self.tests[i].outcome = Outcome::Skipped(reason);
        }
    }

    fn mapping_socket_answer(&self) -> Option<&Answer> {
        let primary = self.primary.map(|p| p.server);
        self.tests
            .iter()
            .filter(|t| t.kind == TestKind::Binding)
            .filter_map(|t| t.answer().map(|a| (t, a)))
            .filter(|(_, a)| a.message.mapped().is_some())
            .min_by_key(|(t, _)| (Some(t.server) != primary, t.started_after))
            .map(|(_, a)| a)
    }

    fn start_hairpinning(&mut self, now: Instant) {
        if self.hairpin_started || !self.config.hairpinning {
            return;
        }
        let Some(answer) = self.mapping_socket_answer() else {
            return;
        };
        let Some(mapped) = answer.message.mapped() else {
            return;
        };
        let server = answer.from;
        self.hairpin_started = true;
        let i = self.add_test(
            TestKind::Hairpinning,
            SOCKET_HAIRPIN,
            server,
            mapped,
            BindingRequest::default(),
            now,
            true,
        );
        self.tests[i].expect_on = Some(SOCKET_MAPPING);
        if self.is_own_address(mapped) {
            self.tests[i].outcome = Outcome::Skipped("no NAT: the mapped address is our own");
        }
    }

    fn is_own_address(&self, mapped: SocketAddr) -> bool {
        super::behavior::is_own_address(mapped, self.local[SOCKET_MAPPING], &self.config.local_ips)
    }

    fn start_lifetime_checks(&mut self) {
        let mut new_checks = Vec::new();
        for (idx, t) in self.tests.iter().enumerate() {
            let TestKind::LifetimeSetup { wait_s } = t.kind else {
                continue;
            };
            let Some(a) = t.answer() else {
                continue;
            };
            let Some(mapped) = a.message.mapped() else {
                continue;
            };
            let exists = self
                .tests
                .iter()
                .any(|c| c.kind == TestKind::LifetimeCheck { wait_s });
            if !exists {
                let answered_at = t.first_sent.unwrap_or(self.start) + a.rtt;
                new_checks.push((
                    idx,
                    wait_s,
                    mapped.port(),
                    t.server,
                    answered_at + Duration::from_secs(wait_s),
                ));
            }
        }
        for (setup_idx, wait_s, port, server, at) in new_checks {
            let socket = self.tests[setup_idx].socket;
            let req = BindingRequest {
                response_port: Some(port),
                ..Default::default()
            };
            let i = self.add_test(
                TestKind::LifetimeCheck { wait_s },
                SOCKET_LIFETIME_CHECK,
                server,
                server,
                req,
                at,
                true,
            );
            self.tests[i].expect_on = Some(socket);
        }
    }

    fn cancel_unneeded_bindings(&mut self) {
        let Some(p) = self.primary else {
            return;
        };
        if p.other.is_none() {
            return;
        }
        let others_done = self
            .tests
            .iter()
            .filter(|t| t.kind != TestKind::Binding)
            .all(|t| !t.is_pending());
        if others_done {
            for t in &mut self.tests {
                if t.is_pending() && t.kind == TestKind::Binding {
                    t.outcome = Outcome::Cancelled;
                }
            }
        }
    }

    fn find(&self, kind: TestKind) -> Option<&Test> {
        self.tests.iter().find(|t| t.kind == kind)
    }

    /// The conclusions from what the tests observed so far.
    pub fn verdict(&self) -> Verdict {
        let any_answer = self
            .tests
            .iter()
            .any(|t| t.kind == TestKind::Binding && t.answer().is_some());
        let primary = self.primary;
        let x1 = self
            .mapping_socket_answer()
            .and_then(|a| a.message.mapped());
        let local_address = self.local[SOCKET_MAPPING];
        let nat_detected = x1.map(|m| !self.is_own_address(m));
        let rfc5780 = primary.is_some_and(|p| p.other.is_some());
        let mapped_of = |k| {
            self.find(k)
                .and_then(|t| t.answer())
                .and_then(|a| a.message.mapped())
        };
        let (mapping, mapping_port_tested) = if rfc5780 {
            (
                classify_mapping(
                    x1,
                    mapped_of(TestKind::MappingTest2),
                    mapped_of(TestKind::MappingTest3),
                ),
                true,
            )
        } else {
            let observed: Vec<(SocketAddr, SocketAddr)> = self
                .tests
                .iter()
                .filter(|t| t.kind == TestKind::Binding)
                .filter_map(|t| {
                    t.answer()
                        .and_then(|a| a.message.mapped())
                        .map(|m| (t.server, m))
                })
                .collect();
            classify_mapping_multi(&observed)
        };
        let observe = |k| match self.find(k).map(|t| &t.outcome) {
            Some(Outcome::Answered(_)) => FilteringObservation::Answered,
            Some(Outcome::Timeout) => FilteringObservation::Silent,
            _ => FilteringObservation::Unusable,
        };
        let filtering = if rfc5780 {
            classify_filtering(
                observe(TestKind::FilteringTest2),
                observe(TestKind::FilteringTest3),
            )
        } else {
            FilteringBehavior::Unknown
        };
        let hairpinning = match self.find(TestKind::Hairpinning).map(|t| &t.outcome) {
            Some(Outcome::Answered(_)) => Some(true),
            Some(Outcome::Timeout | Outcome::Unreachable(_)) => Some(false),
            _ => None,
        };
        let port_preservation = match (nat_detected, x1, local_address) {
            (Some(true), Some(m), Some(l)) => Some(m.port() == l.port()),
            _ => None,
        };
        let (lifetime, lifetime_problem) = self.lifetime_verdict();
        Verdict {
            primary: primary.map(|p| p.server),
            rfc5780,
            local_address,
            mapped_address: x1,
            nat_detected,
            mapping,
            mapping_port_tested,
            filtering,
            hairpinning,
            port_preservation,
            lifetime,
            lifetime_problem,
            any_answer,
        }
    }

    fn lifetime_verdict(&self) -> (Option<Lifetime>, Option<String>) {
        if self.config.lifetime_max.is_none() {
            return (None, None);
        }
        let checks: Vec<(u64, &Outcome)> = self
            .tests
            .iter()
            .filter_map(|t| match t.kind {
                TestKind::LifetimeCheck { wait_s } => Some((wait_s, &t.outcome)),
                _ => None,
            })
            .collect();
        match checks.iter().find(|(w, _)| *w == 0).map(|(_, o)| *o) {
            Some(Outcome::Answered(_)) => {}
            Some(Outcome::Skipped(r)) => return (None, Some((*r).to_string())),
            Some(Outcome::Unusable { reason, .. }) => return (None, Some(reason.clone())),
            Some(Outcome::Timeout) => {
                return (
                    None,
                    Some("the control check got no response: the server ignores RESPONSE-PORT, or bindings last under a second".into()),
                );
            }
            _ => return (None, Some("the lifetime test did not complete".into())),
        }
        let at_least_s = checks
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Answered(_)))
            .map(|(w, _)| *w)
            .max()
            .unwrap_or(0);
        let less_than_s = checks
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Timeout))
            .map(|(w, _)| *w)
            .min();
        let complete = checks
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Answered(_) | Outcome::Timeout))
            && checks.len() == lifetime_steps(self.config.lifetime_max.unwrap_or_default()).len();
        if !complete {
            return (
                Some(Lifetime {
                    at_least_s,
                    less_than_s,
                }),
                Some("interrupted before every lifetime check ran".into()),
            );
        }
        (
            Some(Lifetime {
                at_least_s,
                less_than_s,
            }),
            None,
        )
    }
}

/// The waits (s) the lifetime test uses for a maximum `max`: a roughly geometric ladder,
/// always starting with the 0 s control and ending at `max` itself.
pub fn lifetime_steps(max: Duration) -> Vec<u64> {
    let max_s = max.as_secs().max(1);
    let mut steps: Vec<u64> = LIFETIME_STEPS_S
        .iter()
        .copied()
        .filter(|s| *s < max_s)
        .collect();
    steps.push(max_s);
    steps
}

#[cfg(test)]
mod tests {
    //! The machine against a simulated RFC 5780 server behind a simulated NAT, in simulated
    //! time (jump to the earliest wakeup), with an optionally lossy link.
    use super::*;
    use crate::stun::message::encode_binding_success;
    use std::collections::{BTreeMap, HashMap, HashSet};

    const PUBLIC_IP: &str = "203.0.113.1";

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Filter {
        Eif,
        Adf,
        Apdf,
    }

    struct World {
        apdm: bool,
        filter: Filter,
        /// Drop every n-th datagram (0 = lossless).
        drop_every: u32,
        sent: u32,
        primary: SocketAddr,
        alt: SocketAddr,
        /// (local, destination) -> public port
        mappings: HashMap<(SocketAddr, SocketAddr), u16>,
        contacted: HashSet<(SocketAddr, SocketAddr)>,
        next_port: u16,
        /// (due, seq) -> (socket, from, bytes)
        queue: BTreeMap<(Instant, u32), (SocketId, SocketAddr, Vec<u8>)>,
        seq: u32,
    }

    impl World {
        fn new(apdm: bool, filter: Filter, drop_every: u32) -> Self {
            Self {
                apdm,
                filter,
                drop_every,
                sent: 0,
                primary: sa("198.51.100.10:3478"),
                alt: sa("198.51.100.11:3479"),
                mappings: HashMap::new(),
                contacted: HashSet::new(),
                next_port: 40000,
                queue: BTreeMap::new(),
                seq: 0,
            }
        }

        fn local(socket: SocketId) -> SocketAddr {
            SocketAddr::new("10.0.0.2".parse().unwrap(), 5000 + socket as u16)
        }

        fn public_port(&mut self, local: SocketAddr, dest: SocketAddr) -> u16 {
            let key = if self.apdm {
                (local, dest)
            } else {
                (local, sa("0.0.0.0:0"))
            };
            if let Some(p) = self.mappings.get(&key) {
                return *p;
            }
            let port = if self.apdm {
                self.next_port += 1;
                self.next_port
            } else {
                local.port()
            };
            self.mappings.insert(key, port);
            port
        }

        fn inbound_allowed(&self, local: SocketAddr, from: SocketAddr) -> bool {
            self.contacted.iter().any(|(l, d)| {
                *l == local
                    && match self.filter {
                        Filter::Eif => true,
                        Filter::Adf => d.ip() == from.ip(),
                        Filter::Apdf => *d == from,
                    }
            })
        }

        /// The client sends: through the NAT to the server, which answers through the NAT.
        fn send(&mut self, now: Instant, socket: SocketId, dest: SocketAddr, bytes: &[u8]) {
            self.sent += 1;
            if self.drop_every > 0 && self.sent.is_multiple_of(self.drop_every) {
                return;
            }
            let local = Self::local(socket);
            let public = SocketAddr::new(PUBLIC_IP.parse().unwrap(), self.public_port(local, dest));
            self.contacted.insert((local, dest));
            let servers = [
                self.primary,
                self.alt,
                SocketAddr::new(self.alt.ip(), self.primary.port()),
                SocketAddr::new(self.primary.ip(), self.alt.port()),
            ];
            if !servers.contains(&dest) {
                return; // e.g. hairpinning: this NAT does not hairpin
            }
            let Ok(req) = crate::stun::message::decode(bytes) else {
                return;
            };
            let cr = req.change_request.unwrap_or(ChangeRequest {
                change_ip: false,
                change_port: false,
            });
            let ip = if cr.change_ip {
                if dest.ip() == self.primary.ip() {
                    self.alt.ip()
                } else {
                    self.primary.ip()
                }
            } else {
                dest.ip()
            };
            let port = if cr.change_port {
                if dest.port() == self.primary.port() {
                    self.alt.port()
                } else {
                    self.primary.port()
                }
            } else {
                dest.port()
            };
            let from = SocketAddr::new(ip, port);
            let resp =
                encode_binding_success(req.transaction_id, public, Some(self.alt), Some(from))
                    .unwrap();
            // Back through the NAT: find the mapping, apply filtering.
            if !self.inbound_allowed(local, from) {
                return;
            }
            self.seq += 1;
            self.queue.insert(
                (now + Duration::from_millis(2), self.seq),
                (socket, from, resp),
            );
        }
    }

    fn config() -> ProbeConfig {
        ProbeConfig {
            servers: vec![sa("198.51.100.10:3478")],
            timeout: Duration::from_secs(3),
            initial_rto: Duration::from_millis(500),
            min_silence: Duration::from_millis(80),
            hairpinning: true,
            lifetime_max: None,
            software: None,
            local_ips: vec!["10.0.0.2".parse().unwrap()],
        }
    }

    /// Runs the probe to completion; returns the verdict and the simulated duration.
    fn simulate(world: &mut World, config: ProbeConfig) -> (Verdict, Duration, Probe) {
        let t0 = Instant::now();
        let mut now = t0;
        let mut probe = Probe::new(config, now, 42);
        for i in 0..probe.socket_count() {
            probe.set_local_addr(i, World::local(i));
        }
        for _ in 0..10_000 {
            while let Some(t) = probe.poll_transmit() {
                world.send(now, t.socket, t.destination, &t.payload);
            }
            if probe.is_done() {
                return (probe.verdict(), now - t0, probe);
            }
            let next_dgram = world.queue.keys().next().map(|k| k.0);
            let next_timer = probe.poll_timeout();
            let next = [next_dgram, next_timer]
                .into_iter()
                .flatten()
                .min()
                .expect("something to wait for");
            now = now.max(next);
            if next_dgram == Some(next) {
                let key = *world.queue.keys().next().unwrap();
                let (socket, from, bytes) = world.queue.remove(&key).unwrap();
                probe.handle_datagram(now, socket, from, &bytes);
            } else {
                probe.handle_timeout(now);
            }
        }
        panic!("probe did not finish");
    }

    #[test]
    fn classifies_every_combination() {
        for (apdm, filter, mapping, filtering) in [
            (
                false,
                Filter::Eif,
                MappingBehavior::EndpointIndependent,
                FilteringBehavior::EndpointIndependent,
            ),
            (
                false,
                Filter::Adf,
                MappingBehavior::EndpointIndependent,
                FilteringBehavior::AddressDependent,
            ),
            (
                false,
                Filter::Apdf,
                MappingBehavior::EndpointIndependent,
                FilteringBehavior::AddressAndPortDependent,
            ),
            (
                true,
                Filter::Apdf,
                MappingBehavior::AddressAndPortDependent,
                FilteringBehavior::AddressAndPortDependent,
            ),
        ] {
            let mut w = World::new(apdm, filter, 0);
            let (v, took, _) = simulate(&mut w, config());
            assert_eq!(v.mapping, mapping);
            assert_eq!(v.filtering, filtering);
            assert_eq!(v.nat_detected, Some(true));
            assert_eq!(v.port_preservation, Some(!apdm));
            assert_eq!(v.hairpinning, Some(false));
            assert!(v.rfc5780);
            // RTT 2 ms -> RTO 10 ms (floor) -> silence 80 ms (8 RTO, = min_silence): the
            // verdict comes right after the silence window of filtering and hairpinning.
            assert!(
                took >= Duration::from_millis(80),
                "waited for silence: {took:?}"
            );
            assert!(took <= Duration::from_millis(100), "took {took:?}");
        }
    }

    #[test]
    fn retransmissions_survive_a_lossy_link() {
        // Every third datagram is lost, including first transmissions of tests.
        let mut w = World::new(false, Filter::Adf, 3);
        let (v, _, probe) = simulate(&mut w, config());
        assert_eq!(v.mapping, MappingBehavior::EndpointIndependent);
        assert_eq!(v.filtering, FilteringBehavior::AddressDependent);
        assert!(
            probe.tests().iter().any(|t| t.transmissions > 1),
            "some test was retransmitted"
        );
    }

    #[test]
    fn no_answer_times_out_within_the_bound() {
        let mut cfg = config();
        cfg.servers = vec![sa("192.0.2.99:3478")]; // the world drops it
        let mut w = World::new(false, Filter::Eif, 0);
        let (v, took, probe) = simulate(&mut w, cfg);
        assert!(!v.any_answer);
        assert_eq!(v.mapping, MappingBehavior::Unknown);
        assert_eq!(v.nat_detected, None);
        assert_eq!(took, Duration::from_secs(3), "bounded by the timeout");
        // RFC 8489 schedule within 3 s: 0, 500, 1500 ms.
        assert_eq!(probe.tests()[0].transmissions, 3);
    }

    #[test]
    fn stray_and_malformed_datagrams_are_counted_not_fatal() {
        let mut probe = Probe::new(config(), Instant::now(), 1);
        let now = Instant::now();
        probe.handle_datagram(now, 0, sa("198.51.100.10:3478"), b"garbage");
        let stray = encode_binding_success([9; 12], sa("203.0.113.1:1"), None, None).unwrap();
        probe.handle_datagram(now, 0, sa("198.51.100.10:3478"), &stray);
        let mut bad = stray.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        probe.handle_datagram(now, 0, sa("198.51.100.10:3478"), &bad);
        assert_eq!(
            probe.ignored(),
            &Ignored {
                malformed: 1,
                bad_fingerprint: 1,
                unknown_transaction: 1
            }
        );
        assert!(!probe.is_done());
    }

    #[test]
    fn lifetime_ladder() {
        assert_eq!(
            lifetime_steps(Duration::from_secs(8)),
            vec![0, 1, 2, 3, 5, 8]
        );
        assert_eq!(
            lifetime_steps(Duration::from_secs(10)),
            vec![0, 1, 2, 3, 5, 8, 10]
        );
        assert_eq!(lifetime_steps(Duration::from_millis(10)), vec![0, 1]);
    }
}
