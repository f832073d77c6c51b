//! The DDDS substitution expression (RFC 3402 §3.2) that turns the number into a URI.

use regex::bytes::{Regex, RegexBuilder};

#[derive(Debug, Clone, PartialEq, Eq)]
enum ReplPart {
    Literal(String),
    Backref(usize),
}

/// A DDDS substitution expression (RFC 3402 §3.2): `delim ere delim repl delim [i]`.
///
/// The ERE is compiled with the `regex` crate on bytes without Unicode, which accepts POSIX
/// ERE as used in ENUM (anchors, groups, classes including `[[:digit:]]`). One difference
/// remains: alternation picks the leftmost alternative, not POSIX's longest one.
#[derive(Debug, Clone)]
pub struct SubstExpr {
    regex: Regex,
    repl: Vec<ReplPart>,
}

/// Compiled-size bound for a record's regexp (hostile zones): 256 KiB.
const REGEX_SIZE_LIMIT: usize = 256 * 1024;

impl SubstExpr {
    /// Parses and compiles `expr`.
    ///
    /// # Errors
    /// In words: a bad delimiter, a missing part, an unknown flag, an ERE that does not
    /// compile, a back-reference to a group the ERE does not have.
    pub fn parse(expr: &str) -> Result<SubstExpr, String> {
        let mut chars = expr.chars();
        let delim = chars.next().ok_or("empty regexp")?;
        if delim.is_ascii_digit() || delim == '\\' || delim == 'i' || delim.is_whitespace() {
            return Err(format!("'{delim}' cannot be the delimiter"));
        }
        // Split on unescaped delimiters; `\delim` stays marked so each part can treat it.
        let mut parts: Vec<Vec<(char, bool)>> = vec![Vec::new()];
        let mut rest = chars.peekable();
        while let Some(c) = rest.next() {
            if c == '\\' {
                match rest.next() {
                    Some(n) if n == delim => parts.last_mut().unwrap().push((n, true)),
                    Some(n) => {
                        let last = parts.last_mut().unwrap();
                        last.push(('\\', false));
                        last.push((n, false));
                    }
                    None => return Err("ends with a lone backslash".into()),
                }
            } else if c == delim {
                parts.push(Vec::new());
            } else {
                parts.last_mut().unwrap().push((c, false));
            }
        }
        if parts.len() != 3 {
            return Err(format!(
                "needs three '{delim}' delimiters (delim ere delim repl delim flags), found {}",
                parts.len() - 1
            ));
        }
        let flags: String = parts[2].iter().map(|&(c, _)| c).collect();
        let case_insensitive = match flags.as_str() {
            "" => false,
            "i" => true,
            other => return Err(format!("unknown flags \"{other}\" (only \"i\")")),
        };
        let mut ere = String::new();
        for &(c, escaped_delim) in &parts[0] {
            if escaped_delim {
                ere.push_str(&regex::escape(&c.to_string()));
            } else {
                ere.push(c);
            }
        }
        if ere.is_empty() {
            return Err("empty regular expression".into());
        }
        let regex = RegexBuilder::new(&ere)
            .case_insensitive(case_insensitive)
            .unicode(false)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .nest_limit(32)
            .build()
            .map_err(|e| {
                let text = e.to_string();
                let last = text.lines().rev().find(|l| !l.trim().is_empty());
                format!("ERE \"{ere}\": {}", last.unwrap_or(&text).trim())
            })?;
        let repl = parse_repl(&parts[1])?;
        let groups = regex.captures_len() - 1;
        if let Some(n) = repl.iter().find_map(|p| match p {
            ReplPart::Backref(n) if *n > groups => Some(*n),
            _ => None,
        }) {
            return Err(format!(
                "\\{n} refers to group {n}, the ERE has {groups} group(s)"
            ));
        }
        Ok(SubstExpr { regex, repl })
    }

    /// Applies the expression to `input` (the Application Unique String): `None` when the
    /// ERE does not match, else the replacement with `\1`…`\9` filled from the match (a
    /// group that did not take part gives the empty string). As RFC 3402 §3.2 describes,
    /// the output is the replacement alone, not the input with the match replaced.
    pub fn apply(&self, input: &str) -> Option<String> {
        let caps = self.regex.captures(input.as_bytes())?;
        let mut out = String::new();
        for part in &self.repl {
            match part {
                ReplPart::Literal(s) => out.push_str(s),
                ReplPart::Backref(n) => {
                    if let Some(m) = caps.get(*n) {
                        out.push_str(&String::from_utf8_lossy(m.as_bytes()));
                    }
                }
            }
        }
        Some(out)
    }
}

/// The replacement: `\1`…`\9` back-references, `\\` a backslash, an escaped delimiter
/// (already unescaped by the split) itself; any other character as it stands.
fn parse_repl(chars: &[(char, bool)]) -> Result<Vec<ReplPart>, String> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < chars.len() {
        let (c, escaped_delim) = chars[i];
        if c == '\\' && !escaped_delim {
            let next = chars.get(i + 1).map(|&(n, _)| n);
            match next {
                Some(d @ '1'..='9') => {
                    if !lit.is_empty() {
                        out.push(ReplPart::Literal(std::mem::take(&mut lit)));
                    }
                    out.push(ReplPart::Backref(usize::from(d as u8 - b'0')));
                    i += 2;
                    continue;
                }
                Some('\\') => {
                    lit.push('\\');
                    i += 2;
                    continue;
                }
                _ => {}
            }
        }
        lit.push(c);
        i += 1;
    }
    if !lit.is_empty() {
        out.push(ReplPart::Literal(lit));
    }
    if out.is_empty() {
        return Err("empty replacement".into());
    }
    Ok(out)
}
