//! RFC 3263 §4 server location rules, without I/O: which transport and which SRV names follow
//! from a target and its NAPTR records, and the RFC 2782 order of SRV records.

use rand::RngExt;

use crate::sip::target::Transport;

pub use super::{Naptr, Srv};

/// The transport a RFC 3263 NAPTR service names: the three SIP transports of RFC 3263 §4.1
/// plus WebSocket (`SIP+D2W`, `SIPS+D2W`, RFC 7118), which only `enum-lookup` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceTransport {
    /// `SIP+D2U`.
    Udp,
    /// `SIP+D2T`.
    Tcp,
    /// `SIPS+D2T`.
    Tls,
    /// `SIP+D2W`.
    Ws,
    /// `SIPS+D2W`.
    Wss,
}

impl ServiceTransport {
    /// The SIP transport our SIP commands can use, `None` for WebSocket.
    pub fn sip(self) -> Option<Transport> {
        match self {
            ServiceTransport::Udp => Some(Transport::Udp),
            ServiceTransport::Tcp => Some(Transport::Tcp),
            ServiceTransport::Tls => Some(Transport::Tls),
            ServiceTransport::Ws | ServiceTransport::Wss => None,
        }
    }

    /// Whether it is a `sips` (TLS) service.
    pub fn is_secure(self) -> bool {
        matches!(self, ServiceTransport::Tls | ServiceTransport::Wss)
    }

    /// Port when only an address record is known: RFC 3261 §19.1.2 (5060, 5061 for TLS),
    /// RFC 7118 (80, 443).
    pub fn default_port(self) -> u16 {
        match self {
            ServiceTransport::Ws => 80,
            ServiceTransport::Wss => 443,
            other => other.sip().map_or(5060, Transport::default_port),
        }
    }
}

impl From<Transport> for ServiceTransport {
    fn from(t: Transport) -> Self {
        match t {
            Transport::Udp => ServiceTransport::Udp,
            Transport::Tcp => ServiceTransport::Tcp,
            Transport::Tls => ServiceTransport::Tls,
        }
    }
}

impl std::fmt::Display for ServiceTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ServiceTransport::Udp => "udp",
            ServiceTransport::Tcp => "tcp",
            ServiceTransport::Tls => "tls",
            ServiceTransport::Ws => "ws",
            ServiceTransport::Wss => "wss",
        })
    }
}

/// Services (NAPTR choices or SRV fallbacks) looked up at most in one resolution: one per
/// transport is all RFC 3263 needs; a zone naming hundreds must not make us query hundreds.
pub const MAX_SERVICES: usize = 6;
/// SRV targets kept per service, in RFC 2782 order.
pub const MAX_SRV_TARGETS: usize = 8;
/// Distinct hosts whose addresses are looked up in one resolution.
pub const MAX_HOSTS: usize = 8;

/// Transport of a RFC 3263 §4.1 (or RFC 7118) NAPTR service, case-insensitive.
pub fn service_transport(service: &str) -> Option<ServiceTransport> {
    match service.to_ascii_uppercase().as_str() {
        "SIP+D2U" => Some(ServiceTransport::Udp),
        "SIP+D2T" => Some(ServiceTransport::Tcp),
        "SIPS+D2T" => Some(ServiceTransport::Tls),
        "SIP+D2W" => Some(ServiceTransport::Ws),
        "SIPS+D2W" => Some(ServiceTransport::Wss),
        _ => None,
    }
}

/// From a domain's NAPTR records, the (transport, SRV name) pairs to try, in NAPTR order
/// (RFC 3263 §4.1): only `s`-flag records with a known service; for a `sips` target only
/// SIPS services; only transports `allowed` accepts (the SIP commands: theirs, or the one the
/// user chose).
pub fn naptr_choices(
    records: &[Naptr],
    secure: bool,
    allowed: impl Fn(ServiceTransport) -> bool,
) -> Vec<(ServiceTransport, String)> {
    let mut sorted: Vec<&Naptr> = records.iter().collect();
    sorted.sort_by_key(|n| (n.order, n.preference));
    sorted
        .into_iter()
        .filter(|n| n.flags.eq_ignore_ascii_case("s"))
        .filter_map(|n| {
            let t = service_transport(&n.services)?;
            ((!secure || t.is_secure()) && allowed(t))
                .then(|| (t, n.replacement.trim_end_matches('.').to_string()))
        })
        .collect()
}

/// Without NAPTR records, the SRV names to query (RFC 3263 §4.1, last paragraph): `_sips._tcp`,
/// `_sip._tcp`, `_sip._udp` (only the first for `sips`), or just the chosen transport's.
pub fn srv_fallbacks(
    domain: &str,
    secure: bool,
    allowed: impl Fn(ServiceTransport) -> bool,
) -> Vec<(ServiceTransport, String)> {
    let all = [
        (ServiceTransport::Tls, format!("_sips._tcp.{domain}")),
        (ServiceTransport::Tcp, format!("_sip._tcp.{domain}")),
        (ServiceTransport::Udp, format!("_sip._udp.{domain}")),
    ];
    all.into_iter()
        .filter(|(t, _)| (!secure || t.is_secure()) && allowed(*t))
        .collect()
}

/// Transport when no SRV record is found, or the host is an address or has a port
/// (RFC 3263 §4.1): the chosen one, TLS for `sips`, else UDP.
pub fn default_transport(secure: bool, only: Option<Transport>) -> Transport {
    only.unwrap_or(if secure {
        Transport::Tls
    } else {
        Transport::Udp
    })
}

/// Orders SRV records for trying (RFC 2782): by priority, and within a priority by weighted
/// random selection (weight 0 entries go first into the running sum, so they get a small
/// chance). A target of `.` means "service not available" and is dropped.
pub fn order_srv(records: &[Srv], rng: &mut impl rand::Rng) -> Vec<Srv> {
    let mut rest: Vec<Srv> = records
        .iter()
        .filter(|s| !s.target.is_empty() && s.target != ".")
        .cloned()
        .collect();
    rest.sort_by_key(|s| (s.priority, s.weight));
    let mut out = Vec::with_capacity(rest.len());
    while let Some(first) = rest.first() {
        let priority = first.priority;
        let mut group: Vec<Srv> = Vec::new();
        rest.retain(|s| {
            if s.priority == priority {
                group.push(s.clone());
                false
            } else {
                true
            }
        });
        while !group.is_empty() {
            let total: u32 = group.iter().map(|s| u32::from(s.weight)).sum();
            let pick = if total == 0 {
                0
            } else {
                let r = rng.random_range(0..=total);
                let mut running = 0;
                group
                    .iter()
                    .position(|s| {
                        running += u32::from(s.weight);
                        running >= r
                    })
                    .unwrap_or(0)
            };
            out.push(group.remove(pick));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn naptr(order: u16, pref: u16, flags: &str, service: &str, repl: &str) -> Naptr {
        Naptr {
            order,
            preference: pref,
            flags: flags.into(),
            services: service.into(),
            regexp: String::new(),
            replacement: repl.into(),
        }
    }

    /// RFC 3263 §4.1 example: SIPS+D2T 50/50, SIP+D2T 90/50, SIP+D2U 100/50 (given unsorted).
    #[test]
    fn naptr_order_and_filtering() {
        let records = [
            naptr(100, 50, "s", "SIP+D2U", "_sip._udp.example.com."),
            naptr(50, 50, "s", "SIPS+D2T", "_sips._tcp.example.com."),
            naptr(90, 50, "s", "SIP+D2T", "_sip._tcp.example.com."),
            naptr(10, 10, "s", "SIP+D2W", "_sip._ws.example.com."),
            naptr(10, 10, "u", "E2U+sip", "."),
        ];
        let sip_only = |t: ServiceTransport| t.sip().is_some();
        let all = naptr_choices(&records, false, sip_only);
        assert_eq!(
            all,
            [
                (ServiceTransport::Tls, "_sips._tcp.example.com".to_string()),
                (ServiceTransport::Tcp, "_sip._tcp.example.com".to_string()),
                (ServiceTransport::Udp, "_sip._udp.example.com".to_string()),
            ]
        );
        assert_eq!(naptr_choices(&records, true, sip_only).len(), 1);
        assert_eq!(
            naptr_choices(&records, false, |t| t == ServiceTransport::Udp)[0].0,
            ServiceTransport::Udp
        );
        assert_eq!(service_transport("sips+d2w"), Some(ServiceTransport::Wss));
        assert_eq!(ServiceTransport::Wss.default_port(), 443);
        assert_eq!(service_transport("SIP+D2X"), None);
        // enum-lookup also reports WebSocket (RFC 7118), first here by order.
        assert_eq!(
            naptr_choices(&records, false, |_| true)[0],
            (ServiceTransport::Ws, "_sip._ws.example.com".to_string())
        );
    }

    #[test]
    fn fallbacks_and_defaults() {
        assert_eq!(srv_fallbacks("example.com", false, |_| true).len(), 3);
        assert_eq!(
            srv_fallbacks("example.com", true, |_| true),
            [(ServiceTransport::Tls, "_sips._tcp.example.com".to_string())]
        );
        assert_eq!(default_transport(false, None), Transport::Udp);
        assert_eq!(default_transport(true, None), Transport::Tls);
        assert_eq!(
            default_transport(false, Some(Transport::Tcp)),
            Transport::Tcp
        );
    }

    #[test]
    fn srv_priority_then_weight() {
        let srv = |p, w, t: &str| Srv {
            priority: p,
            weight: w,
            port: 5060,
            target: t.into(),
        };
        let records = [
            srv(20, 0, "backup"),
            srv(10, 90, "big"),
            srv(10, 10, "small"),
            srv(30, 0, "."),
        ];
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut big_first = 0;
        for _ in 0..1000 {
            let o = order_srv(&records, &mut rng);
            assert_eq!(o.len(), 3, "the '.' target is dropped");
            assert_eq!(o[2].target, "backup", "priority 20 after priority 10");
            if o[0].target == "big" {
                big_first += 1;
            }
        }
        // Weight 90 vs 10: about 90% first.
        assert!((850..=950).contains(&big_first), "{big_first}");
    }
}
