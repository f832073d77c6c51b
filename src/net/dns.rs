//! The DNS client: hickory-resolver's nameserver pool with the user's nameserver
//! (`--dns-server`, `--server`) or the system's, every query recorded with its rcode, time and
//! AD bit, and RFC 3263 resolution of a SIP target into the ordered list of (transport,
//! address) to try.
//!
//! Queries go through [`NameServerPool`] rather than `Resolver::lookup`: the resolver's
//! caching layer rebuilds each answer as a fresh message and so drops the header, and with it
//! the AD bit (RFC 4035 §3.2.3) that `enum-lookup` reports. The pool still does what we want
//! from hickory: UDP with the switch to TCP on truncation, timeouts, several servers.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_resolver::config::{NameServerConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::xfer::FirstAnswer;
use hickory_resolver::net::{DnsError, DnsHandle, NetError};
use hickory_resolver::proto::op::{DnsRequest, DnsRequestOptions, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::{NameServerPool, PoolContext, TlsConfig};

use crate::addr::Family;
use crate::dns::resolution::{Located, Location, QueryLog, Resolution, Resolved, Source};
use crate::dns::rfc3263::{self, Naptr, ServiceTransport, Srv};
use crate::sip::target::{Host, Target, Transport};

/// Errors of a single query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// The name does not exist.
    NxDomain,
    /// The name exists, no record of the type.
    NoData,
    /// No answer within the timeout.
    Timeout,
    /// SERVFAIL, REFUSED, a transport error, …
    Failed(String),
}

/// A resolution as a whole (an RFC 3263 location, an ENUM walk) may take this many
/// `--timeout`s; queries still to come after that are not sent (logged as `DEADLINE`).
pub const BUDGET_TIMEOUTS: u32 = 2;

/// A DNS client that logs every query. Queries take `&self`, so independent ones run at once;
/// the trail keeps the order they were issued in.
pub struct DnsClient {
    pool: NameServerPool<TokioRuntimeProvider>,
    timeout: Duration,
    deadline: Instant,
    log: std::cell::RefCell<Vec<Option<QueryLog>>>,
}

impl DnsClient {
    /// A client asking `server` (or the system's nameservers from /etc/resolv.conf when
    /// `None`), over TCP only when `tcp`, giving up on a query after `timeout` (one attempt).
    ///
    /// # Errors
    /// When the system configuration cannot be read or names no nameserver.
    pub fn new(server: Option<SocketAddr>, tcp: bool, timeout: Duration) -> Result<Self, String> {
        let make = |ip: IpAddr, port: u16| {
            let mut ns = if tcp {
                NameServerConfig::tcp(ip)
            } else {
                NameServerConfig::udp_and_tcp(ip)
            };
            for c in &mut ns.connections {
                c.port = port;
            }
            ns
        };
        let servers = match server {
            Some(addr) => vec![make(addr.ip(), addr.port())],
            None => {
                let (config, _) = hickory_resolver::system_conf::read_system_conf()
                    .map_err(|e| format!("cannot read the system DNS configuration: {e}"))?;
                config
                    .name_servers
                    .iter()
                    .map(|ns| make(ns.ip, ns.connections.first().map_or(53, |c| c.port)))
                    .collect()
            }
        };
        if servers.is_empty() {
            return Err("no nameserver configured (/etc/resolv.conf); use --server".into());
        }
        let mut opts = ResolverOpts::default();
        opts.timeout = timeout;
        opts.attempts = 0;
        opts.cache_size = 0;
        let tls = TlsConfig::new().map_err(|e| format!("cannot set up the DNS client: {e}"))?;
        let cx = Arc::new(PoolContext::new(opts, tls));
        Ok(DnsClient {
            pool: NameServerPool::from_config(servers, cx, TokioRuntimeProvider::default()),
            timeout,
            deadline: super::driver::now() + timeout * BUDGET_TIMEOUTS,
            log: std::cell::RefCell::new(Vec::new()),
        })
    }

    /// Every query so far, in the order issued (and empties the trail).
    pub fn take_log(&self) -> Vec<QueryLog> {
        self.log.take().into_iter().flatten().collect()
    }

    /// The rcode of the query issued last, when it has ended.
    pub fn last_rcode(&self) -> Option<String> {
        self.log
            .borrow()
            .last()
            .and_then(|q| q.as_ref().map(|q| q.rcode.clone()))
    }

    /// Queries `name` for `rtype` (recursion desired, AD asked for), logs it, returns the
    /// records of that type owned by `name` (or by the end of its CNAME chain): records for
    /// other names in the answer are not used (and counted in the log).
    pub async fn query(&self, name: &str, rtype: RecordType) -> Result<Vec<RData>, QueryError> {
        let slot = {
            let mut log = self.log.borrow_mut();
            log.push(None);
            log.len() - 1
        };
        let fqdn = if name.ends_with('.') {
            name.to_string()
        } else {
            format!("{name}.")
        };
        let started = Instant::now();
        let left = self
            .deadline
            .saturating_duration_since(super::driver::now());
        let (outcome, rcode, ad, foreign) = match Name::from_ascii(&fqdn) {
            Err(e) => (
                Err(QueryError::Failed(format!("bad name: {e}"))),
                "BADNAME".to_string(),
                None,
                0,
            ),
            Ok(_) if left.is_zero() => (Err(QueryError::Timeout), "DEADLINE".to_string(), None, 0),
            Ok(qname) => {
                let mut request = DnsRequest::from_query(
                    Query::query(qname.clone(), rtype),
                    DnsRequestOptions::default(),
                );
                request.metadata.authentic_data = true;
                // The pool has its own deadline; this bounds the wait whatever it does, and
                // the whole resolution's budget bounds it too.
                let bound = (self.timeout + Duration::from_millis(250)).min(left);
                let answer = tokio::time::timeout(bound, self.pool.send(request).first_answer());
                let mut c = classify(
                    answer.await.unwrap_or(Err(NetError::Timeout)),
                    &qname,
                    rtype,
                );
                // The pool reports a server that stayed silent until its deadline as "no
                // connections available".
                if matches!(c.0, Err(QueryError::Failed(_)))
                    && started.elapsed() + Duration::from_millis(50) >= bound.min(self.timeout)
                {
                    c = (Err(QueryError::Timeout), "TIMEOUT".into(), None, c.3);
                }
                c
            }
        };
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if let Some(entry) = self.log.borrow_mut().get_mut(slot) {
            *entry = Some(QueryLog {
                name: name.trim_end_matches('.').to_string(),
                rtype: rtype.to_string(),
                rcode,
                answers: outcome.as_ref().map_or(0, Vec::len),
                ms: (ms * 1000.0).round() / 1000.0,
                ad,
                foreign,
            });
        }
        outcome
    }

    /// A and/or AAAA of `host` per `family` (asked at once), IPv4 first.
    async fn addresses(&self, host: &str, family: Family) -> Vec<(IpAddr, Source)> {
        let v4 = async {
            if family == Family::V6 {
                return Vec::new();
            }
            self.query(host, RecordType::A).await.unwrap_or_default()
        };
        let v6 = async {
            if family == Family::V4 {
                return Vec::new();
            }
            self.query(host, RecordType::AAAA).await.unwrap_or_default()
        };
        let (v4, v6) = futures_util::future::join(v4, v6).await;
        let mut out: Vec<(IpAddr, Source)> = v4
            .into_iter()
            .filter_map(|d| match d {
                RData::A(a) => Some((IpAddr::V4(a.0), Source::A)),
                _ => None,
            })
            .collect();
        out.extend(v6.into_iter().filter_map(|d| match d {
            RData::AAAA(a) => Some((IpAddr::V6(a.0), Source::Aaaa)),
            _ => None,
        }));
        out
    }

    /// NAPTR records of `name`, decoded.
    pub async fn naptr(&self, name: &str) -> Result<Vec<Naptr>, QueryError> {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        Ok(self
            .query(name, RecordType::NAPTR)
            .await?
            .into_iter()
            .filter_map(|d| match d {
                RData::NAPTR(n) => Some(Naptr {
                    order: n.order,
                    preference: n.preference,
                    flags: text(&n.flags),
                    services: text(&n.services),
                    regexp: text(&n.regexp),
                    replacement: n.replacement.to_string(),
                }),
                _ => None,
            })
            .collect())
    }

    /// SRV records of `name`.
    pub async fn srv(&self, name: &str) -> Result<Vec<Srv>, QueryError> {
        Ok(self
            .query(name, RecordType::SRV)
            .await?
            .into_iter()
            .filter_map(|d| match d {
                RData::SRV(s) => Some(Srv {
                    priority: s.priority,
                    weight: s.weight,
                    port: s.port,
                    target: s.target.to_string().trim_end_matches('.').to_string(),
                }),
                _ => None,
            })
            .collect())
    }

    /// RFC 3263 §4: the ordered addresses to try for `target`, with `only` the transport the
    /// user forced (`--transport`).
    pub async fn locate_sip(
        &self,
        target: &Target,
        only: Option<Transport>,
        family: Family,
        rng: &mut impl rand::Rng,
    ) -> Resolution {
        let location = self.locate(target, only, false, family, rng).await;
        let targets = location
            .targets
            .into_iter()
            .filter_map(|l| {
                Some(Resolved {
                    transport: l.transport.sip()?,
                    host: l.host,
                    address: SocketAddr::new(l.address, l.port),
                    source: l.source,
                    priority: l.priority,
                    weight: l.weight,
                })
            })
            .collect();
        Resolution {
            targets,
            queries: self.take_log(),
        }
    }

    /// RFC 3263 §4: NAPTR → SRV → A/AAAA, the SRV names without NAPTR (or when no NAPTR
    /// service is usable), else the host's own A/AAAA with the default transport. `only` is a
    /// transport the user forced (the URI's `transport=` wins); `websocket` also takes the
    /// RFC 7118 services. The queries stay in the client's log ([`DnsClient::take_log`]).
    pub async fn locate(
        &self,
        target: &Target,
        only: Option<Transport>,
        websocket: bool,
        family: Family,
        rng: &mut impl rand::Rng,
    ) -> Location {
        let only = target.transport.or(only);
        let allowed = |t: ServiceTransport| {
            (websocket || t.sip().is_some()) && only.is_none_or(|o| t == o.into())
        };
        let default = ServiceTransport::from(rfc3263::default_transport(target.secure, only));
        let mut location = Location::default();
        let name = match &target.host {
            Host::Ip(ip) => {
                location.targets.push(Located {
                    transport: default,
                    host: ip.to_string(),
                    port: target.port.unwrap_or(default.default_port()),
                    address: *ip,
                    priority: None,
                    weight: None,
                    source: Source::Literal,
                });
                return location;
            }
            Host::Name(n) => n.clone(),
        };
        // §4.1/§4.2: with a port, no NAPTR/SRV — A/AAAA only.
        if target.port.is_none() {
            location.naptr = match self.naptr(&name).await {
                Ok(n) => n,
                // A silent nameserver: do not wait for it once per SRV and address query too.
                Err(QueryError::Timeout) => return location,
                Err(_) => Vec::new(),
            };
            let mut choices = Vec::new();
            if !location.naptr.is_empty() {
                choices = rfc3263::naptr_choices(&location.naptr, target.secure, allowed)
                    .into_iter()
                    .map(|(t, n)| (t, n, Source::Naptr))
                    .collect();
            }
            if choices.is_empty() {
                let source = if location.naptr.is_empty() {
                    Source::Srv
                } else {
                    Source::Fallback
                };
                choices = rfc3263::srv_fallbacks(&name, target.secure, allowed)
                    .into_iter()
                    .map(|(t, n)| (t, n, source))
                    .collect();
            }
            // Bounded against hostile zones: a few services, a few targets each, a few hosts
            // in all; the SRV queries at once, then the hosts' addresses at once (the order of
            // the lookups is ours, the order of the result RFC 3263's).
            choices.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
            choices.truncate(rfc3263::MAX_SERVICES);
            let srvs = futures_util::future::join_all(
                choices.iter().map(|(_, srv_name, _)| self.srv(srv_name)),
            )
            .await;
            let mut hosts: Vec<String> = Vec::new();
            let mut plans = Vec::new();
            for ((transport, srv_name, source), records) in choices.into_iter().zip(srvs) {
                let Ok(records) = records else {
                    continue;
                };
                location.srv.push((srv_name, records.clone()));
                let ordered: Vec<Srv> = rfc3263::order_srv(&records, rng)
                    .into_iter()
                    .take(rfc3263::MAX_SRV_TARGETS)
                    .collect();
                for s in &ordered {
                    if !hosts.contains(&s.target) && hosts.len() < rfc3263::MAX_HOSTS {
                        hosts.push(s.target.clone());
                    }
                }
                plans.push((transport, source, ordered));
            }
            // Each SRV target host is looked up once per resolution.
            let found =
                futures_util::future::join_all(hosts.iter().map(|h| self.addresses(h, family)))
                    .await;
            let known: std::collections::HashMap<&str, Vec<(IpAddr, Source)>> =
                hosts.iter().map(String::as_str).zip(found).collect();
            for (transport, source, ordered) in plans {
                for s in ordered {
                    for &(ip, _) in known.get(s.target.as_str()).into_iter().flatten() {
                        location.targets.push(Located {
                            transport,
                            host: s.target.clone(),
                            port: s.port,
                            address: ip,
                            priority: Some(s.priority),
                            weight: Some(s.weight),
                            source,
                        });
                    }
                }
            }
        }
        if location.targets.is_empty() {
            let port = target.port.unwrap_or(default.default_port());
            for (ip, source) in self.addresses(&name, family).await {
                location.targets.push(Located {
                    transport: default,
                    host: name.clone(),
                    port,
                    address: ip,
                    priority: None,
                    weight: None,
                    source,
                });
            }
        }
        location
    }
}

/// What one query gave: its records, the rcode we log, the AD bit, and how many records of
/// the type asked were for another name (not used).
type Classified = (Result<Vec<RData>, QueryError>, String, Option<bool>, usize);

/// The names whose records answer a query for `qname`: itself and the CNAME chain that
/// starts there (at most 8 links, loops cut).
fn owners(qname: &Name, answers: &[hickory_resolver::proto::rr::Record]) -> Vec<Name> {
    let mut chain = vec![qname.clone()];
    for _ in 0..8 {
        let Some(last) = chain.last() else { break };
        let next = answers.iter().find_map(|r| match &r.data {
            RData::CNAME(c) if &r.name == last => Some(c.0.clone()),
            _ => None,
        });
        match next {
            Some(n) if !chain.contains(&n) => chain.push(n),
            _ => break,
        }
    }
    chain
}

/// Maps the pool's answer to a [`Classified`]: only records of `rtype` owned by `qname` (or
/// the end of its CNAME chain) are used.
fn classify(
    answer: Result<hickory_resolver::proto::op::DnsResponse, NetError>,
    qname: &Name,
    rtype: RecordType,
) -> Classified {
    match answer {
        Ok(response) => {
            let ad = Some(response.metadata.authentic_data);
            let owners = owners(qname, &response.answers);
            let (mine, foreign): (Vec<_>, Vec<_>) = response
                .answers
                .iter()
                .filter(|r| r.record_type() == rtype)
                .partition(|r| owners.contains(&r.name));
            let data: Vec<RData> = mine.into_iter().map(|r| r.data.clone()).collect();
            let foreign = foreign.len();
            match response.metadata.response_code {
                ResponseCode::NXDomain => {
                    (Err(QueryError::NxDomain), "NXDOMAIN".into(), ad, foreign)
                }
                _ if data.is_empty() => (Err(QueryError::NoData), "NODATA".into(), ad, foreign),
                _ => (Ok(data), "NOERROR".into(), ad, foreign),
            }
        }
        Err(NetError::Dns(DnsError::NoRecordsFound(nr))) => {
            if nr.response_code == ResponseCode::NXDomain {
                (Err(QueryError::NxDomain), "NXDOMAIN".into(), None, 0)
            } else {
                (Err(QueryError::NoData), "NODATA".into(), None, 0)
            }
        }
        Err(NetError::Dns(DnsError::ResponseCode(code))) => {
            let name = rcode_name(code);
            (Err(QueryError::Failed(name.clone())), name, None, 0)
        }
        Err(NetError::Timeout) => (Err(QueryError::Timeout), "TIMEOUT".into(), None, 0),
        Err(e) => {
            let text = e.to_string();
            if text.to_ascii_lowercase().contains("timed out") {
                (Err(QueryError::Timeout), "TIMEOUT".into(), None, 0)
            } else {
                (Err(QueryError::Failed(text.clone())), text, None, 0)
            }
        }
    }
}

/// The RFC 1035 §4.1.1 / RFC 6895 mnemonic of an rcode (`SERVFAIL`, `REFUSED`, …).
fn rcode_name(code: ResponseCode) -> String {
    match code {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        ResponseCode::NotAuth => "NOTAUTH".into(),
        ResponseCode::NotZone => "NOTZONE".into(),
        ResponseCode::BADVERS => "BADVERS".into(),
        other => format!("RCODE{}", u16::from(other)),
    }
}
