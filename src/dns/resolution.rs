//! What resolving a name found, as data: every query with its rcode, time and AD bit, and the
//! addresses to try for a SIP domain (RFC 3263) with where each came from. The client that
//! fills them is `crate::net::dns`; the reports show them.

use std::net::{IpAddr, SocketAddr};

use super::rfc3263::ServiceTransport;
use super::{Naptr, Srv};
use crate::sip::target::Transport;

/// One query and what came of it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QueryLog {
    /// Name queried.
    pub name: String,
    /// `NAPTR`, `SRV`, `A`, `AAAA`.
    #[serde(rename = "type")]
    pub rtype: String,
    /// `NOERROR`, `NXDOMAIN`, `NODATA`, `SERVFAIL`, `REFUSED`, `TIMEOUT`, or the error.
    pub rcode: String,
    /// Number of answer records of the type asked.
    pub answers: usize,
    /// Time taken, ms.
    pub ms: f64,
    /// The AD bit of the answer: the nameserver validated it with DNSSEC (RFC 4035 §3.2.3;
    /// asked for with AD in the query, RFC 6840 §5.7). `null` when no answer header was
    /// seen (timeouts, errors, negative answers).
    pub ad: Option<bool>,
    /// Records of the type asked for another name than the one asked (nor its CNAME
    /// chain's end): not used. Present only when there were some.
    #[serde(skip_serializing_if = "is_zero")]
    pub foreign: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Where a resolved target came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// An IP literal: no DNS.
    Literal,
    /// NAPTR → SRV → A/AAAA.
    Naptr,
    /// SRV (no NAPTR) → A/AAAA.
    Srv,
    /// A record of the host itself.
    A,
    /// AAAA record of the host itself.
    Aaaa,
    /// NAPTR records exist but none names a usable service, so the RFC 3263 §4.1 SRV names
    /// were tried instead.
    Fallback,
}

/// One address to try for a SIP domain, any NAPTR transport (WebSocket included): what
/// `enum-lookup` reports. The SIP commands get [`Resolved`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Located {
    /// Transport.
    pub transport: ServiceTransport,
    /// Host name the address belongs to.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Address.
    pub address: IpAddr,
    /// SRV priority, when from SRV.
    pub priority: Option<u16>,
    /// SRV weight, when from SRV.
    pub weight: Option<u16>,
    /// How we got here.
    pub source: Source,
}

/// What locating a SIP domain found on the way: the records, for the report.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Location {
    /// Addresses in try order.
    pub targets: Vec<Located>,
    /// The domain's NAPTR records as received.
    pub naptr: Vec<Naptr>,
    /// SRV records by name, in query order.
    pub srv: Vec<(String, Vec<Srv>)>,
}

/// One address to try, in order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resolved {
    /// Transport to use.
    pub transport: Transport,
    /// Host name the address belongs to (for TLS server name checks).
    pub host: String,
    /// Address and port.
    pub address: SocketAddr,
    /// How we got here.
    pub source: Source,
    /// SRV priority and weight, when from SRV.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u16>,
    /// SRV weight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u16>,
}

/// The outcome of RFC 3263 resolution.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Resolution {
    /// Addresses in the order a client tries them.
    pub targets: Vec<Resolved>,
    /// Every query made.
    pub queries: Vec<QueryLog>,
}
