//! The RTP sender of a test call, without I/O: G.711 packets of a generated tone (or
//! silence, or given samples) on an absolute-deadline schedule (packet k is due at
//! start + k × ptime, so timer lateness never accumulates into drift), RFC 4733 DTMF events
//! in between, and the counts an RTCP sender report needs (RFC 3550 §6.4.1).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::RngExt;

use crate::sdp::offer::AudioCodec;

/// G.711's clock (RFC 3551 §4.5.14), Hz.
pub const CLOCK_RATE: u32 = 8000;

/// Where the audio comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum AudioSource {
    /// A sine tone of this frequency, Hz, at about −10 dBm0.
    Tone(f64),
    /// Silence (still one packet per ptime).
    Silence,
    /// These 8 kHz samples, repeated.
    Samples(Vec<i16>),
}

/// What the sender sends.
#[derive(Debug, Clone, PartialEq)]
pub struct SenderConfig {
    /// The negotiated payload type and codec.
    pub payload_type: u8,
    /// G.711 law.
    pub codec: AudioCodec,
    /// Packet time, ms (10–100).
    pub ptime_ms: u32,
    /// The audio.
    pub source: AudioSource,
    /// The other side's telephone-event payload type, when it has one.
    pub telephone_event_pt: Option<u8>,
}

/// RFC 4733 event timing: each digit lasts this long, then a pause of the same length.
const DIGIT: Duration = Duration::from_millis(100);

/// An RTP sender for one stream (RFC 3550 §5.1): random SSRC, initial sequence number and
/// timestamp from the injected RNG.
#[derive(Debug)]
pub struct RtpSender {
    config: SenderConfig,
    ssrc: u32,
    first_sequence: u16,
    first_timestamp: u32,
    start: Instant,
    /// Index of the next packet slot (0-based): due at start + index × ptime.
    slot: u64,
    samples_per_packet: u32,
    phase: usize,
    dtmf: VecDeque<char>,
    /// The event being sent: digit, first slot, slots of tone, end packets sent.
    event: Option<(char, u64, u64, u8)>,
    /// Slots to wait before the next digit.
    pause_until: u64,
    packets: u64,
    payload_octets: u64,
    sent_dtmf: String,
    marker_next: bool,
}

impl RtpSender {
    /// A sender whose first packet is due at `start`.
    pub fn new(config: SenderConfig, start: Instant, rng: &mut impl rand::Rng) -> Self {
        let ptime = config.ptime_ms.clamp(10, 100);
        let config = SenderConfig {
            ptime_ms: ptime,
            ..config
        };
        RtpSender {
            samples_per_packet: CLOCK_RATE / 1000 * ptime,
            config,
            ssrc: rng.random(),
            first_sequence: rng.random(),
            first_timestamp: rng.random(),
            start,
            slot: 0,
            phase: 0,
            dtmf: VecDeque::new(),
            event: None,
            pause_until: 0,
            packets: 0,
            payload_octets: 0,
            sent_dtmf: String::new(),
            marker_next: true,
        }
    }

    /// The SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Packets sent.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Payload octets sent (RFC 3550 §6.4.1 sender's octet count).
    pub fn payload_octets(&self) -> u64 {
        self.payload_octets
    }

    /// The sequence number of the packet sent `k`-th (0-based).
    pub fn sequence_of(&self, k: u64) -> u16 {
        self.first_sequence.wrapping_add(k as u16)
    }

    /// DTMF digits sent so far.
    pub fn dtmf_sent(&self) -> &str {
        &self.sent_dtmf
    }

    /// Queues RFC 4733 digits (0–9, *, #, A–D); others are ignored.
    pub fn queue_dtmf(&mut self, digits: &str) {
        self.dtmf
            .extend(digits.chars().filter(|c| event_code(*c).is_some()));
    }

    fn ptime(&self) -> Duration {
        Duration::from_millis(u64::from(self.config.ptime_ms))
    }

    /// When the next packet is due.
    pub fn next_due(&self) -> Instant {
        self.start + self.ptime() * u32::try_from(self.slot).unwrap_or(u32::MAX)
    }

    /// The RTP timestamp that corresponds to `now` (for an RTCP sender report, RFC 3550
    /// §6.4.1: the same clock as the packets, extrapolated).
    pub fn rtp_timestamp_at(&self, now: Instant) -> u32 {
        let elapsed = now.saturating_duration_since(self.start);
        let ticks = elapsed.as_micros() * u128::from(CLOCK_RATE) / 1_000_000;
        self.first_timestamp.wrapping_add(ticks as u32)
    }

    /// The next packet if one is due at `now` (call until `None`: after a late wakeup the
    /// due packets come one after another, each with its own timestamp).
    pub fn poll_packet(&mut self, now: Instant) -> Option<Vec<u8>> {
        if now < self.next_due() {
            return None;
        }
        let slot = self.slot;
        self.slot += 1;
        let timestamp = self
            .first_timestamp
            .wrapping_add((slot as u32).wrapping_mul(self.samples_per_packet));
        let packet = match self.dtmf_packet(slot) {
            Some((pt, marker, event_timestamp, payload)) => {
                self.header(pt, marker, event_timestamp, &payload)
            }
            None => {
                let payload = self.audio_payload();
                let marker = std::mem::take(&mut self.marker_next);
                self.header(self.config.payload_type, marker, timestamp, &payload)
            }
        };
        Some(packet)
    }

    fn header(&mut self, pt: u8, marker: bool, timestamp: u32, payload: &[u8]) -> Vec<u8> {
        let seq = self.sequence_of(self.packets);
        let mut p = Vec::with_capacity(12 + payload.len());
        p.push(0x80);
        p.push(pt & 0x7f | if marker { 0x80 } else { 0 });
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&timestamp.to_be_bytes());
        p.extend_from_slice(&self.ssrc.to_be_bytes());
        p.extend_from_slice(payload);
        self.packets += 1;
        self.payload_octets += payload.len() as u64;
        p
    }

    fn audio_payload(&mut self) -> Vec<u8> {
        let n = self.samples_per_packet as usize;
        let encode = |s: i16| match self.config.codec {
            AudioCodec::Pcmu => audio_codec_algorithms::encode_ulaw(s),
            AudioCodec::Pcma => audio_codec_algorithms::encode_alaw(s),
        };
        let out = match &self.config.source {
            AudioSource::Silence => (0..n).map(|_| encode(0)).collect(),
            AudioSource::Tone(hz) => (0..n)
                .map(|i| {
                    let t = (self.phase + i) as f64 / f64::from(CLOCK_RATE);
                    encode((7000.0 * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16)
                })
                .collect(),
            AudioSource::Samples(s) if !s.is_empty() => (0..n)
                .map(|i| encode(s[(self.phase + i) % s.len()]))
                .collect(),
            AudioSource::Samples(_) => (0..n).map(|_| encode(0)).collect(),
        };
        self.phase = (self.phase + n) % (CLOCK_RATE as usize * 60);
        out
    }

    /// The telephone-event packet for `slot`, if a digit is being sent (RFC 4733 §2.5.1):
    /// the first with the marker bit, all with the event's start timestamp and the duration
    /// so far, then the end packet three times (§2.5.1.4). (pt, marker, timestamp, payload)
    fn dtmf_packet(&mut self, slot: u64) -> Option<(u8, bool, u32, Vec<u8>)> {
        let pt = self.config.telephone_event_pt?;
        let per_slot = u64::from(self.config.ptime_ms);
        let digit_slots = (DIGIT.as_millis() as u64).div_ceil(per_slot).max(1);
        if self.event.is_none() && slot >= self.pause_until {
            let digit = self.dtmf.pop_front()?;
            self.event = Some((digit, slot, 0, 0));
        }
        let (digit, first, tone, ends) = self.event?;
        let code = event_code(digit)?;
        let start_ts = self
            .first_timestamp
            .wrapping_add((first as u32).wrapping_mul(self.samples_per_packet));
        let done = tone >= digit_slots;
        let duration_slots = if done { digit_slots } else { tone + 1 };
        let duration = (duration_slots * u64::from(self.samples_per_packet)).min(0xffff) as u16;
        let mut payload = vec![code, 10, 0, 0];
        if done {
            payload[1] |= 0x80; // E bit
        }
        payload[2..4].copy_from_slice(&duration.to_be_bytes());
        let marker = tone == 0;
        if done {
            let ends = ends + 1;
            if ends >= 3 {
                self.event = None;
                self.sent_dtmf.push(digit);
                self.pause_until = slot + 1 + digit_slots;
            } else {
                self.event = Some((digit, first, tone, ends));
            }
        } else {
            self.event = Some((digit, first, tone + 1, ends));
        }
        Some((pt, marker, start_ts, payload))
    }
}

/// The RFC 4733 §3.2 event code of a DTMF digit.
pub fn event_code(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(12 + (c as u8 - b'A')),
        'a'..='d' => Some(12 + (c as u8 - b'a')),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::dtmf::TelephoneEvent;
    use crate::rtp::header;
    use crate::rtp::{RtpReceiver, codec::Codec};
    use rand::SeedableRng;

    #[allow(clippy::disallowed_methods)]
    fn t0() -> Instant {
        Instant::now()
    }

    fn sender(te: Option<u8>, start: Instant) -> RtpSender {
        RtpSender::new(
            SenderConfig {
                payload_type: 8,
                codec: AudioCodec::Pcma,
                ptime_ms: 20,
                source: AudioSource::Tone(1000.0),
                telephone_event_pt: te,
            },
            start,
            &mut rand::rngs::StdRng::seed_from_u64(3550),
        )
    }

    /// 50 packets a second on absolute deadlines; a late wakeup catches up without drift;
    /// our own receiver reads them back as a perfect stream.
    #[test]
    fn paced_packets_read_back_perfectly() {
        let start = t0();
        let mut s = sender(None, start);
        let mut r = RtpReceiver::new(s.ssrc(), vec![(8, Codec::new("PCMA", 8000))]);
        let mut got = Vec::new();
        for step in 0..50u32 {
            // Every 20 ms, but the 10th wakeup is 70 ms late.
            let now = start
                + Duration::from_millis(20) * step
                + Duration::from_millis(if step == 10 { 70 } else { 0 });
            while let Some(p) = s.poll_packet(now) {
                let h = header::parse(&p).unwrap();
                assert_eq!(h.payload_len, 160);
                r.receive(now.duration_since(start).as_nanos() as i64, &h, &p);
                got.push(h);
            }
        }
        assert_eq!(got.len(), 50, "one per slot, whatever the wakeups");
        assert!(got[0].marker && !got[1].marker);
        for w in got.windows(2) {
            assert_eq!(w[1].sequence_number, w[0].sequence_number.wrapping_add(1));
            assert_eq!(w[1].timestamp, w[0].timestamp.wrapping_add(160));
        }
        assert_eq!(s.next_due(), start + Duration::from_secs(1));
        let q = r.quality();
        assert_eq!((q.summary.packets, q.summary.lost), (50, 0));
        assert_eq!(s.payload_octets(), 50 * 160);
        assert_eq!(
            s.rtp_timestamp_at(start + Duration::from_secs(1)),
            got[0].timestamp.wrapping_add(8000)
        );
    }

    /// RFC 4733: each digit's packets carry its start timestamp and a growing duration, the
    /// first with the marker, the end three times; the receiver decodes the digits back.
    #[test]
    fn dtmf_round_trip() {
        let start = t0();
        let mut s = sender(Some(101), start);
        s.queue_dtmf("1#x");
        let mut r = RtpReceiver::new(
            s.ssrc(),
            vec![
                (8, Codec::new("PCMA", 8000)),
                (101, Codec::new("telephone-event", 8000)),
            ],
        );
        let mut events = Vec::new();
        for step in 0..40u32 {
            let now = start + Duration::from_millis(20) * step;
            while let Some(p) = s.poll_packet(now) {
                let h = header::parse(&p).unwrap();
                if h.payload_type == 101 {
                    let e = TelephoneEvent::parse(&p[h.payload_offset..]).unwrap();
                    events.push((h.marker, h.timestamp, e.event, e.end, e.duration));
                }
                r.receive(now.duration_since(start).as_nanos() as i64, &h, &p);
            }
        }
        assert_eq!(s.dtmf_sent(), "1#");
        // Digit 1: 5 tone packets (100 ms at 20 ms) then 3 end packets.
        let one: Vec<_> = events.iter().filter(|e| e.2 == 1).collect();
        assert_eq!(one.len(), 8);
        assert!(
            one[0].0 && one[1..].iter().all(|e| !e.0),
            "marker on the first only"
        );
        assert!(
            one.iter().all(|e| e.1 == one[0].1),
            "one timestamp per event"
        );
        assert_eq!(
            one.iter().map(|e| e.4).collect::<Vec<_>>(),
            [160, 320, 480, 640, 800, 800, 800, 800]
        );
        assert_eq!(one.iter().filter(|e| e.3).count(), 3);
        assert!(events.iter().any(|e| e.2 == 11), "# is event 11");
        assert_eq!(r.dtmf, "1#");
    }
}
