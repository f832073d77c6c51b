//! Media diagnosis: typed facts about a call's SDP endpoints and its RTP streams in, typed
//! findings out — for the calls of a capture (both sides seen from the wire) and for a call we
//! take part in (`call`: each direction's verdict from our counts, the far end's RTCP, an
//! echo, ICMP and the SDP addresses).

use std::net::SocketAddr;

/// Below this estimated MOS (ITU-T G.107 scale) a stream's audio is called poor.
pub const POOR_MOS: f64 = 3.6;
/// Streams with fewer packets are too short to judge.
pub const MIN_PACKETS: u64 = 10;

/// What SDP and signalling say about one call's media.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaCall {
    /// The call was answered (a 2xx to INVITE): media is expected both ways.
    pub answered: bool,
    /// The RTP address the caller announced in SDP.
    pub caller_media: Option<SocketAddr>,
    /// The RTP address the callee announced in SDP.
    pub callee_media: Option<SocketAddr>,
    /// RTP to one side's SDP address from another than the other side's: (expected, actual).
    pub source_mismatch: Vec<(SocketAddr, SocketAddr)>,
    /// Where the caller's signalling (its INVITE) came from.
    pub caller_signalling: Option<std::net::IpAddr>,
    /// Where the callee's signalling (the responses with its SDP) came from.
    pub callee_signalling: Option<std::net::IpAddr>,
    /// Indexes of the call's streams.
    pub streams: Vec<usize>,
}

/// One RTP stream as observed.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaStream {
    /// Source.
    pub src: SocketAddr,
    /// Destination.
    pub dst: SocketAddr,
    /// The call it belongs to (index), when signalled.
    pub call: Option<usize>,
    /// Packets received.
    pub packets: u64,
    /// Estimated MOS, for voice.
    pub mos: Option<f64>,
    /// Loss, percent.
    pub loss_percent: f64,
    /// Mean RFC 3550 jitter, ms.
    pub jitter_mean_ms: f64,
}

/// Which way media flows in a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// From the caller to the callee.
    CallerToCallee,
    /// From the callee to the caller.
    CalleeToCaller,
}

/// What the media of a call or a stream means.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaFinding {
    /// RTP arrives from another address than SDP announced: the receiver must latch onto
    /// the real source (symmetric RTP / comedia).
    SourceMismatch {
        /// The call.
        call: usize,
        /// The address SDP announced.
        expected: SocketAddr,
        /// The address RTP came from.
        actual: SocketAddr,
    },
    /// An answered call without any RTP.
    NoMedia {
        /// The call.
        call: usize,
    },
    /// An answered call whose RTP flows one way only.
    OneWayAudio {
        /// The call.
        call: usize,
        /// The way that flows.
        flowing: Way,
        /// The other way's RTP was seen, sent to this private address from the other side's
        /// SDP, while that side's signalling and RTP came from a public address: it cannot
        /// arrive (the cause). `None` when no RTP the other way was seen at all.
        sent_to_private: Option<SocketAddr>,
    },
    /// A stream whose destination never sends RTP back.
    NoReturn {
        /// The stream.
        stream: usize,
    },
    /// A stream with an estimated MOS below [`POOR_MOS`].
    PoorQuality {
        /// The stream.
        stream: usize,
        /// Its MOS.
        mos: f64,
    },
}

/// The way a stream goes in `call`: towards the caller's or the callee's SDP address.
fn way(call: &MediaCall, s: &MediaStream) -> Option<Way> {
    if Some(s.dst) == call.caller_media || Some(s.src) == call.callee_media {
        Some(Way::CalleeToCaller)
    } else if Some(s.dst) == call.callee_media || Some(s.src) == call.caller_media {
        Some(Way::CallerToCallee)
    } else {
        None
    }
}

/// The findings about call `index`: source mismatches, then for an answered call no media
/// at all, or media one way only.
pub fn call_findings(index: usize, call: &MediaCall, streams: &[MediaStream]) -> Vec<MediaFinding> {
    let mut out: Vec<MediaFinding> = call
        .source_mismatch
        .iter()
        .map(|&(expected, actual)| MediaFinding::SourceMismatch {
            call: index,
            expected,
            actual,
        })
        .collect();
    if !call.answered {
        return out;
    }
    if call.streams.is_empty() {
        out.push(MediaFinding::NoMedia { call: index });
        return out;
    }
    let of_call: Vec<&MediaStream> = call
        .streams
        .iter()
        .filter_map(|&i| streams.get(i))
        .collect();
    // A way whose RTP goes to the other side's private SDP address while that side's
    // signalling — and its RTP, when seen — comes from a public address: the capture point
    // is outside that private network, so those packets cannot arrive.
    let unreachable =
        |target: Option<SocketAddr>, signalling: Option<std::net::IpAddr>, way_back: Way| {
            let target = target.filter(|t| crate::addr::is_unroutable(t.ip()))?;
            let public_signalling =
                signalling.is_some_and(|ip| !crate::addr::is_unroutable(ip) && !ip.is_loopback());
            let rtp_back_public = of_call
                .iter()
                .filter(|s| way(call, s) == Some(way_back))
                .all(|s| !crate::addr::is_unroutable(s.src.ip()));
            (public_signalling && rtp_back_public).then_some(target)
        };
    let lost_to_callee = unreachable(
        call.callee_media,
        call.callee_signalling,
        Way::CalleeToCaller,
    );
    let lost_to_caller = unreachable(
        call.caller_media,
        call.caller_signalling,
        Way::CallerToCallee,
    );
    let mut to_caller = false;
    let mut to_callee = false;
    let mut sent_to_private = (None, None);
    for s in &of_call {
        match way(call, s) {
            Some(Way::CalleeToCaller) if lost_to_caller.is_some_and(|t| t == s.dst) => {
                sent_to_private.0 = lost_to_caller;
            }
            Some(Way::CallerToCallee) if lost_to_callee.is_some_and(|t| t == s.dst) => {
                sent_to_private.1 = lost_to_callee;
            }
            Some(Way::CalleeToCaller) => to_caller = true,
            Some(Way::CallerToCallee) => to_callee = true,
            None => {}
        }
    }
    if to_caller != to_callee {
        out.push(MediaFinding::OneWayAudio {
            call: index,
            flowing: if to_caller {
                Way::CalleeToCaller
            } else {
                Way::CallerToCallee
            },
            sent_to_private: if to_caller {
                sent_to_private.1
            } else {
                sent_to_private.0
            },
        });
    }
    out
}

/// Whether the destination of stream `i` ever sent RTP back to its source (same addresses
/// reversed, or at least the same hosts).
pub fn has_return(streams: &[MediaStream], i: usize) -> bool {
    let s = &streams[i];
    streams.iter().any(|o| o.src == s.dst && o.dst == s.src)
        || streams
            .iter()
            .any(|o| o.src.ip() == s.dst.ip() && o.dst.ip() == s.src.ip())
}

/// The findings about stream `i`: no return (unless its call is already one-way audio, which
/// says more), poor quality. Streams under [`MIN_PACKETS`] are not judged.
pub fn stream_findings(
    streams: &[MediaStream],
    i: usize,
    one_way_calls: &[usize],
) -> Vec<MediaFinding> {
    let s = &streams[i];
    let mut out = Vec::new();
    if s.packets < MIN_PACKETS {
        return out;
    }
    let in_one_way_call = s.call.is_some_and(|c| one_way_calls.contains(&c));
    if !in_one_way_call && !has_return(streams, i) {
        out.push(MediaFinding::NoReturn { stream: i });
    }
    if let Some(mos) = s.mos
        && mos < POOR_MOS
    {
        out.push(MediaFinding::PoorQuality { stream: i, mos });
    }
    out
}

/// What one direction of a call's media came to (the JSON `verdict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Audio flowed with quality at or above [`POOR_MOS`].
    Ok,
    /// Audio flowed, but lossy or jittery (MOS under [`POOR_MOS`]), or only a few packets.
    Poor,
    /// No audio: evidence shows nothing arrived.
    Dead,
    /// The negotiated direction (hold, sendonly, recvonly) carries no audio this way.
    NotExpected,
    /// No evidence either way (no report, no echo, too short).
    Unknown,
}

/// One direction of a call we took part in, from our side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From the far end to us.
    Inbound,
    /// From us to the far end.
    Outbound,
}

/// What a live call (or one side of a captured one) shows about its media: SDP, signalling
/// and the counts of both directions, as evidence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallMedia {
    /// The call was answered (or early media ran): media was due.
    pub media_due: bool,
    /// How long media ran, ms.
    pub media_ms: f64,
    /// The negotiation lets the far end send to us.
    pub expect_inbound: bool,
    /// The negotiation lets us send to the far end.
    pub expect_outbound: bool,
    /// RTP packets we sent.
    pub sent: u64,
    /// RTP packets that arrived.
    pub received: u64,
    /// Inbound loss, percent, and estimated MOS.
    pub inbound_loss_percent: f64,
    /// See `inbound_loss_percent`.
    pub inbound_mos: Option<f64>,
    /// The far end's RTCP report about our stream: (fraction lost %, cumulative lost).
    pub remote_report: Option<(f64, i64)>,
    /// Our packets an echo returned, when the far end echoes.
    pub echo_returned: Option<u64>,
    /// Estimated MOS of the outbound direction from the best evidence (report or echo).
    pub outbound_mos: Option<f64>,
    /// The answer's media address.
    pub answer_address: Option<SocketAddr>,
    /// The answer's media address is private/shared/link-local…
    pub answer_private: bool,
    /// … while the answer came from a public address (so it is not on our network).
    pub answer_from_public: bool,
    /// Our offer's media address is private and our signalling shows a NAT, with no mapping
    /// advertised instead.
    pub offer_private_behind_nat: Option<SocketAddr>,
    /// RTP arrived from another address than the answer named.
    pub source_mismatch: Option<SocketAddr>,
    /// We latched onto that address.
    pub latched: Option<SocketAddr>,
    /// RTCP arrived on the RTP port without rtcp-mux.
    pub rtcp_on_rtp_port: bool,
    /// An ICMP error said our RTP's destination is unreachable.
    pub unreachable: Option<SocketAddr>,
    /// The far end put the call on hold / the answer's direction excludes a way.
    pub direction_limited: bool,
}

/// Media under this long cannot be judged, ms.
pub const MIN_MEDIA_MS: f64 = 500.0;

/// What a call's media means, in findings.
#[derive(Debug, Clone, PartialEq)]
pub enum CallFinding {
    /// One direction dead, the other flowing.
    OneWayAudio {
        /// The dead direction.
        dead: Direction,
        /// The cause the evidence shows, if it shows one.
        cause: Option<Cause>,
    },
    /// Neither direction carried audio.
    NoMedia {
        /// The cause the evidence shows, if any.
        cause: Option<Cause>,
    },
    /// The answer names a private address while it came from a public one.
    AnswerPrivateMediaAddress {
        /// The address.
        address: SocketAddr,
        /// Latching rescued it.
        rescued: bool,
    },
    /// Our offer names a private address behind a NAT.
    OfferPrivateMediaAddress {
        /// Our address.
        address: SocketAddr,
    },
    /// We had to send to where the far end's RTP came from.
    MediaLatched {
        /// The answer's address.
        signalled: Option<SocketAddr>,
        /// Where RTP came from.
        actual: SocketAddr,
    },
    /// RTP came from another address than signalled, and we did not latch (`--no-latch`).
    MediaSourceMismatch {
        /// The answer's address.
        signalled: Option<SocketAddr>,
        /// Where RTP came from.
        actual: SocketAddr,
    },
    /// RTCP arrived on the RTP port without rtcp-mux, or RTP from the signalled address
    /// but another port (a NAT rewrote the port only).
    MediaPortMismatch {
        /// The RTP source with the other port, when that is the case.
        rtp_from: Option<(SocketAddr, SocketAddr)>,
    },
    /// ICMP said our RTP's destination is unreachable.
    MediaPortUnreachable {
        /// Where our RTP went.
        destination: SocketAddr,
    },
    /// Nothing shows whether the far end receives us.
    OutboundUnverified,
    /// A direction flowed with poor quality.
    PoorQuality {
        /// Which.
        direction: Direction,
        /// Its MOS.
        mos: f64,
    },
    /// The negotiated direction (hold) excludes a way: no one-way verdict for it.
    MediaDirection,
}

/// A cause the evidence names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The far end sends to the private address of our offer (no mapping advertised).
    OfferPrivate(SocketAddr),
    /// We send to the private address of the answer, unreachable from here.
    AnswerPrivate(SocketAddr),
    /// ICMP port/host unreachable for our RTP.
    Unreachable(SocketAddr),
    /// The far end's RTCP shows it receives us: its RTP is lost or filtered on the way back
    /// (a firewall or NAT on our side), or it sends it elsewhere.
    ReturnFiltered,
}

/// The verdict of each direction of a call and the findings that explain them (RFC 3550
/// counts, RFC 3264 directions; see the module documentation). A direction is `dead` only on
/// evidence: no packet arrived (inbound), or ICMP / a private address / the far end's own
/// report or echo says ours did not (outbound); with no such evidence outbound is `unknown`.
pub fn call_verdicts(m: &CallMedia) -> (Verdict, Verdict, Vec<CallFinding>) {
    let mut out = Vec::new();
    if let Some(actual) = m.latched {
        out.push(CallFinding::MediaLatched {
            signalled: m.answer_address,
            actual,
        });
    } else if let Some(actual) = m.source_mismatch {
        out.push(CallFinding::MediaSourceMismatch {
            signalled: m.answer_address,
            actual,
        });
    }
    if m.rtcp_on_rtp_port {
        out.push(CallFinding::MediaPortMismatch { rtp_from: None });
    }
    if let (Some(signalled), Some(actual)) = (m.answer_address, m.latched.or(m.source_mismatch))
        && signalled.ip() == actual.ip()
        && signalled.port() != actual.port()
    {
        out.push(CallFinding::MediaPortMismatch {
            rtp_from: Some((signalled, actual)),
        });
    }
    let answer_private = m
        .answer_address
        .filter(|_| m.answer_private && m.answer_from_public);
    if let Some(address) = answer_private {
        out.push(CallFinding::AnswerPrivateMediaAddress {
            address,
            rescued: m.latched.is_some(),
        });
    }
    if let Some(address) = m.offer_private_behind_nat {
        out.push(CallFinding::OfferPrivateMediaAddress { address });
    }
    if let Some(destination) = m.unreachable {
        out.push(CallFinding::MediaPortUnreachable { destination });
    }
    if m.direction_limited {
        out.push(CallFinding::MediaDirection);
    }
    if !m.media_due {
        return (Verdict::Unknown, Verdict::Unknown, out);
    }
    let quality = |mos: Option<f64>, packets: u64| match mos {
        _ if packets < MIN_PACKETS => Verdict::Poor,
        Some(x) if x < POOR_MOS => Verdict::Poor,
        _ => Verdict::Ok,
    };
    let short = m.media_ms < MIN_MEDIA_MS;
    let inbound = if !m.expect_inbound {
        Verdict::NotExpected
    } else if m.received > 0 {
        quality(m.inbound_mos, m.received)
    } else if short {
        Verdict::Unknown
    } else {
        Verdict::Dead
    };
    let far_receives = m.remote_report.is_some() || m.echo_returned.is_some_and(|n| n > 0);
    let outbound = if !m.expect_outbound {
        Verdict::NotExpected
    } else if m.sent == 0 {
        Verdict::Unknown
    } else if far_receives {
        quality(m.outbound_mos, m.sent)
    } else if m.unreachable.is_some() || (answer_private.is_some() && m.latched.is_none()) {
        Verdict::Dead
    } else if m.echo_returned == Some(0) && m.received > 0 {
        // The echo path works (other packets come back), ours do not.
        Verdict::Dead
    } else {
        Verdict::Unknown
    };
    let outbound_cause = if let Some(d) = m.unreachable {
        Some(Cause::Unreachable(d))
    } else {
        answer_private
            .filter(|_| m.latched.is_none())
            .map(Cause::AnswerPrivate)
    };
    let inbound_cause = if let Some(a) = m.offer_private_behind_nat {
        Some(Cause::OfferPrivate(a))
    } else if far_receives {
        Some(Cause::ReturnFiltered)
    } else {
        None
    };
    match (inbound, outbound) {
        (Verdict::Dead, Verdict::Dead | Verdict::NotExpected)
        | (Verdict::NotExpected, Verdict::Dead) => out.push(CallFinding::NoMedia {
            cause: inbound_cause.or(outbound_cause),
        }),
        (Verdict::Dead, _) => out.push(CallFinding::OneWayAudio {
            dead: Direction::Inbound,
            cause: inbound_cause,
        }),
        (_, Verdict::Dead) => out.push(CallFinding::OneWayAudio {
            dead: Direction::Outbound,
            cause: outbound_cause,
        }),
        _ => {}
    }
    if outbound == Verdict::Unknown && m.expect_outbound && m.sent > 0 && !short {
        out.push(CallFinding::OutboundUnverified);
    }
    for (direction, verdict, mos) in [
        (Direction::Inbound, inbound, m.inbound_mos),
        (Direction::Outbound, outbound, m.outbound_mos),
    ] {
        if verdict == Verdict::Poor
            && let Some(mos) = mos
        {
            out.push(CallFinding::PoorQuality { direction, mos });
        }
    }
    (inbound, outbound, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn stream(src: &str, dst: &str, packets: u64, mos: Option<f64>) -> MediaStream {
        MediaStream {
            src: sa(src),
            dst: sa(dst),
            call: Some(0),
            packets,
            mos,
            loss_percent: 0.0,
            jitter_mean_ms: 0.0,
        }
    }

    fn call(streams: Vec<usize>) -> MediaCall {
        MediaCall {
            answered: true,
            caller_media: Some(sa("10.0.0.1:4000")),
            callee_media: Some(sa("192.0.2.9:6000")),
            source_mismatch: vec![],
            caller_signalling: Some("10.0.0.1".parse().unwrap()),
            callee_signalling: Some("192.0.2.9".parse().unwrap()),
            streams,
        }
    }

    /// The callee's SDP names 10.9.9.9 while its signalling and RTP come from the public
    /// 198.51.100.7: the caller's RTP to 10.9.9.9 cannot arrive — one-way audio with that
    /// cause, although a stream is seen each way. With the callee's signalling private
    /// too (the capture point may be inside its network), no cause is claimed.
    #[test]
    fn rtp_to_a_private_answer_from_a_public_peer_is_lost() {
        let s = vec![
            stream("203.0.113.5:4000", "10.9.9.9:6000", 100, Some(4.4)),
            stream("198.51.100.7:30000", "203.0.113.5:4000", 100, Some(4.4)),
        ];
        let c = MediaCall {
            answered: true,
            caller_media: Some(sa("203.0.113.5:4000")),
            callee_media: Some(sa("10.9.9.9:6000")),
            source_mismatch: vec![],
            caller_signalling: Some("203.0.113.5".parse().unwrap()),
            callee_signalling: Some("198.51.100.7".parse().unwrap()),
            streams: vec![0, 1],
        };
        assert_eq!(
            call_findings(0, &c, &s),
            [MediaFinding::OneWayAudio {
                call: 0,
                flowing: Way::CalleeToCaller,
                sent_to_private: Some(sa("10.9.9.9:6000")),
            }]
        );
        let inside = MediaCall {
            callee_signalling: Some("10.9.9.9".parse().unwrap()),
            ..c
        };
        assert!(call_findings(0, &inside, &s).is_empty());
    }

    #[test]
    fn one_way_audio_and_its_direction() {
        let s = vec![stream("10.0.0.1:4000", "192.0.2.9:6000", 100, Some(4.3))];
        assert_eq!(
            call_findings(0, &call(vec![0]), &s),
            [MediaFinding::OneWayAudio {
                call: 0,
                flowing: Way::CallerToCallee,
                sent_to_private: None,
            }]
        );
        // A stream of a one-way call is not also "no return".
        assert!(stream_findings(&s, 0, &[0]).is_empty());
        assert_eq!(
            stream_findings(&s, 0, &[]),
            [MediaFinding::NoReturn { stream: 0 }]
        );
    }

    #[test]
    fn both_ways_none_and_quality() {
        let s = vec![
            stream("10.0.0.1:4000", "192.0.2.9:6000", 100, Some(3.1)),
            stream("192.0.2.9:6000", "10.0.0.1:4000", 5, Some(1.0)),
        ];
        assert!(call_findings(0, &call(vec![0, 1]), &s).is_empty());
        assert_eq!(
            stream_findings(&s, 0, &[]),
            [MediaFinding::PoorQuality {
                stream: 0,
                mos: 3.1
            }]
        );
        assert!(stream_findings(&s, 1, &[]).is_empty(), "too short to judge");
        assert_eq!(
            call_findings(0, &call(vec![]), &s),
            [MediaFinding::NoMedia { call: 0 }]
        );
        let mut unanswered = call(vec![]);
        unanswered.answered = false;
        unanswered.source_mismatch = vec![(sa("192.0.2.9:6000"), sa("198.51.100.1:6000"))];
        assert_eq!(call_findings(0, &unanswered, &s).len(), 1);
    }

    fn live() -> CallMedia {
        CallMedia {
            media_due: true,
            media_ms: 5000.0,
            expect_inbound: true,
            expect_outbound: true,
            sent: 250,
            received: 250,
            inbound_mos: Some(4.4),
            answer_address: Some(sa("192.0.2.9:6000")),
            answer_from_public: true,
            ..CallMedia::default()
        }
    }

    /// Both ways without evidence for outbound: inbound ok, outbound unknown — never "ok"
    /// by default.
    #[test]
    fn outbound_needs_evidence() {
        let (i, o, f) = call_verdicts(&live());
        assert_eq!((i, o), (Verdict::Ok, Verdict::Unknown));
        assert_eq!(f, [CallFinding::OutboundUnverified]);
        let (_, o, f) = call_verdicts(&CallMedia {
            remote_report: Some((0.0, 0)),
            outbound_mos: Some(4.4),
            ..live()
        });
        assert_eq!((o, f.len()), (Verdict::Ok, 0));
    }

    /// A private answer address from a public far end: outbound dead with that cause,
    /// unless we latched (then it worked, and says so).
    #[test]
    fn private_answer_address() {
        let private = CallMedia {
            answer_address: Some(sa("10.1.1.5:4000")),
            answer_private: true,
            received: 0,
            ..live()
        };
        let (i, o, f) = call_verdicts(&private);
        assert_eq!((i, o), (Verdict::Dead, Verdict::Dead));
        assert!(f.contains(&CallFinding::NoMedia {
            cause: Some(Cause::AnswerPrivate(sa("10.1.1.5:4000")))
        }));
        let latched = CallMedia {
            received: 250,
            latched: Some(sa("198.51.100.7:30000")),
            ..private
        };
        let (i, o, f) = call_verdicts(&latched);
        assert_eq!((i, o), (Verdict::Ok, Verdict::Unknown));
        assert!(f.contains(&CallFinding::AnswerPrivateMediaAddress {
            address: sa("10.1.1.5:4000"),
            rescued: true
        }));
        assert!(matches!(f[0], CallFinding::MediaLatched { .. }));
    }

    /// No inbound RTP while the far end reports receiving ours: one-way, the return path.
    /// With our offer private behind a NAT, that is the cause instead.
    #[test]
    fn inbound_dead_causes() {
        let m = CallMedia {
            received: 0,
            inbound_mos: None,
            remote_report: Some((0.0, 0)),
            outbound_mos: Some(4.4),
            ..live()
        };
        let (i, o, f) = call_verdicts(&m);
        assert_eq!((i, o), (Verdict::Dead, Verdict::Ok));
        assert_eq!(
            f,
            [CallFinding::OneWayAudio {
                dead: Direction::Inbound,
                cause: Some(Cause::ReturnFiltered)
            }]
        );
        let (_, _, f) = call_verdicts(&CallMedia {
            offer_private_behind_nat: Some(sa("10.0.0.2:40000")),
            ..m
        });
        assert!(f.contains(&CallFinding::OneWayAudio {
            dead: Direction::Inbound,
            cause: Some(Cause::OfferPrivate(sa("10.0.0.2:40000")))
        }));
        // Too short to judge, and on hold: no one-way verdict.
        let (i, _, _) = call_verdicts(&CallMedia {
            media_ms: 0.0,
            ..m.clone()
        });
        assert_eq!(i, Verdict::Unknown);
        let (i, _, f) = call_verdicts(&CallMedia {
            expect_inbound: false,
            direction_limited: true,
            ..m
        });
        assert_eq!(i, Verdict::NotExpected);
        assert_eq!(f, [CallFinding::MediaDirection]);
    }

    /// ICMP for our RTP: outbound dead, with that cause; poor inbound quality is named.
    #[test]
    fn unreachable_and_poor() {
        let (i, o, f) = call_verdicts(&CallMedia {
            unreachable: Some(sa("192.0.2.9:6000")),
            inbound_mos: Some(2.9),
            ..live()
        });
        assert_eq!((i, o), (Verdict::Poor, Verdict::Dead));
        assert!(f.contains(&CallFinding::OneWayAudio {
            dead: Direction::Outbound,
            cause: Some(Cause::Unreachable(sa("192.0.2.9:6000")))
        }));
        assert!(f.contains(&CallFinding::PoorQuality {
            direction: Direction::Inbound,
            mos: 2.9
        }));
    }

    /// RTP from the signalled address but another port (a NAT rewrote only the port):
    /// MEDIA_PORT_MISMATCH beside the latch; from another address it is not a port matter.
    #[test]
    fn port_only_mismatch() {
        let m = CallMedia {
            latched: Some(sa("192.0.2.9:31000")),
            ..live()
        };
        let (_, _, f) = call_verdicts(&m);
        assert!(f.contains(&CallFinding::MediaPortMismatch {
            rtp_from: Some((sa("192.0.2.9:6000"), sa("192.0.2.9:31000")))
        }));
        let other_host = CallMedia {
            latched: Some(sa("198.51.100.3:6000")),
            ..live()
        };
        let (_, _, f) = call_verdicts(&other_host);
        assert!(
            !f.iter()
                .any(|x| matches!(x, CallFinding::MediaPortMismatch { .. }))
        );
    }
}
