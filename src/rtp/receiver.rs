//! The receiving side of one RTP stream (RFC 3550 §6.4 "per-source state"): one SSRC as it
//! arrives — RFC 3550 statistics, the payload types seen and their codecs, RFC 4733 DTMF
//! digits, the packet time from the timestamp step, what the far end reported about it in
//! RTCP — and its quality: loss, jitter and an estimated MOS. Fed packet by packet by
//! pcap-decode (and by `call` next).

use super::codec::{self, Codec};
use super::dtmf::TelephoneEvent;
use super::header::RtpHeader;
use super::mos;
use super::stats::{Arrival, StreamStats, StreamSummary};

/// DTMF digits kept per stream (a keypad session is far shorter).
const MAX_DTMF: usize = 1024;

/// One SSRC's receiver state.
#[derive(Debug, Clone)]
pub struct RtpReceiver {
    /// SSRC.
    pub ssrc: u32,
    /// Statistics.
    pub stats: StreamStats,
    /// Payload types seen with their packet counts, in first-seen order.
    pub payload_types: Vec<(u8, u64)>,
    /// Codec map in force (from SDP).
    codecs: Vec<(u8, Codec)>,
    /// DTMF digits received (RFC 4733 end packets, once per event).
    pub dtmf: String,
    last_event_ts: Option<u32>,
    /// What the far end reported about this stream in RTCP: (fraction lost /256, jitter
    /// units).
    pub rtcp_report: Option<(u8, u32)>,
    /// Typical RTP timestamp step, for the packet time.
    ts_step: Option<u32>,
    last_ts: Option<u32>,
    /// The last payload type seen with (is telephone-event, clock rate for jitter): the
    /// codec lookup once per change instead of once per packet.
    pt_cache: Option<(u8, bool, u32)>,
}

/// A stream's quality as reported: the RFC 3550 summary, the main payload type and its
/// codec, and the estimated MOS (ITU-T G.107, simplified) for voice.
#[derive(Debug, Clone)]
pub struct StreamQuality {
    /// RFC 3550 counts, loss and jitter.
    pub summary: StreamSummary,
    /// The main payload type.
    pub payload_type: u8,
    /// Its codec, when known.
    pub codec: Option<Codec>,
    /// Estimated MOS, `None` for non-voice payloads.
    pub mos: Option<f64>,
}

impl RtpReceiver {
    /// A receiver for `ssrc` with the payload-type map `codecs` (from SDP; may be empty).
    pub fn new(ssrc: u32, codecs: Vec<(u8, Codec)>) -> Self {
        RtpReceiver {
            ssrc,
            stats: StreamStats::default(),
            payload_types: Vec::new(),
            codecs,
            dtmf: String::new(),
            last_event_ts: None,
            rtcp_report: None,
            ts_step: None,
            last_ts: None,
            pt_cache: None,
        }
    }

    /// One packet with header `h` (from [`super::header::parse`] of `packet`) arrived at
    /// `time_ns` (ns since the epoch).
    pub fn receive(&mut self, time_ns: i64, h: &RtpHeader, packet: &[u8]) {
        match self
            .payload_types
            .iter_mut()
            .find(|(pt, _)| *pt == h.payload_type)
        {
            Some((_, n)) => *n += 1,
            None => self.payload_types.push((h.payload_type, 1)),
        }
        let (event, clock_rate) = match self.pt_cache {
            Some((pt, event, rate)) if pt == h.payload_type => (event, rate),
            _ => {
                let codec = self.codec(h.payload_type);
                let event = codec.as_ref().is_some_and(Codec::is_telephone_event);
                let rate = match &codec {
                    Some(c) if !event => c.clock_rate,
                    _ => 0,
                };
                self.pt_cache = Some((h.payload_type, event, rate));
                (event, rate)
            }
        };
        if event {
            if let Some(e) = packet
                .get(h.payload_offset..h.payload_offset + h.payload_len)
                .and_then(TelephoneEvent::parse)
                && e.end
                && self.last_event_ts != Some(h.timestamp)
            {
                self.last_event_ts = Some(h.timestamp);
                if let Some(sym) = e.symbol()
                    && self.dtmf.len() < MAX_DTMF
                {
                    self.dtmf.push(sym);
                }
            }
        } else if clock_rate > 0 {
            if let Some(last) = self.last_ts {
                let step = h.timestamp.wrapping_sub(last);
                if step > 0 && step < clock_rate {
                    self.ts_step = Some(self.ts_step.map_or(step, |o| o.min(step)));
                }
            }
            self.last_ts = Some(h.timestamp);
        }
        self.stats.add(&Arrival {
            time_ns,
            sequence_number: h.sequence_number,
            timestamp: h.timestamp,
            payload_type: h.payload_type,
            marker: h.marker,
            clock_rate,
        });
    }

    /// The codec of a payload type in this stream.
    pub fn codec(&self, pt: u8) -> Option<Codec> {
        self.codecs
            .iter()
            .find(|(p, _)| *p == pt)
            .map(|(_, c)| c.clone())
            .or_else(|| codec::static_codec(pt))
            // Unsignalled PT 101 is conventionally RFC 4733 events (Wireshark assumes so too).
            .or_else(|| (pt == 101).then(|| Codec::new("telephone-event", 8000)))
    }

    /// The main payload type: the most frequent one that is neither CN nor an event.
    pub fn main_payload_type(&self) -> u8 {
        self.payload_types
            .iter()
            .filter(|(pt, _)| {
                self.codec(*pt)
                    .is_none_or(|c| !c.is_comfort_noise() && !c.is_telephone_event())
            })
            .max_by_key(|(_, n)| *n)
            .or_else(|| self.payload_types.first())
            .map_or(0, |(pt, _)| *pt)
    }

    /// Packet time in ms from the timestamp step and clock rate (20 when unknown).
    pub fn ptime_ms(&self) -> f64 {
        let pt = self.main_payload_type();
        match (self.ts_step, self.codec(pt)) {
            (Some(step), Some(c)) if c.clock_rate > 0 && step > 0 => {
                (f64::from(step) * 1000.0 / f64::from(c.clock_rate)).min(200.0)
            }
            _ => 20.0,
        }
    }

    /// The quality as reported: summary, main payload type, codec and, for voice (a codec
    /// with a clock of at most 48 kHz that is neither an event nor comfort noise), the MOS.
    pub fn quality(&self) -> StreamQuality {
        let summary = self.stats.summary();
        let payload_type = self.main_payload_type();
        let codec = self.codec(payload_type);
        let voice = codec.as_ref().is_some_and(|c| {
            c.clock_rate > 0
                && c.clock_rate <= 48000
                && !c.is_telephone_event()
                && !c.is_comfort_noise()
        });
        let mos = voice.then(|| {
            mos::estimate(
                codec.as_ref().map_or("", |c| c.name.as_str()),
                summary.loss_percent,
                summary.jitter_mean_ms,
                self.ptime_ms(),
            )
        });
        StreamQuality {
            summary,
            payload_type,
            codec,
            mos,
        }
    }
}
