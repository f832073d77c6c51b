//! TURN URIs (RFC 7065 §3): `turn:HOST[:PORT][?transport=udp|tcp]` and
//! `turns:HOST[:PORT][?transport=tcp]`, default ports 3478 and 5349.

use std::fmt;
use std::str::FromStr;

/// What a TURN client talks to its server over (RFC 8656 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TurnTransport {
    /// UDP (retransmissions, RFC 8489 §6.2.1).
    Udp,
    /// TCP (RFC 8489 §6.2.2; ChannelData padded to 4 bytes, RFC 8656 §12.5).
    Tcp,
    /// TLS over TCP (`turns:`).
    Tls,
}

impl TurnTransport {
    /// `udp`, `tcp` or `tls`.
    pub fn as_str(self) -> &'static str {
        match self {
            TurnTransport::Udp => "udp",
            TurnTransport::Tcp => "tcp",
            TurnTransport::Tls => "tls",
        }
    }

    /// Whether the transport is a stream (TCP or TLS).
    pub fn is_stream(self) -> bool {
        self != TurnTransport::Udp
    }
}

/// A parsed TURN URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnUri {
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// Port (3478 for `turn:`, 5349 for `turns:` when absent).
    pub port: u16,
    /// Transport to the server.
    pub transport: TurnTransport,
}

/// Default port of `turn:` (RFC 7065 §3).
pub const DEFAULT_PORT: u16 = 3478;
/// Default port of `turns:` (RFC 7065 §3).
pub const DEFAULT_TLS_PORT: u16 = 5349;

impl FromStr for TurnUri {
    type Err = String;

    /// Parses `turn:` / `turns:` URIs; errors name what is wrong.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (secure, rest) = if let Some(r) = strip_scheme(s, "turns:") {
            (true, r)
        } else if let Some(r) = strip_scheme(s, "turn:") {
            (false, r)
        } else {
            return Err(format!(
                "'{s}' is not a TURN URI: write turn:HOST[:PORT][?transport=udp|tcp] or turns:HOST[:PORT]"
            ));
        };
        let rest = rest.trim_start_matches("//");
        let (hostport, query) = match rest.split_once('?') {
            Some((h, q)) => (h, Some(q)),
            None => (rest, None),
        };
        let (host, port) = split_host_port(hostport)?;
        let mut transport = if secure {
            TurnTransport::Tls
        } else {
            TurnTransport::Udp
        };
        if let Some(q) = query {
            for pair in q.split('&').filter(|p| !p.is_empty()) {
                match pair.split_once('=') {
                    Some((k, v)) if k.eq_ignore_ascii_case("transport") => {
                        transport = match (v.to_ascii_lowercase().as_str(), secure) {
                            ("udp", false) => TurnTransport::Udp,
                            ("tcp", false) => TurnTransport::Tcp,
                            ("tcp", true) => TurnTransport::Tls,
                            ("udp", true) => {
                                return Err(format!(
                                    "'{s}': turns: runs over TLS, not UDP (DTLS is not supported)"
                                ));
                            }
                            (other, _) => {
                                return Err(format!(
                                    "'{s}': unknown transport '{other}' (udp or tcp)"
                                ));
                            }
                        };
                    }
                    _ => return Err(format!("'{s}': unknown URI parameter '{pair}'")),
                }
            }
        }
        let port = port.unwrap_or(if secure {
            DEFAULT_TLS_PORT
        } else {
            DEFAULT_PORT
        });
        Ok(TurnUri {
            host,
            port,
            transport,
        })
    }
}

fn strip_scheme<'a>(s: &'a str, scheme: &str) -> Option<&'a str> {
    (s.len() >= scheme.len() && s[..scheme.len()].eq_ignore_ascii_case(scheme))
        .then(|| &s[scheme.len()..])
}

fn split_host_port(s: &str) -> Result<(String, Option<u16>), String> {
    let bad_port = |p: &str| format!("'{p}' is not a port number (1-65535)");
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("'{s}': unclosed '[' in an IPv6 address"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(
                p.parse()
                    .ok()
                    .filter(|&p| p != 0)
                    .ok_or_else(|| bad_port(p))?,
            ),
            None if after.is_empty() => None,
            None => return Err(format!("'{s}': unexpected '{after}' after the address")),
        };
        return Ok((host.to_string(), port));
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (
            h,
            Some(
                p.parse()
                    .ok()
                    .filter(|&p| p != 0)
                    .ok_or_else(|| bad_port(p))?,
            ),
        ),
        Some(_) => (s, None), // a bare IPv6 literal
        None => (s, None),
    };
    if host.is_empty() {
        return Err("a TURN URI needs a host".into());
    }
    Ok((host.to_string(), port))
}

impl fmt::Display for TurnUri {
    /// The URI in its RFC 7065 form, with the port always written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.transport {
            TurnTransport::Udp => write!(f, "turn:{host}:{}?transport=udp", self.port),
            TurnTransport::Tcp => write!(f, "turn:{host}:{}?transport=tcp", self.port),
            TurnTransport::Tls => write!(f, "turns:{host}:{}?transport=tcp", self.port),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7065_forms() {
        let u: TurnUri = "turn:turn.example.com".parse().unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.transport),
            ("turn.example.com", 3478, TurnTransport::Udp)
        );
        let u: TurnUri = "turn:192.0.2.1:3479?transport=tcp".parse().unwrap();
        assert_eq!((u.port, u.transport), (3479, TurnTransport::Tcp));
        let u: TurnUri = "turns:turn.example.com".parse().unwrap();
        assert_eq!((u.port, u.transport), (5349, TurnTransport::Tls));
        let u: TurnUri = "TURN:[2001:db8::1]:4000".parse().unwrap();
        assert_eq!((u.host.as_str(), u.port), ("2001:db8::1", 4000));
        assert_eq!(u.to_string(), "turn:[2001:db8::1]:4000?transport=udp");
        for bad in [
            "stun:x",
            "turn:",
            "turn:x:0",
            "turn:x:99999",
            "turn:x?transport=sctp",
            "turns:x?transport=udp",
            "turn:x?foo=1",
            "turn:[::1",
        ] {
            assert!(bad.parse::<TurnUri>().is_err(), "{bad} accepted");
        }
    }
}
