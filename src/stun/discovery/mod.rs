//! RFC 5780 NAT behaviour discovery as a sans-IO state machine.
//!
//! The machine owns no socket and reads no clock (the [`Machine`] contract). The command binds
//! [`NatBehaviorDiscovery::socket_count`] unconnected UDP sockets, tells the machine their
//! local addresses, adds one stream per server when [`DiscoveryConfig::tcp_checks`] is on
//! ([`NatBehaviorDiscovery::tcp_sockets`]), and hands all of them to the driver.
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

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::binding::{BindingCheck, BindingClient, BindingEvent, CheckOutcome};
use super::message::{BindingRequest, Class, decode, encode_binding_request};
use super::retransmit::rto_from_rtt;
use super::transaction::{Action, ClientTransaction, new_transaction_id};
use crate::machine::{Input, Machine, SocketId, Transmit};

mod plan;
pub mod test;
pub mod verdict;

pub use test::{Answer, Ignored, Outcome, Test, TestKind};
pub use verdict::{Lifetime, Verdict, lifetime_steps};

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

/// What the discovery should do.
#[derive(Debug, Clone)]
pub struct DiscoveryConfig {
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
    /// Also ask every server over TCP (STUN over TCP, RFC 8489 §6.2.2), to tell "UDP blocked"
    /// from "server down" and to learn the round trip early.
    pub tcp_checks: bool,
}

#[derive(Debug, Clone, Copy)]
struct Primary {
    server: SocketAddr,
    other: Option<SocketAddr>,
}

/// RFC 5780 NAT behaviour discovery (see the module documentation).
#[derive(Debug)]
pub struct NatBehaviorDiscovery {
    config: DiscoveryConfig,
    start: Instant,
    rng: StdRng,
    tests: Vec<Test>,
    local: Vec<Option<SocketAddr>>,
    transmits: VecDeque<Transmit>,
    rtt_sample: Option<Duration>,
    primary: Option<Primary>,
    primary_tests_started: bool,
    hairpin_started: bool,
    ignored: Ignored,
    interrupted: bool,
    /// STUN over TCP to every server, on the sockets after the UDP ones.
    tcp: Option<BindingClient>,
}

impl NatBehaviorDiscovery {
    /// A discovery starting at `now`; `rng` draws the transaction IDs (seeded in tests).
    /// Test I to every server goes out on the first poll.
    pub fn new(config: DiscoveryConfig, now: Instant, mut rng: StdRng) -> Self {
        let sockets = Self::sockets_for(&config);
        let tcp = config.tcp_checks.then(|| {
            let tcp_rng = StdRng::from_rng(&mut rng);
            let mut c = BindingClient::new(
                now,
                config.timeout,
                config.initial_rto,
                config.software.clone(),
                tcp_rng,
            );
            for (i, server) in config.servers.iter().enumerate() {
                c.add_stream(sockets + i, *server);
            }
            c
        });
        let mut d = Self {
            start: now,
            rng,
            tests: Vec::new(),
            local: vec![None; sockets],
            transmits: VecDeque::new(),
            rtt_sample: None,
            primary: None,
            primary_tests_started: false,
            hairpin_started: false,
            ignored: Ignored::default(),
            interrupted: false,
            tcp,
            config,
        };
        for server in d.config.servers.clone() {
            d.add_test(
                TestKind::Test1,
                SOCKET_MAPPING,
                server,
                server,
                BindingRequest::default(),
                now,
                false,
            );
        }
        d.drive(now);
        d
    }

    fn sockets_for(config: &DiscoveryConfig) -> usize {
        match config.lifetime_max {
            Some(max) => FIRST_LIFETIME_SOCKET + lifetime_steps(max).len(),
            None => SOCKET_LIFETIME_CHECK,
        }
    }

    /// How many local UDP sockets the command must bind (all of one address family); they
    /// are the driver's sockets `0..socket_count()`.
    pub fn socket_count(&self) -> usize {
        self.local.len()
    }

    /// The streams the driver must open, `(socket, server)`, right after the UDP sockets.
    pub fn tcp_sockets(&self) -> Vec<(SocketId, SocketAddr)> {
        self.tcp
            .as_ref()
            .map(|c| c.checks().iter().map(|k| (k.socket, k.server)).collect())
            .unwrap_or_default()
    }

    /// Tells the machine the local address a UDP socket is bound to.
    pub fn set_local_addr(&mut self, socket: SocketId, addr: SocketAddr) {
        if let Some(slot) = self.local.get_mut(socket) {
            *slot = Some(addr);
        }
    }

    /// The local address of a UDP socket.
    pub fn local_addr(&self, socket: SocketId) -> Option<SocketAddr> {
        self.local.get(socket).copied().flatten()
    }

    /// All tests so far, in the order they were created.
    pub fn tests(&self) -> &[Test] {
        &self.tests
    }

    /// The STUN-over-TCP checks that ended (running ones are left out: they were no longer
    /// needed), in server order.
    pub fn tcp_checks(&self) -> Vec<&BindingCheck> {
        self.tcp
            .as_ref()
            .map(|c| {
                c.checks()
                    .iter()
                    .filter(|k| {
                        !matches!(k.outcome, CheckOutcome::Pending | CheckOutcome::Cancelled)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// When no server answered over UDP, the first check that learned a mapped address over
    /// TCP: UDP is blocked, and this is the mapping.
    pub fn tcp_fallback(&self) -> Option<&BindingCheck> {
        let udp_answer = self
            .tests
            .iter()
            .any(|t| t.kind == TestKind::Test1 && t.answer().is_some());
        if udp_answer || self.interrupted {
            return None;
        }
        self.tcp_checks().into_iter().find(|c| c.mapped().is_some())
    }

    /// Whether Ctrl-C stopped the discovery.
    pub fn interrupted(&self) -> bool {
        self.interrupted
    }

    /// Datagrams ignored so far.
    pub fn ignored(&self) -> &Ignored {
        &self.ignored
    }

    /// The instant the discovery started.
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
        let tid = new_transaction_id(&mut self.rng);
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
            expect_from: None,
            expect_on: None,
            outcome,
            started_after: None,
            transaction: ClientTransaction::new(tid, payload, false),
            not_before,
            may_be_silent,
            withheld: 0,
        });
        self.tests.len() - 1
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
            if t.is_pending() && t.kind == TestKind::Test1 && t.server == server {
                t.transaction.start(now, rto, now + silence);
            }
        }
        self.drive(now);
    }

    /// An ICMP error (or a socket error) about datagrams from `socket` to `destination`.
    fn handle_unreachable(
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
                && t.transaction.first_sent().is_some()
            {
                t.outcome = Outcome::Unreachable(reason.to_string());
            }
        }
        self.advance(now);
        self.drive(now);
    }

    /// A datagram arrived on `socket` from `from`. Anything that is not an expected STUN
    /// answer is counted in [`NatBehaviorDiscovery::ignored`] and otherwise has no effect.
    fn handle_datagram(&mut self, now: Instant, socket: SocketId, from: SocketAddr, data: &[u8]) {
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
            .position(|t| t.is_pending() && t.transaction.matches(&msg))
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
        let sole_transmission = test.transmissions() == 1;
        let rtt = self.tests[idx].transaction.answered(now);
        let test = &self.tests[idx];
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
        if sole_transmission && self.rtt_sample.is_none() && !is_request_echo {
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
        // Addresses that answered one of our requests: a server-named destination among
        // them is a STUN server talking to us, and may get retransmissions.
        let answered: Vec<std::net::IpAddr> = self
            .tests
            .iter()
            .filter_map(|t| t.answer().map(|a| a.from.ip()))
            .collect();
        for t in &mut self.tests {
            if !t.is_pending() || now < t.not_before {
                continue;
            }
            if !t.transaction.is_started() {
                let wait = if t.may_be_silent { silence } else { timeout };
                t.transaction.start(now, rto, now + wait);
            }
            loop {
                match t.transaction.step(now) {
                    Action::Transmit
                        if t.to_claimed_address()
                            && t.transaction.transmissions() > 1
                            && !answered.contains(&t.destination.ip()) =>
                    {
                        t.withheld += 1;
                    }
                    Action::Transmit => {
                        t.started_after
                            .get_or_insert(now.saturating_duration_since(self.start));
                        self.transmits.push_back(Transmit {
                            socket: t.socket,
                            destination: t.destination,
                            payload: t.transaction.request().to_vec(),
                        });
                    }
                    Action::GiveUp => {
                        t.outcome = Outcome::Timeout;
                        changed = true;
                        break;
                    }
                    Action::Wait => break,
                }
            }
        }
        if changed {
            self.advance(now);
            // New tests may be due now.
            if self
                .tests
                .iter()
                .any(|t| t.is_pending() && !t.transaction.is_started() && t.not_before <= now)
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
}

impl Machine for NatBehaviorDiscovery {
    type Event = ();

    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        let socket = match input {
            Input::Message { socket, .. }
            | Input::Unreachable { socket, .. }
            | Input::Connected { socket, .. }
            | Input::StreamFailed { socket, .. } => socket,
        };
        if socket >= self.local.len() {
            if let Some(tcp) = &mut self.tcp {
                tcp.handle_input(now, input);
                let mut reachable = Vec::new();
                while let Some(BindingEvent::Connected { server, after }) = tcp.poll_event() {
                    reachable.push((server, after));
                }
                self.take_tcp_transmits();
                for (server, after) in reachable {
                    self.handle_server_reachable(now, server, after);
                }
            }
            return;
        }
        match input {
            Input::Message { from, data, .. } => self.handle_datagram(now, socket, from, data),
            Input::Unreachable {
                destination,
                reason,
                ..
            } => self.handle_unreachable(now, socket, destination, reason),
            Input::Connected { .. } | Input::StreamFailed { .. } => {}
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.drive(now);
        if let Some(tcp) = &mut self.tcp {
            tcp.handle_timeout(now);
        }
        self.take_tcp_transmits();
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    fn poll_event(&mut self) -> Option<()> {
        None
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let udp = self
            .tests
            .iter()
            .filter(|t| t.is_pending())
            .map(|t| t.transaction.poll_timeout().unwrap_or(t.not_before))
            .min();
        let tcp = self.tcp.as_ref().and_then(BindingClient::poll_timeout);
        [udp, tcp].into_iter().flatten().min()
    }

    /// Done when every UDP test has ended and, with TCP checks, either a server answered over
    /// UDP (TCP no longer matters) or the TCP checks ended too.
    fn is_done(&self) -> bool {
        if self.interrupted {
            return true;
        }
        if self.tests.iter().any(Test::is_pending) {
            return false;
        }
        let udp_answer = self
            .tests
            .iter()
            .any(|t| t.kind == TestKind::Test1 && t.answer().is_some());
        udp_answer || self.tcp.as_ref().is_none_or(BindingClient::is_done)
    }

    /// Pending tests become cancelled; the verdict shows what was learned.
    fn interrupt(&mut self, _now: Instant) {
        self.interrupted = true;
        for t in &mut self.tests {
            if t.is_pending() {
                t.outcome = Outcome::Cancelled;
            }
        }
        if let Some(tcp) = &mut self.tcp {
            tcp.cancel();
        }
    }
}

impl NatBehaviorDiscovery {
    fn take_tcp_transmits(&mut self) {
        if let Some(tcp) = &mut self.tcp {
            while let Some(t) = tcp.poll_transmit() {
                self.transmits.push_back(t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The machine against the simulated RFC 5780 server behind a simulated NAT
    //! ([`crate::stun::sim`]), in simulated time, with an optionally lossy link.
    use super::*;
    use crate::machine::simulate;
    use crate::stun::behavior::{FilteringBehavior, MappingBehavior};
    use crate::stun::message::encode_binding_success;
    use crate::stun::sim::{Filtering, SimNetwork};
    use rand::SeedableRng;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[allow(clippy::disallowed_methods)]
    fn t0() -> Instant {
        Instant::now()
    }

    fn config() -> DiscoveryConfig {
        DiscoveryConfig {
            servers: vec![sa("198.51.100.10:3478")],
            timeout: Duration::from_secs(3),
            initial_rto: Duration::from_millis(500),
            min_silence: Duration::from_millis(80),
            hairpinning: true,
            lifetime_max: None,
            software: None,
            local_ips: vec!["10.0.0.2".parse().unwrap()],
            tcp_checks: false,
        }
    }

    /// Runs the discovery to completion; returns the verdict and the simulated duration.
    fn simulate_in(
        net: &mut SimNetwork,
        config: DiscoveryConfig,
    ) -> (Verdict, Duration, NatBehaviorDiscovery) {
        let start = t0();
        let mut d = NatBehaviorDiscovery::new(config, start, StdRng::seed_from_u64(42));
        for i in 0..d.socket_count() {
            d.set_local_addr(i, SimNetwork::local(i));
        }
        let end = simulate(
            &mut d,
            start,
            10_000,
            |now, t| net.send(now, t),
            |_, _, _| {},
        );
        assert!(d.is_done(), "discovery did not finish");
        (d.verdict(), end - start, d)
    }

    #[test]
    fn classifies_every_combination() {
        for (apdm, filter, mapping, filtering) in [
            (
                false,
                Filtering::EndpointIndependent,
                MappingBehavior::EndpointIndependent,
                FilteringBehavior::EndpointIndependent,
            ),
            (
                false,
                Filtering::AddressDependent,
                MappingBehavior::EndpointIndependent,
                FilteringBehavior::AddressDependent,
            ),
            (
                false,
                Filtering::AddressAndPortDependent,
                MappingBehavior::EndpointIndependent,
                FilteringBehavior::AddressAndPortDependent,
            ),
            (
                true,
                Filtering::AddressAndPortDependent,
                MappingBehavior::AddressAndPortDependent,
                FilteringBehavior::AddressAndPortDependent,
            ),
        ] {
            let mut w = SimNetwork::new(apdm, filter, 0);
            let (v, took, _) = simulate_in(&mut w, config());
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
        let mut w = SimNetwork::new(false, Filtering::AddressDependent, 3);
        let (v, _, probe) = simulate_in(&mut w, config());
        assert_eq!(v.mapping, MappingBehavior::EndpointIndependent);
        assert_eq!(v.filtering, FilteringBehavior::AddressDependent);
        assert!(
            probe.tests().iter().any(|t| t.transmissions() > 1),
            "some test was retransmitted"
        );
    }

    /// A server whose OTHER-ADDRESS names a host that never answers (any host: the server
    /// chooses it) gets one datagram sent there per address, not a retransmission
    /// schedule; the same for hairpinning's mapped address.
    #[test]
    fn server_named_addresses_get_one_datagram_each() {
        let mut w = SimNetwork::new(false, Filtering::EndpointIndependent, 0);
        let primary = w.primary;
        let start = t0();
        let mut d = NatBehaviorDiscovery::new(config(), start, StdRng::seed_from_u64(7));
        for i in 0..d.socket_count() {
            d.set_local_addr(i, SimNetwork::local(i));
        }
        let mut elsewhere: std::collections::HashMap<SocketAddr, u32> = Default::default();
        simulate(
            &mut d,
            start,
            10_000,
            |now, t| {
                if t.destination == primary {
                    // Nothing comes from the named address either (a change request's
                    // answer from there would show a STUN server talking to us).
                    let mut answers = w.send(now, t);
                    answers.retain(|a| a.2 == primary);
                    answers
                } else {
                    *elsewhere.entry(t.destination).or_default() += 1;
                    Vec::new()
                }
            },
            |_, _, _| {},
        );
        assert!(d.is_done());
        // Alternate IP with the primary port, the alternate address, the mapped address.
        assert_eq!(elsewhere.len(), 3, "{elsewhere:?}");
        assert!(elsewhere.values().all(|n| *n == 1), "{elsewhere:?}");
        let v = d.verdict();
        assert_eq!(v.mapping, MappingBehavior::Unknown);
        for t in d.tests().iter().filter(|t| t.to_claimed_address()) {
            assert_eq!(t.transmissions(), 1, "{:?}", t.kind);
        }
    }

    #[test]
    fn no_answer_times_out_within_the_bound() {
        let mut cfg = config();
        cfg.servers = vec![sa("192.0.2.99:3478")]; // the world drops it
        let mut w = SimNetwork::new(false, Filtering::EndpointIndependent, 0);
        let (v, took, probe) = simulate_in(&mut w, cfg);
        assert!(!v.any_answer);
        assert_eq!(v.mapping, MappingBehavior::Unknown);
        assert_eq!(v.nat_detected, None);
        assert_eq!(took, Duration::from_secs(3), "bounded by the timeout");
        // RFC 8489 schedule within 3 s: 0, 500, 1500 ms.
        assert_eq!(probe.tests()[0].transmissions(), 3);
    }

    #[test]
    fn stray_and_malformed_datagrams_are_counted_not_fatal() {
        let now = t0();
        let mut probe = NatBehaviorDiscovery::new(config(), now, StdRng::seed_from_u64(1));
        let from = sa("198.51.100.10:3478");
        let msg = |data: &[u8]| {
            let data = data.to_vec();
            move |p: &mut NatBehaviorDiscovery| {
                p.handle_input(
                    now,
                    Input::Message {
                        socket: 0,
                        from,
                        data: &data,
                    },
                );
            }
        };
        msg(b"garbage")(&mut probe);
        let stray = encode_binding_success([9; 12], sa("203.0.113.1:1"), None, None).unwrap();
        msg(&stray)(&mut probe);
        let mut bad = stray.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        msg(&bad)(&mut probe);
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
