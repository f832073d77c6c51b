//! ChannelData messages (RFC 8656 §12.4): a 4-byte header (channel number 0x4000–0x4FFF,
//! length) and the application data; over TCP/TLS padded to a multiple of 4 bytes (§12.5).
//! RFC 7983 §7 tells them from STUN by the first byte: 0–3 STUN, 64–79 ChannelData.

use crate::machine::Frame;

/// The first channel number a client may bind (RFC 8656 §12).
pub const FIRST_CHANNEL: u16 = 0x4000;
/// The last channel number (RFC 8656 §12; RFC 5766 allowed up to 0x7FFF).
pub const LAST_CHANNEL: u16 = 0x4FFF;

/// Whether bytes start like a ChannelData message (RFC 7983: first byte 64–79) with a length
/// that fits.
pub fn is_channel_data(b: &[u8]) -> bool {
    b.len() >= 4 && (0x40..=0x4F).contains(&b[0]) && {
        let len = usize::from(u16::from_be_bytes([b[2], b[3]]));
        4 + len <= b.len()
    }
}

/// Encodes a ChannelData message; `pad` for TCP/TLS (RFC 8656 §12.5).
///
/// # Panics
/// Never: data longer than 65535 bytes is cut to that length (callers send RTP-sized data).
pub fn encode(channel: u16, data: &[u8], pad: bool) -> Vec<u8> {
    let data = &data[..data.len().min(usize::from(u16::MAX))];
    let len = data.len();
    let mut out = Vec::with_capacity(4 + len + 3);
    out.extend_from_slice(&channel.to_be_bytes());
    out.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(data);
    if pad {
        out.resize(4 + len.div_ceil(4) * 4, 0);
    }
    out
}

/// Decodes a ChannelData message into (channel number, data); padding after the length is
/// ignored. `None` when it is not one.
pub fn decode(b: &[u8]) -> Option<(u16, &[u8])> {
    if !is_channel_data(b) {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([b[2], b[3]]));
    Some((u16::from_be_bytes([b[0], b[1]]), &b[4..4 + len]))
}

/// Frames a TURN stream (RFC 8656 §12.5, RFC 8489 §6.2.2): STUN by its length field,
/// ChannelData by its length rounded up to 4. Anything else can never frame.
pub fn stream_framer(buf: &[u8]) -> Result<Frame, String> {
    if buf.len() < 4 {
        return Ok(Frame::Incomplete);
    }
    let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
    let total = match buf[0] {
        0x00..=0x03 => 20 + len,
        0x40..=0x4F => 4 + len.div_ceil(4) * 4,
        other => {
            return Err(format!(
                "first byte 0x{other:02x} is neither STUN nor ChannelData (RFC 7983)"
            ));
        }
    };
    Ok(if buf.len() >= total {
        Frame::Message(total)
    } else {
        Frame::Incomplete
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_over_tcp_pads_and_frames() {
        let m = encode(0x4000, &[1, 2, 3, 4, 5], true);
        assert_eq!(m, [0x40, 0x00, 0x00, 0x05, 1, 2, 3, 4, 5, 0, 0, 0]);
        assert_eq!(decode(&m), Some((0x4000, &[1u8, 2, 3, 4, 5][..])));
        let udp = encode(0x4001, &[9; 5], false);
        assert_eq!(udp.len(), 9);
        // Two messages back to back in a stream: ChannelData (padded) then STUN.
        let mut buf = m.clone();
        buf.extend_from_slice(&[0x01, 0x01, 0x00, 0x00]);
        assert_eq!(stream_framer(&buf), Ok(Frame::Message(12)));
        assert_eq!(stream_framer(&buf[12..]), Ok(Frame::Incomplete));
        assert_eq!(stream_framer(&m[..10]), Ok(Frame::Incomplete));
        assert!(
            stream_framer(&[0x80, 0, 0, 1, 0]).is_err(),
            "RTP is neither"
        );
        // RFC 7983: a first byte of 64-79 ('G' is 71) is ChannelData, whatever follows.
        assert_eq!(stream_framer(b"GET "), Ok(Frame::Incomplete));
        assert!(!is_channel_data(&[0x40, 0, 0, 9, 1]), "length past the end");
    }
}
