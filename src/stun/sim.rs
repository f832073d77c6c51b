//! A simulated network for tests in simulated time: a client host (10.0.0.2) behind a NAT of
//! chosen RFC 4787 mapping and filtering behaviour, and an RFC 5780 STUN server with a primary
//! and an alternate address on the public side. An answer arrives 2 ms after its request;
//! every n-th datagram
//! can be lost. Feed it to [`crate::machine::simulate`] as the peer:
//!
//! ```
//! # use std::time::Instant;
//! # use voipdiag::stun::sim::{Filtering, SimNetwork};
//! let mut net = SimNetwork::new(false, Filtering::AddressDependent, 0);
//! // machine::simulate(&mut machine, t0, 10_000, |now, t| net.send(now, t), |_, _, _| {});
//! ```
//!
//! Used by the discovery's tests and by command tests that need a NAT without namespaces;
//! TURN tests add a relay next to the server.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::attributes::ChangeRequest;
use super::message::{decode, encode_binding_success};
use crate::machine::{SocketId, Transmit};

/// The NAT's public address.
pub const PUBLIC_IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 1));
/// The client's private address.
pub const CLIENT_IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));
/// Time from a request to its answer.
pub const ONE_WAY: Duration = Duration::from_millis(2);

/// RFC 4787 filtering of the simulated NAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filtering {
    /// Anyone may send to a mapping.
    EndpointIndependent,
    /// Only addresses the client sent to.
    AddressDependent,
    /// Only address:port pairs the client sent to.
    AddressAndPortDependent,
}

/// The simulated client, NAT and RFC 5780 server.
#[derive(Debug)]
pub struct SimNetwork {
    /// Address-and-port-dependent mapping (symmetric) instead of endpoint-independent.
    pub apdm: bool,
    /// Filtering.
    pub filtering: Filtering,
    /// Drop every n-th datagram (0 = lossless).
    pub drop_every: u32,
    /// The server's primary address.
    pub primary: SocketAddr,
    /// Its alternate address (OTHER-ADDRESS).
    pub alt: SocketAddr,
    sent: u32,
    nat: Nat,
}

/// A NAT of chosen RFC 4787 mapping and filtering behaviour in front of the client host
/// ([`CLIENT_IP`]), with the public address [`PUBLIC_IP`]: the part of the simulated network
/// that the STUN and the TURN simulations share.
#[derive(Debug, Clone)]
pub struct Nat {
    /// Address-and-port-dependent mapping (symmetric) instead of endpoint-independent.
    pub apdm: bool,
    /// Filtering.
    pub filtering: Filtering,
    /// (local, destination or 0.0.0.0:0) → public port.
    mappings: HashMap<(SocketAddr, SocketAddr), u16>,
    contacted: HashSet<(SocketAddr, SocketAddr)>,
    next_port: u16,
}

impl Nat {
    /// A NAT with no mappings yet.
    pub fn new(apdm: bool, filtering: Filtering) -> Self {
        Nat {
            apdm,
            filtering,
            mappings: HashMap::new(),
            contacted: HashSet::new(),
            next_port: 40000,
        }
    }

    /// A datagram from `local` to `dest` leaves with this public source address (the
    /// mapping is made on first use).
    pub fn outbound(&mut self, local: SocketAddr, dest: SocketAddr) -> SocketAddr {
        self.contacted.insert((local, dest));
        SocketAddr::new(PUBLIC_IP, self.public_port(local, dest))
    }

    /// Where a datagram from `from` to the public address `public` goes inside, if the
    /// mapping exists and the filter lets it in.
    pub fn inbound(&self, public: SocketAddr, from: SocketAddr) -> Option<SocketAddr> {
        if public.ip() != PUBLIC_IP {
            return None;
        }
        self.mappings
            .iter()
            .filter(|(_, port)| **port == public.port())
            .map(|((local, _), _)| *local)
            .find(|local| self.inbound_allowed(*local, from))
    }

    /// Forgets every mapping (a conntrack flush or a NAT reboot): the next datagrams get new
    /// public ports.
    pub fn rebind(&mut self) {
        self.mappings.clear();
        self.contacted.clear();
        self.next_port += 100;
    }
}

impl SimNetwork {
    /// A network with the server at 198.51.100.10:3478 (alternate 198.51.100.11:3479).
    pub fn new(apdm: bool, filtering: Filtering, drop_every: u32) -> Self {
        SimNetwork {
            apdm,
            filtering,
            drop_every,
            primary: SocketAddr::new([198, 51, 100, 10].into(), 3478),
            alt: SocketAddr::new([198, 51, 100, 11].into(), 3479),
            sent: 0,
            nat: Nat::new(apdm, filtering),
        }
    }

    /// The local address of the client's socket `socket`: 10.0.0.2, port 5000 + socket.
    pub fn local(socket: SocketId) -> SocketAddr {
        SocketAddr::new(CLIENT_IP, 5000 + socket as u16)
    }
}

impl Nat {
    fn public_port(&mut self, local: SocketAddr, dest: SocketAddr) -> u16 {
        let key = if self.apdm {
            (local, dest)
        } else {
            (local, SocketAddr::new([0, 0, 0, 0].into(), 0))
        };
        if let Some(p) = self.mappings.get(&key) {
            return *p;
        }
        let port = if self.apdm {
            self.next_port += 1;
            self.next_port
        } else {
            local.port()
        };
        self.mappings.insert(key, port);
        port
    }

    fn inbound_allowed(&self, local: SocketAddr, from: SocketAddr) -> bool {
        self.contacted.iter().any(|(l, d)| {
            *l == local
                && match self.filtering {
                    Filtering::EndpointIndependent => true,
                    Filtering::AddressDependent => d.ip() == from.ip(),
                    Filtering::AddressAndPortDependent => *d == from,
                }
        })
    }
}

impl SimNetwork {
    /// The client sends `t`: through the NAT to the server, whose answer comes back through
    /// the NAT (if its filter lets it in) as `(delay, socket, from, bytes)`. This NAT does not
    /// hairpin; datagrams to anything but the server vanish.
    pub fn send(
        &mut self,
        _now: Instant,
        t: &Transmit,
    ) -> Vec<(Duration, SocketId, SocketAddr, Vec<u8>)> {
        self.sent += 1;
        if self.drop_every > 0 && self.sent.is_multiple_of(self.drop_every) {
            return vec![];
        }
        let local = Self::local(t.socket);
        let dest = t.destination;
        let public = self.nat.outbound(local, dest);
        let servers = [
            self.primary,
            self.alt,
            SocketAddr::new(self.alt.ip(), self.primary.port()),
            SocketAddr::new(self.primary.ip(), self.alt.port()),
        ];
        if !servers.contains(&dest) {
            return vec![];
        }
        let Ok(req) = decode(&t.payload) else {
            return vec![];
        };
        let cr = req.change_request.unwrap_or(ChangeRequest {
            change_ip: false,
            change_port: false,
        });
        let ip = match (cr.change_ip, dest.ip() == self.primary.ip()) {
            (false, _) => dest.ip(),
            (true, true) => self.alt.ip(),
            (true, false) => self.primary.ip(),
        };
        let port = match (cr.change_port, dest.port() == self.primary.port()) {
            (false, _) => dest.port(),
            (true, true) => self.alt.port(),
            (true, false) => self.primary.port(),
        };
        let from = SocketAddr::new(ip, port);
        let Ok(resp) =
            encode_binding_success(req.transaction_id, public, Some(self.alt), Some(from))
        else {
            return vec![];
        };
        if !self.nat.inbound_allowed(local, from) {
            return vec![];
        }
        vec![(ONE_WAY, t.socket, from, resp)]
    }
}
