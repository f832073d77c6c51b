//! What a capture means, as typed findings: how reading went, each call's outcome and the
//! NAT trouble its signalling shows, and — through [`crate::diagnose::media`] — what its
//! media shows. The report puts them into words; the order here is the report's order
//! within each severity.

use super::analysis::Analysis;
use crate::diagnose::capture::CaptureFinding;
use crate::diagnose::media::{self, MediaCall, MediaFinding, MediaStream};
use crate::rtp::stats::round3;

/// The streams as the media diagnosis sees them (loss and jitter rounded as reported).
pub fn media_streams(a: &Analysis) -> Vec<MediaStream> {
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
        f.push(CaptureFinding::StateLimits {
            evicted,
            limits: Analysis::limits(),
        });
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
                f.push(CaptureFinding::Failed {
                    call: i,
                    reason,
                    status: s,
                });
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
            caller_signalling: c.caller.map(|a| a.ip()),
            callee_signalling: c.callee.map(|a| a.ip()),
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
