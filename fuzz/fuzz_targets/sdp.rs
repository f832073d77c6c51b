//! Fuzzes SDP bodies; the invariant is `voipdiag::fuzz::sdp`.
//! Run: `cargo +nightly fuzz run sdp` (the seeded mutation tests in tests/mutation.rs run the
//! same check under stable `cargo test`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| voipdiag::fuzz::sdp(data));
