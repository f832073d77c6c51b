//! What a capture means, as typed findings: how reading went, each call's outcome and the
//! NAT trouble its signalling shows, and — through [`crate::diagnose::media`] — what its
//! media shows. The report puts them into words; the order here is the report's order
//! within each severity.

use super::analysis::{AlgSign, Analysis, PrivateAddress};
use crate::diagnose::media::{self, MediaCall, MediaFinding, MediaStream};

/// One conclusion about a capture.
#[derive(Debug, Clone, PartialEq)]
pub enum CaptureFinding {
    /// The file ended early or was cut: the report covers what came before.
    Truncated(String),
    /// Bounds on the analysis' state were reached: some calls, streams or flows were not
    /// followed (counts in the report's `evicted`).
    StateLimits(crate::capture::analysis::Evicted),
    /// Frames that could not be decoded, with the most frequent reason.
    Malformed {
        /// How many.
        count: u64,
        /// The most frequent reason.
        most_often: String,
    },
    /// The caller cancelled before an answer.
    Cancelled {
        /// The call.
        call: usize,
    },
    /// The call failed with a final response (its status line).
    Failed {
        /// The call.
        call: usize,
        /// The final response's status line, e.g. `486 Busy Here`.
        reason: String,
    },
    /// No final response to the INVITE in the capture.
    NoFinalResponse {
        /// The call.
        call: usize,
    },
    /// Answered, but no BYE was seen.
    NoBye {
        /// The call.
        call: usize,
    },
    /// Private/CGNAT addresses in signalling sent from a public address.
    PrivateAddresses {
        /// The call.
        call: usize,
        /// The addresses and where they were.
        addresses: Vec<PrivateAddress>,
    },
    /// A sign of a SIP ALG.
    AlgSuspected {
        /// The call.
        call: usize,
        /// What was seen.
        sign: AlgSign,
    },
    /// What the media shows.
    Media(MediaFinding),
    /// Nothing VoIP in the capture.
    NoVoip,
}

/// The streams as the media diagnosis sees them (loss and jitter rounded as reported).
pub fn media_streams(a: &Analysis) -> Vec<MediaStream> {
    let round3 = |x: f64| (x * 1e3).round() / 1e3;
    a.streams
        .iter()
        .map(|s| {
            let q = s.receiver.quality();
            MediaStream {
                src: s.src,
                dst: s.dst,
                call: s.call,
                packets: q.summary.packets,
                mos: q.mos,
                loss_percent: round3(q.summary.loss_percent),
                jitter_mean_ms: round3(q.summary.jitter_mean_ms),
            }
        })
        .collect()
}

/// Every finding about the capture, in report order.
pub fn diagnose(a: &Analysis) -> Vec<CaptureFinding> {
    let mut f = Vec::new();
    if let Some(t) = &a.truncated {
        f.push(CaptureFinding::Truncated(t.clone()));
    }
    let evicted = a.evicted();
    if !evicted.is_empty() {
        f.push(CaptureFinding::StateLimits(evicted));
    }
    if a.packets.malformed > 0 {
        let most_often = a
            .malformed_reasons
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(r, _)| r.clone())
            .unwrap_or_default();
        f.push(CaptureFinding::Malformed {
            count: a.packets.malformed,
            most_often,
        });
    }
    let streams = media_streams(a);
    let mut one_way = Vec::new();
    for (i, c) in a.calls.iter().enumerate() {
        match c.final_status {
            Some(s) if s == 487 || (c.cancelled && s >= 300) => {
                f.push(CaptureFinding::Cancelled { call: i });
            }
            Some(s) if s >= 300 => {
                let reason = a
                    .messages
                    .iter()
                    .rev()
                    .find(|m| m.call_id == c.call_id && m.status == Some(s))
                    .map(|m| m.summary.clone())
                    .unwrap_or_else(|| s.to_string());
                f.push(CaptureFinding::Failed { call: i, reason });
            }
            None if !c.cancelled => f.push(CaptureFinding::NoFinalResponse { call: i }),
            _ => {}
        }
        if c.answer_ns.is_some() && c.bye_ns.is_none() {
            f.push(CaptureFinding::NoBye { call: i });
        }
        if !c.private_addresses.is_empty() {
            f.push(CaptureFinding::PrivateAddresses {
                call: i,
                addresses: c.private_addresses.clone(),
            });
        }
        for sign in &c.alg_signs {
            f.push(CaptureFinding::AlgSuspected {
                call: i,
                sign: *sign,
            });
        }
        let call = MediaCall {
            answered: c.answer_ns.is_some(),
            caller_media: c.caller_media,
            callee_media: c.callee_media,
            source_mismatch: c.media_mismatch.clone(),
            streams: (0..streams.len())
                .filter(|&j| streams[j].call == Some(i))
                .collect(),
        };
        for m in media::call_findings(i, &call, &streams) {
            if matches!(m, MediaFinding::OneWayAudio { .. }) {
                one_way.push(i);
            }
            f.push(CaptureFinding::Media(m));
        }
    }
    for i in 0..streams.len() {
        f.extend(
            media::stream_findings(&streams, i, &one_way)
                .into_iter()
                .map(CaptureFinding::Media),
        );
    }
    if a.packets.decoded == 0 && a.packets.total > 0 {
        f.push(CaptureFinding::NoVoip);
    }
    f
}
