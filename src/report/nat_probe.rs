//! The report of `voipdiag nat-probe`: JSON shape, human rendering and the findings that
//! say what the NAT's behaviour means for calls.

use serde::Serialize;

use std::net::{IpAddr, SocketAddr};

use super::ms;
use super::{Describe, Finding, Section, Severity, Status, opt, yes_no};
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

fn classic_label(c: Option<ClassicType>) -> &'static str {
    c.map_or("undetermined", ClassicType::as_str)
}

impl Describe for NatProbeResult {
    fn verdict(&self) -> String {
        if self.udp_blocked {
            return "UDP is blocked: STUN answered only over TCP".into();
        }
        let Some(mapped) = &self.mapped_address else {
            return "no STUN server answered".into();
        };
        match self.nat_detected {
            Some(false) => format!(
                "no NAT ({}): this host's address {mapped} is public",
                classic_label(self.classic_type)
            ),
            _ if self.transport == StunTransport::Tcp => {
                format!("behind NAT; public address {mapped} (over TCP)")
            }
            _ => format!(
                "{} NAT: {} mapping, {} filtering; public address {mapped}",
                classic_label(self.classic_type),
                self.mapping.as_str(),
                self.filtering.as_str()
            ),
        }
    }

    fn sections(&self, verbose: bool) -> Vec<Section> {
        let mut facts = vec![
            ("NAT detected".to_string(), yes_no(self.nat_detected)),
            ("Local address".into(), opt(&self.local_address)),
            ("Public (mapped) address".into(), opt(&self.mapped_address)),
            ("Mapping (RFC 4787)".into(), self.mapping.as_str().into()),
            (
                "Filtering (RFC 4787)".into(),
                self.filtering.as_str().into(),
            ),
            (
                "Classic type (RFC 3489)".into(),
                classic_label(self.classic_type).into(),
            ),
            ("Hairpinning".into(), yes_no(self.hairpinning)),
            ("Port preservation".into(), yes_no(self.port_preservation)),
        ];
        if let Some(l) = self.binding_lifetime {
            let v = match l.less_than_s {
                Some(u) => format!("{}–{} s", l.at_least_s, u),
                None => format!("at least {} s", l.at_least_s),
            };
            facts.push(("Binding lifetime".into(), v));
        }
        facts.push(("Transport".into(), self.transport.as_str().into()));
        facts.push(("RFC 5780 server".into(), opt(&self.primary_server)));
        let ms = |v: Option<f64>| v.map_or("-".into(), |x| format!("{x:.1}"));
        let servers = self
            .servers
            .iter()
            .map(|s| {
                vec![
                    s.server.to_string(),
                    opt(&s.address),
                    s.status.as_str().into(),
                    ms(s.rtt_ms),
                    if s.rfc5780 { "yes".into() } else { "no".into() },
                    opt(&s.mapped_address),
                    s.error
                        .clone()
                        .or_else(|| s.software.clone())
                        .unwrap_or_default(),
                ]
            })
            .collect();
        let mut out = vec![
            Section::Facts {
                title: "NAT behaviour".into(),
                rows: facts,
            },
            Section::Table {
                title: "STUN servers".into(),
                header: [
                    "server", "address", "status", "rtt ms", "RFC 5780", "mapped", "note",
                ]
                .map(String::from)
                .to_vec(),
                rows: servers,
            },
        ];
        if verbose {
            let tests = self
                .tests
                .iter()
                .map(|t| {
                    let mut req = String::new();
                    if t.request.change_ip || t.request.change_port {
                        req = format!(
                            "CHANGE-REQUEST{}{}",
                            if t.request.change_ip { " ip" } else { "" },
                            if t.request.change_port { " port" } else { "" }
                        );
                    }
                    if let Some(p) = t.request.response_port {
                        req = format!("RESPONSE-PORT {p}");
                    }
                    vec![
                        t.test.clone(),
                        format!("{} → {}", opt(&t.request.from), t.request.to),
                        req,
                        t.outcome.as_str().to_string(),
                        t.response
                            .as_ref()
                            .map(|r| r.from.to_string())
                            .unwrap_or_default(),
                        t.response
                            .as_ref()
                            .and_then(|r| r.mapped_address)
                            .map(|a| a.to_string())
                            .unwrap_or_default(),
                        ms(t.rtt_ms),
                        t.transmissions.to_string(),
                    ]
                })
                .collect();
            out.push(Section::Table {
                title: "Tests (RFC 5780)".into(),
                header: [
                    "test",
                    "sent",
                    "request",
                    "outcome",
                    "answer from",
                    "mapped",
                    "rtt ms",
                    "tx",
                ]
                .map(String::from)
                .to_vec(),
                rows: tests,
            });
        }
        out
    }
}

/// The findings for a result, in plain language for VoIP.
pub fn findings(r: &NatProbeResult) -> Vec<Finding> {
    use Severity::{Critical, Info, Warning};
    let mut f = Vec::new();
    if r.interrupted {
        f.push(Finding::new(
            "INTERRUPTED",
            Warning,
            "interrupted: the result shows only what was learned until then",
        ));
    }
    for s in &r.servers {
        if s.status == ServerStatus::Unreachable {
            f.push(Finding::new(
                "SERVER_UNREACHABLE",
                Warning,
                format!(
                    "{}: {}; nothing answers STUN there",
                    s.server,
                    s.error.clone().unwrap_or_default()
                ),
            ));
        }
    }
    if r.udp_blocked {
        f.push(Finding::new(
            "UDP_BLOCKED",
            Critical,
            "UDP is blocked: STUN answered over TCP but never over UDP. SIP and RTP over UDP cannot work from here; use SIP over TCP/TLS and a TURN relay over TCP or TLS",
        ));
        return f;
    }
    if r.mapped_address.is_none() {
        if !r.interrupted {
            f.push(Finding::new(
                "NO_ANSWER",
                Critical,
                "no STUN server answered over UDP or TCP: the servers may be down or unreachable, or all outbound traffic is blocked",
            ));
        }
        return f;
    }
    for s in &r.servers {
        if matches!(
            s.status,
            ServerStatus::Timeout | ServerStatus::Unresolved | ServerStatus::ErrorResponse
        ) {
            f.push(Finding::new(
                "SERVER_NOT_ANSWERING",
                Info,
                format!(
                    "{} did not answer ({}); other servers did",
                    s.server,
                    s.error
                        .clone()
                        .unwrap_or_else(|| s.status.as_str().to_string())
                ),
            ));
        }
    }
    match r.nat_detected {
        Some(false) => f.push(Finding::new(
            "NO_NAT",
            Info,
            format!("no NAT: the public address {} is this host's own; SIP and SDP can carry it as is", opt(&r.mapped_address)),
        )),
        Some(true) => f.push(Finding::new(
            "NAT_DETECTED",
            Info,
            format!(
                "behind NAT: the Internet sees {} instead of {}; SIP and SDP must carry the public address (STUN, ICE, or the server's rport and media latching)",
                opt(&r.mapped_address),
                r.local_address
                    .map_or_else(|| "the local address".into(), |a| a.to_string())
            ),
        )),
        None => {}
    }
    if r.transport == StunTransport::Tcp {
        return f;
    }
    match r.mapping {
        MappingBehavior::AddressAndPortDependent | MappingBehavior::AddressDependent => f.push(Finding::new(
            "SYMMETRIC_NAT",
            Critical,
            format!(
                "{} mapping (symmetric NAT): the public port changes with every destination, so the address learned from STUN is wrong for the peer; direct media between two clients will fail, calls need a TURN/media relay",
                r.mapping.as_str()
            ),
        )),
        MappingBehavior::EndpointIndependent if r.nat_detected == Some(true) => f.push(Finding::new(
            "MAPPING_ENDPOINT_INDEPENDENT",
            Info,
            "endpoint-independent mapping (RFC 4787 REQ-1): the public address learned from STUN is valid for every peer, so ICE/STUN candidates work",
        )),
        _ => {}
    }
    if r.mapping != MappingBehavior::Unknown
        && !r.rfc5780
        && r.mapping == MappingBehavior::AddressDependent
    {
        f.push(Finding::new(
            "MAPPING_PORT_DEPENDENCE_UNTESTED",
            Info,
            "mapping differs between server addresses; whether it also depends on the port was not tested (no RFC 5780 server, no second port)",
        ));
    }
    match r.filtering {
        FilteringBehavior::AddressAndPortDependent => f.push(Finding::new(
            "FILTERING_ADDRESS_AND_PORT_DEPENDENT",
            Warning,
            "address-and-port-dependent filtering: media is let in only from the exact address and port this host sent to; the phone must send first (symmetric RTP) and keep the mapping alive, and calls to a peer behind a similar NAT need ICE or a relay",
        )),
        FilteringBehavior::AddressDependent => f.push(Finding::new(
            "FILTERING_ADDRESS_DEPENDENT",
            Info,
            "address-dependent filtering: media is let in only from addresses this host sent to; the phone should send first (symmetric RTP)",
        )),
        FilteringBehavior::EndpointIndependent => f.push(Finding::new(
            "FILTERING_ENDPOINT_INDEPENDENT",
            Info,
            "endpoint-independent filtering: anyone may send to the mapped address; inbound media arrives even before the phone sends",
        )),
        FilteringBehavior::Unknown => f.push(Finding::new(
            "FILTERING_UNKNOWN",
            Info,
            if r.rfc5780 {
                "filtering could not be determined (the server did not honour CHANGE-REQUEST)"
            } else {
                "filtering is unknown: no server supports RFC 5780 (OTHER-ADDRESS), and it is not guessed"
            },
        )),
    }
    if r.hairpinning == Some(false) {
        f.push(Finding::new(
            "NO_HAIRPINNING",
            Warning,
            "no hairpinning: two phones behind this NAT cannot reach each other through their public addresses; calls between them need the PBX/SBC to keep media local or a relay",
        ));
    }
    if r.port_preservation == Some(false) {
        f.push(Finding::new(
            "NO_PORT_PRESERVATION",
            Info,
            "the NAT changes source ports: a phone that puts its local port into SIP/SDP without STUN will be unreachable",
        ));
    }
    if let Some(l) = r.binding_lifetime {
        let sev = if l.less_than_s.is_some_and(|u| u <= 30) {
            Warning
        } else {
            Info
        };
        let text = match l.less_than_s {
            Some(u) => format!(
                "UDP bindings expire after {}–{} s of silence: keep-alives (SIP CRLF/OPTIONS, re-REGISTER, RTP/RTCP) must come more often than every {} s",
                l.at_least_s,
                u,
                l.at_least_s.max(1)
            ),
            None => format!(
                "UDP bindings lasted at least {} s (the longest wait tested)",
                l.at_least_s
            ),
        };
        f.push(Finding::new("BINDING_LIFETIME", sev, text));
    }
    if let Some(local) = r.local_address
        && crate::addr::scope(local.ip()) == crate::addr::Scope::Cgnat
    {
        f.push(Finding::new(
            "CARRIER_GRADE_NAT",
            Warning,
            "this host's address is in 100.64.0.0/10: the provider runs carrier-grade NAT, so port mappings on the home router cannot make it reachable",
        ));
    }
    let ig = &r.ignored_datagrams;
    if ig.bad_fingerprint + ig.malformed > 0 {
        f.push(Finding::new(
            "IGNORED_DATAGRAMS",
            Info,
            format!(
                "{} malformed and {} bad-FINGERPRINT datagrams were ignored",
                ig.malformed, ig.bad_fingerprint
            ),
        ));
    }
    f
}

/// Status from findings: any critical finding is a problem; no answer at all is no-answer.
pub fn status(r: &NatProbeResult, findings: &[Finding]) -> Status {
    if r.mapped_address.is_none() && !r.udp_blocked {
        return Status::NoAnswer;
    }
    if findings.iter().any(|f| f.severity == Severity::Critical) {
        Status::Problem
    } else {
        Status::Ok
    }
}
