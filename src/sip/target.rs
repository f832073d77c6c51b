//! What the user names on the command line: a SIP URI (`sip:alice@example.com;transport=tcp`,
//! `sips:…`), or `host[:port]` with IPv6 literals in brackets (RFC 3261 §19.1).
//!
//! SIP URIs are parsed with rsip's `Uri`, except those with an IPv6 reference, which rsip
//! cannot parse (`invalid digit found in string`): those and the plain `host[:port]` form are
//! parsed here.

use std::fmt;

/// A SIP transport (RFC 3261 §18; TLS per §26.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// UDP, with retransmissions (RFC 3261 §17.1.2.2).
    Udp,
    /// TCP, messages framed by Content-Length.
    Tcp,
    /// TLS over TCP (sips:).
    Tls,
}

impl Transport {
    /// Via transport token (`UDP`, `TCP`, `TLS`).
    pub fn via_token(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }

    /// Whether the transport is reliable (no retransmission, RFC 3261 §17.1.2.2).
    pub fn is_reliable(self) -> bool {
        self != Transport::Udp
    }

    /// Default port (RFC 3261 §19.1.2): 5060, or 5061 for TLS.
    pub fn default_port(self) -> u16 {
        match self {
            Transport::Tls => 5061,
            _ => 5060,
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        })
    }
}

pub use crate::addr::Host;

/// A parsed target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `sips:` (TLS required, RFC 3261 §19.1).
    pub secure: bool,
    /// The user part, if any.
    pub user: Option<String>,
    /// Host name or address.
    pub host: Host,
    /// Explicit port.
    pub port: Option<u16>,
    /// Explicit `transport=` parameter.
    pub transport: Option<Transport>,
}

impl Target {
    /// The URI to put in the Request-URI: `sip:[user@]host[:port]` (transport parameters are
    /// kept only when given).
    pub fn request_uri(&self) -> String {
        let mut s = format!("{}:", if self.secure { "sips" } else { "sip" });
        if let Some(u) = &self.user {
            s.push_str(u);
            s.push('@');
        }
        s.push_str(&self.host.to_string());
        if let Some(p) = self.port {
            s.push_str(&format!(":{p}"));
        }
        if let Some(t) = self.transport
            && !self.secure
            && t != Transport::Udp
        {
            s.push_str(&format!(";transport={t}"));
        }
        s
    }

    /// The address-of-record form `sip:user@host` (no port or parameters).
    pub fn aor(&self) -> String {
        let scheme = if self.secure { "sips" } else { "sip" };
        match &self.user {
            Some(u) => format!("{scheme}:{u}@{}", self.host),
            None => format!("{scheme}:{}", self.host),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.request_uri())
    }
}

/// A host in a SIP URI (the shared grammar of [`Host`]); names are case-insensitive
/// (RFC 3261 §19.1.4) and kept in lower case.
fn parse_host(s: &str) -> Result<Host, String> {
    Ok(match Host::parse(s)? {
        Host::Name(n) => Host::Name(n.to_ascii_lowercase()),
        ip => ip,
    })
}

impl std::str::FromStr for Target {
    type Err = String;

    /// Parses `sip:`/`sips:` URIs with rsip, `host[:port]` and `[v6]:port` ourselves.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let lower = s.to_ascii_lowercase();
        if (lower.starts_with("sip:") || lower.starts_with("sips:")) && !s.contains('[') {
            let uri = rsip::Uri::try_from(s).map_err(|e| format!("bad SIP URI {s:?}: {e}"))?;
            let secure = matches!(uri.scheme, Some(rsip::Scheme::Sips));
            let host = match &uri.host_with_port.host {
                rsip::Host::IpAddr(ip) => Host::Ip(*ip),
                rsip::Host::Domain(d) => parse_host(&d.to_string())?,
            };
            let mut transport = None;
            for p in &uri.params {
                if let rsip::Param::Transport(t) = p {
                    transport = Some(match t {
                        rsip::Transport::Udp => Transport::Udp,
                        rsip::Transport::Tcp => Transport::Tcp,
                        rsip::Transport::Tls => Transport::Tls,
                        other => return Err(format!("transport {other} is not supported")),
                    });
                }
            }
            if secure && transport == Some(Transport::Udp) {
                return Err("sips: cannot use transport=udp (RFC 3261 §26.2)".into());
            }
            return Ok(Target {
                secure,
                user: uri.auth.as_ref().map(|a| a.user.clone()),
                host,
                port: uri.host_with_port.port.map(|p| *p.value()),
                transport: if secure {
                    Some(Transport::Tls)
                } else {
                    transport
                },
            });
        }
        if let Some(rest) = lower
            .strip_prefix("sip:")
            .or_else(|| lower.strip_prefix("sips:"))
        {
            // sip:[user@][v6]:port[;params] — the rsip gap.
            let secure = lower.starts_with("sips:");
            let rest = &s[s.len() - rest.len()..];
            let (hostpart, params) = rest.split_once(';').unwrap_or((rest, ""));
            let (user, hostport) = match hostpart.rsplit_once('@') {
                Some((u, h)) => (Some(u.to_string()), h),
                None => (None, hostpart),
            };
            let mut t: Target = hostport.parse()?;
            t.secure = secure;
            t.user = user;
            for p in params.split(';') {
                if let Some(v) = p.strip_prefix("transport=") {
                    t.transport = Some(match v.to_ascii_lowercase().as_str() {
                        "udp" => Transport::Udp,
                        "tcp" => Transport::Tcp,
                        "tls" => Transport::Tls,
                        other => return Err(format!("transport {other} is not supported")),
                    });
                }
            }
            if secure {
                t.transport = Some(Transport::Tls);
            }
            return Ok(t);
        }
        if s.contains('@') {
            return Err(format!(
                "{s:?} is not a SIP URI: an address-of-record or target with a user part is a SIP URI (RFC 3261 §19.1); did you mean \"sip:{s}\"?"
            ));
        }
        if s.contains(':') && !s.starts_with('[') && s.matches(':').count() > 1 {
            return Err(format!(
                "{s:?}: write IPv6 addresses in brackets, e.g. [2001:db8::1]:5060"
            ));
        }
        let (host, port) = match s.rfind(':') {
            Some(i) if !s[i..].contains(']') => (
                &s[..i],
                Some(
                    s[i + 1..]
                        .parse::<u16>()
                        .map_err(|_| format!("bad port in {s:?}"))?,
                ),
            ),
            _ => (s, None),
        };
        Ok(Target {
            secure: false,
            user: None,
            host: parse_host(host)?,
            port,
            transport: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_part_without_scheme_suggests_the_sip_uri() {
        let e = "alice@example.com".parse::<Target>().unwrap_err();
        assert!(e.contains("is not a SIP URI"), "{e}");
        assert!(e.contains("did you mean \"sip:alice@example.com\""), "{e}");
    }

    #[test]
    fn target_forms() {
        let t: Target = "sip:alice@Example.com;transport=tcp".parse().unwrap();
        assert_eq!(t.user.as_deref(), Some("alice"));
        assert_eq!(t.host, Host::Name("example.com".into()));
        assert_eq!(t.transport, Some(Transport::Tcp));
        assert_eq!(t.request_uri(), "sip:alice@example.com;transport=tcp");
        assert_eq!(t.aor(), "sip:alice@example.com");

        let t: Target = "sips:bob@192.0.2.1:5071".parse().unwrap();
        assert!(t.secure);
        assert_eq!(t.transport, Some(Transport::Tls));
        assert_eq!(t.port, Some(5071));

        let t: Target = "[2001:db8::1]:5080".parse().unwrap();
        assert_eq!(t.host, Host::Ip("2001:db8::1".parse().unwrap()));
        assert_eq!(t.port, Some(5080));
        assert_eq!(t.request_uri(), "sip:[2001:db8::1]:5080");

        let t: Target = "sip:[2001:db8::2]".parse().unwrap();
        assert_eq!(t.host, Host::Ip("2001:db8::2".parse().unwrap()));

        let t: Target = "pbx.example.org".parse().unwrap();
        assert_eq!(t.host, Host::Name("pbx.example.org".into()));
        assert_eq!(t.port, None);

        assert!("2001:db8::1".parse::<Target>().is_err());
        assert!("host:99999".parse::<Target>().is_err());
        assert!("bad host".parse::<Target>().is_err());
        assert!("sips:x@y;transport=udp".parse::<Target>().is_err());
    }
}
