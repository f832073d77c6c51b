//! What the TURN relay test learned, as the report shows it (`result.turn[]` of nat-probe):
//! counts, round trips, permissions, the channel, the hold, the allocations; and the
//! address scopes and peer-policy targets they are judged by.

use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use super::super::allocation::{Allocation, AuthOutcome, Outcome, TransactionRecord};

/// Sent and received counts of one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Packets sent (null when not known: an echo server's own sends).
    pub sent: Option<u32>,
    /// Packets received (null when not observable: what an echo server received).
    pub received: Option<u32>,
}

/// Round-trip times through the relay, in ms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RttMs {
    /// Fastest.
    pub min: f64,
    /// Mean.
    pub avg: f64,
    /// Slowest.
    pub max: f64,
}

/// One round of packets both ways through one mechanism.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Round {
    /// `indication` (Send/Data, RFC 8656 §11) or `channel` (ChannelData, §12).
    pub via: &'static str,
    /// After the hold (`--turn-hold`).
    pub after_hold: bool,
    /// Peer → relay → us.
    pub inbound: Counts,
    /// Us → relay → peer.
    pub outbound: Counts,
    /// Round trips us → relay → peer → relay → us.
    pub rtt_ms: Option<RttMs>,
}

/// The media result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaReport {
    /// `self`, `two-allocations` or `peer`.
    pub strategy: &'static str,
    /// The peer as the relay saw it.
    pub peer_address: Option<SocketAddr>,
    /// Totals over the rounds.
    pub inbound: Counts,
    /// Totals over the rounds.
    pub outbound: Counts,
    /// The mechanisms that carried packets both ways.
    pub via: Vec<&'static str>,
    /// Over every round.
    pub rtt_ms: Option<RttMs>,
    /// Packets lost over both directions, in % of those sent (when both are known).
    pub loss_pct: Option<f64>,
    /// Each round.
    pub rounds: Vec<Round>,
}

/// One permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PermissionReport {
    /// The peer IP.
    pub peer: IpAddr,
    /// `media-peer` or the audited address class (`loopback`, `rfc1918`, …).
    pub purpose: &'static str,
    /// `accepted`, `refused` or `no-answer`.
    pub outcome: &'static str,
    /// ERROR-CODE when refused.
    pub error_code: Option<u16>,
}

/// The channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelReport {
    /// Channel number.
    pub number: u16,
    /// Bound peer.
    pub peer: SocketAddr,
    /// `bound`, `refused` or `no-answer`.
    pub outcome: &'static str,
    /// ERROR-CODE when refused.
    pub error_code: Option<u16>,
}

/// The hold (`--turn-hold`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefreshReport {
    /// How long the allocation was held, in s.
    pub hold_s: u64,
    /// Refresh requests that succeeded.
    pub allocation_refreshes: u32,
    /// Permission refreshes that succeeded.
    pub permission_refreshes: u32,
    /// Channel refreshes that succeeded.
    pub channel_refreshes: u32,
    /// `ok`, `lost` (437 after a NAT rebinding), `failed` or `interrupted`.
    pub outcome: &'static str,
    /// ERROR-CODE of the refresh that failed.
    pub error_code: Option<u16>,
}

/// An allocation as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllocationReport {
    /// `allocated`, `error`, `no-answer`, `unreachable` or `not-tried`.
    pub outcome: &'static str,
    /// ERROR-CODE of the failure.
    pub error_code: Option<u16>,
    /// Reason phrase or what failed.
    pub reason: Option<String>,
    /// XOR-RELAYED-ADDRESS.
    pub relayed_address: Option<SocketAddr>,
    /// `public`, `private`, `cgnat`, `loopback`, `link-local` ([`crate::addr::Scope`]).
    pub relayed_scope: Option<&'static str>,
    /// XOR-MAPPED-ADDRESS.
    pub mapped_address: Option<SocketAddr>,
    /// LIFETIME in s.
    pub lifetime_s: Option<u32>,
    /// SOFTWARE.
    pub software: Option<String>,
}

/// Everything the machine learned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TurnOutcome {
    /// How authentication went (the report shows it under `auth`).
    #[serde(skip)]
    pub auth_outcome: AuthOutcome,
    /// REALM (under `auth`).
    #[serde(skip)]
    pub realm: Option<String>,
    /// RFC 8489 password algorithm used (`sha256`, `md5`), null for the classic
    /// MESSAGE-INTEGRITY (RFC 5389 key, HMAC-SHA1) (under `auth`).
    #[serde(skip)]
    pub password_algorithm: Option<crate::stun::integrity::PasswordAlgorithm>,
    /// 438 Stale Nonce answers seen (and retried).
    pub stale_nonces: u32,
    /// The allocation.
    pub allocation: AllocationReport,
    /// The second allocation (two-allocations strategy).
    pub second_allocation: Option<AllocationReport>,
    /// Permissions asked for.
    pub permissions: Vec<PermissionReport>,
    /// The channel.
    pub channel: Option<ChannelReport>,
    /// The media test.
    pub media: Option<MediaReport>,
    /// Why the self strategy could not run, if it could not.
    pub self_test_impossible: Option<String>,
    /// ICMP about the relayed address from the peer socket.
    pub relay_unreachable: Option<String>,
    /// The hold.
    pub refresh: Option<RefreshReport>,
    /// The audit.
    pub peer_policy: Vec<PermissionReport>,
    /// Whether every allocation made was deleted (Refresh LIFETIME 0 answered).
    pub deleted: bool,
    /// Every request.
    pub transactions: Vec<TransactionRecord>,
    /// Stopped by Ctrl-C (the report's `status` says so).
    #[serde(skip)]
    pub interrupted: bool,
}

/// The peer addresses `--turn-peer-policy` audits, with their class: loopback, RFC 1918,
/// CGNAT (RFC 6598), link-local, the cloud metadata address, and an IPv6 ULA.
pub fn policy_targets() -> Vec<(IpAddr, &'static str)> {
    vec![
        ([127, 0, 0, 1].into(), "loopback"),
        ([10, 0, 0, 1].into(), "rfc1918"),
        ([172, 16, 0, 1].into(), "rfc1918"),
        ([192, 168, 1, 1].into(), "rfc1918"),
        ([100, 64, 0, 1].into(), "cgnat"),
        ([169, 254, 1, 1].into(), "link-local"),
        ([169, 254, 169, 254].into(), "metadata"),
        (
            "fd00::1"
                .parse::<IpAddr>()
                .unwrap_or(IpAddr::from([0u8; 16])),
            "ula",
        ),
    ]
}

pub(super) fn alloc_report(
    a: &Allocation,
    previous: Option<&AllocationReport>,
) -> AllocationReport {
    if let Some(p) = previous {
        return p.clone();
    }
    if a.relayed.is_some() {
        alloc_report_with(a, &Outcome::Success)
    } else {
        AllocationReport {
            outcome: "not-tried",
            error_code: None,
            reason: None,
            relayed_address: None,
            relayed_scope: None,
            mapped_address: None,
            lifetime_s: None,
            software: a.software_seen.clone(),
        }
    }
}

pub(super) fn alloc_report_with(a: &Allocation, outcome: &Outcome) -> AllocationReport {
    let (o, code, reason) = match outcome {
        Outcome::Success => ("allocated", None, None),
        Outcome::Error(c, r) => ("error", Some(*c), Some(r.clone())),
        Outcome::NoAnswer => ("no-answer", None, None),
        Outcome::Unreachable(r) => ("unreachable", None, Some(r.clone())),
    };
    AllocationReport {
        outcome: o,
        error_code: code,
        reason,
        relayed_address: a.relayed,
        relayed_scope: a.relayed.map(|r| crate::addr::scope(r.ip()).as_str()),
        mapped_address: a.mapped,
        lifetime_s: a.lifetime_s,
        software: a.software_seen.clone(),
    }
}
