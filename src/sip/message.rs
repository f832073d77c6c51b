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

use std::fmt;

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

/// Finds the end of the header section: the index just past the empty line, accepting CRLF
/// (and, leniently, bare LF) line ends. Leading empty lines (keep-alives) are part of it.
fn header_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    let mut line_start = 0;
    let mut seen_content = false;
    while i < buf.len() {
        if buf[i] == b'\n' {
            let line = &buf[line_start..i];
            let empty = line.is_empty() || line == b"\r";
            if empty && seen_content {
                return Some(i + 1);
            }
            if !empty {
                seen_content = true;
            }
            line_start = i + 1;
        }
        i += 1;
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
    let head = String::from_utf8_lossy(&buf[..end]);
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
    let buf = &buf[start..];
    let line_end = buf.iter().take(2048).position(|b| *b == b'\n');
    let line = match line_end {
        Some(e) => &buf[..e],
        None => return false,
    };
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if let Some(rest) = line.strip_prefix(b"SIP/2.0 ") {
        return rest.len() >= 3 && rest[..3].iter().all(u8::is_ascii_digit);
    }
    let Some(sp) = line.iter().position(|b| *b == b' ') else {
        return false;
    };
    sp > 0
        && line[..sp].iter().all(|b| is_token_char(char::from(*b)))
        && line.len() > sp + 8
        && line.ends_with(b" SIP/2.0")
}

/// Splits a header value on commas that are outside quoted strings and `<…>`.
fn split_list(value: &str) -> Vec<&str> {
    split_outside(value, ',', true)
        .into_iter()
        .map(str::trim)
        .collect()
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
        let head = match std::str::from_utf8(&buf[..end]) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(e) => {
                problems.push(syntax(
                    "message",
                    format!("header section is not UTF-8 (byte {})", e.valid_up_to()),
                ));
                String::from_utf8_lossy(&buf[..end])
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
        let first = lines.first().ok_or(ParseError::NoHeaderEnd(buf.len()))?;
        let start = parse_start_line(first, &mut problems)?;

        let mut headers = Vec::new();
        for line in &lines[1..] {
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
            body: buf[end..end + body_len].to_vec(),
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

    /// Runs the per-header grammar checks and fills [`Message::problems`].
    fn checked(mut self) -> Message {
        let mut problems = std::mem::take(&mut self.problems);
        let is_request = matches!(self.start, StartLine::Request { .. });
        if is_request {
            for name in REQUIRED_IN_REQUEST {
                if self.header(name).is_none() {
                    problems.push(semantic(name, "required header field missing"));
                }
            }
        }
        for name in SINGLETONS {
            let values: Vec<&str> = self.headers_named(name).collect();
            if values.len() > 1 {
                problems.push(semantic(
                    name,
                    format!("appears {} times; it may appear once", values.len()),
                ));
            }
        }
        for h in &self.headers {
            let v = h.value.as_str();
            let check = match h.name.as_str() {
                "Via" => Via::parse(v).map(|_| ()),
                "To" | "From" | "Contact" | "Route" | "Record-Route" | "Path" | "Service-Route"
                | "P-Associated-URI" => {
                    if h.name == "Contact" && v == "*" {
                        Ok(())
                    } else {
                        NameAddr::parse(v).map(|_| ())
                    }
                }
                "CSeq" => parse_cseq(v).and_then(|(_, m)| match &self.start {
                    StartLine::Request { method, .. } if *method != m => Err(format!(
                        "method {m:?} does not match the request method {method:?}"
                    )),
                    _ => Ok(()),
                }),
                "Max-Forwards" => parse_number(v, 255).map(|_| ()),
                "Expires" | "Min-Expires" => parse_number(v, DELTA_SECONDS_MAX).map(|_| ()),
                "Retry-After" => parse_number(
                    v.split([';', '(']).next().unwrap_or("").trim(),
                    DELTA_SECONDS_MAX,
                )
                .map(|_| ()),
                "Date" => check_date(v),
                "Warning" => check_warning(v),
                _ => Ok(()),
            };
            if let Err(reason) = check {
                problems.push(syntax(&h.name, reason));
            }
        }
        self.problems = problems;
        self
    }
}

fn syntax(location: &str, reason: impl Into<String>) -> Problem {
    Problem {
        kind: ProblemKind::Syntax,
        location: location.to_string(),
        reason: reason.into(),
    }
}

fn semantic(location: &str, reason: impl Into<String>) -> Problem {
    Problem {
        kind: ProblemKind::Semantic,
        location: location.to_string(),
        reason: reason.into(),
    }
}

fn parse_start_line(line: &str, problems: &mut Vec<Problem>) -> Result<StartLine, ParseError> {
    const WHERE: &str = "start-line";
    if line.starts_with("SIP/") {
        let mut parts = line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        let code = parts.next().unwrap_or("");
        let reason = parts.next().unwrap_or("");
        if version != "SIP/2.0" {
            problems.push(syntax(WHERE, format!("unsupported version {version:?}")));
        }
        let valid_code = code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit());
        let code = code
            .parse::<u16>()
            .ok()
            .filter(|c| valid_code && (100..700).contains(c))
            .ok_or_else(|| ParseError::StartLine(format!("status code {code:?} is not 100–699")))?;
        return Ok(StartLine::Response {
            code,
            reason: reason.to_string(),
        });
    }
    let parts: Vec<&str> = line.split(' ').collect();
    if parts.len() < 3 {
        return Err(ParseError::StartLine(format!(
            "expected `Method SP Request-URI SP SIP/2.0`, got {line:?}"
        )));
    }
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        problems.push(syntax(
            WHERE,
            "request line must be exactly `Method SP Request-URI SP SIP-Version` \
             (extra whitespace)",
        ));
    }
    let words: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
    let method = words[0];
    let version = words[words.len() - 1];
    let uri = words[1..words.len() - 1].join(" ");
    if !is_token(method) {
        problems.push(syntax(WHERE, format!("method {method:?} is not a token")));
    }
    if version != "SIP/2.0" {
        problems.push(syntax(WHERE, format!("unsupported version {version:?}")));
    }
    if uri.starts_with('<') {
        problems.push(syntax(
            WHERE,
            "Request-URI enclosed in <>: the request line takes a bare URI",
        ));
    } else if let Some(rest) = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))
    {
        let hostpart = rest.rsplit('@').next().unwrap_or(rest);
        if hostpart.contains('?') {
            problems.push(syntax(
                WHERE,
                "Request-URI carries URI headers (`?…`), not allowed in a request line \
                 (RFC 3261 §19.1.1)",
            ));
        }
    }
    Ok(StartLine::Request {
        method: method.to_string(),
        uri,
    })
}

fn parse_number(v: &str, max: u64) -> Result<u64, String> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{v:?} is not a number"));
    }
    match v.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!("{v} is out of range (at most {max})")),
    }
}

fn parse_cseq(v: &str) -> Result<(u64, String), String> {
    let mut it = v.split_whitespace();
    let (Some(num), Some(method), None) = (it.next(), it.next(), it.next()) else {
        return Err(format!("expected `number method`, got {v:?}"));
    };
    let num = parse_number(num, CSEQ_MAX)?;
    if !is_token(method) {
        return Err(format!("method {method:?} is not a token"));
    }
    Ok((num, method.to_string()))
}

fn check_date(v: &str) -> Result<(), String> {
    if v.ends_with(" GMT") {
        Ok(())
    } else {
        Err(format!(
            "{v:?} is not in GMT (RFC 3261 §20.17 requires GMT)"
        ))
    }
}

fn check_warning(v: &str) -> Result<(), String> {
    let code = v.split_whitespace().next().unwrap_or("");
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("warn-code {code:?} is not three digits"))
    }
}

/// Parses `;name[=value]` parameters, allowing LWS around `;` and `=` (RFC 3261 §25.1);
/// `s` starts after the first `;` or is empty.
fn parse_params(s: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out = Vec::new();
    if s.trim().is_empty() {
        return Ok(out);
    }
    for p in split_outside(s, ';', false) {
        let p = p.trim();
        if p.is_empty() {
            return Err("empty parameter (`;;`)".into());
        }
        match p.split_once('=') {
            Some((n, v)) => {
                let (n, v) = (n.trim(), v.trim());
                if !is_token(n) || v.is_empty() {
                    return Err(format!("bad parameter {p:?}"));
                }
                out.push((n.to_ascii_lowercase(), Some(v.to_string())));
            }
            None => {
                if !is_token(p) {
                    return Err(format!("bad parameter {p:?}"));
                }
                out.push((p.to_ascii_lowercase(), None));
            }
        }
    }
    Ok(out)
}

/// Splits on `sep` outside quoted strings (with backslash escapes) and, when `angle`, outside
/// `<…>`.
fn split_outside(s: &str, sep: char, angle: bool) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut quoted, mut escaped, mut in_angle) = (false, false, false);
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if quoted {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '<' if angle => in_angle = true,
            '>' if angle => in_angle = false,
            _ if c == sep && !in_angle => {
                out.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// One Via value (RFC 3261 §20.42, `rport` RFC 3581).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// `SIP/2.0`.
    pub protocol: String,
    /// Transport token as written upper-cased: `UDP`, `TCP`, `TLS`, `SCTP`, `WS`, …
    pub transport: String,
    /// sent-by host: a name, an IPv4 address or an IPv6 reference without brackets.
    pub host: String,
    /// sent-by port, when given.
    pub port: Option<u16>,
    /// Parameters in order, names lower-cased.
    pub params: Vec<(String, Option<String>)>,
}

impl Via {
    /// Parses a single Via value such as `SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK…;rport`.
    ///
    /// # Errors
    /// A description of the first grammar violation.
    pub fn parse(v: &str) -> Result<Via, String> {
        let (proto_and_host, params) = match v.split_once(';') {
            Some((a, b)) => (a, b),
            None => (v, ""),
        };
        // sent-protocol: name LWS? / LWS? version LWS? / LWS? transport, then LWS sent-by.
        let mut fields = proto_and_host.splitn(3, '/');
        let name = fields.next().unwrap_or("").trim();
        let version = fields.next().unwrap_or("").trim();
        let rest = fields.next().unwrap_or("").trim_start();
        let (transport, sent_by) = rest
            .split_once([' ', '\t'])
            .ok_or_else(|| format!("no sent-by in {v:?}"))?;
        let sent_by = sent_by.trim();
        if !is_token(name) || !is_token(version) || !is_token(transport) {
            return Err(format!("bad sent-protocol in {v:?}"));
        }
        let (host, port) = split_host_port(sent_by)?;
        Ok(Via {
            protocol: format!("{name}/{version}"),
            transport: transport.to_ascii_uppercase(),
            host,
            port,
            params: parse_params(params)?,
        })
    }

    fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref())
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&str> {
        self.param("branch").flatten()
    }

    /// The `received` parameter: the source address the server saw (RFC 3261 §18.2.1).
    pub fn received(&self) -> Option<&str> {
        self.param("received").flatten()
    }

    /// The `rport` parameter: `None` absent, `Some(None)` present without value,
    /// `Some(Some(port))` filled in by the server (RFC 3581 §4).
    pub fn rport(&self) -> Option<Option<u16>> {
        self.param("rport").map(|v| v.and_then(|p| p.parse().ok()))
    }
}

/// Splits `host[:port]` where host may be `[v6]`.
fn split_host_port(s: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("unterminated IPv6 reference in {s:?}"))?;
        match after.trim() {
            "" => (h, None),
            p => (
                h,
                Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| format!("junk after IPv6 reference in {s:?}"))?,
                ),
            ),
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let host = host.trim();
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:_".contains(c))
    {
        return Err(format!("bad host {host:?}"));
    }
    let port = port
        .map(|p| {
            p.trim()
                .parse::<u16>()
                .map_err(|_| format!("bad port {p:?}"))
        })
        .transpose()?;
    Ok((host.to_string(), port))
}

/// A `name-addr` or `addr-spec` with header parameters, as in To, From, Contact, Route
/// (RFC 3261 §20.10, §25.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name, unquoted, when present.
    pub display: Option<String>,
    /// The URI, without `<>`.
    pub uri: String,
    /// Header parameters (`tag`, `expires`, `q`, …), names lower-cased.
    pub params: Vec<(String, Option<String>)>,
}

impl NameAddr {
    /// Parses `"Name" <uri>;params`, `Name <uri>;params` or `uri;params`.
    ///
    /// # Errors
    /// A description of the first grammar violation: an unterminated quoted string, an
    /// unquoted display name with separators, whitespace inside `<>`, a bare URI with `?` or
    /// `,` (which needs `<>`), an empty parameter.
    pub fn parse(v: &str) -> Result<NameAddr, String> {
        let v = v.trim();
        let (display, after_display) = if let Some(rest) = v.strip_prefix('"') {
            let mut escaped = false;
            let mut end = None;
            for (i, c) in rest.char_indices() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let end = end.ok_or("unterminated quoted display name")?;
            let after = rest[end + 1..].trim_start();
            if !after.starts_with('<') {
                return Err("a quoted display name must be followed by <URI>".into());
            }
            (Some(unescape(&rest[..end])), after)
        } else if let Some(lt) = v.find('<') {
            let name = v[..lt].trim();
            if !name.split_whitespace().all(is_token) {
                return Err(format!(
                    "display name {name:?} has characters that need quoting"
                ));
            }
            ((!name.is_empty()).then(|| name.to_string()), &v[lt..])
        } else {
            // addr-spec: the parameters after the first ';' belong to the header.
            let (uri, params) = match v.split_once(';') {
                Some((u, p)) => (u.trim(), p),
                None => (v, ""),
            };
            if uri.contains(['?', ',', ' ']) {
                return Err(format!(
                    "URI {uri:?} contains `?`, `,` or space and must be enclosed in <>"
                ));
            }
            check_uri(uri)?;
            return Ok(NameAddr {
                display: None,
                uri: uri.to_string(),
                params: parse_params(params)?,
            });
        };
        let inner = after_display.strip_prefix('<').ok_or("expected `<`")?;
        let (uri, after) = inner.split_once('>').ok_or("unterminated `<`")?;
        if uri != uri.trim() {
            return Err(format!("whitespace inside <{uri}>"));
        }
        check_uri(uri)?;
        let after = after.trim_start();
        let params = match after.strip_prefix(';') {
            Some(p) => parse_params(p)?,
            None if after.is_empty() => Vec::new(),
            None => return Err(format!("junk after <URI>: {after:?}")),
        };
        Ok(NameAddr {
            display,
            uri: uri.to_string(),
            params,
        })
    }

    /// The `tag` parameter (RFC 3261 §19.3).
    pub fn tag(&self) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == "tag")
            .and_then(|(_, v)| v.as_deref())
    }

    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut escaped = false;
    for c in s.chars() {
        if escaped || c != '\\' {
            out.push(c);
            escaped = false;
        } else {
            escaped = true;
        }
    }
    out
}

/// A URI needs a scheme (`absoluteURI`, RFC 3261 §25.1) and no whitespace.
fn check_uri(uri: &str) -> Result<(), String> {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Err(format!("URI {uri:?} has no scheme"));
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok || rest.is_empty() || uri.contains(char::is_whitespace) {
        return Err(format!("bad URI {uri:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {

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
            let _ = Message::parse(&m[..cut]);
            let _ = stream_frame_len(&m[..cut]);
        }
    }
}
