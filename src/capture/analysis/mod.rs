//! The VoIP analysis of a capture, fed one frame at a time: SIP dialogs (with their SDP),
//! RTP streams on SDP-learned ports (or found heuristically), RTCP, STUN (also multiplexed
//! on media flows, RFC 7983) and RFC 4733 events; every frame is counted as decoded,
//! ignored or malformed. No I/O: frames and their times come in, an [`Analysis`] comes out.
//!
//! Memory is bounded by the dialogs and streams in the capture, not by its size: per stream
//! the statistics are constant-size, per TCP direction at most a bounded buffer.

use std::collections::BTreeMap;

use super::FastMap;
use super::bounded::BoundedMap;
use crate::diagnose::capture::{Evicted, Limits, PacketCounts, StunRecord};
use std::net::SocketAddr;

use super::dissect::{Dissected, Dissector, FlowKey, Payload};
use super::reader::Frame;
use crate::rtp::{self as rtpmod, RtpReceiver, header as rtph};
use crate::sdp;
use crate::sip::message::looks_like_start;
use crate::stun::message as stunmsg;

mod legacy;
mod sip;
mod streams;
mod stun;

use legacy::{megaco_sdps, mgcp_sdp};
use sip::MediaEndpoint;
pub use sip::{Call, SipRecord};
use streams::TcpFlow;

/// Message records kept for the `messages` and `ladder` views.
const MAX_MESSAGES: usize = 50_000;
/// STUN records kept.
const MAX_STUN: usize = 10_000;
/// Distinct malformed reasons kept (counts are always complete).
const MAX_REASONS: usize = 32;
/// INVITE dialogs followed; later ones are counted in the SIP totals only.
pub const MAX_CALLS: usize = 10_000;
/// RTP streams (source, destination, SSRC) with statistics; later ones are counted only.
pub const MAX_STREAMS: usize = 10_000;
/// TCP directions reassembled at once (the oldest is dropped for a new one).
pub const MAX_TCP_FLOWS: usize = 4096;
/// Bytes all TCP directions may buffer together (the oldest are dropped beyond).
pub const MAX_TCP_BYTES: usize = 32 << 20;
/// UDP flows whose lookups [`Analysis`] caches before it starts over.
const MAX_FLOW_CACHE: usize = 1 << 14;

/// The cached lookups of one UDP flow (see `Analysis::flow_cache`).
#[derive(Debug, Clone)]
struct FlowCache {
    /// `endpoints.generation()` when `signalled` was looked up.
    generation: u64,
    signalled: Option<sip::MediaEndpoint>,
    /// The last packet's SSRC and its stream.
    stream: Option<(u32, usize)>,
}

/// SDP-announced media endpoints remembered (the oldest is forgotten for a new one).
pub const MAX_ENDPOINTS: usize = 40_000;
/// UDP flows remembered as carrying STUN, and SCTP associations' last TSN.
pub const MAX_FLOWS: usize = 65_536;
/// SCTP messages reassembled at once (each up to 1 MiB).
pub const MAX_SCTP_MESSAGES: usize = 64;

/// What the analysis should do beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Decode RTP/RTCP on any UDP flow that looks like it, not only on SDP-signalled ports.
    pub rtp_heuristics: bool,
}

/// One RTP stream: an SSRC from a source to a destination, with its receiver state.
#[derive(Debug, Clone)]
pub struct RtpStream {
    /// Source.
    pub src: SocketAddr,
    /// Destination.
    pub dst: SocketAddr,
    /// Index into [`Analysis::calls`] when signalled.
    pub call: Option<usize>,
    /// The per-SSRC receiver: statistics, payload types, DTMF, RTCP report, quality.
    pub receiver: RtpReceiver,
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
    /// Per UDP flow on the media path: what the last packet's lookups found (the SDP
    /// endpoint, valid while `endpoints` is unchanged, and the stream of its SSRC), so the
    /// next packet of the flow takes one lookup instead of three. A cache: cleared when it
    /// holds [`MAX_FLOW_CACHE`] flows.
    flow_cache: FastMap<FlowKey, FlowCache>,
    endpoints: BoundedMap<SocketAddr, MediaEndpoint, MAX_ENDPOINTS>,
    stun_flows: BoundedMap<(SocketAddr, SocketAddr), (), MAX_FLOWS>,
    tcp: BoundedMap<(SocketAddr, SocketAddr), TcpFlow, MAX_TCP_FLOWS>,
    /// Bytes the TCP directions in `tcp` hold.
    tcp_bytes: usize,
    sctp: BoundedMap<(SocketAddr, SocketAddr, u16), Vec<u8>, MAX_SCTP_MESSAGES>,
    sctp_tsn: BoundedMap<(SocketAddr, SocketAddr), u32, MAX_FLOWS>,
    /// Calls and streams not kept (the maps count their own evictions).
    not_kept: Evicted,
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

    /// What bounds on the analysis' state left out.
    pub fn evicted(&self) -> Evicted {
        Evicted {
            call_invites: self.not_kept.call_invites,
            stream_packets: self.not_kept.stream_packets,
            tcp_flows: self.tcp.evicted + self.not_kept.tcp_flows,
            media_endpoints: self.endpoints.evicted,
            flows: self.stun_flows.evicted + self.sctp.evicted + self.sctp_tsn.evicted,
        }
    }

    /// The bounds of [`Analysis::evicted`], as the report quotes them.
    pub fn limits() -> Limits {
        Limits {
            calls: MAX_CALLS,
            streams: MAX_STREAMS,
            tcp_flows: MAX_TCP_FLOWS,
            tcp_mib: MAX_TCP_BYTES >> 20,
            endpoints: MAX_ENDPOINTS,
        }
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
        if let Some((flow, payload)) = dissector.udp(f.linktype, f.time_ns, f.data) {
            self.dissector = Some(dissector);
            let class = match self.known_rtp(f, &flow, payload) {
                Some(class) => class,
                None => self.udp(f, flow.src(), flow.dst(), payload),
            };
            self.count(class, 1);
            return;
        }
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
            Ok(Dissected::Payload(t, earlier)) => (self.transport(f, &t), earlier),
        };
        self.dissector = Some(dissector);
        if extra == u32::MAX {
            return;
        }
        self.packets.total += u64::from(extra);
        self.count(class, 1 + u64::from(extra));
    }

    /// Counts `n` frames (already in the total) as `class`.
    fn count(&mut self, class: Class, n: u64) {
        match class {
            Class::Decoded => self.packets.decoded += n,
            Class::Ignored => self.packets.ignored += n,
            Class::Malformed => self.packets.malformed += n,
        }
    }

    /// By reference: moving the payload (two socket addresses and a slice) into the call
    /// stalled on the stores that had just written it.
    fn transport(&mut self, f: &Frame<'_>, t: &Payload<'_>) -> Class {
        match *t {
            Payload::Udp { src, dst, payload } => self.udp(f, src, dst, payload),
            Payload::Tcp {
                src,
                dst,
                seq,
                syn,
                fin,
                payload,
            } => self.tcp_segment(f, src, dst, seq, syn, fin, payload),
            Payload::Sctp { src, dst, chunks } => {
                let mut class = Class::Ignored;
                for c in chunks {
                    // Retransmitted chunks repeat a TSN already seen.
                    let last = self
                        .sctp_tsn
                        .get_or_insert_with((src, dst), || c.tsn.wrapping_sub(1));
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
                self.stun_flows.insert(flow_key(src, dst), ());
                return self.stun_message(f, src, dst, "UDP", p);
            }
            if let Some(class) = self.classic_stun(f, src, dst, p) {
                return class;
            }
        }
        if (128..192).contains(&first) {
            let generation = self.endpoints.generation();
            let flow = FlowKey::new(src, dst);
            let (signalled, last_stream) = match self.flow_cache.get(&flow) {
                Some(c) if c.generation == generation => (c.signalled.clone(), c.stream),
                _ => {
                    let signalled = self
                        .endpoints
                        .get(&dst)
                        .or_else(|| self.endpoints.get(&src))
                        .cloned();
                    if self.flow_cache.len() >= MAX_FLOW_CACHE {
                        self.flow_cache.clear();
                    }
                    let cache = FlowCache {
                        generation,
                        signalled: signalled.clone(),
                        stream: None,
                    };
                    self.flow_cache.insert(flow, cache);
                    (signalled, None)
                }
            };
            if signalled
                .as_ref()
                .is_some_and(|e| e.kind == sip::MediaKind::Other)
            {
                return Class::Ignored;
            }
            // RFC 7983 demultiplexing on a flow that carried STUN: on the STUN/TURN ports it is
            // part of decoding (as in Wireshark); elsewhere it is a heuristic.
            let stun_port = |a: SocketAddr| [3478, 3479, 5349].contains(&a.port());
            let on_stun_flow = !self.stun_flows.is_empty()
                && self.stun_flows.contains_key(&flow_key(src, dst))
                && (self.opts.rtp_heuristics || stun_port(src) || stun_port(dst));
            // Heuristic RTP stays off well-known service ports (DNS, NetBIOS, …).
            let heuristic = self.opts.rtp_heuristics && src.port() >= 1024 && dst.port() >= 1024;
            if signalled.is_some() || on_stun_flow || heuristic {
                if rtph::looks_like_rtcp(p) {
                    return self.rtcp(p);
                }
                if signalled
                    .as_ref()
                    .is_some_and(|e| e.kind == sip::MediaKind::Rtcp)
                    && !on_stun_flow
                {
                    return self.malformed("RTCP on a signalled RTCP port does not parse".into());
                }
                if rtph::looks_like_rtp(p) {
                    let call = signalled.and_then(|e| e.call);
                    return self.rtp(f, (src, dst, flow), p, call, last_stream);
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

    fn rtcp(&mut self, p: &[u8]) -> Class {
        match rtpmod::rtcp::parse(p) {
            Ok(c) => {
                self.rtcp_packets += 1;
                for r in &c.reports {
                    // Attach what the reporter says to every stream with that SSRC.
                    for s in self
                        .streams
                        .iter_mut()
                        .filter(|s| s.receiver.ssrc == r.source)
                    {
                        s.receiver.rtcp_report = Some((r.fraction_lost, r.jitter));
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

    /// The fast path of a capture full of calls: an RTP packet on a flow whose SDP endpoint
    /// (RTP, still current) and last stream the flow cache holds, with that stream's SSRC.
    /// Does what [`Analysis::udp`] does for it, without socket addresses; `None` (having
    /// changed nothing) for every other datagram, which `udp` then takes.
    #[inline(always)]
    fn known_rtp(&mut self, f: &Frame<'_>, flow: &FlowKey, p: &[u8]) -> Option<Class> {
        if !(128..192).contains(p.first()?) {
            return None;
        }
        let cached = self.flow_cache.get(flow)?;
        let (ssrc, idx) = cached.stream?;
        if cached.generation != self.endpoints.generation()
            || cached.signalled.as_ref()?.kind != sip::MediaKind::Rtp
            || rtph::looks_like_rtcp(p)
            || !rtph::looks_like_rtp(p)
        {
            return None;
        }
        let h = rtph::parse(p).ok().filter(|h| h.ssrc == ssrc)?;
        self.streams
            .get_mut(idx)?
            .receiver
            .receive(f.time_ns, &h, p);
        Some(Class::Decoded)
    }

    fn rtp(
        &mut self,
        f: &Frame<'_>,
        (src, dst, flow): (SocketAddr, SocketAddr, FlowKey),
        p: &[u8],
        call: Option<usize>,
        last_stream: Option<(u32, usize)>,
    ) -> Class {
        let h = match rtph::parse(p) {
            Ok(h) => h,
            Err(e) => return self.malformed(e.to_string()),
        };
        if let Some((ssrc, idx)) = last_stream
            && ssrc == h.ssrc
            && let Some(s) = self.streams.get_mut(idx)
        {
            s.receiver.receive(f.time_ns, &h, p);
            return Class::Decoded;
        }
        let key = (src, dst, h.ssrc);
        let idx = match self.stream_index.get(&key) {
            Some(i) => *i,
            None if self.streams.len() >= MAX_STREAMS => {
                self.not_kept.stream_packets += 1;
                return Class::Decoded;
            }
            None => {
                let codecs = call
                    .map(|c| self.calls[c].payloads.clone())
                    .unwrap_or_default();
                self.streams.push(RtpStream {
                    src,
                    dst,
                    call,
                    receiver: RtpReceiver::new(h.ssrc, codecs),
                });
                self.stream_index.insert(key, self.streams.len() - 1);
                if let Some(c) = call {
                    self.check_media_source(c, src, dst);
                }
                self.streams.len() - 1
            }
        };
        if let Some(c) = self.flow_cache.get_mut(&flow) {
            c.stream = Some((h.ssrc, idx));
        }
        if let Some(s) = self.streams.get_mut(idx) {
            s.receiver.receive(f.time_ns, &h, p);
        }
        Class::Decoded
    }
}

#[cfg(test)]
mod robustness {
    use super::*;

    /// Random and mutated frames of every link type: accounting always adds up, no panic.
    /// (The cargo-fuzz target in fuzz/ does the same without bounds.)
    #[test]
    fn random_frames_never_panic_and_always_add_up() {
        let mut next = crate::capture::xorshift(0x9E37_79B9_7F4A_7C15);
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

    fn frame_of(src: ([u8; 4], u16), dst: ([u8; 4], u16), tcp: bool, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let b = etherparse::PacketBuilder::ethernet2([1; 6], [2; 6]).ipv4(src.0, dst.0, 64);
        if tcp {
            b.tcp(src.1, dst.1, 1000, 65535).write(&mut out, payload)
        } else {
            b.udp(src.1, dst.1).write(&mut out, payload)
        }
        .unwrap();
        out
    }

    /// A capture of many small flows meets the bounds: what is kept stays within them and
    /// what is not is counted; frame accounting still adds up.
    #[test]
    fn many_flows_stay_within_the_bounds() {
        let mut a = Analysis::new(Options {
            rtp_heuristics: true,
        });
        let mut n = 0u64;
        let mut feed = |a: &mut Analysis, data: Vec<u8>| {
            n += 1;
            a.frame(&Frame {
                number: n,
                time_ns: n as i64 * 1000,
                linktype: 1,
                data: &data,
                orig_len: data.len() as u32,
            });
        };
        let host = |i: usize| -> [u8; 4] { [10, (i >> 16) as u8, (i >> 8) as u8, i as u8] };
        for i in 0..MAX_STREAMS + 50 {
            let mut rtp = vec![0x80, 0x00, 0, 1, 0, 0, 0, 160];
            rtp.extend_from_slice(&(i as u32).to_be_bytes());
            rtp.extend_from_slice(&[0xd5; 20]);
            feed(
                &mut a,
                frame_of((host(i), 40000), ([192, 0, 2, 1], 40002), false, &rtp),
            );
        }
        for i in 0..MAX_TCP_FLOWS + 30 {
            let partial = b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 900\r\n\r\nv=0";
            feed(
                &mut a,
                frame_of((host(i), 5060), ([192, 0, 2, 1], 5060), true, partial),
            );
        }
        for i in 0..MAX_CALLS + 20 {
            let invite = format!(
                "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK{i}\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: {i}@x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
            );
            feed(
                &mut a,
                frame_of(
                    (host(i), 5060),
                    ([192, 0, 2, 1], 5060),
                    false,
                    invite.as_bytes(),
                ),
            );
        }
        a.finish();
        assert_eq!(a.streams.len(), MAX_STREAMS);
        assert_eq!(a.calls.len(), MAX_CALLS);
        assert!(a.tcp.len() <= MAX_TCP_FLOWS);
        let e = a.evicted();
        assert_eq!(e.stream_packets, 50);
        assert_eq!(e.call_invites, 20);
        assert_eq!(e.tcp_flows, 30);
        let p = a.packets;
        assert_eq!(p.total, p.decoded + p.ignored + p.malformed);
        assert_eq!(p.total, n);
    }
}
