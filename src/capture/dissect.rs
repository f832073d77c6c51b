//! From a captured frame to a transport payload: link layers (Ethernet with 802.1Q/QinQ,
//! Linux cooked capture v1 and v2, raw IP, BSD loopback), tunnels (IP-in-IP, GRE including
//! PPP-in-GRE and ERSPAN), IPv4/IPv6 fragment reassembly, and UDP, TCP and SCTP.
//!
//! etherparse does the header slicing and the reassembly. It has no SLL2, BSD-loopback,
//! GRE/ERSPAN or SCTP support; that glue is here, and only here.

use std::net::{IpAddr, SocketAddr};

use etherparse::defrag::IpDefragPool;
use etherparse::{
    EtherType, Ethernet2Slice, IpNumber, IpSlice, Ipv4Slice, Ipv6Slice, NetSlice, SlicedPacket,
    TcpSlice, TransportSlice, UdpSlice,
};

/// Link types we read (LINKTYPE_* values from the pcap registry).
pub mod linktype {
    /// BSD loopback: 4-byte address family in host byte order.
    pub const NULL: i32 = 0;
    /// Ethernet II.
    pub const ETHERNET: i32 = 1;
    /// Raw IP (also 12 and 14 on some systems).
    pub const RAW: i32 = 101;
    /// OpenBSD loopback: 4-byte address family in network byte order.
    pub const LOOP: i32 = 108;
    /// Linux cooked capture v1 (16-byte header).
    pub const LINUX_SLL: i32 = 113;
    /// Raw IPv4.
    pub const IPV4: i32 = 228;
    /// Raw IPv6.
    pub const IPV6: i32 = 229;
    /// Linux cooked capture v2 (20-byte header).
    pub const LINUX_SLL2: i32 = 276;
}

/// Fragments older than this (capture time) are dropped.
const FRAGMENT_TIMEOUT_NS: i64 = 30_000_000_000;
/// Partially reassembled datagrams kept at once; beyond this the oldest are dropped.
const MAX_PENDING_DATAGRAMS: usize = 4096;
/// Tunnel nesting we follow.
const MAX_DEPTH: u8 = 4;

/// The transport-layer content of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload<'a> {
    /// A UDP datagram.
    Udp {
        /// Source address and port.
        src: SocketAddr,
        /// Destination address and port.
        dst: SocketAddr,
        /// Payload.
        payload: &'a [u8],
    },
    /// A TCP segment.
    Tcp {
        /// Source.
        src: SocketAddr,
        /// Destination.
        dst: SocketAddr,
        /// Sequence number.
        seq: u32,
        /// SYN flag.
        syn: bool,
        /// FIN or RST: the direction ends.
        fin: bool,
        /// Payload.
        payload: &'a [u8],
    },
    /// The DATA chunks of an SCTP packet (RFC 9260 §3.3.1).
    Sctp {
        /// Source.
        src: SocketAddr,
        /// Destination.
        dst: SocketAddr,
        /// The DATA chunks, in order (chunk lengths already checked).
        chunks: SctpChunks<'a>,
    },
}

/// One SCTP DATA chunk (RFC 9260 §3.3.1): a user message or a fragment of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SctpData<'a> {
    /// Transmission sequence number.
    pub tsn: u32,
    /// Stream identifier.
    pub stream: u16,
    /// B bit: first fragment.
    pub begin: bool,
    /// E bit: last fragment.
    pub end: bool,
    /// User data.
    pub data: &'a [u8],
}

/// The chunks of an SCTP packet after its common header, their lengths checked by the
/// dissector; iterating yields the DATA chunks (type 0) as [`SctpData`].
///
/// A view rather than a `Vec`: with no heap part, a [`Payload`] needs no drop, and dropping
/// one (for the `Vec` of this variant) made `Analysis::frame` reload a word of the UDP
/// variant it had just written, a store-forwarding stall on every frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SctpChunks<'a>(&'a [u8]);

impl<'a> IntoIterator for SctpChunks<'a> {
    type Item = SctpData<'a>;
    type IntoIter = SctpDataIter<'a>;

    fn into_iter(self) -> SctpDataIter<'a> {
        SctpDataIter(self.0)
    }
}

/// The DATA chunks of [`SctpChunks`], in order; stops at the first chunk whose length does
/// not fit (which the dissector has already reported as malformed).
#[derive(Debug, Clone)]
pub struct SctpDataIter<'a>(&'a [u8]);

impl<'a> Iterator for SctpDataIter<'a> {
    type Item = SctpData<'a>;

    fn next(&mut self) -> Option<SctpData<'a>> {
        loop {
            let (c, rest) = sctp_chunk(self.0)?.ok()?;
            self.0 = rest;
            if c[0] == 0 && c.len() >= 16 {
                return Some(SctpData {
                    tsn: u32::from_be_bytes([c[4], c[5], c[6], c[7]]),
                    stream: u16::from_be_bytes([c[8], c[9]]),
                    begin: c[1] & 0x02 != 0,
                    end: c[1] & 0x01 != 0,
                    data: &c[16..],
                });
            }
        }
    }
}

/// An SCTP chunk (padding left out) and the bytes after it.
type ChunkAndRest<'a> = (&'a [u8], &'a [u8]);

/// The first SCTP chunk of `p` (RFC 9260 §3.2: type, flags, a length counting the 4-byte
/// chunk header but not the padding to a multiple of 4) and what follows it: `None` when
/// fewer than 4 bytes are left, `Err(length)` when the length does not fit.
fn sctp_chunk(p: &[u8]) -> Option<Result<ChunkAndRest<'_>, usize>> {
    let len = usize::from(u16_at(p, 2)?);
    if len < 4 || len > p.len() {
        return Some(Err(len));
    }
    Some(Ok((&p[..len], p.get(len.div_ceil(4) * 4..).unwrap_or(&[]))))
}

/// What a frame turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dissected<'a> {
    /// A transport payload; `fragments` is how many earlier frames (IP fragments) it was
    /// reassembled from, besides this one.
    Payload(Payload<'a>, u32),
    /// An IP fragment held until its datagram is complete.
    Fragment,
    /// Something we do not decode (ARP, ICMP, another link or IP protocol): why.
    Other(String),
}

/// A UDP flow's source and destination packed into three words: the key of the analysis'
/// per-flow cache, looked up once per RTP packet. It hashes in three steps where a
/// `(SocketAddr, SocketAddr)` takes a dozen (enum tags, octet slices and their lengths), and
/// [`Dissector::udp`] builds it from the headers without building socket addresses, which
/// the analysis only needs off its fast path ([`FlowKey::src`], [`FlowKey::dst`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    /// Source address (an IPv4 address in the low 32 bits).
    src: u128,
    /// Destination address, likewise.
    dst: u128,
    /// Source port (bits 16–31), destination port (bits 0–15), and bits 32 and 33 set when
    /// the source and destination address are IPv6.
    ports: u64,
}

impl FlowKey {
    /// The key of the flow from `src` to `dst`.
    pub fn new(src: SocketAddr, dst: SocketAddr) -> Self {
        fn word(a: SocketAddr) -> (u128, bool) {
            match a {
                SocketAddr::V4(a) => (u128::from(u32::from(*a.ip())), false),
                SocketAddr::V6(a) => (u128::from(*a.ip()), true),
            }
        }
        Self::from_parts(word(src), src.port(), word(dst), dst.port())
    }

    /// The key from each side's address (an IPv4 one in the low 32 bits) with whether it is
    /// IPv6, and port.
    fn from_parts(src: (u128, bool), sport: u16, dst: (u128, bool), dport: u16) -> Self {
        Self {
            src: src.0,
            dst: dst.0,
            ports: u64::from(sport) << 16
                | u64::from(dport)
                | u64::from(src.1) << 32
                | u64::from(dst.1) << 33,
        }
    }

    fn endpoint(address: u128, port: u64, v6: bool) -> SocketAddr {
        let port = (port & 0xffff) as u16;
        if v6 {
            SocketAddr::new(IpAddr::V6(address.into()), port)
        } else {
            SocketAddr::new(IpAddr::V4((address as u32).into()), port)
        }
    }

    /// The source address and port.
    pub fn src(&self) -> SocketAddr {
        Self::endpoint(self.src, self.ports >> 16, self.ports & 1 << 32 != 0)
    }

    /// The destination address and port.
    pub fn dst(&self) -> SocketAddr {
        Self::endpoint(self.dst, self.ports, self.ports & 1 << 33 != 0)
    }
}

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub String);

type FragKey = (IpAddr, IpAddr, u32);

/// The stateful part of dissection: IP reassembly. One per capture.
#[derive(Default)]
pub struct Dissector {
    pool: IpDefragPool<i64, ()>,
    /// Frames held per datagram being reassembled, to account for them once it completes.
    held: super::FastMap<FragKey, (u32, i64)>,
    reassembled: Vec<u8>,
    frames: u64,
    /// Frames of datagrams given up on when too many were pending.
    dropped: u64,
}

impl std::fmt::Debug for Dissector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dissector")
            .field("held", &self.held.len())
            .finish()
    }
}

fn malformed(e: impl std::fmt::Display) -> Malformed {
    Malformed(e.to_string())
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

impl Dissector {
    /// A dissector with empty reassembly state.
    pub fn new() -> Self {
        Self::default()
    }

    /// The common case, sliced the short way: a UDP datagram in an unfragmented IPv4 or
    /// IPv6 packet, on Ethernet (no VLAN tag) or raw IP. Returns its flow and payload, or
    /// `None` for every other frame, malformed ones included, which [`Dissector::dissect`]
    /// then takes (and counts); a frame accepted here is what `dissect` would have given as
    /// a [`Payload::Udp`] with the same addresses and payload.
    ///
    /// The same etherparse slicers as `SlicedPacket` uses, without its cursor: the cursor's
    /// and the [`Dissected`] enum's moves through memory stalled on the stores that had
    /// just written them (store forwarding), on every frame.
    #[inline(always)]
    pub fn udp<'a>(
        &mut self,
        linktype: i32,
        time_ns: i64,
        data: &'a [u8],
    ) -> Option<(FlowKey, &'a [u8])> {
        let ip = match linktype {
            linktype::ETHERNET => {
                let eth = Ethernet2Slice::from_slice_without_fcs(data).ok()?;
                match eth.ether_type() {
                    EtherType::IPV4 => {
                        IpSlice::Ipv4(Ipv4Slice::from_slice(eth.payload_slice()).ok()?)
                    }
                    EtherType::IPV6 => {
                        IpSlice::Ipv6(Ipv6Slice::from_slice(eth.payload_slice()).ok()?)
                    }
                    _ => return None,
                }
            }
            linktype::RAW | 12 | 14 | linktype::IPV4 | linktype::IPV6 => {
                IpSlice::from_slice(data).ok()?
            }
            _ => return None,
        };
        let payload = ip.payload();
        if payload.fragmented || payload.ip_number != IpNumber::UDP {
            return None;
        }
        let udp = UdpSlice::from_slice(payload.payload).ok()?;
        let (src, dst) = match &ip {
            IpSlice::Ipv4(v4) => (
                (u128::from(u32::from_be_bytes(v4.header().source())), false),
                (
                    u128::from(u32::from_be_bytes(v4.header().destination())),
                    false,
                ),
            ),
            IpSlice::Ipv6(v6) => (
                (u128::from_be_bytes(v6.header().source()), true),
                (u128::from_be_bytes(v6.header().destination()), true),
            ),
        };
        self.frames += 1;
        if self.frames.is_multiple_of(4096) {
            self.expire(time_ns);
        }
        let flow = FlowKey::from_parts(src, udp.source_port(), dst, udp.destination_port());
        Some((flow, udp.payload()))
    }

    /// Frames still held in incomplete IP datagrams.
    pub fn held_fragments(&self) -> u64 {
        self.dropped + self.held.values().map(|(n, _)| u64::from(*n)).sum::<u64>()
    }

    /// Dissects one frame of the given link type captured at `time_ns`.
    ///
    /// Errors: [`Malformed`] with the reason when a header is cut or inconsistent.
    pub fn dissect<'a>(
        &'a mut self,
        linktype: i32,
        time_ns: i64,
        data: &'a [u8],
    ) -> Result<Dissected<'a>, Malformed> {
        self.frames += 1;
        if self.frames.is_multiple_of(4096) {
            self.expire(time_ns);
        }
        let sliced = match linktype {
            linktype::ETHERNET => SlicedPacket::from_ethernet(data),
            linktype::RAW | 12 | 14 | linktype::IPV4 | linktype::IPV6 => {
                SlicedPacket::from_ip(data)
            }
            linktype::LINUX_SLL => {
                let proto = u16_at(data, 14).ok_or_else(|| malformed("SLL header cut short"))?;
                SlicedPacket::from_ether_type(EtherType(proto), &data[16..])
            }
            linktype::LINUX_SLL2 => {
                let proto = u16_at(data, 0).ok_or_else(|| malformed("SLL2 header cut short"))?;
                let rest = data
                    .get(20..)
                    .ok_or_else(|| malformed("SLL2 header cut short"))?;
                SlicedPacket::from_ether_type(EtherType(proto), rest)
            }
            linktype::NULL | linktype::LOOP => {
                let fam = data
                    .get(..4)
                    .ok_or_else(|| malformed("loopback header cut short"))?;
                let fam = if linktype == linktype::NULL {
                    u32::from_le_bytes([fam[0], fam[1], fam[2], fam[3]])
                        .min(u32::from_be_bytes([fam[0], fam[1], fam[2], fam[3]]))
                } else {
                    u32::from_be_bytes([fam[0], fam[1], fam[2], fam[3]])
                };
                match fam {
                    2 | 24 | 28 | 30 => SlicedPacket::from_ip(&data[4..]),
                    other => return Ok(Dissected::Other(format!("loopback family {other}"))),
                }
            }
            other => return Ok(Dissected::Other(format!("link type {other}"))),
        };
        // Sliced in place and passed by reference: moving the ~200-byte `SlicedPacket` out
        // of its `Result` (`map_err(..)?`) cost a store-forwarding stall per frame.
        match &sliced {
            Ok(sliced) => self.sliced(sliced, time_ns, 0),
            Err(e) => Err(malformed(e)),
        }
    }

    /// The transport payload of a sliced packet: tunnels followed, fragments reassembled.
    fn sliced<'a>(
        &'a mut self,
        sliced: &SlicedPacket<'a>,
        time_ns: i64,
        depth: u8,
    ) -> Result<Dissected<'a>, Malformed> {
        let (src, dst) = match &sliced.net {
            Some(NetSlice::Ipv4(v4)) => (
                IpAddr::V4(v4.header().source_addr()),
                IpAddr::V4(v4.header().destination_addr()),
            ),
            Some(NetSlice::Ipv6(v6)) => (
                IpAddr::V6(v6.header().source_addr()),
                IpAddr::V6(v6.header().destination_addr()),
            ),
            Some(NetSlice::Arp(_)) => return Ok(Dissected::Other("ARP".into())),
            None => {
                let what = sliced.payload_ether_type().map_or_else(
                    || "non-IP frame".to_string(),
                    |t| format!("ethertype 0x{:04x}", t.0),
                );
                return Ok(Dissected::Other(what));
            }
        };
        let Some(ip) = sliced.ip_payload() else {
            return Ok(Dissected::Other("IP without payload".into()));
        };
        if ip.fragmented {
            let id = match &sliced.net {
                Some(NetSlice::Ipv4(v4)) => u32::from(v4.header().identification()),
                _ => 0,
            };
            let key = (src, dst, id);
            let done = self
                .pool
                .process_sliced_packet(sliced, time_ns, ())
                .map_err(|e| malformed(format!("IP fragment: {e}")))?;
            let entry = self.held.entry(key).or_insert((0, time_ns));
            match done {
                None => {
                    entry.0 += 1;
                    if self.held.len() > MAX_PENDING_DATAGRAMS {
                        self.expire(i64::MAX);
                        self.dropped += self
                            .held
                            .drain()
                            .map(|(_, (n, _))| u64::from(n))
                            .sum::<u64>();
                    }
                    return Ok(Dissected::Fragment);
                }
                Some(datagram) => {
                    let earlier = self.held.remove(&key).map_or(0, |(n, _)| n);
                    let proto = datagram.ip_number.0;
                    self.reassembled.clear();
                    self.reassembled.extend_from_slice(&datagram.payload);
                    self.pool.return_buf(datagram);
                    let payload: &'a [u8] = &self.reassembled;
                    return Ok(match transport_from(proto, src, dst, payload)? {
                        Some(t) => Dissected::Payload(t, earlier),
                        None => Dissected::Other(format!("IP protocol {proto} (reassembled)")),
                    });
                }
            }
        }
        match &sliced.transport {
            Some(TransportSlice::Udp(udp)) => Ok(Dissected::Payload(
                Payload::Udp {
                    src: SocketAddr::new(src, udp.source_port()),
                    dst: SocketAddr::new(dst, udp.destination_port()),
                    payload: udp.payload(),
                },
                0,
            )),
            Some(TransportSlice::Tcp(tcp)) => {
                Ok(Dissected::Payload(tcp_transport(tcp, src, dst), 0))
            }
            Some(_) => Ok(Dissected::Other("ICMP/IGMP".into())),
            None => {
                let proto = ip.ip_number.0;
                let payload = ip.payload;
                if depth >= MAX_DEPTH {
                    return Ok(Dissected::Other("tunnels nested too deep".into()));
                }
                match proto {
                    4 | 41 => {
                        let inner = SlicedPacket::from_ip(payload).map_err(malformed)?;
                        self.sliced(&inner, time_ns, depth + 1)
                    }
                    47 => match gre(payload)? {
                        Some(inner) => self.sliced(&inner, time_ns, depth + 1),
                        None => Ok(Dissected::Other("GRE payload".into())),
                    },
                    _ => Ok(match transport_from(proto, src, dst, payload)? {
                        Some(t) => Dissected::Payload(t, 0),
                        None => Dissected::Other(format!("IP protocol {proto}")),
                    }),
                }
            }
        }
    }

    /// Drops fragments older than the timeout (capture time), or all when `now` is `i64::MAX`.
    fn expire(&mut self, now: i64) {
        let cutoff = now.saturating_sub(FRAGMENT_TIMEOUT_NS);
        self.pool.retain(|t| *t >= cutoff);
        // Dropped datagrams' frames stay in `held`; they are reported as incomplete at the end.
        if now == i64::MAX {
            self.pool.retain(|_| false);
        }
    }
}

fn tcp_transport<'a>(tcp: &TcpSlice<'a>, src: IpAddr, dst: IpAddr) -> Payload<'a> {
    Payload::Tcp {
        src: SocketAddr::new(src, tcp.source_port()),
        dst: SocketAddr::new(dst, tcp.destination_port()),
        seq: tcp.sequence_number(),
        syn: tcp.syn(),
        fin: tcp.fin() || tcp.rst(),
        payload: tcp.payload(),
    }
}

/// UDP, TCP or SCTP from a bare IP payload (after reassembly, or where etherparse stopped).
fn transport_from<'a>(
    proto: u8,
    src: IpAddr,
    dst: IpAddr,
    payload: &'a [u8],
) -> Result<Option<Payload<'a>>, Malformed> {
    Ok(match proto {
        17 => {
            let udp = UdpSlice::from_slice(payload).map_err(malformed)?;
            Some(Payload::Udp {
                src: SocketAddr::new(src, udp.source_port()),
                dst: SocketAddr::new(dst, udp.destination_port()),
                payload: udp.payload(),
            })
        }
        6 => Some(tcp_transport(
            &TcpSlice::from_slice(payload).map_err(malformed)?,
            src,
            dst,
        )),
        132 => Some(sctp(payload, src, dst)?),
        _ => None,
    })
}

/// SCTP common header (12 bytes) and chunks; DATA chunks (type 0) carry user data after a
/// 16-byte chunk header (RFC 9260 §3.3.1).
fn sctp<'a>(p: &'a [u8], src: IpAddr, dst: IpAddr) -> Result<Payload<'a>, Malformed> {
    let (sport, dport) = match (u16_at(p, 0), u16_at(p, 2)) {
        (Some(s), Some(d)) if p.len() >= 12 => (s, d),
        _ => return Err(malformed("SCTP header cut short")),
    };
    let mut rest = &p[12..];
    while let Some(chunk) = sctp_chunk(rest) {
        match chunk {
            Ok((_, next)) => rest = next,
            Err(len) => {
                let at = p.len() - rest.len();
                return Err(malformed(format!("SCTP chunk length {len} at offset {at}")));
            }
        }
    }
    Ok(Payload::Sctp {
        src: SocketAddr::new(src, sport),
        dst: SocketAddr::new(dst, dport),
        chunks: SctpChunks(&p[12..]),
    })
}

/// The packet inside a GRE header (RFC 2784/2890, enhanced GRE of RFC 2637): IPv4/IPv6,
/// Ethernet (0x6558), ERSPAN type II (0x88BE) and III (0x22EB), and PPP (0x880B).
fn gre(p: &[u8]) -> Result<Option<SlicedPacket<'_>>, Malformed> {
    let flags = u16_at(p, 0).ok_or_else(|| malformed("GRE header cut short"))?;
    let proto = u16_at(p, 2).ok_or_else(|| malformed("GRE header cut short"))?;
    let version = flags & 0x7;
    let mut off = 4;
    if flags & 0x8000 != 0 {
        off += 4; // checksum + reserved
    }
    if flags & 0x2000 != 0 {
        off += 4; // key (or payload length + call ID in version 1)
    }
    if flags & 0x1000 != 0 {
        off += 4; // sequence number
    }
    if version == 1 && flags & 0x0080 != 0 {
        off += 4; // acknowledgment number
    }
    let inner = p
        .get(off..)
        .ok_or_else(|| malformed("GRE header cut short"))?;
    let sliced = match proto {
        0x0800 | 0x86DD => SlicedPacket::from_ip(inner),
        0x6558 => SlicedPacket::from_ethernet(inner),
        0x88BE => {
            // ERSPAN type II: 8-byte header (type I, without it, is rare and uses no S bit).
            let skip = if flags & 0x1000 != 0 { 8 } else { 0 };
            let e = inner
                .get(skip..)
                .ok_or_else(|| malformed("ERSPAN header cut short"))?;
            SlicedPacket::from_ethernet(e)
        }
        0x22EB => {
            let o = inner.get(11).map(|b| b & 1).unwrap_or(0);
            let skip = 12 + if o == 1 { 8 } else { 0 };
            let e = inner
                .get(skip..)
                .ok_or_else(|| malformed("ERSPAN III header cut short"))?;
            SlicedPacket::from_ethernet(e)
        }
        0x880B => {
            let mut ppp = inner;
            if ppp.starts_with(&[0xFF, 0x03]) {
                ppp = &ppp[2..];
            }
            let (pp, rest) = match ppp.first() {
                Some(b) if b & 1 == 1 => (u16::from(*b), &ppp[1..]),
                _ => (
                    u16_at(ppp, 0).ok_or_else(|| malformed("PPP header cut short"))?,
                    ppp.get(2..).unwrap_or(&[]),
                ),
            };
            match pp {
                0x21 | 0x57 => SlicedPacket::from_ip(rest),
                _ => return Ok(None),
            }
        }
        _ => return Ok(None),
    };
    sliced.map(Some).map_err(malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    fn udp_frame(payload: &[u8]) -> Vec<u8> {
        let b = PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4([192, 0, 2, 1], [198, 51, 100, 2], 64)
            .udp(5060, 5062);
        let mut v = Vec::new();
        b.write(&mut v, payload).unwrap();
        v
    }

    #[test]
    fn ethernet_udp() {
        let f = udp_frame(b"hello");
        let mut d = Dissector::new();
        match d.dissect(linktype::ETHERNET, 0, &f).unwrap() {
            Dissected::Payload(Payload::Udp { src, dst, payload }, 0) => {
                assert_eq!(src, "192.0.2.1:5060".parse().unwrap());
                assert_eq!(dst, "198.51.100.2:5062".parse().unwrap());
                assert_eq!(payload, b"hello");
            }
            other => panic!("{other:?}"),
        }
    }

    /// The short way ([`Dissector::udp`]) gives what `dissect` gives, or leaves the frame to
    /// it: on IPv4 and IPv6 (with an extension header), Ethernet and raw IP, and thousands
    /// of mutations of them (cut, bytes changed: lengths, versions, fragment bits, VLAN
    /// ether types, protocols).
    #[test]
    fn the_short_way_agrees_with_dissect() {
        let v6 = {
            let mut v = Vec::new();
            PacketBuilder::ethernet2([1; 6], [2; 6])
                .ipv6(
                    [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
                    [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
                    64,
                )
                .udp(40000, 40002)
                .write(&mut v, &[0x80, 0, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4, 0xd5])
                .unwrap();
            v
        };
        let v4 = udp_frame(&[0x80, 0, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4, 0xd5, 0xd5]);
        let mut d = Dissector::new();
        let (flow, payload) = d.udp(linktype::ETHERNET, 0, &v4).expect("the short way");
        assert_eq!(flow.src(), "192.0.2.1:5060".parse().unwrap());
        assert_eq!(flow.dst(), "198.51.100.2:5062".parse().unwrap());
        assert_eq!(flow, FlowKey::new(flow.src(), flow.dst()));
        assert_eq!(payload.len(), 14);
        let (flow, _) = d.udp(linktype::RAW, 0, &v6[14..]).expect("raw IPv6");
        assert_eq!(flow.src(), "[2001:db8::1]:40000".parse().unwrap());
        assert_eq!(flow.dst(), "[fe80::2]:40002".parse().unwrap());
        assert_eq!(flow, FlowKey::new(flow.src(), flow.dst()));

        let mut next = crate::capture::xorshift(0x2545_F491_4F6C_DD1D);
        let (mut short, mut long) = (0, 0);
        for i in 0..20_000u32 {
            let base = if i % 2 == 0 { &v4 } else { &v6 };
            let mut f = base.clone();
            for _ in 0..next() % 3 {
                let at = (next() % 60) as usize % f.len();
                f[at] = next() as u8;
            }
            if i % 5 == 0 {
                f.truncate((next() as usize) % (f.len() + 1));
            }
            let (linktype, data) = if i % 3 == 0 {
                (linktype::RAW, f.get(14..).unwrap_or(&[]))
            } else {
                (linktype::ETHERNET, &f[..])
            };
            let fast = Dissector::new().udp(linktype, 0, data);
            let mut whole = Dissector::new();
            let full = whole.dissect(linktype, 0, data);
            match fast {
                Some((flow, payload)) => {
                    short += 1;
                    let want = Payload::Udp {
                        src: flow.src(),
                        dst: flow.dst(),
                        payload,
                    };
                    assert_eq!(full, Ok(Dissected::Payload(want, 0)), "frame {i}: {f:02x?}");
                }
                None => {
                    long += 1;
                    assert!(
                        !matches!(full, Ok(Dissected::Payload(Payload::Udp { .. }, 0)))
                            || (linktype == linktype::ETHERNET
                                && [
                                    EtherType::VLAN_TAGGED_FRAME,
                                    EtherType::PROVIDER_BRIDGING,
                                    EtherType::VLAN_DOUBLE_TAGGED_FRAME,
                                    EtherType::MACSEC,
                                ]
                                .contains(&EtherType(u16::from_be_bytes([data[12], data[13]])))),
                        "frame {i}: dissect found UDP the short way did not: {f:02x?}"
                    );
                }
            }
        }
        assert!(short > 5_000 && long > 5_000, "{short} {long}");
    }

    #[test]
    fn sll2_and_loopback_and_ip_in_ip() {
        let f = udp_frame(b"x");
        let ip = &f[14..];
        let mut sll2 = vec![
            0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
        ];
        sll2.extend_from_slice(ip);
        let mut null = 2u32.to_le_bytes().to_vec();
        null.extend_from_slice(ip);
        // IP-in-IP: outer IPv4 with protocol 4 around the inner packet.
        let outer = PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64);
        let mut ipip = Vec::new();
        outer.write(&mut ipip, etherparse::IpNumber(4), ip).unwrap();
        let mut d = Dissector::new();
        for (lt, frame) in [
            (linktype::LINUX_SLL2, &sll2),
            (linktype::NULL, &null),
            (linktype::RAW, &ipip),
        ] {
            match d.dissect(lt, 0, frame).unwrap() {
                Dissected::Payload(Payload::Udp { payload, dst, .. }, _) => {
                    assert_eq!(payload, b"x", "link type {lt}");
                    assert_eq!(dst.port(), 5062);
                }
                other => panic!("link type {lt}: {other:?}"),
            }
        }
    }

    #[test]
    fn garbage_and_cut_frames_are_malformed_not_panics() {
        let f = udp_frame(b"hello world");
        let mut d = Dissector::new();
        for cut in 0..f.len() {
            let _ = d.dissect(linktype::ETHERNET, 0, &f[..cut]);
            let _ = d.dissect(linktype::LINUX_SLL, 0, &f[..cut]);
            let _ = d.dissect(linktype::LINUX_SLL2, 0, &f[..cut]);
            let _ = d.dissect(linktype::NULL, 0, &f[..cut]);
        }
        assert!(d.dissect(linktype::ETHERNET, 0, &f[..30]).is_err());
        assert!(matches!(d.dissect(999, 0, &f), Ok(Dissected::Other(_))));
    }

    #[test]
    fn ipv4_fragments_are_reassembled_and_counted() {
        // A 3000-byte UDP payload split into three fragments by hand.
        let payload: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        let mut udp = Vec::new();
        etherparse::UdpHeader::without_ipv4_checksum(5060, 5060, payload.len())
            .unwrap()
            .write(&mut udp)
            .unwrap();
        udp.extend_from_slice(&payload);
        let mut frames = Vec::new();
        for (i, chunk) in udp.chunks(1480).enumerate() {
            let mut h = etherparse::Ipv4Header::new(
                chunk.len() as u16,
                64,
                etherparse::IpNumber::UDP,
                [192, 0, 2, 1],
                [192, 0, 2, 2],
            )
            .unwrap();
            h.identification = 77;
            h.more_fragments = (i + 1) * 1480 < udp.len();
            h.fragment_offset = etherparse::IpFragOffset::try_new((i * 1480 / 8) as u16).unwrap();
            let mut f = Vec::new();
            h.write(&mut f).unwrap();
            f.extend_from_slice(chunk);
            frames.push(f);
        }
        assert_eq!(frames.len(), 3);
        let mut d = Dissector::new();
        assert_eq!(
            d.dissect(linktype::RAW, 0, &frames[0]).unwrap(),
            Dissected::Fragment
        );
        assert_eq!(
            d.dissect(linktype::RAW, 1, &frames[2]).unwrap(),
            Dissected::Fragment
        );
        assert_eq!(d.held_fragments(), 2);
        match d.dissect(linktype::RAW, 2, &frames[1]).unwrap() {
            Dissected::Payload(Payload::Udp { payload: p, .. }, earlier) => {
                assert_eq!(p, &payload[..]);
                assert_eq!(earlier, 2);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(d.held_fragments(), 0);
    }
}
