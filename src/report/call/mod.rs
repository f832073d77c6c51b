//! The `call` result (the findings are in `findings`, the human rendering in `human`): how the call went in signalling, what each direction of audio carried
//! and where each number comes from, the verdict per direction and the findings that
//! explain it, and the expectations that decide the status.

use std::net::SocketAddr;

use serde::Serialize;

mod findings;
mod human;

pub use findings::{findings, status};

use crate::diagnose::media::{CallFinding, Verdict};
use crate::dns::resolution::Resolution;
use crate::rtp::session::{EchoResult, RemoteReport, Source};
use crate::sip::invite::{CallOutcome, HangupBy, LadderStep};
use crate::sip::register::AuthFailure;
use crate::sip::target::Transport;

/// Milliseconds of each phase (`null` when it did not happen).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timing {
    /// INVITE to the first response.
    pub first_response: Option<f64>,
    /// Post-dial delay: INVITE to 180/183 (or to the final response).
    pub pdd: Option<f64>,
    /// INVITE to the 2xx.
    pub answer: Option<f64>,
    /// Start to the first RTP packet we received.
    pub media_start: Option<f64>,
    /// Answer to hang-up: how long media ran.
    pub media: Option<f64>,
    /// BYE to its final response.
    pub bye: Option<f64>,
}

/// The authentication used (never the password or the digest response).
#[derive(Debug, Clone, Serialize)]
pub struct Auth {
    /// 401 or 407.
    pub challenge_status: u16,
    /// Realm.
    pub realm: String,
    /// Algorithm.
    pub algorithm: String,
    /// qop.
    pub qop: Option<String>,
}

/// Our offer.
#[derive(Debug, Clone, Serialize)]
pub struct Offer {
    /// `c=` address.
    pub address: std::net::IpAddr,
    /// RTP port.
    pub port: u16,
    /// Codecs offered, in order.
    pub codecs: Vec<&'static str>,
    /// `--stun`: the RTP socket's mapping, or why there is none.
    #[serde(skip)]
    pub stun: Option<Result<SocketAddr, String>>,
}

/// The far end's answer as negotiated.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// `c=` address (`null` on hold).
    pub address: Option<std::net::IpAddr>,
    /// RTP port.
    pub port: Option<u16>,
    /// Codec chosen.
    pub codec: &'static str,
    /// Its payload type.
    pub payload_type: u8,
    /// Its direction attribute.
    pub direction: &'static str,
    /// Its ptime, ms.
    pub ptime: Option<u32>,
    /// Its telephone-event payload type.
    pub telephone_event: Option<u8>,
    /// Whether the address is private/shared/link-local.
    pub private_address: bool,
}

/// Offer and answer.
#[derive(Debug, Clone, Serialize)]
pub struct Sdp {
    /// Ours.
    pub offer: Offer,
    /// Theirs (`null` without an answer).
    pub answer: Option<Answer>,
}

/// How the far end saw our signalling.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Nat {
    /// Top Via `received` of the 2xx (or the final response).
    pub received: Option<String>,
    /// Top Via `rport`.
    pub rport: Option<u16>,
    /// The far end saw another address than ours.
    pub nat_detected: Option<bool>,
    /// The address it saw.
    pub public_address: Option<SocketAddr>,
    /// The public address our RTP socket maps to (`--stun`).
    pub media_mapping: Option<SocketAddr>,
    /// A SIP ALG rewrote our signalling (`--alg-check`; `null` when not checked).
    pub sip_alg_detected: Option<bool>,
}

/// What arrived.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inbound {
    /// RTP packets received (all SSRCs).
    pub packets: u64,
    /// Expected from the main stream's sequence numbers.
    pub expected: u64,
    /// Lost (expected − received, RFC 3550 A.3).
    pub lost: i64,
    /// Percent.
    pub loss_percent: f64,
    /// Duplicates.
    pub duplicates: u64,
    /// Arrived after a later sequence number.
    pub out_of_order: u64,
    /// Mean RFC 3550 jitter, ms.
    pub jitter_mean_ms: f64,
    /// Maximum jitter, ms.
    pub jitter_max_ms: f64,
    /// Longest gap between packets, ms.
    pub max_gap_ms: f64,
    /// SSRCs seen.
    pub ssrcs: Vec<u32>,
    /// Payload types seen with their packets.
    pub payload_types: Vec<(u8, u64)>,
    /// RTCP datagrams received.
    pub rtcp_packets: u64,
    /// Source addresses.
    pub sources: Vec<Source>,
    /// Received before the answer (early media).
    pub early_packets: u64,
}

/// What we sent, and what the far end says of it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outbound {
    /// RTP packets sent.
    pub packets: u64,
    /// Payload bytes.
    pub bytes: u64,
    /// Our SSRC.
    pub ssrc: Option<u32>,
    /// Where we sent it.
    pub destination: Option<SocketAddr>,
    /// The far end's RTCP report about it.
    pub remote_report: Option<RemoteReport>,
    /// The far end's RTCP XR VoIP Metrics about it (RFC 3611 §4.7), when it sends them.
    pub remote_xr: Option<crate::rtp::rtcp::VoipMetrics>,
    /// Echo matching (with `--echo`).
    pub echo: Option<EchoResult>,
}

/// Estimated MOS per direction (`null` without data).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Mos {
    /// From what arrived.
    pub inbound: Option<f64>,
    /// From the far end's report or the echo.
    pub outbound: Option<f64>,
    /// What the outbound figure is based on: `rtcp`, `echo` or `null`.
    pub basis_outbound: Option<&'static str>,
}

/// DTMF.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Dtmf {
    /// Digits sent.
    pub sent: String,
    /// Digits received.
    pub received: String,
}

/// The verdict per direction.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Verdicts {
    /// From the far end.
    pub inbound: Verdict,
    /// To the far end.
    pub outbound: Verdict,
}

/// The media.
#[derive(Debug, Clone, Serialize)]
pub struct Media {
    /// The address we latched onto (`null`: none needed or `--no-latch`).
    pub latched: Option<SocketAddr>,
    /// The answer's RTP address.
    pub remote_signalled: Option<SocketAddr>,
    /// Inbound.
    pub inbound: Inbound,
    /// Outbound.
    pub outbound: Outbound,
    /// Median round trip: RTCP LSR/DLSR, else the echo, ms.
    pub rtt_ms: Option<f64>,
    /// MOS.
    pub mos: Mos,
    /// DTMF.
    pub dtmf: Dtmf,
    /// The verdicts.
    pub verdict: Verdicts,
}

/// Who hung up.
#[derive(Debug, Clone, Serialize)]
pub struct Hangup {
    /// `us` or `far-end`.
    pub by: HangupBy,
    /// Our BYE's final status.
    pub bye_status: Option<u16>,
}

pub use crate::call::Checked as Expectation;

/// The capture written with `--pcap`.
#[derive(Debug, Clone, Serialize)]
pub struct PcapFile {
    /// Its path.
    pub file: String,
    /// Packets written.
    pub packets: u64,
    /// Why writing stopped, if it did.
    pub error: Option<String>,
}

/// The session timer (RFC 4028) the answer set.
#[derive(Debug, Clone, Serialize)]
pub struct SessionTimer {
    /// Session interval, s.
    pub interval_s: u32,
    /// `uac` (us) or `uas` (the far end).
    pub refresher: crate::sip::invite::Refresher,
    /// Refreshes done.
    pub refreshes: u32,
    /// The far end did not refresh: we ended the call.
    pub expired: bool,
}

/// The registration `--answer --register` made (and removed at the end).
#[derive(Debug, Clone, Serialize)]
pub struct Registration {
    /// The AOR.
    pub aor: String,
    /// The Contact registered.
    pub contact: String,
    /// The registrar (next hop).
    pub registrar: Option<SocketAddr>,
    /// The expiry granted, s.
    pub expires_s: Option<u64>,
    /// The binding was removed at the end.
    pub removed: bool,
}

/// The WAV written with `--record`.
#[derive(Debug, Clone, Serialize)]
pub struct Recording {
    /// Its path.
    pub file: String,
    /// Audio written, s.
    pub seconds: f64,
    /// Why writing stopped, if it did.
    pub error: Option<String>,
}

/// The `result` of `call`.
#[derive(Debug, Clone, Serialize)]
pub struct CallResult {
    /// `call` (or `answer`).
    pub mode: &'static str,
    /// The target as given.
    pub target: String,
    /// Our Call-ID.
    pub call_id: String,
    /// Transport.
    pub transport: Option<Transport>,
    /// Our SIP address.
    pub local_address: Option<SocketAddr>,
    /// The server (next hop) address.
    pub server: Option<SocketAddr>,
    /// How it ended.
    pub outcome: CallOutcome,
    /// Final status code.
    pub final_status: Option<u16>,
    /// Its reason phrase.
    pub reason: Option<String>,
    /// Timings.
    pub timing_ms: Timing,
    /// Authentication used.
    pub auth: Option<Auth>,
    /// Every SIP message.
    pub ladder: Vec<LadderStep>,
    /// The answer came in a provisional response (early media).
    pub early_media: bool,
    /// Offer and answer (`null` when no media socket was opened).
    pub sdp: Option<Sdp>,
    /// NAT as signalling shows it.
    pub nat: Nat,
    /// Media (`null` when the call never reached media).
    pub media: Option<Media>,
    /// Who hung up.
    pub hangup: Option<Hangup>,
    /// Why we sent CANCEL (`no-answer` at `--timeout`, or `requested`), when we did.
    pub cancelled_by: Option<crate::sip::invite::CancelReason>,
    /// The session timer (`null` when the answer set none).
    pub session_timer: Option<SessionTimer>,
    /// The expectations and whether each held.
    pub expectations: Vec<Expectation>,
    /// How our offer arrived at a voipdiag callee (its `X-Voipdiag-Offer-Seen`), or, when
    /// we answered, how the caller's offer arrived here.
    pub offer_seen: Option<crate::sip::answer::OfferSeen>,
    /// The capture written with `--pcap` (`null` without).
    pub pcap: Option<PcapFile>,
    /// The WAV written with `--record` (`null` without).
    pub recording: Option<Recording>,
    /// With `--answer --register`: the registration (`null` without).
    pub registration: Option<Registration>,
    /// RFC 3263 resolution.
    pub resolution: Resolution,
    /// A transport or DNS failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its finding code.
    #[serde(skip)]
    pub error_code: Option<&'static str>,
    /// Why authentication failed.
    #[serde(skip)]
    pub auth_failure: Option<AuthFailure>,
    /// The media findings.
    #[serde(skip)]
    pub media_findings: Vec<CallFinding>,
    /// No usable answer (no audio, no common codec …): words.
    #[serde(skip)]
    pub negotiation_error: Option<String>,
    /// ICMP said nothing receives our RTCP there.
    #[serde(skip)]
    pub rtcp_unreachable: Option<SocketAddr>,
    /// DTMF digits asked for (`--dtmf`).
    #[serde(skip)]
    pub dtmf_requested: String,
    /// Forks released with BYE.
    #[serde(skip)]
    pub forks_released: u32,
    /// The far end put the call on hold (a new offer with sendonly/inactive or
    /// c=0.0.0.0; our RTP stopped).
    pub held: bool,
}

/// What the command knows besides the call machine's result.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// `call` or `answer`.
    pub mode: &'static str,
    /// The target as given.
    pub target: String,
    /// The SIP flow, when one opened.
    pub flow: Option<crate::sip::endpoint::Flow>,
    /// RFC 3263 resolution.
    pub resolution: Resolution,
}

impl CallResult {
    /// A call that never started: no flow to any server (`code`, `message`).
    pub fn unreachable(ctx: CallContext, code: &'static str, message: String) -> CallResult {
        CallResult {
            mode: ctx.mode,
            target: ctx.target,
            call_id: String::new(),
            transport: ctx.flow.map(|f| f.transport),
            local_address: ctx.flow.map(|f| f.local),
            server: ctx.flow.map(|f| f.peer),
            outcome: CallOutcome::Unreachable,
            final_status: None,
            reason: None,
            timing_ms: Timing::default(),
            auth: None,
            ladder: Vec::new(),
            early_media: false,
            sdp: None,
            nat: Nat::default(),
            media: None,
            hangup: None,
            cancelled_by: None,
            session_timer: None,
            expectations: Vec::new(),
            offer_seen: None,
            pcap: None,
            recording: None,
            registration: None,
            resolution: ctx.resolution,
            error: Some(message),
            error_code: Some(code),
            auth_failure: None,
            media_findings: Vec::new(),
            negotiation_error: None,
            rtcp_unreachable: None,
            dtmf_requested: String::new(),
            forks_released: 0,
            held: false,
        }
    }

    /// The result of a call that ran: `r` from the call machine, `offer` what we offered,
    /// `verdicts` and `media_findings` from the media diagnosis, `expectations` checked.
    #[allow(clippy::too_many_arguments)]
    pub fn from_call(
        ctx: CallContext,
        call_id: String,
        r: &crate::call::CallResult,
        offer: Offer,
        nat: Nat,
        verdicts: (Verdict, Verdict),
        media_findings: Vec<CallFinding>,
        expectations: Vec<Expectation>,
    ) -> CallResult {
        let s = &r.signalling;
        let ms = |d: Option<std::time::Duration>| d.map(super::ms);
        let bye_ms = {
            let bye = s
                .ladder
                .iter()
                .rev()
                .find(|l| l.message == "BYE" && l.by == crate::sip::invite::Sender::Us);
            let answer = bye.and_then(|b| {
                s.ladder.iter().find(|l| {
                    l.cseq == b.cseq
                        && l.by == crate::sip::invite::Sender::Them
                        && l.at_ms >= b.at_ms
                })
            });
            bye.zip(answer)
                .map(|(b, a)| crate::rtp::stats::round3(a.at_ms - b.at_ms))
        };
        let answer = r.answer.as_ref().map(|n| Answer {
            address: n.remote_rtp.map(|a| a.ip()),
            port: n.remote_rtp.map(|a| a.port()),
            codec: n.codec.1.name(),
            payload_type: n.codec.0,
            direction: n.remote_direction.attribute(),
            ptime: n.ptime_ms,
            telephone_event: n.telephone_event,
            private_address: n.private_address,
        });
        let m = &r.media;
        let media = (r.answer.is_some() || m.inbound_packets > 0).then(|| {
            let q = m.inbound.as_ref().map(|q| q.summary.clone());
            Media {
                latched: m.latched,
                remote_signalled: m.remote_signalled,
                inbound: Inbound {
                    packets: m.inbound_packets,
                    expected: q.as_ref().map_or(0, |q| q.expected),
                    lost: q.as_ref().map_or(0, |q| q.lost),
                    loss_percent: q
                        .as_ref()
                        .map_or(0.0, |q| crate::rtp::stats::round3(q.loss_percent)),
                    duplicates: q.as_ref().map_or(0, |q| q.duplicates),
                    out_of_order: q.as_ref().map_or(0, |q| q.out_of_order),
                    jitter_mean_ms: q
                        .as_ref()
                        .map_or(0.0, |q| crate::rtp::stats::round3(q.jitter_mean_ms)),
                    jitter_max_ms: q
                        .as_ref()
                        .map_or(0.0, |q| crate::rtp::stats::round3(q.jitter_max_ms)),
                    max_gap_ms: q
                        .as_ref()
                        .map_or(0.0, |q| crate::rtp::stats::round3(q.max_delta_ms)),
                    ssrcs: m.ssrcs.clone(),
                    payload_types: m.payload_types.clone(),
                    rtcp_packets: m.rtcp_packets,
                    sources: m.sources.clone(),
                    early_packets: m.early_packets,
                },
                outbound: Outbound {
                    packets: m.sent_packets,
                    bytes: m.sent_bytes,
                    ssrc: m.ssrc,
                    destination: m.latched.or(m.remote_signalled),
                    remote_report: m.remote_report,
                    remote_xr: m.remote_xr,
                    echo: m.echo.clone(),
                },
                rtt_ms: r.rtt_ms(),
                mos: Mos {
                    inbound: m.inbound.as_ref().and_then(|q| q.mos),
                    outbound: r.outbound_loss().map(|loss| {
                        let jitter = m.remote_report.map_or(0.0, |x| x.jitter_ms);
                        let codec = r.answer.as_ref().map_or("PCMU", |n| n.codec.1.name());
                        let ptime = r.answer.as_ref().and_then(|n| n.ptime_ms).unwrap_or(20);
                        crate::rtp::mos::estimate(codec, loss, jitter, f64::from(ptime))
                    }),
                    basis_outbound: if m.remote_report.is_some() {
                        Some("rtcp")
                    } else if m.echo.is_some() && m.sent_packets > 0 {
                        Some("echo")
                    } else {
                        None
                    },
                },
                dtmf: Dtmf {
                    sent: m.dtmf_sent.clone(),
                    received: m.dtmf_received.clone(),
                },
                verdict: Verdicts {
                    inbound: verdicts.0,
                    outbound: verdicts.1,
                },
            }
        });
        CallResult {
            mode: ctx.mode,
            target: ctx.target,
            call_id,
            transport: ctx.flow.map(|f| f.transport),
            local_address: ctx.flow.map(|f| f.local),
            server: ctx.flow.map(|f| f.peer),
            outcome: s.outcome.unwrap_or(CallOutcome::NoAnswer),
            final_status: s.final_status.as_ref().map(|f| f.0),
            reason: s.final_status.as_ref().map(|f| f.1.clone()),
            timing_ms: Timing {
                first_response: ms(s.first_response),
                pdd: ms(s.pdd),
                answer: ms(s.answer),
                media_start: ms(m.first_received),
                media: ms(r.media_duration),
                bye: bye_ms,
            },
            auth: s.auth.as_ref().map(|a| Auth {
                challenge_status: a.challenge_status,
                realm: a.realm.clone(),
                algorithm: a.algorithm.clone(),
                qop: a.qop.clone(),
            }),
            ladder: s.ladder.clone(),
            early_media: s.answer_sdp.as_ref().is_some_and(|a| a.1),
            sdp: Some(Sdp { offer, answer }),
            nat,
            media,
            hangup: s.hangup.map(|(by, bye_status)| Hangup { by, bye_status }),
            cancelled_by: s.cancelled_by,
            session_timer: s.session_timer.map(|(interval_s, refresher)| SessionTimer {
                interval_s,
                refresher,
                refreshes: s.refreshes,
                expired: s.session_expired,
            }),
            expectations,
            offer_seen: None,
            pcap: None,
            recording: None,
            registration: None,
            resolution: ctx.resolution,
            error: s.error.clone(),
            error_code: s.error.as_ref().map(|_| "SIP_TRANSPORT_FAILED"),
            auth_failure: s.auth_failure.clone(),
            media_findings,
            negotiation_error: r
                .negotiation_error
                .as_ref()
                .map(ToString::to_string)
                .or_else(|| r.sdp_error.clone()),
            rtcp_unreachable: m.rtcp_unreachable,
            dtmf_requested: String::new(),
            forks_released: s.forks_released,
            held: r.held,
        }
    }
}
