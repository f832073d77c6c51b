//! The Via header (RFC 3261 §20.42; `received`, `rport` RFC 3581).

use super::grammar::parse_params;
use super::is_token;

/// One Via value (RFC 3261 §20.42, `rport` RFC 3581).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// `SIP/2.0`.
    pub protocol: String,
    /// Transport token as written upper-cased: `UDP`, `TCP`, `TLS`, `SCTP`, `WS`, …
    pub transport: String,
    /// sent-by host: a name, an IPv4 address or an IPv6 reference without brackets.
    pub host: String,
    /// sent-by port, when given.
    pub port: Option<u16>,
    /// Parameters in order, names lower-cased.
    pub params: Vec<(String, Option<String>)>,
}

impl Via {
    /// Parses a single Via value such as `SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK…;rport`.
    ///
    /// # Errors
    /// A description of the first grammar violation.
    pub fn parse(v: &str) -> Result<Via, String> {
        let (proto_and_host, params) = match v.split_once(';') {
            Some((a, b)) => (a, b),
            None => (v, ""),
        };
        // sent-protocol: name LWS? / LWS? version LWS? / LWS? transport, then LWS sent-by.
        let mut fields = proto_and_host.splitn(3, '/');
        let name = fields.next().unwrap_or("").trim();
        let version = fields.next().unwrap_or("").trim();
        let rest = fields.next().unwrap_or("").trim_start();
        let (transport, sent_by) = rest
            .split_once([' ', '\t'])
            .ok_or_else(|| format!("no sent-by in {v:?}"))?;
        let sent_by = sent_by.trim();
        if !is_token(name) || !is_token(version) || !is_token(transport) {
            return Err(format!("bad sent-protocol in {v:?}"));
        }
        let (host, port) = split_host_port(sent_by)?;
        Ok(Via {
            protocol: format!("{name}/{version}"),
            transport: transport.to_ascii_uppercase(),
            host,
            port,
            params: parse_params(params)?,
        })
    }

    fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref())
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&str> {
        self.param("branch").flatten()
    }

    /// The `received` parameter: the source address the server saw (RFC 3261 §18.2.1).
    pub fn received(&self) -> Option<&str> {
        self.param("received").flatten()
    }

    /// The `rport` parameter: `None` absent, `Some(None)` present without value,
    /// `Some(Some(port))` filled in by the server (RFC 3581 §4).
    pub fn rport(&self) -> Option<Option<u16>> {
        self.param("rport").map(|v| v.and_then(|p| p.parse().ok()))
    }
}

/// Splits `host[:port]` where host may be `[v6]`.
fn split_host_port(s: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("unterminated IPv6 reference in {s:?}"))?;
        match after.trim() {
            "" => (h, None),
            p => (
                h,
                Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| format!("junk after IPv6 reference in {s:?}"))?,
                ),
            ),
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let host = host.trim();
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:_".contains(c))
    {
        return Err(format!("bad host {host:?}"));
    }
    let port = port
        .map(|p| {
            p.trim()
                .parse::<u16>()
                .map_err(|_| format!("bad port {p:?}"))
        })
        .transpose()?;
    Ok((host.to_string(), port))
}
