//! The DNS client: hickory-resolver with the user's nameserver (`--dns-server`) or the
//! system's, every query recorded with its outcome and time, and RFC 3263 resolution of a SIP
//! target into the ordered list of (transport, address) to try.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use hickory_resolver::Resolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};

use crate::dns::rfc3263::{self, Naptr, Srv};
use crate::net::resolve::Family;
use crate::sip::target::{Host, Target, Transport};

/// One query and what came of it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QueryLog {
    /// Name queried.
    pub name: String,
    /// `NAPTR`, `SRV`, `A`, `AAAA`.
    #[serde(rename = "type")]
    pub rtype: String,
    /// `NOERROR`, `NXDOMAIN`, `NODATA`, `SERVFAIL`, `REFUSED`, `TIMEOUT`, or the error.
    pub rcode: String,
    /// Number of answer records of the type asked.
    pub answers: usize,
    /// Time taken, ms.
    pub ms: f64,
}

/// Where a resolved target came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// An IP literal: no DNS.
    Literal,
    /// NAPTR → SRV → A/AAAA.
    Naptr,
    /// SRV (no NAPTR) → A/AAAA.
    Srv,
    /// A record of the host itself.
    A,
    /// AAAA record of the host itself.
    Aaaa,
}

/// One address to try, in order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resolved {
    /// Transport to use.
    pub transport: Transport,
    /// Host name the address belongs to (for TLS server name checks).
    pub host: String,
    /// Address and port.
    pub address: SocketAddr,
    /// How we got here.
    pub source: Source,
    /// SRV priority and weight, when from SRV.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u16>,
    /// SRV weight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u16>,
}

/// The outcome of RFC 3263 resolution.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Resolution {
    /// Addresses in the order a client tries them.
    pub targets: Vec<Resolved>,
    /// Every query made.
    pub queries: Vec<QueryLog>,
}

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

/// A DNS client that logs every query.
pub struct DnsClient {
    resolver: Resolver<TokioRuntimeProvider>,
    /// The trail.
    pub log: Vec<QueryLog>,
}

impl DnsClient {
    /// A client asking `server` (or the system's nameservers when `None`), over TCP only
    /// when `tcp`, giving up on a query after `timeout` (one attempt per server).
    ///
    /// # Errors
    /// When the system configuration cannot be read.
    pub fn new(server: Option<SocketAddr>, tcp: bool, timeout: Duration) -> Result<Self, String> {
        let mut opts = ResolverOpts::default();
        opts.timeout = timeout;
        opts.attempts = 0;
        opts.cache_size = 0;
        opts.ndots = 0;
        let builder = match server {
            Some(addr) => {
                let mut ns = if tcp {
                    NameServerConfig::tcp(addr.ip())
                } else {
                    NameServerConfig::udp_and_tcp(addr.ip())
                };
                for c in &mut ns.connections {
                    c.port = addr.port();
                }
                Resolver::builder_with_config(
                    ResolverConfig::from_parts(None, vec![], vec![ns]),
                    TokioRuntimeProvider::default(),
                )
            }
            None => Resolver::builder_tokio()
                .map_err(|e| format!("cannot read the system DNS configuration: {e}"))?,
        };
        let resolver = builder
            .with_options(opts)
            .build()
            .map_err(|e| format!("cannot start the DNS resolver: {e}"))?;
        Ok(DnsClient {
            resolver,
            log: Vec::new(),
        })
    }

    /// Queries `name` for `rtype`, logs it, returns the records of that type.
    pub async fn query(&mut self, name: &str, rtype: RecordType) -> Result<Vec<RData>, QueryError> {
        let fqdn = if name.ends_with('.') {
            name.to_string()
        } else {
            format!("{name}.")
        };
        let started = Instant::now();
        let result = self.resolver.lookup(fqdn.as_str(), rtype).await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let (outcome, rcode) = match result {
            Ok(lookup) => {
                let data: Vec<RData> = lookup
                    .answers()
                    .iter()
                    .filter(|r| r.record_type() == rtype)
                    .map(|r| r.data.clone())
                    .collect();
                if data.is_empty() {
                    (Err(QueryError::NoData), "NODATA".to_string())
                } else {
                    (Ok(data), "NOERROR".to_string())
                }
            }
            Err(e) if e.is_nx_domain() => (Err(QueryError::NxDomain), "NXDOMAIN".into()),
            Err(e) if e.is_no_records_found() => (Err(QueryError::NoData), "NODATA".into()),
            Err(e) => {
                let text = e.to_string();
                let lower = text.to_ascii_lowercase();
                if lower.contains("timed out") || lower.contains("timeout") {
                    (Err(QueryError::Timeout), "TIMEOUT".into())
                } else if lower.contains("servfail") || lower.contains("server failure") {
                    (Err(QueryError::Failed(text)), "SERVFAIL".into())
                } else if lower.contains("refused") {
                    (Err(QueryError::Failed(text)), "REFUSED".into())
                } else {
                    (Err(QueryError::Failed(text.clone())), text)
                }
            }
        };
        self.log.push(QueryLog {
            name: name.trim_end_matches('.').to_string(),
            rtype: rtype.to_string(),
            rcode,
            answers: outcome.as_ref().map_or(0, Vec::len),
            ms: (ms * 1000.0).round() / 1000.0,
        });
        outcome
    }

    /// A and/or AAAA of `host` per `family`, IPv4 first.
    async fn addresses(&mut self, host: &str, family: Family) -> Vec<(IpAddr, Source)> {
        let mut out = Vec::new();
        if family != Family::V6 {
            for d in self.query(host, RecordType::A).await.unwrap_or_default() {
                if let RData::A(a) = d {
                    out.push((IpAddr::V4(a.0), Source::A));
                }
            }
        }
        if family != Family::V4 {
            for d in self.query(host, RecordType::AAAA).await.unwrap_or_default() {
                if let RData::AAAA(a) = d {
                    out.push((IpAddr::V6(a.0), Source::Aaaa));
                }
            }
        }
        out
    }

    /// NAPTR records of `name`, decoded.
    pub async fn naptr(&mut self, name: &str) -> Result<Vec<Naptr>, QueryError> {
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
    pub async fn srv(&mut self, name: &str) -> Result<Vec<Srv>, QueryError> {
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
        &mut self,
        target: &Target,
        only: Option<Transport>,
        family: Family,
        rng: &mut impl rand::Rng,
    ) -> Resolution {
        let only = target.transport.or(only);
        let default = rfc3263::default_transport(target.secure, only);
        let mut targets = Vec::new();
        let name = match &target.host {
            Host::Ip(ip) => {
                let port = target.port.unwrap_or(default.default_port());
                targets.push(Resolved {
                    transport: default,
                    host: ip.to_string(),
                    address: SocketAddr::new(*ip, port),
                    source: Source::Literal,
                    priority: None,
                    weight: None,
                });
                return Resolution {
                    targets,
                    queries: std::mem::take(&mut self.log),
                };
            }
            Host::Name(n) => n.clone(),
        };
        // §4.1/§4.2: with a port, no NAPTR/SRV — A/AAAA only.
        if target.port.is_none() {
            let naptr = self.naptr(&name).await.unwrap_or_default();
            let (choices, source) = if naptr.is_empty() {
                (
                    rfc3263::srv_fallbacks(&name, target.secure, only),
                    Source::Srv,
                )
            } else {
                (
                    rfc3263::naptr_choices(&naptr, target.secure, only),
                    Source::Naptr,
                )
            };
            // Each SRV target host is looked up once per resolution.
            let mut known: std::collections::HashMap<String, Vec<(IpAddr, Source)>> =
                std::collections::HashMap::new();
            for (transport, srv_name) in choices {
                let Ok(records) = self.srv(&srv_name).await else {
                    continue;
                };
                for s in rfc3263::order_srv(&records, rng) {
                    if !known.contains_key(&s.target) {
                        let found = self.addresses(&s.target, family).await;
                        known.insert(s.target.clone(), found);
                    }
                    for &(ip, _) in &known[&s.target] {
                        targets.push(Resolved {
                            transport,
                            host: s.target.clone(),
                            address: SocketAddr::new(ip, s.port),
                            source,
                            priority: Some(s.priority),
                            weight: Some(s.weight),
                        });
                    }
                }
            }
        }
        if targets.is_empty() {
            let port = target.port.unwrap_or(default.default_port());
            for (ip, source) in self.addresses(&name, family).await {
                targets.push(Resolved {
                    transport: default,
                    host: name.clone(),
                    address: SocketAddr::new(ip, port),
                    source,
                    priority: None,
                    weight: None,
                });
            }
        }
        Resolution {
            targets,
            queries: std::mem::take(&mut self.log),
        }
    }
}
