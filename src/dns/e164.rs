//! ENUM (RFC 6116) on the Dynamic Delegation Discovery System (RFC 3402, DNS database
//! RFC 3403), without I/O: an E.164 number to its domain, enumservices, the substitution
//! expression, and the walk over fetched NAPTR sets that turns them into URIs.
//!
//! The driver (`commands::enum_lookup`) fetches the NAPTR set of the number's domain and of
//! every domain a non-terminal record points to ([`chain_targets`], bounded by
//! [`MAX_HOPS`] and [`MAX_DOMAINS`]), then [`walk`] applies the rules to what was fetched.

use std::collections::{HashMap, HashSet};

use regex::bytes::{Regex, RegexBuilder};

use super::Naptr;

/// The public ENUM tree (RFC 6116).
pub const DEFAULT_SUFFIX: &str = "e164.arpa";

/// Most digits an E.164 number has (ITU-T E.164 §6).
pub const MAX_DIGITS: usize = 15;

/// Longest chain of non-terminal records followed (RFC 3402 §3.2 asks clients to bound it;
/// RFC 6116 gives no number, 5 is what ENUM resolvers commonly use).
pub const MAX_HOPS: usize = 5;

/// Most NAPTR sets fetched for one number: the walk's work bound against hostile zones.
pub const MAX_DOMAINS: usize = 16;

/// Why a dialled string is not an E.164 number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// Nothing left after removing separators.
    #[error("no digits in the number")]
    Empty,
    /// A character that is neither a digit nor a visual separator.
    #[error("'{0}' is not a digit (separators allowed: space - . ( ) /)")]
    InvalidChar(char),
    /// A national number (one leading 0): ENUM needs the country code.
    #[error("{0} looks like a national number; give it in international form, e.g. +43 1 …")]
    National(String),
    /// More than [`MAX_DIGITS`] digits.
    #[error("{0} digits: an E.164 number has at most 15")]
    TooLong(usize),
}

/// An E.164 number in the form ENUM needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    /// The digits, country code first, no `+` (e.g. `4319793321`).
    pub digits: String,
    /// True when the input had neither `+` nor `00` and was taken as international anyway.
    pub assumed_international: bool,
}

impl Number {
    /// The Application Unique String of RFC 6116: `+` and the digits.
    pub fn aus(&self) -> String {
        format!("+{}", self.digits)
    }

    /// The domain to query under `suffix` (RFC 6116): the digits reversed, dot
    /// separated, e.g. `1.2.3.3.9.7.9.1.3.4.e164.arpa`.
    pub fn domain(&self, suffix: &str) -> String {
        let mut out = String::with_capacity(self.digits.len() * 2 + suffix.len());
        for d in self.digits.chars().rev() {
            out.push(d);
            out.push('.');
        }
        out.push_str(suffix.trim_matches('.'));
        out
    }
}

/// Parses a dialled number: any spacing, dashes, dots, parentheses and slashes; a leading
/// `+` or `00` (the international prefix); an optional `tel:` scheme (RFC 3966, parameters
/// after `;` dropped). Digits without a prefix are taken as international (and flagged).
///
/// # Errors
/// See [`NumberError`].
pub fn parse_number(input: &str) -> Result<Number, NumberError> {
    let mut s = input.trim();
    if s.len() >= 4 && s[..4].eq_ignore_ascii_case("tel:") {
        s = &s[4..];
        s = s.split(';').next().unwrap_or("");
    }
    let mut digits = String::new();
    let mut plus = false;
    for (i, c) in s.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => plus = true,
            ' ' | '\t' | '-' | '.' | '(' | ')' | '/' => {}
            other => return Err(NumberError::InvalidChar(other)),
        }
    }
    let (digits, assumed) = if plus {
        (digits, false)
    } else if let Some(rest) = digits.strip_prefix("00") {
        (rest.to_string(), false)
    } else if digits.starts_with('0') {
        return Err(NumberError::National(s.to_string()));
    } else {
        (digits, true)
    };
    if digits.is_empty() {
        return Err(NumberError::Empty);
    }
    if digits.len() > MAX_DIGITS {
        return Err(NumberError::TooLong(digits.len()));
    }
    Ok(Number {
        digits,
        assumed_international: assumed,
    })
}

/// One enumservice (RFC 6116): a type and its subtypes, e.g. `voice:tel` → type
/// `voice`, subtypes `["tel"]`. Compared case-insensitively; kept lower-case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Enumservice {
    /// e.g. `sip`, `voice`, `mailto`.
    #[serde(rename = "type")]
    pub service_type: String,
    /// e.g. `["tel"]`.
    pub subtypes: Vec<String>,
}

impl std::fmt::Display for Enumservice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.service_type)?;
        for s in &self.subtypes {
            write!(f, ":{s}")?;
        }
        Ok(())
    }
}

fn token_ok(t: &str) -> bool {
    (1..=32).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn parse_enumservice(spec: &str) -> Option<Enumservice> {
    let mut parts = spec.split(':');
    let service_type = parts.next()?.to_ascii_lowercase();
    let subtypes: Vec<String> = parts.map(str::to_ascii_lowercase).collect();
    (token_ok(&service_type) && subtypes.iter().all(|s| token_ok(s))).then_some(Enumservice {
        service_type,
        subtypes,
    })
}

/// Parses a NAPTR services field as ENUM (RFC 6116):
/// `"E2U" 1*("+" type *(":" subtype))`. An empty field (and a bare `E2U`, seen on
/// non-terminal records) gives no enumservice.
///
/// # Errors
/// A field that is not an ENUM service (e.g. `SIP+D2U`) or breaks the syntax.
pub fn parse_services(field: &str) -> Result<Vec<Enumservice>, String> {
    if field.is_empty() {
        return Ok(Vec::new());
    }
    let mut specs = field.split('+');
    let head = specs.next().unwrap_or("");
    if !head.eq_ignore_ascii_case("E2U") {
        return Err(format!(
            "\"{field}\" is not an ENUM service (E2U+type[:subtype])"
        ));
    }
    specs
        .map(|spec| {
            parse_enumservice(spec)
                .ok_or_else(|| format!("\"{field}\": malformed enumservice \"{spec}\""))
        })
        .collect()
}

/// The `--service` filter: an enumservice, with or without the `E2U+` prefix
/// (`E2U+sip`, `sip`, `voice:tel`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFilter(Enumservice);

impl std::str::FromStr for ServiceFilter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let spec = if s.len() > 4 && s[..4].eq_ignore_ascii_case("E2U+") {
            &s[4..]
        } else {
            s
        };
        parse_enumservice(spec)
            .map(ServiceFilter)
            .ok_or_else(|| format!("'{s}' is not an enumservice (e.g. E2U+sip, voice:tel)"))
    }
}

impl std::fmt::Display for ServiceFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "E2U+{}", self.0)
    }
}

impl ServiceFilter {
    /// Whether a record offering `services` matches: same type, and every subtype the filter
    /// names is among the record's.
    pub fn matches(&self, services: &[Enumservice]) -> bool {
        services.iter().any(|s| {
            s.service_type == self.0.service_type
                && self.0.subtypes.iter().all(|want| s.subtypes.contains(want))
        })
    }
}

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

/// What a NAPTR lookup of one domain gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The NAPTR records, in the order the nameserver sent them.
    Records(Vec<Naptr>),
    /// NXDOMAIN or no NAPTR at the name.
    NoEntry(String),
    /// SERVFAIL, REFUSED, a timeout…: the rcode or error.
    Failed(String),
}

/// The next domain of a non-terminal record (RFC 3402 §3.2, RFC 3403 §4.1): its
/// replacement, or when that is `.` its regexp applied to the AUS. `Ok(None)` when the
/// regexp does not match.
///
/// # Errors
/// A malformed regexp, or a record with neither (or both) regexp and replacement.
pub fn next_domain(n: &Naptr, aus: &str) -> Result<Option<String>, String> {
    let has_replacement = !n.replacement.is_empty() && n.replacement != ".";
    match (has_replacement, n.regexp.is_empty()) {
        (true, true) => Ok(Some(n.replacement.trim_end_matches('.').to_string())),
        (false, false) => Ok(SubstExpr::parse(&n.regexp)?
            .apply(aus)
            .map(|d| d.trim_end_matches('.').to_string())),
        (true, false) => Err("both regexp and replacement set (RFC 3403 §4.1 forbids)".into()),
        (false, true) => Err("non-terminal record with neither regexp nor replacement".into()),
    }
}

/// The domains the non-terminal records of a set lead to (for the fetcher); records whose
/// next domain cannot be computed are left to [`walk`] to report.
pub fn chain_targets(records: &[Naptr], aus: &str) -> Vec<String> {
    records
        .iter()
        .filter(|n| n.flags.is_empty())
        .filter_map(|n| next_domain(n, aus).ok().flatten())
        .collect()
}

/// What the walk did with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Disposition {
    /// Terminal record that gave a URI.
    Uri,
    /// Non-terminal record that was followed.
    Followed,
    /// A lower order already gave URIs; RFC 3403 §4.1: records of a higher order are not
    /// considered.
    NotConsidered,
    /// Its enumservice is not the one asked for (`--service`).
    ServiceFiltered,
    /// Not an ENUM service, or a malformed services field.
    UnknownService,
    /// The regexp does not parse or compile.
    MalformedRegexp,
    /// The regexp does not match the AUS.
    NoMatch,
    /// Flags other than `u` or empty (RFC 6116 defines only `u`).
    UnsupportedFlags,
    /// A field combination RFC 3403 forbids, or a result that is not a URI.
    Malformed,
    /// The chain comes back to a domain already on it.
    Loop,
    /// The chain is longer than [`MAX_HOPS`] (or [`MAX_DOMAINS`] were fetched).
    TooDeep,
}

/// One record as the walk saw it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordOutcome {
    /// Owner name.
    pub domain: String,
    /// Non-terminal hops from the number's domain (0 there).
    pub depth: usize,
    /// Position in the nameserver's answer (0-based): shows the order it was sent in.
    pub received_index: usize,
    /// The record's fields.
    #[serde(flatten)]
    pub naptr: Naptr,
    /// Presentation form.
    pub record: String,
    /// What was done with it.
    pub disposition: Disposition,
    /// Why, or where it led.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A URI the number maps to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UriOutcome {
    /// The URI (e.g. `sip:info@example.com`).
    pub uri: String,
    /// The services field as published (e.g. `E2U+sip`, `E2U+voice:tel`).
    pub service: String,
    /// The enumservices parsed from it.
    pub enumservices: Vec<Enumservice>,
    /// NAPTR order.
    pub order: u16,
    /// NAPTR preference.
    pub preference: u16,
    /// Owner name of the record (differs from the number's domain after a chain).
    pub domain: String,
    /// The NAPTR record, presentation form.
    pub record: String,
}

/// The result of applying the DDDS rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Walk {
    /// URIs in the order a caller tries them.
    pub uris: Vec<UriOutcome>,
    /// Every record seen, in processing order.
    pub records: Vec<RecordOutcome>,
    /// Non-terminal records that led to a domain without an answer: (domain, why).
    pub dead_ends: Vec<(String, String)>,
}

/// Applies RFC 6116 / RFC 3402 §3.2 to the fetched sets, starting at `start`: records
/// sorted by order then preference; per order, terminal `u` records give URIs through their
/// regexp and non-terminal records are followed (at most [`MAX_HOPS`] deep, loops cut);
/// once an order gave a URI, higher orders are not considered. `filter` keeps only one
/// enumservice. Pure: the same input always gives the same output.
pub fn walk(
    start: &str,
    sets: &HashMap<String, Fetched>,
    aus: &str,
    filter: Option<&ServiceFilter>,
) -> Walk {
    let mut walker = Walker {
        sets,
        aus,
        filter,
        path: vec![start.to_ascii_lowercase()],
        out: Walk::default(),
    };
    let uris = walker.walk_set(start, 0);
    walker.out.uris = uris;
    walker.out
}

/// The walk's inputs and what it has found so far.
struct Walker<'a> {
    sets: &'a HashMap<String, Fetched>,
    aus: &'a str,
    filter: Option<&'a ServiceFilter>,
    /// Domains on the current chain (lower-case), to cut loops.
    path: Vec<String>,
    out: Walk,
}

type Evaluated = (Disposition, Option<String>, Vec<UriOutcome>);

impl Walker<'_> {
    fn walk_set(&mut self, domain: &str, depth: usize) -> Vec<UriOutcome> {
        let records = match self.sets.get(domain) {
            Some(Fetched::Records(r)) => r,
            Some(Fetched::NoEntry(why) | Fetched::Failed(why)) => {
                if depth > 0 {
                    self.out.dead_ends.push((domain.to_string(), why.clone()));
                }
                return Vec::new();
            }
            None => return Vec::new(),
        };
        let mut order: Vec<usize> = (0..records.len()).collect();
        order.sort_by_key(|&i| (records[i].order, records[i].preference));
        let mut uris = Vec::new();
        let mut matched_order: Option<u16> = None;
        for i in order {
            let n = &records[i];
            let mut outcome = RecordOutcome {
                domain: domain.to_string(),
                depth,
                received_index: i,
                naptr: n.clone(),
                record: n.presentation(),
                disposition: Disposition::NotConsidered,
                detail: None,
            };
            if let Some(o) = matched_order
                && n.order > o
            {
                outcome.detail = Some(format!("order {o} already gave a URI"));
                self.out.records.push(outcome);
                continue;
            }
            // Pushed before evaluating, so a chain's records follow the record that led there.
            let at = self.out.records.len();
            self.out.records.push(outcome);
            let (disposition, detail, found) = self.evaluate(n, domain, depth);
            if !found.is_empty() {
                matched_order = Some(n.order);
            }
            uris.extend(found);
            self.out.records[at].disposition = disposition;
            self.out.records[at].detail = detail;
        }
        uris
    }

    fn evaluate(&mut self, n: &Naptr, domain: &str, depth: usize) -> Evaluated {
        let aus = self.aus;
        let services = match parse_services(&n.services) {
            Ok(s) => s,
            Err(e) => return (Disposition::UnknownService, Some(e), Vec::new()),
        };
        let filtered = self
            .filter
            .is_some_and(|f| !services.is_empty() && !f.matches(&services));
        match n.flags.to_ascii_lowercase().as_str() {
            "u" => {
                if services.is_empty() {
                    let why = "terminal record without an enumservice".to_string();
                    return (Disposition::UnknownService, Some(why), Vec::new());
                }
                if filtered {
                    return (Disposition::ServiceFiltered, None, Vec::new());
                }
                if !n.replacement.is_empty() && n.replacement != "." {
                    let why = "a 'u' record must use regexp, not replacement (RFC 3403 §4.1)";
                    return (Disposition::Malformed, Some(why.into()), Vec::new());
                }
                let expr = match SubstExpr::parse(&n.regexp) {
                    Ok(e) => e,
                    Err(e) => return (Disposition::MalformedRegexp, Some(e), Vec::new()),
                };
                let Some(uri) = expr.apply(aus) else {
                    let why = format!("does not match {aus}");
                    return (Disposition::NoMatch, Some(why), Vec::new());
                };
                if !is_uri(&uri) {
                    let why = format!("result \"{uri}\" is not a URI");
                    return (Disposition::Malformed, Some(why), Vec::new());
                }
                let found = UriOutcome {
                    uri,
                    service: n.services.clone(),
                    enumservices: services,
                    order: n.order,
                    preference: n.preference,
                    domain: domain.to_string(),
                    record: n.presentation(),
                };
                (Disposition::Uri, None, vec![found])
            }
            "" => {
                if filtered {
                    return (Disposition::ServiceFiltered, None, Vec::new());
                }
                let next = match next_domain(n, aus) {
                    Ok(Some(d)) => d,
                    Ok(None) => {
                        let why = format!("does not match {aus}");
                        return (Disposition::NoMatch, Some(why), Vec::new());
                    }
                    Err(e) if n.regexp.is_empty() || e.contains("RFC 3403") => {
                        return (Disposition::Malformed, Some(e), Vec::new());
                    }
                    Err(e) => return (Disposition::MalformedRegexp, Some(e), Vec::new()),
                };
                let key = next.to_ascii_lowercase();
                if self.path.contains(&key) {
                    let why = format!("{next} is already on the chain {}", self.path.join(" → "));
                    return (Disposition::Loop, Some(why), Vec::new());
                }
                if depth + 1 > MAX_HOPS || !self.sets.contains_key(&next) {
                    let why = format!("{next}: chain longer than {MAX_HOPS} hops");
                    return (Disposition::TooDeep, Some(why), Vec::new());
                }
                self.path.push(key);
                let found = self.walk_set(&next, depth + 1);
                self.path.pop();
                let why = if found.is_empty() {
                    format!("→ {next} (no URI there)")
                } else {
                    format!("→ {next}")
                };
                (Disposition::Followed, Some(why), found)
            }
            other => {
                let why = format!("flags \"{other}\": ENUM defines only \"u\" (RFC 6116)");
                (Disposition::UnsupportedFlags, Some(why), Vec::new())
            }
        }
    }
}

/// `scheme ":" rest` with an RFC 3986 §3.1 scheme.
fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    !rest.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// The order in which a fetcher visits domains: breadth first from `start`, each domain once,
/// at most [`MAX_HOPS`] deep and [`MAX_DOMAINS`] in all. Call [`Plan::next_query`] for the next
/// domain to query and [`Plan::fetched`] with its result.
#[derive(Debug)]
pub struct Plan {
    aus: String,
    queue: std::collections::VecDeque<(String, usize)>,
    seen: HashSet<String>,
    /// What was fetched so far, by domain.
    pub sets: HashMap<String, Fetched>,
}

impl Plan {
    /// A plan starting at the number's domain.
    pub fn new(start: &str, aus: &str) -> Plan {
        let mut seen = HashSet::new();
        seen.insert(start.to_ascii_lowercase());
        Plan {
            aus: aus.to_string(),
            queue: [(start.to_string(), 0)].into(),
            seen,
            sets: HashMap::new(),
        }
    }

    /// The next domain to query, with its depth; `None` when done.
    pub fn next_query(&mut self) -> Option<(String, usize)> {
        if self.sets.len() >= MAX_DOMAINS {
            return None;
        }
        self.queue.pop_front()
    }

    /// Records what `domain` (at `depth`) gave and queues the domains it leads to.
    pub fn fetched(&mut self, domain: String, depth: usize, result: Fetched) {
        if let Fetched::Records(records) = &result
            && depth < MAX_HOPS
        {
            for next in chain_targets(records, &self.aus) {
                if self.seen.insert(next.to_ascii_lowercase()) {
                    self.queue.push_back((next, depth + 1));
                }
            }
        }
        self.sets.insert(domain, result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naptr(order: u16, pref: u16, flags: &str, services: &str, regexp: &str) -> Naptr {
        Naptr {
            order,
            preference: pref,
            flags: flags.into(),
            services: services.into(),
            regexp: regexp.into(),
            replacement: ".".into(),
        }
    }

    #[test]
    fn numbers_normalise() {
        for input in [
            "+43 1 979 3321",
            "+43-1-979-3321",
            "0043 1 9793321",
            "+43 (1) 979.33.21",
            "tel:+43-1-979-3321;phone-context=x",
            "  +4319793321 ",
        ] {
            let n = parse_number(input).unwrap();
            assert_eq!(n.digits, "4319793321", "{input}");
            assert!(!n.assumed_international, "{input}");
        }
        let n = parse_number("43 1 979 3321").unwrap();
        assert!(n.assumed_international);
        assert_eq!(n.aus(), "+4319793321");
        // A UK number (the Ofcom drama range).
        let n = parse_number("+44-20-7946-0148").unwrap();
        assert_eq!(n.domain("e164.arpa"), "8.4.1.0.6.4.9.7.0.2.4.4.e164.arpa");
        assert_eq!(
            parse_number("+43 1 979 3321")
                .unwrap()
                .domain(".e164.arpa."),
            "1.2.3.3.9.7.9.1.3.4.e164.arpa"
        );
        assert_eq!(
            parse_number("01 979 3321"),
            Err(NumberError::National("01 979 3321".into()))
        );
        assert_eq!(
            parse_number("+43 1 97x"),
            Err(NumberError::InvalidChar('x'))
        );
        assert_eq!(parse_number("+"), Err(NumberError::Empty));
        assert_eq!(
            parse_number("+1234567890123456"),
            Err(NumberError::TooLong(16))
        );
        assert_eq!(parse_number("+43+1"), Err(NumberError::InvalidChar('+')));
    }

    #[test]
    fn services_parse_and_filter() {
        let s = parse_services("E2U+sip").unwrap();
        assert_eq!(s[0].service_type, "sip");
        let s = parse_services("e2u+voice:tel+sms:TEL").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].to_string(), "voice:tel");
        assert_eq!(s[1].subtypes, ["tel"]);
        assert!(parse_services("SIP+D2U").is_err());
        assert!(parse_services("E2U+").is_err());
        assert!(parse_services("E2U+si p").is_err());
        assert!(parse_services("").unwrap().is_empty());

        let f: ServiceFilter = "E2U+sip".parse().unwrap();
        assert!(f.matches(&parse_services("E2U+SIP").unwrap()));
        assert!(!f.matches(&parse_services("E2U+sips").unwrap()));
        let f: ServiceFilter = "voice:tel".parse().unwrap();
        assert!(f.matches(&parse_services("E2U+voice:tel").unwrap()));
        assert!(!f.matches(&parse_services("E2U+voice").unwrap()));
        let f: ServiceFilter = "voice".parse().unwrap();
        assert!(f.matches(&parse_services("E2U+voice:tel").unwrap()));
        assert!("E2U+".parse::<ServiceFilter>().is_err());
    }

    /// The example of RFC 6116 (number +44 1632 960083): three terminal records of one
    /// order, taken by preference.
    #[test]
    fn rfc6116_example() {
        let n = parse_number("+44 1632 960083").unwrap();
        let d = n.domain(DEFAULT_SUFFIX);
        assert_eq!(d, "3.8.0.0.6.9.2.3.6.1.4.4.e164.arpa");
        let s = sets(vec![(
            d.as_str(),
            Fetched::Records(vec![
                naptr(
                    10,
                    102,
                    "u",
                    "E2U+email:mailto",
                    "!^.*$!mailto:info@example.com!",
                ),
                naptr(10, 100, "u", "E2U+sip", "!^.*$!sip:info@example.com!"),
                naptr(10, 101, "u", "E2U+h323", "!^.*$!h323:info@example.com!"),
            ]),
        )]);
        let w = walk(&d, &s, &n.aus(), None);
        let uris: Vec<&str> = w.uris.iter().map(|u| u.uri.as_str()).collect();
        assert_eq!(
            uris,
            [
                "sip:info@example.com",
                "h323:info@example.com",
                "mailto:info@example.com"
            ]
        );
        assert_eq!(w.uris[2].enumservices[0].to_string(), "email:mailto");
    }

    /// Substitution expressions as ENUM zones write them (RFC 3402 §3.2 syntax).
    #[test]
    fn substitution_rfc_examples() {
        let aus = "+4319793321";
        let e = SubstExpr::parse("!^.*$!sip:info@example.com!").unwrap();
        assert_eq!(e.apply(aus).unwrap(), "sip:info@example.com");
        // A back-reference.
        let e = SubstExpr::parse(r"!^\+4319(.*)$!sip:\1@example.com!").unwrap();
        assert_eq!(e.apply(aus).unwrap(), "sip:793321@example.com");
        // A tel URI from two groups.
        let e = SubstExpr::parse(r"!^\+(43)(.*)$!tel:+\1-\2!").unwrap();
        assert_eq!(e.apply(aus).unwrap(), "tel:+43-19793321");
        // The delimiter can be another character, escaped where it appears.
        let e = SubstExpr::parse(r"#^\+43(1)#sip:a\#\1@x#").unwrap();
        assert_eq!(e.apply(aus).unwrap(), "sip:a#1@x");
        let e = SubstExpr::parse(r"/^\+43(.*)$/sip:\1@x\/y/").unwrap();
        assert_eq!(e.apply(aus).unwrap(), "sip:19793321@x/y");
        // The i flag.
        let e = SubstExpr::parse("!^\\+43(.*)$!MAILTO:\\1@EXAMPLE.COM!i").unwrap();
        assert_eq!(e.apply(aus).unwrap(), "MAILTO:19793321@EXAMPLE.COM");
        let e = SubstExpr::parse("!^x(.*)$!\\1!i").unwrap();
        assert_eq!(e.apply("X42").unwrap(), "42");
        assert!(
            SubstExpr::parse("!^x(.*)$!\\1!")
                .unwrap()
                .apply("X42")
                .is_none()
        );
        // POSIX classes.
        let e = SubstExpr::parse("!^\\+([[:digit:]]{2})!sip:\\1@cc!").unwrap();
        assert_eq!(e.apply(aus).unwrap(), "sip:43@cc");
        // No match.
        assert!(
            SubstExpr::parse("!^\\+44!x:y!")
                .unwrap()
                .apply(aus)
                .is_none()
        );
        // RFC 3403 §6.1: a CID URN rewritten to the domain to look in next (non-terminal).
        let e = SubstExpr::parse(r"/urn:cid:.+@([^\.]+\.)(.*)$/\2/i").unwrap();
        assert_eq!(
            e.apply("urn:cid:39CB83F7.A8450130@fake.gatech.edu")
                .unwrap(),
            "gatech.edu"
        );
        // A backslash in the output.
        let e = SubstExpr::parse(r"!^.*$!x:a\\b!").unwrap();
        assert_eq!(e.apply(aus).unwrap(), r"x:a\b");
    }

    #[test]
    fn substitution_errors() {
        for (bad, why) in [
            ("", "empty"),
            ("!^.*$!sip:x", "delimiters"),
            ("!^.*$!sip:x!!", "delimiters"),
            ("!^(.*$!sip:x!", "ERE"),
            ("!^.*$!sip:\\1!", "group"),
            ("!^.*$!sip:x!g", "flags"),
            ("1^.*1x1", "delimiter"),
            ("!!x!", "empty regular"),
            ("!^.*$!!", "empty replacement"),
            ("!a{1000}{1000}!x!", "ERE"),
        ] {
            let e = SubstExpr::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    fn sets(entries: Vec<(&str, Fetched)>) -> HashMap<String, Fetched> {
        entries
            .into_iter()
            .map(|(d, f)| (d.to_string(), f))
            .collect()
    }

    #[test]
    fn walk_orders_filters_and_stops_at_first_order() {
        let aus = "+4319793321";
        let records = vec![
            naptr(200, 10, "u", "E2U+mailto", "!^.*$!mailto:info@example.com!"),
            naptr(100, 20, "u", "E2U+tel", r"!^\+(.*)$!tel:+\1!"),
            naptr(100, 10, "u", "E2U+sip", "!^.*$!sip:info@example.com!"),
            naptr(100, 5, "u", "E2U+sip", "!^(.*$!sip:broken!"),
            naptr(100, 30, "u", "foo+bar", "!^.*$!x:y!"),
        ];
        let d = "1.2.3.3.9.7.9.1.3.4.e164.arpa";
        let s = sets(vec![(d, Fetched::Records(records))]);
        let w = walk(d, &s, aus, None);
        let uris: Vec<&str> = w.uris.iter().map(|u| u.uri.as_str()).collect();
        assert_eq!(uris, ["sip:info@example.com", "tel:+4319793321"]);
        let disp: Vec<(u16, Disposition)> = w
            .records
            .iter()
            .map(|r| (r.naptr.preference, r.disposition))
            .collect();
        assert_eq!(
            disp,
            [
                (5, Disposition::MalformedRegexp),
                (10, Disposition::Uri),
                (20, Disposition::Uri),
                (30, Disposition::UnknownService),
                (10, Disposition::NotConsidered),
            ]
        );
        assert_eq!(w.records[1].received_index, 2);

        // --service mailto: the order-100 records are filtered, so order 200 is used.
        let f: ServiceFilter = "E2U+mailto".parse().unwrap();
        let w = walk(d, &s, aus, Some(&f));
        assert_eq!(w.uris.len(), 1);
        assert_eq!(w.uris[0].uri, "mailto:info@example.com");
    }

    #[test]
    fn walk_follows_chains_and_cuts_loops() {
        let aus = "+4319793321";
        let mut chain = naptr(10, 10, "", "", "");
        chain.replacement = "next.example.".into();
        let mut back = naptr(10, 10, "", "", "");
        back.replacement = "start.example.".into();
        let mut by_regexp = naptr(20, 10, "", "E2U+sip", r"!^\+43(.*)$!\1.tree.example!");
        by_regexp.replacement = ".".into();
        let s = sets(vec![
            (
                "start.example",
                Fetched::Records(vec![chain.clone(), by_regexp]),
            ),
            (
                "next.example",
                Fetched::Records(vec![
                    back,
                    naptr(20, 10, "u", "E2U+sip", "!^.*$!sip:chained@example.com!"),
                ]),
            ),
            ("19793321.tree.example", Fetched::NoEntry("NXDOMAIN".into())),
        ]);
        let w = walk("start.example", &s, aus, None);
        assert_eq!(w.uris.len(), 1);
        assert_eq!(w.uris[0].uri, "sip:chained@example.com");
        assert_eq!(w.uris[0].domain, "next.example");
        let loops: Vec<_> = w
            .records
            .iter()
            .filter(|r| r.disposition == Disposition::Loop)
            .collect();
        assert_eq!(loops.len(), 1);
        assert_eq!(loops[0].depth, 1);
        // Order 10 gave a URI through the chain, so the order-20 record is not considered.
        assert_eq!(
            w.records.last().unwrap().disposition,
            Disposition::NotConsidered
        );

        // The fetch plan: next.example and the regexp target, each once; the loop back to
        // start.example is not queued again.
        let mut plan = Plan::new("start.example", aus);
        let mut visited = Vec::new();
        while let Some((d, depth)) = plan.next_query() {
            visited.push(d.clone());
            let r = s
                .get(&d)
                .cloned()
                .unwrap_or(Fetched::NoEntry("NXDOMAIN".into()));
            plan.fetched(d, depth, r);
        }
        assert_eq!(
            visited,
            ["start.example", "next.example", "19793321.tree.example"]
        );
    }

    #[test]
    fn walk_bounds_long_chains() {
        let aus = "+1";
        let mut s = HashMap::new();
        for i in 0..20 {
            let mut n = naptr(10, 10, "", "", "");
            n.replacement = format!("d{}.example", i + 1);
            s.insert(format!("d{i}.example"), Fetched::Records(vec![n]));
        }
        let mut plan = Plan::new("d0.example", aus);
        let mut fetched = 0;
        while let Some((d, depth)) = plan.next_query() {
            fetched += 1;
            let r = s.get(&d).cloned().unwrap();
            plan.fetched(d, depth, r);
        }
        assert_eq!(fetched, MAX_HOPS + 1);
        let w = walk("d0.example", &plan.sets, aus, None);
        assert!(w.uris.is_empty());
        assert_eq!(w.records.last().unwrap().disposition, Disposition::TooDeep);
        assert_eq!(w.records.len(), MAX_HOPS + 1);
    }

    #[test]
    fn walk_rejects_bad_records() {
        let aus = "+4319793321";
        let mut both = naptr(10, 1, "u", "E2U+sip", "!^.*$!sip:a@b!");
        both.replacement = "x.example".into();
        let s = sets(vec![(
            "d",
            Fetched::Records(vec![
                both,
                naptr(10, 2, "s", "E2U+sip", "!^.*$!sip:a@b!"),
                naptr(10, 3, "u", "E2U+sip", "!^.*$!not a uri!"),
                naptr(10, 4, "u", "E2U+sip", "!^\\+44!sip:a@b!"),
            ]),
        )]);
        let w = walk("d", &s, aus, None);
        assert!(w.uris.is_empty());
        let disp: Vec<Disposition> = w.records.iter().map(|r| r.disposition).collect();
        assert_eq!(
            disp,
            [
                Disposition::Malformed,
                Disposition::UnsupportedFlags,
                Disposition::Malformed,
                Disposition::NoMatch
            ]
        );
    }
}
