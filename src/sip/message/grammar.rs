//! The grammar checks (RFC 3261 §25) that give a parsed message its [`Problem`]s: the start
//! line, numbers, CSeq, Date, Warning, parameters, and the per-header checks.

use super::{
    CSEQ_MAX, DELTA_SECONDS_MAX, Message, NameAddr, ParseError, Problem, ProblemKind,
    REQUIRED_IN_REQUEST, SINGLETONS, StartLine, Via, is_token,
};

impl Message {
    /// Runs the per-header grammar checks and fills [`Message::problems`].
    pub(super) fn checked(mut self) -> Message {
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

pub(super) fn syntax(location: &str, reason: impl Into<String>) -> Problem {
    Problem {
        kind: ProblemKind::Syntax,
        location: location.to_string(),
        reason: reason.into(),
    }
}

pub(super) fn semantic(location: &str, reason: impl Into<String>) -> Problem {
    Problem {
        kind: ProblemKind::Semantic,
        location: location.to_string(),
        reason: reason.into(),
    }
}

pub(super) fn parse_start_line(
    line: &str,
    problems: &mut Vec<Problem>,
) -> Result<StartLine, ParseError> {
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
    let [method, middle @ .., version] = words.as_slice() else {
        return Err(ParseError::StartLine(format!(
            "expected `Method SP Request-URI SP SIP/2.0`, got {line:?}"
        )));
    };
    let (method, version) = (*method, *version);
    let uri = middle.join(" ");
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

pub(super) fn parse_number(v: &str, max: u64) -> Result<u64, String> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{v:?} is not a number"));
    }
    match v.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!("{v} is out of range (at most {max})")),
    }
}

pub(super) fn parse_cseq(v: &str) -> Result<(u64, String), String> {
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

pub(super) fn check_date(v: &str) -> Result<(), String> {
    if v.ends_with(" GMT") {
        Ok(())
    } else {
        Err(format!(
            "{v:?} is not in GMT (RFC 3261 §20.17 requires GMT)"
        ))
    }
}

pub(super) fn check_warning(v: &str) -> Result<(), String> {
    let code = v.split_whitespace().next().unwrap_or("");
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("warn-code {code:?} is not three digits"))
    }
}

/// Parses `;name[=value]` parameters, allowing LWS around `;` and `=` (RFC 3261 §25.1);
/// `s` starts after the first `;` or is empty.
pub(super) fn parse_params(s: &str) -> Result<Vec<(String, Option<String>)>, String> {
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
pub(super) fn split_outside(s: &str, sep: char, angle: bool) -> Vec<&str> {
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

/// Splits a header value on commas that are outside quoted strings and `<…>`.
pub(super) fn split_list(value: &str) -> Vec<&str> {
    split_outside(value, ',', true)
        .into_iter()
        .map(str::trim)
        .collect()
}
