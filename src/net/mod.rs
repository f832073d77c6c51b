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

pub use crate::machine::{Direction, Traced};

/// A hook that sees every datagram or stream message sent and received, for `-v` traces.
pub type Tracer<'a> = &'a (dyn Fn(&Traced<'_>) + Sync);
