//! The parse-only floor for `benches/pcap.py`: walks every record of a pcap/pcapng file with
//! pcap-parser and slices its headers with etherparse (link, IP, UDP/TCP), nothing else —
//! the speed pcap-decode's per-packet work is measured against (issue 17).
//!
//!   cargo build --release --example pcap_floor
//!   target/release/examples/pcap_floor FILE      prints "frames udp tcp payload-bytes"

use std::fs::File;

use etherparse::{SlicedPacket, TransportSlice};
use pcap_parser::pcapng::Block;
use pcap_parser::{PcapBlockOwned, PcapError, create_reader};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: pcap_floor FILE");
        std::process::exit(2);
    };
    let file = File::open(&path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(2);
    });
    let mut reader = create_reader(1 << 20, file).unwrap_or_else(|e| {
        eprintln!("{path}: not a capture ({e:?})");
        std::process::exit(2);
    });
    let (mut frames, mut udp, mut tcp, mut bytes) = (0u64, 0u64, 0u64, 0u64);
    let mut count = |data: &[u8]| {
        frames += 1;
        if let Ok(p) = SlicedPacket::from_ethernet(data) {
            match p.transport {
                Some(TransportSlice::Udp(u)) => {
                    udp += 1;
                    bytes += u.payload().len() as u64;
                }
                Some(TransportSlice::Tcp(t)) => {
                    tcp += 1;
                    bytes += t.payload().len() as u64;
                }
                _ => {}
            }
        }
    };
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                match block {
                    PcapBlockOwned::Legacy(b) => count(b.data),
                    PcapBlockOwned::NG(Block::EnhancedPacket(b)) => count(b.data),
                    _ => {}
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                if reader.reader_exhausted() || reader.refill().is_err() {
                    break;
                }
            }
            Err(e) => {
                eprintln!("{path}: {e:?}");
                break;
            }
        }
    }
    println!("{frames} {udp} {tcp} {bytes}");
}
