//! The media session of a test call, without I/O (RFC 3550): our paced RTP stream from the
//! socket we receive on (symmetric RTP), every inbound packet through the per-SSRC receiver
//! of [`super::receiver`] (the code pcap-decode uses), RTCP both ways — our SR/RR
//! [`RTCP_FIRST`] after media starts, then every [`RTCP_INTERVAL`] (once sooner after the far
//! end's SR, so both sides get a round trip in a short call) and at the end, the far end's reports about our SSRC and the round trip
//! from LSR/DLSR (§6.4.1) — and what a NAT or a strict peer makes of the path: RTP from
//! another address than the answer named (latching onto it after [`LATCH_AFTER`] packets
//! unless told not to), RTCP on the RTP port, ICMP errors for our RTP. With `echo` the far
//! end returns our own packets (sipp `-rtp_echo`, an echo test), and each returned packet is
//! matched to ours by SSRC and sequence number for its round trip.
//!
//! Times are `Instant`s from the driver (or a test's clock); the NTP clock of RTCP is
//! `wall_start` advanced by the same clock, so the machine never reads one.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::codec::Codec;
use super::header::{self, RtpHeader};
use super::receiver::{RtpReceiver, StreamQuality};
use super::rtcp::{self, Reception, ReportBlock};
use super::sender::{AudioSource, RtpSender, SenderConfig};
use crate::machine::{SocketId, Transmit};
use crate::sdp::offer::{AudioCodec, Negotiated};

/// RTCP report interval (RFC 3550 §6.2's computed interval is not needed between two
/// parties; 5 s is its minimum).
pub const RTCP_INTERVAL: Duration = Duration::from_secs(5);
/// Our first report goes out this long after media starts, so that the far end's first
/// report can already refer to it (LSR) and a call of a few seconds gets its round trip.
pub const RTCP_FIRST: Duration = Duration::from_millis(500);
/// After the far end's sender report, our next report comes at most this much later (once
/// per interval): its LSR/DLSR gives the far end its round trip, and the far end's next
/// report ours.
pub const RTCP_ANSWER_DELAY: Duration = Duration::from_millis(200);
/// Packets from one other source before we send there instead of the signalled address.
pub const LATCH_AFTER: u64 = 3;
/// SSRCs (and source addresses) tracked at most; more are counted, not kept.
pub const MAX_SOURCES: usize = 16;
/// Send times kept for echo matching (per sequence number, the last ones sent).
const ECHO_WINDOW: usize = 4096;
/// Round-trip samples kept (an hour of 20 ms packets is 180 000; the median of the first
/// 65 536 is what is reported).
const MAX_RTT_SAMPLES: usize = 65_536;

/// What the session sends and how it treats the path.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// The socket RTP is sent from and received on.
    pub rtp_socket: SocketId,
    /// The socket for RTCP; `None` when RTCP is multiplexed on the RTP socket (RFC 5761).
    pub rtcp_socket: Option<SocketId>,
    /// Our codecs, in preference order.
    pub codecs: Vec<AudioCodec>,
    /// Packet time, ms.
    pub ptime_ms: u32,
    /// The audio we send.
    pub source: AudioSource,
    /// Send to where RTP comes from when that differs from the answer (latching).
    pub latch: bool,
    /// The far end echoes our RTP: match returned packets.
    pub echo: bool,
    /// DTMF digits to send (RFC 4733) once media starts.
    pub dtmf: String,
    /// Decode what arrives (the main G.711 stream) for [`MediaSession::poll_audio`].
    pub record: bool,
    /// Our RTCP CNAME.
    pub cname: String,
    /// The session's clock at `wall_start`.
    pub start: Instant,
    /// Wall-clock time at `start`, since the Unix epoch (for NTP timestamps in SRs).
    pub wall_start: Duration,
}

/// An inbound source address and its packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Source {
    /// Where the RTP came from.
    pub address: SocketAddr,
    /// Packets from it.
    pub packets: u64,
}

/// The far end's latest reception report about our stream (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RemoteReport {
    /// Reports received about our SSRC.
    pub reports: u32,
    /// Fraction lost in the last interval, percent.
    pub fraction_lost_percent: f64,
    /// Cumulative packets lost.
    pub cumulative_lost: i32,
    /// Extended highest sequence number it received (low 16 bits: the sequence number).
    pub extended_highest_sequence: Option<u32>,
    /// Its interarrival jitter of our stream, ms.
    pub jitter_ms: f64,
}

/// Echo matching: our packets that came back.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EchoResult {
    /// Our packets returned (each sequence number once).
    pub returned: u64,
    /// Median round trip of the returned packets, ms.
    pub rtt_ms_median: Option<f64>,
}

/// What the session saw, sent and was told.
#[derive(Debug, Clone, Default)]
pub struct MediaOutcome {
    /// The answer's RTP address (`None`: hold, or no answer).
    pub remote_signalled: Option<SocketAddr>,
    /// The address we latched onto, when it differed from the signalled one.
    pub latched: Option<SocketAddr>,
    /// RTP came from an address other than the signalled one: the first such.
    pub source_mismatch: Option<SocketAddr>,
    /// RTCP arrived on the RTP port without rtcp-mux.
    pub rtcp_on_rtp_port: bool,
    /// An ICMP error about our RTP: (destination, words).
    pub unreachable: Option<(SocketAddr, String)>,
    /// An ICMP error about our RTCP: its destination (the far end does not take RTCP).
    pub rtcp_unreachable: Option<SocketAddr>,
    /// Our SSRC, once we sent.
    pub ssrc: Option<u32>,
    /// RTP packets we sent.
    pub sent_packets: u64,
    /// Their payload bytes.
    pub sent_bytes: u64,
    /// DTMF digits sent.
    pub dtmf_sent: String,
    /// The main inbound stream (most packets), if any.
    pub inbound: Option<StreamQuality>,
    /// All inbound RTP packets (every SSRC).
    pub inbound_packets: u64,
    /// Inbound RTP packets before the call was answered (early media).
    pub early_packets: u64,
    /// SSRCs seen inbound.
    pub ssrcs: Vec<u32>,
    /// Payload types seen inbound with their packets.
    pub payload_types: Vec<(u8, u64)>,
    /// Source addresses of inbound RTP.
    pub sources: Vec<Source>,
    /// DTMF digits received.
    pub dtmf_received: String,
    /// RTCP packets received (compound datagrams).
    pub rtcp_packets: u64,
    /// The far end's report about us.
    pub remote_report: Option<RemoteReport>,
    /// The far end's XR VoIP Metrics about our stream (RFC 3611 §4.7), when it sends them.
    pub remote_xr: Option<rtcp::VoipMetrics>,
    /// Round trips from LSR/DLSR, in order.
    pub rtt: Vec<Duration>,
    /// Echo matching, when asked for.
    pub echo: Option<EchoResult>,
    /// When (since the start) we sent our first packet, and the first one arrived.
    pub first_sent: Option<Duration>,
    /// See `first_sent`.
    pub first_received: Option<Duration>,
    /// Inbound datagrams on the media sockets that were neither RTP nor RTCP.
    pub undecodable: u64,
}

/// The media session (see the module documentation).
#[derive(Debug)]
pub struct MediaSession {
    config: MediaConfig,
    negotiated: Option<Negotiated>,
    sender: Option<RtpSender>,
    sending: bool,
    next_rtcp: Option<Instant>,
    receivers: Vec<(u32, RtpReceiver)>,
    /// The last SR of each inbound SSRC: (SSRC, compact NTP, arrival), for LSR/DLSR.
    last_sr: Vec<(u32, u32, Instant)>,
    /// Previous (expected, received) of the main inbound stream, for fraction lost.
    prior: (u64, u64),
    sent_at: VecDeque<(u16, Instant)>,
    echo_seen: VecDeque<u16>,
    echo_returned: u64,
    echo_rtt: Vec<Duration>,
    answered: bool,
    /// Recording: the SSRC recorded, its next expected timestamp, decoded blocks to hand out.
    recorded: Option<(u32, u32)>,
    audio: VecDeque<Vec<i16>>,
    /// An early report was already scheduled for a far-end SR in this interval.
    answered_sr: bool,
    /// The next report is that early one.
    early_report: bool,
    stopped: bool,
    transmits: VecDeque<Transmit>,
    outcome: MediaOutcome,
}

impl MediaSession {
    /// A session that sends nothing until [`MediaSession::set_remote`].
    pub fn new(config: MediaConfig) -> Self {
        MediaSession {
            config,
            negotiated: None,
            sender: None,
            sending: false,
            next_rtcp: None,
            receivers: Vec::new(),
            last_sr: Vec::new(),
            prior: (0, 0),
            sent_at: VecDeque::new(),
            echo_seen: VecDeque::new(),
            echo_returned: 0,
            echo_rtt: Vec::new(),
            answered: false,
            recorded: None,
            audio: VecDeque::new(),
            answered_sr: false,
            early_report: false,
            stopped: false,
            transmits: VecDeque::new(),
            outcome: MediaOutcome::default(),
        }
    }

    /// The other side's description (an answer, early or not, or a new offer) at `now`:
    /// where to send, with which codec. Sending starts with the first description that
    /// lets us send and stops on hold (RFC 3264 §8.4); SSRC and sequence numbers come from
    /// `rng` once.
    pub fn set_remote(&mut self, now: Instant, n: Negotiated, rng: &mut impl rand::Rng) {
        self.outcome.remote_signalled = n.remote_rtp;
        if self.sender.is_none() && n.we_send() {
            let mut s = RtpSender::new(
                SenderConfig {
                    payload_type: n.codec.0,
                    codec: n.codec.1,
                    ptime_ms: self.config.ptime_ms,
                    source: self.config.source.clone(),
                    telephone_event_pt: n.telephone_event,
                },
                now,
                rng,
            );
            s.queue_dtmf(&self.config.dtmf);
            self.outcome.ssrc = Some(s.ssrc());
            self.sender = Some(s);
            self.next_rtcp.get_or_insert(now + RTCP_FIRST);
        }
        self.sending = n.we_send() && !self.stopped;
        if self.next_rtcp.is_none() && n.remote_rtcp.is_some() {
            self.next_rtcp = Some(now + RTCP_FIRST);
        }
        self.negotiated = Some(n);
    }

    /// The call was answered at `now`: inbound packets from here on are not early media.
    pub fn answered(&mut self, _now: Instant) {
        self.answered = true;
    }

    /// Whether a datagram on `socket` is the session's.
    pub fn owns(&self, socket: SocketId) -> bool {
        socket == self.config.rtp_socket || Some(socket) == self.config.rtcp_socket
    }

    fn since_start(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.config.start)
    }

    fn ntp(&self, now: Instant) -> u64 {
        rtcp::ntp_timestamp(self.config.wall_start + self.since_start(now))
    }

    fn rtp_destination(&self) -> Option<SocketAddr> {
        self.outcome
            .latched
            .or(self.negotiated.as_ref().and_then(|n| n.remote_rtp))
    }

    fn rtcp_destination(&self) -> Option<(SocketId, SocketAddr)> {
        let n = self.negotiated.as_ref()?;
        match (self.config.rtcp_socket, self.outcome.latched) {
            (None, Some(l)) => Some((self.config.rtp_socket, l)),
            (None, None) => n.remote_rtp.map(|a| (self.config.rtp_socket, a)),
            (Some(s), Some(l)) if n.rtcp_mux => Some((s, l)),
            (Some(s), Some(l)) => Some((s, SocketAddr::new(l.ip(), l.port().wrapping_add(1)))),
            (Some(s), None) => n.remote_rtcp.map(|a| (s, a)),
        }
    }

    /// A datagram on one of the session's sockets at `now`.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        socket: SocketId,
        from: SocketAddr,
        data: &[u8],
    ) {
        let on_rtp = socket == self.config.rtp_socket;
        if header::looks_like_rtcp(data) {
            if on_rtp
                && self.config.rtcp_socket.is_some()
                && !self.negotiated.as_ref().is_some_and(|n| n.rtcp_mux)
            {
                self.outcome.rtcp_on_rtp_port = true;
            }
            self.handle_rtcp(now, data);
            return;
        }
        if !on_rtp {
            self.outcome.undecodable += 1;
            return;
        }
        let Ok(h) = header::parse(data) else {
            self.outcome.undecodable += 1;
            return;
        };
        self.handle_rtp(now, from, &h, data);
    }

    fn handle_rtp(&mut self, now: Instant, from: SocketAddr, h: &RtpHeader, data: &[u8]) {
        self.outcome.inbound_packets += 1;
        if !self.answered {
            self.outcome.early_packets += 1;
        }
        self.outcome
            .first_received
            .get_or_insert(self.since_start(now));
        let sources = &mut self.outcome.sources;
        if let Some(s) = sources.iter_mut().find(|s| s.address == from) {
            s.packets += 1;
        } else if sources.len() < MAX_SOURCES {
            sources.push(Source {
                address: from,
                packets: 1,
            });
        }
        let signalled = self.negotiated.as_ref().and_then(|n| n.remote_rtp);
        if signalled.is_some_and(|s| s != from) {
            self.outcome.source_mismatch.get_or_insert(from);
            let packets = self
                .outcome
                .sources
                .iter()
                .find(|s| s.address == from)
                .map_or(0, |s| s.packets);
            if self.config.latch && self.outcome.latched != Some(from) && packets >= LATCH_AFTER {
                self.outcome.latched = Some(from);
                // An ICMP error about where we sent before is moot now.
                if self
                    .outcome
                    .unreachable
                    .as_ref()
                    .is_some_and(|u| u.0 != from)
                {
                    self.outcome.unreachable = None;
                }
            }
        }
        if self.config.echo
            && Some(h.ssrc) == self.outcome.ssrc
            && let Some(&(_, sent)) = self.sent_at.iter().find(|(s, _)| *s == h.sequence_number)
            && !self.echo_seen.contains(&h.sequence_number)
        {
            if self.echo_seen.len() >= ECHO_WINDOW {
                self.echo_seen.pop_front();
            }
            self.echo_seen.push_back(h.sequence_number);
            self.echo_returned += 1;
            if self.echo_rtt.len() < MAX_RTT_SAMPLES {
                self.echo_rtt.push(now.saturating_duration_since(sent));
            }
        }
        if self.config.record {
            self.record(h, data);
        }
        let time_ns = i64::try_from(self.since_start(now).as_nanos()).unwrap_or(i64::MAX);
        if let Some((_, r)) = self.receivers.iter_mut().find(|(s, _)| *s == h.ssrc) {
            r.receive(time_ns, h, data);
        } else if self.receivers.len() < MAX_SOURCES {
            let mut r = RtpReceiver::new(h.ssrc, self.codec_map());
            r.receive(time_ns, h, data);
            self.receivers.push((h.ssrc, r));
        }
    }

    /// Decodes a G.711 packet of the recorded stream (the first SSRC that sends PCMU or
    /// PCMA) into 8 kHz samples, in arrival order: a gap in the timestamps (loss) becomes
    /// silence of its length (at most 1 s), a packet from before the last one is dropped.
    fn record(&mut self, h: &RtpHeader, data: &[u8]) {
        let law = match h.payload_type {
            0 => audio_codec_algorithms::decode_ulaw,
            8 => audio_codec_algorithms::decode_alaw,
            _ => return,
        };
        let Some(payload) = data.get(h.payload_offset..h.payload_offset + h.payload_len) else {
            return;
        };
        let n = payload.len() as u32;
        let mut block = Vec::with_capacity(payload.len());
        match self.recorded {
            None => self.recorded = Some((h.ssrc, h.timestamp.wrapping_add(n))),
            Some((ssrc, _)) if ssrc != h.ssrc => return,
            Some((ssrc, next)) => {
                let ahead = h.timestamp.wrapping_sub(next);
                if ahead >= 0x8000_0000 {
                    return; // late or repeated
                }
                block.resize(ahead.min(super::sender::CLOCK_RATE) as usize, 0);
                self.recorded = Some((ssrc, h.timestamp.wrapping_add(n)));
            }
        }
        block.extend(payload.iter().map(|&b| law(b)));
        if self.audio.len() < 256 {
            self.audio.push_back(block);
        }
    }

    /// Decoded audio of the recorded stream, block by block (with `record`).
    pub fn poll_audio(&mut self) -> Option<Vec<i16>> {
        self.audio.pop_front()
    }

    /// The payload-type map for inbound streams: ours and the other side's.
    fn codec_map(&self) -> Vec<(u8, Codec)> {
        let mut map: Vec<(u8, Codec)> = self
            .config
            .codecs
            .iter()
            .filter_map(|c| {
                Some((
                    c.payload_type(),
                    super::codec::static_codec(c.payload_type())?,
                ))
            })
            .collect();
        if let Some(n) = &self.negotiated {
            if let Some(c) = super::codec::static_codec(n.codec.0) {
                map.push((n.codec.0, c));
            }
            if let Some(te) = n.telephone_event {
                map.push((te, Codec::new("telephone-event", 8000)));
            }
        }
        map.push((
            crate::sdp::offer::TELEPHONE_EVENT_PT,
            Codec::new("telephone-event", 8000),
        ));
        map
    }

    fn handle_rtcp(&mut self, now: Instant, data: &[u8]) {
        self.outcome.rtcp_packets += 1;
        let Ok(c) = rtcp::parse(data) else {
            return;
        };
        let arrival = rtcp::ntp_compact(self.ntp(now));
        if let (Some(ssrc), Some(ntp)) = (c.sender_ssrc, c.sender_ntp) {
            self.last_sr.retain(|(s, _, _)| *s != ssrc);
            if self.last_sr.len() < MAX_SOURCES {
                self.last_sr.push((ssrc, rtcp::ntp_compact(ntp), now));
            }
            if !self.answered_sr && !self.stopped {
                self.answered_sr = true;
                self.early_report = true;
                let soon = now + RTCP_ANSWER_DELAY;
                self.next_rtcp = Some(self.next_rtcp.map_or(soon, |t| t.min(soon)));
            }
        }
        let ours = self.outcome.ssrc;
        for b in c.reports.iter().filter(|b| Some(b.source) == ours) {
            self.note_report(b, arrival);
        }
        if let Some(x) = c.voip_metrics.iter().rev().find(|x| Some(x.source) == ours) {
            self.outcome.remote_xr = Some(*x);
        }
    }

    fn note_report(&mut self, b: &ReportBlock, arrival: u32) {
        let clock = self
            .sender
            .as_ref()
            .map_or(8000.0, |_| f64::from(super::sender::CLOCK_RATE));
        let reports = self.outcome.remote_report.map_or(0, |r| r.reports) + 1;
        self.outcome.remote_report = Some(RemoteReport {
            reports,
            fraction_lost_percent: crate::rtp::stats::round3(
                f64::from(b.fraction_lost) * 100.0 / 256.0,
            ),
            cumulative_lost: b.cumulative_lost,
            extended_highest_sequence: None,
            jitter_ms: crate::rtp::stats::round3(f64::from(b.jitter) * 1000.0 / clock),
        });
        if let Some(rtt) = b.round_trip(arrival)
            && self.outcome.rtt.len() < MAX_RTT_SAMPLES
        {
            self.outcome.rtt.push(rtt);
        }
    }

    /// An ICMP error for datagrams from `socket` to `destination`.
    /// Only an error about our RTP's destination counts as [`MediaOutcome::unreachable`];
    /// one about RTCP (many peers do not listen for it) is [`MediaOutcome::rtcp_unreachable`].
    pub fn handle_unreachable(&mut self, socket: SocketId, destination: SocketAddr, reason: &str) {
        if !self.owns(socket) {
            return;
        }
        let rtp = socket == self.config.rtp_socket && Some(destination) == self.rtp_destination();
        if rtp && self.outcome.unreachable.is_none() {
            self.outcome.unreachable = Some((destination, crate::text::clip(reason.to_string()).0));
        } else if !rtp && self.outcome.rtcp_unreachable.is_none() {
            self.outcome.rtcp_unreachable = Some(destination);
        }
    }

    /// Sends the packets due at `now` and the RTCP report when its interval is up.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.stopped {
            return;
        }
        if self.sending
            && let Some(dest) = self.rtp_destination()
        {
            let start = self.since_start(now);
            while let Some(s) = self.sender.as_mut() {
                let k = s.packets();
                let Some(p) = s.poll_packet(now) else { break };
                let seq = s.sequence_of(k);
                self.outcome.first_sent.get_or_insert(start);
                if self.config.echo {
                    if self.sent_at.len() >= ECHO_WINDOW {
                        self.sent_at.pop_front();
                    }
                    self.sent_at.push_back((seq, now));
                }
                self.transmits.push_back(Transmit {
                    socket: self.config.rtp_socket,
                    destination: dest,
                    payload: p,
                });
            }
        }
        if self.next_rtcp.is_some_and(|t| now >= t) {
            self.send_rtcp(now, false);
            self.next_rtcp = Some(now + RTCP_INTERVAL);
            // The early report does not open the way for another: only a regular one does,
            // or two voipdiag ends would answer each other's SRs every 200 ms.
            if self.early_report {
                self.early_report = false;
            } else {
                self.answered_sr = false;
            }
        }
    }

    fn main_receiver(&self) -> Option<&RtpReceiver> {
        self.receivers
            .iter()
            .filter(|(s, _)| {
                Some(*s) != self.outcome.ssrc || !self.config.echo || self.receivers.len() == 1
            })
            .map(|(_, r)| r)
            .max_by_key(|r| r.stats.packets())
    }

    fn send_rtcp(&mut self, now: Instant, bye: bool) {
        let Some((socket, dest)) = self.rtcp_destination() else {
            return;
        };
        let ntp = self.ntp(now);
        let reception = self.main_receiver().map(|r| {
            let q = r.stats.summary();
            let expected = q.expected;
            let received = q.packets;
            let (pe, pr) = self.prior;
            let exp_int = expected.saturating_sub(pe);
            let rec_int = received.saturating_sub(pr);
            let fraction = if exp_int == 0 || rec_int >= exp_int {
                0
            } else {
                (((exp_int - rec_int) << 8) / exp_int).min(255) as u8
            };
            let (last_sr, dlsr) = self.last_sr.iter().find(|(s, _, _)| *s == r.ssrc).map_or(
                (0, 0),
                |(_, lsr, at)| {
                    let d = now.saturating_duration_since(*at);
                    (*lsr, (d.as_micros() * 65536 / 1_000_000) as u32)
                },
            );
            (
                Reception {
                    source: r.ssrc,
                    fraction_lost: fraction,
                    cumulative_lost: i32::try_from(q.lost).unwrap_or(i32::MAX),
                    extended_highest_sequence: 0,
                    jitter: (q.jitter_last_ms * 8.0) as u32,
                    last_sr,
                    delay_since_last_sr: dlsr,
                },
                (expected, received),
            )
        });
        if let Some((_, prior)) = &reception {
            self.prior = *prior;
        }
        let ssrc = self.outcome.ssrc.unwrap_or(0x766f_6970);
        let sent = self.sender.as_ref().filter(|s| s.packets() > 0).map(|s| {
            (
                ntp,
                s.rtp_timestamp_at(now),
                s.packets() as u32,
                s.payload_octets() as u32,
            )
        });
        let Ok(mut bytes) = rtcp::report(ssrc, sent, reception.map(|r| r.0), &self.config.cname)
        else {
            return;
        };
        if bye {
            // RFC 3550 §6.6: BYE, one source, no reason.
            bytes.extend_from_slice(&[0x81, 203, 0, 1]);
            bytes.extend_from_slice(&ssrc.to_be_bytes());
        }
        self.transmits.push_back(Transmit {
            socket,
            destination: dest,
            payload: bytes,
        });
    }

    /// Stops sending at `now`: a last RTCP report with BYE (RFC 3550 §6.6) goes out.
    pub fn stop(&mut self, now: Instant) {
        if self.stopped {
            return;
        }
        if self.sender.is_some() || !self.receivers.is_empty() {
            self.send_rtcp(now, true);
        }
        self.stopped = true;
        self.sending = false;
    }

    /// The next payload to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// When [`MediaSession::handle_timeout`] is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.stopped {
            return None;
        }
        let rtp = self
            .sender
            .as_ref()
            .filter(|_| self.sending && self.rtp_destination().is_some())
            .map(RtpSender::next_due);
        [rtp, self.next_rtcp].into_iter().flatten().min()
    }

    /// What the session came to (so far).
    pub fn outcome(&self) -> MediaOutcome {
        let mut o = self.outcome.clone();
        if let Some(s) = &self.sender {
            o.sent_packets = s.packets();
            o.sent_bytes = s.payload_octets();
            o.dtmf_sent = s.dtmf_sent().to_string();
        }
        o.inbound = self.main_receiver().map(RtpReceiver::quality);
        o.ssrcs = self.receivers.iter().map(|(s, _)| *s).collect();
        let mut pts: Vec<(u8, u64)> = Vec::new();
        for (_, r) in &self.receivers {
            for &(pt, n) in &r.payload_types {
                match pts.iter_mut().find(|(p, _)| *p == pt) {
                    Some((_, m)) => *m += n,
                    None => pts.push((pt, n)),
                }
            }
        }
        o.payload_types = pts;
        o.dtmf_received = self
            .receivers
            .iter()
            .map(|(_, r)| r.dtmf.as_str())
            .collect();
        if self.config.echo {
            let mut rtts = self.echo_rtt.clone();
            o.echo = Some(EchoResult {
                returned: self.echo_returned,
                rtt_ms_median: crate::rtp::stats::median_ms(&mut rtts),
            });
        }
        o
    }
}
