//! NAT behaviour terms (RFC 4787) and the classification rules of RFC 5780 §4.3/§4.4, as pure
//! functions of observed addresses. The classic RFC 3489 names are derived here too.

use std::net::SocketAddr;

use serde::Serialize;

/// Mapping behaviour, RFC 4787 §4.1: when does the NAT reuse a mapping for new destinations?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MappingBehavior {
    /// Same mapping for every destination (RFC 4787 REQ-1; good for VoIP).
    EndpointIndependent,
    /// A new mapping for each destination IP address.
    AddressDependent,
    /// A new mapping for each destination IP address and port ("symmetric").
    AddressAndPortDependent,
    /// Not determined (tests missing or inconclusive).
    Unknown,
}

/// Filtering behaviour, RFC 4787 §5: which outside endpoints may send in through a mapping?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FilteringBehavior {
    /// Anyone may send to the mapped address.
    EndpointIndependent,
    /// Only IP addresses the inside host has sent to.
    AddressDependent,
    /// Only the exact IP address and port the inside host has sent to.
    AddressAndPortDependent,
    /// Not determined (no RFC 5780 server, or tests inconclusive).
    Unknown,
}

impl MappingBehavior {
    /// The RFC 4787 term, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EndpointIndependent => "endpoint-independent",
            Self::AddressDependent => "address-dependent",
            Self::AddressAndPortDependent => "address-and-port-dependent",
            Self::Unknown => "unknown",
        }
    }
}

impl FilteringBehavior {
    /// The RFC 4787 term, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EndpointIndependent => "endpoint-independent",
            Self::AddressDependent => "address-dependent",
            Self::AddressAndPortDependent => "address-and-port-dependent",
            Self::Unknown => "unknown",
        }
    }
}

/// The classic NAT names of RFC 3489 §5 ("STUN classic"), still what most admins ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClassicType {
    /// No NAT, no filtering.
    OpenInternet,
    /// Endpoint-independent mapping and filtering.
    FullCone,
    /// Endpoint-independent mapping, address-dependent filtering.
    RestrictedCone,
    /// Endpoint-independent mapping, address-and-port-dependent filtering.
    PortRestrictedCone,
    /// Mapping depends on the destination.
    Symmetric,
    /// No NAT, but a firewall filters unsolicited inbound UDP.
    SymmetricUdpFirewall,
    /// No UDP gets through at all.
    UdpBlocked,
}

impl ClassicType {
    /// The name as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenInternet => "open-internet",
            Self::FullCone => "full-cone",
            Self::RestrictedCone => "restricted-cone",
            Self::PortRestrictedCone => "port-restricted-cone",
            Self::Symmetric => "symmetric",
            Self::SymmetricUdpFirewall => "symmetric-udp-firewall",
            Self::UdpBlocked => "udp-blocked",
        }
    }
}

/// Whether a mapped (server-reflexive) address is this host's own, i.e. no NAT lies between
/// (RFC 5780 §4.3 test I: "NAT present when the mapped address differs from the local one").
///
/// `local` is the socket's bound address (its IP may be unspecified); `local_ips` are the
/// host's interface addresses. The port must match too: a changed port is translation.
pub fn is_own_address(
    mapped: SocketAddr,
    local: Option<SocketAddr>,
    local_ips: &[std::net::IpAddr],
) -> bool {
    match local {
        Some(l) if !l.ip().is_unspecified() => l == mapped,
        Some(l) => local_ips.contains(&mapped.ip()) && l.port() == mapped.port(),
        None => local_ips.contains(&mapped.ip()),
    }
}

/// RFC 5780 §4.3: mapping behaviour from the mapped addresses of test I (primary address),
/// test II (alternate IP, primary port) and test III (alternate IP, alternate port), all sent
/// from the same local socket.
pub fn classify_mapping(
    test1: Option<SocketAddr>,
    test2: Option<SocketAddr>,
    test3: Option<SocketAddr>,
) -> MappingBehavior {
    match (test1, test2, test3) {
        (Some(x1), Some(x2), _) if x1 == x2 => MappingBehavior::EndpointIndependent,
        (Some(_), Some(x2), Some(x3)) if x2 == x3 => MappingBehavior::AddressDependent,
        (Some(_), Some(_), Some(_)) => MappingBehavior::AddressAndPortDependent,
        _ => MappingBehavior::Unknown,
    }
}

/// Mapping behaviour without RFC 5780, from the mapped addresses one local socket got from
/// several servers: `(server, mapped)` pairs.
///
/// Returns the behaviour and whether port dependence was actually tested (two servers on one
/// IP address with different ports). When mappings differ only across different server IP
/// addresses, the answer is [`MappingBehavior::AddressDependent`] with `false`: the mapping
/// depends at least on the address; dependence on the port was not tested.
pub fn classify_mapping_multi(observed: &[(SocketAddr, SocketAddr)]) -> (MappingBehavior, bool) {
    if observed.len() < 2 {
        return (MappingBehavior::Unknown, false);
    }
    let mut port_tested = false;
    let mut port_dependent = false;
    let mut address_dependent = false;
    for (i, (s1, m1)) in observed.iter().enumerate() {
        for (s2, m2) in &observed[i + 1..] {
            if s1.ip() == s2.ip() && s1.port() != s2.port() {
                port_tested = true;
                port_dependent |= m1 != m2;
            } else if s1.ip() != s2.ip() {
                address_dependent |= m1 != m2;
            }
        }
    }
    if port_dependent {
        (MappingBehavior::AddressAndPortDependent, true)
    } else if address_dependent {
        (MappingBehavior::AddressDependent, port_tested)
    } else {
        (MappingBehavior::EndpointIndependent, port_tested)
    }
}

/// What one filtering test (a Binding request with CHANGE-REQUEST) produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilteringObservation {
    /// A response came from the address the change asked for.
    Answered,
    /// Silence until the deadline: the NAT/firewall dropped the response (or it was lost).
    Silent,
    /// The server did not honour the change (answered from the primary address, or with an
    /// error such as 420): the test says nothing about the NAT.
    Unusable,
}

/// RFC 5780 §4.4: filtering behaviour from test II (change IP and port) and test III (change
/// port only), both sent to the primary address from a socket that talked to nobody else.
pub fn classify_filtering(
    test2: FilteringObservation,
    test3: FilteringObservation,
) -> FilteringBehavior {
    use FilteringObservation::{Answered, Silent, Unusable};
    match (test2, test3) {
        (Answered, _) => FilteringBehavior::EndpointIndependent,
        (Silent, Answered) => FilteringBehavior::AddressDependent,
        (Silent, Silent) => FilteringBehavior::AddressAndPortDependent,
        (Unusable, _) | (Silent, Unusable) => FilteringBehavior::Unknown,
    }
}

/// The RFC 3489 name for a behaviour pair; `None` when the facts do not decide it.
pub fn classic_type(
    udp_blocked: bool,
    nat_detected: bool,
    mapping: MappingBehavior,
    filtering: FilteringBehavior,
) -> Option<ClassicType> {
    if udp_blocked {
        return Some(ClassicType::UdpBlocked);
    }
    if !nat_detected {
        return match filtering {
            FilteringBehavior::EndpointIndependent => Some(ClassicType::OpenInternet),
            FilteringBehavior::Unknown => None,
            _ => Some(ClassicType::SymmetricUdpFirewall),
        };
    }
    match (mapping, filtering) {
        (MappingBehavior::AddressDependent | MappingBehavior::AddressAndPortDependent, _) => {
            Some(ClassicType::Symmetric)
        }
        (MappingBehavior::EndpointIndependent, FilteringBehavior::EndpointIndependent) => {
            Some(ClassicType::FullCone)
        }
        (MappingBehavior::EndpointIndependent, FilteringBehavior::AddressDependent) => {
            Some(ClassicType::RestrictedCone)
        }
        (MappingBehavior::EndpointIndependent, FilteringBehavior::AddressAndPortDependent) => {
            Some(ClassicType::PortRestrictedCone)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn own_address_needs_ip_and_port() {
        let ips = ["10.0.0.2".parse().unwrap()];
        assert!(is_own_address(
            a("10.0.0.2:5000"),
            Some(a("10.0.0.2:5000")),
            &ips
        ));
        assert!(!is_own_address(
            a("10.0.0.2:5001"),
            Some(a("10.0.0.2:5000")),
            &ips
        ));
        assert!(!is_own_address(
            a("203.0.113.1:5000"),
            Some(a("10.0.0.2:5000")),
            &ips
        ));
        assert!(is_own_address(
            a("10.0.0.2:5000"),
            Some(a("0.0.0.0:5000")),
            &ips
        ));
        assert!(!is_own_address(
            a("10.0.0.2:6000"),
            Some(a("0.0.0.0:5000")),
            &ips
        ));
    }

    #[test]
    fn mapping_rfc5780_decision_order() {
        let x = Some(a("203.0.113.1:4000"));
        let y = Some(a("203.0.113.1:4001"));
        let z = Some(a("203.0.113.1:4002"));
        assert_eq!(
            classify_mapping(x, x, None),
            MappingBehavior::EndpointIndependent
        );
        assert_eq!(classify_mapping(x, y, y), MappingBehavior::AddressDependent);
        assert_eq!(
            classify_mapping(x, y, z),
            MappingBehavior::AddressAndPortDependent
        );
        assert_eq!(classify_mapping(x, None, z), MappingBehavior::Unknown);
        assert_eq!(classify_mapping(x, y, None), MappingBehavior::Unknown);
        assert_eq!(classify_mapping(None, x, x), MappingBehavior::Unknown);
    }

    #[test]
    fn mapping_from_several_servers() {
        let s1 = a("192.0.2.1:3478");
        let s1b = a("192.0.2.1:3479");
        let s2 = a("198.51.100.1:3478");
        let m = a("203.0.113.1:4000");
        let m2 = a("203.0.113.1:5000");
        assert_eq!(
            classify_mapping_multi(&[(s1, m)]).0,
            MappingBehavior::Unknown
        );
        assert_eq!(
            classify_mapping_multi(&[(s1, m), (s2, m)]),
            (MappingBehavior::EndpointIndependent, false)
        );
        assert_eq!(
            classify_mapping_multi(&[(s1, m), (s2, m2)]),
            (MappingBehavior::AddressDependent, false)
        );
        assert_eq!(
            classify_mapping_multi(&[(s1, m), (s1b, m2), (s2, m2)]),
            (MappingBehavior::AddressAndPortDependent, true)
        );
        assert_eq!(
            classify_mapping_multi(&[(s1, m), (s1b, m), (s2, m2)]),
            (MappingBehavior::AddressDependent, true)
        );
    }

    #[test]
    fn filtering_rfc5780_decision_order() {
        use FilteringObservation::*;
        assert_eq!(
            classify_filtering(Answered, Silent),
            FilteringBehavior::EndpointIndependent
        );
        assert_eq!(
            classify_filtering(Silent, Answered),
            FilteringBehavior::AddressDependent
        );
        assert_eq!(
            classify_filtering(Silent, Silent),
            FilteringBehavior::AddressAndPortDependent
        );
        assert_eq!(
            classify_filtering(Unusable, Answered),
            FilteringBehavior::Unknown
        );
        assert_eq!(
            classify_filtering(Silent, Unusable),
            FilteringBehavior::Unknown
        );
    }

    #[test]
    fn classic_names() {
        use FilteringBehavior as F;
        use MappingBehavior as M;
        assert_eq!(
            classic_type(true, true, M::Unknown, F::Unknown),
            Some(ClassicType::UdpBlocked)
        );
        assert_eq!(
            classic_type(false, false, M::EndpointIndependent, F::EndpointIndependent),
            Some(ClassicType::OpenInternet)
        );
        assert_eq!(
            classic_type(
                false,
                false,
                M::EndpointIndependent,
                F::AddressAndPortDependent
            ),
            Some(ClassicType::SymmetricUdpFirewall)
        );
        assert_eq!(
            classic_type(false, true, M::EndpointIndependent, F::EndpointIndependent),
            Some(ClassicType::FullCone)
        );
        assert_eq!(
            classic_type(false, true, M::EndpointIndependent, F::AddressDependent),
            Some(ClassicType::RestrictedCone)
        );
        assert_eq!(
            classic_type(
                false,
                true,
                M::EndpointIndependent,
                F::AddressAndPortDependent
            ),
            Some(ClassicType::PortRestrictedCone)
        );
        assert_eq!(
            classic_type(false, true, M::AddressAndPortDependent, F::Unknown),
            Some(ClassicType::Symmetric)
        );
        assert_eq!(
            classic_type(false, true, M::EndpointIndependent, F::Unknown),
            None
        );
        assert_eq!(classic_type(false, false, M::Unknown, F::Unknown), None);
    }
}
