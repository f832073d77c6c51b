//! The `sip-options` result: per target, the answer, its timing, what the server is, and how
//! it sees us (NAT, SIP ALG).

use serde::Serialize;

use std::net::SocketAddr;

use super::{Describe, Finding, Section, Severity, Status, dns_section, ms, opt, yes_no};
use crate::dns::resolution::Resolution;
use crate::sip::endpoint::Flow;
use crate::sip::message::Message;
use crate::sip::options::{OptionsOutcome, ProbeRecord};
use crate::sip::reflexive::ReflexiveAddress;
use crate::sip::target::Transport;

/// One OPTIONS transaction.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeReport {
    /// 1-based sequence number.
    pub seq: u32,
    /// Final status code, `None` when unanswered.
    pub status_code: Option<u16>,
    /// Reason phrase.
    pub reason: Option<String>,
    /// From the first transmission to the final response, ms.
    pub rtt_ms: Option<f64>,
    /// Requests sent (1 + retransmissions).
    pub transmissions: u32,
    /// A transport error that ended the probe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Ping-like statistics over the probes of one target (ms).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Probes sent.
    pub sent: u32,
    /// Probes with a final response.
    pub received: u32,
    /// Unanswered share, percent.
    pub loss_percent: f64,
    /// RTT minimum, ms.
    pub min_ms: Option<f64>,
    /// RTT mean, ms.
    pub avg_ms: Option<f64>,
    /// RTT maximum, ms.
    pub max_ms: Option<f64>,
    /// RTT population standard deviation, ms.
    pub stddev_ms: Option<f64>,
}

impl From<&ProbeRecord> for ProbeReport {
    fn from(p: &ProbeRecord) -> Self {
        ProbeReport {
            seq: p.seq,
            status_code: p.status_code,
            reason: p.reason.clone(),
            rtt_ms: p.rtt.map(ms),
            transmissions: p.transmissions,
            error: p.error.clone(),
        }
    }
}

impl Stats {
    /// Computes the statistics of `probes`.
    pub fn of(probes: &[ProbeReport]) -> Stats {
        let rtts: Vec<f64> = probes.iter().filter_map(|p| p.rtt_ms).collect();
        let sent = probes.len() as u32;
        let received = rtts.len() as u32;
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        let mut s = Stats {
            sent,
            received,
            loss_percent: if sent == 0 {
                0.0
            } else {
                round(100.0 * f64::from(sent - received) / f64::from(sent))
            },
            ..Stats::default()
        };
        if !rtts.is_empty() {
            let n = rtts.len() as f64;
            let avg = rtts.iter().sum::<f64>() / n;
            let var = rtts.iter().map(|r| (r - avg).powi(2)).sum::<f64>() / n;
            s.min_ms = Some(round(rtts.iter().copied().fold(f64::INFINITY, f64::min)));
            s.max_ms = Some(round(rtts.iter().copied().fold(0.0, f64::max)));
            s.avg_ms = Some(round(avg));
            s.stddev_ms = Some(round(var.sqrt()));
        }
        s
    }
}

impl ProbeReport {
    /// The `--json-lines` line for this probe of `target`.
    pub fn json_line(&self, target: &str) -> String {
        serde_json::json!({"target": target, "probe": self}).to_string()
    }
}

/// Everything learned about one target.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TargetReport {
    /// The target as given.
    pub target: String,
    /// Request-URI sent.
    pub request_uri: String,
    /// Server address used (`ip:port`).
    pub address: Option<SocketAddr>,
    /// Transport used.
    pub transport: Option<Transport>,
    /// Our address of the flow.
    pub local_address: Option<SocketAddr>,
    /// TLS version, for TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_version: Option<String>,
    /// Last final status code.
    pub status_code: Option<u16>,
    /// Its reason phrase.
    pub reason: Option<String>,
    /// RTT of the last answered probe, ms.
    pub rtt_ms: Option<f64>,
    /// Server header.
    pub server: Option<String>,
    /// User-Agent header (some servers send this instead of Server).
    pub user_agent: Option<String>,
    /// Allow values.
    pub allow: Vec<String>,
    /// Supported values.
    pub supported: Vec<String>,
    /// Accept values.
    pub accept: Vec<String>,
    /// Top Via `received` of the response.
    pub received: Option<String>,
    /// Top Via `rport` of the response.
    pub rport: Option<u16>,
    /// Whether the server saw another address than ours; `null` when it cannot be told.
    pub nat_detected: Option<bool>,
    /// The address the server saw (`ip:port`).
    pub public_address: Option<SocketAddr>,
    /// Whether a SIP ALG rewrote our Via: `null` when not checked or not checkable.
    pub sip_alg_detected: Option<bool>,
    /// What the server saw for the ALG check's host-name Via (`ip:port`).
    pub alg_check_address: Option<SocketAddr>,
    /// Every probe.
    pub probes: Vec<ProbeReport>,
    /// Statistics over the probes.
    pub stats: Stats,
    /// RFC 3263 resolution.
    pub resolution: Resolution,
    /// Why the target could not be reached, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Finding code for the error.
    #[serde(skip)]
    pub error_code: Option<&'static str>,
    /// Probes that answered only after retransmission.
    #[serde(skip)]
    pub retransmitted: u32,
}

impl TargetReport {
    /// Fills the report from the OPTIONS machine's outcome over `flow` (the first lane).
    pub fn fill(&mut self, flow: &Flow, o: &OptionsOutcome) {
        self.probes = o.probes.iter().map(ProbeReport::from).collect();
        self.retransmitted = o.retransmitted;
        if let Some(m) = &o.last_answer {
            self.fill_from_answer(m, flow.local);
        }
        self.stats = Stats::of(&self.probes);
        self.rtt_ms = self.probes.iter().rev().find_map(|p| p.rtt_ms);
        if let Some(p) = self.probes.iter().rev().find(|p| p.status_code.is_some()) {
            self.status_code = p.status_code;
            self.reason.clone_from(&p.reason);
        }
        if let Some(alg) = &o.alg
            && let Some(seen) = alg.seen
        {
            self.alg_check_address = Some(seen);
            self.sip_alg_detected = alg.alg_detected();
            // The host-name view is the true one.
            self.nat_detected = Some(seen != flow.local);
            self.public_address = Some(seen);
        }
    }

    /// What the server's answer says about it and about us.
    fn fill_from_answer(&mut self, m: &Message, local: SocketAddr) {
        let list = |name: &str| {
            m.headers_named(name)
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        self.server = m.header("Server").map(str::to_string);
        self.user_agent = m.header("User-Agent").map(str::to_string);
        self.allow = list("Allow");
        self.supported = list("Supported");
        self.accept = list("Accept");
        let view = ReflexiveAddress::from_response(m);
        self.received.clone_from(&view.received);
        self.rport = view.rport;
        self.nat_detected = view.nat_detected(local);
        self.public_address = view.seen;
    }
}

/// The `result` of `sip-options`.
#[derive(Debug, Clone, Serialize)]
pub struct SipOptionsResult {
    /// One entry per target, in the order given.
    pub targets: Vec<TargetReport>,
    /// Whether Ctrl-C ended the run early.
    pub interrupted: bool,
}

/// Findings of a run.
pub fn findings(result: &SipOptionsResult) -> Vec<Finding> {
    let mut out = Vec::new();
    if result.interrupted {
        out.push(Finding::new(
            "INTERRUPTED",
            Severity::Info,
            "interrupted (Ctrl-C): the report shows the probes done so far",
        ));
    }
    for t in &result.targets {
        let who = &t.target;
        if let (Some(code), Some(e)) = (t.error_code, &t.error) {
            out.push(Finding::new(
                code,
                Severity::Critical,
                format!("{who}: {e}"),
            ));
            continue;
        }
        let icmp = t.probes.iter().find_map(|p| p.error.as_ref());
        match t.status_code {
            // ICMP (or a failed send) ended the wait: say so, it is not a server that
            // stayed silent.
            None if icmp.is_some() => out.push(Finding::new(
                "SIP_UNREACHABLE",
                Severity::Critical,
                format!(
                    "{who}: {}: nothing listens for SIP there (wrong port or transport, or the server is down), or the host cannot be reached",
                    icmp.map_or("", String::as_str)
                ),
            )),
            None => out.push(Finding::new(
                "SIP_NO_ANSWER",
                Severity::Critical,
                format!(
                    "{who}: no response to OPTIONS within the timeout ({} requests sent to {})",
                    t.probes.iter().map(|p| p.transmissions).sum::<u32>(),
                    t.address.map_or_else(|| "?".into(), |a| a.to_string())
                ),
            )),
            Some(c) if !(200..300).contains(&c) => out.push(Finding::new(
                "SIP_ERROR_RESPONSE",
                Severity::Critical,
                format!(
                    "{who}: the server answered {c} {}",
                    t.reason.as_deref().unwrap_or("")
                ),
            )),
            Some(_) => {}
        }
        if t.stats.sent > 1 && t.stats.received < t.stats.sent && t.stats.received > 0 {
            out.push(Finding::new(
                "SIP_PROBE_LOSS",
                Severity::Warning,
                format!(
                    "{who}: {} of {} probes unanswered ({}% loss)",
                    t.stats.sent - t.stats.received,
                    t.stats.sent,
                    t.stats.loss_percent
                ),
            ));
        }
        if t.retransmitted > 0 {
            out.push(Finding::new(
                "SIP_RETRANSMISSIONS",
                Severity::Warning,
                format!(
                    "{who}: {} probe(s) were answered only after retransmission: packet loss \
                     on the path",
                    t.retransmitted
                ),
            ));
        }
        if t.sip_alg_detected == Some(true) {
            out.push(Finding::new(
                "SIP_ALG_DETECTED",
                Severity::Warning,
                format!(
                    "{who}: a SIP ALG on the path rewrites our Via: the server really sees us \
                     as {} but the answer was rewritten to look like no NAT. ALGs often break \
                     registration and audio; switch the SIP ALG (\"SIP helper\", \
                     nf_conntrack_sip) off on the router",
                    t.alg_check_address
                        .map_or_else(|| "?".into(), |a| a.to_string())
                ),
            ));
        }
        if t.nat_detected == Some(true) {
            out.push(Finding::new(
                "NAT_DETECTED",
                Severity::Info,
                format!(
                    "{who}: the server sees us as {} while we are {}: we are behind NAT. Calls \
                     work when the server answers to the source address (rport, RFC 3581) and \
                     the NAT binding is kept open (keep-alives shorter than the NAT timeout)",
                    t.public_address
                        .map_or_else(|| "?".into(), |a| a.to_string()),
                    t.local_address
                        .map_or_else(|| "?".into(), |a| a.to_string())
                ),
            ));
        }
        if t.status_code.is_some() && t.rport.is_none() && t.transport == Some(Transport::Udp) {
            out.push(Finding::new(
                "SIP_RPORT_IGNORED",
                Severity::Warning,
                format!(
                    "{who}: the server did not fill in rport (RFC 3581): behind NAT it may \
                     send responses to a port the NAT does not forward"
                ),
            ));
        }
    }
    out
}

/// Status: every target 2xx → ok; any target silent or unreachable → no answer; otherwise
/// problem.
pub fn status(result: &SipOptionsResult) -> Status {
    if result
        .targets
        .iter()
        .any(|t| t.status_code.is_none() || t.error.is_some())
    {
        Status::NoAnswer
    } else if result
        .targets
        .iter()
        .all(|t| t.status_code.is_some_and(|c| (200..300).contains(&c)))
    {
        Status::Ok
    } else {
        Status::Problem
    }
}

impl Describe for SipOptionsResult {
    fn verdict(&self) -> String {
        let answered: Vec<&TargetReport> = self
            .targets
            .iter()
            .filter(|t| t.status_code.is_some())
            .collect();
        match (answered.len(), self.targets.len()) {
            (0, 1) => format!("{}: no answer", self.targets[0].target),
            (0, _) => "no target answered".into(),
            (1, 1) => {
                let t = answered[0];
                format!(
                    "{} answered {} {} in {} ms{}",
                    t.target,
                    opt(&t.status_code),
                    t.reason.as_deref().unwrap_or(""),
                    t.rtt_ms.map_or("-".into(), |r| format!("{r:.1}")),
                    match t.nat_detected {
                        Some(true) => format!("; behind NAT, seen as {}", opt(&t.public_address)),
                        Some(false) => "; no NAT".into(),
                        None => String::new(),
                    }
                )
            }
            (n, total) => format!("{n} of {total} targets answered"),
        }
    }

    fn sections(&self, verbose: bool) -> Vec<Section> {
        let mut out = Vec::new();
        for t in &self.targets {
            let mut rows = vec![
                (
                    "Status".to_string(),
                    match t.status_code {
                        Some(c) => format!("{c} {}", t.reason.as_deref().unwrap_or("")),
                        None => t.error.clone().unwrap_or_else(|| "no answer".into()),
                    },
                ),
                (
                    "Server address".into(),
                    format!("{} ({})", opt(&t.address), opt(&t.transport)),
                ),
                ("Local address".into(), opt(&t.local_address)),
                (
                    "RTT".into(),
                    t.rtt_ms.map_or("-".into(), |r| format!("{r:.2} ms")),
                ),
                (
                    "Server".into(),
                    t.server
                        .clone()
                        .or(t.user_agent.clone())
                        .unwrap_or("-".into()),
                ),
                ("NAT detected".into(), yes_no(t.nat_detected)),
                ("Seen by server as".into(), opt(&t.public_address)),
                ("SIP ALG detected".into(), yes_no(t.sip_alg_detected)),
            ];
            if !t.allow.is_empty() {
                rows.push(("Allow".into(), t.allow.join(", ")));
            }
            if !t.supported.is_empty() {
                rows.push(("Supported".into(), t.supported.join(", ")));
            }
            if let Some(v) = &t.tls_version {
                rows.push(("TLS".into(), v.clone()));
            }
            if t.stats.sent > 1 {
                let s = &t.stats;
                rows.push((
                    "Probes".into(),
                    format!(
                        "{} sent, {} answered, {}% loss; rtt min/avg/max/stddev = {}/{}/{}/{} ms",
                        s.sent,
                        s.received,
                        s.loss_percent,
                        opt(&s.min_ms),
                        opt(&s.avg_ms),
                        opt(&s.max_ms),
                        opt(&s.stddev_ms)
                    ),
                ));
            }
            out.push(Section::Facts {
                title: t.target.clone(),
                rows,
            });
            if verbose && !t.resolution.queries.is_empty() {
                out.push(dns_section(
                    format!("{}: DNS (RFC 3263)", t.target),
                    &t.resolution.queries,
                ));
            }
        }
        out
    }
}
