//! Addresses as the user and the protocols name them, below `cli` so every layer shares one
//! grammar: a host ([`Host`]: a name or an IP literal), `HOST[:PORT]` ([`HostPort`]), a local
//! address to bind ([`BindAddr`]), a nameserver ([`NameServer`]), the address family
//! ([`Family`], `-4`/`-6`), and address scopes that matter behind NAT: private (RFC 1918,
//! RFC 4193), shared/CGNAT (RFC 6598, 100.64.0.0/10), loopback, link-local, unspecified, and
//! public.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

/// A host: a DNS name (letters, digits, `-`, `_`; at most 253 characters, labels of at most
/// 63) or an IP literal. IPv6 is written in brackets where a port may follow.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A name to resolve, as given (without a trailing dot).
    Name(String),
    /// A literal address: no DNS.
    Ip(IpAddr),
}

impl Host {
    /// Parses a host: `name`, `192.0.2.1`, `[2001:db8::1]` (brackets optional for a bare IPv6
    /// literal).
    ///
    /// # Errors
    /// In words, when it is neither.
    pub fn parse(s: &str) -> Result<Host, String> {
        if let Some(v6) = s.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            return v6
                .parse::<Ipv6Addr>()
                .map(|a| Host::Ip(IpAddr::V6(a)))
                .map_err(|_| format!("{s:?} is not an IPv6 address"));
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Host::Ip(ip));
        }
        let name = s.strip_suffix('.').unwrap_or(s);
        let valid = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
        if valid {
            Ok(Host::Name(name.to_string()))
        } else {
            Err(format!("{s:?} is not a host name or address"))
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(n) => f.write_str(n),
            Host::Ip(IpAddr::V6(a)) => write!(f, "[{a}]"),
            Host::Ip(a) => write!(f, "{a}"),
        }
    }
}

/// A server given as `HOST[:PORT]`, `IPv4[:PORT]`, `IPv6` or `[IPv6]:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// Host name or IP literal.
    pub host: Host,
    /// Port (1–65535), if given.
    pub port: Option<u16>,
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}:{p}", self.host),
            None => write!(f, "{}", self.host),
        }
    }
}

impl serde::Serialize for HostPort {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl FromStr for HostPort {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty server".into());
        }
        let parse_port = |p: &str| {
            p.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("invalid port {p:?} (1-65535)"))
        };
        if let Some(rest) = s.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or("missing ']' in IPv6 address")?;
            let ip = host
                .parse::<Ipv6Addr>()
                .map_err(|_| format!("invalid IPv6 address {host:?}"))?;
            let port = match after {
                "" => None,
                p => Some(parse_port(
                    p.strip_prefix(':').ok_or("expected ':' after ']'")?,
                )?),
            };
            return Ok(Self {
                host: Host::Ip(IpAddr::V6(ip)),
                port,
            });
        }
        if let Ok(ip) = s.parse::<Ipv6Addr>() {
            return Ok(Self {
                host: Host::Ip(IpAddr::V6(ip)),
                port: None,
            });
        }
        let (host, port) = match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(parse_port(p)?)),
            None => (s, None),
        };
        if host.contains(':') {
            return Err(format!("invalid host {host:?}"));
        }
        let host = Host::parse(host).map_err(|_| format!("invalid host {host:?}"))?;
        Ok(Self { host, port })
    }
}

/// A local address to bind, `ADDR[:PORT]` (an IP literal; IPv6 with a port as `[ADDR]:PORT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindAddr {
    /// IP address.
    pub ip: IpAddr,
    /// Port (0 = any).
    pub port: u16,
}

impl BindAddr {
    /// As a socket address.
    pub fn socket_addr(self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }
}

fn ip_and_port(s: &str) -> Option<(IpAddr, Option<u16>)> {
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some((sa.ip(), Some(sa.port())));
    }
    s.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
        .map(|ip| (ip, None))
}

impl FromStr for BindAddr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (ip, port) = ip_and_port(s)
            .ok_or_else(|| format!("invalid local address {s:?} (expected ADDR or ADDR:PORT)"))?;
        Ok(Self {
            ip,
            port: port.unwrap_or(0),
        })
    }
}

/// A nameserver to ask, `ADDR[:PORT]` (port 53 by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameServer(pub SocketAddr);

impl FromStr for NameServer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (ip, port) = ip_and_port(s)
            .ok_or_else(|| format!("invalid nameserver {s:?} (expected ADDR or ADDR:PORT)"))?;
        Ok(Self(SocketAddr::new(
            ip,
            port.filter(|p| *p != 0).unwrap_or(53),
        )))
    }
}

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

    /// The family of `ip`.
    pub fn of(ip: IpAddr) -> Family {
        if ip.is_ipv4() { Family::V4 } else { Family::V6 }
    }

    /// The unspecified address of this family (IPv4 for `Any`).
    pub fn unspecified(self) -> IpAddr {
        match self {
            Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        }
    }
}

/// Where an address can be reached from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// 10/8, 172.16/12, 192.168/16 (RFC 1918) or fc00::/7 (RFC 4193).
    Private,
    /// 100.64.0.0/10, the shared address space of carrier-grade NAT (RFC 6598).
    Cgnat,
    /// 127/8 or ::1.
    Loopback,
    /// 169.254/16 or fe80::/10.
    LinkLocal,
    /// 0.0.0.0 or :: (e.g. SDP hold).
    Unspecified,
    /// Anything else, including documentation ranges (labs use them as "public").
    Public,
}

impl Scope {
    /// The name as reports write it: `private`, `cgnat`, `loopback`, `link-local`,
    /// `unspecified`, `public` (the serde form too).
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Private => "private",
            Scope::Cgnat => "cgnat",
            Scope::Loopback => "loopback",
            Scope::LinkLocal => "link-local",
            Scope::Unspecified => "unspecified",
            Scope::Public => "public",
        }
    }
}

/// The scope of an IP address.
pub fn scope(ip: IpAddr) -> Scope {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_unspecified() {
                Scope::Unspecified
            } else if v4.is_loopback() {
                Scope::Loopback
            } else if v4.is_link_local() {
                Scope::LinkLocal
            } else if v4.is_private() {
                Scope::Private
            } else if o[0] == 100 && (64..128).contains(&o[1]) {
                Scope::Cgnat
            } else {
                Scope::Public
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return scope(IpAddr::V4(v4));
            }
            let s = v6.segments();
            if v6.is_unspecified() {
                Scope::Unspecified
            } else if v6.is_loopback() {
                Scope::Loopback
            } else if s[0] & 0xffc0 == 0xfe80 {
                Scope::LinkLocal
            } else if s[0] & 0xfe00 == 0xfc00 {
                Scope::Private
            } else {
                Scope::Public
            }
        }
    }
}

/// Whether an address only works inside its own network: private (RFC 1918, ULA), shared
/// (CGNAT, RFC 6598) or link-local. Media sent there from outside it cannot arrive.
pub fn is_unroutable(ip: IpAddr) -> bool {
    matches!(scope(ip), Scope::Private | Scope::Cgnat | Scope::LinkLocal)
}

/// Whether an address is private or CGNAT, i.e. not reachable from the Internet.
pub fn is_private_or_cgnat(ip: IpAddr) -> bool {
    matches!(scope(ip), Scope::Private | Scope::Cgnat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_forms() {
        let hp = |s: &str| s.parse::<HostPort>();
        let name = |n: &str| Host::Name(n.into());
        assert_eq!(
            hp("stun.example.net").unwrap(),
            HostPort {
                host: name("stun.example.net"),
                port: None
            }
        );
        assert_eq!(
            hp("192.0.2.1:3479").unwrap(),
            HostPort {
                host: Host::Ip("192.0.2.1".parse().unwrap()),
                port: Some(3479)
            }
        );
        assert_eq!(hp("2001:db8::1").unwrap().to_string(), "[2001:db8::1]");
        assert_eq!(
            hp("[2001:db8::1]:19302").unwrap().to_string(),
            "[2001:db8::1]:19302"
        );
        for bad in [
            "",
            "host:0",
            "host:99999",
            "host:x",
            "[::1",
            "[zz]:1",
            "a b",
            ":3478",
        ] {
            assert!(hp(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn bind_addresses_and_nameservers() {
        assert_eq!(
            "192.0.2.1".parse::<BindAddr>().unwrap().socket_addr(),
            "192.0.2.1:0".parse::<SocketAddr>().unwrap()
        );
        assert_eq!("[::1]:5060".parse::<BindAddr>().unwrap().port, 5060);
        assert!("host".parse::<BindAddr>().is_err());
        assert_eq!(
            "192.0.2.53".parse::<NameServer>().unwrap().0,
            "192.0.2.53:53".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            "[2001:db8::53]:5353"
                .parse::<NameServer>()
                .unwrap()
                .0
                .port(),
            5353
        );
    }

    fn s(a: &str) -> Scope {
        scope(a.parse().unwrap())
    }

    #[test]
    fn scopes() {
        assert_eq!(s("10.1.2.3"), Scope::Private);
        assert_eq!(s("172.31.0.1"), Scope::Private);
        assert_eq!(s("172.32.0.1"), Scope::Public);
        assert_eq!(s("192.168.0.1"), Scope::Private);
        assert_eq!(s("100.64.0.1"), Scope::Cgnat);
        assert_eq!(s("100.127.255.255"), Scope::Cgnat);
        assert_eq!(s("100.128.0.1"), Scope::Public);
        assert_eq!(s("0.0.0.0"), Scope::Unspecified);
        assert_eq!(s("203.0.113.5"), Scope::Public);
        assert_eq!(s("fd00::1"), Scope::Private);
        assert_eq!(s("fe80::1"), Scope::LinkLocal);
        assert_eq!(s("::ffff:10.0.0.1"), Scope::Private);
        assert_eq!(s("2001:db8::1"), Scope::Public);
    }
}
