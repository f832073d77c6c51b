//! Writing captures: classic pcap (LINKTYPE_ETHERNET, microsecond timestamps, the format
//! every tool reads), with each UDP datagram or TCP segment framed by `etherparse`'s packet
//! builder (Ethernet II, IPv4 or IPv6, UDP or TCP with checksums). `call --pcap` writes what
//! it sent and received this way; tests and fuzz seeds build their captures with it.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::Duration;

/// The pcap magic (microsecond timestamps), written little-endian.
const MAGIC: u32 = 0xa1b2_c3d4;
/// LINKTYPE_ETHERNET.
const LINKTYPE_ETHERNET: u32 = 1;
/// Snapshot length written in the header.
const SNAPLEN: u32 = 262_144;
/// TCP flows whose sequence numbers are kept (a call has one; more are written from 1).
const MAX_TCP_FLOWS: usize = 64;

/// A pcap file being written to `W`.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    /// Next sequence number per (source, destination).
    tcp_seq: Vec<((SocketAddr, SocketAddr), u32)>,
}

/// The Ethernet frame of a UDP datagram from `src` to `dst`; `None` when the addresses are
/// of different families or the payload does not fit one IP packet.
pub fn udp_frame(src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Option<Vec<u8>> {
    let mut f = Vec::with_capacity(payload.len() + 62);
    let eth = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
    match (src, dst) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => eth
            .ipv4(s.ip().octets(), d.ip().octets(), 64)
            .udp(s.port(), d.port())
            .write(&mut f, payload)
            .ok()?,
        (SocketAddr::V6(s), SocketAddr::V6(d)) => eth
            .ipv6(s.ip().octets(), d.ip().octets(), 64)
            .udp(s.port(), d.port())
            .write(&mut f, payload)
            .ok()?,
        _ => return None,
    }
    Some(f)
}

/// The Ethernet frame of a TCP segment (PSH+ACK) from `src` to `dst` with sequence number
/// `seq`; `None` as for [`udp_frame`].
pub fn tcp_frame(src: SocketAddr, dst: SocketAddr, seq: u32, payload: &[u8]) -> Option<Vec<u8>> {
    let mut f = Vec::with_capacity(payload.len() + 74);
    let eth = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
    match (src, dst) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => eth
            .ipv4(s.ip().octets(), d.ip().octets(), 64)
            .tcp(s.port(), d.port(), seq, 65535)
            .psh()
            .write(&mut f, payload)
            .ok()?,
        (SocketAddr::V6(s), SocketAddr::V6(d)) => eth
            .ipv6(s.ip().octets(), d.ip().octets(), 64)
            .tcp(s.port(), d.port(), seq, 65535)
            .psh()
            .write(&mut f, payload)
            .ok()?,
        _ => return None,
    }
    Some(f)
}

impl<W: Write> PcapWriter<W> {
    /// Starts a capture on `out` (writes the global header).
    ///
    /// # Errors
    /// The write error.
    pub fn new(mut out: W) -> io::Result<Self> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&MAGIC.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&[0; 8]);
        h.extend_from_slice(&SNAPLEN.to_le_bytes());
        h.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter {
            out,
            tcp_seq: Vec::new(),
        })
    }

    /// Writes one Ethernet frame captured at `at` (since the Unix epoch).
    ///
    /// # Errors
    /// The write error.
    pub fn write_frame(&mut self, at: Duration, frame: &[u8]) -> io::Result<()> {
        let secs = u32::try_from(at.as_secs()).unwrap_or(u32::MAX);
        let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        let mut h = [0u8; 16];
        h[..4].copy_from_slice(&secs.to_le_bytes());
        h[4..8].copy_from_slice(&at.subsec_micros().to_le_bytes());
        h[8..12].copy_from_slice(&len.to_le_bytes());
        h[12..].copy_from_slice(&len.to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(frame)
    }

    /// Writes a UDP datagram; one that cannot be framed (mixed families) is skipped.
    ///
    /// # Errors
    /// The write error.
    pub fn write_udp(
        &mut self,
        at: Duration,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
    ) -> io::Result<()> {
        match udp_frame(src, dst, payload) {
            Some(f) => self.write_frame(at, &f),
            None => Ok(()),
        }
    }

    /// Writes `payload` as the next TCP segment from `src` to `dst` (sequence numbers
    /// continue per direction, so a reader reassembles the stream).
    ///
    /// # Errors
    /// The write error.
    pub fn write_tcp(
        &mut self,
        at: Duration,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
    ) -> io::Result<()> {
        let key = (src, dst);
        let seq = match self.tcp_seq.iter_mut().find(|(k, _)| *k == key) {
            Some((_, s)) => {
                let now = *s;
                *s = s.wrapping_add(payload.len() as u32);
                now
            }
            None => {
                if self.tcp_seq.len() < MAX_TCP_FLOWS {
                    self.tcp_seq
                        .push((key, 1u32.wrapping_add(payload.len() as u32)));
                }
                1
            }
        };
        match tcp_frame(src, dst, seq, payload) {
            Some(f) => self.write_frame(at, &f),
            None => Ok(()),
        }
    }

    /// Flushes what is buffered.
    ///
    /// # Errors
    /// The write error.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The writer, flushed or not.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::reader::{End, read_frames};

    /// What we write, our reader reads back: the UDP payload, the TCP stream in order,
    /// and the timestamps.
    #[test]
    fn written_captures_read_back() {
        let a: SocketAddr = "192.0.2.1:5060".parse().unwrap();
        let b: SocketAddr = "192.0.2.2:5062".parse().unwrap();
        let v6a: SocketAddr = "[2001:db8::1]:4000".parse().unwrap();
        let v6b: SocketAddr = "[2001:db8::2]:4002".parse().unwrap();
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        let t = Duration::from_micros(1_800_000_000_123_456);
        w.write_udp(t, a, b, b"hello").unwrap();
        w.write_udp(t, v6a, v6b, b"six").unwrap();
        w.write_udp(t, a, v6b, b"mixed: skipped").unwrap();
        w.write_tcp(t, a, b, b"first ").unwrap();
        w.write_tcp(t, a, b, b"second").unwrap();
        let bytes = w.into_inner();
        let mut frames = Vec::new();
        let end = read_frames(
            std::io::Cursor::new(&bytes),
            Some(bytes.len() as u64),
            |f| frames.push((f.time_ns, f.data.to_vec())),
            |_| {},
            || false,
        )
        .unwrap();
        assert_eq!(end, End::Complete);
        assert_eq!(frames.len(), 4);
        assert_eq!(frames[0].0, 1_800_000_000_123_456_000);
        let payload = |f: &[u8]| match etherparse::SlicedPacket::from_ethernet(f)
            .unwrap()
            .transport
        {
            Some(etherparse::TransportSlice::Udp(u)) => u.payload().to_vec(),
            _ => panic!("not UDP"),
        };
        assert_eq!(payload(&frames[0].1), b"hello");
        assert_eq!(payload(&frames[1].1), b"six");
        let seqs: Vec<u32> = frames[2..]
            .iter()
            .map(|f| {
                match etherparse::SlicedPacket::from_ethernet(&f.1)
                    .unwrap()
                    .transport
                {
                    Some(etherparse::TransportSlice::Tcp(t)) => t.sequence_number(),
                    _ => panic!("not TCP"),
                }
            })
            .collect();
        assert_eq!(seqs, [1, 7]);
    }
}
