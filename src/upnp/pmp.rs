//! Mapping a port with NAT-PMP or PCP, without I/O: the exchanges to run (each a
//! [`PortMapExchange`] whose decoder keeps only the answer to our request, decoded once) and
//! what their answers mean.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::exchange::{ExchangeError, PortMapExchange};
use super::natpmp::{self, NatPmpResponse};
use super::{ActionOutcome, DecodeError, MapProtocol, Mapping, PORT, pcp};

/// A NAT-PMP or PCP mapping request for this host (an unmap when `lifetime_s` is 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PmpMap {
    /// The gateway.
    pub gateway: IpAddr,
    /// Our address as the gateway sees it (PCP's client address).
    pub client: IpAddr,
    /// UDP or TCP.
    pub protocol: MapProtocol,
    /// Our port.
    pub internal_port: u16,
    /// Suggested external port (0: any).
    pub external_port: u16,
    /// Requested lifetime, s (0 deletes).
    pub lifetime_s: u32,
}

/// What the gateway answered, NAT-PMP or PCP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PmpAnswer {
    /// Result code (0 success).
    pub result: u16,
    /// Its name.
    pub result_name: &'static str,
    /// The external port granted.
    pub external_port: u16,
    /// The lifetime granted, s.
    pub lifetime_s: u32,
    /// PCP only: the external address assigned.
    pub external_address: Option<IpAddr>,
}

fn gateway(ip: IpAddr) -> SocketAddr {
    SocketAddr::new(ip, PORT)
}

/// The NAT-PMP external address request (RFC 6886 §3.2) and its answer.
pub fn natpmp_external_address(
    gw: IpAddr,
    start: Instant,
    bound: Duration,
) -> PortMapExchange<NatPmpResponse> {
    PortMapExchange::new(
        gateway(gw),
        natpmp::natpmp_external_address_request().to_vec(),
        Box::new(|b: &[u8]| natpmp::natpmp_decode(b, 0).ok()),
        start,
        bound,
    )
}

/// One NAT-PMP mapping exchange (RFC 6886 §3.3).
pub fn natpmp_map(m: PmpMap, start: Instant, bound: Duration) -> PortMapExchange<PmpAnswer> {
    let req =
        natpmp::natpmp_map_request(m.protocol, m.internal_port, m.external_port, m.lifetime_s);
    let op = req[1];
    let decode = move |b: &[u8]| {
        let r = natpmp::natpmp_decode(b, op).ok()?;
        let (result, external_port, lifetime_s) = match r {
            NatPmpResponse::Mapping {
                result,
                external_port,
                lifetime_s,
                ..
            } => (result, external_port, lifetime_s),
            other => (other.result(), 0, 0),
        };
        Some(PmpAnswer {
            result,
            result_name: natpmp::natpmp_result_name(result),
            external_port,
            lifetime_s,
            external_address: None,
        })
    };
    PortMapExchange::new(
        gateway(m.gateway),
        req.to_vec(),
        Box::new(decode),
        start,
        bound,
    )
}

/// One PCP MAP exchange with `nonce` (a delete must repeat the nonce of its map, RFC 6887
/// §11.3). A NAT-PMP-only gateway's version-0 answer counts as result 1 UNSUPP_VERSION.
pub fn pcp_map(
    m: PmpMap,
    nonce: [u8; 12],
    start: Instant,
    bound: Duration,
) -> PortMapExchange<PmpAnswer> {
    let req = pcp::pcp_map_request(
        nonce,
        m.protocol,
        m.internal_port,
        m.external_port,
        m.lifetime_s,
        m.client,
    );
    let decode = move |b: &[u8]| match pcp::pcp_decode_map(b) {
        // Our nonce, or an error short enough to carry none (RFC 6887 §7.3, §11.4): an
        // answer with another mapping's nonce is not ours.
        Ok(r) if r.nonce.map_or(r.result != 0, |n| n == nonce) => Some(PmpAnswer {
            result: u16::from(r.result),
            result_name: pcp::pcp_result_name(r.result),
            external_port: r.external_port,
            lifetime_s: r.lifetime_s,
            external_address: Some(r.external_address),
        }),
        Err(DecodeError::Version(0)) => Some(PmpAnswer {
            result: 1,
            result_name: pcp::pcp_result_name(1),
            external_port: 0,
            lifetime_s: 0,
            external_address: None,
        }),
        _ => None,
    };
    PortMapExchange::new(
        gateway(m.gateway),
        req.to_vec(),
        Box::new(decode),
        start,
        bound,
    )
}

/// What an add or delete by NAT-PMP or PCP came to: a failure with the exchange's error or
/// the gateway's result code, or the mapping granted (with a note when the gateway chose
/// another external port than the one asked for).
pub fn action_outcome(m: &PmpMap, answer: Result<PmpAnswer, ExchangeError>) -> ActionOutcome {
    let a = match answer {
        Err(e) => return ActionOutcome::failed(None, e.to_string()),
        Ok(a) if a.result != 0 => {
            return ActionOutcome::failed(Some(a.result), a.result_name.into());
        }
        Ok(a) => a,
    };
    let mut notes = Vec::new();
    if m.external_port != 0 && a.external_port != m.external_port {
        notes.push(format!(
            "the gateway gave external port {}, not the {} asked for",
            a.external_port, m.external_port
        ));
    }
    ActionOutcome::done(
        (a.lifetime_s > 0).then(|| Mapping {
            protocol: m.protocol.as_str().into(),
            external_port: a.external_port,
            internal_client: m.client.to_string(),
            internal_port: m.internal_port,
            lease_s: a.lifetime_s,
            description: String::new(),
            enabled: true,
        }),
        notes,
    )
}

/// The external address of a NAT-PMP answer, when it succeeded and names one: 0.0.0.0 means
/// the gateway has none yet (RFC 6886 §3.2).
pub fn external_address(r: &NatPmpResponse) -> Option<Ipv4Addr> {
    match r {
        NatPmpResponse::ExternalAddress {
            result: 0, address, ..
        } if !address.is_unspecified() => Some(*address),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> PmpMap {
        PmpMap {
            gateway: "192.168.1.1".parse().unwrap(),
            client: "192.168.1.2".parse().unwrap(),
            protocol: MapProtocol::Udp,
            internal_port: 5060,
            external_port: 5060,
            lifetime_s: 3600,
        }
    }

    #[test]
    fn outcomes_of_an_add() {
        let ok = PmpAnswer {
            result: 0,
            result_name: "Success",
            external_port: 5062,
            lifetime_s: 3600,
            external_address: None,
        };
        let o = action_outcome(&map(), Ok(ok.clone()));
        assert!(o.ok);
        assert_eq!(o.mapping.unwrap().external_port, 5062);
        assert_eq!(o.notes.len(), 1, "another port than asked for is noted");
        let refused = PmpAnswer {
            result: 2,
            result_name: "Not Authorized/Refused",
            ..ok
        };
        let o = action_outcome(&map(), Ok(refused));
        assert_eq!((o.ok, o.error_code), (false, Some(2)));
        let o = action_outcome(&map(), Err(ExchangeError::Refused));
        assert_eq!(
            o.error.as_deref(),
            Some("port unreachable (nothing listens there)")
        );
    }
}
