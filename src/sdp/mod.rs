//! SDP (RFC 4566, offer/answer RFC 3264) reduced to what media analysis needs: where each
//! side wants RTP and RTCP, which payload types mean which codec, and the direction.
//!
//! One lenient line reader ([`parse`]): strict parsers reject bodies real phones send (a
//! missing `s=` line, an unknown line type), and a capture must never lose a call's media
//! description for that.

use std::net::IpAddr;

use crate::rtp::codec::{self, Codec};

pub mod offer;

/// Media direction attribute (RFC 3264 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Send and receive (the default).
    SendRecv,
    /// Send only (e.g. music on hold).
    SendOnly,
    /// Receive only.
    RecvOnly,
    /// Neither (hold).
    Inactive,
}

impl Direction {
    /// The attribute's name as SDP writes it (`sendrecv`, …).
    pub fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }
}

/// One `m=` line with what applies to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// `audio`, `video`, `image` (T.38), …
    pub media: String,
    /// Transport protocol, e.g. `RTP/AVP`, `RTP/SAVP`, `udptl`.
    pub proto: String,
    /// Connection address (media-level `c=`, else session-level), if it is an IP literal.
    pub address: Option<IpAddr>,
    /// The `c=` address as written (may be a host name).
    pub address_text: Option<String>,
    /// RTP port (0 = stream rejected or disabled).
    pub port: u16,
    /// RTCP port: `a=rtcp:` (RFC 3605), the RTP port with `a=rtcp-mux` (RFC 5761), else port + 1.
    pub rtcp_port: u16,
    /// Payload types offered, in preference order, with their codec when known.
    pub formats: Vec<(u8, Option<Codec>)>,
    /// Direction.
    pub direction: Direction,
    /// `a=ptime:` (RFC 8866 §6.4), ms.
    pub ptime_ms: Option<u32>,
    /// `a=rtcp-mux` (RFC 5761 §5.1.1).
    pub rtcp_mux: bool,
}

impl Media {
    /// Its formats by name in order (`PCMA`, `telephone-event`, `PT 96` when unnamed).
    pub fn format_names(&self) -> Vec<String> {
        self.formats
            .iter()
            .map(|(pt, c)| {
                c.as_ref()
                    .map_or_else(|| format!("PT {pt}"), |c| c.name.clone())
            })
            .collect()
    }
}

/// A parsed session description.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Session {
    /// The `o=` unicast address, as written.
    pub origin_address: Option<String>,
    /// Media descriptions in order.
    pub media: Vec<Media>,
}

impl Session {
    /// The first media section with RTP on a non-zero port (usually audio).
    pub fn first_rtp(&self) -> Option<&Media> {
        self.media
            .iter()
            .find(|m| m.port != 0 && m.proto.contains("RTP"))
    }
}

fn direction(attrs: &[(String, Option<String>)]) -> Direction {
    for (k, _) in attrs {
        match k.as_str() {
            "sendonly" => return Direction::SendOnly,
            "recvonly" => return Direction::RecvOnly,
            "inactive" => return Direction::Inactive,
            "sendrecv" => return Direction::SendRecv,
            _ => {}
        }
    }
    Direction::SendRecv
}

/// Builds a media entry from its parts; `attrs` are media-level attributes then session-level.
fn media_from(
    media: &str,
    port: u16,
    proto: &str,
    formats: &[String],
    address_text: Option<String>,
    attrs: &[(String, Option<String>)],
) -> Media {
    let rtpmap: Vec<(u8, Codec)> = attrs
        .iter()
        .filter(|(k, _)| k == "rtpmap")
        .filter_map(|(_, v)| {
            let v = v.as_deref()?;
            let (pt, rest) = v.trim().split_once(char::is_whitespace)?;
            let mut parts = rest.trim().split('/');
            let name = parts.next()?.to_string();
            let rate = parts
                .next()
                .and_then(|r| r.parse().ok())
                .unwrap_or_else(|| codec::clock_rate_for_name(&name));
            Some((pt.parse().ok()?, Codec::new(name, rate)))
        })
        .collect();
    let formats = formats
        .iter()
        .filter_map(|f| f.parse::<u8>().ok())
        .map(|pt| {
            let c = rtpmap
                .iter()
                .find(|(p, _)| *p == pt)
                .map(|(_, c)| c.clone())
                .or_else(|| codec::static_codec(pt));
            (pt, c)
        })
        .collect();
    let rtcp_mux = attrs.iter().any(|(k, _)| k == "rtcp-mux");
    let ptime_ms = attrs
        .iter()
        .find(|(k, _)| k == "ptime")
        .and_then(|(_, v)| v.as_deref()?.trim().parse().ok());
    let rtcp_port = if rtcp_mux {
        port
    } else {
        attrs
            .iter()
            .find(|(k, _)| k == "rtcp")
            .and_then(|(_, v)| v.as_deref()?.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| port.saturating_add(1))
    };
    let address = address_text.as_deref().and_then(|a| a.parse().ok());
    Media {
        media: media.to_string(),
        proto: proto.to_string(),
        address,
        address_text,
        port,
        rtcp_port,
        formats,
        direction: direction(attrs),
        ptime_ms,
        rtcp_mux,
    }
}

/// Parses an SDP body (RFC 8866 §5): the `o=`, `c=`, `m=` and `a=` lines, everything else
/// ignored, so vendor quirks a strict parser rejects still give their media. (The `sdp`
/// crate of the webrtc-rs 0.17 line used to come first; on every body of the corpus it gave
/// the same session as this reader, so one SDP reader is kept, not two.)
///
/// Errors: a message when there is no `v=` line or no `m=` line.
pub fn parse(body: &[u8]) -> Result<Session, String> {
    lenient(body).ok_or_else(|| "not SDP: no v= line or no m= line".to_string())
}

/// The SDP reader behind [`parse`]: reads `o=`, `c=`, `m=` and `a=` lines and ignores
/// everything else. `None` when there is no `v=` line or no `m=` line.
pub fn lenient(body: &[u8]) -> Option<Session> {
    let text = String::from_utf8_lossy(body);
    if !text.lines().any(|l| l.trim_start().starts_with("v=")) {
        return None;
    }
    struct Raw {
        m: Vec<String>,
        addr: Option<String>,
        attrs: Vec<(String, Option<String>)>,
    }
    let mut origin = None;
    let mut session_addr = None;
    let mut session_attrs = Vec::new();
    let mut raws: Vec<Raw> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        match (k, raws.last_mut()) {
            ("o", _) => origin = v.split_whitespace().nth(5).map(str::to_string),
            ("c", cur) => {
                let a = v
                    .split_whitespace()
                    .nth(2)
                    .map(|a| a.split('/').next().unwrap_or(a).to_string());
                match cur {
                    Some(r) => r.addr = a,
                    None => session_addr = a,
                }
            }
            ("m", _) => raws.push(Raw {
                m: v.split_whitespace().map(str::to_string).collect(),
                addr: None,
                attrs: Vec::new(),
            }),
            ("a", cur) => {
                let (ak, av) = match v.split_once(':') {
                    Some((ak, av)) => (ak.to_string(), Some(av.to_string())),
                    None => (v.to_string(), None),
                };
                match cur {
                    Some(r) => r.attrs.push((ak, av)),
                    None => session_attrs.push((ak, av)),
                }
            }
            _ => {}
        }
    }
    if raws.is_empty() {
        return None;
    }
    let media = raws
        .into_iter()
        .filter(|r| r.m.len() >= 3)
        .map(|mut r| {
            r.attrs.extend(session_attrs.iter().cloned());
            let port = r.m[1]
                .split('/')
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            media_from(
                &r.m[0],
                port,
                &r.m[2],
                &r.m[3..],
                r.addr.or_else(|| session_addr.clone()),
                &r.attrs,
            )
        })
        .collect();
    Some(Session {
        origin_address: origin,
        media,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3264 §10.1's offer, with RTCP on an explicit port and a telephone-event payload.
    const OFFER: &str = "v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com\r\n\
s=\r\n\
c=IN IP4 192.0.2.101\r\n\
t=0 0\r\n\
m=audio 49172 RTP/AVP 0 8 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=rtcp:53020\r\n\
a=sendonly\r\n\
m=video 0 RTP/AVP 31\r\n";

    #[test]
    fn offer_gives_address_ports_codecs_direction() {
        let s = parse(OFFER.as_bytes()).unwrap();
        assert_eq!(
            s.origin_address.as_deref(),
            Some("host.atlanta.example.com")
        );
        assert_eq!(s.media.len(), 2);
        let a = s.first_rtp().unwrap();
        assert_eq!(a.address, Some("192.0.2.101".parse().unwrap()));
        assert_eq!((a.port, a.rtcp_port), (49172, 53020));
        assert_eq!(a.direction, Direction::SendOnly);
        let names: Vec<_> = a
            .formats
            .iter()
            .map(|(p, c)| (*p, c.as_ref().unwrap().name.clone()))
            .collect();
        assert_eq!(
            names,
            vec![
                (0, "PCMU".into()),
                (8, "PCMA".into()),
                (101, "telephone-event".into())
            ]
        );
        assert_eq!(s.media[1].port, 0);
    }

    #[test]
    fn bodies_strict_parsers_reject_are_read() {
        // No s= line: a strict parser errors; the reader still finds the media.
        let body = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 18\r\na=rtcp-mux\r\n";
        let s = parse(body.as_bytes()).unwrap();
        let a = s.first_rtp().unwrap();
        assert_eq!((a.port, a.rtcp_port), (4000, 4000));
        assert_eq!(a.formats[0].1.as_ref().unwrap().name, "G729");
        assert!(parse(b"hello").is_err());
        assert!(parse(b"").is_err());
    }
}
