//! `-v` traces on stderr: each datagram or stream message the driver sent or received, in
//! words. STUN as a one-line decode (`-vv` adds hex); SIP as the whole message with
//! credentials redacted (RFC 7616 responses never reach a trace).

use crate::machine::{Direction, Traced};
use crate::sip::digest::redact;
use crate::stun::message::decode;

/// One STUN trace line: direction, addresses, transport, the decoded message; `verbose` > 1
/// adds a hex dump.
pub fn stun_line(t: &Traced<'_>, verbose: u8) -> String {
    let arrow = arrow(t.direction);
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
        line.push_str(&hex_dump(t.bytes, &integrity_ranges(t.bytes)));
    }
    line
}

/// A hex dump for `-vv`: 16 bytes a row, each row on its own indented line (the text begins
/// with a newline), bytes inside `hidden` shown as `xx`.
pub fn hex_dump(bytes: &[u8], hidden: &[std::ops::Range<usize>]) -> String {
    let mut out = String::new();
    for (row, chunk) in bytes.chunks(16).enumerate() {
        out.push_str("\n    ");
        out.push_str(
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
    out
}

/// → for a datagram we sent, ← for one we received.
fn arrow(d: Direction) -> &'static str {
    match d {
        Direction::Sent => "→",
        Direction::Received => "←",
    }
}

/// One NAT-PMP (RFC 6886) or PCP (RFC 6887) trace line: direction, addresses and
/// [`crate::upnp::datagram_summary`]; `verbose` > 1 adds a hex dump.
pub fn port_map_line(t: &Traced<'_>, verbose: u8) -> String {
    let arrow = arrow(t.direction);
    let b = t.bytes;
    let text = crate::upnp::datagram_summary(b);
    let mut line = format!(
        "{} {arrow} {} (udp)  {text}, {} bytes",
        t.local,
        t.remote,
        b.len()
    );
    if verbose > 1 {
        line.push_str(&hex_dump(b, &[]));
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
/// Proxy-Authorization values redacted; `verbose` > 1 adds a hex dump of the message as
/// shown (credentials redacted there too: the digest response never appears, not even in
/// hex).
pub fn sip_message(t: &Traced<'_>, verbose: u8) -> String {
    let arrow = arrow(t.direction);
    let what = match t.direction {
        Direction::Sent => "sent",
        Direction::Received => "received",
    };
    let redacted = redact(&String::from_utf8_lossy(t.bytes));
    let text = redacted.replace("\r\n", "\n");
    let text = super::terminal_safe(&text);
    let mut out = format!(
        "--- {what} {} bytes {} {arrow} {}\n{}",
        t.bytes.len(),
        t.local,
        t.remote,
        text.trim_end()
    );
    if verbose > 1 {
        out.push_str("\n--- hex (credentials redacted):");
        out.push_str(&hex_dump(redacted.as_bytes(), &[]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traced(bytes: &[u8]) -> Traced<'_> {
        Traced {
            direction: Direction::Sent,
            local: ([192, 0, 2, 2], 5060).into(),
            remote: ([192, 0, 2, 1], 5060).into(),
            stream: false,
            bytes,
        }
    }

    /// -vv's hex dump of a SIP message is of the redacted text: the digest response is
    /// not in it, not even as hex.
    #[test]
    fn sip_hex_dump_keeps_the_digest_response_out() {
        let msg = b"REGISTER sip:example.com SIP/2.0\r\nAuthorization: Digest username=\"alice\", response=\"6629fae49393a05397450978507c4ef1\"\r\nContent-Length: 0\r\n\r\n";
        let one = sip_message(&traced(msg), 1);
        assert!(!one.contains("--- hex"));
        let two = sip_message(&traced(msg), 2);
        assert!(two.contains("--- hex (credentials redacted):"), "{two}");
        let hex_of = |s: &str| {
            s.bytes()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let dump: String = two
            .split("--- hex (credentials redacted):")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(!two.contains("6629fae4"), "{two}");
        assert!(!dump.contains(&hex_of("6629fae4")), "{dump}");
        assert!(dump.starts_with(&hex_of("REGISTER")), "{dump}");
    }

    #[test]
    fn port_map_lines_name_protocol_and_result() {
        let line = port_map_line(&traced(&[0, 0]), 1);
        assert!(
            line.ends_with("NAT-PMP request: external address, 2 bytes"),
            "{line}"
        );
        let resp = [0, 128, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0];
        let line = port_map_line(&traced(&resp), 2);
        assert!(
            line.contains("NAT-PMP response: external address, result 3"),
            "{line}"
        );
        assert!(line.contains("\n    00 80 00 03"), "{line}");
        let pcp = [2, 0x81, 0, 8];
        assert!(port_map_line(&traced(&pcp), 1).contains("PCP response: MAP, result 8"));
    }
}
