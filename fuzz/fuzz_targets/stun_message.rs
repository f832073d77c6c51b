//! Fuzzes STUN/TURN messages and their trace lines; the invariant is `voipdiag::fuzz::stun_message`.
//! Run: `cargo +nightly fuzz run stun_message` (the seeded mutation tests in tests/mutation.rs run the
//! same check under stable `cargo test`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| voipdiag::fuzz::stun_message(data));
