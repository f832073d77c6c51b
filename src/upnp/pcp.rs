//! PCP (RFC 6887) wire format: the MAP request and its response, result names, and the nonce
//! voipdiag derives so a later delete repeats its add.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{DecodeError, MapProtocol};

/// Name of a PCP opcode (RFC 6887 §19.2): 0 ANNOUNCE, 1 MAP (what [`pcp_map_request`]
/// sends), 2 PEER.
pub fn pcp_opcode_name(opcode: u8) -> &'static str {
    match opcode {
        0 => "ANNOUNCE",
        1 => "MAP",
        2 => "PEER",
        _ => "unknown opcode",
    }
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
    /// Echo of the request's nonce; `None` for an error answer too short to carry the
    /// opcode's data (RFC 6887 §7.3).
    pub nonce: Option<[u8; 12]>,
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
                nonce: None,
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
        nonce: Some(nonce),
        internal_port: u16::from_be_bytes([buf[40], buf[41]]),
        external_port: u16::from_be_bytes([buf[42], buf[43]]),
        external_address: from_v6(&buf[44..60]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(m.nonce, Some(nonce));
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
