//! SIP signalling core (RFC 3261): message parsing and building, digest authentication, client
//! transactions and target URIs. No I/O: bytes and time go in, bytes and events come out.

pub mod digest;
pub mod message;
pub mod request;
pub mod target;
pub mod transaction;
