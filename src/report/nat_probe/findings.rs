//! The findings of nat-probe: what the NAT's behaviour means for calls, in plain language.

use super::{NatProbeResult, ServerStatus};
use crate::report::{Finding, Severity, Status, opt};
use crate::stun::StunTransport;
use crate::stun::behavior::{FilteringBehavior, MappingBehavior};

/// The findings for a result, in plain language for VoIP.
pub fn findings(r: &NatProbeResult) -> Vec<Finding> {
    let mut f = if r.nat_tested {
        nat_findings(r)
    } else {
        Vec::new()
    };
    if !r.nat_tested && r.interrupted {
        f.push(Finding::new(
            "INTERRUPTED",
            Severity::Warning,
            "interrupted: the result shows only what was learned until then",
        ));
    }
    // What the relay tested here means for the NAT's verdict on calls.
    let relay = match r.relay_verdict {
        super::turn::RelayVerdict::Works => Some(
            "the TURN relay tested here carries media both ways, so calls that use it will have audio",
        ),
        super::turn::RelayVerdict::WorksOverTcpOnly => Some(
            "the TURN relay tested here carries media both ways over TCP/TLS, so calls that use it that way will have audio",
        ),
        super::turn::RelayVerdict::Fails => {
            Some("the TURN relay tested here does not carry media (see its findings)")
        }
        super::turn::RelayVerdict::NotTested => None,
    };
    if let Some(relay) = relay {
        for x in f
            .iter_mut()
            .filter(|x| matches!(x.code, "SYMMETRIC_NAT" | "UDP_BLOCKED"))
        {
            x.message = format!("{}; {relay}", x.message);
        }
    }
    f.extend(super::turn::turn_findings(&r.turn));
    f
}

fn nat_findings(r: &NatProbeResult) -> Vec<Finding> {
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
        let unresolved: Vec<String> = r
            .servers
            .iter()
            .filter(|s| s.status == ServerStatus::Unresolved)
            .map(|s| match &s.error {
                Some(e) => format!("{} ({e})", s.server),
                None => s.server.to_string(),
            })
            .collect();
        if !unresolved.is_empty() && unresolved.len() == r.servers.len() {
            // Nothing was sent: blaming the servers would be wrong.
            f.push(Finding::new(
                "NAMES_UNRESOLVED",
                Critical,
                format!(
                    "no STUN server name resolved, so nothing was sent: {}. Check this host's DNS (resolver settings, network), or give --server with an IP address",
                    unresolved.join("; ")
                ),
            ));
        } else if !r.interrupted {
            let also = if unresolved.is_empty() {
                String::new()
            } else {
                format!(
                    " (and these names did not resolve: {})",
                    unresolved.join("; ")
                )
            };
            f.push(Finding::new(
                "NO_ANSWER",
                Critical,
                format!(
                    "no STUN server answered over UDP or TCP: the servers may be down or unreachable, or all outbound traffic is blocked{also}"
                ),
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
    let turn_silent = !r.turn.is_empty() && r.turn.iter().all(|t| t.status == "no-answer");
    let nat_silent = r.nat_tested && r.mapped_address.is_none() && !r.udp_blocked;
    if (nat_silent && (r.turn.is_empty() || turn_silent)) || (!r.nat_tested && turn_silent) {
        return Status::NoAnswer;
    }
    if findings.iter().any(|f| f.severity == Severity::Critical) {
        Status::Problem
    } else {
        Status::Ok
    }
}
