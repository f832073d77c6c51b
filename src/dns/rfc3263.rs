//! RFC 3263 §4 server location rules, without I/O: which transport and which SRV names follow
//! from a target and its NAPTR records, and the RFC 2782 order of SRV records.

use rand::RngExt;

use crate::sip::target::Transport;

/// A NAPTR record (RFC 3403 §4.1), text fields decoded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Naptr {
    /// Lower is tried first.
    pub order: u16,
    /// Among equal order, lower is tried first.
    pub preference: u16,
    /// `s`, `a`, `u`, `p` or empty.
    pub flags: String,
    /// e.g. `SIP+D2U`.
    pub services: String,
    /// Substitution expression (ENUM).
    pub regexp: String,
    /// Next domain name, `.` when none.
    pub replacement: String,
}

/// An SRV record (RFC 2782).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Srv {
    /// Lower is tried first.
    pub priority: u16,
    /// Relative share among equal priority.
    pub weight: u16,
    /// Port.
    pub port: u16,
    /// Target host, without the trailing dot.
    pub target: String,
}

/// Transport of a RFC 3263 §4.1 NAPTR service, with whether it is a `sips` service.
pub fn service_transport(service: &str) -> Option<(Transport, bool)> {
    match service.to_ascii_uppercase().as_str() {
        "SIP+D2U" => Some((Transport::Udp, false)),
        "SIP+D2T" => Some((Transport::Tcp, false)),
        "SIPS+D2T" => Some((Transport::Tls, true)),
        _ => None,
    }
}

/// From a domain's NAPTR records, the (transport, SRV name) pairs to try, in NAPTR order
/// (RFC 3263 §4.1): only `s`-flag records with a service we support; for a `sips` target only
/// SIPS services; restricted to `only` when the user chose a transport.
pub fn naptr_choices(
    records: &[Naptr],
    secure: bool,
    only: Option<Transport>,
) -> Vec<(Transport, String)> {
    let mut sorted: Vec<&Naptr> = records.iter().collect();
    sorted.sort_by_key(|n| (n.order, n.preference));
    sorted
        .into_iter()
        .filter(|n| n.flags.eq_ignore_ascii_case("s"))
        .filter_map(|n| {
            let (t, is_sips) = service_transport(&n.services)?;
            let allowed = (!secure || is_sips) && only.is_none_or(|o| o == t);
            allowed.then(|| (t, n.replacement.trim_end_matches('.').to_string()))
        })
        .collect()
}

/// Without NAPTR records, the SRV names to query (RFC 3263 §4.1, last paragraph): `_sips._tcp`,
/// `_sip._tcp`, `_sip._udp` (only the first for `sips`), or just the chosen transport's.
pub fn srv_fallbacks(
    domain: &str,
    secure: bool,
    only: Option<Transport>,
) -> Vec<(Transport, String)> {
    let all = [
        (Transport::Tls, format!("_sips._tcp.{domain}")),
        (Transport::Tcp, format!("_sip._tcp.{domain}")),
        (Transport::Udp, format!("_sip._udp.{domain}")),
    ];
    all.into_iter()
        .filter(|(t, _)| (!secure || *t == Transport::Tls) && only.is_none_or(|o| o == *t))
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
        let all = naptr_choices(&records, false, None);
        assert_eq!(
            all,
            [
                (Transport::Tls, "_sips._tcp.example.com".to_string()),
                (Transport::Tcp, "_sip._tcp.example.com".to_string()),
                (Transport::Udp, "_sip._udp.example.com".to_string()),
            ]
        );
        assert_eq!(naptr_choices(&records, true, None).len(), 1);
        assert_eq!(
            naptr_choices(&records, false, Some(Transport::Udp))[0].0,
            Transport::Udp
        );
    }

    #[test]
    fn fallbacks_and_defaults() {
        assert_eq!(srv_fallbacks("example.com", false, None).len(), 3);
        assert_eq!(
            srv_fallbacks("example.com", true, None),
            [(Transport::Tls, "_sips._tcp.example.com".to_string())]
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
