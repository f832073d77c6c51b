//! `-v` traces on stderr: each datagram or stream message the driver sent or received, in
//! words. STUN as a one-line decode (`-vv` adds hex); SIP as the whole message with
//! credentials redacted (RFC 7616 responses never reach a trace).

use crate::machine::{Direction, Traced};
use crate::sip::digest::redact;
use crate::stun::message::decode;

/// One STUN trace line: direction, addresses, transport, the decoded message; `verbose` > 1
/// adds a hex dump.
pub fn stun_line(t: &Traced<'_>, verbose: u8) -> String {
    let arrow = match t.direction {
        Direction::Sent => "→",
        Direction::Received => "←",
    };
    let text = match decode(t.bytes) {
        Ok(m) => m.to_string(),
        Err(_) if crate::stun::turn::channel::is_channel_data(t.bytes) => format!(
            "ChannelData 0x{:02x}{:02x}, {} bytes",
            t.bytes[0],
            t.bytes[1],
            t.bytes.len() - 4
        ),
        Err(e) => format!("{} bytes, not accepted: {e}", t.bytes.len()),
    };
    let transport = if t.stream { "tcp" } else { "udp" };
    // SOFTWARE, reason phrases and the like are the peer's text: one line, no controls.
    let text = super::terminal_safe(&text).replace('\n', "\\n");
    let mut line = format!("{} {arrow} {} ({transport})  {text}", t.local, t.remote);
    if verbose > 1 {
        let hidden = integrity_ranges(t.bytes);
        for (row, chunk) in t.bytes.chunks(16).enumerate() {
            line.push_str("\n    ");
            line.push_str(
                &chunk
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        let at = row * 16 + i;
                        if hidden.iter().any(|r| r.contains(&at)) {
                            "xx".to_string()
                        } else {
                            format!("{b:02x}")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
    }
    line
}

/// Byte ranges of MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256 values (RFC 8489 §14.5,
/// §14.6) in a STUN message: an HMAC keyed with the password is not shown, not even in hex.
fn integrity_ranges(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    if !crate::stun::message::looks_like_stun(bytes) {
        return out;
    }
    let mut off = crate::stun::message::HEADER_LEN;
    while off + 4 <= bytes.len() {
        let kind = u16::from_be_bytes([bytes[off], bytes[off + 1]]);
        let len = usize::from(u16::from_be_bytes([bytes[off + 2], bytes[off + 3]]));
        if kind == 0x0008 || kind == 0x001C {
            out.push(off + 4..(off + 4 + len).min(bytes.len()));
        }
        off += 4 + len.div_ceil(4) * 4;
    }
    out
}

/// One SIP message as traced: a header line, then the message with Authorization and
/// Proxy-Authorization values redacted.
pub fn sip_message(t: &Traced<'_>) -> String {
    let (arrow, what) = match t.direction {
        Direction::Sent => ("→", "sent"),
        Direction::Received => ("←", "received"),
    };
    let text = redact(&String::from_utf8_lossy(t.bytes)).replace("\r\n", "\n");
    let text = super::terminal_safe(&text);
    format!(
        "--- {what} {} bytes {} {arrow} {}\n{}",
        t.bytes.len(),
        t.local,
        t.remote,
        text.trim_end()
    )
}
