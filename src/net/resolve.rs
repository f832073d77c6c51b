//! Host name resolution for servers given as `HOST[:PORT]` (system resolver; A/AAAA only).

use std::net::SocketAddr;

/// Which address family to use (`-4` / `-6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    /// Whatever the name resolves to; IPv4 first when both exist.
    #[default]
    Any,
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

impl Family {
    /// Whether `addr` is of this family.
    pub fn accepts(self, addr: &SocketAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => addr.is_ipv4(),
            Family::V6 => addr.is_ipv6(),
        }
    }
}

/// Resolves `host` (a name or an IP literal) with `port`, keeping addresses of `family`.
///
/// Errors: the resolver's error, or "no IPv4/IPv6 address" when the family filter leaves none.
pub async fn resolve(host: &str, port: u16, family: Family) -> Result<Vec<SocketAddr>, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    let mut kept: Vec<SocketAddr> = addrs
        .iter()
        .copied()
        .filter(|a| family.accepts(a))
        .collect();
    kept.sort_by_key(|a| a.is_ipv6());
    kept.dedup();
    if kept.is_empty() {
        let fam = match family {
            Family::V6 => "IPv6",
            _ => "IPv4",
        };
        return Err(format!("{host} has no {fam} address"));
    }
    Ok(kept)
}
