//! The `call` result: how the call went in signalling, what each direction of audio carried
//! and where each number comes from, the verdict per direction and the findings that
//! explain it, and the expectations that decide the status.

use std::net::SocketAddr;

use serde::Serialize;

use super::register::auth_failure_text;
use super::{Describe, Finding, Section, Severity, Status, opt, yes_no};
use crate::diagnose::media::{CallFinding, Cause, Direction, Verdict};
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

fn direction_words(d: Direction) -> &'static str {
    match d {
        Direction::Inbound => "from the far end to us",
        Direction::Outbound => "from us to the far end",
    }
}

fn cause_words(c: &Cause) -> String {
    match c {
        Cause::OfferPrivate(a) => format!(
            "our SDP offered {a}, a private address, from behind a NAT: the far end sends its RTP \
             there and it cannot arrive (advertise the public address with --media-address, or \
             use a far end that latches)"
        ),
        Cause::AnswerPrivate(a) => format!(
            "the far end's SDP names {a}, a private address, while its signalling came from a \
             public one: our RTP to it cannot arrive, and no RTP came from it to latch onto"
        ),
        Cause::Unreachable(a) => {
            format!("ICMP says nothing receives at {a}, where the answer told us to send")
        }
        Cause::ReturnFiltered => "the far end's RTCP shows it receives our RTP, so the path out \
            works; its RTP to us is dropped on the way back (a firewall or NAT on our side \
            filtering it) or sent to another address"
            .into(),
    }
}

/// The findings of a call, in call terms.
pub fn findings(r: &CallResult) -> Vec<Finding> {
    let mut out = Vec::new();
    if let (Some(code), Some(e)) = (r.error_code, &r.error) {
        out.push(Finding::new(code, Severity::Critical, e.clone()));
    }
    if let Some(why) = &r.auth_failure {
        out.push(Finding::new(
            "AUTH_FAILED",
            Severity::Critical,
            auth_failure_text(why).replace("registrar", "server"),
        ));
    }
    if r.outcome == CallOutcome::Interrupted {
        out.push(Finding::new(
            "INTERRUPTED",
            Severity::Info,
            match &r.hangup {
                Some(_) => format!(
                    "interrupted (Ctrl-C) after {} s of media: the call was ended with BYE; the \
                     figures cover the time until then",
                    r.timing_ms
                        .media
                        .map_or("0".into(), |m| format!("{:.1}", m / 1000.0))
                ),
                None => "interrupted (Ctrl-C) before the answer: CANCEL was sent if the far \
                         end had answered provisionally"
                    .into(),
            },
        ));
    }
    let status_expected = r
        .expectations
        .iter()
        .any(|e| e.name == "expect-status" && e.pass);
    match r.outcome {
        CallOutcome::NoAnswer if r.error.is_none() => out.push(Finding::new(
            "SIP_NO_ANSWER",
            Severity::Critical,
            match r
                .ladder
                .iter()
                .any(|l| l.by == crate::sip::invite::Sender::Them)
            {
                true => "provisional responses only: no final response within the timeout".into(),
                false => format!(
                    "no response to INVITE within the timeout from {}",
                    opt(&r.server)
                ),
            },
        )),
        CallOutcome::Cancelled
            if r.cancelled_by == Some(crate::sip::invite::CancelReason::NoAnswer) =>
        {
            out.push(Finding::new(
                "SIP_NO_ANSWER",
                Severity::Critical,
                format!(
                    "no final response within the timeout ({} only): CANCEL sent",
                    r.ladder
                        .iter()
                        .rev()
                        .find(|l| l.by == crate::sip::invite::Sender::Them
                            && l.message.starts_with('1'))
                        .map_or("provisional responses", |l| l.message.as_str())
                ),
            ));
        }
        CallOutcome::Busy | CallOutcome::Rejected if !status_expected => out.push(Finding::new(
            if r.outcome == CallOutcome::Busy {
                "CALL_BUSY"
            } else {
                "CALL_REJECTED"
            },
            Severity::Critical,
            format!(
                "the call was refused: {} {}",
                opt(&r.final_status),
                r.reason.as_deref().unwrap_or("")
            ),
        )),
        _ => {}
    }
    if let Some(e) = &r.negotiation_error {
        out.push(Finding::new(
            "CODEC_MISMATCH",
            Severity::Critical,
            format!("the answer gives no media session: {e}"),
        ));
    }
    if r.session_timer.as_ref().is_some_and(|t| t.expired) {
        out.push(Finding::new(
            "SESSION_EXPIRED",
            Severity::Critical,
            "the far end was to refresh the session (RFC 4028) and did not: we ended the call \
             before it expired — calls through it drop after the session interval",
        ));
    }
    if r.forks_released > 0 {
        out.push(Finding::new(
            "FORKED_ANSWER",
            Severity::Info,
            format!(
                "{} more fork(s) answered after the first; each got ACK and BYE",
                r.forks_released
            ),
        ));
    }
    if r.nat.sip_alg_detected == Some(true) {
        out.push(Finding::new(
            "SIP_ALG_DETECTED",
            Severity::Warning,
            "a SIP ALG on the path rewrites our signalling (the server's view of our Via \
             changed when it named a host an ALG leaves alone): it may rewrite SDP as well and \
             break calls that would otherwise work (a voipdiag --answer at the far end shows \
             what arrived)",
        ));
    }
    if r.nat.nat_detected == Some(true) {
        out.push(Finding::new(
            "NAT_DETECTED",
            Severity::Info,
            format!(
                "the far end sees our signalling from {} while we are {}: behind NAT",
                opt(&r.nat.public_address),
                opt(&r.local_address)
            ),
        ));
    }
    let stun_mapped = r.nat.media_mapping.is_some();
    for f in &r.media_findings {
        out.push(media_finding(f, stun_mapped));
    }
    let negotiated_te = r
        .sdp
        .as_ref()
        .and_then(|s| s.answer.as_ref())
        .is_some_and(|a| a.telephone_event.is_some());
    if !r.dtmf_requested.is_empty()
        && r.sdp.as_ref().is_some_and(|s| s.answer.is_some())
        && !negotiated_te
    {
        out.push(Finding::new(
            "DTMF_NOT_NEGOTIATED",
            Severity::Warning,
            format!(
                "the far end's answer has no telephone-event (RFC 4733): the digits {} were not \
                 sent, and keypad input will not reach it as RTP events",
                r.dtmf_requested
            ),
        ));
    }
    if let (Some(seen), Some(sdp)) = (&r.offer_seen, &r.sdp)
        && r.mode == "call"
    {
        let sent = (Some(sdp.offer.address), Some(sdp.offer.port));
        if (seen.address, seen.port) != sent {
            out.push(Finding::new(
                "SDP_REWRITTEN_IN_PATH",
                Severity::Warning,
                format!(
                    "our offer said {}:{} and arrived at the far end as {}:{}: something in the \
                     path (a SIP ALG or SBC) rewrote the SDP{}",
                    sdp.offer.address,
                    sdp.offer.port,
                    opt(&seen.address),
                    opt(&seen.port),
                    seen.source.map_or_else(String::new, |s| format!(
                        "; our signalling arrived from {s}"
                    ))
                ),
            ));
        }
    }
    if let Some(PcapFile {
        file,
        error: Some(e),
        ..
    }) = &r.pcap
    {
        out.push(Finding::new(
            "PCAP_WRITE_FAILED",
            Severity::Warning,
            format!("writing {file} failed, the capture is incomplete: {e}"),
        ));
    }
    if let Some(Recording {
        file,
        error: Some(e),
        ..
    }) = &r.recording
    {
        out.push(Finding::new(
            "RECORD_WRITE_FAILED",
            Severity::Warning,
            format!("writing {file} failed, the recording is incomplete: {e}"),
        ));
    }
    if let Some(Err(e)) = r.sdp.as_ref().and_then(|s| s.offer.stun.as_ref()) {
        out.push(Finding::new(
            "STUN_FAILED",
            Severity::Warning,
            format!(
                "--stun found no public address for our RTP ({e}); the offer names the local one"
            ),
        ));
    }
    if let Some(d) = r.rtcp_unreachable {
        out.push(Finding::new(
            "RTCP_NOT_RECEIVED",
            Severity::Info,
            format!(
                "ICMP: nothing receives RTCP at {d}; the far end takes no reports from us (its \
                 audio is not affected)"
            ),
        ));
    }
    for e in r.expectations.iter().filter(|e| !e.pass) {
        out.push(Finding::new(
            "EXPECTATION_FAILED",
            Severity::Critical,
            format!(
                "{}: expected {}, got {}",
                e.name,
                e.expected,
                e.actual.as_deref().unwrap_or("nothing to measure")
            ),
        ));
    }
    out
}

fn media_finding(f: &CallFinding, stun_mapped: bool) -> Finding {
    match f {
        CallFinding::OneWayAudio { dead, cause } => Finding::new(
            "ONE_WAY_AUDIO",
            Severity::Critical,
            format!(
                "one-way audio: nothing arrives {}{}",
                direction_words(*dead),
                cause.as_ref().map_or_else(
                    || match dead {
                        Direction::Inbound if stun_mapped => ". Causes that fit: the far end \
                            does not send, a firewall on the way drops it, or the NAT gives our \
                            RTP another port towards the far end than towards the STUN server \
                            (an address-dependent NAT, or the far end's RTP reached the NAT \
                            before ours) so the STUN-mapped address we offered does not lead \
                            back to us — see nat-probe"
                            .to_string(),
                        Direction::Inbound => ". Causes that fit: the far end does not send, a \
                            firewall or NAT on the way drops it, or it sends to another address"
                            .to_string(),
                        Direction::Outbound => String::new(),
                    },
                    |c| format!(": {}", cause_words(c))
                )
            ),
        ),
        CallFinding::NoMedia { cause } => Finding::new(
            "NO_MEDIA",
            Severity::Critical,
            format!(
                "no audio either way{}",
                cause
                    .as_ref()
                    .map_or_else(String::new, |c| format!(": {}", cause_words(c)))
            ),
        ),
        CallFinding::AnswerPrivateMediaAddress { address, rescued } => Finding::new(
            "ANSWER_PRIVATE_MEDIA_ADDRESS",
            if *rescued {
                Severity::Warning
            } else {
                Severity::Critical
            },
            format!(
                "the far end sends to {address}, a private address, in its SDP{}",
                if *rescued {
                    "; we latched onto where its RTP comes from, but phones that do not latch \
                     will have no audio to it"
                } else {
                    ""
                }
            ),
        ),
        CallFinding::OfferPrivateMediaAddress { address } => Finding::new(
            "OFFER_PRIVATE_MEDIA_ADDRESS",
            Severity::Warning,
            format!(
                "our SDP offered {address}, a private address, from behind a NAT: a far end that \
                 does not latch sends its audio there (use --media-address with the public \
                 address)"
            ),
        ),
        CallFinding::MediaLatched { signalled, actual } => Finding::new(
            "MEDIA_LATCHED",
            Severity::Warning,
            format!(
                "RTP came from {actual}, not from {} as signalled: we sent there instead \
                 (latching); the call works with us, but a strict phone would have one-way audio",
                opt(signalled)
            ),
        ),
        CallFinding::MediaSourceMismatch { signalled, actual } => Finding::new(
            "MEDIA_SOURCE_MISMATCH",
            Severity::Warning,
            format!(
                "RTP came from {actual}, not from {} as signalled, and we did not latch \
                 (--no-latch): a NAT or media relay sits in the path",
                opt(signalled)
            ),
        ),
        CallFinding::MediaPortMismatch { rtp_from: None } => Finding::new(
            "MEDIA_PORT_MISMATCH",
            Severity::Warning,
            "RTCP arrived on the RTP port though neither side offered rtcp-mux",
        ),
        CallFinding::MediaPortMismatch {
            rtp_from: Some((signalled, actual)),
        } => Finding::new(
            "MEDIA_PORT_MISMATCH",
            Severity::Warning,
            format!(
                "RTP came from port {} of {}, not port {} as signalled: a NAT in front of the \
                 far end rewrites ports (a far end that does not latch sends to a port nothing \
                 forwards)",
                actual.port(),
                actual.ip(),
                signalled.port()
            ),
        ),
        CallFinding::MediaPortUnreachable { destination } => Finding::new(
            "MEDIA_PORT_UNREACHABLE",
            Severity::Critical,
            format!("ICMP: nothing receives RTP at {destination}"),
        ),
        CallFinding::OutboundUnverified => Finding::new(
            "OUTBOUND_UNVERIFIED",
            Severity::Info,
            "nothing shows whether the far end hears us: it sent no RTCP report about our \
             stream (use --echo against an echo service to prove it)",
        ),
        CallFinding::PoorQuality { direction, mos } => Finding::new(
            "POOR_QUALITY",
            Severity::Warning,
            format!(
                "audio {} is poor: estimated MOS {mos:.2}",
                direction_words(*direction)
            ),
        ),
        CallFinding::MediaDirection => Finding::new(
            "MEDIA_DIRECTION",
            Severity::Info,
            "the negotiated direction (hold, sendonly or recvonly) carries audio one way or none: \
             no one-way verdict for the other",
        ),
    }
}

/// ok when every expectation held and no critical finding stands; no answer when nothing
/// answered; problem otherwise.
pub fn status(r: &CallResult, found: &[Finding]) -> Status {
    let unanswered_cancel = r.outcome == CallOutcome::Cancelled
        && r.cancelled_by == Some(crate::sip::invite::CancelReason::NoAnswer);
    if matches!(r.outcome, CallOutcome::Unreachable)
        || (r.outcome == CallOutcome::NoAnswer && r.final_status.is_none())
        || unanswered_cancel
    {
        return Status::NoAnswer;
    }
    if found.iter().any(|f| f.severity == Severity::Critical) {
        Status::Problem
    } else {
        Status::Ok
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Ok => "ok",
        Verdict::Poor => "poor",
        Verdict::Dead => "dead",
        Verdict::NotExpected => "not expected",
        Verdict::Unknown => "unknown",
    }
}

fn f1(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.1}"))
}

impl Describe for CallResult {
    fn verdict(&self) -> String {
        let status = match (self.final_status, &self.reason) {
            (Some(c), Some(r)) => format!("{c} {r}"),
            _ => "no final response".into(),
        };
        match self.outcome {
            CallOutcome::Answered | CallOutcome::Interrupted if self.timing_ms.answer.is_some() => {
                let Some(m) = &self.media else {
                    return format!("answered in {} ms; no media", f1(self.timing_ms.answer));
                };
                let both = m.verdict.inbound == Verdict::Ok && m.verdict.outbound == Verdict::Ok;
                let audio = match (m.verdict.inbound, m.verdict.outbound) {
                    _ if both => "audio both ways".to_string(),
                    (Verdict::Dead, Verdict::Dead) => "NO audio either way".into(),
                    (Verdict::Dead, _) => "ONE-WAY audio: nothing from the far end".into(),
                    (_, Verdict::Dead) => "ONE-WAY audio: the far end gets nothing".into(),
                    (i, o) => format!("audio in {}, out {}", verdict_word(i), verdict_word(o)),
                };
                let out_evidence = match (&m.outbound.remote_report, &m.outbound.echo) {
                    (Some(r), _) => format!(" (far end: {:.1} % lost)", r.fraction_lost_percent),
                    (None, Some(e)) => format!(" ({} echoed)", e.returned),
                    _ => String::new(),
                };
                let inbound = if m.inbound.packets == 0 {
                    "in 0".to_string()
                } else {
                    format!("in {}/{}", m.inbound.packets, m.inbound.expected)
                };
                let mut line = format!(
                    "answered in {} ms; {audio} — {inbound}, out {}{out_evidence}",
                    f1(self.timing_ms.answer),
                    m.outbound.packets,
                );
                if m.inbound.packets > 0 {
                    line.push_str(&format!(
                        "; jitter {}/{} ms",
                        f1(Some(m.inbound.jitter_mean_ms)),
                        f1(Some(m.inbound.jitter_max_ms))
                    ));
                }
                if let Some(rtt) = m.rtt_ms {
                    line.push_str(&format!("; RTT {rtt:.1} ms"));
                }
                if m.mos.inbound.is_some() || m.mos.outbound.is_some() {
                    line.push_str(&format!(
                        "; MOS {}/{}",
                        m.mos.inbound.map_or("-".into(), |x| format!("{x:.2}")),
                        m.mos.outbound.map_or("-".into(), |x| format!("{x:.2}"))
                    ));
                }
                line
            }
            CallOutcome::Busy => format!("busy ({status})"),
            CallOutcome::Rejected => format!("rejected ({status})"),
            CallOutcome::NoAnswer => format!("no answer ({status})"),
            CallOutcome::Cancelled => format!("cancelled ({status})"),
            CallOutcome::Unreachable => format!(
                "unreachable: {}",
                self.error.as_deref().unwrap_or("no flow to the server")
            ),
            CallOutcome::AuthFailed => format!("authentication failed ({status})"),
            CallOutcome::Interrupted => "interrupted before the answer".into(),
            CallOutcome::Answered => format!("answered ({status})"),
        }
    }

    fn sections(&self, _verbose: bool) -> Vec<Section> {
        let mut rows = vec![
            (
                "Server".to_string(),
                format!("{} ({})", opt(&self.server), opt(&self.transport)),
            ),
            ("Local address".into(), opt(&self.local_address)),
            ("Call-ID".into(), self.call_id.clone()),
            (
                "Seen by the far end as".into(),
                opt(&self.nat.public_address),
            ),
            ("NAT detected".into(), yes_no(self.nat.nat_detected)),
        ];
        if let Some(sdp) = &self.sdp {
            rows.push((
                "Offer".into(),
                format!(
                    "{}:{} {}",
                    sdp.offer.address,
                    sdp.offer.port,
                    sdp.offer.codecs.join(" ")
                ),
            ));
        }
        if let Some(a) = self.sdp.as_ref().and_then(|s| s.answer.as_ref()) {
            rows.push((
                "Answer".into(),
                format!(
                    "{}:{} {} (PT {}) {}{}{}",
                    opt(&a.address),
                    opt(&a.port),
                    a.codec,
                    a.payload_type,
                    a.direction,
                    if a.private_address {
                        ", private address"
                    } else {
                        ""
                    },
                    if self.early_media { ", early" } else { "" }
                ),
            ));
        }
        if let Some(a) = &self.auth {
            rows.push((
                "Authentication".into(),
                format!(
                    "{} {} realm \"{}\" ({})",
                    a.algorithm,
                    a.qop.as_deref().unwrap_or("(no qop)"),
                    a.realm,
                    a.challenge_status
                ),
            ));
        }
        if let Some(h) = &self.hangup {
            rows.push((
                "Hung up by".into(),
                match h.by {
                    HangupBy::Us => format!("us (BYE → {})", opt(&h.bye_status)),
                    HangupBy::FarEnd => "the far end".into(),
                },
            ));
        }
        let mut out = vec![Section::Facts {
            title: "Call".into(),
            rows,
        }];
        if let Some(m) = &self.media {
            let report = m.outbound.remote_report.as_ref();
            out.push(Section::Table {
                title: "Media".into(),
                header: vec![
                    "Direction".into(),
                    "Verdict".into(),
                    "Packets".into(),
                    "Lost".into(),
                    "Jitter ms".into(),
                    "MOS".into(),
                    "Source of the figures".into(),
                ],
                rows: vec![
                    vec![
                        "inbound".into(),
                        verdict_word(m.verdict.inbound).into(),
                        format!("{}/{}", m.inbound.packets, m.inbound.expected),
                        format!("{} ({:.1} %)", m.inbound.lost, m.inbound.loss_percent),
                        format!(
                            "{:.1}/{:.1}",
                            m.inbound.jitter_mean_ms, m.inbound.jitter_max_ms
                        ),
                        m.mos.inbound.map_or("-".into(), |x| format!("{x:.2}")),
                        "our receiver (RFC 3550)".into(),
                    ],
                    vec![
                        "outbound".into(),
                        verdict_word(m.verdict.outbound).into(),
                        match &m.outbound.echo {
                            Some(e) => {
                                format!("{} sent, {} echoed", m.outbound.packets, e.returned)
                            }
                            None => format!("{} sent", m.outbound.packets),
                        },
                        report.map_or("-".into(), |r| {
                            format!("{} ({:.1} %)", r.cumulative_lost, r.fraction_lost_percent)
                        }),
                        report.map_or("-".into(), |r| format!("{:.1}", r.jitter_ms)),
                        m.mos.outbound.map_or("-".into(), |x| format!("{x:.2}")),
                        {
                            let basis = match m.mos.basis_outbound {
                                Some("rtcp") => "the far end's RTCP report",
                                Some("echo") => "the echo",
                                _ => "no evidence",
                            };
                            match m.outbound.remote_xr.and_then(|x| x.mos_lq) {
                                Some(lq) => format!("{basis}; its XR says MOS-LQ {lq:.1}"),
                                None => basis.to_string(),
                            }
                        },
                    ],
                ],
            });
        }
        out.push(Section::Table {
            title: "Ladder".into(),
            header: vec!["ms".into(), "".into(), "Message".into()],
            rows: self
                .ladder
                .iter()
                .map(|s| {
                    vec![
                        format!("{:.1}", s.at_ms),
                        match s.by {
                            crate::sip::invite::Sender::Us => "→".into(),
                            crate::sip::invite::Sender::Them => "←".into(),
                        },
                        format!(
                            "{}{}{}",
                            s.message,
                            if s.sdp { " (SDP)" } else { "" },
                            if s.authenticated {
                                " (credentials)"
                            } else {
                                ""
                            }
                        ),
                    ]
                })
                .collect(),
        });
        if !self.expectations.is_empty() {
            out.push(Section::Table {
                title: "Expectations".into(),
                header: vec!["Name".into(), "Expected".into(), "Actual".into(), "".into()],
                rows: self
                    .expectations
                    .iter()
                    .map(|e| {
                        vec![
                            e.name.into(),
                            e.expected.clone(),
                            e.actual.clone().unwrap_or("-".into()),
                            if e.pass { "pass".into() } else { "FAIL".into() },
                        ]
                    })
                    .collect(),
            });
        }
        out
    }
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
