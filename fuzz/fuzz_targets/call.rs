//! Fuzzes a test call against a hostile far end; the invariant is `voipdiag::fuzz::call`.
//! Run: `cargo +nightly fuzz run call` (the seeded mutation tests in tests/mutation.rs run the
//! same check under stable `cargo test`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| voipdiag::fuzz::call(data));
