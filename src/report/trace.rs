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
        Err(e) => format!("{} bytes, not accepted: {e}", t.bytes.len()),
    };
    let transport = if t.stream { "tcp" } else { "udp" };
    // SOFTWARE, reason phrases and the like are the peer's text: one line, no controls.
    let text = super::terminal_safe(&text).replace('\n', "\\n");
    let mut line = format!("{} {arrow} {} ({transport})  {text}", t.local, t.remote);
    if verbose > 1 {
        for chunk in t.bytes.chunks(16) {
            line.push_str("\n    ");
            line.push_str(
                &chunk
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
    }
    line
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
