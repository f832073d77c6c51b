//! The `enum-lookup` result: for a number, the URIs it maps to (ENUM, RFC 6116) with every
//! NAPTR record and what the DDDS rules did with it; for a SIP domain, the servers in the
//! order a client tries them (RFC 3263). Both list every DNS query.

use serde::Serialize;

use super::{Describe, Finding, Section, Severity, Status, dns_section, json_name, opt};
use crate::dns::r#enum::{Disposition, RecordOutcome, UriOutcome};
use crate::dns::resolution::{Located, QueryLog, Source};
use crate::dns::{Naptr, Srv};

/// How the number's domain under one suffix answered.
#[derive(Debug, Clone, Serialize)]
pub struct SuffixOutcome {
    /// The ENUM tree, e.g. `e164.arpa`.
    pub suffix: String,
    /// The number's domain in it.
    pub domain: String,
    /// `NOERROR`, `NXDOMAIN`, `NODATA`, `SERVFAIL`, `TIMEOUT`, … of its NAPTR query.
    pub rcode: String,
}

/// SRV records of one name.
#[derive(Debug, Clone, Serialize)]
pub struct SrvSet {
    /// Owner name, e.g. `_sip._udp.example.com`.
    pub name: String,
    /// The records as received.
    pub records: Vec<Srv>,
}

/// The result of `enum-lookup`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EnumLookupResult {
    /// The nameserver asked (`ADDR:PORT`), or `system`.
    pub server: String,
    /// The number, E.164 with `+` (ENUM mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// The Application Unique String the regexps were applied to (RFC 6116).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aus: Option<String>,
    /// The `--service` filter, e.g. `E2U+sip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_filter: Option<String>,
    /// The trees tried, in order; the last one is where the answer came from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suffixes: Vec<SuffixOutcome>,
    /// URIs in the order a caller tries them (ENUM mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uris: Option<Vec<UriOutcome>>,
    /// Every NAPTR record seen, in processing order, with what was done with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<Vec<RecordOutcome>>,
    /// Non-terminal records' targets that did not answer: (domain, rcode).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dead_ends: Vec<(String, String)>,
    /// The SIP domain (SIP mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sip_domain: Option<String>,
    /// Servers in the order a client tries them (SIP mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<Located>>,
    /// The domain's NAPTR records as received (SIP mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub naptr: Option<Vec<Naptr>>,
    /// The SRV records queried (SIP mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub srv: Option<Vec<SrvSet>>,
    /// Every DNS query made, in order.
    pub queries: Vec<QueryLog>,
    /// Ctrl-C stopped the lookup; what was learned so far is shown.
    pub interrupted: bool,
}

fn is_failure(rcode: &str) -> bool {
    !matches!(rcode, "NOERROR" | "NXDOMAIN" | "NODATA")
}

impl EnumLookupResult {
    fn is_sip(&self) -> bool {
        self.sip_domain.is_some()
    }

    fn found(&self) -> usize {
        if self.is_sip() {
            self.targets.as_ref().map_or(0, Vec::len)
        } else {
            self.uris.as_ref().map_or(0, Vec::len)
        }
    }

    /// The first failed query (SERVFAIL, REFUSED, TIMEOUT…).
    fn failure(&self) -> Option<&QueryLog> {
        self.queries.iter().find(|q| is_failure(&q.rcode))
    }

    fn records_of(&self, d: Disposition) -> Vec<&RecordOutcome> {
        self.records
            .iter()
            .flatten()
            .filter(|r| r.disposition == d)
            .collect()
    }
}

/// Status: something found → ok; nothing found and every name answered (NXDOMAIN, no
/// records, records without a usable URI) → problem (exit 1); nothing found and a query
/// failed or timed out → no answer (exit 3).
pub fn status(r: &EnumLookupResult) -> Status {
    if r.found() > 0 {
        return Status::Ok;
    }
    let had_records = r.records.as_ref().is_some_and(|v| !v.is_empty())
        || r.naptr.as_ref().is_some_and(|v| !v.is_empty());
    if r.interrupted || (!had_records && r.failure().is_some()) {
        Status::NoAnswer
    } else {
        Status::Problem
    }
}

/// The findings, in words that say what the result means for calls.
pub fn findings(r: &EnumLookupResult, assumed_international: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    if assumed_international {
        out.push(Finding::new(
            "ASSUMED_INTERNATIONAL",
            Severity::Info,
            format!(
                "the number had no + or 00; it was taken as international ({})",
                r.number.as_deref().unwrap_or("?")
            ),
        ));
    }
    if r.interrupted {
        out.push(Finding::new(
            "INTERRUPTED",
            Severity::Warning,
            "interrupted: the lookup stopped before it finished; the queries so far are listed",
        ));
    }
    if let Some(q) = r.failure() {
        let (code, what) = if q.rcode == "TIMEOUT" {
            ("DNS_TIMEOUT", "did not answer in time".to_string())
        } else if q
            .rcode
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            ("DNS_FAILURE", format!("answered {}", q.rcode))
        } else {
            ("DNS_FAILURE", format!("could not be asked ({})", q.rcode))
        };
        let hint = if q.rcode == "SERVFAIL" {
            " (a zone its servers cannot load, or DNSSEC validation failing at the resolver)"
        } else {
            ""
        };
        out.push(Finding::new(
            code,
            if r.found() == 0 {
                Severity::Critical
            } else {
                Severity::Warning
            },
            format!(
                "the nameserver {what} for {} {}{hint}; callers relying on this lookup cannot route the call",
                q.name, q.rtype
            ),
        ));
    }
    if r.is_sip() {
        sip_findings(r, &mut out);
    } else {
        enum_findings(r, &mut out);
    }
    dnssec_finding(r, &mut out);
    out
}

fn enum_findings(r: &EnumLookupResult, out: &mut Vec<Finding>) {
    let skipped: [(Disposition, &'static str, &str); 6] = [
        (
            Disposition::MalformedRegexp,
            "MALFORMED_REGEXP",
            "a NAPTR regexp is malformed and was skipped",
        ),
        (
            Disposition::UnknownService,
            "UNKNOWN_SERVICE",
            "a NAPTR service is not an ENUM service and was skipped",
        ),
        (
            Disposition::Loop,
            "NAPTR_LOOP",
            "non-terminal NAPTR records form a loop; the loop was cut",
        ),
        (
            Disposition::TooDeep,
            "NAPTR_CHAIN_TOO_LONG",
            "a chain of non-terminal NAPTR records is too long; it was cut",
        ),
        (
            Disposition::Malformed,
            "MALFORMED_NAPTR",
            "a NAPTR record breaks RFC 3403 and was skipped",
        ),
        (
            Disposition::UnsupportedFlags,
            "UNSUPPORTED_NAPTR_FLAGS",
            "a NAPTR record has flags ENUM does not define and was skipped",
        ),
    ];
    for (d, code, what) in skipped {
        let hits = r.records_of(d);
        if let Some(first) = hits.first() {
            let more = if hits.len() > 1 {
                format!(" (and {} more)", hits.len() - 1)
            } else {
                String::new()
            };
            out.push(Finding::new(
                code,
                Severity::Warning,
                format!(
                    "{what}: {} at {}: {}{more}",
                    first.record,
                    first.domain,
                    first.detail.as_deref().unwrap_or("")
                ),
            ));
        }
    }
    for (domain, why) in &r.dead_ends {
        out.push(Finding::new(
            "NAPTR_CHAIN_DEAD_END",
            Severity::Warning,
            format!("a non-terminal NAPTR record leads to {domain}, which answered {why}"),
        ));
    }
    if r.found() > 0 || r.interrupted {
        return;
    }
    let number = r.number.as_deref().unwrap_or("the number");
    let seen = r.records.as_ref().map_or(0, Vec::len);
    if seen > 0 {
        let filtered = r.records_of(Disposition::ServiceFiltered).len();
        let why = if filtered == seen {
            format!(
                "none offers {}",
                r.service_filter
                    .as_deref()
                    .unwrap_or("the service asked for")
            )
        } else {
            "none gives a usable URI (see the records)".to_string()
        };
        out.push(Finding::new(
            "NO_USABLE_URI",
            Severity::Critical,
            format!(
                "{number} has {seen} NAPTR record(s) but {why}: callers using ENUM cannot route it to a URI"
            ),
        ));
    } else if r.failure().is_none() {
        let trees: Vec<&str> = r.suffixes.iter().map(|s| s.suffix.as_str()).collect();
        out.push(Finding::new(
            "NO_ENUM_ENTRY",
            Severity::Warning,
            format!(
                "no ENUM entry for {number} under {}: callers that use ENUM route it by other means (usually the PSTN)",
                trees.join(", ")
            ),
        ));
    }
}

fn sip_findings(r: &EnumLookupResult, out: &mut Vec<Finding>) {
    let domain = r.sip_domain.as_deref().unwrap_or("?");
    let targets = r.targets.as_deref().unwrap_or_default();
    if targets.iter().any(|t| t.source == Source::Fallback) {
        out.push(Finding::new(
            "NAPTR_NOT_USABLE",
            Severity::Warning,
            format!(
                "{domain} has NAPTR records but none names a SIP service with an SRV name; clients fall back to the _sip._udp/_tcp SRV names (RFC 3263 §4.1)"
            ),
        ));
    }
    if let Some(srv) = &r.srv {
        for set in srv {
            for s in &set.records {
                let resolved = targets.iter().any(|t| t.host == s.target);
                if !resolved && s.target != "." && !s.target.is_empty() {
                    out.push(Finding::new(
                        "SRV_TARGET_UNRESOLVED",
                        Severity::Warning,
                        format!(
                            "SRV {} points to {}, which has no address: clients skip it",
                            set.name, s.target
                        ),
                    ));
                }
            }
        }
    }
    if targets.is_empty() && r.failure().is_none() && !r.interrupted {
        out.push(Finding::new(
            "NO_SIP_SERVER",
            Severity::Critical,
            format!(
                "{domain} has no NAPTR, SRV or address records: calls to sip:…@{domain} cannot be routed"
            ),
        ));
    }
}

fn dnssec_finding(r: &EnumLookupResult, out: &mut Vec<Finding>) {
    let positive: Vec<&QueryLog> = r
        .queries
        .iter()
        .filter(|q| q.answers > 0 && q.ad.is_some())
        .collect();
    if positive.is_empty() {
        return;
    }
    if positive.iter().all(|q| q.ad == Some(true)) {
        out.push(Finding::new(
            "DNSSEC_VALIDATED",
            Severity::Info,
            "every answer was DNSSEC-validated by the nameserver (AD bit set)",
        ));
    } else {
        let unvalidated = positive.iter().filter(|q| q.ad != Some(true)).count();
        out.push(Finding::new(
            "DNSSEC_NOT_VALIDATED",
            Severity::Info,
            format!(
                "{unvalidated} of {} answers were not DNSSEC-validated by the nameserver (AD bit clear): on an untrusted path they could be forged",
                positive.len()
            ),
        ));
    }
}

impl Describe for EnumLookupResult {
    fn verdict(&self) -> String {
        if let Some(domain) = &self.sip_domain {
            let targets = self.targets.as_deref().unwrap_or_default();
            return match targets.first() {
                Some(t) => format!(
                    "sip:{domain} → {} address(es); first {} {}:{} ({})",
                    targets.len(),
                    t.transport,
                    t.address,
                    t.port,
                    t.host
                ),
                None => match self.failure() {
                    Some(q) => format!("sip:{domain}: no answer ({} for {})", q.rcode, q.name),
                    None => format!("sip:{domain}: no SIP server found"),
                },
            };
        }
        let number = self.number.as_deref().unwrap_or("?");
        let uris = self.uris.as_deref().unwrap_or_default();
        match uris.first() {
            Some(u) => format!("{number} → {} URI(s); first {}", uris.len(), u.uri),
            None if self.records.as_ref().is_some_and(|r| !r.is_empty()) => {
                format!("{number}: NAPTR records, but no usable URI")
            }
            None => match self.failure() {
                Some(q) => format!("{number}: no answer ({} for {})", q.rcode, q.name),
                None => format!("{number}: no ENUM entry"),
            },
        }
    }

    fn sections(&self, _verbose: bool) -> Vec<Section> {
        let mut out = Vec::new();
        if let Some(targets) = self.targets.as_ref().filter(|t| !t.is_empty()) {
            out.push(Section::Table {
                title: "Servers (in the order a client tries them)".into(),
                header: [
                    "#",
                    "Transport",
                    "Host",
                    "Port",
                    "Address",
                    "Priority",
                    "Weight",
                    "Source",
                ]
                .map(String::from)
                .to_vec(),
                rows: targets
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        vec![
                            (i + 1).to_string(),
                            t.transport.to_string(),
                            t.host.clone(),
                            t.port.to_string(),
                            t.address.to_string(),
                            opt(&t.priority),
                            opt(&t.weight),
                            json_name(&t.source),
                        ]
                    })
                    .collect(),
            });
        }
        if let Some(naptr) = self.naptr.as_ref().filter(|n| !n.is_empty()) {
            out.push(Section::Table {
                title: "NAPTR records".into(),
                header: vec!["Record".into()],
                rows: naptr.iter().map(|n| vec![n.presentation()]).collect(),
            });
        }
        if let Some(srv) = self.srv.as_ref().filter(|s| !s.is_empty()) {
            out.push(Section::Table {
                title: "SRV records".into(),
                header: ["Name", "Priority", "Weight", "Port", "Target"]
                    .map(String::from)
                    .to_vec(),
                rows: srv
                    .iter()
                    .flat_map(|set| {
                        set.records.iter().map(|s| {
                            vec![
                                set.name.clone(),
                                s.priority.to_string(),
                                s.weight.to_string(),
                                s.port.to_string(),
                                s.target.clone(),
                            ]
                        })
                    })
                    .collect(),
            });
        }
        if let Some(uris) = self.uris.as_ref().filter(|u| !u.is_empty()) {
            out.push(Section::Table {
                title: "URIs (in the order a caller tries them)".into(),
                header: ["#", "URI", "Service", "Order", "Pref", "Domain"]
                    .map(String::from)
                    .to_vec(),
                rows: uris
                    .iter()
                    .enumerate()
                    .map(|(i, u)| {
                        vec![
                            (i + 1).to_string(),
                            u.uri.clone(),
                            u.service.clone(),
                            u.order.to_string(),
                            u.preference.to_string(),
                            u.domain.clone(),
                        ]
                    })
                    .collect(),
            });
        }
        if let Some(records) = self.records.as_ref().filter(|r| !r.is_empty()) {
            out.push(Section::Table {
                title: "NAPTR records (sorted; what the DDDS rules did)".into(),
                header: ["Domain", "Record", "Result"].map(String::from).to_vec(),
                rows: records
                    .iter()
                    .map(|r| {
                        let d = json_name(&r.disposition);
                        vec![
                            format!("{}{}", "  ".repeat(r.depth), r.domain),
                            r.record.clone(),
                            match &r.detail {
                                Some(x) => format!("{d}: {x}"),
                                None => d,
                            },
                        ]
                    })
                    .collect(),
            });
        }
        out.push(dns_section(
            format!("DNS queries (nameserver: {})", self.server),
            &self.queries,
        ));
        out
    }
}
