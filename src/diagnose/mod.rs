//! Diagnosis from typed facts, below the report: what a set of RTP streams and the SDP
//! around them mean for a call ([`media`]: one-way audio, media that never returns, media
//! from another address than SDP announced — the case for latching — and poor quality).
//! pcap-decode feeds it what a capture shows; `call` will feed it what its own call shows.
//! The rules return typed findings; the report only puts them into words.

pub mod capture;
pub mod media;
