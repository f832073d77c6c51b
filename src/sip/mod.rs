//! SIP signalling core.
pub mod message;
