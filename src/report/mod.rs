//! Reports: the typed result of a command, its findings and status, rendered as human text
//! (comfy-table) or as one JSON document with the envelope of DESIGN.md:
//! `{"command", "version", "started_at", "duration_ms", "status", "findings", "result"}`.
//!
//! JSON field names may grow, never be renamed: scripts depend on them.

pub mod call;
pub mod enum_lookup;
pub mod nat_probe;
pub mod pcap_decode;
pub mod register;
pub mod sip_options;
pub mod trace;
pub mod upnp_map;

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

/// Exit codes, the same for every subcommand (see README and the man page).
pub mod exit {
    /// The check ran and everything is fine.
    pub const OK: u8 = 0;
    /// The check ran and found a problem (4xx/5xx, auth failure, UDP blocked, ...).
    pub const PROBLEM: u8 = 1;
    /// Usage or input error (clap's own, unreadable file).
    pub const USAGE: u8 = 2;
    /// No answer (timeout, unreachable).
    pub const NO_ANSWER: u8 = 3;
    /// Internal error.
    pub const INTERNAL: u8 = 4;
}

/// The overall outcome of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The check ran, no problem found.
    Ok,
    /// The check ran and found a problem.
    Problem,
    /// Nothing answered.
    NoAnswer,
    /// The command could not run.
    Error,
}

impl Status {
    /// The process exit code for this status.
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Ok => exit::OK,
            Status::Problem => exit::PROBLEM,
            Status::NoAnswer => exit::NO_ANSWER,
            Status::Error => exit::INTERNAL,
        }
    }
}

/// The one exit rule of every command (README "Exit codes"): a command that could not run
/// or heard nothing keeps its status (`error`, `no-answer`); otherwise the status is
/// `problem` (exit 1) when a finding is critical, when the command found an expectation
/// failed (its own `problem`: a REGISTER refused, an OPTIONS error response, an ENUM
/// number without entry), or — with `--fail-on warning` — when a finding is a warning;
/// else `ok` (exit 0). Warnings alone never make exit 1 by default.
pub fn exit_rule(status: Status, findings: &[Finding], fail_on_warning: bool) -> Status {
    if matches!(status, Status::Error | Status::NoAnswer) {
        return status;
    }
    let worst = findings.iter().map(|f| f.severity).max();
    let threshold = if fail_on_warning {
        Severity::Warning
    } else {
        Severity::Critical
    };
    if status == Status::Problem || worst.is_some_and(|w| w >= threshold) {
        Status::Problem
    } else {
        Status::Ok
    }
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// A fact worth knowing.
    Info,
    /// Something that can break calls in some situations.
    Warning,
    /// Something that breaks calls.
    Critical,
}

/// One conclusion in plain language, with a stable machine-readable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable code, e.g. `SYMMETRIC_NAT`.
    pub code: &'static str,
    /// Severity.
    pub severity: Severity,
    /// What it means for calls.
    pub message: String,
}

impl Finding {
    /// A finding.
    pub fn new(code: &'static str, severity: Severity, message: impl Into<String>) -> Self {
        Self {
            code,
            severity,
            message: message.into(),
        }
    }
}

/// What a human rendering shows besides the verdict and findings.
#[derive(Debug, Clone)]
pub enum Section {
    /// Two columns of facts.
    Facts {
        /// Heading.
        title: String,
        /// (name, value) rows.
        rows: Vec<(String, String)>,
    },
    /// A table with a header row.
    Table {
        /// Heading.
        title: String,
        /// Column names.
        header: Vec<String>,
        /// Rows.
        rows: Vec<Vec<String>>,
    },
    /// Prose (e.g. "no SIP message in this capture"): wrapped at spaces to the terminal.
    Note {
        /// Heading.
        title: String,
        /// The sentences.
        text: String,
    },
    /// Preformatted text (e.g. a ladder diagram).
    Text {
        /// Heading.
        title: String,
        /// The text, newline-terminated lines.
        body: String,
    },
}

/// A result that can describe itself to a human: a one-line verdict and sections.
pub trait Describe {
    /// One line: the answer to the command's question.
    fn verdict(&self) -> String;
    /// Tables to show; `verbose` adds detail.
    fn sections(&self, verbose: bool) -> Vec<Section>;
}

/// A finished command: envelope fields plus the typed result.
#[derive(Debug, Clone, Serialize)]
pub struct Report<T> {
    /// Subcommand name, e.g. `nat-probe`.
    pub command: &'static str,
    /// voipdiag version.
    pub version: &'static str,
    /// Start time, RFC 3339 UTC.
    pub started_at: String,
    /// Wall time of the command in ms.
    pub duration_ms: u64,
    /// Overall status.
    pub status: Status,
    /// Conclusions, most severe first.
    pub findings: Vec<Finding>,
    /// The command's own result.
    pub result: T,
}

impl<T> Report<T> {
    /// A report for `command` that started at `started_at` and took `duration`; findings are
    /// sorted most severe first.
    pub fn new(
        command: &'static str,
        started_at: SystemTime,
        duration: Duration,
        status: Status,
        mut findings: Vec<Finding>,
        result: T,
    ) -> Self {
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        Self {
            command,
            version: env!("CARGO_PKG_VERSION"),
            started_at: humantime::format_rfc3339_millis(started_at).to_string(),
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            status,
            findings,
            result,
        }
    }
}

/// A duration in milliseconds, rounded to the microsecond (the unit of every `*_ms` field).
pub fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// A value for a table cell, `-` when absent.
pub fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map_or("-".into(), ToString::to_string)
}

/// The name a value has in the JSON (its serde form), for a table cell: `not-considered`.
pub fn json_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// The "lost" cell: RFC 3550's cumulative lost with its share; a negative count (more
/// packets than the sequence numbers span: duplicates, e.g. a DTMF end packet sent three
/// times) is shown as none lost and the duplicates.
pub fn lost_cell(lost: i64, percent: f64) -> String {
    if lost < 0 {
        format!(
            "0 ({} more than sent: duplicates)",
            crate::text::count(lost.unsigned_abs(), "packet")
        )
    } else {
        format!("{lost} ({percent:.1}%)")
    }
}

/// `yes`, `no` or `unknown` for a tri-state fact.
pub fn yes_no(v: Option<bool>) -> String {
    match v {
        Some(true) => "yes".into(),
        Some(false) => "no".into(),
        None => "unknown".into(),
    }
}

/// The table of DNS queries made while locating a server (RFC 3263), for `-v`.
pub fn dns_section(title: String, queries: &[crate::dns::resolution::QueryLog]) -> Section {
    Section::Table {
        title,
        header: ["Query", "Type", "Result", "AD", "ms"]
            .map(String::from)
            .to_vec(),
        rows: queries
            .iter()
            .map(|q| {
                vec![
                    q.name.clone(),
                    q.rtype.clone(),
                    format!("{} ({} answers)", q.rcode, q.answers),
                    match q.ad {
                        Some(true) => "yes".into(),
                        Some(false) => "no".into(),
                        None => "-".into(),
                    },
                    format!("{:.1}", q.ms),
                ]
            })
            .collect(),
    }
}

/// The JSON document (one line, newline-terminated).
pub fn render_json<T: Serialize>(report: &Report<T>) -> String {
    match serde_json::to_string(report) {
        Ok(s) => s + "\n",
        Err(e) => format!(
            "{{\"command\":{:?},\"status\":\"error\",\"findings\":[{{\"code\":\"INTERNAL\",\"severity\":\"critical\",\"message\":{:?}}}],\"result\":null}}\n",
            report.command,
            e.to_string()
        ),
    }
}

/// `text` made safe for a terminal: every control character but newline and tab (C0, DEL,
/// C1 — ESC starts the sequences that move the cursor, retitle the window or rewrite what
/// was printed) and the Unicode bidirectional overrides and isolates (which reorder what is
/// shown) are written as `\x1b`-style escapes. Everything a peer wrote passes through here
/// before it reaches the terminal: [`render_human`], the `-v` traces, error messages.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !unsafe_char(c) => out.push(c),
            c if u32::from(c) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

fn safe(text: &str) -> String {
    terminal_safe(text).into_owned()
}

fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// The display width of `s` in terminal columns.
fn columns(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// The widest whitespace-free token of `cell` (an address, SSRC, Call-ID, URI, timestamp):
/// the narrowest its column may get without splitting one.
fn widest_token(cell: &str) -> usize {
    cell.split_whitespace().map(columns).max().unwrap_or(0)
}

/// Renders a table (with `header`, or a two-column list of facts without) into `width`
/// columns, never splitting a token in the middle:
/// 1. at its natural width when that fits (or the width is unknown: `None` or 0);
/// 2. else wrapped at spaces by comfy-table's dynamic arrangement, each column bounded below
///    by its widest token;
/// 3. else, when even those bounds do not fit, as records: one `name: value` line per cell,
///    values wrapped at spaces with a hanging indent, records apart by a blank line.
pub fn render_table(header: Option<&[String]>, rows: &[Vec<String>], width: Option<u16>) -> String {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    if let Some(h) = header {
        table.set_header(h.iter().cloned());
    }
    for r in rows {
        table.add_row(r.iter().cloned());
    }
    let natural = table.to_string();
    let Some(width) = width.filter(|w| *w > 0) else {
        return natural;
    };
    let fits = |text: &str| text.lines().all(|l| columns(l) <= usize::from(width));
    if fits(&natural) {
        return natural;
    }
    let ncols = rows
        .iter()
        .map(Vec::len)
        .chain(header.map(<[String]>::len))
        .max()
        .unwrap_or(0);
    let mins: Vec<usize> = (0..ncols)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .chain(header.and_then(|h| h.get(i)))
                .map(|c| widest_token(c))
                .max()
                .unwrap_or(0)
                .max(1)
        })
        .collect();
    // Each column: its content, one space of padding either side, one border.
    let needed: usize = mins.iter().map(|m| m + 3).sum::<usize>() + 1;
    if needed <= usize::from(width) {
        table
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(width);
        let constraints = mins.iter().map(|m| {
            comfy_table::ColumnConstraint::LowerBoundary(comfy_table::Width::Fixed(
                u16::try_from(*m).unwrap_or(u16::MAX),
            ))
        });
        table.set_constraints(constraints);
        let wrapped = table.to_string();
        // comfy-table's wrapping is the library's: check that no token was split before
        // using it.
        let intact = rows
            .iter()
            .flatten()
            .flat_map(|c| c.split_whitespace())
            .all(|t| wrapped.contains(t));
        if fits(&wrapped) && intact {
            return wrapped;
        }
    }
    render_records(header, rows, usize::from(width))
}

/// The record layout of [`render_table`]: `name: value` lines (facts: `key: value`).
fn render_records(header: Option<&[String]>, rows: &[Vec<String>], width: usize) -> String {
    let mut out = String::new();
    let name_width = match header {
        Some(h) => h.iter().map(|k| columns(k)).max(),
        None => rows
            .iter()
            .filter_map(|r| r.first())
            .map(|k| columns(k))
            .max(),
    }
    .unwrap_or(0);
    for (n, row) in rows.iter().enumerate() {
        if n > 0 && header.is_some() {
            out.push('\n');
        }
        let pairs: Vec<(&str, &str)> = match header {
            Some(h) => h
                .iter()
                .map(String::as_str)
                .zip(row.iter().map(String::as_str))
                .collect(),
            None => match row.as_slice() {
                [k, v, ..] => vec![(k.as_str(), v.as_str())],
                [k] => vec![(k.as_str(), "")],
                [] => vec![],
            },
        };
        for (k, v) in pairs {
            let head = format!("{k}:{}", " ".repeat(name_width + 1 - columns(k)));
            out.push_str(&wrap(&head, v, width, name_width + 2));
        }
    }
    // One newline fewer: the caller ends the section as it ends a table.
    out.pop();
    out
}

/// `head` followed by `text` wrapped at spaces into `width` columns, continuation lines
/// indented by `indent` columns; a token wider than the line stays whole. Ends with a
/// newline.
fn wrap(head: &str, text: &str, width: usize, indent: usize) -> String {
    let mut out = String::new();
    let mut line = head.to_string();
    let mut used = columns(head);
    let mut first = true;
    for token in text.split_whitespace() {
        let w = columns(token);
        if !first && used + 1 + w > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = " ".repeat(indent);
            used = indent;
            first = true;
        }
        if !first {
            line.push(' ');
            used += 1;
        }
        line.push_str(token);
        used += w;
        first = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// The human rendering: verdict, tables, findings. `width` is the terminal's width in
/// columns (`None` or 0: unknown, e.g. a pipe — tables then keep their natural width);
/// tables are fitted into it by [`render_table`] without splitting a token.
pub fn render_human<T: Describe>(
    report: &Report<T>,
    color: bool,
    verbose: bool,
    width: Option<u16>,
) -> String {
    let mut out = String::new();
    let (label, code) = match report.status {
        Status::Ok => ("OK", "1;32"),
        Status::Problem => ("PROBLEM", "1;33"),
        Status::NoAnswer => ("NO ANSWER", "1;31"),
        Status::Error => ("ERROR", "1;31"),
    };
    // Everything below but our own labels and colours may carry a peer's text.
    let verdict = safe(&report.result.verdict());
    match width.filter(|w| *w > 0) {
        // Wrapped at spaces on a terminal; one line in a pipe (`| head -n 1`).
        Some(w) => {
            let text = wrap(&format!("{label} "), &verdict, usize::from(w), 2);
            let _ = write!(
                out,
                "{}",
                text.replacen(label, &paint(label, code, color), 1)
            );
        }
        None => {
            let _ = writeln!(out, "{} {verdict}", paint(label, code, color));
        }
    }
    for section in report.result.sections(verbose) {
        let (title, body) = match section {
            Section::Text { title, body } => {
                let _ = write!(
                    out,
                    "\n{}\n{}",
                    paint(&safe(&title), "1", color),
                    safe(&body)
                );
                continue;
            }
            Section::Note { title, text } => {
                let body = match width.filter(|w| *w > 0) {
                    Some(w) => wrap("", &safe(&text), usize::from(w), 0),
                    None => format!("{}\n", safe(&text)),
                };
                let _ = write!(out, "\n{}\n{body}", paint(&safe(&title), "1", color));
                continue;
            }
            Section::Facts { title, rows } => {
                let rows: Vec<Vec<String>> =
                    rows.iter().map(|(k, v)| vec![safe(k), safe(v)]).collect();
                (title, render_table(None, &rows, width))
            }
            Section::Table {
                title,
                header,
                rows,
            } => {
                let header: Vec<String> = header.iter().map(|h| safe(h)).collect();
                let rows: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| r.iter().map(|c| safe(c)).collect())
                    .collect();
                (title, render_table(Some(&header), &rows, width))
            }
        };
        let _ = writeln!(out, "\n{}\n{body}", paint(&safe(&title), "1", color));
    }
    if !report.findings.is_empty() {
        let _ = writeln!(out, "\n{}", paint("Findings", "1", color));
        for f in &report.findings {
            let (tag, code) = match f.severity {
                Severity::Critical => ("critical", "31"),
                Severity::Warning => ("warning", "33"),
                Severity::Info => ("info", "36"),
            };
            let message = safe(&f.message);
            match width.filter(|w| *w > 0) {
                // Wrapped at spaces with a hanging indent (colour codes have no width).
                Some(w) => {
                    let head = format!("- [{tag}] {}: ", f.code);
                    let text = wrap(&head, &message, usize::from(w), 2);
                    let _ = write!(
                        out,
                        "{}",
                        text.replacen(
                            &format!("[{tag}]"),
                            &format!("[{}]", paint(tag, code, color)),
                            1
                        )
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "- [{}] {}: {}",
                        paint(tag, code, color),
                        f.code,
                        message
                    );
                }
            }
        }
    }
    let _ = writeln!(out, "\n(took {} ms)", report.duration_ms);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_exit_rule() {
        let f = |sev| vec![Finding::new("X", sev, "x")];
        use Severity::{Critical, Info, Warning};
        // Warnings alone: ok, unless --fail-on warning.
        assert_eq!(exit_rule(Status::Ok, &f(Warning), false), Status::Ok);
        assert_eq!(exit_rule(Status::Ok, &f(Warning), true), Status::Problem);
        assert_eq!(exit_rule(Status::Ok, &f(Info), true), Status::Ok);
        // A critical finding is a problem even where the command said ok.
        assert_eq!(exit_rule(Status::Ok, &f(Critical), false), Status::Problem);
        // A failed expectation (the command's own problem) stays one without a finding.
        assert_eq!(exit_rule(Status::Problem, &[], false), Status::Problem);
        // No answer and error keep their own exit codes.
        assert_eq!(
            exit_rule(Status::NoAnswer, &f(Critical), true),
            Status::NoAnswer
        );
        assert_eq!(exit_rule(Status::Error, &f(Warning), true), Status::Error);
        assert_eq!(exit_rule(Status::Ok, &[], true), Status::Ok);
    }

    #[test]
    fn peer_text_cannot_drive_the_terminal() {
        assert_eq!(terminal_safe("plain\ttext\nline"), "plain\ttext\nline");
        assert_eq!(
            terminal_safe("a\x1b]0;owned\x07b\r\u{9b}2J\u{202e}z"),
            "a\\x1b]0;owned\\x07b\\x0d\\x9b2J\\u{202e}z"
        );
        struct Hostile;
        impl Describe for Hostile {
            fn verdict(&self) -> String {
                "server \x1b[2J".into()
            }
            fn sections(&self, _: bool) -> Vec<Section> {
                vec![
                    Section::Facts {
                        title: "T\x1b".into(),
                        rows: vec![("k".into(), "v\x1b[31m".into())],
                    },
                    Section::Table {
                        title: "U".into(),
                        header: vec!["h\x1b".into()],
                        rows: vec![vec!["c\x1b".into()]],
                    },
                    Section::Text {
                        title: "V".into(),
                        body: "line\x1b[A\n".into(),
                    },
                ]
            }
        }
        let report = Report::new(
            "test",
            SystemTime::UNIX_EPOCH,
            Duration::ZERO,
            Status::Ok,
            vec![Finding::new("X", Severity::Info, "reason \x1bc")],
            Hostile,
        );
        let plain = render_human(&report, false, true, None);
        assert!(!plain.contains('\x1b'), "{plain}");
        assert_eq!(plain.matches("\\x1b").count(), 7, "{plain}");
        // With colour only our own sequences remain.
        let coloured = render_human(&report, true, true, None);
        assert_eq!(coloured.matches("\\x1b").count(), 7);
    }
}
