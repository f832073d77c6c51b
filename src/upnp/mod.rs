//! Asking the gateway for a port, without I/O: NAT-PMP (RFC 6886) in [`natpmp`] and PCP
//! (RFC 6887) in [`pcp`], both on the gateway's UDP port 5351, sent and retransmitted by the
//! [`exchange::PortMapExchange`] machine; the UPnP IGD facts igd-next leaves to us (device
//! description, status actions, error names, the default gateway) in [`igd`]. Discovery
//! (SSDP) and the port-mapping SOAP actions are igd-next's, called from `crate::net::upnp`.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde::Serialize;

pub mod exchange;
pub mod igd;
pub mod natpmp;
pub mod pcp;
pub mod pmp;
pub mod ssdp;
pub mod xml;

/// The gateway's port for NAT-PMP and PCP (RFC 6886 §3, RFC 6887 §19.1).
pub const PORT: u16 = 5351;

/// Transport of a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapProtocol {
    /// UDP (SIP, RTP).
    Udp,
    /// TCP (SIP over TCP/TLS).
    Tcp,
}

impl MapProtocol {
    /// NAT-PMP opcode (RFC 6886 §3.3): 1 UDP, 2 TCP.
    pub(crate) fn natpmp_opcode(self) -> u8 {
        match self {
            MapProtocol::Udp => 1,
            MapProtocol::Tcp => 2,
        }
    }

    /// IANA protocol number (PCP, RFC 6887 §11.1): 17 UDP, 6 TCP.
    pub fn iana(self) -> u8 {
        match self {
            MapProtocol::Udp => 17,
            MapProtocol::Tcp => 6,
        }
    }

    /// `UDP` or `TCP`, as UPnP writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            MapProtocol::Udp => "UDP",
            MapProtocol::Tcp => "TCP",
        }
    }
}

/// Why a response could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer bytes than the fixed part.
    #[error("{0} bytes: too short")]
    Short(usize),
    /// Not the version we spoke.
    #[error("version {0}")]
    Version(u8),
    /// Not a response, or a response to another request.
    #[error("opcode {0} does not answer our request")]
    Opcode(u8),
}

/// The send times of a request (RFC 6886 §3.1: 250 ms, doubling, nine tries), cut at
/// `bound`: offsets from the first send.
pub fn schedule(bound: Duration) -> Vec<Duration> {
    let mut out = Vec::new();
    let mut at = Duration::ZERO;
    let mut wait = Duration::from_millis(250);
    for _ in 0..9 {
        if at >= bound {
            break;
        }
        out.push(at);
        at += wait;
        wait *= 2;
    }
    out
}

/// When a request goes out within a bound: the offsets of [`schedule`] from `start`. Shared
/// by the NAT-PMP/PCP exchange and the SSDP search.
#[derive(Debug, Clone)]
pub struct SendSchedule {
    start: Instant,
    bound: Duration,
    sends: Vec<Duration>,
    next: usize,
}

impl SendSchedule {
    /// The schedule of a request first sent at `start`, for at most `bound`.
    pub fn new(start: Instant, bound: Duration) -> Self {
        SendSchedule {
            start,
            bound,
            sends: schedule(bound),
            next: 0,
        }
    }

    /// When it started.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// The bound on the whole exchange.
    pub fn bound(&self) -> Duration {
        self.bound
    }

    /// Whether a send is due at `now`; takes every slot that is (a late wakeup sends once,
    /// not a burst).
    pub fn due(&mut self, now: Instant) -> bool {
        let mut due = false;
        while self
            .sends
            .get(self.next)
            .is_some_and(|at| self.start + *at <= now)
        {
            self.next += 1;
            due = true;
        }
        due
    }

    /// Whether the bound has passed at `now`.
    pub fn expired(&self, now: Instant) -> bool {
        now >= self.start + self.bound
    }

    /// The next wakeup: the next send, or the end of the bound.
    pub fn next_wakeup(&self) -> Instant {
        let end = self.start + self.bound;
        self.sends
            .get(self.next)
            .map_or(end, |at| (self.start + *at).min(end))
    }
}

/// A gateway protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// UPnP IGD v1/v2.
    Upnp,
    /// NAT-PMP (RFC 6886).
    Natpmp,
    /// PCP (RFC 6887).
    Pcp,
}

impl Protocol {
    /// `upnp`, `natpmp` or `pcp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Upnp => "upnp",
            Protocol::Natpmp => "natpmp",
            Protocol::Pcp => "pcp",
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `upnp-map` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Which protocols answer, the gateway, its external address and connection.
    #[default]
    Status,
    /// The gateway's port mappings (UPnP only).
    List,
    /// Open a port.
    Add,
    /// Close a port.
    Delete,
}

impl Action {
    /// `status`, `list`, `add` or `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Status => "status",
            Action::List => "list",
            Action::Add => "add",
            Action::Delete => "delete",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The gateway named with `--gateway`: an address, or the URL of its UPnP description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayAddr {
    /// `http://…`: the UPnP description (skips SSDP).
    Url(String),
    /// An IP address: NAT-PMP/PCP go there, and only its UPnP answer is taken.
    Ip(IpAddr),
}

impl GatewayAddr {
    /// The gateway's IP address.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            GatewayAddr::Ip(ip) => Some(*ip),
            GatewayAddr::Url(u) => igd::split_url(u).ok().map(|(a, _)| a.ip()),
        }
    }
}

impl std::str::FromStr for GatewayAddr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.starts_with("http://") {
            igd::split_url(s)?;
            return Ok(GatewayAddr::Url(s.to_string()));
        }
        s.parse()
            .map(GatewayAddr::Ip)
            .map_err(|_| format!("{s}: an IP address or an http:// URL"))
    }
}

/// The gateway as UPnP describes it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GatewayInfo {
    /// The gateway's address (UPnP host, or the NAT-PMP/PCP server).
    pub address: Option<IpAddr>,
    /// URL of the UPnP device description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description_url: Option<String>,
    /// Control URL of the WAN connection service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_url: Option<String>,
    /// The WAN connection service type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_type: Option<String>,
    /// The device description fields.
    #[serde(flatten)]
    pub device: igd::DeviceDescription,
}

/// The WAN connection as UPnP reports it (GetStatusInfo, GetConnectionTypeInfo).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Connection {
    /// `Connected`, `Disconnected`, …
    pub status: Option<String>,
    /// Seconds since the connection came up.
    pub uptime_s: Option<u64>,
    /// `ERROR_NONE`, …
    pub last_error: Option<String>,
    /// `IP_Routed`, `IP_Bridged`, …
    pub connection_type: Option<String>,
}

/// A port mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mapping {
    /// `UDP` or `TCP`.
    pub protocol: String,
    /// External port.
    pub external_port: u16,
    /// LAN address forwarded to.
    pub internal_client: String,
    /// LAN port forwarded to.
    pub internal_port: u16,
    /// Remaining or granted lease, s (0 = permanent).
    pub lease_s: u32,
    /// Description (UPnP).
    pub description: String,
    /// Whether the mapping is active.
    pub enabled: bool,
}

/// The outcome of add or delete.
#[derive(Debug, Clone, Serialize)]
pub struct ActionOutcome {
    /// Whether the gateway did it.
    pub ok: bool,
    /// The mapping as granted (add) or removed (delete).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapping: Option<Mapping>,
    /// The UPnP error code, or the NAT-PMP / PCP result code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u16>,
    /// Its name, e.g. `ConflictInMappingEntry`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// e.g. "lease 0 after 725 OnlyPermanentLeasesSupported".
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl ActionOutcome {
    /// A success, with the mapping and notes.
    pub fn done(mapping: Option<Mapping>, notes: Vec<String>) -> Self {
        ActionOutcome {
            ok: true,
            mapping,
            error_code: None,
            error: None,
            notes,
        }
    }

    /// A failure with the gateway's code (UPnP error, NAT-PMP/PCP result) and its name.
    pub fn failed(code: Option<u16>, error: String) -> Self {
        ActionOutcome {
            ok: false,
            mapping: None,
            error_code: code,
            error: Some(error),
            notes: Vec::new(),
        }
    }
}

/// A NAT-PMP (RFC 6886) or PCP (RFC 6887) datagram in words, for `-v` traces: the protocol
/// (by its version byte: 0 NAT-PMP, 2 PCP), request or response, the opcode and, in a
/// response, the result code with its name (e.g. `NAT-PMP response: external address,
/// result 3 (Network Failure)`).
pub fn datagram_summary(b: &[u8]) -> String {
    let (protocol, opcode, name, result) = match (b.first(), b.get(1)) {
        (Some(0), Some(&op)) => (
            "NAT-PMP",
            op,
            natpmp::natpmp_opcode_name(op & 0x7f),
            b.get(2..4).map(|r| {
                let code = u16::from_be_bytes([r[0], r[1]]);
                (code, natpmp::natpmp_result_name(code))
            }),
        ),
        (Some(2), Some(&op)) => (
            "PCP",
            op,
            pcp::pcp_opcode_name(op & 0x7f),
            b.get(3)
                .map(|&code| (u16::from(code), pcp::pcp_result_name(code))),
        ),
        _ => return "not NAT-PMP or PCP".into(),
    };
    if opcode & 0x80 == 0 {
        return format!("{protocol} request: {name}");
    }
    match result {
        Some((code, what)) => format!("{protocol} response: {name}, result {code} ({what})"),
        None => format!("{protocol} response: {name}, cut short"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_doubles_from_250ms_and_is_bounded() {
        let s = schedule(Duration::from_secs(3));
        let ms: Vec<u128> = s.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [0, 250, 750, 1750]);
        assert_eq!(schedule(Duration::from_secs(1000)).len(), 9);
    }

    #[test]
    fn gateway_forms() {
        assert_eq!(
            "192.168.1.1".parse::<GatewayAddr>().unwrap().ip(),
            Some("192.168.1.1".parse().unwrap())
        );
        let url: GatewayAddr = "http://192.168.1.1:5000/rootDesc.xml".parse().unwrap();
        assert_eq!(url.ip(), Some("192.168.1.1".parse().unwrap()));
        assert!("router.lan".parse::<GatewayAddr>().is_err());
    }
}
