//! Fuzzes ENUM NAPTR processing: the DDDS walk and the substitution; the invariant is `voipdiag::fuzz::enum_naptr`.
//! Run: `cargo +nightly fuzz run enum_naptr` (the seeded mutation tests in tests/mutation.rs run the
//! same check under stable `cargo test`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| voipdiag::fuzz::enum_naptr(data));
