//! Address scopes that matter behind NAT: private (RFC 1918, RFC 4193), shared/CGNAT
//! (RFC 6598, 100.64.0.0/10), loopback, link-local, unspecified, and public.

use std::net::IpAddr;

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

/// Whether an address is private or CGNAT, i.e. not reachable from the Internet.
pub fn is_private_or_cgnat(ip: IpAddr) -> bool {
    matches!(scope(ip), Scope::Private | Scope::Cgnat)
}

#[cfg(test)]
mod tests {
    use super::*;

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
