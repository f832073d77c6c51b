//! The TURN part of nat-probe's report (`result.turn[]`, `result.relay_verdict`): one entry
//! per URI (and address family), the findings that name why a relay does not carry media,
//! and the human sections.

use std::net::SocketAddr;

use serde::Serialize;

use crate::report::Severity;
use crate::stun::turn::allocation::AuthOutcome;
use crate::stun::turn::probe::{AllocationReport, TurnOutcome};
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
    /// What the command knew: `uri`, `transport`, `family`, `server_address`,
    /// `local_address`, `tls`, `error`.
    #[serde(flatten)]
    pub target: TurnContext,
    /// Authentication.
    pub auth: AuthReport,
    /// host, srflx and relay candidates.
    pub candidates: Vec<Candidate>,
    /// What the relay test learned: `allocation`, `second_allocation`, `permissions`,
    /// `channel`, `media`, `self_test_impossible`, `relay_unreachable`, `refresh`,
    /// `peer_policy`, `stale_nonces`, `deleted`, `transactions`.
    #[serde(flatten)]
    pub learned: TurnOutcome,
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
            .any(|t| works(t) && t.target.transport == TurnTransport::Udp)
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

/// What the command knows besides the machine's outcome (the credential details go to the
/// report's `auth`).
#[derive(Debug, Clone, Serialize)]
pub struct TurnContext {
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
    /// `long-term`, `rest` or `none`.
    #[serde(skip)]
    pub mechanism: &'static str,
    /// USERNAME.
    #[serde(skip)]
    pub username: Option<String>,
    /// REST expiry.
    #[serde(skip)]
    pub rest_expiry: Option<u64>,
    /// Whether it was past at the start.
    #[serde(skip)]
    pub rest_expired: bool,
    /// Why the test could not start (name did not resolve, TLS failed, …).
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
            auth: AuthReport {
                mechanism: ctx.mechanism,
                username: ctx.username.clone(),
                rest_expiry: ctx.rest_expiry,
                rest_expired: ctx.rest_expired,
                realm: o.realm.clone(),
                password_algorithm: o.password_algorithm,
                outcome: o.auth_outcome,
            },
            candidates: candidates
                .into_iter()
                .map(|(kind, address)| Candidate {
                    kind,
                    address,
                    priority: candidate_priority(kind),
                })
                .collect(),
            learned: o,
            target: ctx,
            status,
        }
    }

    /// Short cause for the verdict line: why this URI does not work (or that it does).
    /// `all` are every URI's reports (a UDP failure reads differently when TCP works).
    pub fn cause(&self, all: &[TurnReport]) -> String {
        let found = findings::turn_findings_one(self, all);
        found
            .iter()
            .find(|f| f.severity == Severity::Critical)
            .or_else(|| found.iter().find(|f| f.severity == Severity::Warning))
            .map_or_else(
                || match self.status {
                    "works" => "works".into(),
                    other => other.into(),
                },
                |f| findings::short_cause(f.code),
            )
    }
}

mod findings;
mod render;

pub use findings::turn_findings;
pub use render::sections;
