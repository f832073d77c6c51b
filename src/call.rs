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
use crate::sip::invite::{Invite, InviteEvent, InviteOutcome};

/// What the call machine asks of its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent {
    /// A challenge needs a password: answer with [`Call::provide_password`].
    PasswordNeeded {
        /// The realm asked for.
        realm: String,
    },
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
    invite: Invite,
    media: MediaSession,
    rng: StdRng,
    codecs: Vec<AudioCodec>,
    duration: Duration,
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
    /// A call over `invite` (already started: its INVITE is queued) with `media`; we hang up
    /// `duration` after the answer. `rng` draws the RTP SSRC and first sequence number.
    pub fn new(
        invite: Invite,
        media: MediaSession,
        codecs: Vec<AudioCodec>,
        duration: Duration,
        rng: StdRng,
        start: Instant,
    ) -> Self {
        Call {
            invite,
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
    pub fn invite(&self) -> &Invite {
        &self.invite
    }

    /// The password asked for with [`CallEvent::PasswordNeeded`].
    pub fn provide_password(&mut self, now: Instant, password: Option<String>) {
        self.invite.provide_password(now, password);
        self.drain(now);
    }

    /// What the call came to (so far).
    pub fn result(&self) -> CallResult {
        CallResult {
            signalling: self.invite.outcome().clone(),
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
        while let Some(e) = self.invite.poll_event() {
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
                        self.hangup_at = Some(now + self.duration);
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
                self.invite.handle_input(now, input);
                self.drain(now);
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.invite.poll_timeout().is_some_and(|t| t <= now) {
            self.invite.handle_timeout(now);
            self.drain(now);
        }
        if self.hangup_at.is_some_and(|t| now >= t) {
            self.hangup_at = None;
            self.stop_media(now);
            self.invite.hang_up(now);
            self.drain(now);
        }
        self.media.handle_timeout(now);
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.invite
            .poll_transmit()
            .or_else(|| self.media.poll_transmit())
    }

    fn poll_event(&mut self) -> Option<CallEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        [
            self.invite.poll_timeout(),
            self.media.poll_timeout(),
            self.hangup_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn is_done(&self) -> bool {
        self.invite.is_done()
    }

    fn interrupt(&mut self, now: Instant) {
        self.stop_media(now);
        self.hangup_at = None;
        self.invite.interrupt(now);
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
        if want_in {
            expected.push("inbound");
            pass &= flows(inbound);
        }
        if want_out {
            expected.push("outbound");
            // Unknown outbound is not a failure of the call, only of the proof: it fails
            // when outbound was asked for explicitly.
            pass &=
                flows(outbound) || (e.media == ExpectedMedia::Auto && outbound == Verdict::Unknown);
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
    /// The evidence about the media for [`call_verdicts`]: `offer_address` is our SDP's
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
        let private = |ip: std::net::IpAddr| {
            matches!(
                crate::addr::scope(ip),
                crate::addr::Scope::Private
                    | crate::addr::Scope::Cgnat
                    | crate::addr::Scope::LinkLocal
            )
        };
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
        rtcp.sort();
        rtcp.get(rtcp.len() / 2)
            .map(|d| crate::rtp::stats::round3(d.as_secs_f64() * 1000.0))
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
            cname: "test@voipdiag".into(),
            start,
            wall_start: Duration::from_secs(1_800_000_000),
        });
        Call::new(
            invite,
            media,
            vec![AudioCodec::Pcmu, AudioCodec::Pcma],
            duration,
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
        let rr = m.remote_report.unwrap();
        assert_eq!((rr.cumulative_lost, rr.fraction_lost_percent), (30, 9.766));
        assert_eq!(m.rtt.len(), 1);
        let rtt = m.rtt[0].as_secs_f64() * 1000.0;
        assert!((rtt - 20.0).abs() < 0.05, "RTT {rtt} ms");
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
            |_, _, _| {},
        );
        let r = c.result();
        assert_eq!(r.media.sent_packets, 100);
        let echo = r.media.echo.unwrap();
        assert_eq!(echo.returned, 90);
        assert_eq!(echo.rtt_ms_median, Some(20.0));
        assert_eq!(r.media.dtmf_sent, "1#");
        assert_eq!(r.media.dtmf_received, "1#");
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
}
