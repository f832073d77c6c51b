//! NAT-PMP (RFC 6886) and PCP (RFC 6887) wire formats, without I/O: both talk to the
//! gateway's UDP port 5351 and share the retransmission schedule of RFC 6886 §3.1.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// The gateway's port for NAT-PMP and PCP (RFC 6886 §3, RFC 6887 §19.1).
pub const PORT: u16 = 5351;

/// Transport of a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "UPPERCASE")]
pub enum MapProtocol {
    /// UDP (SIP, RTP).
    Udp,
    /// TCP (SIP over TCP/TLS).
    Tcp,
}

impl MapProtocol {
    /// NAT-PMP opcode (RFC 6886 §3.3): 1 UDP, 2 TCP.
    fn natpmp_opcode(self) -> u8 {
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

/// Name of a NAT-PMP result code (RFC 6886 §3.5).
pub fn natpmp_result_name(code: u16) -> &'static str {
    match code {
        0 => "Success",
        1 => "Unsupported Version",
        2 => "Not Authorized/Refused",
        3 => "Network Failure",
        4 => "Out of resources",
        5 => "Unsupported opcode",
        _ => "unknown result code",
    }
}

/// NAT-PMP request for the external address (RFC 6886 §3.2).
pub fn natpmp_external_address_request() -> [u8; 2] {
    [0, 0]
}

/// NAT-PMP mapping request (RFC 6886 §3.3); lifetime 0 with external port 0 deletes.
pub fn natpmp_map_request(
    protocol: MapProtocol,
    internal_port: u16,
    external_port: u16,
    lifetime_s: u32,
) -> [u8; 12] {
    let mut b = [0u8; 12];
    b[1] = protocol.natpmp_opcode();
    b[4..6].copy_from_slice(&internal_port.to_be_bytes());
    b[6..8].copy_from_slice(&external_port.to_be_bytes());
    b[8..12].copy_from_slice(&lifetime_s.to_be_bytes());
    b
}

/// A NAT-PMP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NatPmpResponse {
    /// Answer to the external address request.
    ExternalAddress {
        /// Result code (0 success).
        result: u16,
        /// Seconds since the gateway's mapping table was initialised.
        epoch_s: u32,
        /// The external IPv4 address.
        address: Ipv4Addr,
    },
    /// Answer to a mapping request.
    Mapping {
        /// Result code (0 success).
        result: u16,
        /// Seconds since start of epoch.
        epoch_s: u32,
        /// Our port.
        internal_port: u16,
        /// The port the gateway opened (may differ from the one asked for).
        external_port: u16,
        /// Granted lifetime, s.
        lifetime_s: u32,
    },
}

impl NatPmpResponse {
    /// The result code.
    pub fn result(&self) -> u16 {
        match self {
            NatPmpResponse::ExternalAddress { result, .. }
            | NatPmpResponse::Mapping { result, .. } => *result,
        }
    }
}

/// Decodes a NAT-PMP response to a request with opcode `request_opcode` (0 external address,
/// 1 UDP, 2 TCP). An error response may be only 8 bytes long (RFC 6886 §3.5).
///
/// # Errors
/// See [`DecodeError`].
pub fn natpmp_decode(buf: &[u8], request_opcode: u8) -> Result<NatPmpResponse, DecodeError> {
    if buf.len() < 8 {
        return Err(DecodeError::Short(buf.len()));
    }
    if buf[0] != 0 {
        return Err(DecodeError::Version(buf[0]));
    }
    if buf[1] != 128 + request_opcode {
        return Err(DecodeError::Opcode(buf[1]));
    }
    let result = u16::from_be_bytes([buf[2], buf[3]]);
    let epoch_s = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
    if request_opcode == 0 {
        let address = if result == 0 {
            let b = buf.get(8..12).ok_or(DecodeError::Short(buf.len()))?;
            Ipv4Addr::new(b[0], b[1], b[2], b[3])
        } else {
            Ipv4Addr::UNSPECIFIED
        };
        return Ok(NatPmpResponse::ExternalAddress {
            result,
            epoch_s,
            address,
        });
    }
    let (internal_port, external_port, lifetime_s) = if result == 0 {
        let b = buf.get(8..16).ok_or(DecodeError::Short(buf.len()))?;
        (
            u16::from_be_bytes([b[0], b[1]]),
            u16::from_be_bytes([b[2], b[3]]),
            u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        )
    } else {
        (0, 0, 0)
    };
    Ok(NatPmpResponse::Mapping {
        result,
        epoch_s,
        internal_port,
        external_port,
        lifetime_s,
    })
}

/// Name of a PCP result code (RFC 6887 §7.4).
pub fn pcp_result_name(code: u8) -> &'static str {
    match code {
        0 => "SUCCESS",
        1 => "UNSUPP_VERSION",
        2 => "NOT_AUTHORIZED",
        3 => "MALFORMED_REQUEST",
        4 => "UNSUPP_OPCODE",
        5 => "UNSUPP_OPTION",
        6 => "MALFORMED_OPTION",
        7 => "NETWORK_FAILURE",
        8 => "NO_RESOURCES",
        9 => "UNSUPP_PROTOCOL",
        10 => "USER_EX_QUOTA",
        11 => "CANNOT_PROVIDE_EXTERNAL",
        12 => "ADDRESS_MISMATCH",
        13 => "EXCESSIVE_REMOTE_PEERS",
        _ => "unknown result code",
    }
}

fn v6(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    }
}

fn from_v6(b: &[u8]) -> IpAddr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&b[..16]);
    let a = Ipv6Addr::from(o);
    a.to_ipv4_mapped().map_or(IpAddr::V6(a), IpAddr::V4)
}

/// PCP MAP request (RFC 6887 §11.1): 60 bytes. `client` is our address as the gateway sees
/// it (the PCP client IP of §7.1); the suggested external address is all zeros (any).
/// Lifetime 0 deletes the mapping (§15).
pub fn pcp_map_request(
    nonce: [u8; 12],
    protocol: MapProtocol,
    internal_port: u16,
    external_port: u16,
    lifetime_s: u32,
    client: IpAddr,
) -> [u8; 60] {
    let mut b = [0u8; 60];
    b[0] = 2;
    b[1] = 1; // R = 0, opcode MAP
    b[4..8].copy_from_slice(&lifetime_s.to_be_bytes());
    b[8..24].copy_from_slice(&v6(client));
    b[24..36].copy_from_slice(&nonce);
    b[36] = protocol.iana();
    b[40..42].copy_from_slice(&internal_port.to_be_bytes());
    b[42..44].copy_from_slice(&external_port.to_be_bytes());
    let any = if client.is_ipv4() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    };
    b[44..60].copy_from_slice(&v6(any));
    b
}

/// The nonce voipdiag uses for a PCP mapping it is asked to add or delete: derived from
/// (client, protocol, internal port), so a later `delete` repeats the nonce of the `add` —
/// gateways refuse a delete with another nonce (NOT_AUTHORIZED, RFC 6887 §11.3). Probes
/// use random nonces.
pub fn pcp_mapping_nonce(client: IpAddr, protocol: MapProtocol, internal_port: u16) -> [u8; 12] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"voipdiag PCP MAP");
    h.update(v6(client));
    h.update([protocol.iana()]);
    h.update(internal_port.to_be_bytes());
    let digest = h.finalize();
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&digest[..12]);
    nonce
}

/// A PCP MAP response (RFC 6887 §7.2, §11.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcpMapResponse {
    /// Result code (0 SUCCESS).
    pub result: u8,
    /// Granted lifetime, s (on errors: how long the error is valid).
    pub lifetime_s: u32,
    /// Server epoch, s.
    pub epoch_s: u32,
    /// Echo of our nonce.
    pub nonce: [u8; 12],
    /// Our port.
    pub internal_port: u16,
    /// Assigned external port.
    pub external_port: u16,
    /// Assigned external address.
    pub external_address: IpAddr,
}

/// Decodes a PCP MAP response. A NAT-PMP-only gateway answers a PCP request with version 0
/// and result 1 (RFC 6887 §9): that is [`DecodeError::Version`].
///
/// # Errors
/// See [`DecodeError`].
pub fn pcp_decode_map(buf: &[u8]) -> Result<PcpMapResponse, DecodeError> {
    if buf.len() < 24 {
        return Err(DecodeError::Short(buf.len()));
    }
    if buf[0] != 2 {
        return Err(DecodeError::Version(buf[0]));
    }
    if buf[1] != 0x80 | 1 {
        return Err(DecodeError::Opcode(buf[1]));
    }
    let result = buf[3];
    let lifetime_s = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
    let epoch_s = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
    if buf.len() < 60 {
        if result != 0 {
            return Ok(PcpMapResponse {
                result,
                lifetime_s,
                epoch_s,
                nonce: [0; 12],
                internal_port: 0,
                external_port: 0,
                external_address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            });
        }
        return Err(DecodeError::Short(buf.len()));
    }
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&buf[24..36]);
    Ok(PcpMapResponse {
        result,
        lifetime_s,
        epoch_s,
        nonce,
        internal_port: u16::from_be_bytes([buf[40], buf[41]]),
        external_port: u16::from_be_bytes([buf[42], buf[43]]),
        external_address: from_v6(&buf[44..60]),
    })
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
    fn natpmp_literal_packets() {
        assert_eq!(natpmp_external_address_request(), [0, 0]);
        assert_eq!(
            natpmp_map_request(MapProtocol::Udp, 5060, 5062, 3600),
            [0, 1, 0, 0, 0x13, 0xc4, 0x13, 0xc6, 0, 0, 0x0e, 0x10]
        );
        // External address response: 203.0.113.1, epoch 9023.
        let r = [0, 128, 0, 0, 0, 0, 0x23, 0x3f, 203, 0, 113, 1];
        assert_eq!(
            natpmp_decode(&r, 0).unwrap(),
            NatPmpResponse::ExternalAddress {
                result: 0,
                epoch_s: 9023,
                address: Ipv4Addr::new(203, 0, 113, 1)
            }
        );
        // Network Failure is 8 bytes long.
        let r = [0, 128, 0, 3, 0, 0, 0, 1];
        assert_eq!(natpmp_decode(&r, 0).unwrap().result(), 3);
        assert_eq!(natpmp_result_name(3), "Network Failure");
        // Mapping response: UDP 5060 → 5062, 3600 s.
        let r = [
            0, 129, 0, 0, 0, 0, 0, 9, 0x13, 0xc4, 0x13, 0xc6, 0, 0, 0x0e, 0x10,
        ];
        assert_eq!(
            natpmp_decode(&r, 1).unwrap(),
            NatPmpResponse::Mapping {
                result: 0,
                epoch_s: 9,
                internal_port: 5060,
                external_port: 5062,
                lifetime_s: 3600
            }
        );
        assert_eq!(natpmp_decode(&r, 2), Err(DecodeError::Opcode(129)));
        assert_eq!(natpmp_decode(&r[..7], 1), Err(DecodeError::Short(7)));
        assert_eq!(natpmp_decode(&r[..12], 1), Err(DecodeError::Short(12)));
        assert_eq!(
            natpmp_decode(&[2, 128, 0, 0, 0, 0, 0, 0], 0),
            Err(DecodeError::Version(2))
        );
    }

    #[test]
    fn pcp_mapping_nonce_is_stable_per_mapping() {
        let me: IpAddr = "192.168.80.2".parse().unwrap();
        let n = pcp_mapping_nonce(me, MapProtocol::Udp, 5060);
        assert_eq!(n, pcp_mapping_nonce(me, MapProtocol::Udp, 5060));
        assert_ne!(n, pcp_mapping_nonce(me, MapProtocol::Tcp, 5060));
        assert_ne!(n, pcp_mapping_nonce(me, MapProtocol::Udp, 5062));
        assert_ne!(
            n,
            pcp_mapping_nonce("192.168.80.3".parse().unwrap(), MapProtocol::Udp, 5060)
        );
    }

    #[test]
    fn pcp_map_round_trip() {
        let client: IpAddr = "192.168.80.2".parse().unwrap();
        let nonce = [7u8; 12];
        let req = pcp_map_request(nonce, MapProtocol::Udp, 5060, 0, 120, client);
        assert_eq!(&req[..4], &[2, 1, 0, 0]);
        assert_eq!(&req[4..8], &120u32.to_be_bytes());
        assert_eq!(
            &req[8..24],
            &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 80, 2]
        );
        assert_eq!(req[36], 17);
        assert_eq!(&req[44..56], &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
        // The gateway's answer: same layout with R set, result 0, and the assigned address.
        let mut resp = req;
        resp[1] = 0x81;
        resp[3] = 0;
        resp[8..12].copy_from_slice(&77u32.to_be_bytes());
        resp[12..24].fill(0);
        resp[42..44].copy_from_slice(&40000u16.to_be_bytes());
        resp[44..60].copy_from_slice(&v6("203.0.113.1".parse().unwrap()));
        let m = pcp_decode_map(&resp).unwrap();
        assert_eq!(m.result, 0);
        assert_eq!(m.epoch_s, 77);
        assert_eq!(m.nonce, nonce);
        assert_eq!((m.internal_port, m.external_port), (5060, 40000));
        assert_eq!(m.external_address, "203.0.113.1".parse::<IpAddr>().unwrap());
        // An error answer may stop after the header.
        let mut err = [0u8; 24];
        err[0] = 2;
        err[1] = 0x81;
        err[3] = 2;
        assert_eq!(pcp_decode_map(&err).unwrap().result, 2);
        assert_eq!(pcp_result_name(2), "NOT_AUTHORIZED");
        // A NAT-PMP-only gateway answers with version 0.
        assert_eq!(
            pcp_decode_map(&[
                0, 129, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
            ]),
            Err(DecodeError::Version(0))
        );
        assert_eq!(pcp_decode_map(&resp[..20]), Err(DecodeError::Short(20)));
        assert_eq!(pcp_decode_map(&resp[..40]), Err(DecodeError::Short(40)));
    }
}
