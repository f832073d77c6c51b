//! Per-stream RTP statistics: packets, expected and lost (RFC 3550 §6.4.1 and A.3, with
//! extended sequence numbers), duplicates, reordering, inter-arrival jitter (RFC 3550 §6.4.1
//! and A.8) and packet spacing.
//!
//! The arithmetic follows RFC 3550; the choice of which packets enter the maximum delta and
//! jitter figures follows Wireshark's RTP stream analysis (`tshark -z rtp,streams`), so that
//! the two tools agree on the same capture: packets with the marker bit, comfort noise (PT 13
//! and 19) and the packet after it, and packets whose timestamp goes backwards do not count;
//! payloads without a known clock rate (e.g. `telephone-event`) are left out of jitter.

/// Nanoseconds per millisecond, for converting arrival times (by multiplying with its
/// reciprocal: the figures agree to the last digit reported, 1 µs, and a division per
/// packet is a long wait on the jitter's chain).
const NS_PER_MS: f64 = 1e6;

/// Width of the duplicate-detection window, in sequence numbers.
const WINDOW: u64 = 1024;

/// A statistic rounded to a thousandth of its unit (µs for `*_ms`, ms for `*_s`, 0.001 %):
/// the precision every report gives.
pub fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

/// A duration in ms at that precision.
pub fn round_ms(d: std::time::Duration) -> f64 {
    round3(d.as_secs_f64() * 1000.0)
}

/// The median of `v` (sorted in place), ms at that precision; `None` when empty.
pub fn median_ms(v: &mut [std::time::Duration]) -> Option<f64> {
    v.sort();
    v.get(v.len() / 2).copied().map(round_ms)
}

/// One received RTP packet as the statistics need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    /// Arrival time in nanoseconds (any epoch, consistent within a stream).
    pub time_ns: i64,
    /// RTP sequence number.
    pub sequence_number: u16,
    /// RTP timestamp.
    pub timestamp: u32,
    /// Payload type.
    pub payload_type: u8,
    /// Marker bit.
    pub marker: bool,
    /// Clock rate of the payload type in Hz; 0 leaves the packet out of jitter.
    pub clock_rate: u32,
}

/// Running statistics of one RTP stream (one SSRC in one direction). Memory is constant.
#[derive(Debug, Clone, Default)]
pub struct StreamStats {
    packets: u64,
    /// The last clock rate and the milliseconds of one of its ticks (`1e3 / rate`): the
    /// jitter's chain multiplies instead of dividing (a division's latency per packet).
    ms_per_tick: (u32, f64),
    first_ns: i64,
    last_ns: i64,
    /// Extended sequence numbers (RFC 3550 A.1): lowest and highest seen.
    base_ext_seq: i64,
    max_ext_seq: i64,
    /// Sequence number of the last in-order packet (for sequence-error counting).
    seq_num: u16,
    sequence_errors: u64,
    duplicates: u64,
    out_of_order: u64,
    /// Bitmap of received extended sequence numbers in `(max_ext_seq - WINDOW, max_ext_seq]`.
    window: [u64; (WINDOW / 64) as usize],
    /// RTP timestamp of the first packet.
    first_ts: u32,
    /// Media time (ms since `first_ts`) of the last in-sequence packet with a clock rate.
    last_nominal_ms: f64,
    /// Arrival time (ns) of the last in-time-sequence packet.
    seq_time_ns: i64,
    last_pt: u8,
    jitter_ms: f64,
    max_jitter_ms: f64,
    mean_jitter_ms: f64,
    max_delta_ms: f64,
    jitter_samples: u64,
}

/// The figures of one stream, ready for a report.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSummary {
    /// Packets received, duplicates included.
    pub packets: u64,
    /// Packets expected from the sequence numbers: highest − lowest extended sequence + 1.
    pub expected: u64,
    /// `expected − packets`; negative when duplicates outnumber losses (RFC 3550 §6.4.1).
    pub lost: i64,
    /// `lost / expected` in percent (0 when nothing was expected).
    pub loss_percent: f64,
    /// Packets whose sequence number had already been received.
    pub duplicates: u64,
    /// Packets that arrived after a higher sequence number.
    pub out_of_order: u64,
    /// Packets whose sequence number did not follow the previous one (gaps, late, repeated).
    pub sequence_errors: u64,
    /// Largest gap between consecutive packets (ms).
    pub max_delta_ms: f64,
    /// Mean of the RFC 3550 interarrival jitter over the stream (ms).
    pub jitter_mean_ms: f64,
    /// Maximum of the RFC 3550 interarrival jitter (ms).
    pub jitter_max_ms: f64,
    /// The last jitter value (what an RTCP receiver report would carry, in ms).
    pub jitter_last_ms: f64,
    /// Whether any packet had a known clock rate, i.e. whether the jitter figures mean anything.
    pub jitter_known: bool,
    /// Arrival time of the first and last packet (ns).
    pub first_ns: i64,
    /// See `first_ns`.
    pub last_ns: i64,
}

impl StreamStats {
    /// Accounts for one packet. Packets must be given in arrival order.
    pub fn add(&mut self, a: &Arrival) {
        if self.packets == 0 {
            self.packets = 1;
            self.first_ns = a.time_ns;
            self.last_ns = a.time_ns;
            self.base_ext_seq = i64::from(a.sequence_number);
            self.max_ext_seq = self.base_ext_seq;
            self.seq_num = a.sequence_number;
            self.first_ts = a.timestamp;
            self.last_nominal_ms = 0.0;
            self.seq_time_ns = a.time_ns;
            self.last_pt = a.payload_type;
            self.mark(self.max_ext_seq);
            return;
        }
        self.last_ns = a.time_ns;

        // Extended sequence number: the 16-bit value nearest the highest one so far (A.1).
        let delta = i64::from(a.sequence_number.wrapping_sub(self.max_ext_seq as u16) as i16);
        let ext_seq = self.max_ext_seq + delta;
        let in_window = self.max_ext_seq - ext_seq < WINDOW as i64;
        if ext_seq > self.max_ext_seq {
            self.advance_window(ext_seq);
        } else if in_window && self.seen(ext_seq) {
            self.duplicates += 1;
        } else {
            self.out_of_order += 1;
            if in_window {
                self.mark(ext_seq);
            }
        }
        self.base_ext_seq = self.base_ext_seq.min(ext_seq);

        // A packet is "in time sequence" when its timestamp is not before the stream's first
        // one (modulo 2^32, within half the range), as Wireshark decides it.
        let since_first = a.timestamp.wrapping_sub(self.first_ts);
        let in_time_sequence = since_first < 0x8000_0000;

        // Sequence errors, counted the way Wireshark counts them (gaps, late and repeated
        // packets each count once).
        let (last, cur) = (i32::from(self.seq_num), i32::from(a.sequence_number));
        if in_time_sequence && (last + 1 == cur || (last == 65535 && cur == 0)) {
            self.seq_num = a.sequence_number;
        } else if in_time_sequence && (last + 1 < cur || last - cur > 0xFF00) {
            self.seq_num = a.sequence_number;
            self.sequence_errors += 1;
        } else if last + 1 > cur {
            self.sequence_errors += 1;
        }

        let cn = super::codec::is_static_comfort_noise(a.payload_type);
        let follows_cn = super::codec::is_static_comfort_noise(self.last_pt);
        self.last_pt = a.payload_type;

        let delta_ms = (a.time_ns - self.seq_time_ns) as f64 * (1.0 / NS_PER_MS);
        if in_time_sequence && a.clock_rate != 0 {
            // RFC 3550 A.8: D = (Rj − Ri) − (Sj − Si); J += (|D| − J) / 16, with Sj − Si the
            // media time since the last in-sequence packet that had a clock rate.
            if self.ms_per_tick.0 != a.clock_rate {
                self.ms_per_tick = (a.clock_rate, 1e3 / f64::from(a.clock_rate));
            }
            let nominal_ms = f64::from(since_first) * self.ms_per_tick.1;
            let d = (delta_ms - (nominal_ms - self.last_nominal_ms)).abs();
            self.jitter_ms = (15.0 * self.jitter_ms + d) / 16.0;
            self.jitter_samples += 1;
            self.last_nominal_ms = nominal_ms;
        }
        let regular = !a.marker && !cn && !follows_cn && in_time_sequence;
        if regular {
            self.max_delta_ms = self.max_delta_ms.max(delta_ms);
            if a.clock_rate != 0 {
                self.max_jitter_ms = self.max_jitter_ms.max(self.jitter_ms);
                // A running mean over the packets so far, as Wireshark keeps it.
                let n = self.packets as f64;
                self.mean_jitter_ms = (self.mean_jitter_ms * (n - 1.0) + self.jitter_ms) / n;
            }
        }
        if in_time_sequence {
            self.seq_time_ns = a.time_ns;
        }
        self.packets += 1;
    }

    fn advance_window(&mut self, ext_seq: i64) {
        let shift = (ext_seq - self.max_ext_seq) as u64;
        if shift >= WINDOW {
            self.window = Default::default();
        } else {
            for s in (self.max_ext_seq + 1)..=ext_seq {
                self.unmark(s);
            }
        }
        self.max_ext_seq = ext_seq;
        self.mark(ext_seq);
    }

    fn bit(seq: i64) -> (usize, u64) {
        let i = seq.rem_euclid(WINDOW as i64) as usize;
        (i / 64, 1 << (i % 64))
    }

    fn mark(&mut self, seq: i64) {
        let (w, b) = Self::bit(seq);
        self.window[w] |= b;
    }

    fn unmark(&mut self, seq: i64) {
        let (w, b) = Self::bit(seq);
        self.window[w] &= !b;
    }

    fn seen(&self, seq: i64) -> bool {
        let (w, b) = Self::bit(seq);
        self.window[w] & b != 0
    }

    /// Packets so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// The figures so far.
    pub fn summary(&self) -> StreamSummary {
        let expected = if self.packets == 0 {
            0
        } else {
            (self.max_ext_seq - self.base_ext_seq + 1) as u64
        };
        let lost = expected as i64 - self.packets as i64;
        StreamSummary {
            packets: self.packets,
            expected,
            lost,
            loss_percent: if expected == 0 {
                0.0
            } else {
                lost as f64 * 100.0 / expected as f64
            },
            duplicates: self.duplicates,
            out_of_order: self.out_of_order,
            sequence_errors: self.sequence_errors,
            max_delta_ms: self.max_delta_ms,
            jitter_mean_ms: self.mean_jitter_ms,
            jitter_max_ms: self.max_jitter_ms,
            jitter_last_ms: self.jitter_ms,
            jitter_known: self.jitter_samples > 0,
            first_ns: self.first_ns,
            last_ns: self.last_ns,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(ms: f64, seq: u16, ts: u32) -> Arrival {
        Arrival {
            time_ns: (ms * 1e6) as i64,
            sequence_number: seq,
            timestamp: ts,
            payload_type: 8,
            marker: false,
            clock_rate: 8000,
        }
    }

    #[test]
    fn perfect_stream_has_no_loss_and_no_jitter() {
        let mut s = StreamStats::default();
        for i in 0..100u16 {
            s.add(&pkt(f64::from(i) * 20.0, 1000 + i, u32::from(i) * 160));
        }
        let r = s.summary();
        assert_eq!((r.packets, r.expected, r.lost), (100, 100, 0));
        assert_eq!((r.duplicates, r.out_of_order, r.sequence_errors), (0, 0, 0));
        assert!(r.jitter_max_ms.abs() < 1e-9);
        assert!((r.max_delta_ms - 20.0).abs() < 1e-9);
    }

    #[test]
    fn loss_counts_across_the_sequence_wrap() {
        // RFC 3550 A.1: 65534, 65535, (0 lost), 1, 2 → expected 5, lost 1.
        let mut s = StreamStats::default();
        for (i, seq) in [65534u16, 65535, 1, 2].into_iter().enumerate() {
            let n = if seq > 100 { i as u32 } else { i as u32 + 1 };
            s.add(&pkt(f64::from(n) * 20.0, seq, n * 160));
        }
        let r = s.summary();
        assert_eq!((r.expected, r.lost, r.sequence_errors), (5, 1, 1));
        assert!((r.loss_percent - 20.0).abs() < 1e-9);
    }

    #[test]
    fn duplicates_make_loss_negative_and_reordering_is_counted() {
        let mut s = StreamStats::default();
        s.add(&pkt(0.0, 10, 0));
        s.add(&pkt(20.0, 12, 320));
        s.add(&pkt(25.0, 11, 160)); // late
        s.add(&pkt(40.0, 13, 480));
        s.add(&pkt(41.0, 13, 480)); // duplicate
        s.add(&pkt(42.0, 13, 480)); // duplicate
        let r = s.summary();
        assert_eq!((r.packets, r.expected, r.lost), (6, 4, -2));
        assert_eq!((r.duplicates, r.out_of_order), (2, 1));
    }

    #[test]
    fn jitter_follows_rfc_3550_a8() {
        // Packets every 20 ms of media, arriving alternately 0 and 4 ms late: |D| = 4 after the
        // first, so J(n) = J(n−1) + (4 − J(n−1))/16 rises towards 4 ms.
        let mut s = StreamStats::default();
        let mut j = 0.0;
        for i in 0..50u16 {
            let late = if i % 2 == 1 { 4.0 } else { 0.0 };
            s.add(&pkt(f64::from(i) * 20.0 + late, i, u32::from(i) * 160));
            if i > 0 {
                j += (4.0 - j) / 16.0;
            }
        }
        let r = s.summary();
        assert!(
            (r.jitter_last_ms - j).abs() < 1e-9,
            "{} vs {j}",
            r.jitter_last_ms
        );
        assert!((r.jitter_max_ms - j).abs() < 1e-9);
        assert!(r.jitter_mean_ms > 0.0 && r.jitter_mean_ms < j);
    }

    #[test]
    fn unknown_clock_rate_leaves_jitter_out() {
        let mut s = StreamStats::default();
        for i in 0..10u16 {
            let mut a = pkt(f64::from(i) * 33.0, i, 0);
            a.clock_rate = 0;
            s.add(&a);
        }
        let r = s.summary();
        assert!(!r.jitter_known);
        assert_eq!(r.jitter_max_ms, 0.0);
    }
}
