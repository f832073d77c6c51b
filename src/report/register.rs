//! The `register` result: did the account register, what did the registrar keep, and the
//! ladder of requests and responses that led there.

use serde::Serialize;

use std::net::SocketAddr;

use super::{Describe, Finding, Section, Severity, Status, dns_section, ms, opt, yes_no};
use crate::dns::resolution::Resolution;
use crate::sip::endpoint::Flow;
use crate::sip::reflexive::ReflexiveAddress;
use crate::sip::register::{LadderEntry, RegisterOutcome, read_final};
use crate::sip::target::Transport;

/// The environment variable the password is read from.
pub const PASSWORD_ENV: &str = "VOIPDIAG_PASSWORD";

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

pub use crate::sip::register::{AuthFailure, AuthInfo, Binding};

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
    /// Expires values the registrar sent that are not delta-seconds (0 to 2^32−1), as
    /// received; absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub malformed_expires: Vec<String>,
    /// Path values (RFC 3327).
    pub path: Vec<String>,
    /// Service-Route values (RFC 3608).
    pub service_route: Vec<String>,
    /// P-Associated-URI values (RFC 3455).
    pub p_associated_uri: Vec<String>,
    /// Contacts of a 3xx.
    pub redirect: Vec<String>,
    /// Server address (`ip:port`).
    pub address: Option<SocketAddr>,
    /// Transport.
    pub transport: Option<Transport>,
    /// Our address.
    pub local_address: Option<SocketAddr>,
    /// Top Via `received`.
    pub received: Option<String>,
    /// Top Via `rport`.
    pub rport: Option<u16>,
    /// Whether the registrar saw another address than ours.
    pub nat_detected: Option<bool>,
    /// The address it saw.
    pub public_address: Option<SocketAddr>,
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
    pub auth_failure: Option<AuthFailure>,
    /// Whether Min-Expires drove a retry.
    #[serde(skip)]
    pub interval_retry: Option<u32>,
}

impl RegisterResult {
    /// Fills the result from what the REGISTER machine learned over `flow`.
    pub fn fill(&mut self, flow: &Flow, contact: &str, o: &RegisterOutcome) {
        self.address = Some(flow.peer);
        self.transport = Some(flow.transport);
        self.local_address = Some(flow.local);
        self.requested_expires_s = o.requested_expires_s;
        self.ladder = o.ladder.iter().map(Step::from).collect();
        self.auth.clone_from(&o.auth);
        self.auth_failure.clone_from(&o.auth_failure);
        self.interval_retry = o.interval_retry;
        if let Some((code, e)) = &o.error {
            self.error_code = Some(code);
            self.error = Some(e.clone());
        }
        let Some(m) = &o.final_response else {
            return;
        };
        self.final_status = m.status();
        self.reason = m.reason().map(str::to_string);
        let view = ReflexiveAddress::from_response(m);
        self.received.clone_from(&view.received);
        self.rport = view.rport;
        self.nat_detected = view.nat_detected(flow.local);
        self.public_address = view.seen;
        let kept = read_final(m, contact, self.unregister);
        self.registered = kept.registered;
        self.expires_s = kept.expires_s;
        self.bindings = kept.bindings;
        self.malformed_expires = kept.malformed_expires;
        self.path = kept.path;
        self.service_route = kept.service_route;
        self.p_associated_uri = kept.p_associated_uri;
        self.redirect = kept.redirect;
    }
}

impl From<&LadderEntry> for Step {
    fn from(e: &LadderEntry) -> Step {
        match e {
            LadderEntry::Request {
                at,
                cseq,
                expires,
                credentials,
            } => Step::request(
                ms(*at),
                *cseq,
                *expires,
                credentials
                    .as_ref()
                    .map(|c| (c.header, c.algorithm.as_str(), c.qop)),
            ),
            LadderEntry::Response { at, status, reason } => {
                Step::response(ms(*at), *status, reason)
            }
        }
    }
}

/// Why authentication failed, in words.
pub fn auth_failure_text(f: &AuthFailure) -> String {
    match f {
        AuthFailure::Unanswerable { status, errors } => format!(
            "the registrar's {status} challenge cannot be answered: {}",
            errors.join("; ")
        ),
        AuthFailure::Rejected {
            user,
            realm,
            status,
        } => format!(
            "authentication failed: the registrar rejected the credentials of user {user:?} \
             for realm {realm:?} ({status} again) — wrong password or user name"
        ),
        AuthFailure::NoPassword { status } => format!(
            "the registrar requires authentication ({status}) and no password was given: set \
             {PASSWORD_ENV}, use --password-file, or run on a terminal"
        ),
    }
}

/// Findings of a run.
pub fn findings(r: &RegisterResult) -> Vec<Finding> {
    let mut out = Vec::new();
    if let (Some(code), Some(e)) = (r.error_code, &r.error) {
        out.push(Finding::new(code, Severity::Critical, e.clone()));
        return out;
    }
    if let Some(why) = &r.auth_failure {
        out.push(Finding::new(
            "AUTH_FAILED",
            Severity::Critical,
            auth_failure_text(why),
        ));
    }
    match r.final_status {
        None => out.push(Finding::new(
            "SIP_NO_ANSWER",
            Severity::Critical,
            format!(
                "no final response to REGISTER within the timeout from {}",
                r.address.map_or_else(|| "?".into(), |a| a.to_string())
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
                "REGISTER was refused: {c} {}{}",
                r.reason.as_deref().unwrap_or(""),
                match c {
                    403 => " — the registrar refuses this account: check the user name (--user), the password and the domain of the AOR; some registrars also answer 403 to a source address or User-Agent they do not allow",
                    404 => " — the registrar does not know this AOR: check its user part and domain",
                    _ => "",
                }
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
    let accepted = r.final_status.is_some_and(|c| (200..300).contains(&c));
    if accepted && !r.registered && !r.unregister {
        let listed: Vec<&str> = r.bindings.iter().map(|b| b.uri.as_str()).collect();
        out.push(Finding::new(
            "BINDING_NOT_LISTED",
            Severity::Critical,
            format!(
                "the registrar answered {} but its bindings ({}) do not include the Contact we registered{}: a 2xx lists every current binding (RFC 3261 §10.2.4), so ours was not stored as sent — dropped, or rewritten (an SBC or NAT helper may do that); calls may not reach this client",
                r.final_status.unwrap_or(200),
                if listed.is_empty() { "none".to_string() } else { listed.join(", ") },
                if r.bindings.iter().any(|b| b.ours) { " with a lifetime above 0" } else { "" }
            ),
        ));
    }
    if !r.malformed_expires.is_empty() {
        out.push(Finding::new(
            "MALFORMED_EXPIRES",
            Severity::Warning,
            format!(
                "the registrar sent expiry values that are not 0 to 4294967295 seconds ({}); they were not used (RFC 3261 §20.19)",
                r.malformed_expires.join(", ")
            ),
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
                r.public_address
                    .map_or_else(|| "?".into(), |a| a.to_string()),
                r.local_address
                    .map_or_else(|| "?".into(), |a| a.to_string())
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
            (false, unregister) if self.final_status.is_some_and(|c| (200..300).contains(&c)) => {
                if unregister {
                    format!("{}: {st} but our Contact is still bound", self.aor)
                } else {
                    format!(
                        "{}: {st} but our Contact is not among the bindings",
                        self.aor
                    )
                }
            }
            (false, _) if self.auth_failure.is_some() => {
                format!("{}: authentication failed ({st})", self.aor)
            }
            (false, _) => format!("{}: registration failed ({st})", self.aor),
        }
    }

    fn sections(&self, verbose: bool) -> Vec<Section> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// 403 to REGISTER names what to check (the credentials), not just the status.
    #[test]
    fn forbidden_points_at_the_credentials() {
        let r = RegisterResult {
            final_status: Some(403),
            reason: Some("Forbidden".into()),
            ..Default::default()
        };
        let f = findings(&r);
        let refused = f.iter().find(|f| f.code == "REGISTER_FAILED").unwrap();
        assert!(
            refused.message.contains("403 Forbidden"),
            "{}",
            refused.message
        );
        assert!(refused.message.contains("password"), "{}", refused.message);
        assert_eq!(status(&r), Status::Problem);
    }
}
