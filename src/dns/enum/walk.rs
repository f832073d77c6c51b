//! The walk over fetched NAPTR sets (RFC 3403 §4, RFC 6116 §3): records in order and
//! preference, terminal ones to URIs, non-terminal ones followed within bounds, and the plan
//! of which domains to fetch.

use std::collections::{HashMap, HashSet};

use super::service::{Enumservice, ServiceFilter, parse_services};
use super::subst::SubstExpr;
use super::{MAX_DOMAINS, MAX_HOPS};
use crate::dns::Naptr;

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
