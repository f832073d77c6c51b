//! RTP fixed-header decoding (RFC 3550 §5.1) through the `rtp` crate, and the cheap checks
//! that tell RTP from RTCP on a shared port (RFC 5761 §4) and from STUN/DTLS (RFC 7983).

use bytes::Buf;
use webrtc_util::marshal::Unmarshal;

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
/// Errors: [`RtpError`] when the version is not 2 or the lengths do not fit.
pub fn parse(buf: &[u8]) -> Result<RtpHeader, RtpError> {
    if let Some(b0) = buf.first()
        && b0 >> 6 != 2
    {
        return Err(RtpError::Version(b0 >> 6));
    }
    // The `rtp` crate (0.17) panics on a header extension whose elements overrun their block
    // (found by the fuzz target): the lengths are checked here first, and a panic the check
    // misses is caught, so a hostile packet is an error, never a crash.
    check_lengths(buf)?;
    let (header, remaining) = std::panic::catch_unwind(|| {
        let mut cursor = buf;
        rtp::header::Header::unmarshal(&mut cursor).map(|h| (h, cursor.remaining()))
    })
    .map_err(|_| RtpError::Malformed("a header the decoder could not read".into()))?
    .map_err(|e| RtpError::Malformed(e.to_string()))?;
    let payload_offset = buf.len() - remaining;
    let mut payload_len = remaining;
    if header.padding {
        let pad = usize::from(*buf.last().unwrap_or(&0));
        if pad == 0 || pad > payload_len {
            return Err(RtpError::Malformed(format!(
                "padding of {pad} bytes in a {payload_len}-byte payload"
            )));
        }
        payload_len -= pad;
    }
    Ok(RtpHeader {
        marker: header.marker,
        payload_type: header.payload_type,
        sequence_number: header.sequence_number,
        timestamp: header.timestamp,
        ssrc: header.ssrc,
        payload_offset,
        payload_len,
    })
}

/// Checks that the fixed header, the CSRC list and the header extension (RFC 3550 §5.3.1)
/// fit the packet, and so do the extension's elements (RFC 8285 §4.2 one-byte, §4.3
/// two-byte headers).
fn check_lengths(buf: &[u8]) -> Result<(), RtpError> {
    let short = |what: &str| Err(RtpError::Malformed(format!("{what} runs past the packet")));
    let Some(&b0) = buf.first() else {
        return short("the fixed header");
    };
    let mut at = 12 + 4 * usize::from(b0 & 0x0f);
    if buf.len() < at {
        return short("the CSRC list");
    }
    if b0 & 0x10 == 0 {
        return Ok(());
    }
    let Some(&[p0, p1, l0, l1]) = buf.get(at..at + 4) else {
        return short("the header extension");
    };
    let profile = u16::from_be_bytes([p0, p1]);
    at += 4;
    let end = at + 4 * usize::from(u16::from_be_bytes([l0, l1]));
    let Some(block) = buf.get(at..end) else {
        return short("the header extension");
    };
    let (one_byte, two_byte) = (profile == 0xBEDE, profile & 0xFFF0 == 0x1000);
    let mut i = 0;
    while let Some(&b) = block.get(i) {
        if b == 0 {
            i += 1; // padding
            continue;
        }
        let len = if one_byte {
            if b >> 4 == 15 {
                break; // reserved id: the rest is not read
            }
            1 + usize::from(b & 0x0f) + 1
        } else if two_byte {
            2 + usize::from(*block.get(i + 1).unwrap_or(&u8::MAX))
        } else {
            break;
        };
        if i + len > block.len() {
            return short("a header extension element");
        }
        i += len;
    }
    Ok(())
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
    /// its block.
    #[test]
    fn overlong_extension_elements_are_an_error_not_a_panic() {
        let mut p = vec![0x90, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1];
        p.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x1f, 0xaa, 0xbb, 0xcc]);
        assert!(
            parse(&p).is_err(),
            "an element of 16 bytes in a 4-byte block"
        );
        let mut ok = vec![0x90, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1];
        ok.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0, 0xd5]);
        assert_eq!(parse(&ok).unwrap().payload_len, 1);
        let two = [
            0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x10, 0x00, 0, 1, 1, 9, 0, 0,
        ];
        assert!(
            parse(&two).is_err(),
            "a two-byte element of 9 in a 4-byte block"
        );
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
