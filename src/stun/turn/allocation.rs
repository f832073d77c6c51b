//! One TURN allocation seen from the client (RFC 8656), without I/O: the requests (Allocate,
//! Refresh, CreatePermission, ChannelBind) on the one STUN client transaction, the long-term
//! credential dance (§7.2: a first request without credentials, 401 with REALM and NONCE, the
//! request again with MESSAGE-INTEGRITY; 438 Stale Nonce retried with the new NONCE, at most
//! [`MAX_NONCE_RETRIES`] times), and the data path: Send indications out, Data indications
//! and ChannelData in (§11, §12).
//!
//! The owner (the TURN probe machine) feeds it the bytes that arrive on its socket and the
//! time, and collects [`Transmit`]s and [`AllocationEvent`]s.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use stun_codec::rfc5389::attributes::Software;
use stun_codec::rfc5766::attributes::{
    ChannelNumber, Data, Lifetime, RequestedTransport, XorPeerAddress,
};
use stun_codec::rfc8656::attributes::{AddressFamily, RequestedAddressFamily};

use super::channel;
use super::credential::Credentials;
use crate::machine::{SocketId, Transmit};
use crate::stun::builder::{LongTermCredential, MessageBuilder};
use crate::stun::integrity::{self, PasswordAlgorithm};
use crate::stun::message::{Class, StunMessage, decode};
use crate::stun::retransmit::{DEFAULT_RTO, rto_from_rtt};
use crate::stun::transaction::{Action, ClientTransaction, new_transaction_id};

/// TURN methods (RFC 8656 §17).
pub const ALLOCATE: u16 = 0x003;
/// Refresh.
pub const REFRESH: u16 = 0x004;
/// Send (indication).
pub const SEND: u16 = 0x006;
/// Data (indication).
pub const DATA: u16 = 0x007;
/// CreatePermission.
pub const CREATE_PERMISSION: u16 = 0x008;
/// ChannelBind.
pub const CHANNEL_BIND: u16 = 0x009;

/// How often a 438 Stale Nonce is answered with the new nonce before giving up.
pub const MAX_NONCE_RETRIES: u8 = 3;

/// REQUESTED-ADDRESS-FAMILY choice (RFC 8656 §18.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestedFamily {
    /// No attribute: the server's default (IPv4).
    Default,
    /// An IPv4 relayed address.
    Ipv4,
    /// An IPv6 relayed address.
    Ipv6,
}

/// What a request was for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestKind {
    /// Allocate (§7.1).
    Allocate,
    /// Refresh with this lifetime in s; 0 deletes the allocation (§7.3).
    Refresh(u32),
    /// CreatePermission for this peer IP (§9.1).
    CreatePermission(IpAddr),
    /// ChannelBind of this channel to this peer (§12.1).
    ChannelBind(u16, SocketAddr),
}

impl RequestKind {
    fn method(&self) -> u16 {
        match self {
            RequestKind::Allocate => ALLOCATE,
            RequestKind::Refresh(_) => REFRESH,
            RequestKind::CreatePermission(_) => CREATE_PERMISSION,
            RequestKind::ChannelBind(..) => CHANNEL_BIND,
        }
    }
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A success response.
    Success,
    /// An error response (code, reason phrase).
    Error(u16, String),
    /// No answer within the schedule and the deadline.
    NoAnswer,
    /// ICMP said the server's port is unreachable (or the stream failed): the reason.
    Unreachable(String),
}

/// One request as the report lists it (RFC 8656 method, how it ended, the round trip).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TransactionRecord {
    /// `allocate`, `refresh`, `create-permission`, `channel-bind` (or `binding`).
    pub method: String,
    /// Whether it carried MESSAGE-INTEGRITY.
    pub authenticated: bool,
    /// `success-response`, `error-response`, `no-answer` or `unreachable`.
    pub class: String,
    /// ERROR-CODE of an error response.
    pub error_code: Option<u16>,
    /// Time from the first transmission to the answer, in ms.
    pub rtt_ms: Option<f64>,
    /// How often it was sent.
    pub transmissions: u32,
}

/// What the allocation tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllocationEvent {
    /// A request ended (after any 401/438 retry).
    Answered {
        /// Which request.
        kind: RequestKind,
        /// How it ended.
        outcome: Outcome,
    },
    /// Application data from a peer, via a Data indication or a channel.
    Data {
        /// The peer, as the relay saw it.
        peer: SocketAddr,
        /// The bytes.
        data: Vec<u8>,
        /// Through a channel (else a Data indication).
        channel: bool,
    },
}

/// How authentication went (RFC 8656 §7.2, RFC 8489 §9.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthOutcome {
    /// Nothing decided yet.
    Pending,
    /// The server accepted our credential.
    Accepted,
    /// The server answered 401 to an authenticated request.
    Rejected,
    /// The server allocated without asking for credentials (an open relay).
    NotRequired,
    /// The server asked for credentials and we had none.
    NoCredentials,
}

struct Pending {
    kind: RequestKind,
    tx: ClientTransaction,
    authenticated: bool,
    nonce_retries: u8,
}

/// One allocation (or the attempt at one) on one socket.
pub struct Allocation {
    socket: SocketId,
    server: SocketAddr,
    reliable: bool,
    credentials: Option<Credentials>,
    family: RequestedFamily,
    software: String,
    timeout: Duration,
    rto: Duration,
    realm: Option<String>,
    nonce: Option<String>,
    /// RFC 8489 password algorithm chosen from the server's offer, and the offer as sent
    /// (echoed back in PASSWORD-ALGORITHMS); `None`: the classic MESSAGE-INTEGRITY.
    algorithm: Option<(PasswordAlgorithm, Vec<u8>)>,
    pending: Vec<Pending>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<AllocationEvent>,
    channels: Vec<(u16, SocketAddr)>,
    /// How authentication went.
    pub auth: AuthOutcome,
    /// REALM the server named.
    pub realm_seen: Option<String>,
    /// XOR-RELAYED-ADDRESS of the allocation.
    pub relayed: Option<SocketAddr>,
    /// XOR-MAPPED-ADDRESS in the Allocate response (our server-reflexive address).
    pub mapped: Option<SocketAddr>,
    /// LIFETIME granted (s).
    pub lifetime_s: Option<u32>,
    /// SOFTWARE of the server.
    pub software_seen: Option<String>,
    /// 438 Stale Nonce answers seen.
    pub stale_nonces: u32,
    /// Signed responses whose MESSAGE-INTEGRITY did not verify (discarded).
    pub forged_responses: u32,
    /// Every finished request.
    pub transactions: Vec<TransactionRecord>,
    /// When the allocation was made (for refresh scheduling).
    pub allocated_at: Option<Instant>,
}

impl std::fmt::Debug for Allocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Allocation")
            .field("server", &self.server)
            .field("relayed", &self.relayed)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl Allocation {
    /// An allocation to make at `server` from `socket` (`reliable` for TCP/TLS), with
    /// `credentials` when the server asks for them; each request gives up after `timeout`.
    pub fn new(
        socket: SocketId,
        server: SocketAddr,
        reliable: bool,
        credentials: Option<Credentials>,
        family: RequestedFamily,
        software: String,
        timeout: Duration,
    ) -> Self {
        Allocation {
            socket,
            server,
            reliable,
            credentials,
            family,
            software,
            timeout,
            rto: DEFAULT_RTO,
            realm: None,
            nonce: None,
            algorithm: None,
            pending: Vec::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            channels: Vec::new(),
            auth: AuthOutcome::Pending,
            realm_seen: None,
            relayed: None,
            mapped: None,
            lifetime_s: None,
            software_seen: None,
            stale_nonces: 0,
            forged_responses: 0,
            transactions: Vec::new(),
            allocated_at: None,
        }
    }

    /// The socket it runs on.
    pub fn socket(&self) -> SocketId {
        self.socket
    }

    /// The TURN server.
    pub fn server(&self) -> SocketAddr {
        self.server
    }

    /// Whether any request is outstanding.
    pub fn busy(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Starts a request at `now`.
    pub fn request(&mut self, now: Instant, kind: RequestKind, rng: &mut impl rand::Rng) {
        let authenticated = self.nonce.is_some() && self.credentials.is_some();
        self.send_request(now, kind, authenticated, 0, rng);
    }

    fn send_request(
        &mut self,
        now: Instant,
        kind: RequestKind,
        authenticated: bool,
        nonce_retries: u8,
        rng: &mut impl rand::Rng,
    ) {
        let tid = new_transaction_id(rng);
        let bytes = match self.encode(&kind, tid, authenticated) {
            Ok(b) => b,
            Err(e) => {
                // Only a credential stun_codec refuses (too long) gets here.
                self.events.push_back(AllocationEvent::Answered {
                    kind,
                    outcome: Outcome::Error(0, e),
                });
                return;
            }
        };
        let mut tx = ClientTransaction::new(tid, bytes, self.reliable);
        tx.start(now, self.rto, now + self.timeout);
        self.pending.push(Pending {
            kind,
            tx,
            authenticated,
            nonce_retries,
        });
        self.step(now);
    }

    fn encode(&self, kind: &RequestKind, tid: [u8; 12], auth: bool) -> Result<Vec<u8>, String> {
        let e = |e: &dyn std::fmt::Display| e.to_string();
        let mut b = MessageBuilder::request(kind.method(), tid).map_err(|x| e(&x))?;
        match kind {
            RequestKind::Allocate => {
                b = b.attribute(RequestedTransport::new(17));
                match self.family {
                    RequestedFamily::Default => {}
                    RequestedFamily::Ipv4 => {
                        b = b.attribute(RequestedAddressFamily::new(AddressFamily::V4));
                    }
                    RequestedFamily::Ipv6 => {
                        b = b.attribute(RequestedAddressFamily::new(AddressFamily::V6));
                    }
                }
            }
            RequestKind::Refresh(lifetime) => {
                b = b.attribute(Lifetime::from_u32(*lifetime));
            }
            RequestKind::CreatePermission(ip) => {
                b = b.attribute(XorPeerAddress::new(SocketAddr::new(*ip, 0)));
            }
            RequestKind::ChannelBind(ch, peer) => {
                b = b
                    .attribute(ChannelNumber::new(*ch).map_err(|x| e(&x))?)
                    .attribute(XorPeerAddress::new(*peer));
            }
        }
        b = b.attribute(Software::new(self.software.clone()).map_err(|x| e(&x))?);
        if let (true, Some((alg, offer)), Some(c), Some(realm), Some(nonce)) = (
            auth,
            &self.algorithm,
            &self.credentials,
            &self.realm,
            &self.nonce,
        ) {
            // RFC 8489 §9.2.4: echo the offer, name the choice, sign with
            // MESSAGE-INTEGRITY-SHA256 under the chosen algorithm's key.
            use stun_codec::rfc5389::attributes::{Nonce, Realm, Username};
            let b = b
                .attribute(Username::new(c.username().to_string()).map_err(|x| e(&x))?)
                .attribute(Nonce::new(nonce.clone()).map_err(|x| e(&x))?)
                .attribute(Realm::new(realm.clone()).map_err(|x| e(&x))?)
                .attribute(crate::stun::attributes::PasswordAlgorithms(offer.clone()))
                .attribute(crate::stun::attributes::PasswordAlgorithm(alg.attribute()));
            let unsigned = b.encode(false).map_err(|x| e(&x))?;
            let key = alg.key(c.username(), realm, c.password());
            return Ok(integrity::sign_sha256(unsigned, &key, true));
        }
        if auth
            && let (Some(c), Some(realm), Some(nonce)) =
                (&self.credentials, &self.realm, &self.nonce)
        {
            b = b
                .long_term_credential(&LongTermCredential {
                    username: c.username().to_string(),
                    realm: realm.clone(),
                    nonce: nonce.clone(),
                    password: c.password().to_string(),
                })
                .map_err(|x| e(&x))?;
        }
        b.encode(true).map_err(|x| e(&x))
    }

    /// Sends `data` to `peer` in a Send indication (RFC 8656 §11.1).
    pub fn send_indication(&mut self, peer: SocketAddr, data: &[u8], rng: &mut impl rand::Rng) {
        let Ok(d) = Data::new(data.to_vec()) else {
            return;
        };
        let tid = new_transaction_id(rng);
        if let Ok(bytes) = MessageBuilder::new(Class::Indication, SEND, tid)
            .map(|b| b.attribute(XorPeerAddress::new(peer)).attribute(d))
            .and_then(|b| b.encode(false))
        {
            self.transmits.push_back(Transmit {
                socket: self.socket,
                destination: self.server,
                payload: bytes,
            });
        }
    }

    /// Sends `data` on a bound channel (RFC 8656 §12.4); false when `peer` has none.
    pub fn send_channel(&mut self, peer: SocketAddr, data: &[u8]) -> bool {
        let Some(&(ch, _)) = self.channels.iter().find(|(_, p)| *p == peer) else {
            return false;
        };
        self.transmits.push_back(Transmit {
            socket: self.socket,
            destination: self.server,
            payload: channel::encode(ch, data, self.reliable),
        });
        true
    }

    /// Whether bytes from `from` on `socket` are this allocation's to handle.
    pub fn owns(&self, socket: SocketId, from: SocketAddr) -> bool {
        socket == self.socket && (self.reliable || from == self.server)
    }

    /// Handles bytes from the server at `now`.
    pub fn handle_input(&mut self, now: Instant, data: &[u8], rng: &mut impl rand::Rng) {
        if let Some((ch, payload)) = channel::decode(data) {
            if let Some(&(_, peer)) = self.channels.iter().find(|(c, _)| *c == ch) {
                self.events.push_back(AllocationEvent::Data {
                    peer,
                    data: payload.to_vec(),
                    channel: true,
                });
            }
            return;
        }
        let Ok(m) = decode(data) else { return };
        match m.class {
            Class::Indication if m.method == DATA => {
                if let (Some(peer), Some(d)) = (m.peer_address, m.data) {
                    self.events.push_back(AllocationEvent::Data {
                        peer,
                        data: d,
                        channel: false,
                    });
                }
            }
            Class::SuccessResponse | Class::ErrorResponse => {
                self.handle_response(now, m, data, rng);
            }
            _ => {}
        }
    }

    fn handle_response(
        &mut self,
        now: Instant,
        m: StunMessage,
        raw: &[u8],
        rng: &mut impl rand::Rng,
    ) {
        let Some(i) = self.pending.iter().position(|p| p.tx.matches(&m)) else {
            return;
        };
        if m.method != self.pending[i].kind.method() {
            return; // a response of another method with our transaction ID: not ours
        }
        // RFC 8489 §9.2.5: a signed response to an authenticated request must verify with
        // our key; one that does not is not the server's (discarded, the request stays
        // outstanding). Unsigned answers are taken as they come (coturn signs its own).
        // After an SHA-256 exchange a response signed only with MESSAGE-INTEGRITY is a
        // bid-down and is discarded too.
        if self.pending[i].authenticated
            && (m.message_integrity || m.message_integrity_sha256)
            && !self.signature_ok(&m, raw)
        {
            self.forged_responses += 1;
            return;
        }
        let mut p = self.pending.remove(i);
        let rtt = p.tx.answered(now);
        if let Some(sample) = p.tx.karn_sample(rtt) {
            self.rto = rto_from_rtt(sample, Duration::from_millis(100), DEFAULT_RTO);
        }
        if m.software.is_some() {
            self.software_seen.clone_from(&m.software);
        }
        let code = m.error_code.as_ref().map(|e| e.0);
        self.record(&p, m.class.as_str(), code, Some(rtt));
        match (m.class, code) {
            (Class::ErrorResponse, Some(401)) if !p.authenticated => {
                if m.realm.is_some() {
                    self.realm_seen.clone_from(&m.realm);
                }
                if self.credentials.is_none() {
                    self.auth = AuthOutcome::NoCredentials;
                    self.finish(p.kind, &m);
                } else if let (Some(realm), Some(nonce)) = (m.realm.clone(), m.nonce.clone()) {
                    if let Err(why) = self.take_offer(&m) {
                        self.events.push_back(AllocationEvent::Answered {
                            kind: p.kind,
                            outcome: Outcome::Error(401, why),
                        });
                        return;
                    }
                    self.realm = Some(realm);
                    self.nonce = Some(nonce);
                    self.send_request(now, p.kind, true, p.nonce_retries, rng);
                } else {
                    self.finish(p.kind, &m);
                }
            }
            (Class::ErrorResponse, Some(438)) if p.nonce_retries < MAX_NONCE_RETRIES => {
                self.stale_nonces += 1;
                if self.take_offer(&m).is_err() {
                    self.finish(p.kind, &m);
                    return;
                }
                if let Some(n) = m.nonce {
                    self.nonce = Some(n);
                }
                if m.realm.is_some() {
                    self.realm = m.realm;
                }
                let auth = self.credentials.is_some() && self.nonce.is_some();
                p.nonce_retries += 1;
                self.send_request(now, p.kind, auth, p.nonce_retries, rng);
            }
            (Class::ErrorResponse, Some(401)) => {
                self.auth = AuthOutcome::Rejected;
                self.finish(p.kind, &m);
            }
            (Class::SuccessResponse, _) => {
                if p.kind == RequestKind::Allocate {
                    self.auth = if p.authenticated {
                        AuthOutcome::Accepted
                    } else {
                        AuthOutcome::NotRequired
                    };
                    self.relayed = m.relayed_address;
                    self.mapped = m.mapped();
                    self.lifetime_s = m.lifetime_s;
                    self.allocated_at = Some(now);
                }
                if let RequestKind::Refresh(l) = p.kind
                    && l > 0
                {
                    self.lifetime_s = m.lifetime_s.or(self.lifetime_s);
                }
                if let RequestKind::ChannelBind(ch, peer) = p.kind
                    && !self.channels.contains(&(ch, peer))
                {
                    self.channels.push((ch, peer));
                }
                if p.authenticated && self.auth == AuthOutcome::Pending {
                    self.auth = AuthOutcome::Accepted;
                }
                self.events.push_back(AllocationEvent::Answered {
                    kind: p.kind,
                    outcome: Outcome::Success,
                });
            }
            _ => self.finish(p.kind, &m),
        }
    }

    /// Whether a signed response verifies under our key (RFC 8489 §9.2.5).
    fn signature_ok(&self, m: &StunMessage, raw: &[u8]) -> bool {
        let (Some(c), Some(realm)) = (&self.credentials, &self.realm) else {
            return true;
        };
        match &self.algorithm {
            Some((alg, _)) => {
                m.message_integrity_sha256
                    && integrity::verify_sha256(raw, &alg.key(c.username(), realm, c.password()))
            }
            None if m.message_integrity_sha256 && !m.message_integrity => false,
            None => crate::stun::message::verify_long_term_integrity(
                raw,
                c.username(),
                realm,
                c.password(),
            ),
        }
    }

    /// Takes the server's password algorithm offer from a 401/438 (RFC 8489 §9.2.5); `Err`
    /// when the nonce announces algorithms the response does not list (a possible bid-down:
    /// the request must not be repeated).
    fn take_offer(&mut self, m: &StunMessage) -> Result<(), String> {
        let announced = m
            .nonce
            .as_deref()
            .is_some_and(integrity::offers_password_algorithms);
        match (&m.password_algorithms, announced) {
            (Some(raw), true) => {
                let list = integrity::algorithms(raw)
                    .ok_or("a malformed PASSWORD-ALGORITHMS attribute")?;
                let alg = integrity::choose(&list).ok_or_else(|| {
                    format!("the server offers only password algorithms we do not know: {list:?}")
                })?;
                self.algorithm = Some((alg, raw.clone()));
                Ok(())
            }
            (None, true) => Err(
                "the nonce announces password algorithms but none are listed (RFC 8489 §9.2.5: possible downgrade; not repeated)"
                    .into(),
            ),
            _ => Ok(()),
        }
    }

    /// The password algorithm in use (RFC 8489), `None` for the classic MESSAGE-INTEGRITY.
    pub fn password_algorithm(&self) -> Option<PasswordAlgorithm> {
        self.algorithm.as_ref().map(|a| a.0)
    }

    fn finish(&mut self, kind: RequestKind, m: &StunMessage) {
        let outcome = match &m.error_code {
            Some((code, reason)) => Outcome::Error(*code, reason.clone()),
            None => Outcome::Error(0, "error response without ERROR-CODE".into()),
        };
        self.events
            .push_back(AllocationEvent::Answered { kind, outcome });
    }

    fn record(&mut self, p: &Pending, class: &str, code: Option<u16>, rtt: Option<Duration>) {
        self.transactions.push(TransactionRecord {
            method: crate::stun::message::method_name(p.kind.method()),
            authenticated: p.authenticated,
            class: class.to_string(),
            error_code: code,
            rtt_ms: rtt.map(crate::rtp::stats::round_ms),
            transmissions: p.tx.transmissions(),
        });
    }

    /// ICMP (or a failed stream) at `now`: every outstanding request ends as unreachable.
    pub fn unreachable(&mut self, reason: &str) {
        for p in std::mem::take(&mut self.pending) {
            self.record(&p, "unreachable", None, None);
            self.events.push_back(AllocationEvent::Answered {
                kind: p.kind,
                outcome: Outcome::Unreachable(reason.to_string()),
            });
        }
    }

    /// Drops every outstanding request without an event, except an Allocate: its answer
    /// may still bring an allocation that must then be deleted.
    pub fn abandon(&mut self) {
        self.pending.retain(|p| p.kind == RequestKind::Allocate);
    }

    /// Runs the retransmission schedules to `now`.
    pub fn step(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.pending.len() {
            match self.pending[i].tx.step(now) {
                Action::Transmit => {
                    self.transmits.push_back(Transmit {
                        socket: self.socket,
                        destination: self.server,
                        payload: self.pending[i].tx.request().to_vec(),
                    });
                }
                Action::Wait => i += 1,
                Action::GiveUp => {
                    let p = self.pending.remove(i);
                    self.record(&p, "no-answer", None, None);
                    self.events.push_back(AllocationEvent::Answered {
                        kind: p.kind,
                        outcome: Outcome::NoAnswer,
                    });
                }
            }
        }
    }

    /// The earliest retransmission or give-up.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending
            .iter()
            .filter_map(|p| p.tx.poll_timeout())
            .min()
    }

    /// The next datagram or stream message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<AllocationEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stun::message::verify_long_term_integrity;

    const ALLOCATE_401: &[u8] = include_bytes!("../../../tests/data/turn/coturn_allocate_401.bin");
    const ALLOCATE_OK: &[u8] =
        include_bytes!("../../../tests/data/turn/coturn_allocate_success.bin");
    const CHANNEL_BIND_OK: &[u8] =
        include_bytes!("../../../tests/data/turn/coturn_channel_bind_success.bin");
    const DATA_INDICATION: &[u8] =
        include_bytes!("../../../tests/data/turn/coturn_data_indication.bin");
    const CHANNEL_DATA: &[u8] = include_bytes!("../../../tests/data/turn/coturn_channel_data.bin");

    #[test]
    fn real_coturn_messages_decode() {
        let m = decode(ALLOCATE_401).unwrap();
        assert_eq!((m.class, m.method), (Class::ErrorResponse, ALLOCATE));
        assert_eq!(m.error_code, Some((401, "Unauthorized".into())));
        assert_eq!(m.realm.as_deref(), Some("lab"));
        assert_eq!(m.nonce.as_ref().map(String::len), Some(16));
        assert!(!m.message_integrity);

        let m = decode(ALLOCATE_OK).unwrap();
        assert_eq!((m.class, m.method), (Class::SuccessResponse, ALLOCATE));
        assert_eq!(m.relayed_address.unwrap().ip().to_string(), "203.0.113.10");
        assert_eq!(m.mapped().unwrap().ip().to_string(), "203.0.113.1");
        assert_eq!(m.lifetime_s, Some(600));
        assert!(m.message_integrity && m.fingerprint);
        // coturn signs its responses with the long-term key (RFC 8489 §9.2.4).
        assert!(verify_long_term_integrity(
            ALLOCATE_OK,
            "alice",
            "lab",
            "secret-pw"
        ));
        assert!(!verify_long_term_integrity(
            ALLOCATE_OK,
            "alice",
            "lab",
            "wrong"
        ));
        assert!(verify_long_term_integrity(
            CHANNEL_BIND_OK,
            "alice",
            "lab",
            "secret-pw"
        ));

        let m = decode(DATA_INDICATION).unwrap();
        assert_eq!((m.class, m.method), (Class::Indication, DATA));
        assert_eq!(m.data.as_ref().map(Vec::len), Some(172));
        assert_eq!(m.peer_address.unwrap().ip().to_string(), "203.0.113.1");

        let (ch, data) = channel::decode(CHANNEL_DATA).unwrap();
        assert_eq!((ch, data.len()), (0x4000, 172));
    }

    #[test]
    fn nul_padded_reason_phrases_and_responses_without_realm() {
        // coturn pads reason phrases with NUL bytes; a success without REALM is normal.
        let mut m = vec![0x01, 0x14, 0x00, 0x18, 0x21, 0x12, 0xa4, 0x42];
        m.extend_from_slice(&[3; 12]);
        m.extend_from_slice(&[0x00, 0x09, 0x00, 0x14, 0, 0, 4, 38]);
        m.extend_from_slice(b"Wrong nonce\0\0\0\0\0");
        let d = decode(&m).unwrap();
        assert_eq!(d.error_code, Some((438, "Wrong nonce".into())));
        assert_eq!(d.method, REFRESH);
        let ok = MessageBuilder::new(Class::SuccessResponse, REFRESH, [4; 12])
            .unwrap()
            .attribute(Lifetime::from_u32(0))
            .encode(true)
            .unwrap();
        let d = decode(&ok).unwrap();
        assert_eq!((d.realm, d.lifetime_s), (None, Some(0)));
    }

    #[test]
    fn a_forged_signed_answer_is_discarded() {
        // A success whose MESSAGE-INTEGRITY does not verify with our key is not the server's:
        // the request stays outstanding (and is retransmitted), nothing is learned from it.
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
        #[allow(clippy::disallowed_methods)]
        let t0 = Instant::now();
        let server: SocketAddr = "198.51.100.10:3478".parse().unwrap();
        let mut a = Allocation::new(
            0,
            server,
            false,
            Some(Credentials::LongTerm {
                username: "alice".into(),
                password: "right".into(),
            }),
            RequestedFamily::Default,
            "t".into(),
            Duration::from_secs(3),
        );
        a.request(t0, RequestKind::Allocate, &mut rng);
        let first = a.poll_transmit().unwrap();
        let req = decode(&first.payload).unwrap();
        let challenge = MessageBuilder::new(Class::ErrorResponse, ALLOCATE, req.transaction_id)
            .unwrap()
            .attribute(
                stun_codec::rfc5389::attributes::ErrorCode::new(401, "Unauthorized".into())
                    .unwrap(),
            )
            .attribute(stun_codec::rfc5389::attributes::Realm::new("lab".into()).unwrap())
            .attribute(stun_codec::rfc5389::attributes::Nonce::new("n1".into()).unwrap())
            .encode(true)
            .unwrap();
        a.handle_input(t0, &challenge, &mut rng);
        let second = decode(&a.poll_transmit().unwrap().payload).unwrap();
        assert!(second.message_integrity);
        let forged = MessageBuilder::new(Class::SuccessResponse, ALLOCATE, second.transaction_id)
            .unwrap()
            .attribute(stun_codec::rfc5766::attributes::XorRelayAddress::new(
                server,
            ))
            .long_term_credential(&LongTermCredential {
                username: "alice".into(),
                realm: "lab".into(),
                nonce: "n1".into(),
                password: "not-the-key".into(),
            })
            .unwrap()
            .encode(true)
            .unwrap();
        a.handle_input(t0, &forged, &mut rng);
        assert_eq!(a.forged_responses, 1);
        assert!(a.relayed.is_none());
        assert!(a.busy(), "still waiting for the real answer");
        assert_eq!(a.poll_event(), None);
    }
}
