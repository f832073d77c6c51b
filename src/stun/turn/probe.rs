//! The TURN relay test (RFC 8656) as one sans-IO machine: make an allocation, give it a
//! permission for a peer, and prove that the relay carries RTP-sized packets both ways, first
//! through Send/Data indications, then through a channel; optionally audit which internal
//! peer addresses the server accepts, hold the allocation with refreshes, and always delete
//! it at the end (Refresh with LIFETIME 0, §7.3), on Ctrl-C too.
//!
//! Sockets (driver order): [`SOCKET_CLIENT`] the allocation's socket (UDP, or a TCP/TLS
//! stream to the server), [`SOCKET_PEER`] a second UDP socket that plays the peer in the
//! *self* strategy, [`SOCKET_SECOND`] the socket of the second allocation in the
//! *two-allocations* strategy (same transport as the first).
//!
//! Peers: *self* sends a Binding request from the peer socket first (its public address for
//! the permission, and the proof that UDP to the server works at all: otherwise "UDP
//! blocked" and "relay unreachable" look alike), then the peer socket sends to the relayed
//! address; the address the relay saw it from (XOR-PEER-ADDRESS of the Data indication) is
//! where the client sends back, which also works through an address-and-port-dependent
//! NAT. *two-allocations* has a second allocation play the peer (the only way when UDP is
//! blocked). *peer* sends to a given UDP echo server and counts its echoes.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rand::RngExt;
use rand::rngs::StdRng;
use serde::Serialize;

use super::allocation::{
    Allocation, AllocationEvent, AuthOutcome, Outcome, RequestKind, RequestedFamily,
    TransactionRecord,
};
use super::channel::FIRST_CHANNEL;
use super::credential::Credentials;
use crate::machine::{Input, Machine, SocketId, Transmit};
use crate::rtp::stats::round_ms;
use crate::stun::message::{BindingRequest, decode, encode_binding_request};
use crate::stun::transaction::{Action, ClientTransaction, new_transaction_id};

/// The allocation's socket.
pub const SOCKET_CLIENT: SocketId = 0;
/// The self strategy's peer socket (UDP).
pub const SOCKET_PEER: SocketId = 1;
/// The second allocation's socket.
pub const SOCKET_SECOND: SocketId = 2;

/// Size of each test packet: an RTP header and 20 ms of G.711 (RFC 3551).
pub const PACKET_LEN: usize = 172;
/// RFC 8656 §9: a permission lasts 300 s; refreshed a minute early.
pub const PERMISSION_REFRESH: Duration = Duration::from_secs(240);
/// RFC 8656 §12: a channel binding lasts 600 s; refreshed a minute early.
pub const CHANNEL_REFRESH: Duration = Duration::from_secs(540);

/// Who plays the peer (`--turn-peer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerStrategy {
    /// Self, then two allocations when self cannot work.
    Auto,
    /// A second local UDP socket.
    SelfPeer,
    /// A second allocation.
    TwoAllocations,
    /// A UDP echo server at this address.
    Peer(SocketAddr),
}

/// What the test does.
#[derive(Debug, Clone)]
pub struct TurnProbeConfig {
    /// The TURN server.
    pub server: SocketAddr,
    /// Where the self strategy's peer socket asks for its public address (STUN over UDP:
    /// the server's UDP port, or 3478 of its address for `turns:`).
    pub stun_server: SocketAddr,
    /// Over TCP/TLS (else UDP).
    pub reliable: bool,
    /// The credential, if any.
    pub credentials: Option<Credentials>,
    /// REQUESTED-ADDRESS-FAMILY.
    pub family: RequestedFamily,
    /// SOFTWARE.
    pub software: String,
    /// Bound of each request (and of the media rounds' grace).
    pub timeout: Duration,
    /// Who plays the peer.
    pub strategy: PeerStrategy,
    /// Packets each way per round.
    pub count: u32,
    /// Packet interval.
    pub interval: Duration,
    /// Peer addresses to audit with CreatePermission only (`--turn-peer-policy`).
    pub peer_policy: Vec<(IpAddr, &'static str)>,
    /// Hold the allocation this long, refreshing it (`--turn-hold`).
    pub hold: Option<Duration>,
}

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
    /// `public`, `private`, `cgnat`, `loopback`, `link-local`.
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
    /// How authentication went.
    pub auth_outcome: AuthOutcome,
    /// REALM.
    pub realm: Option<String>,
    /// RFC 8489 password algorithm used (`sha256`, `md5`), null for the classic
    /// MESSAGE-INTEGRITY (RFC 5389 key, HMAC-SHA1).
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
    /// Stopped by Ctrl-C.
    pub interrupted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Inbound = 1,
    Outbound = 2,
    Echo = 3,
}

#[derive(Debug)]
struct RoundState {
    via_channel: bool,
    after_hold: bool,
    start: Instant,
    peer_sent: u32,
    next_peer: Instant,
    client_sent: u32,
    next_client: Option<Instant>,
    sent_at: Vec<Option<Instant>>,
    inbound: u32,
    outbound: u32,
    echoes: u32,
    rtts: Vec<Duration>,
    end: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Allocating,
    Permitting,
    Media,
    Binding,
    Policy,
    Hold,
    Deleting,
    Done,
}

/// The TURN relay test machine.
pub struct TurnProbe {
    config: TurnProbeConfig,
    rng: StdRng,
    nonce: [u8; 8],
    a: Allocation,
    b: Option<Allocation>,
    strategy: PeerStrategy,
    phase: Phase,
    peer_binding: Option<ClientTransaction>,
    peer_mapped: Option<SocketAddr>,
    peer_binding_failed: Option<String>,
    peer_target: Option<SocketAddr>,
    round: Option<RoundState>,
    rounds: Vec<Round>,
    permissions: Vec<PermissionReport>,
    /// Index in `permissions` where the current strategy's begin.
    perm_from: usize,
    policy: Vec<PermissionReport>,
    channel: Option<ChannelReport>,
    self_impossible: Option<String>,
    relay_unreachable: Option<String>,
    refresh: Option<RefreshReport>,
    hold_until: Option<Instant>,
    next_alloc_refresh: Option<Instant>,
    next_perm_refresh: Option<Instant>,
    next_chan_refresh: Option<Instant>,
    deleted_a: bool,
    deleted_b: bool,
    lost: bool,
    interrupted: bool,
    second_report: Option<AllocationReport>,
    first_report: Option<AllocationReport>,
    rtt_estimate: Duration,
    transmits: VecDeque<Transmit>,
    local: [Option<SocketAddr>; 3],
}

impl std::fmt::Debug for TurnProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnProbe")
            .field("phase", &self.phase)
            .field("a", &self.a)
            .finish_non_exhaustive()
    }
}

/// The scope of an address for the report (`public`, `private`, `cgnat`, `loopback`,
/// `link-local`), after RFC 1918, RFC 6598, RFC 4193 and RFC 4291.
pub fn scope(ip: IpAddr) -> &'static str {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_loopback() {
                "loopback"
            } else if v4.is_link_local() {
                "link-local"
            } else if v4.is_private() {
                "private"
            } else if o[0] == 100 && (o[1] & 0xC0) == 64 {
                "cgnat"
            } else {
                "public"
            }
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            if v6.is_loopback() {
                "loopback"
            } else if s[0] & 0xFFC0 == 0xFE80 {
                "link-local"
            } else if s[0] & 0xFE00 == 0xFC00 {
                "private"
            } else {
                "public"
            }
        }
    }
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

impl TurnProbe {
    /// A test to run from `now`.
    pub fn new(config: TurnProbeConfig, now: Instant, mut rng: StdRng) -> Self {
        let nonce: [u8; 8] = rng.random();
        let a = Allocation::new(
            SOCKET_CLIENT,
            config.server,
            config.reliable,
            config.credentials.clone(),
            config.family,
            config.software.clone(),
            config.timeout,
        );
        let mut p = TurnProbe {
            strategy: config.strategy,
            config,
            rng,
            nonce,
            a,
            b: None,
            phase: Phase::Allocating,
            peer_binding: None,
            peer_mapped: None,
            peer_binding_failed: None,
            peer_target: None,
            round: None,
            rounds: Vec::new(),
            permissions: Vec::new(),
            perm_from: 0,
            policy: Vec::new(),
            channel: None,
            self_impossible: None,
            relay_unreachable: None,
            refresh: None,
            hold_until: None,
            next_alloc_refresh: None,
            next_perm_refresh: None,
            next_chan_refresh: None,
            deleted_a: false,
            deleted_b: false,
            lost: false,
            interrupted: false,
            second_report: None,
            first_report: None,
            rtt_estimate: Duration::from_millis(50),
            transmits: VecDeque::new(),
            local: [None; 3],
        };
        p.a.request(now, RequestKind::Allocate, &mut p.rng);
        match p.strategy {
            PeerStrategy::Auto | PeerStrategy::SelfPeer => p.start_peer_binding(now),
            // The second allocation is made once the first exists (a quota of one then
            // refuses the second, not whichever arrived last).
            PeerStrategy::TwoAllocations => {}
            PeerStrategy::Peer(addr) => p.peer_target = Some(addr),
        }
        p
    }

    /// Tells the machine a socket's local address (UDP sockets, known at bind time).
    pub fn set_local(&mut self, socket: SocketId, addr: SocketAddr) {
        if let Some(l) = self.local.get_mut(socket) {
            *l = Some(addr);
        }
    }

    /// The local address of a socket, when known.
    pub fn local(&self, socket: SocketId) -> Option<SocketAddr> {
        self.local.get(socket).copied().flatten()
    }

    /// The self strategy's Binding: from the peer socket to the server's UDP port.
    fn start_peer_binding(&mut self, now: Instant) {
        let tid = new_transaction_id(&mut self.rng);
        let Ok(req) = encode_binding_request(
            tid,
            &BindingRequest {
                software: Some(self.config.software.clone()),
                ..BindingRequest::default()
            },
        ) else {
            return;
        };
        let mut tx = ClientTransaction::new(tid, req, false);
        tx.start(
            now,
            crate::stun::retransmit::DEFAULT_RTO,
            now + self.config.timeout,
        );
        self.peer_binding = Some(tx);
        self.step_peer_binding(now);
    }

    fn step_peer_binding(&mut self, now: Instant) {
        let Some(tx) = &mut self.peer_binding else {
            return;
        };
        loop {
            match tx.step(now) {
                Action::Transmit => self.transmits.push_back(Transmit {
                    socket: SOCKET_PEER,
                    destination: self.config.stun_server,
                    payload: tx.request().to_vec(),
                }),
                Action::Wait => break,
                Action::GiveUp => {
                    self.peer_binding = None;
                    self.peer_binding_failed = Some(format!(
                        "no STUN answer over UDP from {} to the peer socket",
                        self.config.stun_server
                    ));
                    break;
                }
            }
        }
    }

    fn start_second(&mut self, now: Instant) {
        let mut b = Allocation::new(
            SOCKET_SECOND,
            self.config.server,
            self.config.reliable,
            self.config.credentials.clone(),
            self.config.family,
            self.config.software.clone(),
            self.config.timeout,
        );
        b.request(now, RequestKind::Allocate, &mut self.rng);
        self.b = Some(b);
        self.strategy = PeerStrategy::TwoAllocations;
    }

    /// What was learned (for the report).
    pub fn outcome(&self) -> TurnOutcome {
        let mut transactions = self.a.transactions.clone();
        if let Some(b) = &self.b {
            transactions.extend(b.transactions.iter().cloned());
        }
        TurnOutcome {
            auth_outcome: self.a.auth,
            realm: self.a.realm_seen.clone(),
            password_algorithm: self.a.password_algorithm(),
            stale_nonces: self.a.stale_nonces + self.b.as_ref().map_or(0, |b| b.stale_nonces),
            allocation: self
                .first_report
                .clone()
                .unwrap_or_else(|| alloc_report(&self.a, None)),
            second_allocation: self
                .second_report
                .clone()
                .or_else(|| self.b.as_ref().map(|b| alloc_report(b, None))),
            permissions: self.permissions.clone(),
            channel: self.channel.clone(),
            media: self.media_report(),
            self_test_impossible: self.self_impossible.clone(),
            relay_unreachable: self.relay_unreachable.clone(),
            refresh: self.refresh.clone(),
            peer_policy: self.policy.clone(),
            deleted: self.a.relayed.is_some()
                && self.deleted_a
                && self
                    .b
                    .as_ref()
                    .is_none_or(|b| b.relayed.is_none() || self.deleted_b),
            transactions,
            interrupted: self.interrupted,
        }
    }

    fn media_report(&self) -> Option<MediaReport> {
        if self.rounds.is_empty() {
            return None;
        }
        let sum = |f: fn(&Round) -> Option<u32>| -> Option<u32> {
            self.rounds.iter().map(f).sum::<Option<u32>>()
        };
        let inbound = Counts {
            sent: sum(|r| r.inbound.sent),
            received: sum(|r| r.inbound.received),
        };
        let outbound = Counts {
            sent: sum(|r| r.outbound.sent),
            received: sum(|r| r.outbound.received),
        };
        let mut via = Vec::new();
        for r in &self.rounds {
            let both = match self.strategy {
                PeerStrategy::Peer(_) => r.inbound.received.unwrap_or(0) > 0,
                _ => r.inbound.received.unwrap_or(0) > 0 && r.outbound.received.unwrap_or(0) > 0,
            };
            if both && !via.contains(&r.via) {
                via.push(r.via);
            }
        }
        let rtts: Vec<RttMs> = self.rounds.iter().filter_map(|r| r.rtt_ms).collect();
        let rtt_ms = (!rtts.is_empty()).then(|| RttMs {
            min: rtts.iter().map(|r| r.min).fold(f64::INFINITY, f64::min),
            max: rtts.iter().map(|r| r.max).fold(0.0, f64::max),
            avg: crate::rtp::stats::round3(
                rtts.iter().map(|r| r.avg).sum::<f64>() / rtts.len() as f64,
            ),
        });
        let loss_pct = match self.strategy {
            PeerStrategy::Peer(_) => outbound.sent.zip(inbound.received).map(|(s, r)| {
                crate::rtp::stats::round3(
                    100.0 * f64::from(s.saturating_sub(r)) / f64::from(s.max(1)),
                )
            }),
            _ => match (
                inbound.sent,
                inbound.received,
                outbound.sent,
                outbound.received,
            ) {
                (Some(is), Some(ir), Some(os), Some(or)) if is + os > 0 => {
                    Some(crate::rtp::stats::round3(
                        100.0 * f64::from(is.saturating_sub(ir) + os.saturating_sub(or))
                            / f64::from(is + os),
                    ))
                }
                _ => None,
            },
        };
        Some(MediaReport {
            strategy: match self.strategy {
                PeerStrategy::Peer(_) => "peer",
                PeerStrategy::TwoAllocations => "two-allocations",
                _ => "self",
            },
            peer_address: self.peer_target,
            inbound,
            outbound,
            via,
            rtt_ms,
            loss_pct,
            rounds: self.rounds.clone(),
        })
    }

    // ---- the test's steps ----

    fn advance(&mut self, now: Instant) {
        for _ in 0..8 {
            let before = self.phase;
            self.advance_once(now);
            if self.phase == before {
                break;
            }
        }
    }

    fn advance_once(&mut self, now: Instant) {
        match self.phase {
            Phase::Allocating => {
                if self.a.busy() || self.b.as_ref().is_some_and(Allocation::busy) {
                    return;
                }
                if self.peer_binding.is_some() {
                    return;
                }
                if self.a.relayed.is_none() {
                    self.start_deleting(now);
                    return;
                }
                if self.strategy == PeerStrategy::TwoAllocations && self.b.is_none() {
                    self.start_second(now);
                    return;
                }
                let self_strategy =
                    matches!(self.strategy, PeerStrategy::Auto | PeerStrategy::SelfPeer);
                if self_strategy && self.peer_mapped.is_none() {
                    let why = self
                        .peer_binding_failed
                        .clone()
                        .unwrap_or_else(|| "the peer socket learned no public address".into());
                    self.self_impossible = Some(why);
                    if self.strategy == PeerStrategy::Auto {
                        self.start_second(now);
                        return;
                    }
                    self.start_deleting(now);
                    return;
                }
                if self.strategy == PeerStrategy::TwoAllocations
                    && self.b.as_ref().is_none_or(|b| b.relayed.is_none())
                {
                    self.start_deleting(now);
                    return;
                }
                self.phase = Phase::Permitting;
                self.perm_from = self.permissions.len();
                match self.strategy {
                    PeerStrategy::TwoAllocations => {
                        let (ra, rb) = (
                            self.a.relayed.map(|r| r.ip()),
                            self.b.as_ref().and_then(|b| b.relayed).map(|r| r.ip()),
                        );
                        if let (Some(ra), Some(rb)) = (ra, rb) {
                            self.a
                                .request(now, RequestKind::CreatePermission(rb), &mut self.rng);
                            if let Some(b) = &mut self.b {
                                b.request(now, RequestKind::CreatePermission(ra), &mut self.rng);
                            }
                            self.peer_target = self.b.as_ref().and_then(|b| b.relayed);
                        }
                    }
                    PeerStrategy::Peer(addr) => {
                        self.a.request(
                            now,
                            RequestKind::CreatePermission(addr.ip()),
                            &mut self.rng,
                        );
                    }
                    _ => {
                        if let Some(m) = self.peer_mapped {
                            self.a.request(
                                now,
                                RequestKind::CreatePermission(m.ip()),
                                &mut self.rng,
                            );
                        }
                    }
                }
            }
            Phase::Permitting => {
                if self.a.busy() || self.b.as_ref().is_some_and(Allocation::busy) {
                    return;
                }
                let granted = self.permissions[self.perm_from.min(self.permissions.len())..]
                    .iter()
                    .filter(|p| p.purpose == "media-peer")
                    .all(|p| p.outcome == "accepted");
                if !granted {
                    if self.strategy == PeerStrategy::Auto
                        && self.config.strategy == PeerStrategy::Auto
                    {
                        // The server refuses our own address as a peer: two allocations
                        // relay between themselves.
                        self.self_impossible = Some(
                            "the server refused a permission for this host's public address".into(),
                        );
                        self.phase = Phase::Allocating;
                        self.start_second(now);
                        return;
                    }
                    self.start_policy_or_delete(now);
                    return;
                }
                self.start_round(now, false, false);
            }
            Phase::Media => {
                let Some(r) = &self.round else { return };
                let done = r.end.is_some_and(|e| now >= e);
                if !done {
                    return;
                }
                self.close_round();
                let last = self.rounds.last().cloned();
                if last.as_ref().is_some_and(|r| r.after_hold) {
                    self.start_policy_or_delete(now);
                } else if last.as_ref().is_some_and(|r| r.via == "indication") {
                    // Now the channel: to where the relay saw the peer, else (nothing came
                    // in) to the peer's Binding address.
                    if let Some(peer) = self.peer_target.or(self.peer_mapped) {
                        self.phase = Phase::Binding;
                        self.a.request(
                            now,
                            RequestKind::ChannelBind(FIRST_CHANNEL, peer),
                            &mut self.rng,
                        );
                        self.channel = Some(ChannelReport {
                            number: FIRST_CHANNEL,
                            peer,
                            outcome: "no-answer",
                            error_code: None,
                        });
                    } else {
                        self.start_policy_or_delete(now);
                    }
                } else {
                    self.start_hold_or_policy(now);
                }
            }
            Phase::Binding => {
                if self.a.busy() {
                    return;
                }
                if self.channel.as_ref().is_some_and(|c| c.outcome == "bound") {
                    self.start_round(now, true, false);
                } else {
                    self.start_hold_or_policy(now);
                }
            }
            Phase::Policy => {
                if !self.a.busy() {
                    self.start_deleting(now);
                }
            }
            Phase::Hold => {
                if self.hold_until.is_some_and(|t| now >= t) && !self.a.busy() {
                    if let Some(r) = &mut self.refresh
                        && r.outcome == "holding"
                    {
                        r.outcome = "ok";
                    }
                    let ok = self.refresh.as_ref().is_some_and(|r| r.outcome == "ok");
                    if ok && self.channel.as_ref().is_some_and(|c| c.outcome == "bound") {
                        self.start_round(now, true, true);
                    } else if ok {
                        self.start_round(now, false, true);
                    } else {
                        self.start_policy_or_delete(now);
                    }
                }
            }
            Phase::Deleting => {
                if !self.a.busy() && self.b.as_ref().is_none_or(|b| !b.busy()) {
                    self.phase = Phase::Done;
                }
            }
            Phase::Done => {}
        }
    }

    fn start_hold_or_policy(&mut self, now: Instant) {
        match self.config.hold {
            Some(hold) if !self.interrupted => {
                self.phase = Phase::Hold;
                self.hold_until = Some(now + hold);
                let lifetime = Duration::from_secs(u64::from(self.a.lifetime_s.unwrap_or(600)));
                self.next_alloc_refresh = Some(now + lifetime / 2);
                self.next_perm_refresh = Some(now + PERMISSION_REFRESH);
                self.next_chan_refresh = self
                    .channel
                    .as_ref()
                    .filter(|c| c.outcome == "bound")
                    .map(|_| now + CHANNEL_REFRESH);
                self.refresh = Some(RefreshReport {
                    hold_s: hold.as_secs(),
                    allocation_refreshes: 0,
                    permission_refreshes: 0,
                    channel_refreshes: 0,
                    outcome: "holding",
                    error_code: None,
                });
            }
            _ => self.start_policy_or_delete(now),
        }
    }

    fn start_policy_or_delete(&mut self, now: Instant) {
        if !self.config.peer_policy.is_empty() && self.a.relayed.is_some() && !self.interrupted {
            self.phase = Phase::Policy;
            for (ip, class) in self.config.peer_policy.clone() {
                self.policy.push(PermissionReport {
                    peer: ip,
                    purpose: class,
                    outcome: "no-answer",
                    error_code: None,
                });
                self.a
                    .request(now, RequestKind::CreatePermission(ip), &mut self.rng);
            }
            return;
        }
        self.start_deleting(now);
    }

    fn start_deleting(&mut self, now: Instant) {
        self.round = None;
        self.first_report = Some(alloc_report(&self.a, self.first_report.as_ref()));
        if let Some(b) = &self.b {
            self.second_report = Some(alloc_report(b, self.second_report.as_ref()));
        }
        self.phase = Phase::Deleting;
        self.a.abandon();
        if self.a.relayed.is_some() && !self.lost {
            self.a.request(now, RequestKind::Refresh(0), &mut self.rng);
        }
        if let Some(b) = &mut self.b {
            b.abandon();
            if b.relayed.is_some() {
                b.request(now, RequestKind::Refresh(0), &mut self.rng);
            }
        }
        self.advance_once(now);
    }

    fn start_round(&mut self, now: Instant, via_channel: bool, after_hold: bool) {
        self.phase = Phase::Media;
        let n = self.config.count as usize;
        let client_first = matches!(self.strategy, PeerStrategy::Peer(_));
        self.round = Some(RoundState {
            via_channel,
            after_hold,
            start: now,
            peer_sent: if client_first { self.config.count } else { 0 },
            next_peer: now,
            client_sent: 0,
            next_client: (client_first || via_channel || self.peer_target.is_some()).then_some(now),
            sent_at: vec![None; n],
            inbound: 0,
            outbound: 0,
            echoes: 0,
            rtts: Vec::new(),
            end: None,
        });
        self.pump_round(now);
    }

    fn close_round(&mut self) {
        let Some(r) = self.round.take() else { return };
        let rtt = (!r.rtts.is_empty()).then(|| {
            let min = r.rtts.iter().min().copied().unwrap_or_default();
            let max = r.rtts.iter().max().copied().unwrap_or_default();
            let avg = r.rtts.iter().sum::<Duration>() / r.rtts.len() as u32;
            RttMs {
                min: round_ms(min),
                avg: round_ms(avg),
                max: round_ms(max),
            }
        });
        let peer_mode = matches!(self.strategy, PeerStrategy::Peer(_));
        self.rounds.push(Round {
            via: if r.via_channel {
                "channel"
            } else {
                "indication"
            },
            after_hold: r.after_hold,
            inbound: Counts {
                sent: (!peer_mode).then_some(r.peer_sent),
                received: Some(if peer_mode { r.echoes } else { r.inbound }),
            },
            outbound: Counts {
                sent: Some(r.client_sent),
                received: (!peer_mode).then_some(r.outbound),
            },
            rtt_ms: rtt,
        });
    }

    fn packet(&self, kind: Kind, seq: u16, via_channel: bool) -> Vec<u8> {
        let mut p = vec![0xFFu8; PACKET_LEN];
        p[0] = 0x80;
        p[1] = 0; // PCMU
        p[2..4].copy_from_slice(&seq.to_be_bytes());
        p[4..8].copy_from_slice(&(u32::from(seq) * 160).to_be_bytes());
        p[8..12].copy_from_slice(&(0x5644_0000u32 | kind as u32).to_be_bytes());
        p[12..20].copy_from_slice(&self.nonce);
        p[20] = kind as u8;
        p[21] = u8::from(via_channel);
        p
    }

    fn parse(&self, data: &[u8]) -> Option<(Kind, u16)> {
        if data.len() < 22 || data[0] != 0x80 || data[12..20] != self.nonce {
            return None;
        }
        let kind = match data[20] {
            1 => Kind::Inbound,
            2 => Kind::Outbound,
            3 => Kind::Echo,
            _ => return None,
        };
        Some((kind, u16::from_be_bytes([data[2], data[3]])))
    }

    /// Sends from the peer's side to our relayed address.
    fn peer_send(&mut self, payload: Vec<u8>) {
        let Some(relayed) = self.a.relayed else {
            return;
        };
        match self.strategy {
            PeerStrategy::TwoAllocations => {
                if let Some(b) = &mut self.b {
                    b.send_indication(relayed, &payload, &mut self.rng);
                }
            }
            PeerStrategy::Peer(_) => {}
            _ => self.transmits.push_back(Transmit {
                socket: SOCKET_PEER,
                destination: relayed,
                payload,
            }),
        }
    }

    /// Sends from our allocation to the peer.
    fn client_send(&mut self, payload: &[u8], via_channel: bool) {
        let Some(target) = self.peer_target.or(self.peer_mapped) else {
            return;
        };
        if via_channel {
            self.a.send_channel(target, payload);
        } else {
            self.a.send_indication(target, payload, &mut self.rng);
        }
    }

    fn pump_round(&mut self, now: Instant) {
        let n = self.config.count;
        let interval = self.config.interval;
        let Some(r) = &mut self.round else { return };
        let mut out: Vec<(bool, Vec<u8>)> = Vec::new(); // (from peer, payload)
        let via = r.via_channel;
        while r.peer_sent < n && r.next_peer <= now {
            let seq = r.peer_sent as u16;
            r.peer_sent += 1;
            r.next_peer += interval;
            out.push((true, vec![seq as u8, (seq >> 8) as u8]));
        }
        // The client starts at the first inbound packet, or half way through the peer's
        // sends at the latest (then to the peer's Binding address).
        if r.next_client.is_none() && now >= r.start + interval * (n / 2).max(1) {
            r.next_client = Some(now);
        }
        while let Some(t) = r.next_client {
            if r.client_sent >= n || t > now {
                break;
            }
            let seq = r.client_sent as u16;
            if let Some(slot) = r.sent_at.get_mut(seq as usize) {
                *slot = Some(now);
            }
            r.client_sent += 1;
            r.next_client = Some(t + interval);
            out.push((false, vec![seq as u8, (seq >> 8) as u8]));
        }
        let all_sent = r.peer_sent >= n && r.client_sent >= n;
        let peer_mode = matches!(self.strategy, PeerStrategy::Peer(_));
        let all_back = if peer_mode {
            r.echoes >= n
        } else {
            r.inbound >= n && r.outbound >= n && r.echoes >= n
        };
        if all_sent && r.end.is_none() {
            let grace = (self.rtt_estimate * 4).max(Duration::from_millis(300));
            r.end = Some(now + grace.min(self.config.timeout));
        }
        if all_sent && all_back {
            r.end = Some(now);
        }
        for (from_peer, seq) in out {
            let seq = u16::from(seq[0]) | (u16::from(seq[1]) << 8);
            if from_peer {
                let p = self.packet(Kind::Inbound, seq, via);
                self.peer_send(p);
            } else {
                let p = self.packet(Kind::Outbound, seq, via);
                self.client_send(&p, via);
            }
        }
    }

    fn on_client_data(&mut self, now: Instant, peer: SocketAddr, data: &[u8]) {
        let Some((kind, seq)) = self.parse(data) else {
            return;
        };
        let peer_mode = matches!(self.strategy, PeerStrategy::Peer(_));
        let Some(r) = &mut self.round else { return };
        match kind {
            Kind::Inbound if !peer_mode => {
                r.inbound += 1;
                if self.peer_target.is_none() || self.strategy != PeerStrategy::TwoAllocations {
                    // The address the relay saw the peer from (its NAT's mapping towards
                    // the relay): where our packets must go.
                    if self.peer_target.is_none() {
                        self.peer_target = Some(peer);
                    }
                }
                if r.next_client.is_none() {
                    r.next_client = Some(now);
                }
            }
            Kind::Echo | Kind::Outbound => {
                // From a peer echo server, our own Outbound packet comes back verbatim.
                if kind == Kind::Outbound && !peer_mode {
                    return;
                }
                r.echoes += 1;
                if let Some(Some(t)) = r.sent_at.get(seq as usize) {
                    let rtt = now.saturating_duration_since(*t);
                    r.rtts.push(rtt);
                    self.rtt_estimate = rtt;
                }
            }
            Kind::Inbound => {}
        }
        self.pump_round(now);
    }

    fn on_peer_data(&mut self, now: Instant, data: &[u8]) {
        let Some((kind, seq)) = self.parse(data) else {
            return;
        };
        let Some(r) = &mut self.round else { return };
        if kind != Kind::Outbound {
            return;
        }
        r.outbound += 1;
        let via = r.via_channel;
        let echo = self.packet(Kind::Echo, seq, via);
        self.peer_send(echo);
        self.pump_round(now);
    }

    fn on_answered(&mut self, now: Instant, second: bool, kind: RequestKind, outcome: Outcome) {
        let (accepted, code) = match &outcome {
            Outcome::Success => ("accepted", None),
            Outcome::Error(c, _) => ("refused", Some(*c)),
            Outcome::NoAnswer | Outcome::Unreachable(_) => ("no-answer", None),
        };
        match kind {
            RequestKind::Allocate => {
                if self.phase == Phase::Deleting && outcome == Outcome::Success {
                    // Allocated while we were already stopping (Ctrl-C): delete it too.
                    let a = if second {
                        self.b.as_mut()
                    } else {
                        Some(&mut self.a)
                    };
                    if let Some(a) = a {
                        a.request(now, RequestKind::Refresh(0), &mut self.rng);
                    }
                }
                let a = if second {
                    self.b.as_ref()
                } else {
                    Some(&self.a)
                };
                if let Some(a) = a {
                    let rep = alloc_report_with(a, &outcome);
                    if second {
                        self.second_report = Some(rep);
                    } else {
                        self.first_report = Some(rep);
                    }
                    if self.phase == Phase::Deleting {}
                }
            }
            RequestKind::CreatePermission(ip) => {
                if let Some(p) = self
                    .policy
                    .iter_mut()
                    .find(|p| p.peer == ip && p.outcome == "no-answer" && !second)
                {
                    p.outcome = accepted;
                    p.error_code = code;
                } else if self.phase == Phase::Hold {
                    if let Some(r) = &mut self.refresh {
                        if outcome == Outcome::Success {
                            r.permission_refreshes += 1;
                        } else {
                            r.outcome = if code == Some(437) { "lost" } else { "failed" };
                            r.error_code = code;
                        }
                    }
                } else {
                    self.permissions.push(PermissionReport {
                        peer: ip,
                        purpose: "media-peer",
                        outcome: accepted,
                        error_code: code,
                    });
                }
            }
            RequestKind::ChannelBind(..) => {
                if self.phase == Phase::Hold {
                    if let Some(r) = &mut self.refresh {
                        if outcome == Outcome::Success {
                            r.channel_refreshes += 1;
                        } else {
                            r.outcome = if code == Some(437) { "lost" } else { "failed" };
                            r.error_code = code;
                        }
                    }
                } else if let Some(c) = &mut self.channel {
                    c.outcome = match accepted {
                        "accepted" => "bound",
                        other => other,
                    };
                    c.error_code = code;
                }
            }
            RequestKind::Refresh(0) => {
                // 437: the allocation is already gone; nothing more to delete.
                let gone = matches!(outcome, Outcome::Success | Outcome::Error(437, _));
                if second {
                    self.deleted_b = gone;
                } else {
                    self.deleted_a = gone;
                }
            }
            RequestKind::Refresh(_) => {
                if let Some(r) = &mut self.refresh {
                    if outcome == Outcome::Success {
                        r.allocation_refreshes += 1;
                    } else {
                        r.outcome = if code == Some(437) { "lost" } else { "failed" };
                        r.error_code = code;
                    }
                }
                if code == Some(437) {
                    // The allocation is gone for this 5-tuple (a NAT rebinding): nothing we
                    // can delete from here; it expires on the server.
                    self.lost = true;
                }
            }
        }
    }

    fn fire_hold_timers(&mut self, now: Instant) {
        if self.phase != Phase::Hold {
            return;
        }
        if self
            .refresh
            .as_ref()
            .is_some_and(|r| r.outcome != "holding")
        {
            // A refresh failed: end the hold now.
            self.hold_until = Some(now);
            return;
        }
        if self.next_alloc_refresh.is_some_and(|t| now >= t) {
            let lifetime = self.a.lifetime_s.unwrap_or(600);
            self.a
                .request(now, RequestKind::Refresh(lifetime), &mut self.rng);
            self.next_alloc_refresh = Some(now + Duration::from_secs(u64::from(lifetime) / 2));
        }
        if self.next_perm_refresh.is_some_and(|t| now >= t) {
            if let Some(ip) = self.peer_target.or(self.peer_mapped).map(|a| a.ip()) {
                self.a
                    .request(now, RequestKind::CreatePermission(ip), &mut self.rng);
            }
            self.next_perm_refresh = Some(now + PERMISSION_REFRESH);
        }
        if self.next_chan_refresh.is_some_and(|t| now >= t) {
            if let Some(c) = &self.channel {
                let (n, p) = (c.number, c.peer);
                self.a
                    .request(now, RequestKind::ChannelBind(n, p), &mut self.rng);
            }
            self.next_chan_refresh = Some(now + CHANNEL_REFRESH);
        }
    }

    fn drain_allocation_events(&mut self, now: Instant) {
        for _ in 0..1024 {
            let (second, ev) = if let Some(e) = self.a.poll_event() {
                (false, e)
            } else if let Some(e) = self.b.as_mut().and_then(Allocation::poll_event) {
                (true, e)
            } else {
                break;
            };
            match ev {
                AllocationEvent::Answered { kind, outcome } => {
                    self.on_answered(now, second, kind, outcome);
                }
                AllocationEvent::Data { peer, data, .. } => {
                    if second {
                        self.on_peer_data(now, &data);
                    } else {
                        self.on_client_data(now, peer, &data);
                    }
                }
            }
        }
        self.advance(now);
    }
}

fn alloc_report(a: &Allocation, previous: Option<&AllocationReport>) -> AllocationReport {
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

fn alloc_report_with(a: &Allocation, outcome: &Outcome) -> AllocationReport {
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
        relayed_scope: a.relayed.map(|r| scope(r.ip())),
        mapped_address: a.mapped,
        lifetime_s: a.lifetime_s,
        software: a.software_seen.clone(),
    }
}

impl Machine for TurnProbe {
    type Event = ();

    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        match input {
            Input::Message { socket, from, data } => {
                if self.a.owns(socket, from) {
                    self.a.handle_input(now, data, &mut self.rng);
                } else if let Some(b) = self.b.as_mut().filter(|b| b.owns(socket, from)) {
                    b.handle_input(now, data, &mut self.rng);
                } else if socket == SOCKET_PEER {
                    if from == self.config.stun_server {
                        if let (Some(tx), Ok(m)) = (&mut self.peer_binding, decode(data))
                            && tx.matches(&m)
                        {
                            tx.answered(now);
                            self.peer_mapped = m.mapped();
                            self.peer_binding = None;
                        }
                    } else {
                        self.on_peer_data(now, data);
                    }
                }
            }
            Input::Unreachable {
                socket,
                destination,
                reason,
            } => {
                if socket == SOCKET_PEER {
                    if destination == self.config.stun_server && self.peer_binding.is_some() {
                        self.peer_binding = None;
                        self.peer_binding_failed = Some(reason.to_string());
                    } else if Some(destination) == self.a.relayed {
                        self.relay_unreachable = Some(reason.to_string());
                    }
                } else if socket == self.a.socket() && destination == self.a.server() {
                    self.a.unreachable(reason);
                } else if let Some(b) = &mut self.b
                    && socket == b.socket()
                {
                    b.unreachable(reason);
                }
            }
            Input::Connected { socket, local } => self.set_local(socket, local),
            Input::StreamFailed { socket, error } => {
                let reason = error.to_string();
                if socket == self.a.socket() {
                    self.a.unreachable(&reason);
                } else if let Some(b) = self.b.as_mut().filter(|b| b.socket() == socket) {
                    b.unreachable(&reason);
                }
            }
        }
        self.drain_allocation_events(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.a.step(now);
        if let Some(b) = &mut self.b {
            b.step(now);
        }
        self.step_peer_binding(now);
        self.fire_hold_timers(now);
        self.pump_round(now);
        self.drain_allocation_events(now);
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        if let Some(t) = self.transmits.pop_front() {
            return Some(t);
        }
        if let Some(t) = self.a.poll_transmit() {
            return Some(t);
        }
        self.b.as_mut().and_then(Allocation::poll_transmit)
    }

    fn poll_event(&mut self) -> Option<()> {
        None
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let mut t = [
            self.a.poll_timeout(),
            self.b.as_ref().and_then(Allocation::poll_timeout),
            self.peer_binding
                .as_ref()
                .and_then(ClientTransaction::poll_timeout),
        ]
        .into_iter()
        .flatten()
        .min();
        let mut consider = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t| t.min(x)));
            }
        };
        if let Some(r) = &self.round {
            if r.peer_sent < self.config.count {
                consider(Some(r.next_peer));
            }
            if r.client_sent < self.config.count {
                consider(r.next_client.or(Some(
                    r.start + self.config.interval * (self.config.count / 2).max(1),
                )));
            }
            consider(r.end);
        }
        if self.phase == Phase::Hold {
            consider(self.hold_until);
            consider(self.next_alloc_refresh);
            consider(self.next_perm_refresh);
            consider(self.next_chan_refresh);
        }
        t
    }

    fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    fn interrupt(&mut self, now: Instant) {
        if self.interrupted {
            // A second Ctrl-C: stop without waiting for the deletion.
            self.phase = Phase::Done;
            return;
        }
        self.interrupted = true;
        if let Some(r) = &mut self.refresh
            && r.outcome == "holding"
        {
            r.outcome = "interrupted";
        }
        self.peer_binding = None;
        if self.round.is_some() {
            self.close_round();
        }
        if self.phase != Phase::Deleting && self.phase != Phase::Done {
            self.start_deleting(now);
        }
    }
}
