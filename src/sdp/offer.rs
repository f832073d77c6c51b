//! The SDP offer/answer model (RFC 3264) for one audio stream: writing our offer or answer
//! (RFC 8866 syntax), and reading what the other side's description means for the media
//! session — where to send RTP and RTCP, with which payload type, in which direction, and
//! whether the address it names can be reached at all (a private address from a public peer
//! is the classic cause of one-way audio).

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use super::{Direction, Media, Session};
use crate::rtp::codec::Codec;

/// The payload type we offer for RFC 4733 telephone-event.
pub const TELEPHONE_EVENT_PT: u8 = 101;

/// An audio codec we can send and receive: G.711 (RFC 3551 §4.5.14), static payload types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioCodec {
    /// G.711 µ-law, payload type 0.
    Pcmu,
    /// G.711 A-law, payload type 8.
    Pcma,
}

impl AudioCodec {
    /// The static payload type.
    pub fn payload_type(self) -> u8 {
        match self {
            AudioCodec::Pcmu => 0,
            AudioCodec::Pcma => 8,
        }
    }

    /// The encoding name in SDP.
    pub fn name(self) -> &'static str {
        match self {
            AudioCodec::Pcmu => "PCMU",
            AudioCodec::Pcma => "PCMA",
        }
    }

    /// The codec a description's payload type `pt` / `codec` stands for, if it is one of ours.
    pub fn from_format(pt: u8, codec: Option<&Codec>) -> Option<AudioCodec> {
        let by_name = codec.map(|c| c.name.to_ascii_uppercase());
        match (pt, by_name.as_deref()) {
            (_, Some("PCMU")) | (0, None) => Some(AudioCodec::Pcmu),
            (_, Some("PCMA")) | (8, None) => Some(AudioCodec::Pcma),
            _ => None,
        }
    }
}

/// What our side of the description says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMedia {
    /// `o=` session id and version (RFC 8866 §5.2), e.g. from the injected RNG.
    pub session_id: u64,
    /// The address the other side should send RTP to (`c=`), e.g. a STUN-mapped one.
    pub address: IpAddr,
    /// Our RTP port.
    pub port: u16,
    /// Codecs in preference order.
    pub codecs: Vec<AudioCodec>,
    /// Offer RFC 4733 telephone-event.
    pub telephone_event: bool,
    /// Packet time, ms.
    pub ptime_ms: u32,
    /// Our direction.
    pub direction: Direction,
    /// RTCP on the RTP port (RFC 5761).
    pub rtcp_mux: bool,
    /// Our RTCP port when it is not the RTP port + 1 (e.g. its STUN mapping), written as
    /// `a=rtcp` (RFC 3605).
    pub rtcp_port: Option<u16>,
}

/// Writes our description: one audio stream with `codecs` (in `local`'s order, or only
/// `answer_codec` in an answer), telephone-event when asked for, ptime, direction, and
/// `a=rtcp` (RFC 3605) or `a=rtcp-mux`.
pub fn write(
    local: &LocalMedia,
    answer_codec: Option<(u8, AudioCodec)>,
    te_pt: Option<u8>,
) -> String {
    let family = if local.address.is_ipv4() {
        "IP4"
    } else {
        "IP6"
    };
    let mut formats: Vec<(u8, String)> = match answer_codec {
        Some((pt, c)) => vec![(pt, c.name().to_string())],
        None => local
            .codecs
            .iter()
            .map(|c| (c.payload_type(), c.name().to_string()))
            .collect(),
    };
    if let Some(pt) = te_pt.filter(|_| local.telephone_event) {
        formats.push((pt, "telephone-event".into()));
    }
    let list: Vec<String> = formats.iter().map(|(pt, _)| pt.to_string()).collect();
    let mut s = String::new();
    let _ = write!(
        s,
        "v=0\r\no=voipdiag {id} {id} IN {family} {addr}\r\ns=voipdiag\r\nc=IN {family} {addr}\r\nt=0 0\r\nm=audio {port} RTP/AVP {list}\r\n",
        id = local.session_id,
        addr = local.address,
        port = local.port,
        list = list.join(" ")
    );
    for (pt, name) in &formats {
        let _ = write!(s, "a=rtpmap:{pt} {name}/8000\r\n");
        if name == "telephone-event" {
            let _ = write!(s, "a=fmtp:{pt} 0-15\r\n");
        }
    }
    let _ = write!(s, "a=ptime:{}\r\n", local.ptime_ms);
    if local.rtcp_mux {
        s.push_str("a=rtcp-mux\r\n");
    } else {
        let port = local.rtcp_port.unwrap_or(local.port.saturating_add(1));
        let _ = write!(s, "a=rtcp:{port}\r\n");
    }
    let _ = write!(s, "a={}\r\n", local.direction.attribute());
    s
}

/// What the other side's description means for the media session (RFC 3264 §6.1, §8.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Where to send RTP: `None` on hold (`c=0.0.0.0`, RFC 3264 §8.4) or a host name.
    pub remote_rtp: Option<SocketAddr>,
    /// Where to send RTCP (`a=rtcp`, `a=rtcp-mux` or the RTP port + 1).
    pub remote_rtcp: Option<SocketAddr>,
    /// The payload type and codec to send: the first of the other side's formats that we
    /// support (its preference order, RFC 3264 §6.1).
    pub codec: (u8, AudioCodec),
    /// Its telephone-event payload type, if any.
    pub telephone_event: Option<u8>,
    /// Its direction; ours follows from it (RFC 3264 §6.1).
    pub remote_direction: Direction,
    /// Its packet time, ms.
    pub ptime_ms: Option<u32>,
    /// It multiplexes RTCP on the RTP port.
    pub rtcp_mux: bool,
    /// The address is private, shared (100.64/10) or link-local: unreachable from outside
    /// its own network.
    pub private_address: bool,
}

impl Negotiated {
    /// Whether we should send: the other side receives (sendrecv or recvonly) and named an
    /// address.
    pub fn we_send(&self) -> bool {
        self.remote_rtp.is_some()
            && matches!(
                self.remote_direction,
                Direction::SendRecv | Direction::RecvOnly
            )
    }

    /// Whether we should expect RTP: the other side sends (sendrecv or sendonly).
    pub fn we_receive(&self) -> bool {
        matches!(
            self.remote_direction,
            Direction::SendRecv | Direction::SendOnly
        )
    }
}

/// Why a description gives no media session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NegotiationError {
    /// No audio stream over RTP.
    #[error("the description has no RTP audio stream")]
    NoAudio,
    /// The audio stream was rejected (port 0, RFC 3264 §6).
    #[error("the audio stream was rejected (port 0)")]
    Rejected,
    /// None of its codecs is one we have (PCMU, PCMA).
    #[error("no common codec: it has {0}, we have PCMU and PCMA")]
    NoCommonCodec(String),
}

/// Reads the other side's description (an answer to our offer, or an offer to answer).
///
/// # Errors
/// [`NegotiationError`] when there is no usable audio stream or no common codec.
pub fn negotiate(remote: &Session, ours: &[AudioCodec]) -> Result<Negotiated, NegotiationError> {
    let audio: &Media = remote
        .media
        .iter()
        .find(|m| m.media.eq_ignore_ascii_case("audio") && m.proto.contains("RTP"))
        .ok_or(NegotiationError::NoAudio)?;
    if audio.port == 0 {
        return Err(NegotiationError::Rejected);
    }
    let codec = audio
        .formats
        .iter()
        .find_map(|(pt, c)| {
            AudioCodec::from_format(*pt, c.as_ref())
                .filter(|a| ours.contains(a))
                .map(|a| (*pt, a))
        })
        .ok_or_else(|| NegotiationError::NoCommonCodec(audio.format_names().join(", ")))?;
    let telephone_event = audio
        .formats
        .iter()
        .find(|(_, c)| c.as_ref().is_some_and(Codec::is_telephone_event))
        .map(|(pt, _)| *pt);
    let hold = audio.address.is_some_and(|a| a.is_unspecified());
    let remote_rtp = audio
        .address
        .filter(|_| !hold)
        .map(|ip| SocketAddr::new(ip, audio.port));
    let remote_rtcp = remote_rtp.map(|a| SocketAddr::new(a.ip(), audio.rtcp_port));
    let private_address = audio
        .address
        .is_some_and(|a| !hold && crate::addr::is_unroutable(a));
    Ok(Negotiated {
        remote_rtp,
        remote_rtcp,
        codec,
        telephone_event,
        remote_direction: if hold {
            Direction::Inactive
        } else {
            audio.direction
        },
        ptime_ms: audio.ptime_ms,
        rtcp_mux: audio.rtcp_mux,
        private_address,
    })
}

/// Our direction in an answer to an offer with direction `offered` (RFC 3264 §6.1), when we
/// would like `wanted`.
pub fn answer_direction(offered: Direction, wanted: Direction) -> Direction {
    use Direction::{Inactive, RecvOnly, SendOnly, SendRecv};
    let we_may_send = matches!(offered, SendRecv | RecvOnly);
    let we_may_receive = matches!(offered, SendRecv | SendOnly);
    let we_send = we_may_send && matches!(wanted, SendRecv | SendOnly);
    let we_receive = we_may_receive && matches!(wanted, SendRecv | RecvOnly);
    match (we_send, we_receive) {
        (true, true) => SendRecv,
        (true, false) => SendOnly,
        (false, true) => RecvOnly,
        (false, false) => Inactive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdp::parse;

    fn local() -> LocalMedia {
        LocalMedia {
            session_id: 4242,
            address: "203.0.113.5".parse().unwrap(),
            port: 40000,
            codecs: vec![AudioCodec::Pcmu, AudioCodec::Pcma],
            telephone_event: true,
            ptime_ms: 20,
            direction: Direction::SendRecv,
            rtcp_mux: false,
            rtcp_port: None,
        }
    }

    #[test]
    fn an_offer_reads_back_as_written() {
        let text = write(&local(), None, Some(TELEPHONE_EVENT_PT));
        assert!(text.starts_with("v=0\r\no=voipdiag 4242 4242 IN IP4 203.0.113.5\r\n"));
        assert!(text.contains("m=audio 40000 RTP/AVP 0 8 101\r\n"), "{text}");
        let s = parse(text.as_bytes()).unwrap();
        let m = s.first_rtp().unwrap();
        assert_eq!((m.port, m.rtcp_port, m.ptime_ms), (40000, 40001, Some(20)));
        assert_eq!(m.direction, Direction::SendRecv);
        let n = negotiate(&s, &[AudioCodec::Pcma, AudioCodec::Pcmu]).unwrap();
        // The describing side's order wins (RFC 3264 §6.1).
        assert_eq!(n.codec, (0, AudioCodec::Pcmu));
        assert_eq!(n.telephone_event, Some(101));
        assert_eq!(n.remote_rtp, Some("203.0.113.5:40000".parse().unwrap()));
        assert_eq!(n.remote_rtcp, Some("203.0.113.5:40001".parse().unwrap()));
        assert!(!n.private_address && n.we_send() && n.we_receive());
    }

    #[test]
    fn answers_mean_what_rfc_3264_says() {
        let answer = |body: &str| parse(body.as_bytes()).unwrap();
        let ours = [AudioCodec::Pcmu, AudioCodec::Pcma];
        // A private c= from a phone behind NAT; PCMA chosen; rtcp-mux.
        let n = negotiate(
            &answer("v=0\r\nc=IN IP4 192.168.1.20\r\nm=audio 5004 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=rtcp-mux\r\na=recvonly\r\n"),
            &ours,
        )
        .unwrap();
        assert!(n.private_address);
        assert_eq!(n.codec, (8, AudioCodec::Pcma));
        assert_eq!(n.remote_rtcp, n.remote_rtp);
        assert!(n.we_send() && !n.we_receive());
        // Hold by c=0.0.0.0 (RFC 3264 §8.4): nothing to send to.
        let n = negotiate(
            &answer("v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 5004 RTP/AVP 0\r\n"),
            &ours,
        )
        .unwrap();
        assert_eq!(n.remote_rtp, None);
        assert!(!n.we_send() && !n.we_receive() && !n.private_address);
        // Rejected, no audio, no common codec.
        assert_eq!(
            negotiate(
                &answer("v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 0 RTP/AVP 0\r\n"),
                &ours
            ),
            Err(NegotiationError::Rejected)
        );
        assert_eq!(
            negotiate(
                &answer("v=0\r\nc=IN IP4 192.0.2.1\r\nm=image 4000 udptl t38\r\n"),
                &ours
            ),
            Err(NegotiationError::NoAudio)
        );
        assert_eq!(
            negotiate(
                &answer("v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 18\r\n"),
                &ours
            ),
            Err(NegotiationError::NoCommonCodec("G729".into()))
        );
        // A dynamic payload type named PCMA counts.
        let n = negotiate(
            &answer(
                "v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 96\r\na=rtpmap:96 PCMA/8000\r\n",
            ),
            &ours,
        )
        .unwrap();
        assert_eq!(n.codec, (96, AudioCodec::Pcma));
    }

    #[test]
    fn an_answer_writes_one_codec_and_a_compatible_direction() {
        let text = write(&local(), Some((8, AudioCodec::Pcma)), Some(101));
        assert!(text.contains("m=audio 40000 RTP/AVP 8 101\r\n"), "{text}");
        use Direction::*;
        assert_eq!(answer_direction(SendOnly, SendRecv), RecvOnly);
        assert_eq!(answer_direction(RecvOnly, SendRecv), SendOnly);
        assert_eq!(answer_direction(Inactive, SendRecv), Inactive);
        assert_eq!(answer_direction(SendRecv, SendRecv), SendRecv);
        assert_eq!(answer_direction(SendRecv, Inactive), Inactive);
    }
}
