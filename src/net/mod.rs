//! The tokio layer: sockets, timers and name resolution. Protocol machines are driven from
//! here; nothing in this module knows a protocol's rules.

pub mod dns;
pub mod icmp;
pub mod portmap;
pub mod resolve;
pub mod sip;
pub mod tcp;
pub mod udp;

/// Which way a traced datagram went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Sent by us.
    Sent,
    /// Received by us.
    Received,
}

/// A hook that sees every datagram or stream message sent and received, for `-v` traces:
/// `(direction, local address, remote address, bytes)`.
pub type Tracer<'a> =
    &'a (dyn Fn(Direction, std::net::SocketAddr, std::net::SocketAddr, &[u8]) + Sync);
