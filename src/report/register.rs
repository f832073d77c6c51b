//! The `register` result: did the account register, what did the registrar keep, and the
//! ladder of requests and responses that led there.

use serde::Serialize;

use super::{Describe, Finding, Section, Severity, Status, dns_section, yes_no};
use crate::net::dns::Resolution;

/// One step of the ladder.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Time since the first request, ms.
    pub at_ms: f64,
    /// `sent` or `received`.
    pub direction: &'static str,
    /// `REGISTER (CSeq 2, Authorization MD5 qop=auth)` or `401 Unauthorized`.
    pub summary: String,
}

impl Step {
    /// A REGISTER we sent, at `at_ms`; `credentials` = (header name, algorithm, qop).
    pub fn request(
        at_ms: f64,
        cseq: u32,
        expires: u32,
        credentials: Option<(&str, &str, Option<&str>)>,
    ) -> Step {
        let mut summary = format!("REGISTER (CSeq {cseq}, Expires {expires})");
        if let Some((header, algorithm, qop)) = credentials {
            summary.push_str(&format!(" with {header} {algorithm}"));
            if let Some(q) = qop {
                summary.push_str(&format!(" qop={q}"));
            }
        }
        Step {
            at_ms,
            direction: "sent",
            summary,
        }
    }

    /// A response we received, at `at_ms`.
    pub fn response(at_ms: f64, code: u16, reason: &str) -> Step {
        Step {
            at_ms,
            direction: "received",
            summary: format!("{code} {reason}"),
        }
    }
}

/// One Contact binding the registrar returned (RFC 3261 §10.3 step 8).
#[derive(Debug, Clone, Serialize)]
pub struct Binding {
    /// Contact URI.
    pub uri: String,
    /// Its `expires` parameter (or the Expires header), s.
    pub expires_s: Option<u64>,
    /// Whether it is the one we registered.
    pub ours: bool,
}

/// The authentication that was used.
#[derive(Debug, Clone, Serialize)]
pub struct AuthInfo {
    /// 401 (WWW-Authenticate) or 407 (Proxy-Authenticate).
    pub challenge_status: u16,
    /// Realm.
    pub realm: String,
    /// `MD5`, `MD5-sess`, `SHA-256`, …
    pub algorithm: String,
    /// qop used.
    pub qop: Option<String>,
    /// Authentication user name.
    pub user: String,
    /// Whether a `stale=true` challenge was answered again.
    pub stale_retry: bool,
}

/// The `result` of `register`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RegisterResult {
    /// Address-of-record.
    pub aor: String,
    /// Whether the binding was stored (or removed, with `--unregister`).
    pub registered: bool,
    /// Whether this was an unregistration.
    pub unregister: bool,
    /// Final status code.
    pub final_status: Option<u16>,
    /// Its reason phrase.
    pub reason: Option<String>,
    /// Expiry the registrar granted to our binding, s.
    pub expires_s: Option<u64>,
    /// Expiry we asked for, s (after a 423 retry, the Min-Expires).
    pub requested_expires_s: u32,
    /// Every binding returned.
    pub bindings: Vec<Binding>,
    /// Path values (RFC 3327).
    pub path: Vec<String>,
    /// Service-Route values (RFC 3608).
    pub service_route: Vec<String>,
    /// P-Associated-URI values (RFC 3455).
    pub p_associated_uri: Vec<String>,
    /// Contacts of a 3xx.
    pub redirect: Vec<String>,
    /// Server address (`ip:port`).
    pub address: Option<String>,
    /// Transport.
    pub transport: Option<String>,
    /// Our address.
    pub local_address: Option<String>,
    /// Top Via `received`.
    pub received: Option<String>,
    /// Top Via `rport`.
    pub rport: Option<u16>,
    /// Whether the registrar saw another address than ours.
    pub nat_detected: Option<bool>,
    /// The address it saw.
    pub public_address: Option<String>,
    /// Authentication used.
    pub auth: Option<AuthInfo>,
    /// Every request and response.
    pub ladder: Vec<Step>,
    /// RFC 3263 resolution.
    pub resolution: Resolution,
    /// Transport or DNS failure, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Finding code of `error`.
    #[serde(skip)]
    pub error_code: Option<&'static str>,
    /// Why authentication failed, when it did.
    #[serde(skip)]
    pub auth_failure: Option<String>,
    /// Whether Min-Expires drove a retry.
    #[serde(skip)]
    pub interval_retry: Option<u32>,
}

/// Findings of a run.
pub fn findings(r: &RegisterResult) -> Vec<Finding> {
    let mut out = Vec::new();
    if let (Some(code), Some(e)) = (r.error_code, &r.error) {
        out.push(Finding::new(code, Severity::Critical, e.clone()));
        return out;
    }
    if let Some(why) = &r.auth_failure {
        out.push(Finding::new("AUTH_FAILED", Severity::Critical, why.clone()));
    }
    match r.final_status {
        None => out.push(Finding::new(
            "SIP_NO_ANSWER",
            Severity::Critical,
            format!(
                "no final response to REGISTER within the timeout from {}",
                r.address.as_deref().unwrap_or("?")
            ),
        )),
        Some(c) if (300..400).contains(&c) => out.push(Finding::new(
            "REGISTER_REDIRECTED",
            Severity::Warning,
            format!("the registrar redirects ({c}) to {}", r.redirect.join(", ")),
        )),
        Some(c) if c >= 400 && r.auth_failure.is_none() => out.push(Finding::new(
            "REGISTER_FAILED",
            Severity::Critical,
            format!(
                "REGISTER was refused: {c} {}",
                r.reason.as_deref().unwrap_or("")
            ),
        )),
        _ => {}
    }
    if let Some(min) = r.interval_retry {
        out.push(Finding::new(
            "INTERVAL_TOO_BRIEF",
            Severity::Info,
            format!(
                "the registrar asked for at least {min} s (423 Interval Too Brief); retried with it"
            ),
        ));
    }
    if r.registered && !r.unregister && !r.bindings.iter().any(|b| b.ours) {
        out.push(Finding::new(
            "BINDING_NOT_LISTED",
            Severity::Warning,
            "the 200 OK does not list the Contact we registered".to_string(),
        ));
    }
    if r.nat_detected == Some(true) {
        out.push(Finding::new(
            "NAT_DETECTED",
            Severity::Info,
            format!(
                "the registrar sees us as {} while we are {}: behind NAT. Incoming calls reach \
                 us only if the registrar stores the source address (nathelper / outbound) \
                 and we re-register or send keep-alives more often than the NAT forgets",
                r.public_address.as_deref().unwrap_or("?"),
                r.local_address.as_deref().unwrap_or("?")
            ),
        ));
    }
    out
}

/// ok when registered; no answer when nothing answered; problem otherwise.
pub fn status(r: &RegisterResult) -> Status {
    if r.registered {
        Status::Ok
    } else if r.final_status.is_none() {
        Status::NoAnswer
    } else {
        Status::Problem
    }
}

impl Describe for RegisterResult {
    fn verdict(&self) -> String {
        let st = match (self.final_status, &self.reason) {
            (Some(c), Some(r)) => format!("{c} {r}"),
            _ => "no answer".into(),
        };
        match (self.registered, self.unregister) {
            (true, false) => format!(
                "{} registered ({st}), expires in {} s",
                self.aor,
                self.expires_s.map_or("?".into(), |e| e.to_string())
            ),
            (true, true) => format!("{} unregistered ({st})", self.aor),
            (false, _) if self.auth_failure.is_some() => {
                format!("{}: authentication failed ({st})", self.aor)
            }
            (false, _) => format!("{}: registration failed ({st})", self.aor),
        }
    }

    fn sections(&self, verbose: bool) -> Vec<Section> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        let mut rows = vec![
            (
                "Registrar".to_string(),
                format!("{} ({})", opt(&self.address), opt(&self.transport)),
            ),
            ("Local address".into(), opt(&self.local_address)),
            ("Seen by registrar as".into(), opt(&self.public_address)),
            ("NAT detected".into(), yes_no(self.nat_detected)),
            (
                "Granted expiry".into(),
                self.expires_s.map_or("-".into(), |e| format!("{e} s")),
            ),
        ];
        if let Some(a) = &self.auth {
            rows.push((
                "Authentication".into(),
                format!(
                    "{} {} realm \"{}\" user {}{}",
                    a.algorithm,
                    a.qop.as_deref().unwrap_or("(no qop)"),
                    a.realm,
                    a.user,
                    if a.challenge_status == 407 {
                        " (407 proxy)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        for (name, list) in [
            ("Path", &self.path),
            ("Service-Route", &self.service_route),
            ("P-Associated-URI", &self.p_associated_uri),
        ] {
            if !list.is_empty() {
                rows.push((name.into(), list.join(", ")));
            }
        }
        let mut out = vec![Section::Facts {
            title: "Registration".into(),
            rows,
        }];
        if !self.bindings.is_empty() {
            out.push(Section::Table {
                title: "Bindings".into(),
                header: vec!["Contact".into(), "Expires (s)".into(), "Ours".into()],
                rows: self
                    .bindings
                    .iter()
                    .map(|b| {
                        vec![
                            b.uri.clone(),
                            b.expires_s.map_or("-".into(), |e| e.to_string()),
                            if b.ours { "yes".into() } else { "".into() },
                        ]
                    })
                    .collect(),
            });
        }
        out.push(Section::Table {
            title: "Ladder".into(),
            header: vec!["ms".into(), "".into(), "Message".into()],
            rows: self
                .ladder
                .iter()
                .map(|s| {
                    vec![
                        format!("{:.1}", s.at_ms),
                        if s.direction == "sent" {
                            "→".into()
                        } else {
                            "←".into()
                        },
                        s.summary.clone(),
                    ]
                })
                .collect(),
        });
        if verbose && !self.resolution.queries.is_empty() {
            out.push(dns_section(
                "DNS (RFC 3263)".into(),
                &self.resolution.queries,
            ));
        }
        out
    }
}
