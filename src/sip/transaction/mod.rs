//! SIP transactions (RFC 3261 §17): the client side in [`client`] and the server side in
//! [`server`], with the timer values they share.

use std::time::Duration;

pub mod client;
pub mod server;

pub use client::{Action, ClientTransaction, Kind, Outcome, State};
pub use server::ServerTransaction;

/// Timer values (RFC 3261 §17.1.1.1, Table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// RTT estimate, 500 ms by default.
    pub t1: Duration,
    /// Longest retransmit interval for non-INVITE requests, 4 s.
    pub t2: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
        }
    }
}
