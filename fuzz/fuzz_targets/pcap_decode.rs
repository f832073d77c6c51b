//! Fuzzes pcap/pcapng captures and raw frames of every link type; the invariant is `voipdiag::fuzz::pcap_decode`.
//! Run: `cargo +nightly fuzz run pcap_decode` (the seeded mutation tests in tests/mutation.rs run the
//! same check under stable `cargo test`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| voipdiag::fuzz::pcap_decode(data));
