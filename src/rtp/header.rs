//! RTP fixed-header decoding (RFC 3550 §5.1; our own, see [`parse`] for why), and the cheap checks
//! that tell RTP from RTCP on a shared port (RFC 5761 §4) and from STUN/DTLS (RFC 7983).

/// The fields of an RTP header that stream analysis needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    /// Marker bit (M).
    pub marker: bool,
    /// Payload type (PT), 0–127.
    pub payload_type: u8,
    /// Sequence number.
    pub sequence_number: u16,
    /// RTP timestamp, in units of the payload's clock rate.
    pub timestamp: u32,
    /// Synchronization source (SSRC).
    pub ssrc: u32,
    /// Offset of the payload in the packet, in bytes (after CSRCs and extension).
    pub payload_offset: usize,
    /// Payload length in bytes, without padding.
    pub payload_len: usize,
}

/// Why bytes are not an RTP packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    /// Version field other than 2.
    #[error("RTP version {0}, expected 2")]
    Version(u8),
    /// The header, CSRC list, extension or padding run past the end.
    #[error("RTP packet malformed: {0}")]
    Malformed(String),
}

/// Decodes the RTP header of a whole UDP payload (RFC 3550 §5.1, with CSRCs, the header
/// extension of §5.3.1 and padding).
///
/// Our own few lines rather than the `rtp` crate's `Header::unmarshal`: that one (0.17)
/// parses the extension's elements (RFC 8285), which nothing here uses, and panics when one
/// runs past its block (found by the fuzz target) — so a hostile packet in a capture
/// crashed pcap-decode. The block as a whole is checked to fit; its contents are skipped.
///
/// Errors: [`RtpError`] when the version is not 2 or the lengths do not fit.
#[inline(always)] // per packet in pcap-decode: inlined, the header is not stored and reloaded
pub fn parse(buf: &[u8]) -> Result<RtpHeader, RtpError> {
    let short = |what: &str| RtpError::Malformed(format!("{what} runs past the packet"));
    let Some(&[b0, b1, s0, s1, t0, t1, t2, t3, i0, i1, i2, i3]) = buf.get(..12) else {
        return match buf.first() {
            Some(b0) if b0 >> 6 != 2 => Err(RtpError::Version(b0 >> 6)),
            _ => Err(short("the fixed header")),
        };
    };
    if b0 >> 6 != 2 {
        return Err(RtpError::Version(b0 >> 6));
    }
    let mut payload_offset = 12 + 4 * usize::from(b0 & 0x0f);
    if buf.len() < payload_offset {
        return Err(short("the CSRC list"));
    }
    if b0 & 0x10 != 0 {
        let Some(&[_, _, l0, l1]) = buf.get(payload_offset..payload_offset + 4) else {
            return Err(short("the header extension"));
        };
        payload_offset += 4 + 4 * usize::from(u16::from_be_bytes([l0, l1]));
        if buf.len() < payload_offset {
            return Err(short("the header extension"));
        }
    }
    let mut payload_len = buf.len() - payload_offset;
    if b0 & 0x20 != 0 {
        let pad = usize::from(*buf.last().unwrap_or(&0));
        if pad == 0 || pad > payload_len {
            return Err(RtpError::Malformed(format!(
                "padding of {pad} bytes in a {payload_len}-byte payload"
            )));
        }
        payload_len -= pad;
    }
    Ok(RtpHeader {
        marker: b1 & 0x80 != 0,
        payload_type: b1 & 0x7f,
        sequence_number: u16::from_be_bytes([s0, s1]),
        timestamp: u32::from_be_bytes([t0, t1, t2, t3]),
        ssrc: u32::from_be_bytes([i0, i1, i2, i3]),
        payload_offset,
        payload_len,
    })
}

/// Whether a datagram could be RTP: version 2, at least 12 bytes, and a payload type outside
/// 72–76, which RFC 5761 §4 leaves to RTCP (SR, RR, SDES, BYE, APP with the marker bit).
pub fn looks_like_rtp(buf: &[u8]) -> bool {
    buf.len() >= 12 && buf[0] >> 6 == 2 && !(72..=76).contains(&(buf[1] & 0x7f))
}

/// Whether a datagram could be (compound) RTCP: version 2 and a first packet type 192–223
/// (RFC 5761 §4; SR is 200, XR 207), with a length that fits the datagram (RFC 3550 §6.4.1).
pub fn looks_like_rtcp(buf: &[u8]) -> bool {
    if buf.len() < 8 || buf[0] >> 6 != 2 || !(192..=223).contains(&buf[1]) {
        return false;
    }
    let words = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
    (words + 1) * 4 <= buf.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the fuzz target: the rtp crate panicked on an extension element longer than
    /// its block; we skip the block whole.
    #[test]
    fn extension_blocks_are_skipped_whole() {
        let mut p = vec![0x90, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1];
        p.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x1f, 0xaa, 0xbb, 0xcc]);
        let h = parse(&p).unwrap();
        assert_eq!(
            (h.payload_offset, h.payload_len),
            (20, 0),
            "its elements are not read"
        );
        p[15] = 9;
        assert!(parse(&p).is_err(), "a block of 9 words in a 20-byte packet");
        let mut ok = vec![0x90, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1];
        ok.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0, 0xd5]);
        assert_eq!(parse(&ok).unwrap().payload_len, 1);
    }

    /// A G.711 A-law packet: V=2, M=1, PT=8, seq 0x1234, ts 0x00000140, SSRC 0xA1A1A1A1.
    const PCMA: [u8; 16] = [
        0x80, 0x88, 0x12, 0x34, 0x00, 0x00, 0x01, 0x40, 0xA1, 0xA1, 0xA1, 0xA1, 0xD5, 0xD5, 0xD5,
        0xD5,
    ];

    #[test]
    fn fixed_header_fields() {
        let h = parse(&PCMA).unwrap();
        assert!(h.marker);
        assert_eq!(h.payload_type, 8);
        assert_eq!(h.sequence_number, 0x1234);
        assert_eq!(h.timestamp, 320);
        assert_eq!(h.ssrc, 0xA1A1_A1A1);
        assert_eq!((h.payload_offset, h.payload_len), (12, 4));
    }

    #[test]
    fn csrc_extension_and_padding_are_skipped() {
        // CC=1, X=1, P=1: one CSRC, a one-word 0xBEDE extension, 2 payload bytes + 2 padding.
        let pkt = [
            0xB1, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, // fixed header
            0, 0, 0, 7, // CSRC
            0xBE, 0xDE, 0, 1, 0x10, 0xAA, 0, 0, // extension header + 1 word
            0x11, 0x22, 0x00, 0x02, // payload (2) + padding (2, count in the last byte)
        ];
        let h = parse(&pkt).unwrap();
        assert_eq!((h.payload_offset, h.payload_len), (24, 2));
    }

    #[test]
    fn malformed_packets_are_errors_not_panics() {
        assert_eq!(parse(&[0x40; 12]), Err(RtpError::Version(1)));
        assert!(parse(&PCMA[..8]).is_err());
        let mut cc = PCMA;
        cc[0] = 0x8F; // 15 CSRCs announced, none present
        assert!(parse(&cc).is_err());
        let mut pad = PCMA;
        pad[0] |= 0x20;
        pad[15] = 9; // more padding than payload
        assert!(parse(&pad).is_err());
    }

    #[test]
    fn rtp_and_rtcp_demultiplex_by_payload_type() {
        assert!(looks_like_rtp(&PCMA));
        // An RTCP RR: PT 201 = M bit + 73, in RFC 5761's reserved range.
        let rr = [0x80, 201, 0, 1, 0, 0, 0, 1];
        assert!(looks_like_rtcp(&rr));
        assert!(!looks_like_rtp(&[0x80, 201, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]));
        assert!(!looks_like_rtcp(&PCMA));
        assert!(
            !looks_like_rtcp(&[0x80, 200, 0, 9, 0, 0, 0, 1]),
            "length past the end"
        );
    }
}
