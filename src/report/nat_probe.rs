//! The report of `voipdiag nat-probe`: JSON shape, human rendering and the findings that
//! say what the NAT's behaviour means for calls.

use serde::Serialize;

use super::{Describe, Finding, Section, Severity, Status, yes_no};
use crate::stun::behavior::{ClassicType, FilteringBehavior, MappingBehavior};
use crate::stun::probe::{Ignored, Lifetime};

/// `result` of `nat-probe`. Keys are stable: scripts depend on them.
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
    pub local_address: Option<String>,
    /// Public `ip:port` as the primary server saw it (IPv6 as `[ip]:port`).
    pub mapped_address: Option<String>,
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
    pub transport: &'static str,
    /// True when no UDP answer came but STUN over TCP worked.
    pub udp_blocked: bool,
    /// Whether the primary server supports RFC 5780 (OTHER-ADDRESS).
    pub rfc5780: bool,
    /// The server the behaviour tests ran against.
    pub primary_server: Option<String>,
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

/// One STUN server as asked.
#[derive(Debug, Clone, Serialize)]
pub struct ServerReport {
    /// As given (`HOST[:PORT]`).
    pub server: String,
    /// The address used (`ip:port`), null if it did not resolve.
    pub address: Option<String>,
    /// `answered`, `timeout`, `unreachable`, `unresolved`, `error-response` or `cancelled`.
    pub status: String,
    /// Round-trip time of the binding test in ms.
    pub rtt_ms: Option<f64>,
    /// Whether it sent OTHER-ADDRESS (RFC 5780 capable).
    pub rfc5780: bool,
    /// OTHER-ADDRESS it gave.
    pub other_address: Option<String>,
    /// Mapped address it reported for the main socket.
    pub mapped_address: Option<String>,
    /// Its SOFTWARE attribute.
    pub software: Option<String>,
    /// The error (resolution failure, ICMP error, error response), if any.
    pub error: Option<String>,
}

/// One test transaction.
#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    /// Test name: `binding`, `mapping-test-2`, `mapping-test-3`, `filtering-test-2`,
    /// `filtering-test-3`, `hairpinning`, `lifetime-setup-Ns`, `lifetime-check-Ns`,
    /// `tcp-binding`.
    pub test: String,
    /// `udp` or `tcp`.
    pub transport: &'static str,
    /// The server the test concerns.
    pub server: String,
    /// What was sent.
    pub request: TestRequest,
    /// `answered`, `timeout`, `unreachable`, `error-response`, `unusable`, `cancelled`,
    /// `skipped`.
    pub outcome: &'static str,
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
    pub from: Option<String>,
    /// Destination `ip:port`.
    pub to: String,
    /// STUN transaction ID (hex).
    pub transaction_id: String,
    /// CHANGE-REQUEST change-IP flag.
    pub change_ip: bool,
    /// CHANGE-REQUEST change-port flag.
    pub change_port: bool,
    /// RESPONSE-PORT, when sent.
    pub response_port: Option<u16>,
}

/// The response of a test.
#[derive(Debug, Clone, Serialize)]
pub struct TestResponse {
    /// Source `ip:port` of the response.
    pub from: String,
    /// Local `ip:port` it arrived on.
    pub received_on: Option<String>,
    /// XOR-MAPPED-ADDRESS (else MAPPED-ADDRESS).
    pub mapped_address: Option<String>,
    /// OTHER-ADDRESS.
    pub other_address: Option<String>,
    /// RESPONSE-ORIGIN.
    pub response_origin: Option<String>,
    /// ERROR-CODE, e.g. 420.
    pub error_code: Option<u16>,
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
            _ if self.transport == "tcp" => {
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
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
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
        facts.push(("Transport".into(), self.transport.into()));
        facts.push(("RFC 5780 server".into(), opt(&self.primary_server)));
        let ms = |v: Option<f64>| v.map_or("-".into(), |x| format!("{x:.1}"));
        let servers = self
            .servers
            .iter()
            .map(|s| {
                vec![
                    s.server.clone(),
                    opt(&s.address),
                    s.status.clone(),
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
                        t.outcome.to_string(),
                        t.response
                            .as_ref()
                            .map(|r| r.from.clone())
                            .unwrap_or_default(),
                        t.response
                            .as_ref()
                            .and_then(|r| r.mapped_address.clone())
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
        if s.status == "unreachable" {
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
            s.status.as_str(),
            "timeout" | "unresolved" | "error-response"
        ) {
            f.push(Finding::new(
                "SERVER_NOT_ANSWERING",
                Info,
                format!(
                    "{} did not answer ({}); other servers did",
                    s.server,
                    s.error.clone().unwrap_or_else(|| s.status.clone())
                ),
            ));
        }
    }
    match r.nat_detected {
        Some(false) => f.push(Finding::new(
            "NO_NAT",
            Info,
            format!("no NAT: the public address {} is this host's own; SIP and SDP can carry it as is", r.mapped_address.clone().unwrap_or_default()),
        )),
        Some(true) => f.push(Finding::new(
            "NAT_DETECTED",
            Info,
            format!(
                "behind NAT: the Internet sees {} instead of {}; SIP and SDP must carry the public address (STUN, ICE, or the server's rport and media latching)",
                r.mapped_address.clone().unwrap_or_default(),
                r.local_address.clone().unwrap_or_else(|| "the local address".into())
            ),
        )),
        None => {}
    }
    if r.transport == "tcp" {
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
    if let Some(local) = &r.local_address
        && is_cgnat(local)
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

fn is_cgnat(addr: &str) -> bool {
    addr.parse::<std::net::SocketAddr>()
        .is_ok_and(|a| crate::addr::scope(a.ip()) == crate::addr::Scope::Cgnat)
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
