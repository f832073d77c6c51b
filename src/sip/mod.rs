//! SIP signalling core.
pub mod digest;
pub mod message;
