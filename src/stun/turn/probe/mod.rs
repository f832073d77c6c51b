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

use super::allocation::{Allocation, AllocationEvent, Outcome, RequestKind, RequestedFamily};
use super::channel::FIRST_CHANNEL;
use super::credential::Credentials;
use crate::machine::{Input, Machine, SocketId, Transmit};
use crate::stun::message::{BindingRequest, decode, encode_binding_request};
use crate::stun::transaction::{Action, ClientTransaction, new_transaction_id};

mod media;
mod report;
mod requests;

use media::RoundState;
pub use report::{
    AllocationReport, ChannelReport, Counts, MediaReport, PermissionReport, RefreshReport, Round,
    RttMs, TurnOutcome, policy_targets,
};
use report::{alloc_report, alloc_report_with};

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
