//! What the SIP subcommands share: locating the next hop (RFC 3263), opening the flow,
//! tracing messages with credentials redacted, building a request on a flow, and reading the
//! server's view of us from the top Via (`received`, `rport`, RFC 3261 §18.2.1, RFC 3581).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::cli::{GlobalArgs, SipArgs};
use crate::net::Direction;
use crate::net::dns::{DnsClient, Resolution, Resolved};
use crate::net::sip::{SipFlow, TlsOptions};
use crate::sip::digest::redact;
use crate::sip::message::Message;
use crate::sip::request::{self, Method, RequestSpec, ViaSpec};
use crate::sip::target::Target;
use crate::sip::transaction::{ClientTransaction, Kind, Timers};

/// An open flow to the server a target resolved to.
#[derive(Debug)]
pub struct Session {
    /// The flow.
    pub flow: SipFlow,
    /// The resolved address the flow goes to.
    pub server: Resolved,
}

/// Why no flow could be opened.
#[derive(Debug, Clone)]
pub struct Unreachable {
    /// Finding code: `SIP_NO_ADDRESS` or `SIP_TRANSPORT_FAILED`.
    pub code: &'static str,
    /// In words.
    pub message: String,
}

/// Locates `target` (or the `--proxy`) and opens a flow to the first address that accepts
/// one (RFC 3263 §4.3: try the next on failure).
pub async fn open_session(
    target: &Target,
    sip: &SipArgs,
    global: &GlobalArgs,
    rng: &mut impl rand::Rng,
) -> (Resolution, Result<Session, Unreachable>) {
    let next_hop = sip.proxy.as_ref().unwrap_or(target);
    let dns_server = sip
        .dns_server
        .map(|l| SocketAddr::new(l.ip, if l.port == 0 { 53 } else { l.port }));
    let mut dns = match DnsClient::new(dns_server, false, global.timeout) {
        Ok(d) => d,
        Err(e) => {
            return (
                Resolution::default(),
                Err(Unreachable {
                    code: "SIP_NO_ADDRESS",
                    message: e,
                }),
            );
        }
    };
    let resolution = dns
        .locate_sip(next_hop, sip.transport, global.family(), rng)
        .await;
    if resolution.targets.is_empty() {
        let message = format!(
            "{} did not resolve to any address ({})",
            next_hop.host,
            resolution
                .queries
                .iter()
                .map(|q| format!("{} {}: {}", q.rtype, q.name, q.rcode))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return (
            resolution,
            Err(Unreachable {
                code: "SIP_NO_ADDRESS",
                message,
            }),
        );
    }
    let tls = tls_options(sip);
    let local = sip.local.map(|l| SocketAddr::new(l.ip, l.port));
    let mut errors = Vec::new();
    for server in resolution.targets.iter().take(4) {
        match SipFlow::open(
            server.transport,
            server.address,
            local,
            &server.host,
            &tls,
            global.timeout,
        )
        .await
        {
            Ok(flow) => {
                let server = server.clone();
                return (resolution, Ok(Session { flow, server }));
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    (
        resolution,
        Err(Unreachable {
            code: "SIP_TRANSPORT_FAILED",
            message: errors.join("; "),
        }),
    )
}

/// Another flow to the server `session` reached (for `--parallel`), from any local port.
///
/// # Errors
/// As [`SipFlow::open`].
pub async fn open_another(
    session: &Session,
    sip: &SipArgs,
    global: &GlobalArgs,
) -> Result<SipFlow, crate::net::sip::TransportError> {
    SipFlow::open(
        session.server.transport,
        session.server.address,
        None,
        &session.server.host,
        &tls_options(sip),
        global.timeout,
    )
    .await
}

/// TLS settings from `--ca-file` / `--insecure`.
pub fn tls_options(sip: &SipArgs) -> TlsOptions {
    TlsOptions {
        ca_file: sip.ca_file.clone(),
        insecure: sip.insecure,
    }
}

/// Transaction timers from `--t1` (T2 per RFC 3261).
pub fn timers(sip: &SipArgs) -> Timers {
    Timers {
        t1: sip.t1,
        ..Timers::default()
    }
}

/// The route set: the `--proxy` as a loose router (RFC 3261 §8.1.2, §16.12), or empty.
pub fn route_set(sip: &SipArgs) -> Vec<String> {
    sip.proxy
        .as_ref()
        .map(|p| vec![format!("{};lr", p.request_uri())])
        .unwrap_or_default()
}

/// A tracer for `-v`: every message to stderr, Authorization values redacted.
pub fn tracer(verbose: u8) -> impl Fn(Direction, SocketAddr, SocketAddr, &[u8]) + Sync {
    move |dir, local, remote, bytes| {
        if verbose == 0 {
            return;
        }
        let (arrow, what) = match dir {
            Direction::Sent => ("→", "sent"),
            Direction::Received => ("←", "received"),
        };
        let text = redact(&String::from_utf8_lossy(bytes));
        eprintln!(
            "--- {what} {} bytes {local} {arrow} {remote}\n{}",
            bytes.len(),
            text.trim_end()
        );
    }
}

/// How the flow's local address goes into Via sent-by: IPv6 in brackets.
pub fn sent_by_host(addr: SocketAddr) -> String {
    crate::sip::target::Host::Ip(addr.ip()).to_string()
}

/// The fields of a request that stay the same across a dialog-less exchange.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Request-URI.
    pub uri: String,
    /// From URI and tag.
    pub from: (String, String),
    /// To URI.
    pub to: String,
    /// Call-ID.
    pub call_id: String,
}

/// Builds one request on `flow` with a fresh branch and starts its transaction.
/// `sent_by` overrides the Via host (the ALG check's host name).
#[allow(clippy::too_many_arguments)]
pub fn request_on(
    flow: &SipFlow,
    method: Method,
    ex: &Exchange,
    cseq: u32,
    sent_by: Option<&str>,
    contact: Option<String>,
    expires: Option<u32>,
    extra: Vec<(String, String)>,
    route: Vec<String>,
    timers: Timers,
    timeout: Duration,
    rng: &mut impl rand::Rng,
) -> Result<(Vec<u8>, ClientTransaction), request::BuildError> {
    let branch = request::new_branch(rng);
    let spec = RequestSpec {
        method,
        uri: ex.uri.clone(),
        via: ViaSpec {
            transport: flow.transport.via_token(),
            sent_by: sent_by.map_or_else(|| sent_by_host(flow.local), str::to_string),
            port: Some(flow.local.port()),
            branch: branch.clone(),
        },
        from: ex.from.clone(),
        to: (ex.to.clone(), None),
        call_id: ex.call_id.clone(),
        cseq,
        contact,
        expires,
        route,
        extra,
        body: None,
    };
    let bytes = request::build(&spec)?;
    let tx = ClientTransaction::new(
        if method == Method::Invite {
            Kind::Invite
        } else {
            Kind::NonInvite
        },
        flow.transport.is_reliable(),
        timers,
        &branch,
        method.as_str(),
        std::time::Instant::now(),
        Some(timeout),
    );
    Ok((bytes, tx))
}

/// What the server saw of us, from the top Via of its response.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ViewOfUs {
    /// `received` as returned.
    pub received: Option<String>,
    /// `rport` as returned (`None` also when the server left it empty).
    pub rport: Option<u16>,
    /// The source address the server saw: received (or the sent-by host when absent, per
    /// RFC 3261 §18.2.1) with rport (or the sent-by port).
    pub seen: Option<SocketAddr>,
}

impl ViewOfUs {
    /// Reads the view from a response's top Via.
    pub fn from_response(response: &Message) -> ViewOfUs {
        let Some(via) = response.top_via() else {
            return ViewOfUs::default();
        };
        let received = via.received().map(str::to_string);
        let rport = via.rport().flatten();
        let ip = received
            .as_deref()
            .or(Some(via.host.as_str()))
            .and_then(|h| h.trim_matches(['[', ']']).parse::<IpAddr>().ok());
        let port = rport.or(via.port);
        ViewOfUs {
            received,
            rport,
            seen: ip.zip(port).map(|(i, p)| SocketAddr::new(i, p)),
        }
    }

    /// Whether the seen address differs from `local`: `None` when unknown.
    pub fn nat_detected(&self, local: SocketAddr) -> Option<bool> {
        self.seen.map(|s| s != local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(via: &str) -> Message {
        Message::parse(
            format!("SIP/2.0 200 OK\r\nVia: {via}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
                .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn view_of_us_from_via() {
        let local: SocketAddr = "10.0.0.2:5060".parse().unwrap();
        let v = ViewOfUs::from_response(&response(
            "SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa;received=203.0.113.1;rport=40000",
        ));
        assert_eq!(v.seen, Some("203.0.113.1:40000".parse().unwrap()));
        assert_eq!(v.nat_detected(local), Some(true));
        // No received: the server saw the sent-by host; rport equal → no NAT.
        let v = ViewOfUs::from_response(&response(
            "SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa;rport=5060",
        ));
        assert_eq!(v.nat_detected(local), Some(false));
        // Host name sent-by and no received: unknown.
        let v = ViewOfUs::from_response(&response("SIP/2.0/UDP host.invalid:5060;branch=z9hG4bKa"));
        assert_eq!(v.nat_detected(local), None);
    }
}
