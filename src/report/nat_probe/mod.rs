//! The report of `voipdiag nat-probe`: JSON shape, human rendering and the findings that
//! say what the NAT's behaviour means for calls.

use serde::Serialize;

use std::net::{IpAddr, SocketAddr};

use super::ms;
mod findings;
mod render;
pub mod turn;

use crate::addr::HostPort;
use crate::stun::StunTransport;
use crate::stun::behavior::{
    ClassicType, FilteringBehavior, MappingBehavior, classic_type, is_own_address,
};
use crate::stun::binding::{BindingCheck, CheckOutcome};
use crate::stun::discovery::{
    Answer, Ignored, Lifetime, NatBehaviorDiscovery, Outcome, Test, TestKind,
};
use crate::stun::message::tid_hex;
pub use findings::{findings, status};

/// `result` of `nat-probe`. Keys are stable: scripts depend on them. Addresses stay typed
/// until serialised (`ip:port`, IPv6 as `[ip]:port`).
#[derive(Debug, Clone, Serialize)]
pub struct NatProbeResult {
    /// RFC 4787 mapping behaviour.
    pub mapping: MappingBehavior,
    /// RFC 4787 filtering behaviour.
    pub filtering: FilteringBehavior,
    /// Whether the public (mapped) address differs from every local address; null without
    /// any answer.
    pub nat_detected: Option<bool>,
    /// Local `ip:port` of the probe's main socket.
    pub local_address: Option<SocketAddr>,
    /// Public `ip:port` as the primary server saw it (IPv6 as `[ip]:port`).
    pub mapped_address: Option<SocketAddr>,
    /// RFC 3489 name, null when the facts do not decide it.
    pub classic_type: Option<ClassicType>,
    /// Whether the NAT hairpins (RFC 5780 §4.5); null when untested or without NAT.
    pub hairpinning: Option<bool>,
    /// Whether the NAT kept the local port; null without NAT.
    pub port_preservation: Option<bool>,
    /// Lower bound of the binding lifetime in s (RFC 5780 §4.6), present when measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding_lifetime_s: Option<u64>,
    /// Both bounds of the binding lifetime, present when measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding_lifetime: Option<Lifetime>,
    /// Transport of the verdict: `udp`, or `tcp` when asked for or when UDP is blocked.
    pub transport: StunTransport,
    /// True when no UDP answer came but STUN over TCP worked.
    pub udp_blocked: bool,
    /// Whether the primary server supports RFC 5780 (OTHER-ADDRESS).
    pub rfc5780: bool,
    /// The server the behaviour tests ran against.
    pub primary_server: Option<SocketAddr>,
    /// Every server asked, in the order given.
    pub servers: Vec<ServerReport>,
    /// Every test, in the order started.
    pub tests: Vec<TestReport>,
    /// Datagrams received and ignored (malformed, bad FINGERPRINT, unknown transaction).
    pub ignored_datagrams: Ignored,
    /// True when Ctrl-C stopped the probe; the result is what was learned until then.
    pub interrupted: bool,
    /// Total probe time until the verdict, in ms.
    pub probe_ms: f64,
    /// Whether the RFC 5780 NAT behaviour tests ran (false with `--turn-only`).
    pub nat_tested: bool,
    /// One entry per `--turn` URI (and relayed address family).
    pub turn: Vec<turn::TurnReport>,
    /// Does a TURN relay carry media from here: `works`, `works-over-tcp-only`, `fails`,
    /// `not-tested`.
    pub relay_verdict: turn::RelayVerdict,
}

/// How a server's test I (or its STUN over TCP) went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerStatus {
    /// It answered.
    Answered,
    /// No answer within the timeout.
    Timeout,
    /// ICMP (or TCP RST) said nothing listens there.
    Unreachable,
    /// The name did not resolve.
    Unresolved,
    /// It answered with an error response.
    ErrorResponse,
    /// Stopped before it ended.
    Cancelled,
    /// Its answer was unusable.
    Unusable,
    /// Not asked.
    Skipped,
}

impl ServerStatus {
    /// The JSON name, for tables.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerStatus::Answered => "answered",
            ServerStatus::Timeout => "timeout",
            ServerStatus::Unreachable => "unreachable",
            ServerStatus::Unresolved => "unresolved",
            ServerStatus::ErrorResponse => "error-response",
            ServerStatus::Cancelled => "cancelled",
            ServerStatus::Unusable => "unusable",
            ServerStatus::Skipped => "skipped",
        }
    }
}

/// One STUN server as asked.
#[derive(Debug, Clone, Serialize)]
pub struct ServerReport {
    /// As given (`HOST[:PORT]`).
    pub server: HostPort,
    /// The address used (`ip:port`), null if it did not resolve.
    pub address: Option<SocketAddr>,
    /// `answered`, `timeout`, `unreachable`, `unresolved`, `error-response` or `cancelled`.
    pub status: ServerStatus,
    /// Round-trip time of the binding test in ms.
    pub rtt_ms: Option<f64>,
    /// Whether it sent OTHER-ADDRESS (RFC 5780 capable).
    pub rfc5780: bool,
    /// OTHER-ADDRESS it gave.
    pub other_address: Option<SocketAddr>,
    /// Mapped address it reported for the main socket.
    pub mapped_address: Option<SocketAddr>,
    /// Its SOFTWARE attribute.
    pub software: Option<String>,
    /// The error (resolution failure, ICMP error, error response), if any.
    pub error: Option<String>,
}

/// How a test ended.
pub type TestOutcome = ServerStatus;

/// One test transaction.
#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    /// Test name: `binding`, `mapping-test-2`, `mapping-test-3`, `filtering-test-2`,
    /// `filtering-test-3`, `hairpinning`, `lifetime-setup-Ns`, `lifetime-check-Ns`,
    /// `tcp-binding`.
    pub test: String,
    /// `udp` or `tcp`.
    pub transport: StunTransport,
    /// The server the test concerns.
    pub server: SocketAddr,
    /// What was sent.
    pub request: TestRequest,
    /// `answered`, `timeout`, `unreachable`, `error-response`, `unusable`, `cancelled`,
    /// `skipped`.
    pub outcome: TestOutcome,
    /// Detail for outcomes other than `answered`/`timeout`.
    pub detail: Option<String>,
    /// What came back (for hairpinning: our own request, as received).
    pub response: Option<TestResponse>,
    /// Round-trip time in ms from the first transmission.
    pub rtt_ms: Option<f64>,
    /// Number of transmissions (RFC 8489 §6.2.1 retransmissions included).
    pub transmissions: u32,
    /// When the test started, ms after the probe started.
    pub started_ms: Option<f64>,
}

/// The request of a test.
#[derive(Debug, Clone, Serialize)]
pub struct TestRequest {
    /// Local `ip:port` it was sent from.
    pub from: Option<SocketAddr>,
    /// Destination `ip:port`.
    pub to: SocketAddr,
    /// STUN transaction ID (hex).
    #[serde(serialize_with = "hex_id")]
    pub transaction_id: [u8; 12],
    /// CHANGE-REQUEST change-IP flag.
    pub change_ip: bool,
    /// CHANGE-REQUEST change-port flag.
    pub change_port: bool,
    /// RESPONSE-PORT, when sent.
    pub response_port: Option<u16>,
}

fn hex_id<S: serde::Serializer>(id: &[u8; 12], s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&tid_hex(id))
}

/// The response of a test.
#[derive(Debug, Clone, Serialize)]
pub struct TestResponse {
    /// Source `ip:port` of the response.
    pub from: SocketAddr,
    /// Local `ip:port` it arrived on.
    pub received_on: Option<SocketAddr>,
    /// XOR-MAPPED-ADDRESS (else MAPPED-ADDRESS).
    pub mapped_address: Option<SocketAddr>,
    /// OTHER-ADDRESS.
    pub other_address: Option<SocketAddr>,
    /// RESPONSE-ORIGIN.
    pub response_origin: Option<SocketAddr>,
    /// ERROR-CODE, e.g. 420.
    pub error_code: Option<u16>,
}

/// A server as the command resolved it: as given, and its address or why there is none.
#[derive(Debug, Clone)]
pub struct ResolvedServer {
    /// As given.
    pub given: HostPort,
    /// The address used, or the resolution error.
    pub address: Result<SocketAddr, String>,
}

impl ServerReport {
    /// A server before any test: `timeout` when it resolved (nothing heard yet),
    /// `unresolved` with the error otherwise.
    pub fn new(s: &ResolvedServer) -> ServerReport {
        ServerReport {
            server: s.given.clone(),
            address: s.address.as_ref().ok().copied(),
            status: if s.address.is_ok() {
                ServerStatus::Timeout
            } else {
                ServerStatus::Unresolved
            },
            rtt_ms: None,
            rfc5780: false,
            other_address: None,
            mapped_address: None,
            software: None,
            error: s.address.as_ref().err().cloned(),
        }
    }

    /// What the server's test I showed.
    pub fn fill_from_udp(&mut self, t: &Test) {
        match &t.outcome {
            Outcome::Answered(a) => {
                self.status = ServerStatus::Answered;
                self.rtt_ms = Some(ms(a.rtt));
                self.rfc5780 = a.message.other_address.is_some();
                self.other_address = a.message.other_address;
                self.mapped_address = a.message.mapped();
                self.software.clone_from(&a.message.software);
            }
            Outcome::Timeout => self.status = ServerStatus::Timeout,
            Outcome::Unreachable(why) => {
                self.status = ServerStatus::Unreachable;
                self.error = Some(why.clone());
            }
            Outcome::ErrorResponse { code, reason } => {
                self.status = ServerStatus::ErrorResponse;
                self.error = Some(format!("{code} {reason}"));
            }
            Outcome::Cancelled | Outcome::Pending => self.status = ServerStatus::Cancelled,
            Outcome::Unusable { reason, .. } => {
                self.status = ServerStatus::Unusable;
                self.error = Some(reason.clone());
            }
            Outcome::Skipped(why) => {
                self.status = ServerStatus::Skipped;
                self.error = Some((*why).to_string());
            }
        }
    }

    /// What its STUN over TCP showed (`--transport tcp`).
    pub fn fill_from_tcp(&mut self, c: &BindingCheck) {
        match &c.outcome {
            CheckOutcome::Answered { rtt, .. } => {
                self.status = ServerStatus::Answered;
                self.rtt_ms = Some(ms(*rtt));
                self.mapped_address = c.mapped();
            }
            CheckOutcome::Timeout => self.status = ServerStatus::Timeout,
            other => {
                self.status = ServerStatus::Unreachable;
                self.error = Some(format!("TCP: {}", tcp_error(other)));
            }
        }
    }
}

/// A failed STUN-over-TCP check in words ("connection refused", …).
pub fn tcp_error(o: &CheckOutcome) -> String {
    match o {
        CheckOutcome::Timeout => "no answer within the timeout".into(),
        CheckOutcome::Refused(_) => "connection refused".into(),
        CheckOutcome::Failed(e) => e.clone(),
        CheckOutcome::Cancelled | CheckOutcome::Pending => "cancelled".into(),
        CheckOutcome::Answered { .. } => "answered".into(),
    }
}

impl TestReport {
    /// An RFC 5780 test over UDP; `local` gives each socket's address.
    pub fn from_udp(t: &Test, local: impl Fn(usize) -> Option<SocketAddr>) -> TestReport {
        let answer_of = |a: &Answer| TestResponse {
            from: a.from,
            received_on: local(a.received_on),
            mapped_address: a.message.mapped(),
            other_address: a.message.other_address,
            response_origin: a.message.response_origin,
            error_code: a.message.error_code.as_ref().map(|e| e.0),
        };
        let (outcome, detail, response, rtt) = match &t.outcome {
            Outcome::Answered(a) => (
                ServerStatus::Answered,
                None,
                Some(answer_of(a)),
                Some(ms(a.rtt)),
            ),
            Outcome::Timeout => (ServerStatus::Timeout, None, None, None),
            Outcome::Unreachable(w) => (ServerStatus::Unreachable, Some(w.clone()), None, None),
            Outcome::ErrorResponse { code, reason } => (
                ServerStatus::ErrorResponse,
                Some(format!("{code} {reason}")),
                None,
                None,
            ),
            Outcome::Unusable { reason, answer } => (
                ServerStatus::Unusable,
                Some(reason.clone()),
                Some(answer_of(answer)),
                Some(ms(answer.rtt)),
            ),
            Outcome::Cancelled | Outcome::Pending => (ServerStatus::Cancelled, None, None, None),
            Outcome::Skipped(w) => (ServerStatus::Skipped, Some((*w).to_string()), None, None),
        };
        let cr = t.request.change_request;
        TestReport {
            test: t.kind.name(),
            transport: StunTransport::Udp,
            server: t.server,
            request: TestRequest {
                from: local(t.socket),
                to: t.destination,
                transaction_id: *t.transaction_id(),
                change_ip: cr.is_some_and(|c| c.change_ip),
                change_port: cr.is_some_and(|c| c.change_port),
                response_port: t.request.response_port,
            },
            outcome,
            detail,
            response,
            rtt_ms: rtt,
            transmissions: t.transmissions(),
            started_ms: t.started_after.map(ms),
        }
    }

    /// A STUN-over-TCP Binding check.
    pub fn from_tcp(c: &BindingCheck) -> TestReport {
        let (outcome, detail, response, rtt_ms, from) = match &c.outcome {
            CheckOutcome::Answered { rtt, message, .. } => (
                ServerStatus::Answered,
                None,
                Some(TestResponse {
                    from: c.server,
                    received_on: c.local,
                    mapped_address: message.mapped(),
                    other_address: None,
                    response_origin: None,
                    error_code: None,
                }),
                Some(ms(*rtt)),
                c.local,
            ),
            CheckOutcome::Timeout => (ServerStatus::Timeout, None, None, None, None),
            CheckOutcome::Refused(_) => (
                ServerStatus::Unreachable,
                Some("TCP connection refused".to_string()),
                None,
                None,
                None,
            ),
            other => (
                ServerStatus::Unreachable,
                Some(tcp_error(other)),
                None,
                None,
                None,
            ),
        };
        TestReport {
            test: "tcp-binding".into(),
            transport: StunTransport::Tcp,
            server: c.server,
            request: TestRequest {
                from,
                to: c.server,
                transaction_id: *c.transaction_id(),
                change_ip: false,
                change_port: false,
                response_port: None,
            },
            outcome,
            detail,
            response,
            rtt_ms,
            transmissions: 1,
            started_ms: Some(0.0),
        }
    }
}

impl NatProbeResult {
    /// A result with nothing learned yet, for these servers over `transport`.
    pub fn empty(servers: &[ResolvedServer], transport: StunTransport) -> NatProbeResult {
        NatProbeResult {
            mapping: MappingBehavior::Unknown,
            filtering: FilteringBehavior::Unknown,
            nat_detected: None,
            local_address: None,
            mapped_address: None,
            classic_type: None,
            hairpinning: None,
            port_preservation: None,
            binding_lifetime_s: None,
            binding_lifetime: None,
            transport,
            udp_blocked: false,
            rfc5780: false,
            primary_server: None,
            servers: servers.iter().map(ServerReport::new).collect(),
            tests: Vec::new(),
            ignored_datagrams: Ignored::default(),
            interrupted: false,
            probe_ms: 0.0,
            nat_tested: true,
            turn: Vec::new(),
            relay_verdict: turn::RelayVerdict::NotTested,
        }
    }

    fn server_mut(&mut self, address: SocketAddr) -> Option<&mut ServerReport> {
        self.servers.iter_mut().find(|s| s.address == Some(address))
    }

    /// The mapping learned over TCP (`--transport tcp`, or the UDP-blocked fallback).
    fn apply_tcp_mapping(&mut self, c: &BindingCheck, local_ips: &[IpAddr]) {
        let (Some(local), Some(mapped)) = (c.local, c.mapped()) else {
            return;
        };
        self.primary_server = Some(c.server);
        self.local_address = Some(local);
        self.mapped_address = Some(mapped);
        let nat = !is_own_address(mapped, Some(local), local_ips);
        self.nat_detected = Some(nat);
        self.port_preservation = nat.then_some(mapped.port() == local.port());
    }

    /// The result of `--transport tcp`: one Binding check per server.
    pub fn from_tcp_checks(
        servers: &[ResolvedServer],
        checks: &[BindingCheck],
        local_ips: &[IpAddr],
    ) -> NatProbeResult {
        let mut r = NatProbeResult::empty(servers, StunTransport::Tcp);
        for c in checks {
            r.tests.push(TestReport::from_tcp(c));
            if let Some(s) = r.server_mut(c.server) {
                s.fill_from_tcp(c);
            }
        }
        if let Some(c) = checks.iter().find(|c| c.mapped().is_some()) {
            r.apply_tcp_mapping(c, local_ips);
        }
        r
    }

    /// The result of the RFC 5780 discovery over UDP (with its STUN-over-TCP checks).
    pub fn from_discovery(
        servers: &[ResolvedServer],
        d: &NatBehaviorDiscovery,
        local_ips: &[IpAddr],
    ) -> NatProbeResult {
        let verdict = d.verdict();
        let mut r = NatProbeResult::empty(servers, StunTransport::Udp);
        r.interrupted = d.interrupted();
        r.ignored_datagrams = d.ignored().clone();
        r.rfc5780 = verdict.rfc5780;
        r.primary_server = verdict.primary;
        r.local_address = verdict.local_address;
        r.mapped_address = verdict.mapped_address;
        r.nat_detected = verdict.nat_detected;
        r.mapping = verdict.mapping;
        r.filtering = verdict.filtering;
        r.hairpinning = if verdict.nat_detected == Some(true) {
            verdict.hairpinning
        } else {
            None
        };
        r.port_preservation = verdict.port_preservation;
        r.binding_lifetime = verdict.lifetime;
        r.binding_lifetime_s = verdict.lifetime.map(|l| l.at_least_s);
        r.tests = d
            .tests()
            .iter()
            .map(|t| TestReport::from_udp(t, |i| d.local_addr(i)))
            .collect();
        for t in d.tests().iter().filter(|t| t.kind == TestKind::Test1) {
            if let Some(s) = r.server_mut(t.server) {
                s.fill_from_udp(t);
            }
        }
        let tcp = d.tcp_checks();
        r.tests.extend(tcp.iter().map(|c| TestReport::from_tcp(c)));
        if verdict.udp_blocked
            && let Some(c) = d.tcp_fallback()
        {
            // No UDP answer, but STUN over TCP worked: UDP is blocked.
            r.udp_blocked = true;
            r.transport = StunTransport::Tcp;
            r.apply_tcp_mapping(c, local_ips);
            r.port_preservation = None;
            r.classic_type = classic_type(true, true, r.mapping, r.filtering);
            return r;
        }
        if !verdict.any_answer && !r.interrupted {
            for c in &tcp {
                if matches!(c.outcome, CheckOutcome::Answered { .. }) {
                    continue;
                }
                if let Some(s) = r.server_mut(c.server)
                    && s.error.is_none()
                {
                    s.error = Some(format!("no UDP answer; TCP: {}", tcp_error(&c.outcome)));
                }
            }
        }
        if let Some(nat) = r.nat_detected {
            r.classic_type = classic_type(false, nat, r.mapping, r.filtering);
        }
        r
    }
}
