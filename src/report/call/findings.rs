//! The findings of `call` in call terms, and the status they give.

use super::{CallResult, PcapFile, Recording};
use crate::diagnose::media::{CallFinding, Cause, Direction};
use crate::report::register::auth_failure_text;
use crate::report::{Finding, Severity, Status, opt};
use crate::sip::invite::CallOutcome;

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
