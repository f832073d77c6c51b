//! Captures without I/O of their own: pcap/pcapng records from any `Read` (pcap-parser), link
//! layers and tunnels down to UDP/TCP/SCTP (etherparse plus our own glue for Linux cooked
//! capture v2, BSD loopback, GRE/ERSPAN and PPP), IP fragment reassembly, TCP stream
//! reassembly, and the VoIP analysis on top ([`analysis`]).

pub mod analysis;
pub mod bounded;
pub mod dissect;
pub mod findings;
pub mod reader;
pub mod tcp;
pub mod writer;

/// The per-packet lookup maps (flows, streams, endpoints, fragments): ahash with a random
/// key, resistant to crafted collisions like std's SipHash but several times faster on
/// these small keys (SipHash was ~14% of decode time on a 300-call capture).
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;

/// The xorshift64 generator of the randomised capture tests: the same frames on every run,
/// without a dependency. `seed` must not be 0.
#[cfg(test)]
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}
