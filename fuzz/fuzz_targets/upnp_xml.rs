//! Fuzzes UPnP device descriptions, SCPDs, SOAP, SSDP, NAT-PMP and PCP answers; the invariant is `voipdiag::fuzz::upnp_xml`.
//! Run: `cargo +nightly fuzz run upnp_xml` (the seeded mutation tests in tests/mutation.rs run the
//! same check under stable `cargo test`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| voipdiag::fuzz::upnp_xml(data));
