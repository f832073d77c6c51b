//! The test call as one sans-IO machine: the UAC INVITE dialog of [`crate::sip::invite`] on
//! socket 0 and the media session of [`crate::rtp::session`] on the RTP (and RTCP) sockets,
//! joined by SDP offer/answer (RFC 3264): media starts with the first answer (early media
//! included), follows a new offer from the far end (hold stops our RTP), and stops when
//! either side hangs up; we hang up `duration` after the answer.
//!
//! The driver runs it like any machine; tests run it in simulated time against a scripted
//! far end.

use std::time::{Duration, Instant};

use rand::rngs::StdRng;

use crate::diagnose::media::{CallMedia, Verdict};
use crate::machine::{Input, Machine, Transmit};
use crate::rtp::session::{MediaOutcome, MediaSession};
use crate::sdp::offer::{AudioCodec, Negotiated, NegotiationError, negotiate};
use crate::sip::answer::Answerer;
use crate::sip::invite::{Invite, InviteEvent, InviteOutcome};

/// The signalling side of a call: we call (UAC), or we answer (UAS, `--answer`). One per
/// run, so the size difference of the variants does not matter.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Dialog {
    /// We place the call.
    Caller(Invite),
    /// We answer one.
    Callee(Answerer),
}

impl Dialog {
    /// What the dialog came to (so far).
    pub fn outcome(&self) -> &InviteOutcome {
        match self {
            Dialog::Caller(i) => i.outcome(),
            Dialog::Callee(a) => a.outcome(),
        }
    }

    fn hang_up(&mut self, now: Instant) {
        match self {
            Dialog::Caller(i) => i.hang_up(now),
            Dialog::Callee(a) => a.hang_up(now),
        }
    }

    fn machine(&mut self) -> &mut dyn Machine<Event = InviteEvent> {
        match self {
            Dialog::Caller(i) => i,
            Dialog::Callee(a) => a,
        }
    }

    fn machine_ref(&self) -> &dyn Machine<Event = InviteEvent> {
        match self {
            Dialog::Caller(i) => i,
            Dialog::Callee(a) => a,
        }
    }
}

/// What the call machine asks of its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent {
    /// A challenge needs a password: answer with [`Call::provide_password`].
    PasswordNeeded {
        /// The realm asked for.
        realm: String,
    },
    /// Decoded 8 kHz samples of what arrived (with recording on), in order.
    Audio(Vec<i16>),
}

/// What the call came to.
#[derive(Debug, Clone)]
pub struct CallResult {
    /// The dialog.
    pub signalling: InviteOutcome,
    /// The media.
    pub media: MediaOutcome,
    /// The answer as negotiated (the first SDP answer).
    pub answer: Option<Negotiated>,
    /// Why the answer gave no media session (no audio, rejected, no common codec).
    pub negotiation_error: Option<NegotiationError>,
    /// The answer's SDP did not parse: words.
    pub sdp_error: Option<String>,
    /// The far end put the call on hold (a new offer with sendonly/inactive or c=0.0.0.0).
    pub held: bool,
    /// Media time: from the answer to the hang-up.
    pub media_duration: Option<Duration>,
    /// When the call was answered, since the start.
    pub answered_at: Option<Duration>,
}

/// The call machine (see the module documentation).
#[derive(Debug)]
pub struct Call {
    dialog: Dialog,
    media: MediaSession,
    rng: StdRng,
    codecs: Vec<AudioCodec>,
    duration: Option<Duration>,
    hangup_at: Option<Instant>,
    answered_at: Option<Instant>,
    ended_media_at: Option<Instant>,
    start: Instant,
    answer: Option<Negotiated>,
    negotiation_error: Option<NegotiationError>,
    sdp_error: Option<String>,
    held: bool,
    events: std::collections::VecDeque<CallEvent>,
}

impl Call {
    /// A call over `dialog` (a caller's INVITE is already queued) with `media`; we hang up
    /// `duration` after the answer (`None`: when the far end or the dialog's own bound
    /// ends it). `rng` draws the RTP SSRC and first sequence number.
    pub fn new(
        dialog: Dialog,
        media: MediaSession,
        codecs: Vec<AudioCodec>,
        duration: Option<Duration>,
        rng: StdRng,
        start: Instant,
    ) -> Self {
        Call {
            dialog,
            media,
            rng,
            codecs,
            duration,
            hangup_at: None,
            answered_at: None,
            ended_media_at: None,
            start,
            answer: None,
            negotiation_error: None,
            sdp_error: None,
            held: false,
            events: Default::default(),
        }
    }

    /// The dialog.
    pub fn dialog(&self) -> &Dialog {
        &self.dialog
    }

    /// The password asked for with [`CallEvent::PasswordNeeded`].
    pub fn provide_password(&mut self, now: Instant, password: Option<String>) {
        if let Dialog::Caller(i) = &mut self.dialog {
            i.provide_password(now, password);
        }
        self.drain(now);
    }

    /// What the call came to (so far).
    pub fn result(&self) -> CallResult {
        CallResult {
            signalling: self.dialog.outcome().clone(),
            media: self.media.outcome(),
            answer: self.answer.clone(),
            negotiation_error: self.negotiation_error.clone(),
            sdp_error: self.sdp_error.clone(),
            held: self.held,
            media_duration: self
                .answered_at
                .zip(self.ended_media_at)
                .map(|(a, e)| e.saturating_duration_since(a)),
            answered_at: self
                .answered_at
                .map(|a| a.saturating_duration_since(self.start)),
        }
    }

    fn stop_media(&mut self, now: Instant) {
        if self.ended_media_at.is_none() {
            self.ended_media_at = Some(now);
            self.media.stop(now);
        }
    }

    fn drain(&mut self, now: Instant) {
        while let Some(e) = self.dialog.machine().poll_event() {
            match e {
                InviteEvent::PasswordNeeded { realm } => {
                    self.events.push_back(CallEvent::PasswordNeeded { realm });
                }
                InviteEvent::Answer { sdp, .. } => match crate::sdp::parse(&sdp) {
                    Ok(session) => match negotiate(&session, &self.codecs) {
                        Ok(n) => {
                            self.answer = Some(n.clone());
                            self.media.set_remote(now, n, &mut self.rng);
                        }
                        Err(e) => self.negotiation_error = Some(e),
                    },
                    Err(e) => self.sdp_error = Some(crate::text::clip(e).0),
                },
                InviteEvent::Confirmed => {
                    self.answered_at = Some(now);
                    self.media.answered(now);
                    if self.answer.is_none() {
                        // No usable answer: nothing to measure, so do not hold the call.
                        self.hangup_at = Some(now);
                    } else {
                        self.hangup_at = self.duration.map(|d| now + d);
                    }
                }
                InviteEvent::NewOffer { sdp } => {
                    if let Some(n) = crate::sdp::parse(&sdp)
                        .ok()
                        .and_then(|s| negotiate(&s, &self.codecs).ok())
                    {
                        if !n.we_send() {
                            self.held = true;
                        }
                        self.media.set_remote(now, n, &mut self.rng);
                    }
                }
                InviteEvent::RemoteBye | InviteEvent::Ended => {
                    self.hangup_at = None;
                    self.stop_media(now);
                }
            }
        }
    }
}

impl Machine for Call {
    type Event = CallEvent;

    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        match input {
            Input::Message { socket, from, data } if self.media.owns(socket) => {
                self.media.handle_datagram(now, socket, from, data);
            }
            Input::Unreachable {
                socket,
                destination,
                reason,
            } if self.media.owns(socket) => {
                self.media.handle_unreachable(socket, destination, reason);
            }
            _ => {
                self.dialog.machine().handle_input(now, input);
                self.drain(now);
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self
            .dialog
            .machine_ref()
            .poll_timeout()
            .is_some_and(|t| t <= now)
        {
            self.dialog.machine().handle_timeout(now);
            self.drain(now);
        }
        if self.hangup_at.is_some_and(|t| now >= t) {
            self.hangup_at = None;
            self.stop_media(now);
            self.dialog.hang_up(now);
            self.drain(now);
        }
        self.media.handle_timeout(now);
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.dialog
            .machine()
            .poll_transmit()
            .or_else(|| self.media.poll_transmit())
    }

    fn poll_event(&mut self) -> Option<CallEvent> {
        self.events
            .pop_front()
            .or_else(|| self.media.poll_audio().map(CallEvent::Audio))
    }

    fn poll_timeout(&self) -> Option<Instant> {
        [
            self.dialog.machine_ref().poll_timeout(),
            self.media.poll_timeout(),
            self.hangup_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn is_done(&self) -> bool {
        self.dialog.machine_ref().is_done()
    }

    fn interrupt(&mut self, now: Instant) {
        self.stop_media(now);
        self.hangup_at = None;
        self.dialog.machine().interrupt(now);
        self.drain(now);
    }
}

/// Which directions must carry audio (`--expect-media`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedMedia {
    /// As negotiated.
    Auto,
    /// Both ways.
    Both,
    /// Only from the far end.
    Inbound,
    /// Only to the far end.
    Outbound,
    /// None.
    None,
}

/// The thresholds a run is held to.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectations {
    /// Final statuses that count as success; empty: any 2xx.
    pub status: Vec<u16>,
    /// Directions that must carry audio.
    pub media: ExpectedMedia,
    /// Highest loss either way, percent.
    pub max_loss: Option<f64>,
    /// Highest mean inbound jitter, ms.
    pub max_jitter: Option<f64>,
    /// Lowest MOS either way.
    pub min_mos: Option<f64>,
    /// Highest post-dial delay, ms.
    pub max_pdd: Option<f64>,
    /// Highest round trip, ms.
    pub max_rtt: Option<f64>,
}

/// What the expectations are checked against.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measured {
    /// Final status.
    pub final_status: Option<u16>,
    /// Inbound / outbound verdicts.
    pub verdicts: Option<(Verdict, Verdict)>,
    /// Inbound loss, percent.
    pub inbound_loss: Option<f64>,
    /// Outbound loss from the best evidence, percent.
    pub outbound_loss: Option<f64>,
    /// Mean inbound jitter, ms.
    pub jitter: Option<f64>,
    /// MOS in / out.
    pub mos: (Option<f64>, Option<f64>),
    /// Post-dial delay, ms.
    pub pdd: Option<f64>,
    /// Round trip, ms.
    pub rtt: Option<f64>,
}

/// One expectation checked.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Checked {
    /// The option, e.g. `max-loss`.
    pub name: &'static str,
    /// What was expected.
    pub expected: String,
    /// What was measured (`null`: nothing to measure).
    pub actual: Option<String>,
    /// Whether it held.
    pub pass: bool,
}

fn worst(a: Option<f64>, b: Option<f64>, max: bool) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if max { x.max(y) } else { x.min(y) }),
        (x, y) => x.or(y),
    }
}

/// Checks `e` against `m`. The status is always checked; the media only when the call was
/// answered; a threshold with nothing to measure fails (it cannot be shown to hold).
pub fn check(e: &Expectations, m: &Measured) -> Vec<Checked> {
    let mut out = Vec::new();
    let status_ok = match (m.final_status, e.status.is_empty()) {
        (Some(c), true) => (200..300).contains(&c),
        (Some(c), false) => e.status.contains(&c),
        (None, _) => false,
    };
    out.push(Checked {
        name: "expect-status",
        expected: if e.status.is_empty() {
            "2xx".into()
        } else {
            e.status
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(",")
        },
        actual: m.final_status.map(|c| c.to_string()),
        pass: status_ok,
    });
    let Some((inbound, outbound)) = m.verdicts else {
        return out;
    };
    let flows = |v: Verdict| matches!(v, Verdict::Ok | Verdict::Poor);
    let (want_in, want_out) = match e.media {
        ExpectedMedia::Auto => (
            inbound != Verdict::NotExpected,
            outbound != Verdict::NotExpected,
        ),
        ExpectedMedia::Both => (true, true),
        ExpectedMedia::Inbound => (true, false),
        ExpectedMedia::Outbound => (false, true),
        ExpectedMedia::None => (false, false),
    };
    let name = |v: Verdict| {
        serde_json::to_value(v)
            .ok()
            .and_then(|j| j.as_str().map(str::to_string))
    };
    if want_in || want_out {
        let mut expected = Vec::new();
        let mut pass = true;
        // `unknown` is no evidence of a failure, only missing proof (media too short to
        // judge, no report about our stream): it passes `auto` and fails an explicit ask.
        let auto_unknown = |v: Verdict| e.media == ExpectedMedia::Auto && v == Verdict::Unknown;
        if want_in {
            expected.push("inbound");
            pass &= flows(inbound) || auto_unknown(inbound);
        }
        if want_out {
            expected.push("outbound");
            pass &= flows(outbound) || auto_unknown(outbound);
        }
        out.push(Checked {
            name: "expect-media",
            expected: expected.join("+"),
            actual: Some(format!(
                "inbound {}, outbound {}",
                name(inbound).unwrap_or_default(),
                name(outbound).unwrap_or_default()
            )),
            pass,
        });
    }
    let mut limit = |name: &'static str, bound: Option<f64>, actual: Option<f64>, max: bool| {
        if let Some(b) = bound {
            out.push(Checked {
                name,
                expected: format!("{} {b}", if max { "≤" } else { "≥" }),
                actual: actual.map(|a| format!("{a}")),
                pass: actual.is_some_and(|a| if max { a <= b } else { a >= b }),
            });
        }
    };
    limit(
        "max-loss",
        e.max_loss,
        worst(m.inbound_loss, m.outbound_loss, true),
        true,
    );
    limit("max-jitter", e.max_jitter, m.jitter, true);
    limit("min-mos", e.min_mos, worst(m.mos.0, m.mos.1, false), false);
    limit("max-pdd", e.max_pdd, m.pdd, true);
    limit("max-rtt", e.max_rtt, m.rtt, true);
    out
}

impl CallResult {
    /// The evidence about the media for [`call_verdicts`](crate::diagnose::media::call_verdicts): `offer_address` is our SDP's
    /// media address, `behind_nat` whether the far end saw our signalling from another
    /// address than ours, `answer_from` where the answer came from.
    pub fn media_facts(
        &self,
        offer_address: std::net::SocketAddr,
        behind_nat: bool,
        answer_from: Option<std::net::IpAddr>,
    ) -> CallMedia {
        let m = &self.media;
        let a = self.answer.as_ref();
        let codec = a.map_or("PCMU", |n| n.codec.1.name());
        let ptime = a.and_then(|n| n.ptime_ms).unwrap_or(20);
        let outbound_loss = self.outbound_loss();
        let outbound_mos = outbound_loss.map(|loss| {
            let jitter = m.remote_report.map_or(0.0, |r| r.jitter_ms);
            crate::rtp::mos::estimate(codec, loss, jitter, f64::from(ptime))
        });
        let private = crate::addr::is_unroutable;
        CallMedia {
            media_due: self.answered_at.is_some() || m.early_packets > 0,
            media_ms: self
                .media_duration
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0),
            expect_inbound: a.is_some_and(Negotiated::we_receive),
            expect_outbound: a.is_some_and(Negotiated::we_send),
            sent: m.sent_packets,
            received: m.inbound_packets,
            inbound_loss_percent: m.inbound.as_ref().map_or(0.0, |q| q.summary.loss_percent),
            inbound_mos: m.inbound.as_ref().and_then(|q| q.mos),
            remote_report: m
                .remote_report
                .map(|r| (r.fraction_lost_percent, i64::from(r.cumulative_lost))),
            echo_returned: m.echo.as_ref().map(|e| e.returned),
            outbound_mos,
            answer_address: a.and_then(|n| n.remote_rtp),
            answer_private: a.is_some_and(|n| n.private_address),
            answer_from_public: answer_from.is_some_and(|ip| !private(ip) && !ip.is_loopback()),
            offer_private_behind_nat: (behind_nat && private(offer_address.ip()))
                .then_some(offer_address),
            source_mismatch: m.source_mismatch,
            latched: m.latched,
            rtcp_on_rtp_port: m.rtcp_on_rtp_port,
            unreachable: m.unreachable.as_ref().map(|u| u.0),
            direction_limited: self.held || a.is_some_and(|n| !(n.we_send() && n.we_receive())),
        }
    }

    /// Outbound loss from the best evidence: the far end's cumulative count over what we
    /// sent, else the echo; percent.
    pub fn outbound_loss(&self) -> Option<f64> {
        let m = &self.media;
        if m.sent_packets == 0 {
            return None;
        }
        let sent = m.sent_packets as f64;
        m.remote_report
            .map(|r| f64::from(r.cumulative_lost.max(0)) * 100.0 / sent)
            .or_else(|| {
                m.echo
                    .as_ref()
                    .map(|e| (sent - e.returned as f64).max(0.0) * 100.0 / sent)
            })
            .map(crate::rtp::stats::round3)
    }

    /// The round trip: median of RTCP's, else the echo's, ms.
    pub fn rtt_ms(&self) -> Option<f64> {
        let mut rtcp = self.media.rtt.clone();
        crate::rtp::stats::median_ms(&mut rtcp)
            .or_else(|| self.media.echo.as_ref().and_then(|e| e.rtt_ms_median))
    }
}

#[cfg(test)]
mod tests {
    //! The whole call in simulated time: the scripted far end answers, and the path between
    //! us loses, reorders, delays and translates packets exactly as each test says.
    use super::*;
    use crate::machine::SocketId;
    use crate::rtp::header;
    use crate::rtp::sender::AudioSource;
    use crate::rtp::session::MediaConfig;
    use crate::sip::endpoint::{Endpoint, Flow};
    use crate::sip::invite::{CallOutcome, HangupBy, InviteConfig};
    use crate::sip::message::Message;
    use crate::sip::target::Transport;
    use crate::sip::transaction::Timers;
    use rand::SeedableRng;
    use std::net::SocketAddr;

    const SIP_PEER: &str = "192.0.2.10:5060";
    const FAR_RTP: &str = "192.0.2.20:4000";
    const ONE_WAY: Duration = Duration::from_millis(10);

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn t0() -> Instant {
        #[allow(clippy::disallowed_methods)]
        Instant::now()
    }

    fn call(start: Instant, duration: Duration, echo: bool, dtmf: &str) -> Call {
        let flow = Flow {
            socket: 0,
            transport: Transport::Udp,
            local: sa("10.0.0.2:5060"),
            peer: sa(SIP_PEER),
        };
        let endpoint = Endpoint::new(
            vec![flow],
            Timers::default(),
            Some(Duration::from_secs(5)),
            "us".into(),
        );
        let invite = Invite::new(
            InviteConfig {
                request_uri: "sip:echo@192.0.2.10".into(),
                from: "sip:alice@example.com".into(),
                to: "sip:echo@192.0.2.10".into(),
                user: "alice".into(),
                password: None,
                contact: "sip:alice@10.0.0.2:5060".into(),
                route: vec![],
                offer: b"v=0\r\n".to_vec(),
                no_answer: Duration::from_secs(5),
                cancel_after: None,
                start,
            },
            endpoint,
            StdRng::seed_from_u64(1),
            start,
        );
        let media = MediaSession::new(MediaConfig {
            rtp_socket: 1,
            rtcp_socket: Some(2),
            codecs: vec![AudioCodec::Pcmu, AudioCodec::Pcma],
            ptime_ms: 20,
            source: AudioSource::Tone(1000.0),
            latch: true,
            echo,
            dtmf: dtmf.into(),
            record: echo,
            cname: "test@voipdiag".into(),
            start,
            wall_start: Duration::from_secs(1_800_000_000),
        });
        Call::new(
            Dialog::Caller(invite),
            media,
            vec![AudioCodec::Pcmu, AudioCodec::Pcma],
            Some(duration),
            StdRng::seed_from_u64(2),
            start,
        )
    }

    fn answer_sdp() -> Vec<u8> {
        b"v=0\r\no=- 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\n\
          m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
            .to_vec()
    }

    /// The far end's SIP: 180 then 200 with SDP to the INVITE, 200 to BYE.
    fn sip_peer(t: &Transmit) -> Vec<(Duration, SocketId, SocketAddr, Vec<u8>)> {
        let m = Message::parse(&t.payload).unwrap();
        let reply = |code: u16, body: Option<&[u8]>| {
            crate::sip::response::build(
                &m,
                code,
                "X",
                Some("far"),
                &[("Contact".into(), format!("<sip:echo@{SIP_PEER}>"))],
                body.map(|b| ("application/sdp", b)),
            )
        };
        match m.method() {
            Some("INVITE") => vec![
                (ONE_WAY, 0, sa(SIP_PEER), reply(180, None)),
                (
                    ONE_WAY * 5,
                    0,
                    sa(SIP_PEER),
                    reply(200, Some(&answer_sdp())),
                ),
            ],
            Some("BYE") => vec![(ONE_WAY * 2, 0, sa(SIP_PEER), reply(200, None))],
            _ => vec![],
        }
    }

    fn rtp(ssrc: u32, seq: u16, ts: u32) -> Vec<u8> {
        let mut p = vec![0x80, 0];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ts.to_be_bytes());
        p.extend_from_slice(&ssrc.to_be_bytes());
        p.extend_from_slice(&[0xff; 160]);
        p
    }

    /// A 6 s call over a path that drops every 10th packet of ours and every 10th of the
    /// far end's (which sends one packet per packet of ours it receives), delays one reply
    /// past the next, and answers our SR with an RR 100 ms later: exact counts both ways,
    /// the far end's report about us, and the round trip from LSR/DLSR.
    #[test]
    fn lossy_reordering_path_counts_exactly_and_rtt_from_rtcp() {
        let start = t0();
        let mut c = call(start, Duration::from_secs(6), false, "");
        let mut ours = 0u32;
        let mut replies = 0u32;
        let mut far_received = 0u32;
        let mut our_ssrc = 0;
        simulate(
            &mut c,
            start,
            100_000,
            |_, t| {
                match t.socket {
                    0 => sip_peer(t),
                    1 => {
                        assert_eq!(t.destination, sa(FAR_RTP));
                        let h = header::parse(&t.payload).unwrap();
                        our_ssrc = h.ssrc;
                        ours += 1;
                        if ours.is_multiple_of(10) {
                            return vec![]; // lost on the way out
                        }
                        far_received += 1;
                        let j = replies;
                        replies += 1;
                        if j % 10 == 4 {
                            return vec![]; // lost on the way back
                        }
                        let extra = if j == 20 {
                            Duration::from_millis(30)
                        } else {
                            Duration::ZERO
                        };
                        vec![(
                            ONE_WAY * 2 + extra,
                            1,
                            sa(FAR_RTP),
                            rtp(0xfa, 1000 + j as u16, 160 * j),
                        )]
                    }
                    _ => {
                        assert_eq!(
                            t.destination,
                            sa("192.0.2.20:4001"),
                            "a=rtcp absent: RTP port + 1"
                        );
                        let cp = crate::rtp::rtcp::parse(&t.payload).unwrap();
                        let Some(ntp) = cp.sender_ntp else {
                            return vec![];
                        };
                        // An RR about our SSRC: LSR = our SR, DLSR = 100 ms.
                        let rr = crate::rtp::rtcp::report(
                            0xfa,
                            None,
                            Some(crate::rtp::rtcp::Reception {
                                source: our_ssrc,
                                fraction_lost: 25,
                                cumulative_lost: 30,
                                extended_highest_sequence: 0,
                                jitter: 8,
                                last_sr: crate::rtp::rtcp::ntp_compact(ntp),
                                delay_since_last_sr: 6554,
                            }),
                            "far",
                        )
                        .unwrap();
                        // And an XR VoIP Metrics block about us (RFC 3611 §4.7): MOS-LQ 3.9.
                        let mut rr = rr;
                        rr.extend_from_slice(&[0x80, 207, 0, 10, 0, 0, 0, 0xfa, 7, 0, 0, 8]);
                        rr.extend_from_slice(&our_ssrc.to_be_bytes());
                        rr.extend_from_slice(&[25, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 40]);
                        rr.extend_from_slice(&[0, 0, 0, 0, 78, 127, 39, 127, 0, 0, 0, 40]);
                        rr.extend_from_slice(&[0, 80, 0, 120]);
                        vec![(
                            ONE_WAY + Duration::from_millis(100) + ONE_WAY,
                            2,
                            sa("192.0.2.20:4001"),
                            rr,
                        )]
                    }
                }
            },
            |_, _, _| {},
        );
        assert!(c.is_done());
        let r = c.result();
        assert_eq!(r.signalling.outcome, Some(CallOutcome::Answered));
        assert_eq!(r.signalling.hangup, Some((HangupBy::Us, Some(200))));
        assert_eq!(r.media_duration, Some(Duration::from_secs(6)));
        let m = &r.media;
        assert_eq!(m.sent_packets, 300, "6 s of 20 ms packets");
        assert_eq!(far_received, 270);
        let q = m.inbound.as_ref().unwrap().summary.clone();
        assert_eq!((q.packets, q.expected, q.lost), (243, 270, 27));
        assert_eq!(q.out_of_order, 1);
        assert_eq!(m.inbound_packets, 243);
        assert_eq!(m.early_packets, 0);
        assert_eq!(m.latched, None);
        assert_eq!(m.source_mismatch, None);
        let xr = m.remote_xr.expect("the far end's XR about us");
        assert_eq!(
            (xr.mos_lq, xr.r_factor, xr.round_trip_ms),
            (Some(3.9), Some(78), 20)
        );
        let rr = m.remote_report.unwrap();
        assert_eq!((rr.cumulative_lost, rr.fraction_lost_percent), (30, 9.766));
        // Our SRs at 0.5 s and 5.5 s after the answer, each answered with an RR.
        assert_eq!(m.rtt.len(), 2);
        for rtt in &m.rtt {
            let rtt = rtt.as_secs_f64() * 1000.0;
            assert!((rtt - 20.0).abs() < 0.05, "RTT {rtt} ms");
        }
    }

    /// The answer names 192.0.2.20:4000 but the far end's RTP comes from 198.51.100.9:6000
    /// (a NAT) and ours to the signalled address is lost: after three packets we latch and
    /// the far end hears us from then on.
    #[test]
    fn latches_onto_the_real_source() {
        let start = t0();
        let mut c = call(start, Duration::from_secs(1), false, "");
        let nat = sa("198.51.100.9:6000");
        let mut seq = 0u16;
        let mut heard = 0u32;
        let mut sent = 0u32;
        simulate(
            &mut c,
            start,
            100_000,
            |_, t| match t.socket {
                0 => sip_peer(t),
                1 => {
                    sent += 1;
                    if t.destination == nat {
                        heard += 1;
                    }
                    seq += 1;
                    vec![(ONE_WAY, 1, nat, rtp(0xfb, seq, 160 * u32::from(seq)))]
                }
                _ => vec![],
            },
            |_, _, _| {},
        );
        let r = c.result();
        assert_eq!(r.media.source_mismatch, Some(nat));
        assert_eq!(r.media.latched, Some(nat));
        assert_eq!(sent, 50);
        assert_eq!(heard, 47, "the first three went to the signalled address");
    }

    /// An echo peer returns our packets (same SSRC and sequence numbers) but drops every
    /// 10th: the returned count and the round trip are exact, and the DTMF digits we sent
    /// come back decoded.
    #[test]
    fn echo_matching_and_dtmf_round_trip() {
        let start = t0();
        let mut c = call(start, Duration::from_secs(2), true, "1#");
        let mut n = 0u32;
        let mut recorded: Vec<i16> = Vec::new();
        simulate(
            &mut c,
            start,
            100_000,
            |_, t| match t.socket {
                0 => sip_peer(t),
                1 => {
                    n += 1;
                    if n.is_multiple_of(10) {
                        return vec![];
                    }
                    vec![(ONE_WAY * 2, 1, sa(FAR_RTP), t.payload.clone())]
                }
                _ => vec![],
            },
            |_, _, e| {
                if let CallEvent::Audio(samples) = e {
                    recorded.extend(samples);
                }
            },
        );
        let r = c.result();
        assert_eq!(r.media.sent_packets, 100);
        // What came back, decoded (--record): our 1 kHz tone, lost packets as silence.
        assert_eq!(recorded.len() % 160, 0);
        let second = &recorded[recorded.len() - 8000..];
        let crossings = second
            .windows(2)
            .filter(|w| (w[0] < 0) != (w[1] < 0))
            .count();
        // 1 kHz crosses zero 2000 times a second; every 10th packet is silence here.
        assert!(
            (1700..=2000).contains(&crossings),
            "{crossings} zero crossings: not 1 kHz"
        );
        let echo = r.media.echo.unwrap();
        assert_eq!(echo.returned, 90);
        assert_eq!(echo.rtt_ms_median, Some(20.0));
        assert_eq!(r.media.dtmf_sent, "1#");
        assert_eq!(r.media.dtmf_received, "1#");
    }

    /// Two machines over a simulated path: `path` sees each transmit (`true`: from the
    /// caller) and returns the bytes to deliver (rewritten or not) and the delay, or `None`
    /// to drop it. The answerer's sockets see the caller's datagrams as from `caller_addr`
    /// + socket, and the other way round.
    fn pair(
        a: &mut Call,
        b: &mut Call,
        start: Instant,
        a_addrs: [SocketAddr; 3],
        b_addrs: [SocketAddr; 3],
        mut path: impl FnMut(bool, &Transmit) -> Option<(Duration, Vec<u8>)>,
    ) {
        let mut now = start;
        let mut queue: Vec<(Instant, u64, bool, SocketId, SocketAddr, Vec<u8>)> = Vec::new();
        let mut seq = 0u64;
        for _ in 0..200_000 {
            for (from_a, m, addrs, other) in [
                (true, &mut *a, a_addrs, b_addrs),
                (false, &mut *b, b_addrs, a_addrs),
            ] {
                while let Some(t) = m.poll_transmit() {
                    let Some(to) = other.iter().position(|x| *x == t.destination) else {
                        continue; // nobody there
                    };
                    if let Some((delay, bytes)) = path(from_a, &t) {
                        seq += 1;
                        queue.push((now + delay, seq, !from_a, to, addrs[t.socket], bytes));
                    }
                }
            }
            if a.is_done() && b.is_done() {
                return;
            }
            queue.sort_by_key(|q| (q.0, q.1));
            let next = [
                queue.first().map(|q| q.0),
                a.poll_timeout(),
                b.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next else { return };
            now = now.max(next);
            if queue.first().is_some_and(|q| q.0 == next) {
                let (_, _, to_a, socket, from, bytes) = queue.remove(0);
                let m = if to_a { &mut *a } else { &mut *b };
                m.handle_input(
                    now,
                    Input::Message {
                        socket,
                        from,
                        data: &bytes,
                    },
                );
            } else if a.poll_timeout().is_some_and(|t| t <= now) {
                a.handle_timeout(now);
            } else {
                b.handle_timeout(now);
            }
        }
        panic!("the pair did not finish");
    }

    fn answerer(start: Instant, local: SocketAddr, rtp_port: u16) -> Call {
        use crate::sdp::offer::LocalMedia;
        let flow = Flow {
            socket: 0,
            transport: Transport::Udp,
            local,
            peer: SocketAddr::new(local.ip(), 0),
        };
        let endpoint = Endpoint::new(
            vec![flow],
            Timers::default(),
            Some(Duration::from_secs(5)),
            "ans".into(),
        );
        let answerer = crate::sip::answer::Answerer::new(
            crate::sip::answer::AnswerConfig {
                local: LocalMedia {
                    session_id: 7,
                    address: local.ip(),
                    port: rtp_port,
                    codecs: vec![AudioCodec::Pcma, AudioCodec::Pcmu],
                    telephone_event: true,
                    ptime_ms: 20,
                    direction: crate::sdp::Direction::SendRecv,
                    rtcp_mux: false,
                    rtcp_port: None,
                },
                ring: Duration::from_millis(300),
                code: 200,
                contact: format!("sip:voipdiag@{local}"),
                wait: Duration::from_secs(30),
                start,
            },
            endpoint,
            StdRng::seed_from_u64(3),
            start,
        );
        let media = MediaSession::new(MediaConfig {
            rtp_socket: 1,
            rtcp_socket: Some(2),
            codecs: vec![AudioCodec::Pcma, AudioCodec::Pcmu],
            ptime_ms: 20,
            source: AudioSource::Silence,
            latch: true,
            echo: false,
            dtmf: String::new(),
            record: false,
            cname: "b@voipdiag".into(),
            start,
            wall_start: Duration::from_secs(1_800_000_000),
        });
        Call::new(
            Dialog::Callee(answerer),
            media,
            vec![AudioCodec::Pcma, AudioCodec::Pcmu],
            None,
            StdRng::seed_from_u64(4),
            start,
        )
    }

    /// voipdiag calls voipdiag: a 6 s call over a path that drops every 10th RTP packet
    /// from the caller. Both ends count exactly; each gets the other's RTCP report and a
    /// round trip; the caller's DTMF arrives; the caller sees that its offer arrived
    /// unchanged (X-Voipdiag-Offer-Seen).
    #[test]
    fn voipdiag_calls_voipdiag_over_a_lossy_path() {
        let start = t0();
        let mut a = call(start, Duration::from_secs(6), false, "5*");
        let mut b = answerer(start, sa(SIP_PEER), 4000);
        let a_addrs = [
            sa("10.0.0.2:5060"),
            sa("10.0.0.2:40000"),
            sa("10.0.0.2:40001"),
        ];
        let b_addrs = [sa(SIP_PEER), sa("192.0.2.10:4000"), sa("192.0.2.10:4001")];
        // The caller's offer must name its RTP address: rewrite what the fake offer says.
        let mut rtp_from_a = 0u32;
        let mut rtcp_from = [0u32; 2];
        pair(&mut a, &mut b, start, a_addrs, b_addrs, |from_a, t| {
            if t.socket == 2 {
                rtcp_from[usize::from(!from_a)] += 1;
            }
            let mut bytes = t.payload.clone();
            if from_a && t.socket == 0 && bytes.starts_with(b"INVITE") {
                let m = Message::parse(&bytes).unwrap();
                let sdp = "v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n";
                let head = String::from_utf8_lossy(&bytes[..m.len - m.body.len()]).replace(
                    "Content-Length: 5",
                    &format!("Content-Length: {}", sdp.len()),
                );
                bytes = format!("{head}{sdp}").into_bytes();
            }
            if from_a && t.socket == 1 {
                rtp_from_a += 1;
                if rtp_from_a.is_multiple_of(10) {
                    return None;
                }
            }
            Some((ONE_WAY, bytes))
        });
        let ra = a.result();
        let rb = b.result();
        assert_eq!(ra.signalling.outcome, Some(CallOutcome::Answered));
        assert_eq!(rb.signalling.hangup, Some((HangupBy::FarEnd, None)));
        // The answerer chose PCMU: the caller's order wins (RFC 3264 §6.1).
        assert_eq!(ra.answer.as_ref().unwrap().codec.1, AudioCodec::Pcmu);
        let sent_a = ra.media.sent_packets;
        assert_eq!(sent_a, 300);
        let qb = rb.media.inbound.as_ref().unwrap().summary.clone();
        assert_eq!(qb.packets, 270);
        assert_eq!(
            qb.lost, 29,
            "the 300th is lost too, after the highest received"
        );
        assert_eq!(rb.media.dtmf_received, "5*");
        let qa = ra.media.inbound.as_ref().unwrap().summary.clone();
        assert_eq!(qa.lost, 0);
        assert_eq!(qa.packets, rb.media.sent_packets);
        // RTCP both ways: each side has the other's report about it and a round trip.
        let report_about_a = ra.media.remote_report.unwrap();
        assert!(report_about_a.cumulative_lost > 0, "{report_about_a:?}");
        assert!(!ra.media.rtt.is_empty() && !rb.media.rtt.is_empty());
        for rtt in ra.media.rtt.iter().chain(&rb.media.rtt) {
            assert!((rtt.as_secs_f64() * 1000.0 - 20.0).abs() < 0.05, "{rtt:?}");
        }
        // RTCP at a sane rate: the first report, at most one early answer to the other's SR
        // per interval, the 5 s one, and the last with BYE — not a ping-pong of early ones.
        assert!(
            rtcp_from.iter().all(|&n| (3..=5).contains(&n)),
            "{rtcp_from:?}"
        );
        // The offer as it arrived, in the 2xx.
        let ok = ra.signalling.answer_response.as_ref().unwrap();
        let seen = crate::sip::answer::OfferSeen::parse(
            ok.header(crate::sip::answer::OFFER_SEEN_HEADER).unwrap(),
        );
        assert_eq!(seen.address, Some("10.0.0.2".parse().unwrap()));
        assert_eq!(seen.port, Some(40000));
        assert_eq!(seen.source, Some(sa("10.0.0.2:5060")));
    }

    fn simulate(
        c: &mut Call,
        start: Instant,
        steps: usize,
        peer: impl FnMut(Instant, &Transmit) -> Vec<(Duration, SocketId, SocketAddr, Vec<u8>)>,
        on_event: impl FnMut(&mut Call, Instant, CallEvent),
    ) -> Instant {
        crate::machine::simulate(c, start, steps, peer, on_event)
    }

    /// Expectations: `auto` lets an `unknown` direction pass (missing proof is not a
    /// failure), an explicit `--expect-media both` does not; a dead direction fails both;
    /// a threshold with nothing measured fails.
    #[test]
    fn expectations_on_unknown_and_dead_directions() {
        let e = Expectations {
            status: vec![],
            media: ExpectedMedia::Auto,
            max_loss: Some(1.0),
            max_jitter: None,
            min_mos: None,
            max_pdd: None,
            max_rtt: Some(100.0),
        };
        let m = Measured {
            final_status: Some(200),
            verdicts: Some((Verdict::Unknown, Verdict::Unknown)),
            inbound_loss: Some(0.0),
            ..Measured::default()
        };
        let c = check(&e, &m);
        let pass = |c: &[Checked], name: &str| c.iter().find(|x| x.name == name).unwrap().pass;
        assert!(pass(&c, "expect-status") && pass(&c, "expect-media") && pass(&c, "max-loss"));
        assert!(
            !pass(&c, "max-rtt"),
            "nothing measured cannot pass a threshold"
        );
        let both = Expectations {
            media: ExpectedMedia::Both,
            ..e.clone()
        };
        assert!(!pass(&check(&both, &m), "expect-media"));
        let dead = Measured {
            verdicts: Some((Verdict::Dead, Verdict::Ok)),
            ..m.clone()
        };
        assert!(!pass(&check(&e, &dead), "expect-media"));
        let busy = Expectations {
            status: vec![486],
            ..e
        };
        let m486 = Measured {
            final_status: Some(486),
            verdicts: None,
            ..m
        };
        let c = check(&busy, &m486);
        assert!(pass(&c, "expect-status"));
        assert_eq!(c.len(), 1, "without media only the status is checked");
    }

    /// An answer with no codec of ours (G.729 only): no media session, the call is hung up
    /// at once, and the reason is kept (CODEC_MISMATCH).
    #[test]
    fn answer_without_a_common_codec_is_hung_up() {
        let start = t0();
        let mut c = call(start, Duration::from_secs(5), false, "");
        let g729 = b"v=0\r\no=- 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n";
        let end = simulate(
            &mut c,
            start,
            10_000,
            |_, t| {
                let m = Message::parse(&t.payload).unwrap();
                let reply = |code: u16, body: Option<&[u8]>| {
                    crate::sip::response::build(
                        &m,
                        code,
                        "X",
                        Some("far"),
                        &[],
                        body.map(|b| ("application/sdp", b)),
                    )
                };
                match m.method() {
                    Some("INVITE") => vec![(ONE_WAY, 0, sa(SIP_PEER), reply(200, Some(g729)))],
                    Some("BYE") => vec![(ONE_WAY, 0, sa(SIP_PEER), reply(200, None))],
                    _ => vec![],
                }
            },
            |_, _, _| {},
        );
        let r = c.result();
        assert!(matches!(
            r.negotiation_error,
            Some(NegotiationError::NoCommonCodec(ref f)) if f.contains("G729")
        ));
        assert_eq!(r.media.sent_packets, 0);
        assert_eq!(r.signalling.hangup, Some((HangupBy::Us, Some(200))));
        assert!(end < start + Duration::from_millis(100), "hung up at once");
    }

    /// Early media (RFC 3261 §13.2.1): a 183 with SDP starts the media session; the far
    /// end's RTP before the 200 is counted apart, and after the 200 the same stream goes on.
    #[test]
    fn early_media_is_measured_before_the_answer() {
        let start = t0();
        let mut c = call(start, Duration::from_secs(1), false, "");
        let mut invite: Option<Message> = None;
        let mut k = 0u16;
        simulate(
            &mut c,
            start,
            100_000,
            |now, t| match t.socket {
                0 => {
                    let m = Message::parse(&t.payload).unwrap();
                    let reply = |code: u16, body: Option<&[u8]>| {
                        crate::sip::response::build(
                            &m,
                            code,
                            "X",
                            Some("far"),
                            &[],
                            body.map(|b| ("application/sdp", b)),
                        )
                    };
                    match m.method() {
                        Some("INVITE") => {
                            invite = Some(m.clone());
                            // 183 with SDP at once, 200 after 500 ms.
                            vec![
                                (ONE_WAY, 0, sa(SIP_PEER), reply(183, Some(&answer_sdp()))),
                                (
                                    Duration::from_millis(500),
                                    0,
                                    sa(SIP_PEER),
                                    reply(200, Some(&answer_sdp())),
                                ),
                            ]
                        }
                        Some("BYE") => vec![(ONE_WAY, 0, sa(SIP_PEER), reply(200, None))],
                        _ => vec![],
                    }
                }
                // The far end answers each packet of ours with one of its own.
                1 => {
                    k += 1;
                    let _ = now;
                    vec![(ONE_WAY, 1, sa(FAR_RTP), rtp(0xfc, k, 160 * u32::from(k)))]
                }
                _ => vec![],
            },
            |_, _, _| {},
        );
        assert!(invite.is_some());
        let r = c.result();
        assert_eq!(
            r.signalling.answer_sdp.as_ref().map(|a| a.1),
            Some(true),
            "early"
        );
        // Our RTP starts with the 183 (at 10 ms, then every 20 ms), each packet answered
        // 10 ms later; the 200 arrives at 500 ms: 24 of the far end's packets came before it.
        assert_eq!(r.media.early_packets, 24);
        assert!(r.media.inbound_packets > r.media.early_packets + 40);
    }
}
