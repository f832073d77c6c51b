//! The `upnp-map` result: which of UPnP IGD, NAT-PMP and PCP the gateway speaks, what it
//! says its external address is, its mappings, the outcome of an add or delete, and whether
//! a mapping there can make us reachable at all (double NAT).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Serialize;

use super::{Describe, Finding, Section, Severity, Status, ms, opt};
use crate::addr::{Scope, scope};
use crate::stun::binding::CheckOutcome;
use crate::upnp::exchange::ExchangeError;

/// How one protocol's probe went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeOutcome {
    /// It answered.
    Answered,
    /// It answered with an error.
    Error,
    /// Silence within the timeout.
    NoAnswer,
    /// ICMP port unreachable: nothing listens.
    Refused,
}

impl ProbeOutcome {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeOutcome::Answered => "answered",
            ProbeOutcome::Error => "error",
            ProbeOutcome::NoAnswer => "no-answer",
            ProbeOutcome::Refused => "refused",
        }
    }
}

/// One protocol's probe of the gateway.
#[derive(Debug, Clone, Serialize)]
pub struct GatewayProbe {
    /// `upnp`, `natpmp` or `pcp`.
    pub protocol: Protocol,
    /// `answered`, `error` (it answered with an error), `no-answer`, `refused` (ICMP).
    pub outcome: ProbeOutcome,
    /// Time to the answer (or to giving up), ms.
    pub ms: f64,
    /// The external address it gave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_address: Option<IpAddr>,
    /// What it said or why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

pub use crate::upnp::{Action, ActionOutcome, Connection, GatewayInfo, Mapping, Protocol};

/// The result of `upnp-map`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UpnpMapResult {
    /// `status`, `list`, `add` or `delete`.
    pub action: Action,
    /// The protocol used for the action (`upnp`, `natpmp`, `pcp`), `null` when none answered.
    pub protocol: Option<Protocol>,
    /// The protocols that answered.
    pub answered: Vec<Protocol>,
    /// Each protocol asked.
    pub probes: Vec<GatewayProbe>,
    /// The gateway.
    pub gateway: Option<GatewayInfo>,
    /// The address NAT-PMP and PCP asked: `--gateway`, else the default gateway; null when
    /// there is none (UPnP searches by SSDP multicast).
    pub gateway_address: Option<IpAddr>,
    /// The external address the gateway reports.
    pub external_address: Option<IpAddr>,
    /// The gateway said it has no usable external address (UPnP empty string, NAT-PMP
    /// Network Failure, PCP NETWORK_FAILURE / CANNOT_PROVIDE_EXTERNAL).
    pub no_external_address: bool,
    /// The WAN connection (UPnP).
    pub connection: Option<Connection>,
    /// The UPnP step that failed after the gateway answered discovery and its description
    /// (GetExternalIPAddress at the control URL), with what it got; null when none did.
    pub control_error: Option<String>,
    /// Mappings: the gateway's list (UPnP), or the one added.
    pub mappings: Vec<Mapping>,
    /// Why the list is incomplete or some of its text cut (bounds on what a gateway may
    /// make us read); absent when nothing was.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub list_notes: Vec<String>,
    /// add / delete outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<ActionOutcome>,
    /// Double NAT: true, false, or null when it cannot be told.
    pub double_nat: Option<bool>,
    /// The address a STUN server saw (with --stun).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stun_address: Option<IpAddr>,
    /// Why the STUN check failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stun_error: Option<String>,
    /// Our LAN address (towards the gateway).
    pub local_address: Option<IpAddr>,
    /// The bound on each wait, ms.
    pub timeout_ms: u64,
    /// Ctrl-C stopped the command.
    pub interrupted: bool,
}

impl GatewayProbe {
    /// A protocol that could not be asked: no gateway address.
    pub fn no_gateway(protocol: Protocol) -> GatewayProbe {
        GatewayProbe {
            protocol,
            outcome: ProbeOutcome::NoAnswer,
            ms: 0.0,
            external_address: None,
            detail: Some("no default gateway (give --gateway)".into()),
        }
    }

    /// A NAT-PMP or PCP exchange that got no answer after `took`.
    pub fn failed(protocol: Protocol, e: &ExchangeError, took: Duration) -> GatewayProbe {
        GatewayProbe {
            protocol,
            outcome: if *e == ExchangeError::Refused {
                ProbeOutcome::Refused
            } else {
                ProbeOutcome::NoAnswer
            },
            ms: ms(took),
            external_address: None,
            detail: Some(e.to_string()),
        }
    }

    /// An answer with result `code` (0 success) named `name`, after `took`.
    pub fn answered(
        protocol: Protocol,
        code: u16,
        name: &str,
        external_address: Option<IpAddr>,
        took: Duration,
    ) -> GatewayProbe {
        GatewayProbe {
            protocol,
            outcome: if code == 0 {
                ProbeOutcome::Answered
            } else {
                ProbeOutcome::Error
            },
            ms: ms(took),
            external_address: external_address.filter(|_| code == 0),
            detail: Some(format!("{code} {name}")),
        }
    }

    /// UPnP's probe: answered (with its external address and the device's name) or not.
    pub fn upnp(
        answer: Result<(Option<IpAddr>, Option<String>), String>,
        took: Duration,
    ) -> GatewayProbe {
        let (outcome, external_address, detail) = match answer {
            Ok((external, name)) => (ProbeOutcome::Answered, external, name),
            Err(e) => (ProbeOutcome::NoAnswer, None, Some(e)),
        };
        GatewayProbe {
            protocol: Protocol::Upnp,
            outcome,
            ms: ms(took),
            external_address,
            detail,
        }
    }
}

impl UpnpMapResult {
    /// Takes in the probes (and what UPnP said of the gateway): which protocols answered,
    /// the gateway, the external address, and the protocol for the action (UPnP, else PCP,
    /// else NAT-PMP).
    pub fn conclude(
        &mut self,
        gateway_ip: Option<IpAddr>,
        upnp: Option<(&GatewayInfo, &Connection, Option<IpAddr>, bool)>,
    ) {
        self.answered = self
            .probes
            .iter()
            .filter(|p| matches!(p.outcome, ProbeOutcome::Answered | ProbeOutcome::Error))
            .map(|p| p.protocol)
            .collect();
        if let Some((info, connection, _, no_external)) = upnp {
            self.gateway = Some(info.clone());
            self.connection = Some(connection.clone());
            self.no_external_address |= no_external;
        } else if let Some(ip) = gateway_ip.filter(|_| !self.answered.is_empty()) {
            self.gateway = Some(GatewayInfo {
                address: Some(ip),
                ..Default::default()
            });
        }
        self.external_address = upnp
            .and_then(|u| u.2)
            .or_else(|| self.probes.iter().find_map(|p| p.external_address));
        if self.external_address.is_some() {
            self.no_external_address = false;
        }
        // A protocol that answered without an error result first; one that only refused is
        // used when nothing else answered (the action then shows its refusal).
        let order = [Protocol::Upnp, Protocol::Pcp, Protocol::Natpmp];
        let succeeded = |p: &Protocol| {
            self.probes
                .iter()
                .any(|q| q.protocol == *p && q.outcome == ProbeOutcome::Answered)
        };
        self.protocol = order
            .into_iter()
            .find(succeeded)
            .or_else(|| order.into_iter().find(|p| self.answered.contains(p)));
    }
}

/// The address a `--stun` check saw, or why there is none, in words.
///
/// # Errors
/// The check failed: timeout, ICMP, a bad answer, Ctrl-C.
pub fn stun_answer(o: &CheckOutcome, to: SocketAddr, timeout: Duration) -> Result<IpAddr, String> {
    match o {
        CheckOutcome::Answered { message, .. } => message
            .mapped()
            .map(|a| a.ip())
            .ok_or_else(|| "no mapped address".into()),
        CheckOutcome::Timeout => Err(format!("STUN {to}: no answer within {timeout:?}")),
        CheckOutcome::Refused(_) => Err(format!(
            "STUN {to}: port unreachable (nothing listens there)"
        )),
        CheckOutcome::Failed(e) => Err(format!("STUN {to}: {e}")),
        CheckOutcome::Pending | CheckOutcome::Cancelled => Err(format!("STUN {to}: interrupted")),
    }
}

/// Whether the gateway's view means double NAT: an external address that is private or
/// CGNAT, a gateway that says it has none, or a STUN server seeing another address.
pub fn double_nat(r: &UpnpMapResult) -> Option<bool> {
    if let Some(ext) = r.external_address {
        if matches!(scope(ext), Scope::Private | Scope::Cgnat) {
            return Some(true);
        }
        if let Some(stun) = r.stun_address {
            return Some(stun != ext);
        }
        return Some(false);
    }
    if r.no_external_address {
        return Some(true);
    }
    None
}

/// Status: nothing answered → no answer (3); the action failed, every answer was an error
/// result, or double NAT → problem (1).
pub fn status(r: &UpnpMapResult) -> Status {
    if r.answered.is_empty() {
        return Status::NoAnswer;
    }
    if r.outcome.as_ref().is_some_and(|o| !o.ok)
        || only_refusals(r)
        || r.double_nat == Some(true)
        || (r.control_error.is_some() && r.protocol == Some(Protocol::Upnp))
    {
        return Status::Problem;
    }
    Status::Ok
}

/// Every protocol that answered did so with an error result (NAT-PMP or PCP result ≠ 0).
fn only_refusals(r: &UpnpMapResult) -> bool {
    !r.probes.is_empty()
        && r.probes.iter().all(|p| p.outcome != ProbeOutcome::Answered)
        && r.probes.iter().any(|p| p.outcome == ProbeOutcome::Error)
}

/// The findings, in words that say what the result means for calls.
pub fn findings(r: &UpnpMapResult) -> Vec<Finding> {
    let mut out = Vec::new();
    if r.interrupted {
        out.push(Finding::new(
            "INTERRUPTED",
            Severity::Warning,
            "interrupted: the gateway was not asked everything",
        ));
    }
    if r.answered.is_empty() && !r.interrupted {
        let asked: Vec<&str> = r.probes.iter().map(|p| p.protocol.as_str()).collect();
        let refused: Vec<&str> = r
            .probes
            .iter()
            .filter(|p| p.outcome == ProbeOutcome::Refused)
            .map(|p| p.protocol.as_str())
            .collect();
        let at = r
            .gateway_address
            .map_or_else(String::new, |g| format!(" at {g}"));
        if refused.is_empty() {
            out.push(Finding::new(
                "NO_GATEWAY",
                Severity::Critical,
                format!(
                    "no gateway answered{at} ({}) within {} ms: the router has UPnP, NAT-PMP and PCP switched off, or there is no router there; inbound calls need a port forwarded by hand on the router",
                    asked.join(", "),
                    r.timeout_ms
                ),
            ));
        } else {
            // An ICMP port unreachable comes from the host itself: the gateway is there,
            // only the protocols are not (a wrong cause is worse than none).
            out.push(Finding::new(
                "NO_MAPPING_PROTOCOL",
                Severity::Critical,
                format!(
                    "the gateway{at} is there but runs no port-mapping service: it answered {} with ICMP port unreachable (nothing listens), and {} got no answer within {} ms; turn on UPnP IGD, NAT-PMP or PCP on the router, or forward a port by hand — inbound calls need one",
                    refused.join(" and "),
                    asked
                        .iter()
                        .filter(|a| !refused.contains(a))
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" and "),
                    r.timeout_ms
                ),
            ));
        }
        return out;
    }
    if let Some(e) = &r.control_error {
        // The gateway answered: name the step that failed, not the router's absence.
        out.push(Finding::new(
            "UPNP_CONTROL_FAILED",
            Severity::Critical,
            format!(
                "the gateway answered UPnP discovery and served its description, but its control URL failed: {e}; UPnP port mappings through it will fail"
            ),
        ));
    }
    if only_refusals(r) && r.outcome.is_none() {
        let said: Vec<String> = r
            .probes
            .iter()
            .filter(|p| p.outcome == ProbeOutcome::Error)
            .map(|p| {
                format!(
                    "{} {}",
                    p.protocol.as_str(),
                    p.detail.as_deref().unwrap_or("error")
                )
            })
            .collect();
        out.push(Finding::new(
            "GATEWAY_REFUSED",
            Severity::Warning,
            format!(
                "the gateway answered only with errors ({}): it will not map ports for this host (port mapping switched off, or not allowed for this address); inbound calls need a port forwarded by hand or a relay",
                said.join("; ")
            ),
        ));
    }
    if r.double_nat == Some(true) {
        let why = match (r.external_address, r.stun_address) {
            (Some(ext), Some(stun)) if stun != ext && scope(ext) == Scope::Public => format!(
                "the gateway says its external address is {ext}, but the Internet sees {stun}"
            ),
            (Some(ext), stun) => format!(
                "the gateway's external address {ext} is {}{}",
                if scope(ext) == Scope::Cgnat {
                    "in the carrier-grade NAT range 100.64.0.0/10"
                } else {
                    "private"
                },
                stun.map(|s| format!("; the Internet sees {s}"))
                    .unwrap_or_default()
            ),
            (None, Some(stun)) => format!(
                "the gateway reports no public external address while the Internet sees {stun}: its WAN side is private or carrier-grade NAT"
            ),
            (None, None) => "the gateway reports no external address: its WAN side is private or carrier-grade NAT, or its WAN link is down or not configured yet (--stun tells these apart)".to_string(),
        };
        out.push(Finding::new(
            "DOUBLE_NAT",
            Severity::Critical,
            format!(
                "double NAT / carrier-grade NAT: a mapping on this router will not make you reachable from the Internet ({why}); inbound calls need the outer NAT's operator, a public address, or a relay (TURN, an SBC)"
            ),
        ));
    }
    if let Some(o) = &r.outcome {
        if let (false, Some(code)) = (o.ok, o.error_code) {
            let name = o.error.as_deref().unwrap_or("error");
            let meaning = match code {
                718 => {
                    "another mapping already uses this external port; pick another port or delete it"
                }
                606 => {
                    "the gateway refuses the action (UPnP secure mode: only for our own address, or switched off)"
                }
                501 if r.double_nat == Some(true) => {
                    "the gateway cannot forward ports without a public address"
                }
                714 => "there is no such mapping",
                _ => "the gateway refused",
            };
            out.push(Finding::new(
                "MAPPING_FAILED",
                Severity::Warning,
                format!("{} {code} {name}: {meaning}", r.action),
            ));
        }
        for note in &o.notes {
            out.push(Finding::new("MAPPING_NOTE", Severity::Info, note.clone()));
        }
    }
    for note in &r.list_notes {
        out.push(Finding::new(
            "LIST_INCOMPLETE",
            Severity::Warning,
            note.clone(),
        ));
    }
    if !r.answered.is_empty() {
        out.push(Finding::new(
            "GATEWAY_PROTOCOLS",
            Severity::Info,
            format!(
                "the gateway answered {}{}",
                join(&r.answered),
                if r.answered.len() < r.probes.len() {
                    let silent: Vec<&str> = r
                        .probes
                        .iter()
                        .filter(|p| !r.answered.contains(&p.protocol))
                        .map(|p| p.protocol.as_str())
                        .collect();
                    format!("; not {}", silent.join(", "))
                } else {
                    String::new()
                }
            ),
        ));
    }
    if let Some(e) = &r.stun_error {
        out.push(Finding::new(
            "STUN_FAILED",
            Severity::Warning,
            format!("the STUN check failed ({e}): the external address could not be compared"),
        ));
    }
    out
}

fn join(protocols: &[Protocol]) -> String {
    protocols
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Describe for UpnpMapResult {
    fn verdict(&self) -> String {
        if self.answered.is_empty() {
            let at = self
                .gateway_address
                .map_or_else(String::new, |g| format!(" at {g}"));
            if self
                .probes
                .iter()
                .any(|p| p.outcome == ProbeOutcome::Refused)
            {
                return format!(
                    "the gateway{at} runs no port-mapping service (UPnP, NAT-PMP, PCP)"
                );
            }
            return format!("no gateway answered{at} within {} ms", self.timeout_ms);
        }
        let proto = self.protocol.map_or("?", Protocol::as_str);
        let ext = match (self.external_address, self.no_external_address) {
            (Some(e), _) => e.to_string(),
            (None, true) => "none".into(),
            _ => "unknown".into(),
        };
        let dn = match self.double_nat {
            Some(true) => "; DOUBLE NAT",
            _ => "",
        };
        match (&self.outcome, self.action.as_str()) {
            (Some(o), action) => format!(
                "{action} via {proto}: {}; external address {ext}{dn}",
                if o.ok {
                    "done".to_string()
                } else {
                    format!(
                        "failed ({} {})",
                        opt(&o.error_code),
                        o.error.as_deref().unwrap_or("")
                    )
                }
            ),
            (None, "list") => format!(
                "{} mapping(s) via {proto}; external address {ext}{dn}",
                self.mappings.len()
            ),
            _ if only_refusals(self) => format!(
                "gateway answered {} only with errors; external address {ext}{dn}",
                join(&self.answered)
            ),
            _ => format!(
                "gateway answers {}; external address {ext}{dn}",
                join(&self.answered)
            ),
        }
    }

    fn sections(&self, _verbose: bool) -> Vec<Section> {
        let mut out = Vec::new();
        let mut rows = Vec::new();
        if self.gateway.is_none() {
            rows.push((
                "Gateway asked".to_string(),
                self.gateway_address.map_or_else(
                    || "none (no default gateway; UPnP by SSDP multicast only)".into(),
                    |g| g.to_string(),
                ),
            ));
        }
        if let Some(g) = &self.gateway {
            rows.push(("Gateway".to_string(), opt(&g.address)));
            if let Some(n) = &g.device.friendly_name {
                rows.push(("Name".into(), n.clone()));
            }
            let model = [
                &g.device.manufacturer,
                &g.device.model_name,
                &g.device.model_number,
            ]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");
            if !model.is_empty() {
                rows.push(("Model".into(), model));
            }
            if let Some(u) = &g.device.udn {
                rows.push(("UDN".into(), u.clone()));
            }
            if let Some(v) = g.device.igd_version {
                rows.push(("IGD version".into(), v.to_string()));
            }
            if let Some(u) = &g.control_url {
                rows.push(("Control URL".into(), u.clone()));
            }
        }
        rows.push((
            "External address".into(),
            match (self.external_address, self.no_external_address) {
                (Some(e), _) => e.to_string(),
                (None, true) => "none (the gateway has no public address)".into(),
                _ => "-".into(),
            },
        ));
        if let Some(c) = &self.connection {
            rows.push((
                "Connection".into(),
                format!(
                    "{} {} (uptime {} s)",
                    opt(&c.status),
                    opt(&c.connection_type),
                    opt(&c.uptime_s)
                ),
            ));
        }
        if let Some(s) = self.stun_address {
            rows.push(("Seen by STUN as".into(), s.to_string()));
        }
        rows.push(("Double NAT".into(), super::yes_no(self.double_nat)));
        rows.push(("Local address".into(), opt(&self.local_address)));
        out.push(Section::Facts {
            title: "Gateway".into(),
            rows,
        });
        out.push(Section::Table {
            title: "Protocols".into(),
            header: ["Protocol", "Outcome", "ms", "External address", "Detail"]
                .map(String::from)
                .to_vec(),
            rows: self
                .probes
                .iter()
                .map(|p| {
                    vec![
                        p.protocol.to_string(),
                        p.outcome.as_str().to_string(),
                        format!("{:.1}", p.ms),
                        opt(&p.external_address),
                        p.detail.clone().unwrap_or_default(),
                    ]
                })
                .collect(),
        });
        if !self.mappings.is_empty() {
            out.push(Section::Table {
                title: "Port mappings".into(),
                header: [
                    "Protocol",
                    "External",
                    "Internal client",
                    "Internal",
                    "Lease s",
                    "Enabled",
                    "Description",
                ]
                .map(String::from)
                .to_vec(),
                rows: self
                    .mappings
                    .iter()
                    .map(|m| {
                        vec![
                            m.protocol.clone(),
                            m.external_port.to_string(),
                            m.internal_client.clone(),
                            m.internal_port.to_string(),
                            m.lease_s.to_string(),
                            super::yes_no(Some(m.enabled)),
                            m.description.clone(),
                        ]
                    })
                    .collect(),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(ext: Option<&str>, stun: Option<&str>, none: bool) -> UpnpMapResult {
        UpnpMapResult {
            external_address: ext.map(|e| e.parse().unwrap()),
            stun_address: stun.map(|e| e.parse().unwrap()),
            no_external_address: none,
            answered: vec![Protocol::Upnp],
            ..Default::default()
        }
    }

    #[test]
    fn double_nat_rules() {
        assert_eq!(
            double_nat(&with(Some("203.0.113.1"), None, false)),
            Some(false)
        );
        assert_eq!(
            double_nat(&with(Some("100.64.0.2"), None, false)),
            Some(true)
        );
        assert_eq!(
            double_nat(&with(Some("192.168.1.2"), None, false)),
            Some(true)
        );
        assert_eq!(
            double_nat(&with(Some("203.0.113.1"), Some("203.0.113.1"), false)),
            Some(false)
        );
        assert_eq!(
            double_nat(&with(Some("203.0.113.1"), Some("198.51.100.7"), false)),
            Some(true)
        );
        assert_eq!(
            double_nat(&with(None, Some("203.0.113.1"), true)),
            Some(true)
        );
        assert_eq!(double_nat(&with(None, None, false)), None);
        let mut r = with(Some("100.64.0.2"), Some("203.0.113.1"), false);
        r.double_nat = double_nat(&r);
        let f = findings(&r);
        assert_eq!(f[0].code, "DOUBLE_NAT");
        assert!(f[0].message.contains("100.64.0.0/10"), "{}", f[0].message);
        assert!(f[0].message.contains("203.0.113.1"), "{}", f[0].message);
        assert_eq!(status(&r), Status::Problem);
    }

    /// ICMP port unreachable from the gateway proves it is there: the finding names it and
    /// the missing services, never "no gateway answered" or "no router".
    #[test]
    fn a_gateway_that_refuses_is_not_called_absent() {
        let probe = |protocol, outcome| GatewayProbe {
            protocol,
            outcome,
            ms: 3.0,
            external_address: None,
            detail: None,
        };
        let mut r = UpnpMapResult {
            gateway_address: Some("192.0.2.1".parse().unwrap()),
            timeout_ms: 1000,
            probes: vec![
                probe(Protocol::Upnp, ProbeOutcome::NoAnswer),
                probe(Protocol::Natpmp, ProbeOutcome::Refused),
                probe(Protocol::Pcp, ProbeOutcome::Refused),
            ],
            ..Default::default()
        };
        let f = findings(&r);
        assert_eq!(f[0].code, "NO_MAPPING_PROTOCOL");
        assert!(
            f[0].message.contains("192.0.2.1 is there"),
            "{}",
            f[0].message
        );
        assert!(!f[0].message.contains("no router"), "{}", f[0].message);
        assert!(r.verdict().contains("192.0.2.1"), "{}", r.verdict());
        // All silent: no gateway answered, and which address was asked.
        for p in &mut r.probes {
            p.outcome = ProbeOutcome::NoAnswer;
        }
        let f = findings(&r);
        assert_eq!(f[0].code, "NO_GATEWAY");
        assert!(f[0].message.contains("at 192.0.2.1"), "{}", f[0].message);
        assert_eq!(
            r.verdict(),
            "no gateway answered at 192.0.2.1 within 1000 ms"
        );
    }

    /// A gateway whose only answers are error results is a problem, not ok, and the
    /// protocol that succeeded is chosen over one that refused.
    #[test]
    fn error_results_alone_are_not_ok() {
        let took = Duration::from_millis(3);
        let mut r = UpnpMapResult {
            probes: vec![
                GatewayProbe::answered(Protocol::Natpmp, 2, "Not Authorized/Refused", None, took),
                GatewayProbe::answered(Protocol::Pcp, 2, "NOT_AUTHORIZED", None, took),
            ],
            ..Default::default()
        };
        r.conclude(Some("192.168.1.1".parse().unwrap()), None);
        assert_eq!(status(&r), Status::Problem);
        let f = findings(&r);
        assert!(f.iter().any(|f| f.code == "GATEWAY_REFUSED"), "{f:?}");
        assert!(r.verdict().contains("only with errors"), "{}", r.verdict());
        r.probes.push(GatewayProbe::answered(
            Protocol::Natpmp,
            0,
            "Success",
            Some("203.0.113.5".parse().unwrap()),
            took,
        ));
        r.probes.swap_remove(0);
        r.conclude(Some("192.168.1.1".parse().unwrap()), None);
        assert_eq!(r.protocol, Some(Protocol::Natpmp));
        assert_eq!(status(&r), Status::Ok);
    }
}
