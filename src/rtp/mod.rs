//! RTP and RTCP (RFC 3550) without I/O: header decoding (RTCP through `rtc-rtcp`),
//! the payload-type table (RFC 3551), per-stream statistics (RFC 3550 A.3 loss, A.8 jitter),
//! the per-SSRC receiver, DTMF events (RFC 4733) and an E-model MOS estimate (ITU-T G.107).
//! The sender and the media session of `call`. Used by `pcap-decode` and `call`.

pub mod codec;
pub mod dtmf;
pub mod header;
pub mod mos;
pub mod receiver;
pub mod rtcp;
pub mod sender;
pub mod session;
pub mod stats;

pub use codec::Codec;
pub use header::{RtpHeader, looks_like_rtcp, looks_like_rtp};
pub use receiver::{RtpReceiver, StreamQuality};
pub use stats::{StreamStats, StreamSummary};
