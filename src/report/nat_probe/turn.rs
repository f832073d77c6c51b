//! The TURN part of nat-probe's report (`result.turn[]`, `result.relay_verdict`): one entry
//! per URI (and address family), the findings that name why a relay does not carry media,
//! and the human sections.

use std::net::SocketAddr;

use serde::Serialize;

use crate::report::{Finding, Section, Severity, opt};
use crate::stun::turn::allocation::{AuthOutcome, TransactionRecord};
use crate::stun::turn::probe::{
    AllocationReport, ChannelReport, MediaReport, PermissionReport, RefreshReport, TurnOutcome,
};
use crate::stun::turn::uri::TurnTransport;

/// The TLS session of a `turns:` URI.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TlsReport {
    /// Whether the certificate chain and name were verified (false with `--insecure`).
    pub verified: bool,
    /// Protocol version, e.g. `TLSv1_3`.
    pub version: Option<String>,
    /// The certificate's subject (RFC 4514 string).
    pub subject: Option<String>,
    /// The certificate's notAfter, RFC 3339 UTC.
    pub not_after: Option<String>,
    /// Why the handshake or the certificate check failed.
    pub error: Option<String>,
}

/// How we authenticated.
#[derive(Debug, Clone, Serialize)]
pub struct AuthReport {
    /// `long-term`, `rest` or `none`.
    pub mechanism: &'static str,
    /// USERNAME sent (never the password).
    pub username: Option<String>,
    /// Expiry of a REST user name, Unix seconds.
    pub rest_expiry: Option<u64>,
    /// Whether that expiry was already past when the test started.
    pub rest_expired: bool,
    /// REALM the server named.
    pub realm: Option<String>,
    /// RFC 8489 password algorithm (`sha256` with MESSAGE-INTEGRITY-SHA256, or `md5`);
    /// null: the classic MESSAGE-INTEGRITY.
    pub password_algorithm: Option<crate::stun::integrity::PasswordAlgorithm>,
    /// `accepted`, `rejected`, `not-required`, `no-credentials` or `pending`.
    pub outcome: AuthOutcome,
}

/// One ICE candidate the allocation gives (RFC 8445 §5.1.1).
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// `host`, `srflx` or `relay`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Transport address.
    pub address: SocketAddr,
    /// RFC 8445 §5.1.2.1 priority (component 1, local preference 65535).
    pub priority: u32,
}

/// RFC 8445 §5.1.2.1 priority of component 1 with local preference 65535.
pub fn candidate_priority(kind: &str) -> u32 {
    let type_pref: u32 = match kind {
        "host" => 126,
        "srflx" => 100,
        "prflx" => 110,
        _ => 0,
    };
    (type_pref << 24) | (65535 << 8) | 255
}

/// The test of one TURN URI.
#[derive(Debug, Clone, Serialize)]
pub struct TurnReport {
    /// The URI as tested.
    pub uri: String,
    /// `udp`, `tcp` or `tls`.
    pub transport: TurnTransport,
    /// Relayed address family asked for: `ipv4` or `ipv6`.
    pub family: &'static str,
    /// The server's address, null when the name did not resolve.
    pub server_address: Option<SocketAddr>,
    /// Our end of the connection to the server.
    pub local_address: Option<SocketAddr>,
    /// TLS (turns: only).
    pub tls: Option<TlsReport>,
    /// Authentication.
    pub auth: AuthReport,
    /// The allocation.
    pub allocation: AllocationReport,
    /// The second allocation of the two-allocations strategy.
    pub second_allocation: Option<AllocationReport>,
    /// host, srflx and relay candidates.
    pub candidates: Vec<Candidate>,
    /// Permissions asked for the media peer.
    pub permissions: Vec<PermissionReport>,
    /// The channel.
    pub channel: Option<ChannelReport>,
    /// The media test.
    pub media: Option<MediaReport>,
    /// Why the self strategy could not run.
    pub self_test_impossible: Option<String>,
    /// ICMP about the relayed address.
    pub relay_unreachable: Option<String>,
    /// The hold (`--turn-hold`).
    pub refresh: Option<RefreshReport>,
    /// The peer policy audit (`--turn-peer-policy`).
    pub peer_policy: Vec<PermissionReport>,
    /// 438 Stale Nonce answers (each retried).
    pub stale_nonces: u32,
    /// Whether every allocation made was deleted.
    pub deleted: bool,
    /// Every request.
    pub transactions: Vec<TransactionRecord>,
    /// Why the test could not start (name did not resolve, TLS failed, …).
    pub error: Option<String>,
    /// `works` (media both ways), `fails`, `no-answer`, or `interrupted`.
    pub status: &'static str,
}

/// Across every URI: does a relay carry media from here?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RelayVerdict {
    /// A UDP relay carried media both ways.
    Works,
    /// Only over TCP or TLS.
    WorksOverTcpOnly,
    /// No URI carried media both ways.
    Fails,
    /// No `--turn`.
    NotTested,
}

impl RelayVerdict {
    /// From the per-URI reports.
    pub fn of(reports: &[TurnReport]) -> RelayVerdict {
        if reports.is_empty() {
            return RelayVerdict::NotTested;
        }
        let works = |t: &TurnReport| t.status == "works";
        if reports
            .iter()
            .any(|t| works(t) && t.transport == TurnTransport::Udp)
        {
            RelayVerdict::Works
        } else if reports.iter().any(works) {
            RelayVerdict::WorksOverTcpOnly
        } else {
            RelayVerdict::Fails
        }
    }

    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            RelayVerdict::Works => "works",
            RelayVerdict::WorksOverTcpOnly => "works-over-tcp-only",
            RelayVerdict::Fails => "fails",
            RelayVerdict::NotTested => "not-tested",
        }
    }
}

/// What the command knows besides the machine's outcome.
#[derive(Debug, Clone)]
pub struct TurnContext {
    /// The URI.
    pub uri: String,
    /// Its transport.
    pub transport: TurnTransport,
    /// `ipv4` or `ipv6`.
    pub family: &'static str,
    /// Resolved server.
    pub server_address: Option<SocketAddr>,
    /// Our end.
    pub local_address: Option<SocketAddr>,
    /// TLS.
    pub tls: Option<TlsReport>,
    /// `long-term`, `rest` or `none`.
    pub mechanism: &'static str,
    /// USERNAME.
    pub username: Option<String>,
    /// REST expiry.
    pub rest_expiry: Option<u64>,
    /// Whether it was past at the start.
    pub rest_expired: bool,
    /// Why the test could not start.
    pub error: Option<String>,
}

impl TurnReport {
    /// The report of one URI from what the command knew and what the machine learned
    /// (`None` when it could not start).
    pub fn new(ctx: TurnContext, o: Option<TurnOutcome>) -> TurnReport {
        let o = o.unwrap_or_else(|| TurnOutcome {
            auth_outcome: AuthOutcome::Pending,
            realm: None,
            password_algorithm: None,
            stale_nonces: 0,
            allocation: AllocationReport {
                outcome: "not-tried",
                error_code: None,
                reason: ctx.error.clone(),
                relayed_address: None,
                relayed_scope: None,
                mapped_address: None,
                lifetime_s: None,
                software: None,
            },
            second_allocation: None,
            permissions: Vec::new(),
            channel: None,
            media: None,
            self_test_impossible: None,
            relay_unreachable: None,
            refresh: None,
            peer_policy: Vec::new(),
            deleted: false,
            transactions: Vec::new(),
            interrupted: false,
        });
        let mut candidates = Vec::new();
        if let Some(l) = ctx.local_address {
            candidates.push(("host", l));
        }
        if let Some(m) = o.allocation.mapped_address
            && Some(m) != ctx.local_address
        {
            candidates.push(("srflx", m));
        }
        if let Some(r) = o.allocation.relayed_address {
            candidates.push(("relay", r));
        }
        let media_both_ways = o.media.as_ref().is_some_and(|m| !m.via.is_empty());
        let held = o
            .refresh
            .as_ref()
            .is_none_or(|r| matches!(r.outcome, "ok" | "interrupted"));
        let after_hold = o.media.as_ref().is_none_or(|m| {
            m.rounds.iter().filter(|r| r.after_hold).all(|r| {
                r.inbound.received.unwrap_or(0) > 0 && r.outbound.received.unwrap_or(1) > 0
            })
        });
        let status = if media_both_ways && held && after_hold {
            "works"
        } else if o.interrupted {
            "interrupted"
        } else if matches!(o.allocation.outcome, "no-answer" | "unreachable")
            || (ctx.error.is_some()
                && o.transactions.is_empty()
                && ctx.tls.as_ref().is_none_or(|t| t.error.is_none()))
        {
            "no-answer"
        } else {
            "fails"
        };
        TurnReport {
            uri: ctx.uri,
            transport: ctx.transport,
            family: ctx.family,
            server_address: ctx.server_address,
            local_address: ctx.local_address,
            tls: ctx.tls,
            auth: AuthReport {
                mechanism: ctx.mechanism,
                username: ctx.username,
                rest_expiry: ctx.rest_expiry,
                rest_expired: ctx.rest_expired,
                realm: o.realm,
                password_algorithm: o.password_algorithm,
                outcome: o.auth_outcome,
            },
            allocation: o.allocation,
            second_allocation: o.second_allocation,
            candidates: candidates
                .into_iter()
                .map(|(kind, address)| Candidate {
                    kind,
                    address,
                    priority: candidate_priority(kind),
                })
                .collect(),
            permissions: o.permissions,
            channel: o.channel,
            media: o.media,
            self_test_impossible: o.self_test_impossible,
            relay_unreachable: o.relay_unreachable,
            refresh: o.refresh,
            peer_policy: o.peer_policy,
            stale_nonces: o.stale_nonces,
            deleted: o.deleted,
            transactions: o.transactions,
            error: ctx.error,
            status,
        }
    }

    /// Short cause for the verdict line: why this URI does not work (or that it does).
    /// `all` are every URI's reports (a UDP failure reads differently when TCP works).
    pub fn cause(&self, all: &[TurnReport]) -> String {
        let found = turn_findings_one(self, all);
        found
            .iter()
            .find(|f| f.severity == Severity::Critical)
            .or_else(|| found.iter().find(|f| f.severity == Severity::Warning))
            .map_or_else(
                || match self.status {
                    "works" => "works".into(),
                    other => other.into(),
                },
                |f| short_cause(f.code).to_string(),
            )
    }
}

/// The cause a finding names, in a few words for the verdict line.
fn short_cause(code: &str) -> String {
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
fn turn_findings_one(t: &TurnReport, all: &[TurnReport]) -> Vec<Finding> {
    use Severity::{Critical, Info, Warning};
    let mut f = Vec::new();
    let u = &t.uri;
    let other_works = all
        .iter()
        .any(|o| o.status == "works" && o.transport != t.transport);
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
    if let Some(tls) = &t.tls
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
    if let Some(e) = &t.error {
        if t.tls.as_ref().is_none_or(|x| x.error.is_none()) {
            f.push(Finding::new(
                "TURN_SERVER_UNREACHABLE",
                if other_works { Warning } else { Critical },
                format!("{u}: {e}"),
            ));
        }
        return f;
    }
    let a = &t.allocation;
    match a.outcome {
        "no-answer" | "unreachable" => {
            let why = a
                .reason
                .clone()
                .unwrap_or_else(|| "no answer to Allocate within the timeout".into());
            if t.transport == TurnTransport::Udp && other_works {
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
                t.stale_nonces
            ),
        ));
    } else if t.stale_nonces > 0 {
        f.push(Finding::new(
            "TURN_STALE_NONCE",
            Info,
            format!(
                "{u}: the server rotated its nonce ({} × 438 Stale Nonce); the request was repeated with the new nonce, as RFC 8656 §7.2 asks",
                t.stale_nonces
            ),
        ));
    }
    for (alloc, which) in [
        (Some(a), "the allocation"),
        (t.second_allocation.as_ref(), "the second allocation"),
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
                    t.family
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
        let ipv4_works = all
            .iter()
            .any(|o| o.uri == t.uri && o.family == "ipv4" && o.status == "works");
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
            .server_address
            .is_some_and(|s| crate::stun::turn::probe::scope(s.ip()) == "public");
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
        .permissions
        .iter()
        .filter(|p| p.outcome == "refused")
        .collect();
    let media_ok = t.media.as_ref().is_some_and(|m| !m.via.is_empty());
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
    if let Some(why) = &t.self_test_impossible {
        let fell_back = t
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
    if let Some(m) = &t.media {
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
        let chan_failed = t.channel.as_ref().is_some_and(|c| c.outcome != "bound")
            || (ind_ok && t.channel.is_some() && !chan_ok);
        if chan_failed {
            let c = t.channel.as_ref();
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
    if let Some(r) = &t.refresh {
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
        let stopped = t.media.as_ref().is_some_and(|m| {
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
    if !t.deleted
        && a.outcome == "allocated"
        && t.refresh.as_ref().is_none_or(|r| r.outcome != "lost")
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

/// The human sections for the TURN tests.
pub fn sections(reports: &[TurnReport], verbose: bool) -> Vec<Section> {
    let mut out = Vec::new();
    for t in reports {
        let mut rows = vec![
            ("Status".to_string(), t.status.to_string()),
            ("Server".into(), opt(&t.server_address)),
            ("Local address".into(), opt(&t.local_address)),
        ];
        if let Some(tls) = &t.tls {
            rows.push((
                "TLS".into(),
                match &tls.error {
                    Some(e) => format!("failed: {e}"),
                    None => format!(
                        "{}{}{}",
                        tls.version.clone().unwrap_or_default(),
                        if tls.verified {
                            ", verified"
                        } else {
                            ", NOT verified"
                        },
                        tls.subject
                            .as_ref()
                            .map_or(String::new(), |s| format!(", {s}"))
                    ),
                },
            ));
        }
        rows.push((
            "Authentication".into(),
            format!(
                "{}{} {}{}: {}",
                t.auth.mechanism,
                match t.auth.password_algorithm {
                    Some(crate::stun::integrity::PasswordAlgorithm::Sha256) => " (SHA-256)",
                    Some(crate::stun::integrity::PasswordAlgorithm::Md5) => " (RFC 8489 MD5)",
                    None => "",
                },
                opt(&t.auth.username),
                t.auth
                    .realm
                    .as_ref()
                    .map_or(String::new(), |r| format!(" (realm {r})")),
                serde_json::to_value(t.auth.outcome)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            ),
        ));
        let a = &t.allocation;
        rows.push((
            "Allocation".into(),
            match a.outcome {
                "allocated" => format!(
                    "relayed {} ({}), mapped {}, lifetime {} s",
                    opt(&a.relayed_address),
                    a.relayed_scope.unwrap_or("-"),
                    opt(&a.mapped_address),
                    opt(&a.lifetime_s)
                ),
                o => format!(
                    "{o}{}{}",
                    a.error_code.map_or(String::new(), |c| format!(" {c}")),
                    a.reason.as_ref().map_or(String::new(), |r| format!(" {r}"))
                ),
            },
        ));
        if let Some(s) = &a.software {
            rows.push(("Server software".into(), s.clone()));
        }
        if let Some(m) = &t.media {
            rows.push((
                "Media".into(),
                format!(
                    "{}: in {}/{}, out {}/{}, via {}",
                    m.strategy,
                    opt(&m.inbound.received),
                    opt(&m.inbound.sent),
                    opt(&m.outbound.received),
                    opt(&m.outbound.sent),
                    if m.via.is_empty() {
                        "nothing".into()
                    } else {
                        m.via.join(" + ")
                    }
                ),
            ));
            if let Some(r) = m.rtt_ms {
                rows.push((
                    "Round trip via relay".into(),
                    format!(
                        "{:.2} / {:.2} / {:.2} ms (min/avg/max)",
                        r.min, r.avg, r.max
                    ),
                ));
            }
        }
        if let Some(r) = &t.refresh {
            rows.push((
                "Hold".into(),
                format!(
                    "{} s: {} ({} allocation, {} permission, {} channel refreshes)",
                    r.hold_s,
                    r.outcome,
                    r.allocation_refreshes,
                    r.permission_refreshes,
                    r.channel_refreshes
                ),
            ));
        }
        let lost = t.refresh.as_ref().is_some_and(|r| r.outcome == "lost");
        rows.push((
            "Deleted".into(),
            match (t.deleted, lost) {
                (true, _) => "yes",
                (false, true) => "no (lost; it expires on the server)",
                (false, false) => "no",
            }
            .into(),
        ));
        out.push(Section::Facts {
            title: format!("TURN {} ({})", t.uri, t.family),
            rows,
        });
        if !t.peer_policy.is_empty() {
            out.push(Section::Table {
                title: "Peer policy (CreatePermission only)".into(),
                header: ["peer", "class", "server"].map(String::from).to_vec(),
                rows: t
                    .peer_policy
                    .iter()
                    .map(|p| {
                        vec![
                            p.peer.to_string(),
                            p.purpose.to_string(),
                            format!(
                                "{}{}",
                                p.outcome,
                                p.error_code.map_or(String::new(), |c| format!(" ({c})"))
                            ),
                        ]
                    })
                    .collect(),
            });
        }
        if verbose {
            out.push(Section::Table {
                title: "TURN transactions".into(),
                header: ["request", "auth", "answer", "code", "rtt ms", "tx"]
                    .map(String::from)
                    .to_vec(),
                rows: t
                    .transactions
                    .iter()
                    .map(|x| {
                        vec![
                            x.method.clone(),
                            if x.authenticated { "MI" } else { "-" }.into(),
                            x.class.clone(),
                            opt(&x.error_code),
                            x.rtt_ms.map_or("-".into(), |r| format!("{r:.2}")),
                            x.transmissions.to_string(),
                        ]
                    })
                    .collect(),
            });
        }
    }
    out
}
