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

/// A DNS client that logs every query.
pub struct DnsClient {
    pool: NameServerPool<TokioRuntimeProvider>,
    timeout: Duration,
    /// The trail.
    pub log: Vec<QueryLog>,
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
            log: Vec::new(),
        })
    }

    /// Queries `name` for `rtype` (recursion desired, AD asked for), logs it, returns the
    /// records of that type.
    pub async fn query(&mut self, name: &str, rtype: RecordType) -> Result<Vec<RData>, QueryError> {
        let fqdn = if name.ends_with('.') {
            name.to_string()
        } else {
            format!("{name}.")
        };
        let started = Instant::now();
        let (outcome, rcode, ad) = match Name::from_ascii(&fqdn) {
            Err(e) => (
                Err(QueryError::Failed(format!("bad name: {e}"))),
                "BADNAME".to_string(),
                None,
            ),
            Ok(qname) => {
                let mut request = DnsRequest::from_query(
                    Query::query(qname, rtype),
                    DnsRequestOptions::default(),
                );
                request.metadata.authentic_data = true;
                // The pool has its own deadline; this bounds the wait whatever it does.
                let bound = self.timeout + Duration::from_millis(250);
                let answer = tokio::time::timeout(bound, self.pool.send(request).first_answer());
                let mut c = classify(answer.await.unwrap_or(Err(NetError::Timeout)), rtype);
                // The pool reports a server that stayed silent until its deadline as "no
                // connections available".
                if matches!(c.0, Err(QueryError::Failed(_)))
                    && started.elapsed() + Duration::from_millis(50) >= self.timeout
                {
                    c = (Err(QueryError::Timeout), "TIMEOUT".into(), None);
                }
                c
            }
        };
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        self.log.push(QueryLog {
            name: name.trim_end_matches('.').to_string(),
            rtype: rtype.to_string(),
            rcode,
            answers: outcome.as_ref().map_or(0, Vec::len),
            ms: (ms * 1000.0).round() / 1000.0,
            ad,
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
            queries: std::mem::take(&mut self.log),
        }
    }

    /// RFC 3263 §4: NAPTR → SRV → A/AAAA, the SRV names without NAPTR (or when no NAPTR
    /// service is usable), else the host's own A/AAAA with the default transport. `only` is a
    /// transport the user forced (the URI's `transport=` wins); `websocket` also takes the
    /// RFC 7118 services. The queries stay in [`DnsClient::log`].
    pub async fn locate(
        &mut self,
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
            // Each SRV target host is looked up once per resolution.
            let mut known: std::collections::HashMap<String, Vec<(IpAddr, Source)>> =
                std::collections::HashMap::new();
            for (transport, srv_name, source) in choices {
                let Ok(records) = self.srv(&srv_name).await else {
                    continue;
                };
                location.srv.push((srv_name, records.clone()));
                for s in rfc3263::order_srv(&records, rng) {
                    if !known.contains_key(&s.target) {
                        let found = self.addresses(&s.target, family).await;
                        known.insert(s.target.clone(), found);
                    }
                    for &(ip, _) in &known[&s.target] {
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

/// Maps the pool's answer to records, the rcode we log, and the AD bit.
fn classify(
    answer: Result<hickory_resolver::proto::op::DnsResponse, NetError>,
    rtype: RecordType,
) -> (Result<Vec<RData>, QueryError>, String, Option<bool>) {
    match answer {
        Ok(response) => {
            let ad = Some(response.metadata.authentic_data);
            let data: Vec<RData> = response
                .answers
                .iter()
                .filter(|r| r.record_type() == rtype)
                .map(|r| r.data.clone())
                .collect();
            match response.metadata.response_code {
                ResponseCode::NXDomain => (Err(QueryError::NxDomain), "NXDOMAIN".into(), ad),
                _ if data.is_empty() => (Err(QueryError::NoData), "NODATA".into(), ad),
                _ => (Ok(data), "NOERROR".into(), ad),
            }
        }
        Err(NetError::Dns(DnsError::NoRecordsFound(nr))) => {
            if nr.response_code == ResponseCode::NXDomain {
                (Err(QueryError::NxDomain), "NXDOMAIN".into(), None)
            } else {
                (Err(QueryError::NoData), "NODATA".into(), None)
            }
        }
        Err(NetError::Dns(DnsError::ResponseCode(code))) => {
            let name = rcode_name(code);
            (Err(QueryError::Failed(name.clone())), name, None)
        }
        Err(NetError::Timeout) => (Err(QueryError::Timeout), "TIMEOUT".into(), None),
        Err(e) => {
            let text = e.to_string();
            if text.to_ascii_lowercase().contains("timed out") {
                (Err(QueryError::Timeout), "TIMEOUT".into(), None)
            } else {
                (Err(QueryError::Failed(text.clone())), text, None)
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
