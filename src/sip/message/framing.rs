//! Framing on streams (RFC 3261 §18.3: Content-Length), keep-alives (RFC 5626 §3.5.1), and
//! the cheap check whether bytes begin a SIP message.

use super::{ParseError, canonical_name, is_token_char};

/// Finds the end of the header section: the index just past the empty line, accepting CRLF
/// (and, leniently, bare LF) line ends. Leading empty lines (keep-alives) are part of it.
pub(super) fn header_end(buf: &[u8]) -> Option<usize> {
    let mut at = 0;
    let mut seen_content = false;
    for line in buf.split_inclusive(|b| *b == b'\n') {
        at += line.len();
        if !line.ends_with(b"\n") {
            break;
        }
        let empty = matches!(line, b"\n" | b"\r\n");
        if empty && seen_content {
            return Some(at);
        }
        seen_content |= !empty;
    }
    None
}

/// Stream framing (RFC 3261 §18.3): how many bytes at the start of `buf` make one message,
/// `Ok(None)` if more bytes are needed. CRLF keep-alives before a message (RFC 5626 §3.5.1) are
/// counted into it. Errors when the header section is complete but has no usable
/// Content-Length.
pub fn stream_frame_len(buf: &[u8]) -> Result<Option<usize>, ParseError> {
    let Some(end) = header_end(buf) else {
        return Ok(None);
    };
    let head = String::from_utf8_lossy(buf.get(..end).unwrap_or(buf));
    let mut length = None;
    for line in head.split('\n').skip(1) {
        let line = line.trim_end_matches('\r');
        if let Some((name, value)) = line.split_once(':')
            && canonical_name(name.trim()) == "Content-Length"
        {
            let value = value.trim();
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| ParseError::ContentLength(value.to_string()))?,
            );
            break;
        }
    }
    let length = length.ok_or(ParseError::NoContentLength)?;
    let total = end + length;
    Ok((buf.len() >= total).then_some(total))
}

/// The [`crate::machine::Framer`] for SIP over TCP/TLS: CRLF keep-alives between messages are
/// dropped, then one message is framed by its Content-Length (RFC 3261 §18.3).
///
/// # Errors
/// A header section without a usable Content-Length, in words.
pub fn stream_framer(buf: &[u8]) -> Result<crate::machine::Frame, String> {
    use crate::machine::Frame;
    if buf.starts_with(b"\r\n") {
        return Ok(Frame::Skip(2));
    }
    match stream_frame_len(buf) {
        Ok(Some(n)) => Ok(Frame::Message(n)),
        Ok(None) => Ok(Frame::Incomplete),
        Err(e) => Err(e.to_string()),
    }
}

/// Cheap check whether bytes begin a SIP message: after optional CRLF keep-alives, a status
/// line `SIP/2.0 NNN` or a request line `TOKEN SP URI SP SIP/2.0` (RFC 3261 §7.1, §7.2).
/// Used to recognise SIP on any port and to resynchronise a stream.
pub fn looks_like_start(buf: &[u8]) -> bool {
    let start = buf
        .iter()
        .position(|b| *b != b'\r' && *b != b'\n')
        .unwrap_or(buf.len());
    let buf = buf.get(start..).unwrap_or_default();
    let Some(line) = buf
        .iter()
        .take(2048)
        .position(|b| *b == b'\n')
        .and_then(|e| buf.get(..e))
    else {
        return false;
    };
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if let Some(rest) = line.strip_prefix(b"SIP/2.0 ") {
        return rest
            .get(..3)
            .is_some_and(|c| c.iter().all(u8::is_ascii_digit));
    }
    let Some((method, _)) = line.split_once_byte(b' ') else {
        return false;
    };
    !method.is_empty()
        && method.iter().all(|b| is_token_char(char::from(*b)))
        && line.len() > method.len() + 8
        && line.ends_with(b" SIP/2.0")
}

/// `split_once` on bytes.
trait SplitOnceByte {
    fn split_once_byte(&self, b: u8) -> Option<(&[u8], &[u8])>;
}

impl SplitOnceByte for [u8] {
    fn split_once_byte(&self, b: u8) -> Option<(&[u8], &[u8])> {
        let i = self.iter().position(|x| *x == b)?;
        Some((self.get(..i)?, self.get(i + 1..)?))
    }
}
