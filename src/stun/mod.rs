//! STUN (RFC 8489/5389) and NAT behaviour discovery (RFC 5780), without I/O.

pub mod attributes;
pub mod behavior;
pub mod message;
pub mod probe;
pub mod retransmit;
