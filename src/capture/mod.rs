//! Captures without I/O of their own: pcap/pcapng records from any `Read` (pcap-parser), link
//! layers and tunnels down to UDP/TCP/SCTP (etherparse plus our own glue for Linux cooked
//! capture v2, BSD loopback, GRE/ERSPAN and PPP), IP fragment reassembly, TCP stream
//! reassembly, and the VoIP analysis on top ([`analysis`]).

pub mod analysis;
pub mod dissect;
pub mod reader;
pub mod tcp;
