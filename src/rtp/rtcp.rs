//! RTCP (RFC 3550 §6, XR RFC 3611) decoding through `rtc-rtcp` (the webrtc-rs sans-IO line),
//! flattened to what a report shows: packet kinds, sender and receiver reports, CNAMEs, BYE.

use std::fmt;
use std::time::Duration;

use rtc_rtcp::goodbye::Goodbye;
use rtc_rtcp::receiver_report::ReceiverReport;
use rtc_rtcp::reception_report::ReceptionReport;
use rtc_rtcp::sender_report::SenderReport;
use rtc_rtcp::source_description::{SdesType, SourceDescription};

/// The RTCP packet types we name (RFC 3550 §12.1, RFC 4585, RFC 3611).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Kind {
    /// Sender report (200).
    SR,
    /// Receiver report (201).
    RR,
    /// Source description (202).
    SDES,
    /// Goodbye (203).
    BYE,
    /// Application-defined (204).
    APP,
    /// Transport-layer feedback (205).
    RTPFB,
    /// Payload-specific feedback (206).
    PSFB,
    /// Extended report (207, RFC 3611).
    XR,
    /// Any other type.
    Other,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// One reception report block (RFC 3550 §6.4.1): what `reporter` says about `source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlock {
    /// SSRC of the sender of the report.
    pub reporter: u32,
    /// SSRC the block is about.
    pub source: u32,
    /// Fraction lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative number of packets lost (24-bit signed in the packet).
    pub cumulative_lost: i32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// LSR: the middle 32 bits of the NTP timestamp of the last SR from `source` (0: none).
    pub last_sr: u32,
    /// DLSR: delay since that SR at the reporter, 1/65536 s.
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    /// The round-trip time this block proves (RFC 3550 §6.4.1: A − LSR − DLSR), given the
    /// compact NTP time `arrival` it arrived at; `None` without an SR to refer to or when
    /// the result would be negative (clocks or a bogus block).
    pub fn round_trip(&self, arrival: u32) -> Option<Duration> {
        if self.last_sr == 0 {
            return None;
        }
        let rtt = arrival
            .wrapping_sub(self.last_sr)
            .wrapping_sub(self.delay_since_last_sr);
        (rtt < 0x8000_0000).then(|| Duration::from_nanos(u64::from(rtt) * 1_000_000_000 / 65536))
    }
}

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET_S: u64 = 2_208_988_800;

/// The 64-bit NTP timestamp (RFC 3550 §4) of a time `since_unix_epoch`.
pub fn ntp_timestamp(since_unix_epoch: Duration) -> u64 {
    let secs = since_unix_epoch.as_secs() + NTP_UNIX_OFFSET_S;
    let frac = (u64::from(since_unix_epoch.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// The middle 32 bits of an NTP timestamp (the LSR/DLSR unit, 1/65536 s).
pub fn ntp_compact(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// What we know about a source we receive, for a reception report block (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reception {
    /// Its SSRC.
    pub source: u32,
    /// Fraction lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative lost (clamped to the 24-bit field).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub extended_highest_sequence: u32,
    /// Interarrival jitter, timestamp units.
    pub jitter: u32,
    /// Compact NTP time of its last SR (0: none yet).
    pub last_sr: u32,
    /// Since that SR arrived, 1/65536 s.
    pub delay_since_last_sr: u32,
}

/// Our sender report (RFC 3550 §6.4.1), with a reception report about what we receive, or
/// a receiver report (§6.4.2) when we have sent nothing; followed by an SDES CNAME (§6.5.1,
/// every compound packet carries one).
///
/// # Errors
/// When the crate cannot write it (it cannot, for these sizes).
pub fn report(
    ssrc: u32,
    sent: Option<(u64, u32, u32, u32)>,
    reception: Option<Reception>,
    cname: &str,
) -> Result<Vec<u8>, String> {
    use rtc_rtcp::packet::Packet;
    use rtc_rtcp::source_description::{SourceDescriptionChunk, SourceDescriptionItem};
    let reports: Vec<ReceptionReport> = reception
        .iter()
        .map(|r| ReceptionReport {
            ssrc: r.source,
            fraction_lost: r.fraction_lost,
            total_lost: (r.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff) as u32) & 0x00ff_ffff,
            last_sequence_number: r.extended_highest_sequence,
            jitter: r.jitter,
            last_sender_report: r.last_sr,
            delay: r.delay_since_last_sr,
        })
        .collect();
    let first: Box<dyn Packet> = match sent {
        Some((ntp_time, rtp_time, packet_count, octet_count)) => Box::new(SenderReport {
            ssrc,
            ntp_time,
            rtp_time,
            packet_count,
            octet_count,
            reports,
            profile_extensions: Default::default(),
        }),
        None => Box::new(ReceiverReport {
            ssrc,
            reports,
            profile_extensions: Default::default(),
        }),
    };
    let sdes: Box<dyn Packet> = Box::new(SourceDescription {
        chunks: vec![SourceDescriptionChunk {
            source: ssrc,
            items: vec![SourceDescriptionItem {
                sdes_type: SdesType::SdesCname,
                text: cname.as_bytes().to_vec().into(),
            }],
        }],
    });
    rtc_rtcp::packet::marshal(&[first, sdes])
        .map(|b| b.to_vec())
        .map_err(|e| e.to_string())
}

/// A decoded (compound) RTCP datagram.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Compound {
    /// Packet kinds in order.
    pub kinds: Vec<Kind>,
    /// SSRC of the first packet's sender (SR/RR), if any.
    pub sender_ssrc: Option<u32>,
    /// The NTP timestamp of the first sender report, if any (an RR's LSR refers to it).
    pub sender_ntp: Option<u64>,
    /// Report blocks from SR and RR packets.
    pub reports: Vec<ReportBlock>,
    /// (SSRC, CNAME) pairs from SDES.
    pub cnames: Vec<(u32, String)>,
    /// SSRCs that said goodbye.
    pub bye: Vec<u32>,
    /// VoIP Metrics report blocks from XR packets (RFC 3611 §4.7).
    pub voip_metrics: Vec<VoipMetrics>,
}

/// An RTCP XR VoIP Metrics report block (RFC 3611 §4.7): what `reporter` measured of the
/// stream of `source`. Values the reporter marks unavailable (127 for R and MOS) are `None`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct VoipMetrics {
    /// SSRC of the XR packet's sender.
    pub reporter: u32,
    /// SSRC of the stream measured.
    pub source: u32,
    /// Packets lost in the network, percent (the 8-bit fraction × 100 / 256).
    pub loss_percent: f64,
    /// Packets discarded by the jitter buffer, percent.
    pub discard_percent: f64,
    /// Round-trip delay, ms.
    pub round_trip_ms: u16,
    /// End-system delay, ms.
    pub end_system_delay_ms: u16,
    /// R factor (ITU-T G.107), 0–100.
    pub r_factor: Option<u8>,
    /// MOS listening quality, 1.0–5.0.
    pub mos_lq: Option<f64>,
    /// MOS conversational quality, 1.0–5.0.
    pub mos_cq: Option<f64>,
}

/// XR blocks read at most per packet.
const MAX_XR_BLOCKS: usize = 16;

/// The VoIP Metrics blocks of one XR packet (`bytes`: the whole packet, header first);
/// other block types are skipped by their length, a block running past the packet ends the
/// walk.
fn decode_xr(bytes: &[u8], out: &mut Vec<VoipMetrics>) {
    let Some(&[s0, s1, s2, s3]) = bytes.get(4..8) else {
        return;
    };
    let reporter = u32::from_be_bytes([s0, s1, s2, s3]);
    let mut rest = bytes.get(8..).unwrap_or_default();
    for _ in 0..MAX_XR_BLOCKS {
        let Some(&[bt, _, l0, l1]) = rest.get(..4) else {
            return;
        };
        let len = 4 + 4 * usize::from(u16::from_be_bytes([l0, l1]));
        let Some(block) = rest.get(..len) else {
            return;
        };
        if bt == 7
            && let Some(b) = block.get(4..36)
        {
            let mos = |v: u8| (v != 127 && v > 0).then(|| f64::from(v) / 10.0);
            out.push(VoipMetrics {
                reporter,
                source: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                loss_percent: crate::rtp::stats::round3(f64::from(b[4]) * 100.0 / 256.0),
                discard_percent: crate::rtp::stats::round3(f64::from(b[5]) * 100.0 / 256.0),
                round_trip_ms: u16::from_be_bytes([b[12], b[13]]),
                end_system_delay_ms: u16::from_be_bytes([b[14], b[15]]),
                r_factor: (b[20] != 127).then_some(b[20]),
                mos_lq: mos(b[22]),
                mos_cq: mos(b[23]),
            });
        }
        rest = rest.get(len..).unwrap_or_default();
    }
}

fn blocks(reporter: u32, reports: &[ReceptionReport], out: &mut Vec<ReportBlock>) {
    for r in reports {
        // total_lost is a 24-bit two's-complement field.
        let lost = ((r.total_lost << 8) as i32) >> 8;
        out.push(ReportBlock {
            reporter,
            source: r.ssrc,
            fraction_lost: r.fraction_lost,
            cumulative_lost: lost,
            jitter: r.jitter,
            last_sr: r.last_sender_report,
            delay_since_last_sr: r.delay,
        });
    }
}

/// Splits a compound RTCP datagram into its packets, (type, bytes), checking the header
/// chain: each packet is version 2, of an RTCP type, fits the datagram, is long enough for
/// its type and count (RFC 3550 §6.4–6.6, RFC 4585 §6.1, RFC 3611 §2: words after the
/// header) and has room for its padding.
fn split(buf: &[u8]) -> Result<Vec<(u8, &[u8])>, String> {
    let mut packets = Vec::new();
    let mut rest = buf;
    if rest.is_empty() {
        return Err("empty RTCP datagram".into());
    }
    while !rest.is_empty() {
        let [first, pt, hi, lo, ..] = *rest else {
            return Err(format!("RTCP header cut after {} bytes", rest.len()));
        };
        if first >> 6 != 2 {
            return Err(format!("RTCP version {}", first >> 6));
        }
        let count = usize::from(first & 0x1f);
        let words = usize::from(u16::from_be_bytes([hi, lo]));
        let size = 4 * (words + 1);
        if size > rest.len() {
            return Err(format!(
                "RTCP packet type {pt} claims {size} bytes, {} left",
                rest.len()
            ));
        }
        let least = match pt {
            200 => 6 + 6 * count,
            201 => 1 + 6 * count,
            203 => count,
            204..=206 => 2,
            207 => 1,
            _ => 0,
        };
        if words < least {
            return Err(format!(
                "RTCP packet type {pt} of {words} words, under the {least} its type needs"
            ));
        }
        if !(192..=223).contains(&pt) {
            return Err(format!(
                "packet type {pt} is not RTCP (RFC 5761 §4: 192–223)"
            ));
        }
        // Padding: the packet's last octet counts it, at least 1 and within the packet.
        if first & 0x20 != 0 {
            let pad = usize::from(rest.get(size - 1).copied().unwrap_or(0));
            if pad == 0 || pad > size - 4 {
                return Err(format!("RTCP padding of {pad} in a {size}-byte packet"));
            }
        }
        packets.push((pt, rest.get(..size).unwrap_or_default()));
        rest = rest.get(size..).unwrap_or_default();
    }
    Ok(packets)
}

/// Decodes a whole (compound) RTCP datagram (RFC 3550 §6.1).
///
/// Errors: what is wrong with the header chain, or what `rtc-rtcp` rejected in an SR,
/// RR, SDES or BYE packet.
pub fn parse(buf: &[u8]) -> Result<Compound, String> {
    // The `rtcp` crate of the 0.17 line panicked on packets too short for their type or
    // format (a NACK of one word, a FIR with half an entry, padding with no room: found by
    // the fuzz target); `rtc-rtcp` 0.21 returns errors on those, but a decoder of hostile
    // bytes we do not control stays fenced: the header chain is checked here first; only the
    // four types whose contents a report uses (SR, RR, SDES, BYE) go to the crate, one packet
    // at a time; feedback, APP and XR packets are named from their header; and a panic the
    // checks miss is caught, so a hostile packet is an error, never a crash.
    let mut out = Compound::default();
    for (pt, bytes) in split(buf)? {
        let kind = match pt {
            200..=203 => decode_report(pt, bytes, &mut out)?,
            204 => Kind::APP,
            205 => Kind::RTPFB,
            206 => Kind::PSFB,
            207 => {
                decode_xr(bytes, &mut out.voip_metrics);
                Kind::XR
            }
            _ => Kind::Other,
        };
        out.kinds.push(kind);
    }
    Ok(out)
}

/// One SR, RR, SDES or BYE packet through `rtc-rtcp`, into `out`.
fn decode_report(pt: u8, bytes: &[u8], out: &mut Compound) -> Result<Kind, String> {
    let packets = std::panic::catch_unwind(|| {
        let mut cursor = bytes;
        rtc_rtcp::packet::unmarshal(&mut cursor).map_err(|e| e.to_string())
    })
    .map_err(|_| format!("RTCP packet type {pt} the decoder could not read"))??;
    let mut kind = Kind::Other;
    for p in &packets {
        let any = p.as_any();
        kind = if let Some(sr) = any.downcast_ref::<SenderReport>() {
            out.sender_ssrc.get_or_insert(sr.ssrc);
            out.sender_ntp.get_or_insert(sr.ntp_time);
            blocks(sr.ssrc, &sr.reports, &mut out.reports);
            Kind::SR
        } else if let Some(rr) = any.downcast_ref::<ReceiverReport>() {
            out.sender_ssrc.get_or_insert(rr.ssrc);
            blocks(rr.ssrc, &rr.reports, &mut out.reports);
            Kind::RR
        } else if let Some(sdes) = any.downcast_ref::<SourceDescription>() {
            for c in &sdes.chunks {
                for item in &c.items {
                    if item.sdes_type == SdesType::SdesCname {
                        out.cnames
                            .push((c.source, String::from_utf8_lossy(&item.text).into_owned()));
                    }
                }
            }
            Kind::SDES
        } else if let Some(bye) = any.downcast_ref::<Goodbye>() {
            out.bye.extend(&bye.sources);
            Kind::BYE
        } else {
            Kind::Other
        };
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3550 §6.4.1's example: A = 46864.500 s, LSR = 46853.125 s, DLSR = 5.250 s give
    /// an RTT of 6.125 s.
    #[test]
    fn round_trip_from_lsr_and_dlsr() {
        let b = ReportBlock {
            reporter: 1,
            source: 2,
            fraction_lost: 0,
            cumulative_lost: 0,
            jitter: 0,
            last_sr: 0xb705_2000,
            delay_since_last_sr: 0x0005_4000,
        };
        assert_eq!(b.round_trip(0xb710_8000), Some(Duration::from_millis(6125)));
        assert_eq!(b.round_trip(0xb705_2000), None, "negative");
        assert_eq!(
            ReportBlock { last_sr: 0, ..b }.round_trip(0xb710_8000),
            None
        );
        let ntp = ntp_timestamp(Duration::from_millis(1_500));
        assert_eq!(ntp >> 32, NTP_UNIX_OFFSET_S + 1);
        assert_eq!(ntp_compact(ntp) & 0xffff, 0x8000, "half a second");
    }

    /// Our SR and RR read back through our own parser, the 24-bit loss field included.
    #[test]
    fn our_reports_read_back() {
        let reception = Reception {
            source: 0xbeef,
            fraction_lost: 64,
            cumulative_lost: -3,
            extended_highest_sequence: 70_000,
            jitter: 12,
            last_sr: 0x1234_5678,
            delay_since_last_sr: 0x0001_0000,
        };
        let sr = report(
            7,
            Some((ntp_timestamp(Duration::from_secs(1)), 160, 50, 8000)),
            Some(reception),
            "voipdiag@test",
        )
        .unwrap();
        let c = parse(&sr).unwrap();
        assert_eq!(c.kinds, [Kind::SR, Kind::SDES]);
        assert_eq!(c.sender_ssrc, Some(7));
        assert_eq!(c.cnames, [(7, "voipdiag@test".to_string())]);
        let b = c.reports[0];
        assert_eq!(
            (b.source, b.fraction_lost, b.cumulative_lost, b.jitter),
            (0xbeef, 64, -3, 12)
        );
        assert_eq!(
            (b.last_sr, b.delay_since_last_sr),
            (0x1234_5678, 0x0001_0000)
        );
        let rr = report(7, None, None, "x").unwrap();
        assert_eq!(parse(&rr).unwrap().kinds, [Kind::RR, Kind::SDES]);
    }

    /// Found by the fuzz target: the rtcp 0.17 crate panicked on a NACK of one word.
    #[test]
    fn short_feedback_is_an_error_not_a_panic() {
        assert!(parse(&[0x81, 0xcd, 0, 1, 0, 0, 1, 0]).is_err());
        assert!(
            parse(&[0x81, 0xc9, 0, 1, 1, 2, 3, 4]).is_err(),
            "RR claiming a block"
        );
        assert!(parse(&[0x80, 0xc9, 0, 1, 1, 2, 3, 4]).is_ok(), "empty RR");
        // And on a padded packet with nothing to pad (found next).
        assert!(parse(&[0xa0, 0xc9, 0, 0]).is_err());
        assert!(
            parse(&[0xa0, 0x41, 0, 0, 0x80, 0xce, 0, 0]).is_err(),
            "type 65 is not RTCP"
        );
    }

    #[test]
    fn compound_rr_sdes_bye() {
        let pkt = [
            // RR, one block: reporter 0x902f9e2e about 0xbc5e9a40, 25% lost, 5 in all.
            0x81, 0xc9, 0x00, 0x07, 0x90, 0x2f, 0x9e, 0x2e, 0xbc, 0x5e, 0x9a, 0x40, 0x40, 0x00,
            0x00, 0x05, 0x00, 0x00, 0x46, 0xe1, 0x00, 0x00, 0x01, 0x11, 0x09, 0xf3, 0x64, 0x32,
            0x00, 0x02, 0x4a, 0x79, // DLSR; then SDES with CNAME "ab"
            0x81, 0xca, 0x00, 0x03, 0x90, 0x2f, 0x9e, 0x2e, 0x01, 0x02, b'a', b'b', 0x00, 0x00,
            0x00, 0x00, // BYE
            0x81, 0xcb, 0x00, 0x01, 0x90, 0x2f, 0x9e, 0x2e,
        ];
        let c = parse(&pkt).unwrap();
        assert_eq!(c.kinds, vec![Kind::RR, Kind::SDES, Kind::BYE]);
        assert_eq!(c.sender_ssrc, Some(0x902f_9e2e));
        assert_eq!(c.reports.len(), 1);
        assert_eq!(c.reports[0].source, 0xbc5e_9a40);
        assert_eq!(c.reports[0].fraction_lost, 0x40);
        assert_eq!(c.reports[0].cumulative_lost, 5);
        assert_eq!(c.reports[0].jitter, 273);
        assert_eq!(c.cnames, vec![(0x902f_9e2e, "ab".to_string())]);
        assert_eq!(c.bye, vec![0x902f_9e2e]);
        assert!(parse(&pkt[..10]).is_err());
        assert!(parse(&[]).is_err());
    }

    /// An XR packet with a receiver reference time block (skipped) and a VoIP Metrics block
    /// (RFC 3611 §4.7): the metrics come out; MOS 127 is "unavailable".
    #[test]
    fn xr_voip_metrics_are_read() {
        let mut p = vec![0x80, 207, 0, 0];
        p.extend_from_slice(&0x1111_2222_u32.to_be_bytes());
        // Block type 4 (receiver reference time): 2 words.
        p.extend_from_slice(&[4, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]);
        // Block type 7: 8 words.
        p.extend_from_slice(&[7, 0, 0, 8]);
        p.extend_from_slice(&0x3333_4444_u32.to_be_bytes());
        p.extend_from_slice(&[64, 0, 0, 0]); // loss 25 %, discard 0
        p.extend_from_slice(&[0, 0, 0, 0]); // burst / gap durations
        p.extend_from_slice(&[0, 42, 0, 60]); // round trip 42 ms, end system 60 ms
        p.extend_from_slice(&[0, 0, 0, 0]); // levels, RERL, Gmin
        p.extend_from_slice(&[80, 127, 41, 127]); // R 80, ext R n/a, MOS-LQ 4.1, MOS-CQ n/a
        p.extend_from_slice(&[0, 0, 0, 40, 0, 80, 0, 120]);
        let words = (p.len() / 4 - 1) as u16;
        p[2..4].copy_from_slice(&words.to_be_bytes());
        let c = parse(&p).unwrap();
        assert_eq!(c.kinds, [Kind::XR]);
        assert_eq!(
            c.voip_metrics,
            [VoipMetrics {
                reporter: 0x1111_2222,
                source: 0x3333_4444,
                loss_percent: 25.0,
                discard_percent: 0.0,
                round_trip_ms: 42,
                end_system_delay_ms: 60,
                r_factor: Some(80),
                mos_lq: Some(4.1),
                mos_cq: None,
            }]
        );
        // Cut inside the block: nothing, and no panic.
        let mut cut = p[..p.len() - 8].to_vec();
        let words = (cut.len() / 4 - 1) as u16;
        cut[2..4].copy_from_slice(&words.to_be_bytes());
        assert!(parse(&cut).unwrap().voip_metrics.is_empty());
    }
}
