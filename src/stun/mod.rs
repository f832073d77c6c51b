//! STUN (RFC 8489/5389), its client transaction, Binding checks and NAT behaviour discovery
//! (RFC 5780), without I/O.

pub mod attributes;
pub mod behavior;
pub mod binding;
pub mod builder;
pub mod discovery;
pub mod integrity;
pub mod message;
pub mod retransmit;
pub mod sim;
pub mod transaction;
pub mod turn;

/// What STUN runs over (RFC 8489 §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StunTransport {
    /// UDP, with retransmissions (§6.2.1).
    Udp,
    /// TCP, framed by the length field (§6.2.2).
    Tcp,
}

impl StunTransport {
    /// `udp` or `tcp`.
    pub fn as_str(self) -> &'static str {
        match self {
            StunTransport::Udp => "udp",
            StunTransport::Tcp => "tcp",
        }
    }
}
