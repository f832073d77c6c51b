//! DNS for SIP and ENUM: RFC 3263 server location (NAPTR → SRV → A/AAAA) as pure functions in
//! [`rfc3263`], and the hickory-resolver client that runs the queries and records the trail in
//! [`resolver`]. `enum-lookup` reuses both.

pub mod resolver;
pub mod rfc3263;
