//! Media diagnosis: typed facts about a call's SDP endpoints and its RTP streams in, typed
//! findings out.

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
    let ways: Vec<Option<Way>> = call
        .streams
        .iter()
        .filter_map(|&i| streams.get(i))
        .map(|s| way(call, s))
        .collect();
    let to_caller = ways.contains(&Some(Way::CalleeToCaller));
    let to_callee = ways.contains(&Some(Way::CallerToCallee));
    if to_caller != to_callee {
        out.push(MediaFinding::OneWayAudio {
            call: index,
            flowing: if to_caller {
                Way::CalleeToCaller
            } else {
                Way::CallerToCallee
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
            streams,
        }
    }

    #[test]
    fn one_way_audio_and_its_direction() {
        let s = vec![stream("10.0.0.1:4000", "192.0.2.9:6000", 100, Some(4.3))];
        assert_eq!(
            call_findings(0, &call(vec![0]), &s),
            [MediaFinding::OneWayAudio {
                call: 0,
                flowing: Way::CallerToCallee
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
}
