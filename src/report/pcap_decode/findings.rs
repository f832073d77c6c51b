//! The findings of a capture in words: each [`CaptureFinding`] with its code, severity and
//! what it means for calls.

use super::PcapDecodeResult;
use crate::diagnose::capture::{AlgSign, CaptureFinding};
use crate::diagnose::media::{MediaFinding, Way};
use crate::report::{Finding, Severity, Status};

fn alg_sign(sign: &AlgSign) -> String {
    match sign {
        AlgSign::SdpRewritten {
            from,
            connection,
            origin,
        } => format!(
            "SDP from {from} has c={connection} (the public source) but o={origin} (private): rewritten on the way, as a SIP ALG does"
        ),
        AlgSign::ViaRewritten { from, via, contact } => format!(
            "request from {from} has Via {via} (the public source) but Contact {contact} (private): Via was rewritten, as a SIP ALG does"
        ),
    }
}

/// The findings in words, for the report `r` the capture gave.
pub fn findings(found: &[CaptureFinding], r: &PcapDecodeResult) -> Vec<Finding> {
    use Severity::{Critical, Info, Warning};
    let who = |i: usize| {
        let c = &r.calls[i];
        format!("call {} ({} → {})", c.call_id, c.from, c.to)
    };
    found
        .iter()
        .map(|f| match f {
            CaptureFinding::Truncated(t) => Finding::new(
                "CAPTURE_TRUNCATED",
                Warning,
                format!("the capture is incomplete: {t}; the report covers what came before"),
            ),
            CaptureFinding::StateLimits { evicted: e, limits } => {
                let parts: Vec<String> = [
                    (e.call_invites, format!("INVITEs of dialogs beyond the first {} calls were counted, not followed", limits.calls)),
                    (e.stream_packets, format!("RTP packets of streams beyond the first {} were counted, not measured", limits.streams)),
                    (e.tcp_flows, format!("TCP directions were dropped, oldest first, to stay within {} flows and {} MiB (messages they held in part are lost)", limits.tcp_flows, limits.tcp_mib)),
                    (e.media_endpoints, format!("SDP media endpoints were forgotten, oldest first (at most {} remembered): their RTP counts as unsignalled", limits.endpoints)),
                    (e.flows, "STUN/SCTP flow states were forgotten, oldest first".to_string()),
                ]
                .into_iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, what)| format!("{n} {what}"))
                .collect();
                Finding::new(
                    "STATE_LIMITS",
                    Warning,
                    format!(
                        "the capture has more than the analysis follows at once: {}",
                        parts.join("; ")
                    ),
                )
            }
            CaptureFinding::Malformed { count, most_often } => Finding::new(
                "MALFORMED_PACKETS",
                Info,
                format!(
                    "{} could not be decoded (most often: {most_often})",
                    crate::text::count(*count, "packet")
                ),
            ),
            CaptureFinding::Cancelled { call } => Finding::new(
                "CALL_CANCELLED",
                Info,
                format!("{} was cancelled by the caller before it was answered", who(*call)),
            ),
            // Busy and decline are the callee's answer, not a fault of the path.
            CaptureFinding::Failed { call, reason, status } => Finding::new(
                "CALL_FAILED",
                if matches!(status, 486 | 600 | 603) {
                    Warning
                } else {
                    Critical
                },
                format!("{} failed: {reason}", who(*call)),
            ),
            CaptureFinding::NoFinalResponse { call } => Finding::new(
                "NO_FINAL_RESPONSE",
                Warning,
                format!(
                    "{} never got a final answer to its INVITE in this capture",
                    who(*call)
                ),
            ),
            CaptureFinding::NoBye { call } => Finding::new(
                "NO_BYE",
                Warning,
                format!("{} was answered but no BYE was seen: it was still up when the capture ended, or the BYE was lost (e.g. a NAT binding expired)", who(*call)),
            ),
            CaptureFinding::PrivateAddresses { call, addresses } => {
                let list: Vec<String> = addresses
                    .iter()
                    .map(|p| {
                        format!(
                            "{} {} (sent from {})",
                            p.field.as_str(),
                            p.address,
                            p.sent_from
                        )
                    })
                    .collect();
                Finding::new(
                    "PRIVATE_ADDRESS_IN_SIGNALLING",
                    Warning,
                    format!(
                        "{}: private/CGNAT addresses in signalling sent from a public address: {}; the far end cannot reach them without NAT traversal (rport, symmetric RTP, a media relay)",
                        who(*call),
                        list.join(", ")
                    ),
                )
            }
            CaptureFinding::AlgSuspected { call, sign } => Finding::new(
                "SIP_ALG_SUSPECTED",
                Warning,
                format!("{}: {}", who(*call), alg_sign(sign)),
            ),
            CaptureFinding::Media(m) => media(m, r, &who),
            CaptureFinding::NoVoip => Finding::new(
                "NO_VOIP",
                Info,
                "no SIP, RTP, RTCP or STUN was found (RTP without signalling needs --rtp-heuristics)",
            ),
        })
        .collect()
}

fn media(m: &MediaFinding, r: &PcapDecodeResult, who: &dyn Fn(usize) -> String) -> Finding {
    use Severity::{Critical, Warning};
    match m {
        MediaFinding::SourceMismatch {
            call,
            expected,
            actual,
        } => Finding::new(
            "MEDIA_SOURCE_MISMATCH",
            Warning,
            format!(
                "{}: RTP arrives from {actual} but SDP announced {expected}: the receiver must latch onto the real source (symmetric RTP / comedia) or send its audio to the wrong place",
                who(*call)
            ),
        ),
        MediaFinding::NoMedia { call } => Finding::new(
            "NO_MEDIA",
            Warning,
            format!(
                "{} was answered but no RTP of it is in the capture (media may take another path than the capture point saw)",
                who(*call)
            ),
        ),
        MediaFinding::OneWayAudio {
            call,
            flowing,
            sent_to_private,
        } => {
            let (has, missing, lost_side) = match flowing {
                Way::CalleeToCaller => ("callee → caller", "caller → callee", "callee"),
                Way::CallerToCallee => ("caller → callee", "callee → caller", "caller"),
            };
            let why = match sent_to_private {
                Some(a) => format!(
                    "the {missing} RTP goes to {a}, the private address in the {lost_side}'s SDP, while the {lost_side}'s signalling and RTP come from a public address: it cannot arrive there (the {lost_side} needs to advertise its public address, or the other side to latch onto where its RTP comes from)"
                ),
                None => format!(
                    "nothing {missing}: typically NAT (media sent to a private or wrong address) or a firewall"
                ),
            };
            Finding::new(
                "ONE_WAY_AUDIO",
                Critical,
                format!("{}: RTP flows {has} only; {why}", who(*call)),
            )
        }
        MediaFinding::NoReturn { stream } => {
            let sr = &r.streams[*stream];
            Finding::new(
                "RTP_NO_RETURN",
                Warning,
                format!(
                    "RTP {} → {} (SSRC {}): {} never sends RTP back",
                    sr.src, sr.dst, sr.ssrc, sr.dst
                ),
            )
        }
        MediaFinding::PoorQuality { stream, mos } => {
            let sr = &r.streams[*stream];
            Finding::new(
                "POOR_AUDIO_QUALITY",
                Warning,
                format!(
                    "RTP {} → {} (SSRC {}): estimated MOS {mos:.2} with {:.1}% loss and {:.1} ms mean jitter",
                    sr.src, sr.dst, sr.ssrc, sr.loss_percent, sr.jitter_mean_ms
                ),
            )
        }
    }
}

/// Problem when a critical finding stands (one-way audio, a call that failed); warnings
/// (a capture that ends mid-call, NO_BYE) alone are ok — the one exit rule of
/// [`crate::report::exit_rule`].
pub fn status(findings: &[Finding]) -> Status {
    if findings.iter().any(|f| f.severity >= Severity::Critical) {
        Status::Problem
    } else {
        Status::Ok
    }
}
