//! The findings of the TURN relay test: each names the cause the evidence shows.

use super::TurnReport;
use crate::report::{Finding, Severity, opt};
use crate::stun::turn::allocation::AuthOutcome;
use crate::stun::turn::probe::{AllocationReport, PermissionReport};
use crate::stun::turn::uri::TurnTransport;

/// The cause a finding names, in a few words for the verdict line.
pub(super) fn short_cause(code: &str) -> String {
    match code {
        "TURN_AUTH_FAILED" => "credentials refused (401)",
        "TURN_REST_EXPIRED" => "TURN REST credential expired",
        "TURN_NO_CREDENTIALS" => "server requires credentials, none given",
        "TURN_OPEN_RELAY" => "open relay (no authentication)",
        "TURN_STALE_NONCE" => "stale nonce (438) not resolved",
        "TURN_ALLOCATION_LOST" => "allocation lost (437 after a NAT rebinding)",
        "TURN_ALLOCATION_MISMATCH" => "allocation mismatch (437)",
        "TURN_QUOTA_REACHED" => "allocation quota reached (486)",
        "TURN_INSUFFICIENT_CAPACITY" => "no relay ports left (508)",
        "TURN_PEER_FORBIDDEN" => "peer forbidden (403)",
        "TURN_RELAY_ADDRESS_PRIVATE" => "relayed address is private",
        "TURN_RELAY_UNREACHABLE" => "relayed address unreachable",
        "TURN_CHANNEL_FAILED" => "channels fail (indications work)",
        "TURN_UDP_UNREACHABLE" => "UDP to the server blocked",
        "TURN_SERVER_UNREACHABLE" => "server unreachable",
        "TURN_TLS_CERT_INVALID" => "TLS certificate invalid",
        "TURN_IPV6_UNSUPPORTED" => "no IPv6 relaying (440)",
        "TURN_SELF_TEST_IMPOSSIBLE" => "cannot test from this host alone",
        "TURN_MEDIA_STOPPED" => "media stopped after the hold",
        "TURN_REFRESH_FAILED" => "refresh failed",
        "TURN_PERMISSIVE_PEER_POLICY" => "internal peers allowed",
        other => return other.to_ascii_lowercase().replace('_', " "),
    }
    .to_string()
}

/// The findings of every TURN URI.
pub fn turn_findings(reports: &[TurnReport]) -> Vec<Finding> {
    let mut out = Vec::new();
    for t in reports {
        out.extend(turn_findings_one(t, reports));
    }
    out
}

fn error_is(a: &AllocationReport, code: u16) -> bool {
    a.outcome == "error" && a.error_code == Some(code)
}

/// The findings of one URI; `all` lets a UDP failure be judged against the other transports.
pub(super) fn turn_findings_one(t: &TurnReport, all: &[TurnReport]) -> Vec<Finding> {
    use Severity::{Critical, Info, Warning};
    let mut f = Vec::new();
    let u = &t.target.uri;
    let other_works = all
        .iter()
        .any(|o| o.status == "works" && o.target.transport != t.target.transport);
    if t.auth.rest_expired {
        f.push(Finding::new(
            "TURN_REST_EXPIRED",
            Critical,
            format!(
                "{u}: the TURN REST user name {} expired at {} (Unix time) before the test started: ask the credential service for a fresh one, or check this host's clock",
                opt(&t.auth.username),
                t.auth.rest_expiry.unwrap_or_default()
            ),
        ));
    }
    if let Some(tls) = &t.target.tls
        && let Some(e) = &tls.error
    {
        f.push(Finding::new(
                "TURN_TLS_CERT_INVALID",
                Critical,
                format!(
                    "{u}: the TLS connection failed: {e}. WebRTC clients refuse such a relay; fix the certificate (name, chain, expiry) or trust its CA with --ca-file"
                ),
            ));
        return f;
    }
    if let Some(e) = &t.target.error {
        if t.target.tls.as_ref().is_none_or(|x| x.error.is_none()) {
            f.push(Finding::new(
                "TURN_SERVER_UNREACHABLE",
                if other_works { Warning } else { Critical },
                format!("{u}: {e}"),
            ));
        }
        return f;
    }
    let a = &t.learned.allocation;
    match a.outcome {
        "no-answer" | "unreachable" => {
            let why = a
                .reason
                .clone()
                .unwrap_or_else(|| "no answer to Allocate within the timeout".into());
            if t.target.transport == TurnTransport::Udp && other_works {
                f.push(Finding::new(
                    "TURN_UDP_UNREACHABLE",
                    Warning,
                    format!(
                        "{u}: {why}, while the relay works over TCP/TLS: UDP to the server is blocked on this network; clients fall back to TURN over TCP/TLS (more latency under loss)"
                    ),
                ));
            } else {
                f.push(Finding::new(
                    "TURN_SERVER_UNREACHABLE",
                    Critical,
                    format!(
                        "{u}: {why}. Fits: the server is down or not listening on this transport and port, or a firewall drops the traffic"
                    ),
                ));
            }
            return f;
        }
        _ => {}
    }
    match t.auth.outcome {
        AuthOutcome::Rejected => {
            let rest = if t.auth.mechanism == "rest" {
                " For a TURN REST credential this also means a shared secret that differs from the server's (--static-auth-secret), or an expired user name."
            } else {
                ""
            };
            f.push(Finding::new(
                "TURN_AUTH_FAILED",
                Critical,
                format!(
                    "{u}: the server refused the credential of user {} in realm {} (401 after MESSAGE-INTEGRITY). A wrong user name, a wrong password and a badly signed REST credential look the same on the wire.{rest}",
                    opt(&t.auth.username),
                    opt(&t.auth.realm)
                ),
            ));
            return f;
        }
        AuthOutcome::NoCredentials => {
            f.push(Finding::new(
                "TURN_NO_CREDENTIALS",
                Critical,
                format!(
                    "{u}: the server requires authentication (realm {}) and no credential was given: use --turn-user with a password, --turn-secret-file, or --ice-servers",
                    opt(&t.auth.realm)
                ),
            ));
            return f;
        }
        AuthOutcome::NotRequired => f.push(Finding::new(
            "TURN_OPEN_RELAY",
            Warning,
            format!(
                "{u}: the server allocated a relay without asking for credentials: anyone can relay traffic through it (abuse, cost, attacks on its internal network); enable authentication (coturn: --lt-cred-mech or --use-auth-secret)"
            ),
        )),
        _ => {}
    }
    if error_is(a, 438) {
        f.push(Finding::new(
            "TURN_STALE_NONCE",
            Critical,
            format!(
                "{u}: the server kept answering 438 Stale Nonce after {} retries with its new nonces",
                t.learned.stale_nonces
            ),
        ));
    } else if t.learned.stale_nonces > 0 {
        f.push(Finding::new(
            "TURN_STALE_NONCE",
            Info,
            format!(
                "{u}: the server rotated its nonce ({} × 438 Stale Nonce); the request was repeated with the new nonce, as RFC 8656 §7.2 asks",
                t.learned.stale_nonces
            ),
        ));
    }
    for (alloc, which) in [
        (Some(a), "the allocation"),
        (
            t.learned.second_allocation.as_ref(),
            "the second allocation",
        ),
    ] {
        let Some(al) = alloc else { continue };
        if al.outcome != "error" {
            continue;
        }
        let reason = al.reason.clone().unwrap_or_default();
        let (code, text) = match al.error_code {
            Some(486) => (
                "TURN_QUOTA_REACHED",
                format!(
                    "{u}: {which} was refused: 486 {reason}: this user already holds the allocations the server allows{}. Leftover allocations of earlier runs expire after their lifetime (coturn frees a deleted one about 1 s later)",
                    if which == "the second allocation" {
                        " (the two-allocations test needs two); the relay itself allocates"
                    } else {
                        ""
                    }
                ),
            ),
            Some(508) => (
                "TURN_INSUFFICIENT_CAPACITY",
                format!(
                    "{u}: {which} was refused: 508 {reason}: the server has no relay port left (its port range is used up); calls through it fail until ports are freed"
                ),
            ),
            Some(437) => (
                "TURN_ALLOCATION_MISMATCH",
                format!(
                    "{u}: 437 Allocation Mismatch to Allocate: the server already holds an allocation for this 5-tuple (an earlier run from the same local port that was not deleted); it expires after its lifetime"
                ),
            ),
            Some(440) => (
                "TURN_IPV6_UNSUPPORTED",
                format!(
                    "{u}: 440 Address Family not Supported for an {} relayed address: the server cannot relay this family",
                    t.target.family
                ),
            ),
            Some(401 | 438) => continue,
            Some(c) => (
                "TURN_ALLOCATION_FAILED",
                format!("{u}: {which} was refused: {c} {reason}"),
            ),
            None => (
                "TURN_ALLOCATION_FAILED",
                format!("{u}: {which} failed: {reason}"),
            ),
        };
        let ipv4_works = all.iter().any(|o| {
            o.target.uri == t.target.uri && o.target.family == "ipv4" && o.status == "works"
        });
        let severity = if code == "TURN_IPV6_UNSUPPORTED" && (other_works || ipv4_works) {
            Warning
        } else {
            Critical
        };
        f.push(Finding::new(code, severity, text));
    }
    if a.outcome != "allocated" {
        return f;
    }
    if let (Some(scope), Some(relayed)) = (a.relayed_scope, a.relayed_address) {
        let server_public = t
            .target
            .server_address
            .is_some_and(|s| crate::addr::scope(s.ip()) == crate::addr::Scope::Public);
        if scope != "public" && server_public {
            f.push(Finding::new(
                "TURN_RELAY_ADDRESS_PRIVATE",
                Critical,
                format!(
                    "{u}: the relayed address {relayed} is {scope} although the server is reached at a public address: peers on the Internet cannot send to it, so calls through this relay have no audio; set the server's external address (coturn: --external-ip PUBLIC/PRIVATE) or --relay-ip"
                ),
            ));
        } else if scope != "public" {
            f.push(Finding::new(
                "TURN_RELAY_ADDRESS_PRIVATE",
                Info,
                format!(
                    "{u}: the relayed address {relayed} is {scope}: only peers that can reach that network can use it"
                ),
            ));
        }
    }
    let forbidden: Vec<&PermissionReport> = t
        .learned
        .permissions
        .iter()
        .filter(|p| p.outcome == "refused")
        .collect();
    let media_ok = t.learned.media.as_ref().is_some_and(|m| !m.via.is_empty());
    for p in &forbidden {
        f.push(Finding::new(
            "TURN_PEER_FORBIDDEN",
            if media_ok { Info } else { Critical },
            format!(
                "{u}: CreatePermission for peer {} was refused ({}){}",
                p.peer,
                p.error_code.map_or("no code".into(), |c| c.to_string()),
                if p.error_code == Some(403) {
                    ": the server's peer policy forbids that address (coturn --denied-peer-ip, or a peer address that is its own or private)"
                } else {
                    ""
                }
            ),
        ));
    }
    if let Some(why) = &t.learned.self_test_impossible {
        let fell_back = t
            .learned
            .media
            .as_ref()
            .is_some_and(|m| m.strategy == "two-allocations");
        f.push(Finding::new(
            "TURN_SELF_TEST_IMPOSSIBLE",
            if fell_back { Info } else { Critical },
            format!(
                "{u}: this host cannot act as its own peer ({why}){}",
                if fell_back {
                    "; two allocations relayed to each other instead"
                } else {
                    "; try --turn-peer two or a UDP echo server"
                }
            ),
        ));
    }
    if let Some(m) = &t.learned.media {
        let got = |c: &crate::stun::turn::probe::Counts| c.received.unwrap_or(0);
        if media_ok {
            let rtt = m.rtt_ms.map_or(String::new(), |r| {
                format!(
                    ", round trip {:.1}/{:.1}/{:.1} ms min/avg/max",
                    r.min, r.avg, r.max
                )
            });
            f.push(Finding::new(
                "TURN_RELAY_OK",
                Info,
                format!(
                    "{u}: the relay carried media both ways ({} via {}): in {}/{}, out {}/{}{rtt}, loss {}%",
                    m.strategy,
                    m.via.join(" and "),
                    opt(&m.inbound.received),
                    opt(&m.inbound.sent),
                    opt(&m.outbound.received),
                    opt(&m.outbound.sent),
                    opt(&m.loss_pct),
                ),
            ));
        } else {
            let inbound: u32 = m.rounds.iter().map(|r| got(&r.inbound)).sum();
            let outbound: u32 = m.rounds.iter().map(|r| got(&r.outbound)).sum();
            let icmp = t
                .learned
                .relay_unreachable
                .as_ref()
                .map_or(String::new(), |r| format!(" (ICMP: {r})"));
            let text = if inbound == 0 && outbound == 0 {
                format!(
                    "{u}: no packet crossed the relay either way although the allocation and permission succeeded{icmp}. Fits: the relayed address {} is not reachable from here (firewall in front of the relay ports, wrong external address), or the server does not relay to this peer",
                    opt(&a.relayed_address)
                )
            } else if inbound == 0 {
                format!(
                    "{u}: packets sent to the relayed address {} never came out of the relay{icmp}, while the other way worked: the relay ports are not reachable from this network",
                    opt(&a.relayed_address)
                )
            } else {
                format!(
                    "{u}: the relay delivered packets to us but not to the peer {}: the server does not send from the relay to that peer",
                    opt(&m.peer_address)
                )
            };
            f.push(Finding::new("TURN_RELAY_UNREACHABLE", Critical, text));
        }
        let ind_ok = m
            .rounds
            .iter()
            .any(|r| r.via == "indication" && got(&r.inbound) > 0 && got(&r.outbound) > 0);
        let chan_ok = m
            .rounds
            .iter()
            .any(|r| r.via == "channel" && got(&r.inbound) > 0);
        let chan_failed = t
            .learned
            .channel
            .as_ref()
            .is_some_and(|c| c.outcome != "bound")
            || (ind_ok && t.learned.channel.is_some() && !chan_ok);
        if chan_failed {
            let c = t.learned.channel.as_ref();
            f.push(Finding::new(
                "TURN_CHANNEL_FAILED",
                Warning,
                format!(
                    "{u}: ChannelBind {}{}: Send/Data indications work, but clients that use channels (most WebRTC stacks) will have no audio",
                    c.map_or("-".into(), |c| format!("0x{:04x}", c.number)),
                    c.map_or(String::new(), |c| match c.outcome {
                        "bound" => " succeeded but no ChannelData came through".into(),
                        o => format!(" {o}{}", c.error_code.map_or(String::new(), |e| format!(" ({e})"))),
                    })
                ),
            ));
        }
    }
    if let Some(r) = &t.learned.refresh {
        match r.outcome {
            "lost" => f.push(Finding::new(
                "TURN_ALLOCATION_LOST",
                Critical,
                format!(
                    "{u}: during the {} s hold a refresh got 437 Allocation Mismatch: the server no longer knows this 5-tuple. Fits: the NAT gave this host a new public port (a rebinding, e.g. a short UDP timeout or a conntrack flush), or the server dropped the allocation; calls through the relay lose audio when that happens",
                    r.hold_s
                ),
            )),
            "failed" => f.push(Finding::new(
                "TURN_REFRESH_FAILED",
                Critical,
                format!(
                    "{u}: a refresh during the {} s hold failed ({})",
                    r.hold_s,
                    opt(&r.error_code)
                ),
            )),
            _ => {}
        }
        let stopped = t.learned.media.as_ref().is_some_and(|m| {
            m.rounds.iter().any(|x| {
                x.after_hold
                    && (x.inbound.received.unwrap_or(0) == 0
                        || x.outbound.received.unwrap_or(1) == 0)
            })
        });
        if r.outcome == "ok" && stopped {
            f.push(Finding::new(
                "TURN_MEDIA_STOPPED",
                Critical,
                format!(
                    "{u}: the refreshes succeeded, but after the {} s hold packets no longer crossed the relay both ways: the permission or channel was not kept, or the NAT's mapping towards the relay expired (keep-alives needed)",
                    r.hold_s
                ),
            ));
        }
    }
    let open: Vec<String> = t
        .learned
        .peer_policy
        .iter()
        .filter(|p| p.outcome == "accepted")
        .map(|p| format!("{} ({})", p.peer, p.purpose))
        .collect();
    if !open.is_empty() {
        f.push(Finding::new(
            "TURN_PERMISSIVE_PEER_POLICY",
            Warning,
            format!(
                "{u}: the server accepts permissions for internal peers: {}. A TURN user can then reach the server's own network (a known TURN abuse); deny them (coturn: --denied-peer-ip for each range, --no-loopback-peers, --no-multicast-peers)",
                open.join(", ")
            ),
        ));
    }
    if !t.learned.deleted
        && a.outcome == "allocated"
        && t.learned
            .refresh
            .as_ref()
            .is_none_or(|r| r.outcome != "lost")
    {
        f.push(Finding::new(
            "TURN_NOT_DELETED",
            Warning,
            format!(
                "{u}: the allocation could not be deleted (no answer to Refresh with LIFETIME 0); it expires on the server after {} s",
                opt(&a.lifetime_s)
            ),
        ));
    }
    f
}
