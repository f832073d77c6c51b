//! The SIP message facade (RFC 3261 §7, §20, §25): framing, normalisation, header access and a
//! grammar check that says precisely what is wrong with a message.
//!
//! rsip 0.4 is the project's SIP crate, but as a *parser* it falls short (see
//! ../shared/CRATES.md §1): it ignores Content-Length, rejects folded lines, whitespace before
//! `:` and extension methods, does not know compact header names and silently drops the second
//! value of `Via: a, b`. Received messages are therefore parsed here, in one place, into
//! [`Message`]: the start line, the header fields in order (compact names expanded, folded
//! lines joined, comma-separated list values split into one field each) and the body framed by
//! Content-Length. rsip builds the requests we send (see [`super::request`]).
//!
//! Parsing is lenient where the RFC asks receivers to be (RFC 4475 §3.1.1) and records every
//! grammar violation it sees as a [`Problem`], so a diagnostic tool can both use the message
//! and say what is wrong with it. Only a message that cannot be framed or has no usable start
//! line is an [`Err`].

// A peer's bytes must never index out of bounds: no indexing or slicing that can panic.
#![warn(clippy::indexing_slicing)]

use std::fmt;

mod framing;
mod grammar;
mod name_addr;
mod via;

use framing::header_end;
pub use framing::{looks_like_start, stream_frame_len, stream_framer};
use grammar::{parse_cseq, parse_start_line, split_list, syntax};
pub use name_addr::NameAddr;
pub use via::Via;

/// Largest CSeq sequence number (RFC 3261 §8.1.1.5: less than 2**31).
const CSEQ_MAX: u64 = (1 << 31) - 1;
/// Largest delta-seconds value accepted (RFC 3261 §25.1 allows 32-bit values; larger ones are
/// what RFC 4475 §3.1.2.4 calls out as scalar overflow).
const DELTA_SECONDS_MAX: u64 = u32::MAX as u64;

/// A parse failure that leaves no usable message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// No empty line ends the header section.
    #[error("no empty line ends the header section ({0} bytes read)")]
    NoHeaderEnd(usize),
    /// The first line is neither a request line nor a status line.
    #[error("bad start line: {0}")]
    StartLine(String),
    /// Content-Length is not a number.
    #[error("Content-Length is not a non-negative number: {0:?}")]
    ContentLength(String),
    /// Content-Length claims more bytes than the datagram holds (RFC 3261 §18.3).
    #[error("Content-Length {declared} exceeds the {available} body bytes received")]
    BodyTruncated {
        /// Bytes declared.
        declared: usize,
        /// Bytes present after the header section.
        available: usize,
    },
    /// A stream message without Content-Length cannot be framed (RFC 3261 §18.3).
    #[error("no Content-Length on a stream transport")]
    NoContentLength,
}

/// Whether a problem breaks the grammar or only the rules a server applies afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// The bytes do not match the RFC 3261 §25 grammar.
    Syntax,
    /// Well-formed, but breaks a rule of RFC 3261 (a required header missing, one that may
    /// appear once appearing twice, …); a server answers 400.
    Semantic,
}

/// One violation found while parsing, with the header it concerns.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Syntax or semantic.
    pub kind: ProblemKind,
    /// The header field (canonical name) or `start-line`.
    pub location: String,
    /// What is wrong, in words.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.reason)
    }
}

/// The first line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// `Method SP Request-URI SP SIP-Version` (RFC 3261 §7.1).
    Request {
        /// The method token, case-sensitive; extension methods are kept as they are.
        method: String,
        /// The Request-URI as written.
        uri: String,
    },
    /// `SIP-Version SP Status-Code SP Reason-Phrase` (RFC 3261 §7.2).
    Response {
        /// 100–699.
        code: u16,
        /// The reason phrase, possibly empty, possibly UTF-8.
        reason: String,
    },
}

/// One header field value: list headers are split so that each value is its own field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Canonical name (`Call-ID`, `Via`, …; compact forms expanded; unknown names as written).
    pub name: String,
    /// The value with folding undone and surrounding whitespace trimmed.
    pub value: String,
}

/// A parsed SIP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Request or status line.
    pub start: StartLine,
    /// Header fields in the order received.
    pub headers: Vec<Header>,
    /// The body, exactly Content-Length bytes.
    pub body: Vec<u8>,
    /// Total bytes this message took (header section plus body); a datagram may hold more,
    /// which is ignored (RFC 4475 §3.1.1.8).
    pub len: usize,
    /// Every grammar or semantic violation seen.
    pub problems: Vec<Problem>,
}

/// Compact forms (RFC 3261 §7.3.3 and the IANA registry) → full names.
const COMPACT: &[(char, &str)] = &[
    ('a', "Accept-Contact"),
    ('b', "Referred-By"),
    ('c', "Content-Type"),
    ('d', "Request-Disposition"),
    ('e', "Content-Encoding"),
    ('f', "From"),
    ('i', "Call-ID"),
    ('j', "Reject-Contact"),
    ('k', "Supported"),
    ('l', "Content-Length"),
    ('m', "Contact"),
    ('n', "Identity-Info"),
    ('o', "Event"),
    ('r', "Refer-To"),
    ('s', "Subject"),
    ('t', "To"),
    ('u', "Allow-Events"),
    ('v', "Via"),
    ('x', "Session-Expires"),
    ('y', "Identity"),
];

/// Canonical spellings of the headers we look at (matching is case-insensitive).
const CANONICAL: &[&str] = &[
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "Allow",
    "Authentication-Info",
    "Authorization",
    "Call-ID",
    "Contact",
    "Content-Length",
    "Content-Type",
    "CSeq",
    "Date",
    "Expires",
    "From",
    "Max-Forwards",
    "Min-Expires",
    "P-Associated-URI",
    "Path",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Proxy-Require",
    "Record-Route",
    "Require",
    "Retry-After",
    "Route",
    "Server",
    "Service-Route",
    "Supported",
    "To",
    "Unsupported",
    "User-Agent",
    "Via",
    "Warning",
    "WWW-Authenticate",
];

/// Headers whose grammar is a comma-separated list (RFC 3261 §7.3.1): split into one field per
/// value. Authentication headers are not lists (their parameters contain commas).
const LIST_HEADERS: &[&str] = &[
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "Allow",
    "Allow-Events",
    "Contact",
    "Content-Encoding",
    "P-Associated-URI",
    "Path",
    "Proxy-Require",
    "Record-Route",
    "Require",
    "Route",
    "Service-Route",
    "Supported",
    "Unsupported",
    "Via",
    "Warning",
];

/// Headers that may appear at most once (RFC 3261 §7.3.1, §20).
const SINGLETONS: &[&str] = &[
    "Call-ID",
    "Content-Length",
    "Content-Type",
    "CSeq",
    "From",
    "Max-Forwards",
    "To",
];

/// Headers every request must carry (RFC 3261 §8.1.1).
const REQUIRED_IN_REQUEST: &[&str] = &["To", "From", "CSeq", "Call-ID", "Max-Forwards", "Via"];

/// `token` characters (RFC 3261 §25.1).
pub fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c)
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_token_char)
}

fn canonical_name(raw: &str) -> String {
    let mut chars = raw.chars();
    if let (Some(c), None) = (chars.next(), chars.next())
        && let Some((_, full)) = COMPACT.iter().find(|(k, _)| k.eq_ignore_ascii_case(&c))
    {
        return (*full).to_string();
    }
    CANONICAL
        .iter()
        .find(|n| n.eq_ignore_ascii_case(raw))
        .map_or_else(|| raw.to_string(), |n| (*n).to_string())
}

impl Message {
    /// Parses one message from a datagram, or from bytes already framed by
    /// [`stream_frame_len`]. Bytes after Content-Length are ignored; a missing Content-Length
    /// means the rest of the datagram is the body (RFC 3261 §18.3).
    ///
    /// # Errors
    /// [`ParseError`] when the message cannot be framed or its start line is unusable; all
    /// other violations are recorded in [`Message::problems`].
    pub fn parse(buf: &[u8]) -> Result<Message, ParseError> {
        let end = header_end(buf).ok_or(ParseError::NoHeaderEnd(buf.len()))?;
        let mut problems = Vec::new();
        let head_bytes = buf.get(..end).ok_or(ParseError::NoHeaderEnd(buf.len()))?;
        let head = match std::str::from_utf8(head_bytes) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(e) => {
                problems.push(syntax(
                    "message",
                    format!("header section is not UTF-8 (byte {})", e.valid_up_to()),
                ));
                String::from_utf8_lossy(head_bytes)
            }
        };
        // Logical lines: unfold continuation lines (RFC 3261 §7.3.1) into one SP.
        let mut lines: Vec<String> = Vec::new();
        for raw in head.split('\n') {
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            if raw.is_empty() {
                continue;
            }
            if raw.starts_with([' ', '\t']) && !lines.is_empty() {
                let last = lines.last_mut().expect("checked non-empty");
                last.push(' ');
                last.push_str(raw.trim_start_matches([' ', '\t']));
            } else {
                lines.push(raw.to_string());
            }
        }
        let (first, rest) = lines
            .split_first()
            .ok_or(ParseError::NoHeaderEnd(buf.len()))?;
        let start = parse_start_line(first, &mut problems)?;

        let mut headers = Vec::new();
        for line in rest {
            let Some((name, value)) = line.split_once(':') else {
                problems.push(syntax("header", format!("line without a colon: {line:?}")));
                continue;
            };
            let raw_name = name.trim_end_matches([' ', '\t']);
            if !is_token(raw_name) {
                problems.push(syntax(
                    "header",
                    format!("header name {raw_name:?} is not a token"),
                ));
                continue;
            }
            let name = canonical_name(raw_name);
            let value = value.trim_matches([' ', '\t']);
            if LIST_HEADERS.contains(&name.as_str()) {
                for v in split_list(value) {
                    if v.is_empty() {
                        problems.push(syntax(&name, "empty value in a comma-separated list"));
                        continue;
                    }
                    headers.push(Header {
                        name: name.clone(),
                        value: v.to_string(),
                    });
                }
            } else {
                headers.push(Header {
                    name,
                    value: value.to_string(),
                });
            }
        }

        // Body framing by Content-Length.
        let available = buf.len() - end;
        let lengths: Vec<&Header> = headers
            .iter()
            .filter(|h| h.name == "Content-Length")
            .collect();
        let body_len = match lengths.first() {
            None => available,
            Some(h) => {
                let declared = h
                    .value
                    .parse::<usize>()
                    .map_err(|_| ParseError::ContentLength(h.value.clone()))?;
                if declared > available {
                    return Err(ParseError::BodyTruncated {
                        declared,
                        available,
                    });
                }
                declared
            }
        };
        let message = Message {
            start,
            headers,
            body: buf
                .get(end..end + body_len)
                .ok_or(ParseError::BodyTruncated {
                    declared: body_len,
                    available: buf.len().saturating_sub(end),
                })?
                .to_vec(),
            len: end + body_len,
            problems,
        };
        Ok(message.checked())
    }

    /// The first value of a header (canonical name, e.g. `"Call-ID"`).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Every value of a header, in order (list headers already split).
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }

    /// The reason phrase of a response.
    pub fn reason(&self) -> Option<&str> {
        match &self.start {
            StartLine::Response { reason, .. } => Some(reason),
            StartLine::Request { .. } => None,
        }
    }

    /// The method of a request.
    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The topmost Via (RFC 3261 §20.42), parsed.
    pub fn top_via(&self) -> Option<Via> {
        self.header("Via").and_then(|v| Via::parse(v).ok())
    }

    /// CSeq as (sequence number, method) (RFC 3261 §20.16).
    pub fn cseq(&self) -> Option<(u64, String)> {
        parse_cseq(self.header("CSeq")?).ok()
    }

    /// Whether the message has no syntax problem (semantic problems may remain).
    pub fn is_well_formed(&self) -> bool {
        !self.problems.iter().any(|p| p.kind == ProblemKind::Syntax)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)] // tests may index what they built

    /// Start lines of nothing but spaces (a 6-byte datagram; the same framed on a stream)
    /// are an error, not a panic.
    #[test]
    fn blank_start_lines_are_errors() {
        for bytes in [
            &b"  \r\n\r\n"[..],
            b"   \r\nContent-Length: 0\r\n\r\n",
            b" \r\n",
            b"A\r\n\r\n",
            b"A B\r\n\r\n",
            b"  A\r\n\r\n",
        ] {
            assert!(
                matches!(
                    Message::parse(bytes),
                    Err(ParseError::StartLine(_) | ParseError::NoHeaderEnd(_))
                ),
                "{bytes:?}"
            );
        }
        assert_eq!(
            stream_frame_len(b"   \r\nContent-Length: 0\r\n\r\n"),
            Ok(Some(26))
        );
    }

    #[test]
    fn start_lines_are_recognised_cheaply() {
        assert!(looks_like_start(
            b"INVITE sip:bob@example.com SIP/2.0\r\nVia: x\r\n"
        ));
        assert!(looks_like_start(b"\r\n\r\nSIP/2.0 180 Ringing\r\n"));
        assert!(!looks_like_start(b"GET / HTTP/1.1\r\nHost: x\r\n"));
        assert!(!looks_like_start(b"hello"));
        assert!(!looks_like_start(b"SIP/2.0 OK\r\n"));
        assert!(!looks_like_start(b"\x00\x01 sip SIP/2.0\r\n"));
    }
    use super::*;

    const REGISTER: &str = "REGISTER sip:registrar.biloxi.com SIP/2.0\r\n\
        Via: SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7;rport\r\n\
        Max-Forwards: 70\r\n\
        To: Bob <sip:bob@biloxi.com>\r\n\
        From: Bob <sip:bob@biloxi.com>;tag=456248\r\n\
        Call-ID: 843817637684230@998sdasdh09\r\n\
        CSeq: 1826 REGISTER\r\n\
        Contact: <sip:bob@192.0.2.4>\r\n\
        Expires: 7200\r\n\
        Content-Length: 0\r\n\r\n";

    #[test]
    fn parses_a_register() {
        let m = Message::parse(REGISTER.as_bytes()).unwrap();
        assert_eq!(m.method(), Some("REGISTER"));
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        let via = m.top_via().unwrap();
        assert_eq!(via.transport, "UDP");
        assert_eq!(via.host, "bobspc.biloxi.com");
        assert_eq!(via.port, Some(5060));
        assert_eq!(via.branch(), Some("z9hG4bKnashds7"));
        assert_eq!(via.rport(), Some(None));
        assert_eq!(m.cseq(), Some((1826, "REGISTER".into())));
        let from = NameAddr::parse(m.header("From").unwrap()).unwrap();
        assert_eq!(from.display.as_deref(), Some("Bob"));
        assert_eq!(from.tag(), Some("456248"));
        assert_eq!(m.len, REGISTER.len());
    }

    #[test]
    fn compact_folded_and_comma_separated_headers() {
        let text = "SIP/2.0 200 OK\r\n\
            v: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1;received=203.0.113.9;rport=40000,\r\n \
            SIP/2.0/TCP [2001:db8::1]:5061 ; branch = z9hG4bK2\r\n\
            i: abc\r\nf: <sip:a@b>;tag=1\r\nt: <sip:a@b>;tag=2\r\nCSeq: 1 OPTIONS\r\n\
            Allow: INVITE, ACK,OPTIONS\r\nl: 0\r\n\r\n";
        let m = Message::parse(text.as_bytes()).unwrap();
        assert_eq!(m.status(), Some(200));
        let vias: Vec<Via> = m
            .headers_named("Via")
            .map(|v| Via::parse(v).unwrap())
            .collect();
        assert_eq!(vias.len(), 2);
        assert_eq!(vias[0].received(), Some("203.0.113.9"));
        assert_eq!(vias[0].rport(), Some(Some(40000)));
        assert_eq!(vias[1].host, "2001:db8::1");
        assert_eq!(vias[1].port, Some(5061));
        assert_eq!(vias[1].branch(), Some("z9hG4bK2"));
        assert_eq!(m.header("Call-ID"), Some("abc"));
        assert_eq!(
            m.headers_named("Allow").collect::<Vec<_>>(),
            ["INVITE", "ACK", "OPTIONS"]
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
    }

    #[test]
    fn stream_framing_by_content_length() {
        let two = format!("{REGISTER}{REGISTER}");
        assert_eq!(
            stream_frame_len(two.as_bytes()).unwrap(),
            Some(REGISTER.len())
        );
        assert_eq!(stream_frame_len(&two.as_bytes()[..40]).unwrap(), None);
        let body = "SIP/2.0 200 OK\r\nContent-Length: 4\r\n\r\nab";
        assert_eq!(stream_frame_len(body.as_bytes()).unwrap(), None);
        let no_len = "SIP/2.0 200 OK\r\nVia: x\r\n\r\n";
        assert_eq!(
            stream_frame_len(no_len.as_bytes()),
            Err(ParseError::NoContentLength)
        );
        // CRLF keep-alives in front are absorbed into the next message.
        let ka = format!("\r\n\r\n{REGISTER}");
        assert_eq!(stream_frame_len(ka.as_bytes()).unwrap(), Some(ka.len()));
        assert!(Message::parse(ka.as_bytes()).is_ok());
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let (mut parsed, mut framed) = (0, 0);
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        let base = REGISTER.as_bytes();
        for _ in 0..20_000 {
            let mut m = base.to_vec();
            for _ in 0..4 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let i = (rng % m.len() as u64) as usize;
                m[i] = (rng >> 32) as u8;
            }
            rng ^= rng << 13;
            let cut = (rng % (m.len() as u64 + 1)) as usize;
            let input = &m[..cut];
            // Never a panic; an accepted message lies within the input and parses to itself
            // from its own bytes (it frames to its own length).
            if let Ok(msg) = Message::parse(input) {
                parsed += 1;
                assert!(msg.len <= input.len(), "{msg:?}");
                let again = Message::parse(&input[..msg.len]).expect("its own bytes parse");
                assert_eq!(again, msg);
            }
            if let Ok(Some(n)) = stream_frame_len(input) {
                framed += 1;
                assert!(n <= input.len());
            }
        }
        // The mutations leave enough messages whole that the checks above ran.
        assert!(
            parsed > 20 && framed > 20,
            "{parsed} parsed, {framed} framed"
        );
    }
}
