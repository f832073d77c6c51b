//! The VoIP analysis of a capture, fed one frame at a time: SIP dialogs (with their SDP),
//! RTP streams on SDP-learned ports (or found heuristically), RTCP, STUN (also multiplexed
//! on media flows, RFC 7983) and RFC 4733 events; every frame is counted as decoded,
//! ignored or malformed. No I/O: frames and their times come in, an [`Analysis`] comes out.
//!
//! Memory is bounded by the dialogs and streams in the capture, not by its size: per stream
//! the statistics are constant-size, per TCP direction at most a bounded buffer.

use std::collections::BTreeMap;

use super::{FastMap, FastSet};
use std::net::{IpAddr, SocketAddr};

use super::dissect::{Dissected, Dissector, Transport};
use super::reader::Frame;
use super::tcp;
use crate::addr::is_private_or_cgnat;
use crate::rtp::codec::{self, Codec};
use crate::rtp::dtmf::TelephoneEvent;
use crate::rtp::stats::{Arrival, StreamStats};
use crate::rtp::{self as rtpmod, header as rtph};
use crate::sdp;
use crate::sip::message::{Message, NameAddr, StartLine, looks_like_start};
use crate::sip::target::{Host, Target};
use crate::stun::message as stunmsg;

/// Message records kept for the `messages` and `ladder` views.
const MAX_MESSAGES: usize = 200_000;
/// STUN records kept.
const MAX_STUN: usize = 10_000;
/// Distinct malformed reasons kept (counts are always complete).
const MAX_REASONS: usize = 32;

/// What the analysis should do beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Decode RTP/RTCP on any UDP flow that looks like it, not only on SDP-signalled ports.
    pub rtp_heuristics: bool,
}

/// Frame accounting: `decoded + ignored + malformed == total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PacketCounts {
    /// Frames read.
    pub total: u64,
    /// Frames that carried SIP, SDP, RTP, RTCP, STUN or DTMF (or a fragment/segment of it).
    pub decoded: u64,
    /// Frames of other protocols.
    pub ignored: u64,
    /// Frames that could not be decoded (cut, inconsistent, or failed parsing).
    pub malformed: u64,
}

/// One SIP message, for the message list and the ladder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipRecord {
    /// Frame number of the (last) frame carrying it.
    pub frame: u64,
    /// Capture time (ns since the epoch).
    pub time_ns: i64,
    /// Source.
    pub src: SocketAddr,
    /// Destination.
    pub dst: SocketAddr,
    /// Transport name: UDP, TCP, WS, SCTP.
    pub transport: &'static str,
    /// `INVITE sip:bob@…` or `200 OK`.
    pub summary: String,
    /// Method (requests) or CSeq method (responses).
    pub method: String,
    /// Status code of responses.
    pub status: Option<u16>,
    /// Call-ID.
    pub call_id: String,
    /// Whether the message carried SDP.
    pub sdp: bool,
}

/// A dialog started by INVITE.
#[derive(Debug, Clone, Default)]
pub struct Call {
    /// Call-ID.
    pub call_id: String,
    /// From URI.
    pub from: String,
    /// To URI.
    pub to: String,
    /// Transport of the INVITE.
    pub transport: &'static str,
    /// Time of the first INVITE (ns).
    pub invite_ns: i64,
    /// Who sent the INVITE / who received it.
    pub caller: Option<SocketAddr>,
    /// See `caller`.
    pub callee: Option<SocketAddr>,
    /// First 180/183.
    pub ringing_ns: Option<i64>,
    /// First 2xx to INVITE.
    pub answer_ns: Option<i64>,
    /// BYE time and sender.
    pub bye_ns: Option<i64>,
    /// Sender of the BYE (or CANCEL).
    pub ended_from: Option<SocketAddr>,
    /// Whether CANCEL was sent.
    pub cancelled: bool,
    /// Last final status to an INVITE.
    pub final_status: Option<u16>,
    /// Codecs of the answer (else the offer), in order.
    pub codecs: Vec<String>,
    /// Media endpoint (RTP address:port) each side announced in SDP.
    pub caller_media: Option<SocketAddr>,
    /// See `caller_media`.
    pub callee_media: Option<SocketAddr>,
    /// Payload-type map from SDP.
    pub payloads: Vec<(u8, Codec)>,
    /// SIP messages in this dialog.
    pub messages: u64,
    /// Private/CGNAT addresses found in signalling from public sources: (what, address, source).
    pub private_addresses: Vec<(String, String, IpAddr)>,
    /// Signs of an ALG: explanation.
    pub alg_signs: Vec<String>,
    /// Media arriving from somewhere other than SDP said: (expected, actual).
    pub media_mismatch: Vec<(SocketAddr, SocketAddr)>,
}

/// What SDP said an address:port receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaKind {
    Rtp,
    Rtcp,
    /// Not RTP (e.g. T.38 over UDPTL after a re-INVITE to fax).
    Other,
}

/// A media endpoint learned from SDP.
#[derive(Debug, Clone)]
struct Endpoint {
    call: Option<usize>,
    kind: MediaKind,
}

/// One RTP stream (SSRC, direction).
#[derive(Debug, Clone)]
pub struct RtpStream {
    /// SSRC.
    pub ssrc: u32,
    /// Source.
    pub src: SocketAddr,
    /// Destination.
    pub dst: SocketAddr,
    /// Index into [`Analysis::calls`] when signalled.
    pub call: Option<usize>,
    /// Statistics.
    pub stats: StreamStats,
    /// Payload types seen with their packet counts, in first-seen order.
    pub payload_types: Vec<(u8, u64)>,
    /// Codec map in force (from the call's SDP).
    codecs: Vec<(u8, Codec)>,
    /// DTMF digits received (RFC 4733 end packets, once per event).
    pub dtmf: String,
    last_event_ts: Option<u32>,
    /// What the far end reported about this stream in RTCP: (fraction lost /256, jitter units).
    pub rtcp_report: Option<(u8, u32)>,
    /// Typical RTP timestamp step, for the packet time.
    ts_step: Option<u32>,
    last_ts: Option<u32>,
    /// The last payload type seen with (is telephone-event, clock rate for jitter): the
    /// codec lookup once per change instead of once per packet.
    pt_cache: Option<(u8, bool, u32)>,
}

impl RtpStream {
    /// The codec of a payload type in this stream.
    pub fn codec(&self, pt: u8) -> Option<Codec> {
        self.codecs
            .iter()
            .find(|(p, _)| *p == pt)
            .map(|(_, c)| c.clone())
            .or_else(|| codec::static_codec(pt))
            // Unsignalled PT 101 is conventionally RFC 4733 events (Wireshark assumes so too).
            .or_else(|| (pt == 101).then(|| Codec::new("telephone-event", 8000)))
    }

    /// The main payload type: the most frequent one that is neither CN nor an event.
    pub fn main_payload_type(&self) -> u8 {
        self.payload_types
            .iter()
            .filter(|(pt, _)| {
                self.codec(*pt)
                    .is_none_or(|c| !c.is_comfort_noise() && !c.is_telephone_event())
            })
            .max_by_key(|(_, n)| *n)
            .or_else(|| self.payload_types.first())
            .map_or(0, |(pt, _)| *pt)
    }

    /// Packet time in ms from the timestamp step and clock rate (20 when unknown).
    pub fn ptime_ms(&self) -> f64 {
        let pt = self.main_payload_type();
        match (self.ts_step, self.codec(pt)) {
            (Some(step), Some(c)) if c.clock_rate > 0 && step > 0 => {
                (f64::from(step) * 1000.0 / f64::from(c.clock_rate)).min(200.0)
            }
            _ => 20.0,
        }
    }
}

/// A STUN message seen in the capture.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StunRecord {
    /// Frame number.
    pub frame: u64,
    /// Time (ns).
    #[serde(skip)]
    pub time_ns: i64,
    /// Source "ip:port".
    pub src: String,
    /// Destination "ip:port".
    pub dst: String,
    /// UDP or TCP.
    pub transport: &'static str,
    /// Class: request, indication, success-response, error-response.
    pub class: String,
    /// Method name (binding, allocate, …) or number.
    pub method: String,
    /// Transaction ID (hex).
    pub transaction_id: String,
    /// RFC 3489 message without the magic cookie.
    pub classic: bool,
    /// XOR-MAPPED-ADDRESS.
    pub xor_mapped_address: Option<String>,
    /// MAPPED-ADDRESS.
    pub mapped_address: Option<String>,
    /// OTHER-ADDRESS (RFC 5780) / CHANGED-ADDRESS.
    pub other_address: Option<String>,
    /// RESPONSE-ORIGIN (RFC 5780).
    pub response_origin: Option<String>,
    /// CHANGE-REQUEST flags, e.g. "ip+port".
    pub change_request: Option<String>,
    /// ERROR-CODE.
    pub error: Option<String>,
    /// SOFTWARE.
    pub software: Option<String>,
}

impl StunRecord {
    /// A record with what the header gives: class and method from the message type, the
    /// transaction ID in hex; the attributes are filled in by the caller.
    fn header(
        f: &Frame<'_>,
        src: SocketAddr,
        dst: SocketAddr,
        transport: &'static str,
        message_type: u16,
        transaction_id: &[u8],
    ) -> Self {
        let (class, method) = stunmsg::message_type(message_type);
        Self {
            frame: f.number,
            time_ns: f.time_ns,
            src: endpoint(&src),
            dst: endpoint(&dst),
            transport,
            class: class.as_str().into(),
            method: stunmsg::method_name(method),
            transaction_id: hex::encode(transaction_id),
            classic: false,
            xor_mapped_address: None,
            mapped_address: None,
            other_address: None,
            response_origin: None,
            change_request: None,
            error: None,
            software: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TcpKind {
    Unknown,
    Sip,
    WebSocket { upgraded: bool },
    Stun,
    Other,
}

#[derive(Debug)]
struct TcpFlow {
    kind: TcpKind,
    stream: tcp::Stream,
}

/// The analysis state and, at the end, its result.
#[derive(Debug, Default)]
pub struct Analysis {
    opts: Options,
    /// In an `Option<Box>` so that [`Analysis::frame`] can move it out while the frame's
    /// slices borrow it: a pointer moves, not the dissector (that copy was 4% of decode
    /// time). `None` only before the first frame.
    dissector: Option<Box<Dissector>>,
    /// Frame accounting.
    pub packets: PacketCounts,
    /// Why frames were malformed, with counts (at most a few distinct reasons).
    pub malformed_reasons: BTreeMap<String, u64>,
    /// First and last frame time (ns).
    pub first_ns: Option<i64>,
    /// See `first_ns`.
    pub last_ns: i64,
    /// Calls (INVITE dialogs) in order of their first INVITE.
    pub calls: Vec<Call>,
    call_index: FastMap<String, usize>,
    /// RTP streams in order of first packet.
    pub streams: Vec<RtpStream>,
    stream_index: FastMap<(SocketAddr, SocketAddr, u32), usize>,
    endpoints: FastMap<SocketAddr, Endpoint>,
    stun_flows: FastSet<(SocketAddr, SocketAddr)>,
    tcp: FastMap<(SocketAddr, SocketAddr), TcpFlow>,
    sctp: FastMap<(SocketAddr, SocketAddr, u16), Vec<u8>>,
    sctp_tsn: FastMap<(SocketAddr, SocketAddr), u32>,
    /// SIP messages (bounded by `MAX_MESSAGES`).
    pub messages: Vec<SipRecord>,
    /// SIP messages in all.
    pub sip_messages: u64,
    /// SIP requests by method.
    pub sip_requests: BTreeMap<String, u64>,
    /// SIP responses by status code.
    pub sip_responses: BTreeMap<u16, u64>,
    /// RTCP packets (datagrams) decoded.
    pub rtcp_packets: u64,
    /// STUN messages (bounded by `MAX_STUN`; `stun_messages` counts all).
    pub stun: Vec<StunRecord>,
    /// STUN messages in all.
    pub stun_messages: u64,
    /// How reading ended, if not completely.
    pub truncated: Option<String>,
}

/// Per-frame classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Decoded,
    Ignored,
    Malformed,
}

fn flow_key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

/// `ip:port`, IPv6 in brackets (the JSON form of addresses).
pub fn endpoint(a: &SocketAddr) -> String {
    a.to_string()
}

fn uri_of(v: Option<&str>) -> String {
    v.and_then(|v| NameAddr::parse(v).ok())
        .map(|n| n.uri)
        .unwrap_or_default()
}

/// The IP literal of a Via sent-by or a (Contact) URI, through the SIP target parser;
/// `None` for host names.
fn host_ip(uri_or_host: &str) -> Option<IpAddr> {
    let s = uri_or_host
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    match s.parse::<Target>().ok()?.host {
        Host::Ip(ip) => Some(ip),
        Host::Name(_) => None,
    }
}

impl Analysis {
    /// A fresh analysis.
    pub fn new(opts: Options) -> Self {
        Self {
            opts,
            ..Self::default()
        }
    }

    /// Records that reading stopped early.
    pub fn set_truncated(&mut self, why: String) {
        *self
            .malformed_reasons
            .entry("capture file truncated".into())
            .or_default() += 1;
        self.packets.total += 1;
        self.packets.malformed += 1;
        self.truncated = Some(why);
    }

    /// Accounts for the end of the capture: fragments never completed are malformed.
    pub fn finish(&mut self) {
        let held = self.dissector.as_ref().map_or(0, |d| d.held_fragments());
        if held > 0 {
            self.packets.total += held;
            self.packets.malformed += held;
            *self
                .malformed_reasons
                .entry("IP fragments of a datagram that never completed".into())
                .or_default() += held;
        }
    }

    fn malformed(&mut self, reason: String) -> Class {
        if self.malformed_reasons.len() < MAX_REASONS
            || self.malformed_reasons.contains_key(&reason)
        {
            *self.malformed_reasons.entry(reason).or_default() += 1;
        } else {
            *self.malformed_reasons.entry("other".into()).or_default() += 1;
        }
        Class::Malformed
    }

    /// Feeds one frame.
    pub fn frame(&mut self, f: &Frame<'_>) {
        self.packets.total += 1;
        self.first_ns.get_or_insert(f.time_ns);
        self.last_ns = self.last_ns.max(f.time_ns);
        let mut dissector = self.dissector.take().unwrap_or_default();
        let (class, extra) = match dissector.dissect(f.linktype, f.time_ns, f.data) {
            Err(e) => {
                let why = if (f.data.len() as u64) < u64::from(f.orig_len) {
                    format!("frame cut by the snap length ({e})")
                } else {
                    e.0
                };
                (self.malformed(why), 0)
            }
            Ok(Dissected::Fragment) => {
                self.packets.total -= 1; // counted when its datagram completes (or at the end)
                (Class::Ignored, u32::MAX)
            }
            Ok(Dissected::Other(_)) => (Class::Ignored, 0),
            Ok(Dissected::Transport(t, earlier)) => (self.transport(f, t), earlier),
        };
        self.dissector = Some(dissector);
        if extra == u32::MAX {
            return;
        }
        let n = 1 + u64::from(extra);
        self.packets.total += u64::from(extra);
        match class {
            Class::Decoded => self.packets.decoded += n,
            Class::Ignored => self.packets.ignored += n,
            Class::Malformed => self.packets.malformed += n,
        }
    }

    fn transport(&mut self, f: &Frame<'_>, t: Transport<'_>) -> Class {
        match t {
            Transport::Udp { src, dst, payload } => self.udp(f, src, dst, payload),
            Transport::Tcp {
                src,
                dst,
                seq,
                syn,
                fin,
                payload,
            } => self.tcp_segment(f, src, dst, seq, syn, fin, payload),
            Transport::Sctp { src, dst, chunks } => {
                let mut class = Class::Ignored;
                for c in chunks {
                    // Retransmitted chunks repeat a TSN already seen.
                    let last = self
                        .sctp_tsn
                        .entry((src, dst))
                        .or_insert(c.tsn.wrapping_sub(1));
                    if (c.tsn.wrapping_sub(*last) as i32) <= 0 {
                        class = Class::Decoded;
                        continue;
                    }
                    *last = c.tsn;
                    let key = (src, dst, c.stream);
                    let message = if c.begin && c.end {
                        Some(c.data.to_vec())
                    } else if c.begin {
                        self.sctp.insert(key, c.data.to_vec());
                        None
                    } else if let Some(buf) = self.sctp.get_mut(&key) {
                        buf.extend_from_slice(c.data);
                        if buf.len() > 1 << 20 {
                            self.sctp.remove(&key);
                            None
                        } else if c.end {
                            self.sctp.remove(&key)
                        } else {
                            None
                        }
                    } else {
                        None
                    };
                    if let Some(m) = message {
                        if looks_like_start(&m) {
                            class = self.sip(f, src, dst, "SCTP", &m);
                        }
                    } else if self.sctp.contains_key(&key) {
                        class = Class::Decoded;
                    }
                }
                class
            }
        }
    }

    fn udp(&mut self, f: &Frame<'_>, src: SocketAddr, dst: SocketAddr, p: &[u8]) -> Class {
        let first = p.first().copied().unwrap_or(0);
        // RFC 7983: 0–3 STUN, 20–63 DTLS, 128–191 RTP/RTCP; SIP is text.
        if first < 4 {
            if stunmsg::looks_like_stun(p) {
                self.stun_flows.insert(flow_key(src, dst));
                return self.stun_message(f, src, dst, "UDP", p);
            }
            if let Some(class) = self.classic_stun(f, src, dst, p) {
                return class;
            }
        }
        if (128..192).contains(&first) {
            let signalled = self
                .endpoints
                .get(&dst)
                .or_else(|| self.endpoints.get(&src))
                .cloned();
            if signalled
                .as_ref()
                .is_some_and(|e| e.kind == MediaKind::Other)
            {
                return Class::Ignored;
            }
            // RFC 7983 demultiplexing on a flow that carried STUN: on the STUN/TURN ports it is
            // part of decoding (as in Wireshark); elsewhere it is a heuristic.
            let stun_port = |a: SocketAddr| [3478, 3479, 5349].contains(&a.port());
            let on_stun_flow = !self.stun_flows.is_empty()
                && self.stun_flows.contains(&flow_key(src, dst))
                && (self.opts.rtp_heuristics || stun_port(src) || stun_port(dst));
            // Heuristic RTP stays off well-known service ports (DNS, NetBIOS, …).
            let heuristic = self.opts.rtp_heuristics && src.port() >= 1024 && dst.port() >= 1024;
            if signalled.is_some() || on_stun_flow || heuristic {
                if rtph::looks_like_rtcp(p) {
                    return self.rtcp(p);
                }
                if signalled
                    .as_ref()
                    .is_some_and(|e| e.kind == MediaKind::Rtcp)
                    && !on_stun_flow
                {
                    return self.malformed("RTCP on a signalled RTCP port does not parse".into());
                }
                if rtph::looks_like_rtp(p) {
                    return self.rtp(f, src, dst, p, signalled.and_then(|e| e.call));
                }
            }
            return Class::Ignored;
        }
        if first.is_ascii_alphabetic() && looks_like_start(p) {
            return self.sip(f, src, dst, "UDP", p);
        }
        if first.is_ascii_alphanumeric()
            && let Some(body) = mgcp_sdp(src, dst, p)
        {
            if let Ok(session) = sdp::parse(body) {
                self.register_media(None, &session);
            }
            return Class::Decoded;
        }
        if p.starts_with(b"MEGACO/") || p.starts_with(b"!/") {
            for body in megaco_sdps(p) {
                if let Ok(session) = sdp::parse(body) {
                    self.register_media(None, &session);
                }
            }
            return Class::Decoded;
        }
        Class::Ignored
    }

    /// RFC 3489 STUN (no magic cookie) on the STUN ports: type, length that matches.
    fn classic_stun(
        &mut self,
        f: &Frame<'_>,
        src: SocketAddr,
        dst: SocketAddr,
        p: &[u8],
    ) -> Option<Class> {
        let on_port = [3478, 3479].contains(&src.port()) || [3478, 3479].contains(&dst.port());
        if p.len() < 20 || !on_port {
            return None;
        }
        let kind = u16::from_be_bytes([p[0], p[1]]);
        let len = usize::from(u16::from_be_bytes([p[2], p[3]]));
        if ![0x0001, 0x0101, 0x0111, 0x0002, 0x0102, 0x0112].contains(&kind) || len + 20 != p.len()
        {
            return None;
        }
        self.stun_flows.insert(flow_key(src, dst));
        // RFC 3489's transaction ID is the 128 bits after the length.
        let mut record = StunRecord::header(f, src, dst, "UDP", kind, &p[4..20]);
        record.classic = true;
        self.push_stun(record);
        Some(Class::Decoded)
    }

    fn stun_message(
        &mut self,
        f: &Frame<'_>,
        src: SocketAddr,
        dst: SocketAddr,
        transport: &'static str,
        p: &[u8],
    ) -> Class {
        // The caller checked the header, so the type and transaction ID are there.
        let mut record = StunRecord::header(
            f,
            src,
            dst,
            transport,
            u16::from_be_bytes([p[0], p[1]]),
            &p[8..20],
        );
        let class = match stunmsg::decode(p) {
            Ok(m) => {
                record.xor_mapped_address = m.xor_mapped_address.map(|a| a.to_string());
                record.mapped_address = m.mapped_address.map(|a| a.to_string());
                record.other_address = m.other_address.map(|a| a.to_string());
                record.response_origin = m.response_origin.map(|a| a.to_string());
                record.change_request = m.change_request.map(|c| {
                    match (c.change_ip, c.change_port) {
                        (true, true) => "ip+port",
                        (true, false) => "ip",
                        (false, true) => "port",
                        (false, false) => "none",
                    }
                    .to_string()
                });
                record.error = m.error_code.map(|(c, r)| format!("{c} {r}"));
                record.software = m.software;
                Class::Decoded
            }
            Err(e) => {
                // The attributes are not decodable: keep what the header says.
                record.error = Some(format!("undecodable: {e}"));
                self.malformed(format!("STUN: {e}"))
            }
        };
        self.push_stun(record);
        class
    }

    fn push_stun(&mut self, record: StunRecord) {
        self.stun_messages += 1;
        if self.stun.len() < MAX_STUN {
            self.stun.push(record);
        }
    }

    fn rtcp(&mut self, p: &[u8]) -> Class {
        match rtpmod::rtcp::parse(p) {
            Ok(c) => {
                self.rtcp_packets += 1;
                for r in &c.reports {
                    // Attach what the reporter says to every stream with that SSRC.
                    for s in self.streams.iter_mut().filter(|s| s.ssrc == r.source) {
                        s.rtcp_report = Some((r.fraction_lost, r.jitter));
                    }
                }
                Class::Decoded
            }
            // The rtcp crate rejects some valid packets (feedback formats it does not know) and
            // all SRTCP (encrypted after the first header): a consistent first header is RTCP.
            Err(_) if rtph::looks_like_rtcp(p) => {
                self.rtcp_packets += 1;
                Class::Decoded
            }
            Err(e) => self.malformed(format!("RTCP: {e}")),
        }
    }

    fn rtp(
        &mut self,
        f: &Frame<'_>,
        src: SocketAddr,
        dst: SocketAddr,
        p: &[u8],
        call: Option<usize>,
    ) -> Class {
        let h = match rtph::parse(p) {
            Ok(h) => h,
            Err(e) => return self.malformed(e.to_string()),
        };
        let key = (src, dst, h.ssrc);
        let idx = match self.stream_index.get(&key) {
            Some(i) => *i,
            None => {
                let codecs = call
                    .map(|c| self.calls[c].payloads.clone())
                    .unwrap_or_default();
                self.streams.push(RtpStream {
                    ssrc: h.ssrc,
                    src,
                    dst,
                    call,
                    stats: StreamStats::default(),
                    payload_types: Vec::new(),
                    codecs,
                    dtmf: String::new(),
                    last_event_ts: None,
                    rtcp_report: None,
                    ts_step: None,
                    last_ts: None,
                    pt_cache: None,
                });
                self.stream_index.insert(key, self.streams.len() - 1);
                if let Some(c) = call {
                    self.check_media_source(c, src, dst);
                }
                self.streams.len() - 1
            }
        };
        let s = &mut self.streams[idx];
        match s
            .payload_types
            .iter_mut()
            .find(|(pt, _)| *pt == h.payload_type)
        {
            Some((_, n)) => *n += 1,
            None => s.payload_types.push((h.payload_type, 1)),
        }
        let (event, clock_rate) = match s.pt_cache {
            Some((pt, event, rate)) if pt == h.payload_type => (event, rate),
            _ => {
                let codec = s.codec(h.payload_type);
                let event = codec.as_ref().is_some_and(Codec::is_telephone_event);
                let rate = match &codec {
                    Some(c) if !event => c.clock_rate,
                    _ => 0,
                };
                s.pt_cache = Some((h.payload_type, event, rate));
                (event, rate)
            }
        };
        if event {
            if let Some(e) =
                TelephoneEvent::parse(&p[h.payload_offset..h.payload_offset + h.payload_len])
                && e.end
                && s.last_event_ts != Some(h.timestamp)
            {
                s.last_event_ts = Some(h.timestamp);
                if let Some(sym) = e.symbol() {
                    s.dtmf.push(sym);
                }
            }
        } else if clock_rate > 0 {
            if let Some(last) = s.last_ts {
                let step = h.timestamp.wrapping_sub(last);
                if step > 0 && step < clock_rate {
                    s.ts_step = Some(s.ts_step.map_or(step, |o| o.min(step)));
                }
            }
            s.last_ts = Some(h.timestamp);
        }
        s.stats.add(&Arrival {
            time_ns: f.time_ns,
            sequence_number: h.sequence_number,
            timestamp: h.timestamp,
            payload_type: h.payload_type,
            marker: h.marker,
            clock_rate,
        });
        Class::Decoded
    }

    /// MEDIA_SOURCE_MISMATCH: RTP to one side's SDP endpoint from somewhere other than the
    /// other side's SDP endpoint.
    fn check_media_source(&mut self, c: usize, src: SocketAddr, dst: SocketAddr) {
        let call = &mut self.calls[c];
        let expected = if Some(dst) == call.caller_media {
            call.callee_media
        } else if Some(dst) == call.callee_media {
            call.caller_media
        } else {
            None
        };
        if let Some(exp) = expected
            && exp != src
            && !exp.ip().is_unspecified()
            && !call.media_mismatch.iter().any(|(_, a)| *a == src)
        {
            call.media_mismatch.push((exp, src));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn tcp_segment(
        &mut self,
        f: &Frame<'_>,
        src: SocketAddr,
        dst: SocketAddr,
        seq: u32,
        syn: bool,
        fin: bool,
        p: &[u8],
    ) -> Class {
        let key = (src, dst);
        let flow = self.tcp.entry(key).or_insert_with(|| TcpFlow {
            kind: TcpKind::Unknown,
            stream: tcp::Stream::default(),
        });
        if flow.kind == TcpKind::Other {
            if fin {
                self.tcp.remove(&key);
            }
            return Class::Ignored;
        }
        let seg = flow.stream.add(seq, syn, p);
        let had_payload = !p.is_empty();
        let mut class = if had_payload && flow.kind != TcpKind::Unknown {
            Class::Decoded
        } else {
            Class::Ignored
        };
        if seg == tcp::Segment::Data
            && let Some(c) = self.drain_tcp(f, key)
        {
            class = c;
        }
        if fin {
            self.tcp.remove(&key);
        }
        class
    }

    /// Takes whole messages out of a TCP direction's buffer. Returns the class of the frame
    /// when something was decided about it.
    fn drain_tcp(&mut self, f: &Frame<'_>, key: (SocketAddr, SocketAddr)) -> Option<Class> {
        let (src, dst) = key;
        let mut class = None;
        for _ in 0..10_000 {
            let flow = self.tcp.get_mut(&key)?;
            let data = flow.stream.data();
            if data.is_empty() {
                break;
            }
            match flow.kind {
                TcpKind::Unknown => {
                    if looks_like_start(data) {
                        flow.kind = TcpKind::Sip;
                    } else if data.starts_with(b"GET ") || data.starts_with(b"HTTP/1.1 101") {
                        let head = String::from_utf8_lossy(&data[..data.len().min(2048)])
                            .to_ascii_lowercase();
                        flow.kind = if head.contains("websocket") {
                            TcpKind::WebSocket { upgraded: false }
                        } else {
                            TcpKind::Other
                        };
                    } else if data.len() >= 20
                        && data[0] < 4
                        && stunmsg::stream_frame_len(data).is_some_and(|n| {
                            n <= data.len() && stunmsg::looks_like_stun(&data[..n])
                        })
                    {
                        flow.kind = TcpKind::Stun;
                    } else if let Some(pos) = find_start(data) {
                        // The capture began inside a message: resynchronise on a start line.
                        flow.stream.consume(pos);
                        flow.kind = TcpKind::Sip;
                    } else {
                        flow.kind = TcpKind::Other;
                        flow.stream.consume(usize::MAX);
                        return Some(Class::Ignored);
                    }
                    class = Some(Class::Decoded);
                }
                TcpKind::Other => {
                    flow.stream.consume(usize::MAX);
                    break;
                }
                TcpKind::Sip => match crate::sip::message::stream_frame_len(data) {
                    Ok(Some(n)) => {
                        let msg = data[..n].to_vec();
                        flow.stream.consume(n);
                        class = Some(self.sip(f, src, dst, "TCP", &msg));
                    }
                    Ok(None) => break,
                    Err(e) => {
                        // Unframeable: drop to the next start line, or everything.
                        let skip = find_start(&data[1..]).map_or(usize::MAX, |p| p + 1);
                        flow.stream.consume(skip);
                        class = Some(self.malformed(format!("SIP over TCP: {e}")));
                    }
                },
                TcpKind::Stun => match stunmsg::stream_frame_len(data) {
                    Some(n) if n <= data.len() => {
                        let msg = data[..n].to_vec();
                        flow.stream.consume(n);
                        class = Some(if stunmsg::looks_like_stun(&msg) {
                            self.stun_message(f, src, dst, "TCP", &msg)
                        } else {
                            self.malformed("STUN over TCP: bad header".into())
                        });
                    }
                    _ => break,
                },
                TcpKind::WebSocket { upgraded: false } => {
                    let Some(end) = find(data, b"\r\n\r\n") else {
                        break;
                    };
                    flow.stream.consume(end + 4);
                    flow.kind = TcpKind::WebSocket { upgraded: true };
                    class = Some(Class::Decoded);
                }
                TcpKind::WebSocket { upgraded: true } => match ws_frame(data) {
                    WsFrame::Need => break,
                    WsFrame::Bad => {
                        flow.stream.consume(usize::MAX);
                        class = Some(self.malformed("WebSocket frame header".into()));
                    }
                    WsFrame::Frame { len, payload } => {
                        flow.stream.consume(len);
                        class = Some(if looks_like_start(&payload) {
                            self.sip(f, src, dst, "WS", &payload)
                        } else {
                            Class::Decoded
                        });
                    }
                },
            }
        }
        class
    }

    fn sip(
        &mut self,
        f: &Frame<'_>,
        src: SocketAddr,
        dst: SocketAddr,
        transport: &'static str,
        bytes: &[u8],
    ) -> Class {
        let m = match Message::parse(bytes) {
            Ok(m) => m,
            Err(e) => return self.malformed(format!("SIP: {e}")),
        };
        self.sip_messages += 1;
        let call_id = m.header("Call-ID").unwrap_or("").to_string();
        let cseq_method = m.cseq().map(|(_, meth)| meth).unwrap_or_default();
        let is_sdp = !m.body.is_empty()
            && m.header("Content-Type")
                .is_none_or(|t| t.to_ascii_lowercase().contains("sdp"))
            && m.body.starts_with(b"v=");
        let (summary, method, status) = match &m.start {
            StartLine::Request { method, uri } => {
                *self.sip_requests.entry(method.clone()).or_default() += 1;
                (format!("{method} {uri}"), method.clone(), None)
            }
            StartLine::Response { code, reason } => {
                *self.sip_responses.entry(*code).or_default() += 1;
                (format!("{code} {reason}"), cseq_method.clone(), Some(*code))
            }
        };
        if self.messages.len() < MAX_MESSAGES {
            self.messages.push(SipRecord {
                frame: f.number,
                time_ns: f.time_ns,
                src,
                dst,
                transport,
                summary,
                method: method.clone(),
                status,
                call_id: call_id.clone(),
                sdp: is_sdp,
            });
        }
        // Dialog tracking for INVITE dialogs.
        let idx = match self.call_index.get(&call_id) {
            Some(i) => *i,
            None if status.is_none() && method == "INVITE" => {
                self.calls.push(Call {
                    call_id: call_id.clone(),
                    from: uri_of(m.header("From")),
                    to: uri_of(m.header("To")),
                    transport,
                    invite_ns: f.time_ns,
                    caller: Some(src),
                    callee: Some(dst),
                    ..Call::default()
                });
                self.call_index.insert(call_id, self.calls.len() - 1);
                self.calls.len() - 1
            }
            None => return Class::Decoded,
        };
        self.signalling_addresses(idx, src, &m);
        let from_caller = self.calls[idx].caller.is_some_and(|c| c.ip() == src.ip())
            && self.calls[idx].caller != Some(dst);
        let call = &mut self.calls[idx];
        call.messages += 1;
        match (status, method.as_str()) {
            (None, "BYE") if call.bye_ns.is_none() => {
                call.bye_ns = Some(f.time_ns);
                call.ended_from = Some(src);
            }
            (None, "CANCEL") => {
                call.cancelled = true;
                call.ended_from.get_or_insert(src);
            }
            (Some(code), "INVITE") => {
                if (180..=183).contains(&code) && call.ringing_ns.is_none() {
                    call.ringing_ns = Some(f.time_ns);
                }
                if (200..300).contains(&code) && call.answer_ns.is_none() {
                    call.answer_ns = Some(f.time_ns);
                }
                if code >= 200 {
                    call.final_status = Some(code);
                }
            }
            _ => {}
        }
        if is_sdp && let Ok(session) = sdp::parse(&m.body) {
            self.learn_sdp(idx, from_caller, &session);
        }
        Class::Decoded
    }

    fn learn_sdp(&mut self, idx: usize, from_caller: bool, s: &sdp::Session) {
        self.register_media(Some(idx), s);
        let Some(media) = s.first_rtp() else { return };
        let call = &mut self.calls[idx];
        for (pt, c) in &media.formats {
            if let Some(c) = c
                && !call.payloads.iter().any(|(p, _)| p == pt)
            {
                call.payloads.push((*pt, c.clone()));
            }
        }
        let names: Vec<String> = media
            .formats
            .iter()
            .map(|(pt, c)| {
                c.as_ref()
                    .map_or_else(|| format!("PT {pt}"), |c| c.name.clone())
            })
            .collect();
        if !from_caller || call.codecs.is_empty() {
            call.codecs = names;
        }
        for m in s
            .media
            .iter()
            .filter(|m| m.port != 0 && m.proto.contains("RTP") && m.media == media.media)
        {
            if let Some(ip) = m.address {
                if from_caller {
                    call.caller_media = Some(SocketAddr::new(ip, m.port));
                } else {
                    call.callee_media = Some(SocketAddr::new(ip, m.port));
                }
            }
        }
    }

    /// Remembers which address:port receives RTP, RTCP or something else (T.38) per SDP.
    fn register_media(&mut self, call: Option<usize>, s: &sdp::Session) {
        for m in s.media.iter().filter(|m| m.port != 0) {
            let Some(ip) = m.address else { continue };
            let rtp = SocketAddr::new(ip, m.port);
            if !m.proto.contains("RTP") {
                self.endpoints.insert(
                    rtp,
                    Endpoint {
                        call,
                        kind: MediaKind::Other,
                    },
                );
                continue;
            }
            let rtcp = SocketAddr::new(ip, m.rtcp_port);
            self.endpoints.insert(
                rtp,
                Endpoint {
                    call,
                    kind: MediaKind::Rtp,
                },
            );
            if rtcp != rtp {
                self.endpoints.insert(
                    rtcp,
                    Endpoint {
                        call,
                        kind: MediaKind::Rtcp,
                    },
                );
            }
        }
    }

    /// PRIVATE_ADDRESS_IN_SIGNALLING and ALG signs for one message from `src`.
    fn signalling_addresses(&mut self, idx: usize, src: SocketAddr, m: &Message) {
        if is_private_or_cgnat(src.ip()) || src.ip().is_loopback() {
            return;
        }
        let mut found: Vec<(String, IpAddr)> = Vec::new();
        if let Some(v) = m.top_via()
            && let Some(ip) = host_ip(&v.host)
        {
            found.push(("Via".into(), ip));
        }
        if let Some(c) = m.header("Contact")
            && let Some(ip) = NameAddr::parse(c).ok().and_then(|n| host_ip(&n.uri))
        {
            found.push(("Contact".into(), ip));
        }
        let is_request = matches!(m.start, StartLine::Request { .. });
        let mut sdp_o = None;
        let mut sdp_c = None;
        if m.body.starts_with(b"v=")
            && let Ok(s) = sdp::parse(&m.body)
        {
            sdp_o = s
                .origin_address
                .as_deref()
                .and_then(|a| a.parse::<IpAddr>().ok());
            sdp_c = s.first_rtp().and_then(|m| m.address);
            if let Some(ip) = sdp_c {
                found.push(("SDP c=".into(), ip));
            }
        }
        let call = &mut self.calls[idx];
        for (what, ip) in &found {
            // A Via in a response was written by the request's sender: only requests count.
            if what == "Via" && !is_request {
                continue;
            }
            if is_private_or_cgnat(*ip)
                && !call
                    .private_addresses
                    .iter()
                    .any(|(w, a, _)| w == what && *a == ip.to_string())
            {
                call.private_addresses
                    .push((what.clone(), ip.to_string(), src.ip()));
            }
        }
        // An ALG rewrites c= to the public address and often leaves o= untouched.
        if let (Some(o), Some(c)) = (sdp_o, sdp_c)
            && is_private_or_cgnat(o)
            && c == src.ip()
        {
            let sign = format!(
                "SDP from {} has c={} (the public source) but o={} (private): rewritten on the way, as a SIP ALG does",
                src.ip(),
                c,
                o
            );
            if !call.alg_signs.contains(&sign) {
                call.alg_signs.push(sign);
            }
        }
        if is_request
            && let Some(v) = m.top_via()
            && let Some(via_ip) = host_ip(&v.host)
            && via_ip == src.ip()
            && let Some((_, cip)) = found.iter().find(|(w, _)| w == "Contact")
            && is_private_or_cgnat(*cip)
        {
            let sign = format!(
                "request from {} has Via {} (the public source) but Contact {} (private): Via was rewritten, as a SIP ALG does",
                src.ip(),
                via_ip,
                cip
            );
            if !call.alg_signs.contains(&sign) {
                call.alg_signs.push(sign);
            }
        }
    }

    /// Whether the destination of a stream ever sent RTP back to its source.
    pub fn has_return(&self, s: &RtpStream) -> bool {
        self.streams
            .iter()
            .any(|o| o.src == s.dst && o.dst == s.src)
            || self
                .streams
                .iter()
                .any(|o| o.src.ip() == s.dst.ip() && o.dst.ip() == s.src.ip())
    }
}

/// The SDP body of an MGCP message (RFC 3435 §3.1: commands like CRCX/MDCX and their
/// responses on ports 2427/2727), whose SDP also announces RTP endpoints.
fn mgcp_sdp(src: SocketAddr, dst: SocketAddr, p: &[u8]) -> Option<&[u8]> {
    const VERBS: [&[u8]; 9] = [
        b"CRCX ", b"MDCX ", b"DLCX ", b"RQNT ", b"NTFY ", b"AUEP ", b"AUCX ", b"RSIP ", b"EPCF ",
    ];
    let on_port = [2427, 2727].contains(&src.port()) || [2427, 2727].contains(&dst.port());
    let is_mgcp = VERBS.iter().any(|v| p.starts_with(v))
        || (on_port && p.len() > 4 && p[..3].iter().all(u8::is_ascii_digit) && p[3] == b' ');
    if !is_mgcp {
        return None;
    }
    let body = find(p, b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| find(p, b"\n\n").map(|i| i + 2))?;
    p.get(body..).filter(|b| b.starts_with(b"v="))
}

/// The SDP descriptors inside a text-encoded MEGACO/H.248 message (ITU-T H.248.1 Annex B):
/// each `Local { … }` / `Remote { … }` body that starts with `v=`.
fn megaco_sdps(p: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = p;
    while let Some(i) = find(rest, b"v=0") {
        let body = &rest[i..];
        let end = body.iter().position(|b| *b == b'}').unwrap_or(body.len());
        out.push(&body[..end]);
        rest = &body[end..];
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The first line start (after a LF) in `data` where a SIP message begins.
fn find_start(data: &[u8]) -> Option<usize> {
    let window = &data[..data.len().min(64 * 1024)];
    if looks_like_start(window) {
        return Some(0);
    }
    window
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
        .find(|&i| i < window.len() && looks_like_start(&window[i..]))
}

enum WsFrame {
    Need,
    Bad,
    Frame { len: usize, payload: Vec<u8> },
}

/// One WebSocket frame (RFC 6455 §5.2), unmasked.
fn ws_frame(d: &[u8]) -> WsFrame {
    if d.len() < 2 {
        return WsFrame::Need;
    }
    let masked = d[1] & 0x80 != 0;
    let (len, mut off) = match d[1] & 0x7f {
        126 => match d.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return WsFrame::Need,
        },
        127 => match d.get(2..10) {
            Some(b) => (u64::from_be_bytes(b.try_into().unwrap_or([0; 8])), 10),
            None => return WsFrame::Need,
        },
        n => (u64::from(n), 2),
    };
    if len > 1 << 24 {
        return WsFrame::Bad;
    }
    let mask = if masked {
        let Some(k) = d.get(off..off + 4) else {
            return WsFrame::Need;
        };
        off += 4;
        Some([k[0], k[1], k[2], k[3]])
    } else {
        None
    };
    let end = off + len as usize;
    let Some(body) = d.get(off..end) else {
        return WsFrame::Need;
    };
    let payload = match mask {
        Some(k) => body.iter().enumerate().map(|(i, b)| b ^ k[i % 4]).collect(),
        None => body.to_vec(),
    };
    WsFrame::Frame { len: end, payload }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_ip_reads_via_and_uris() {
        assert_eq!(host_ip("10.0.0.1:5060"), "10.0.0.1".parse().ok());
        assert_eq!(
            host_ip("sip:alice@192.168.1.2:5062;transport=udp"),
            "192.168.1.2".parse().ok()
        );
        assert_eq!(
            host_ip("<sip:bob@[2001:db8::1]:5060>"),
            "2001:db8::1".parse().ok()
        );
        assert_eq!(host_ip("sip:example.com"), None);
    }

    #[test]
    fn websocket_frames_are_unmasked() {
        let text = b"OPTIONS sip:a SIP/2.0\r\n\r\n";
        let key = [1u8, 2, 3, 4];
        let mut f = vec![0x81, 0x80 | text.len() as u8];
        f.extend_from_slice(&key);
        f.extend(text.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        match ws_frame(&f) {
            WsFrame::Frame { len, payload } => {
                assert_eq!(len, f.len());
                assert_eq!(payload, text);
            }
            _ => panic!("frame expected"),
        }
        assert!(matches!(ws_frame(&f[..5]), WsFrame::Need));
    }

    #[test]
    fn resynchronises_on_a_start_line() {
        let d = b"tail of a body\r\nINVITE sip:x@y SIP/2.0\r\n";
        assert_eq!(find_start(d), Some(16));
        assert_eq!(find_start(b"no sip here\r\n"), None);
    }
}

#[cfg(test)]
mod robustness {
    use super::*;

    /// Random and mutated frames of every link type: accounting always adds up, no panic.
    /// (The cargo-fuzz target in fuzz/ does the same without bounds.)
    #[test]
    fn random_frames_never_panic_and_always_add_up() {
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        // A valid Ethernet/IPv4/UDP frame carrying RTP to mutate from.
        let mut base = Vec::new();
        etherparse::PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4([192, 0, 2, 1], [192, 0, 2, 2], 64)
            .udp(40000, 40002)
            .write(
                &mut base,
                &[0x80, 0x08, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4, 0xd5, 0xd5],
            )
            .unwrap();
        let mut a = Analysis::new(Options {
            rtp_heuristics: true,
        });
        for i in 0..20_000u64 {
            let mut f = base.clone();
            let n = (next() % 6) as usize;
            for _ in 0..n {
                let at = (next() as usize) % f.len();
                f[at] = next() as u8;
            }
            f.truncate(((next() as usize) % (f.len() + 1)).max(if i % 3 == 0 {
                0
            } else {
                f.len()
            }));
            let linktype = [0, 1, 101, 108, 113, 228, 229, 276][(next() % 8) as usize];
            a.frame(&Frame {
                number: i + 1,
                time_ns: i as i64 * 20_000_000,
                linktype,
                data: &f,
                orig_len: f.len() as u32,
            });
        }
        a.finish();
        let p = a.packets;
        assert_eq!(p.total, 20_000);
        assert_eq!(p.total, p.decoded + p.ignored + p.malformed);
        assert!(p.decoded > 0 && p.malformed > 0, "{p:?}");
    }
}
