//! DNS rules for SIP and ENUM, without I/O: RFC 3263 server location (NAPTR → SRV → A/AAAA)
//! in [`rfc3263`]. The hickory-resolver client that runs the queries and records the trail
//! is `crate::net::dns`; `enum-lookup` reuses both.

pub mod rfc3263;
