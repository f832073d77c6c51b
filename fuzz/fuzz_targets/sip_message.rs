//! Fuzzes SIP messages and stream framing; the invariant is `voipdiag::fuzz::sip_message`.
//! Run: `cargo +nightly fuzz run sip_message` (the seeded mutation tests in tests/mutation.rs run the
//! same check under stable `cargo test`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| voipdiag::fuzz::sip_message(data));
