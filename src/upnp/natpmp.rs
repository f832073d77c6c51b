//! NAT-PMP (RFC 6886) wire format: the external-address request, map/unmap, and the
//! responses (including the 8-byte error replies of §3.5).

use std::net::Ipv4Addr;

use super::{DecodeError, MapProtocol};

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

/// Name of a NAT-PMP opcode (RFC 6886 §3.2, §3.3): 0 external address, 1 map UDP, 2 map
/// TCP (the values [`natpmp_external_address_request`] and [`natpmp_map_request`] send).
pub fn natpmp_opcode_name(opcode: u8) -> &'static str {
    match opcode {
        0 => "external address",
        1 => "map UDP",
        2 => "map TCP",
        _ => "unknown opcode",
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
