//! `voipdiag enum-lookup`: an E.164 number through ENUM (RFC 6116) to the URIs it maps to,
//! or a SIP domain through RFC 3263 to its servers. The DDDS rules are `dns::e164`, the
//! server location rules `dns::rfc3263`; this file fetches over `net::dns` and reports.

use rand::rngs::StdRng;

use super::{CommandError, Env};
use crate::cli::{EnumLookupArgs, GlobalArgs};
use crate::dns::r#enum::{self as e164, Fetched, Plan};
use crate::net::dns::{DnsClient, QueryError};
use crate::report::Report;
use crate::report::enum_lookup::{EnumLookupResult, SrvSet, SuffixOutcome, findings, status};
use crate::sip::target::{Host, Target};

/// What the user asked about.
enum Subject {
    Number(e164::Number),
    Domain(Target),
}

fn subject(args: &EnumLookupArgs) -> Result<Subject, CommandError> {
    let text = match &args.sip_domain {
        Some(d) => format!("sip:{d}"),
        None => args.input.join(" "),
    };
    let lower = text.trim().to_ascii_lowercase();
    if lower.starts_with("sip:") || lower.starts_with("sips:") {
        let target: Target = text
            .trim()
            .parse()
            .map_err(|e| CommandError::Usage(format!("{text}: {e}")))?;
        if matches!(target.host, Host::Ip(_)) {
            return Err(CommandError::Usage(format!(
                "{text}: an IP address needs no DNS; give a domain"
            )));
        }
        if args.service.is_some() || !args.suffix.is_empty() {
            return Err(CommandError::Usage(
                "--service and --suffix are for numbers (ENUM), not SIP domains".into(),
            ));
        }
        return Ok(Subject::Domain(target));
    }
    e164::parse_number(&text)
        .map(Subject::Number)
        .map_err(|e| match e {
            e164::NumberError::InvalidChar(_) => CommandError::Usage(format!(
                "{text}: {e}; for a SIP domain write sip:{}",
                text.trim()
            )),
            e => CommandError::Usage(format!("{text}: {e}")),
        })
}

/// Runs `enum-lookup`.
///
/// # Errors
/// A number or domain that cannot be parsed (usage), or no DNS configuration (internal).
/// Failed and unanswered queries are part of the report.
pub async fn run(
    global: &GlobalArgs,
    args: &EnumLookupArgs,
) -> Result<Report<EnumLookupResult>, CommandError> {
    let env = Env::new(global);
    let subject = subject(args)?;
    let server = args.server.map(|n| n.0);
    let dns = DnsClient::new(server, args.tcp, global.timeout)
        .map_err(|e| CommandError::Internal(anyhow::anyhow!(e)))?;
    let mut result = EnumLookupResult {
        server: server.map_or("system".into(), |s| s.to_string()),
        ..Default::default()
    };
    let mut assumed_international = false;
    let interrupted = {
        let work = async {
            match &subject {
                Subject::Number(n) => lookup_number(n, args, &dns, &mut result).await,
                Subject::Domain(t) => {
                    let mut rng = env.rng();
                    lookup_domain(t, global, &dns, &mut rng, &mut result).await;
                }
            }
        };
        let mut interrupt = env.interrupt.clone();
        tokio::select! {
            () = work => false,
            () = interrupt.pressed() => true,
        }
    };
    if let Subject::Number(n) = &subject {
        assumed_international = n.assumed_international;
        result.number = Some(n.aus());
    }
    result.interrupted = interrupted;
    result.queries = dns.take_log();
    let found = findings(&result, assumed_international);
    let st = status(&result);
    Ok(env.report("enum-lookup", st, found, result))
}

/// ENUM: each suffix in turn until one has NAPTR records at the number's domain; then the
/// chain's domains (bounded by the plan) and the DDDS walk.
async fn lookup_number(
    number: &e164::Number,
    args: &EnumLookupArgs,
    dns: &DnsClient,
    result: &mut EnumLookupResult,
) {
    let aus = number.aus();
    result.aus = Some(aus.clone());
    result.service_filter = args.service.as_ref().map(ToString::to_string);
    let suffixes: Vec<String> = if args.suffix.is_empty() {
        vec![e164::DEFAULT_SUFFIX.to_string()]
    } else {
        args.suffix.clone()
    };
    for suffix in suffixes {
        let start = number.domain(&suffix);
        let mut plan = Plan::new(&start, &aus);
        while let Some((domain, depth)) = plan.next_query() {
            let fetched = match dns.naptr(&domain).await {
                Ok(records) => Fetched::Records(records),
                Err(QueryError::NxDomain) => Fetched::NoEntry("NXDOMAIN".into()),
                Err(QueryError::NoData) => Fetched::NoEntry("NODATA".into()),
                Err(QueryError::Timeout) => {
                    Fetched::Failed(dns.last_rcode().unwrap_or_else(|| "TIMEOUT".into()))
                }
                Err(QueryError::Failed(why)) => Fetched::Failed(why),
            };
            if depth == 0 {
                result.suffixes.push(SuffixOutcome {
                    suffix: suffix.trim_matches('.').to_string(),
                    domain: start.clone(),
                    rcode: dns.last_rcode().unwrap_or_default(),
                });
            }
            plan.fetched(domain, depth, fetched);
        }
        let walk = e164::walk(&start, &plan.sets, &aus, args.service.as_ref());
        result.uris = Some(walk.uris);
        result.records = Some(walk.records);
        result.dead_ends = walk.dead_ends;
        if matches!(plan.sets.get(&start), Some(Fetched::Records(_))) {
            break;
        }
    }
}

/// RFC 3263 for a SIP domain, every transport including WebSocket.
async fn lookup_domain(
    target: &Target,
    global: &GlobalArgs,
    dns: &DnsClient,
    rng: &mut StdRng,
    result: &mut EnumLookupResult,
) {
    result.sip_domain = Some(target.host.to_string());
    let location = dns.locate(target, None, true, global.family(), rng).await;
    result.naptr = Some(location.naptr);
    result.srv = Some(
        location
            .srv
            .into_iter()
            .map(|(name, records)| SrvSet { name, records })
            .collect(),
    );
    result.targets = Some(location.targets);
}
