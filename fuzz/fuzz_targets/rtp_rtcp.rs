//! Fuzzes RTP headers with the receiver's statistics, and RTCP; the invariant is `voipdiag::fuzz::rtp_rtcp`.
//! Run: `cargo +nightly fuzz run rtp_rtcp` (the seeded mutation tests in tests/mutation.rs run the
//! same check under stable `cargo test`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| voipdiag::fuzz::rtp_rtcp(data));
