//! Fuzzes the TURN relay test against a hostile server; the invariant is
//! `voipdiag::fuzz::turn::turn`. Run: `cargo +nightly fuzz run turn` (the seeded mutation
//! tests in tests/mutation.rs run the same check under stable `cargo test`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| voipdiag::fuzz::turn::turn(data));
