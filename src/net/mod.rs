//! The tokio layer: the one driver that runs every sans-IO machine over sockets, Ctrl-C, TLS,
//! and name resolution. Nothing in this module knows a protocol's rules.
//!
//! With `commands/` and `main.rs`, the only place that reads clocks, draws ambient randomness
//! or spawns tasks (`clippy.toml`).
#![allow(clippy::disallowed_methods)]

pub mod dns;
pub mod driver;
pub mod icmp;
pub mod resolve;
pub mod signal;
pub mod sip;
pub mod tls;
pub mod upnp;

/// Which way a traced datagram went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Direction {
    /// Sent by us.
    Sent,
    /// Received by us.
    Received,
}

/// One datagram or stream message, as the trace hook sees it.
#[derive(Debug, Clone, Copy)]
pub struct Traced<'a> {
    /// Sent or received.
    pub direction: Direction,
    /// Our address.
    pub local: std::net::SocketAddr,
    /// The other end.
    pub remote: std::net::SocketAddr,
    /// Whether it went over a stream (TCP/TLS) rather than UDP.
    pub stream: bool,
    /// The bytes.
    pub bytes: &'a [u8],
}

/// A hook that sees every datagram or stream message sent and received, for `-v` traces.
pub type Tracer<'a> = &'a (dyn Fn(&Traced<'_>) + Sync);
