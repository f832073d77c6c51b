//! The `pcap-decode` report: calls, RTP streams, STUN and SIP messages of a capture, the
//! findings in words (decided in `capture::findings` and `diagnose`), and the renderings:
//! summary, messages, ladder (the `ladder` module), streams.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, UNIX_EPOCH};

use serde::{Serialize, Serializer};

use super::{Describe, Section};
use crate::diagnose::capture::{Evicted, PacketCounts, StunRecord};
use crate::rtp::codec;

mod findings;
mod ladder;

pub use findings::{findings, status};

/// Which rendering the human output shows (`--json` always carries everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// Calls, RTP streams and findings.
    #[default]
    Summary,
    /// Every SIP message: time, source → destination, method or status, Call-ID.
    Messages,
    /// A sequence diagram of one dialog (`--call-id`, default the first call).
    Ladder,
    /// All RTP stream statistics.
    Streams,
}

/// A capture time, ns since the Unix epoch; shown (and in JSON) as RFC 3339 UTC with
/// microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time(pub i64);

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t =
            u64::try_from(self.0).map_or(UNIX_EPOCH, |ns| UNIX_EPOCH + Duration::from_nanos(ns));
        write!(f, "{}", humantime::format_rfc3339_micros(t))
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// An RTP SSRC; shown (and in JSON) as `0xA1A1A1A1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ssrc(pub u32);

impl fmt::Display for Ssrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:08X}", self.0)
    }
}

impl Serialize for Ssrc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `result.packets` plus where the malformed ones came from.
#[derive(Debug, Clone, Serialize)]
pub struct MalformedReason {
    /// What was wrong.
    pub reason: String,
    /// Frames.
    pub count: u64,
}

/// The time span of the capture.
#[derive(Debug, Clone, Serialize)]
pub struct Span {
    /// First frame.
    pub first: Option<Time>,
    /// Last frame.
    pub last: Option<Time>,
    /// Seconds between them.
    pub duration_s: f64,
}

/// SIP message counts (as `tshark -z sip,stat` counts them: every message, retransmissions
/// included).
#[derive(Debug, Clone, Serialize)]
pub struct SipCounts {
    /// Messages in all.
    pub messages: u64,
    /// Requests by method.
    pub requests: BTreeMap<String, u64>,
    /// Responses by status code.
    pub responses: BTreeMap<String, u64>,
}

/// One INVITE dialog (`result.calls[]`).
#[derive(Debug, Clone, Serialize)]
pub struct CallReport {
    /// Call-ID.
    pub call_id: String,
    /// From URI.
    pub from: String,
    /// To URI.
    pub to: String,
    /// Time of the first INVITE.
    pub start: Time,
    /// INVITE → first 180/183 (ms).
    pub post_dial_delay_ms: Option<f64>,
    /// INVITE → 2xx (ms).
    pub answer_ms: Option<f64>,
    /// 2xx → BYE (s).
    pub duration_s: Option<f64>,
    /// Last final response to an INVITE (e.g. 200, 486).
    pub final_status: Option<u16>,
    /// `caller` or `callee` (who sent BYE or CANCEL), null if nobody did.
    pub ended_by: Option<&'static str>,
    /// Codecs of the SDP answer (else the offer), in order.
    pub codecs: Vec<String>,
    /// Transport of the INVITE: UDP, TCP, WS, SCTP.
    pub transport: &'static str,
    /// Sender of the INVITE ("ip:port" in JSON).
    pub caller: Option<SocketAddr>,
    /// Receiver of the INVITE.
    pub callee: Option<SocketAddr>,
    /// RTP address the caller announced in SDP.
    pub caller_media: Option<SocketAddr>,
    /// RTP address the callee announced in SDP.
    pub callee_media: Option<SocketAddr>,
    /// SIP messages in the dialog.
    pub messages: u64,
    /// RTP streams of this call (indexes into `streams`).
    pub streams: Vec<usize>,
}

/// One RTP stream (`result.streams[]`).
#[derive(Debug, Clone, Serialize)]
pub struct StreamReport {
    /// SSRC.
    pub ssrc: Ssrc,
    /// Source (`ip:port`, `[ip]:port` for IPv6, in JSON).
    pub src: SocketAddr,
    /// Destination.
    pub dst: SocketAddr,
    /// Call-ID when the stream was signalled.
    pub call_id: Option<String>,
    /// Main payload type.
    pub payload_type: u8,
    /// Its codec (SDP name), null when unknown.
    pub codec: Option<String>,
    /// All payload types seen.
    pub payload_types: Vec<u8>,
    /// First packet.
    pub start: Time,
    /// First to last packet (s).
    pub duration_s: f64,
    /// Packets received.
    pub packets: u64,
    /// Packets expected from the sequence numbers (RFC 3550 A.3).
    pub expected: u64,
    /// expected − packets (negative with duplicates).
    pub lost: i64,
    /// lost / expected, percent.
    pub loss_percent: f64,
    /// Repeated sequence numbers.
    pub duplicates: u64,
    /// Packets after a higher sequence number.
    pub out_of_order: u64,
    /// Sequence errors (gaps, late, repeated), each counted once.
    pub sequence_errors: u64,
    /// Largest interval between packets (ms).
    pub max_delta_ms: f64,
    /// Mean RFC 3550 interarrival jitter (ms).
    pub jitter_mean_ms: f64,
    /// Maximum RFC 3550 interarrival jitter (ms).
    pub jitter_max_ms: f64,
    /// Estimated MOS (ITU-T G.107 E-model, simplified; an estimate), null for non-voice.
    pub mos: Option<f64>,
    /// DTMF digits (RFC 4733) in the stream.
    pub dtmf: String,
    /// What the receiver said in RTCP: fraction lost (percent).
    pub rtcp_fraction_lost_percent: Option<f64>,
}

/// One SIP message (`result.messages[]`).
#[derive(Debug, Clone, Serialize)]
pub struct MessageReport {
    /// Frame number.
    pub frame: u64,
    /// When.
    pub time: Time,
    /// Source.
    pub src: SocketAddr,
    /// Destination.
    pub dst: SocketAddr,
    /// UDP, TCP, WS, SCTP.
    pub transport: &'static str,
    /// Request line or status line.
    pub message: String,
    /// Call-ID.
    pub call_id: String,
    /// Carried SDP.
    pub sdp: bool,
    /// The response code (none for a request); the ladder labels responses by it.
    #[serde(skip)]
    pub status: Option<u16>,
}

/// The result of `pcap-decode`.
#[derive(Debug, Clone, Serialize)]
pub struct PcapDecodeResult {
    /// The file read ("-" for stdin).
    pub file: String,
    /// Frame accounting: decoded + ignored + malformed = total.
    pub packets: PacketCounts,
    /// Why frames were malformed.
    pub malformed_reasons: Vec<MalformedReason>,
    /// Set when the file ended inside a record or was corrupt, or reading was interrupted.
    pub truncated: Option<String>,
    /// What bounds on the analysis' state left out; absent when nothing (any ordinary
    /// capture).
    #[serde(skip_serializing_if = "Evicted::is_empty")]
    pub evicted: Evicted,
    /// Time span.
    pub capture: Span,
    /// SIP message counts.
    pub sip: SipCounts,
    /// INVITE dialogs.
    pub calls: Vec<CallReport>,
    /// RTP streams.
    pub streams: Vec<StreamReport>,
    /// RTCP datagrams decoded.
    pub rtcp_packets: u64,
    /// STUN messages (the first 10 000).
    pub stun: Vec<StunRecord>,
    /// STUN messages in all.
    pub stun_messages: u64,
    /// SIP messages (the first 50 000).
    pub messages: Vec<MessageReport>,
    /// The rendering chosen.
    #[serde(skip)]
    pub view: View,
    /// For the ladder view.
    #[serde(skip)]
    pub ladder_call_id: Option<String>,
    /// Whether `--rtp-heuristics` was on (what an empty streams view says).
    #[serde(skip)]
    pub heuristics: bool,
}

fn opt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.0} ms"))
}

impl PcapDecodeResult {
    /// The ladder view: the dialog of `--call-id` (checked by the command), else the first
    /// call, saying which other Call-IDs there are; a sentence when there is no dialog.
    fn ladder_section(&self) -> Section {
        let id = self
            .ladder_call_id
            .clone()
            .or_else(|| self.calls.first().map(|c| c.call_id.clone()))
            .or_else(|| self.messages.first().map(|m| m.call_id.clone()));
        let Some(id) = id else {
            return Section::Note {
                title: "Ladder".into(),
                text: "no SIP dialog in this capture, so no ladder to draw".into(),
            };
        };
        let mut body = self
            .ladder(&id)
            .unwrap_or_else(|| format!("no SIP message with Call-ID {id} in the capture\n"));
        let others: Vec<&str> = self
            .calls
            .iter()
            .map(|c| c.call_id.as_str())
            .filter(|c| *c != id)
            .collect();
        if self.ladder_call_id.is_none() && !others.is_empty() {
            body.push_str(&format!(
                "\nThe capture has {}; this is the first. Others (--call-id ID):\n",
                crate::text::count(self.calls.len() as u64, "call")
            ));
            for c in others {
                body.push_str(&format!("  {c}\n"));
            }
        }
        Section::Text {
            title: format!("Ladder of Call-ID {id}"),
            body,
        }
    }
}

impl Describe for PcapDecodeResult {
    fn verdict(&self) -> String {
        let p = &self.packets;
        use crate::text::count;
        format!(
            "{}, {}, {} in {} ({} decoded, {} ignored, {} malformed)",
            count(self.calls.len() as u64, "call"),
            count(self.streams.len() as u64, "RTP stream"),
            count(self.sip.messages, "SIP message"),
            count(p.total, "packet"),
            p.decoded,
            p.ignored,
            p.malformed
        )
    }

    fn sections(&self, verbose: bool) -> Vec<Section> {
        let mut out = Vec::new();
        match self.view {
            View::Messages if self.messages.is_empty() => {
                out.push(Section::Note {
                    title: "SIP messages".into(),
                    text: "no SIP message in this capture".into(),
                });
                return out;
            }
            View::Messages => {
                out.push(Section::Table {
                    title: "SIP messages".into(),
                    header: [
                        "#",
                        "time (s)",
                        "source → destination",
                        "transport",
                        "message",
                        "Call-ID",
                    ]
                    .map(String::from)
                    .to_vec(),
                    rows: self
                        .messages
                        .iter()
                        .map(|m| {
                            vec![
                                m.frame.to_string(),
                                self.rel(m.time),
                                format!("{} → {}", m.src, m.dst),
                                m.transport.to_string(),
                                format!("{}{}", m.message, if m.sdp { " (SDP)" } else { "" }),
                                m.call_id.clone(),
                            ]
                        })
                        .collect(),
                });
                return out;
            }
            View::Ladder => {
                out.push(self.ladder_section());
                return out;
            }
            View::Summary | View::Streams => {}
        }
        if self.view == View::Summary {
            let p = &self.packets;
            let mut rows = vec![
                ("file".to_string(), self.file.clone()),
                (
                    "packets".into(),
                    format!(
                        "{} = {} decoded + {} ignored + {} malformed",
                        p.total, p.decoded, p.ignored, p.malformed
                    ),
                ),
                (
                    "time span".into(),
                    format!(
                        "{} (+{:.3} s)",
                        self.capture
                            .first
                            .map_or_else(|| "-".into(), |t| t.to_string()),
                        self.capture.duration_s
                    ),
                ),
                (
                    "SIP".into(),
                    format!(
                        "{}: {}",
                        crate::text::count(self.sip.messages, "message"),
                        self.sip
                            .requests
                            .iter()
                            .map(|(k, v)| format!("{k} {v}"))
                            .chain(self.sip.responses.iter().map(|(k, v)| format!("{k} {v}")))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                (
                    "RTCP".into(),
                    crate::text::count(self.rtcp_packets, "packet"),
                ),
                (
                    "STUN".into(),
                    crate::text::count(self.stun_messages, "message"),
                ),
            ];
            if let Some(t) = &self.truncated {
                rows.push(("truncated".into(), t.clone()));
            }
            for m in &self.malformed_reasons {
                rows.push(("malformed".into(), format!("{} × {}", m.count, m.reason)));
            }
            out.push(Section::Facts {
                title: "Capture".into(),
                rows,
            });
            if !self.calls.is_empty() {
                out.push(Section::Table {
                    title: "Calls".into(),
                    header: [
                        "Call-ID",
                        "from → to",
                        "start",
                        "post-dial",
                        "answer",
                        "duration",
                        "status",
                        "ended by",
                        "codecs",
                    ]
                    .map(String::from)
                    .to_vec(),
                    rows: self
                        .calls
                        .iter()
                        .map(|c| {
                            vec![
                                c.call_id.clone(),
                                format!("{} → {}", c.from, c.to),
                                c.start.to_string(),
                                opt_ms(c.post_dial_delay_ms),
                                opt_ms(c.answer_ms),
                                c.duration_s
                                    .map_or_else(|| "-".into(), |d| format!("{d:.1} s")),
                                c.final_status.map_or_else(|| "-".into(), |s| s.to_string()),
                                c.ended_by.unwrap_or("-").to_string(),
                                c.codecs.join(" "),
                            ]
                        })
                        .collect(),
                });
            }
        }
        if self.streams.is_empty() && self.view == View::Streams {
            out.push(Section::Note {
                title: "RTP streams".into(),
                text: if self.heuristics {
                    "no RTP stream in this capture".into()
                } else {
                    "no RTP stream on the ports SDP announced (--rtp-heuristics also finds unsignalled streams)".into()
                },
            });
        }
        if !self.streams.is_empty() {
            let full = self.view == View::Streams || verbose;
            let mut header = vec![
                "SSRC",
                "source → destination",
                "codec",
                "packets",
                "lost",
                "jitter mean/max",
                "max delta",
                "MOS (est.)",
            ];
            if full {
                header.extend(["dup", "out of order", "seq errors", "DTMF", "Call-ID"]);
            }
            out.push(Section::Table {
                title: "RTP streams".into(),
                header: header.into_iter().map(String::from).collect(),
                rows: self
                    .streams
                    .iter()
                    .map(|s| {
                        let c = s.codec.as_ref().map(|n| codec::Codec::new(n.clone(), 0));
                        let mut row = vec![
                            s.ssrc.to_string(),
                            format!("{} → {}", s.src, s.dst),
                            codec::label(c.as_ref(), s.payload_type),
                            s.packets.to_string(),
                            super::lost_cell(s.lost, s.loss_percent),
                            format!("{:.2} / {:.2} ms", s.jitter_mean_ms, s.jitter_max_ms),
                            format!("{:.1} ms", s.max_delta_ms),
                            s.mos.map_or_else(|| "-".into(), |m| format!("{m:.2}")),
                        ];
                        if full {
                            row.extend([
                                s.duplicates.to_string(),
                                s.out_of_order.to_string(),
                                s.sequence_errors.to_string(),
                                s.dtmf.clone(),
                                s.call_id.clone().unwrap_or_default(),
                            ]);
                        }
                        row
                    })
                    .collect(),
            });
        }
        if self.view == View::Summary && !self.stun.is_empty() {
            let limit = if verbose { usize::MAX } else { 20 };
            out.push(Section::Table {
                title: format!(
                    "STUN ({}{})",
                    crate::text::count(self.stun_messages, "message"),
                    if self.stun.len() > limit {
                        ", first 20; -v for all"
                    } else {
                        ""
                    }
                ),
                header: [
                    "#",
                    "source → destination",
                    "message",
                    "mapped address",
                    "other / origin",
                ]
                .map(String::from)
                .to_vec(),
                rows: self
                    .stun
                    .iter()
                    .take(limit)
                    .map(|s| {
                        vec![
                            s.frame.to_string(),
                            format!("{} → {} ({})", s.src, s.dst, s.transport),
                            format!(
                                "{} {}{}",
                                s.method,
                                s.class,
                                if s.classic { " (RFC 3489)" } else { "" }
                            ),
                            s.xor_mapped_address
                                .clone()
                                .or_else(|| s.mapped_address.clone())
                                .unwrap_or_default(),
                            [s.other_address.clone(), s.response_origin.clone()]
                                .into_iter()
                                .flatten()
                                .collect::<Vec<_>>()
                                .join(" / "),
                        ]
                    })
                    .collect(),
            });
        }
        out
    }
}
