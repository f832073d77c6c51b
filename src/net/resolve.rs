//! Host name resolution for servers given as `HOST[:PORT]` (system resolver; A/AAAA only).

use std::net::SocketAddr;

use crate::addr::{Family, Host};

/// Resolves `host` (a name, or an IP literal which needs no lookup) with `port`, keeping
/// addresses of `family`, IPv4 first.
///
/// # Errors
/// The resolver's error, or "no IPv4/IPv6 address" when the family filter leaves none.
pub async fn resolve(host: &Host, port: u16, family: Family) -> Result<Vec<SocketAddr>, String> {
    let addrs: Vec<SocketAddr> = match host {
        Host::Ip(ip) => vec![SocketAddr::new(*ip, port)],
        Host::Name(name) => tokio::net::lookup_host((name.as_str(), port))
            .await
            .map_err(|e| format!("cannot resolve {name}: {e}"))?
            .collect(),
    };
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
        let shown = match host {
            Host::Ip(ip) => ip.to_string(),
            Host::Name(n) => n.clone(),
        };
        return Err(format!("{shown} has no {fam} address"));
    }
    Ok(kept)
}
