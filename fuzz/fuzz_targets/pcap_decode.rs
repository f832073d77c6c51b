//! Fuzzes the capture decoder: the input is read as a pcap/pcapng file, and also fed as one
//! raw frame of every supported link type. Run: `cargo +nightly fuzz run pcap_decode`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voipdiag::capture::analysis::{Analysis, Options};
use voipdiag::capture::reader::{Frame, read_frames};

fuzz_target!(|data: &[u8]| {
    let mut a = Analysis::new(Options { rtp_heuristics: true });
    let _ = read_frames(data, Some(data.len() as u64), |f| a.frame(f), |_| {}, || false);
    a.finish();
    let p = a.packets;
    assert_eq!(p.total, p.decoded + p.ignored + p.malformed);

    let mut b = Analysis::new(Options { rtp_heuristics: true });
    for linktype in [0, 1, 101, 108, 113, 228, 229, 276] {
        b.frame(&Frame { number: 1, time_ns: 0, linktype, data, orig_len: data.len() as u32 });
    }
    b.finish();
    let p = b.packets;
    assert_eq!(p.total, p.decoded + p.ignored + p.malformed);
});
