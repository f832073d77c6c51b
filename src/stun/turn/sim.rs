//! A scripted TURN server (RFC 8656) behind the simulated NAT of [`crate::stun::sim::Nat`],
//! for tests in simulated time: long-term authentication with REALM/NONCE (and a scripted
//! 438), quotas (486), capacity (508), refused peers (403), 437 for an unknown 5-tuple (what a
//! NAT rebinding causes), Send/Data indications, channels, and relaying to the client's own
//! public address or between allocations. Each hop takes [`ONE_WAY`].
//!
//! Feed it to [`crate::machine::simulate`] as the peer; the client's socket `n` is
//! `10.0.0.2:5000+n` behind the NAT.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use stun_codec::rfc5389::attributes::{ErrorCode, Nonce, Realm, Software, XorMappedAddress};
use stun_codec::rfc5766::attributes::{Data, Lifetime, XorPeerAddress, XorRelayAddress};

use super::allocation::{ALLOCATE, CHANNEL_BIND, CREATE_PERMISSION, DATA, REFRESH, SEND};
use super::channel;
use crate::machine::{SocketId, Transmit};
use crate::stun::builder::{LongTermCredential, MessageBuilder};
use crate::stun::integrity::{NONCE_COOKIE, PasswordAlgorithm, sign_sha256, verify_sha256};
use crate::stun::message::{Class, StunMessage, decode, verify_long_term_integrity};
use crate::stun::sim::{Filtering, Nat, SimNetwork};

/// PASSWORD-ALGORITHMS the server offers when asked to: MD5, then SHA-256.
const ALGORITHMS: &[u8] = &[0, 1, 0, 0, 0, 2, 0, 0];

/// One hop's delay.
pub const ONE_WAY: Duration = Duration::from_millis(2);

#[derive(Debug)]
struct Alloc {
    relay: SocketAddr,
    user: String,
    perms: HashSet<IpAddr>,
    channels: HashMap<u16, SocketAddr>,
}

type Out = Vec<(Duration, SocketId, SocketAddr, Vec<u8>)>;

/// The simulated NAT, TURN server and relay.
#[derive(Debug)]
pub struct TurnSim {
    /// The client's NAT.
    pub nat: Nat,
    /// The server's address.
    pub server: SocketAddr,
    /// User and password it accepts; `None`: no authentication (an open relay).
    pub user: Option<(String, String)>,
    /// REALM.
    pub realm: String,
    /// Answer the first authenticated request with 438 Stale Nonce (a new nonce).
    pub stale_nonce_once: bool,
    /// Allocations per user (486 beyond).
    pub quota: usize,
    /// Allocations in all (508 beyond).
    pub capacity: usize,
    /// Peer IPs refused with 403.
    pub denied_peers: Vec<IpAddr>,
    /// Never answer.
    pub silent: bool,
    /// Refuse every ChannelBind with 400 (a server whose channels do not work).
    pub refuse_channels: bool,
    /// Answer Allocate with 437, as for a 5-tuple that already holds an allocation.
    pub leftover_allocation: bool,
    /// Offer RFC 8489 password algorithms (MD5 and SHA-256) and demand
    /// MESSAGE-INTEGRITY-SHA256.
    pub offer_sha256: bool,
    nonce: String,
    stale_done: bool,
    allocations: HashMap<SocketAddr, Alloc>,
    next_relay_port: u16,
    /// Requests received, by method name and whether they were answered with success.
    pub requests: Vec<(u16, bool)>,
}

impl TurnSim {
    /// A server at 198.51.100.10:3478 (relaying from the same IP) with user `alice` /
    /// `secret-pw` in realm `lab`, behind-NAT client with the given behaviour.
    pub fn new(apdm: bool, filtering: Filtering) -> Self {
        TurnSim {
            nat: Nat::new(apdm, filtering),
            server: SocketAddr::new([198, 51, 100, 10].into(), 3478),
            user: Some(("alice".into(), "secret-pw".into())),
            realm: "lab".into(),
            stale_nonce_once: false,
            quota: 10,
            capacity: 100,
            denied_peers: Vec::new(),
            silent: false,
            offer_sha256: false,
            refuse_channels: false,
            leftover_allocation: false,
            nonce: "nonce-1".into(),
            stale_done: false,
            allocations: HashMap::new(),
            next_relay_port: 50000,
            requests: Vec::new(),
        }
    }

    /// Allocations alive now.
    pub fn allocations(&self) -> usize {
        self.allocations.len()
    }

    /// What the network does with one transmit of the client.
    pub fn send(&mut self, _now: Instant, t: &Transmit) -> Out {
        let local = SimNetwork::local(t.socket);
        let public = self.nat.outbound(local, t.destination);
        if self.silent {
            return vec![];
        }
        if t.destination == self.server {
            if let Some((ch, data)) = channel::decode(&t.payload) {
                let Some(a) = self.allocations.get(&public) else {
                    return vec![];
                };
                let Some(&peer) = a.channels.get(&ch) else {
                    return vec![];
                };
                let relay = a.relay;
                return self.relay_to_peer(relay, peer, data.to_vec());
            }
            let Ok(m) = decode(&t.payload) else {
                return vec![];
            };
            return self.handle_stun(public, &m, &t.payload);
        }
        // To a relayed address: from a peer.
        let Some((&client, a)) = self
            .allocations
            .iter()
            .find(|(_, a)| a.relay == t.destination)
        else {
            return vec![];
        };
        if !a.perms.contains(&public.ip()) {
            return vec![];
        }
        let bytes = to_client(a, public, &t.payload);
        self.deliver(client, self.server, bytes, ONE_WAY * 2)
    }

    /// Data from the relayed address `relay` to `peer`.
    fn relay_to_peer(&mut self, relay: SocketAddr, peer: SocketAddr, data: Vec<u8>) -> Out {
        let from_alloc = self.allocations.values().find(|a| a.relay == relay);
        if from_alloc.is_none_or(|a| !a.perms.contains(&peer.ip())) {
            return vec![];
        }
        if let Some((&client, a)) = self.allocations.iter().find(|(_, a)| a.relay == peer) {
            if !a.perms.contains(&relay.ip()) {
                return vec![];
            }
            let bytes = to_client(a, relay, &data);
            return self.deliver(client, self.server, bytes, ONE_WAY * 2);
        }
        self.deliver(peer, relay, data, ONE_WAY * 2)
    }

    /// Through the NAT to the client host, if its filter lets it in.
    fn deliver(
        &self,
        public: SocketAddr,
        from: SocketAddr,
        bytes: Vec<u8>,
        delay: Duration,
    ) -> Out {
        match self.nat.inbound(public, from) {
            Some(local) => vec![(delay, usize::from(local.port() - 5000), from, bytes)],
            None => vec![],
        }
    }

    fn handle_stun(&mut self, public: SocketAddr, m: &StunMessage, raw: &[u8]) -> Out {
        if m.class == Class::Indication && m.method == SEND {
            let Some(a) = self.allocations.get(&public) else {
                return vec![];
            };
            let (Some(peer), Some(data)) = (m.peer_address, m.data.clone()) else {
                return vec![];
            };
            let relay = a.relay;
            return self.relay_to_peer(relay, peer, data);
        }
        if m.class != Class::Request {
            return vec![];
        }
        let reply = if m.method == 0x001 {
            MessageBuilder::new(Class::SuccessResponse, 0x001, m.transaction_id)
                .map(|b| b.attribute(XorMappedAddress::new(public)))
                .and_then(|b| b.encode(true))
                .ok()
        } else {
            Some(self.turn_request(public, m, raw))
        };
        match reply {
            Some(bytes) => self.deliver(public, self.server, bytes, ONE_WAY * 2),
            None => vec![],
        }
    }

    fn error(&self, m: &StunMessage, code: u16, reason: &str, challenge: bool) -> Vec<u8> {
        let mut b = MessageBuilder::new(Class::ErrorResponse, m.method, m.transaction_id)
            .expect("method in range")
            .attribute(ErrorCode::new(code, reason.into()).expect("valid code"));
        if challenge {
            b = b
                .attribute(Realm::new(self.realm.clone()).expect("realm"))
                .attribute(Nonce::new(self.nonce()).expect("nonce"));
            if self.offer_sha256 {
                b = b.attribute(crate::stun::attributes::PasswordAlgorithms(
                    ALGORITHMS.to_vec(),
                ));
            }
        }
        b.encode(true).unwrap_or_default()
    }

    /// The nonce as sent: with the RFC 8489 cookie and the "password algorithms" bit when
    /// offering them.
    fn nonce(&self) -> String {
        if self.offer_sha256 {
            format!("{NONCE_COOKIE}AAAB{}", self.nonce)
        } else {
            self.nonce.clone()
        }
    }

    fn sha256_key(&self, user: &str, password: &str) -> Vec<u8> {
        PasswordAlgorithm::Sha256.key(user, &self.realm, password)
    }

    fn turn_request(&mut self, public: SocketAddr, m: &StunMessage, raw: &[u8]) -> Vec<u8> {
        let user = match &self.user {
            None => String::new(),
            Some((user, password)) => {
                let signed = if self.offer_sha256 {
                    m.message_integrity_sha256
                } else {
                    m.message_integrity
                };
                if !signed {
                    return self.error(m, 401, "Unauthorized", true);
                }
                if m.nonce.as_deref() != Some(self.nonce().as_str()) {
                    return self.error(m, 438, "Stale Nonce", true);
                }
                let valid = if self.offer_sha256 {
                    m.password_algorithms.as_deref() == Some(ALGORITHMS)
                        && verify_sha256(raw, &self.sha256_key(user, password))
                } else {
                    verify_long_term_integrity(raw, user, &self.realm, password)
                };
                if m.username.as_deref() != Some(user.as_str()) || !valid {
                    return self.error(m, 401, "Unauthorized", true);
                }
                if self.stale_nonce_once && !self.stale_done {
                    self.stale_done = true;
                    self.nonce = "nonce-2".into();
                    return self.error(m, 438, "Stale Nonce", true);
                }
                user.clone()
            }
        };
        let mut attrs: Vec<crate::stun::attributes::Attribute> = Vec::new();
        match m.method {
            ALLOCATE => {
                if self.allocations.contains_key(&public) || self.leftover_allocation {
                    return self.error(m, 437, "Allocation Mismatch", false);
                }
                if self.allocations.values().filter(|a| a.user == user).count() >= self.quota {
                    return self.error(m, 486, "Allocation Quota Reached", false);
                }
                if self.allocations.len() >= self.capacity {
                    return self.error(m, 508, "Insufficient Capacity", false);
                }
                let relay = SocketAddr::new(self.server.ip(), self.next_relay_port);
                self.next_relay_port += 1;
                self.allocations.insert(
                    public,
                    Alloc {
                        relay,
                        user,
                        perms: HashSet::new(),
                        channels: HashMap::new(),
                    },
                );
                attrs.push(XorRelayAddress::new(relay).into());
                attrs.push(XorMappedAddress::new(public).into());
                attrs.push(Lifetime::from_u32(600).into());
            }
            REFRESH => {
                if !self.allocations.contains_key(&public) {
                    return self.error(m, 437, "Allocation Mismatch", false);
                }
                let l = m.lifetime_s.unwrap_or(600);
                if l == 0 {
                    self.allocations.remove(&public);
                }
                attrs.push(Lifetime::from_u32(l.min(3600)).into());
            }
            CREATE_PERMISSION | CHANNEL_BIND => {
                let Some(peer) = m.peer_address else {
                    return self.error(m, 400, "Bad Request", false);
                };
                if m.method == CHANNEL_BIND && self.refuse_channels {
                    return self.error(m, 400, "Bad Request", false);
                }
                if self.denied_peers.contains(&peer.ip()) {
                    return self.error(m, 403, "Forbidden IP", false);
                }
                let Some(a) = self.allocations.get_mut(&public) else {
                    return self.error(m, 437, "Allocation Mismatch", false);
                };
                a.perms.insert(peer.ip());
                if m.method == CHANNEL_BIND {
                    match m.channel_number {
                        Some(ch) if (0x4000..=0x4FFF).contains(&ch) => {
                            a.channels.insert(ch, peer);
                        }
                        _ => return self.error(m, 400, "Bad Request", false),
                    }
                }
            }
            _ => return self.error(m, 400, "Bad Request", false),
        }
        self.requests.push((m.method, true));
        let mut b = MessageBuilder::new(Class::SuccessResponse, m.method, m.transaction_id)
            .expect("method in range");
        for a in attrs {
            b = b.attribute(a);
        }
        b = b.attribute(Software::new("turn-sim".into()).expect("software"));
        if let (true, Some((user, password))) = (self.offer_sha256, &self.user) {
            let key = self.sha256_key(user, password);
            return sign_sha256(b.encode(false).unwrap_or_default(), &key, true);
        }
        if let Some((user, password)) = &self.user {
            b = match b.clone().long_term_credential(&LongTermCredential {
                username: user.clone(),
                realm: self.realm.clone(),
                nonce: self.nonce.clone(),
                password: password.clone(),
            }) {
                Ok(b) => b,
                Err(_) => b,
            };
        }
        b.encode(true).unwrap_or_default()
    }
}

/// What the relay sends its client for data from `peer`: ChannelData when a channel is bound
/// to the peer, else a Data indication.
fn to_client(a: &Alloc, peer: SocketAddr, data: &[u8]) -> Vec<u8> {
    if let Some((&ch, _)) = a.channels.iter().find(|(_, p)| **p == peer) {
        return channel::encode(ch, data, false);
    }
    MessageBuilder::new(Class::Indication, DATA, [7; 12])
        .map(|b| {
            b.attribute(XorPeerAddress::new(peer))
                .attribute(Data::new(data.to_vec()).expect("data size"))
        })
        .and_then(|b| b.encode(false))
        .unwrap_or_default()
}
