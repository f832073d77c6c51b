//! The I/O of `upnp-map`: UDP request/response with a retransmission schedule (NAT-PMP,
//! PCP, one STUN Binding), SSDP discovery and port-mapping actions through igd-next, an
//! HTTP GET of the device description and SOAP calls igd-next has no method for (through
//! igd-next's own HTTP client), and the default gateway from /proc/net/route.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty, Limited};
use igd_next::aio::Provider;
use igd_next::aio::tokio::Tokio;
use tokio::net::UdpSocket;

use crate::upnp::igd::{self, DeviceDescription};
use crate::upnp::natpmp;

/// A gateway found by SSDP or named with `--gateway URL`.
pub type Gateway = igd_next::aio::Gateway<Tokio>;

/// Largest device description or SOAP answer read, bytes.
const MAX_HTTP_BODY: usize = 256 * 1024;

/// Why a UDP exchange got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// Nothing usable within the bound.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// ICMP port unreachable: nothing listens on the port.
    #[error("port unreachable (nothing listens there)")]
    Refused,
    /// A socket error.
    #[error("{0}")]
    Io(String),
}

/// Sends `request` to `to` at the offsets of `schedule` (from [`natpmp::schedule`]) until a
/// datagram from `to` passes `accept`, or `bound` ends. Returns it with the time from the
/// first send.
///
/// # Errors
/// See [`ExchangeError`].
pub async fn exchange(
    to: SocketAddr,
    local: Option<IpAddr>,
    request: &[u8],
    bound: Duration,
    accept: impl Fn(&[u8]) -> bool,
) -> Result<(Vec<u8>, Duration), ExchangeError> {
    let bind = SocketAddr::new(
        local.unwrap_or(if to.is_ipv4() {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        } else {
            IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
        }),
        0,
    );
    let io = |e: std::io::Error| ExchangeError::Io(e.to_string());
    let socket = UdpSocket::bind(bind).await.map_err(io)?;
    socket.connect(to).await.map_err(io)?;
    let start = Instant::now();
    let deadline = start + bound;
    let mut sends = natpmp::schedule(bound).into_iter().peekable();
    let mut buf = vec![0u8; 2048];
    loop {
        while let Some(at) = sends.peek() {
            if start + *at > Instant::now() {
                break;
            }
            sends.next();
            if let Err(e) = socket.send(request).await {
                if e.kind() == std::io::ErrorKind::ConnectionRefused {
                    return Err(ExchangeError::Refused);
                }
                return Err(io(e));
            }
        }
        let next_send = sends.peek().map_or(deadline, |at| start + *at);
        let wake = next_send.min(deadline);
        let now = Instant::now();
        if now >= deadline {
            return Err(ExchangeError::Timeout(bound));
        }
        match tokio::time::timeout(wake - now, socket.recv(&mut buf)).await {
            Ok(Ok(n)) if accept(&buf[..n]) => return Ok((buf[..n].to_vec(), start.elapsed())),
            Ok(Ok(_)) => {} // not ours: keep waiting
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                return Err(ExchangeError::Refused);
            }
            Ok(Err(e)) => return Err(io(e)),
            Err(_) => {} // time to send again, or the deadline
        }
    }
}

/// The IPv4 default gateway of this host (/proc/net/route), if any.
pub fn default_gateway() -> Option<Ipv4Addr> {
    std::fs::read_to_string("/proc/net/route")
        .ok()
        .and_then(|t| igd::default_gateway(&t))
}

/// SSDP search (igd-next) from `local` (default: any), bounded by `timeout`: the first
/// gateway (only `only`, when given) that answers with a usable WAN service, once its
/// description is read.
///
/// # Errors
/// igd-next's: no answer within the timeout, a socket error, an unusable answer.
pub async fn discover(
    local: Option<IpAddr>,
    only: Option<IpAddr>,
    timeout: Duration,
) -> Result<Gateway, igd_next::SearchError> {
    let mut options = igd_next::SearchOptions::default();
    options.timeout = Some(timeout);
    options.single_search_timeout = Some(timeout);
    if let Some(ip) = local {
        options.bind_addr = SocketAddr::new(ip, 0);
    }
    if let Some(ip) = only {
        options.allowed_gateway_ips = vec![ip];
    }
    igd_next::aio::tokio::search_gateway(options).await
}

/// GETs `url` (a device description) within `timeout`, at most 256 KiB.
///
/// # Errors
/// In words: connection, status, size, time, encoding.
pub async fn http_get(url: &str, timeout: Duration) -> Result<String, String> {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Empty<bytes::Bytes>>();
    let uri: hyper::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let work = async {
        let resp = client
            .get(uri)
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("GET {url}: HTTP {}", resp.status()));
        }
        let body = Limited::new(resp.into_body(), MAX_HTTP_BODY)
            .collect()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?
            .to_bytes();
        String::from_utf8(body.to_vec()).map_err(|_| format!("GET {url}: not UTF-8"))
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| format!("GET {url}: no answer within {timeout:?}"))?
}

/// Reads the description at `url` and builds the gateway from it (for `--gateway URL`, and
/// for the device facts igd-next does not keep).
///
/// # Errors
/// The GET failed, the description does not parse or has no WAN connection service.
pub async fn describe(
    url: &str,
    timeout: Duration,
) -> Result<(Gateway, DeviceDescription), String> {
    let (addr, _) = igd::split_url(url)?;
    let xml = http_get(url, timeout).await?;
    let d = igd::parse_description(&xml)?;
    let (Some(service_type), Some(control)) = (d.service_type.clone(), d.control_url.clone())
    else {
        return Err(format!(
            "{url}: the device has no WANIPConnection or WANPPPConnection service"
        ));
    };
    let base = d.url_base.clone().unwrap_or_else(|| url.to_string());
    let control_url = igd::join_url(&base, &control);
    let (_, control_path) = igd::split_url(&control_url)?;
    let scpd = igd::join_url(&base, d.scpd_url.as_deref().unwrap_or(""));
    // igd-next builds its requests from the action arguments the SCPD lists.
    let control_schema = igd::parse_scpd(&http_get(&scpd, timeout).await?)?;
    let gateway = Gateway {
        addr,
        root_url: url.to_string(),
        control_url: control_path,
        control_schema_url: igd::split_url(&scpd).map(|(_, p)| p).unwrap_or_default(),
        control_schema,
        service_type,
        provider: Tokio,
    };
    Ok((gateway, d))
}

/// The full URL of the gateway's description.
pub fn description_url(g: &Gateway) -> String {
    if g.root_url.starts_with("http://") {
        g.root_url.clone()
    } else {
        format!("http://{}{}", g.addr, g.root_url)
    }
}

/// The full control URL of the gateway's WAN connection service.
pub fn control_url(g: &Gateway) -> String {
    format!("http://{}{}", g.addr, g.control_url)
}

/// Calls `action` (no arguments) through igd-next's HTTP client and returns the output
/// arguments.
///
/// # Errors
/// `Err(Ok((code, description)))` for a UPnP error, `Err(Err(text))` otherwise.
#[allow(clippy::type_complexity)]
pub async fn soap(
    g: &Gateway,
    action: &str,
    timeout: Duration,
) -> Result<Vec<(String, String)>, Result<(u16, String), String>> {
    let url = control_url(g);
    let header = format!("\"{}#{action}\"", g.service_type);
    let body = igd::soap_body(&g.service_type, action);
    let text = tokio::time::timeout(timeout, Tokio::send_async(&url, &header, &body))
        .await
        .map_err(|_| Err(format!("{action}: no answer within {timeout:?}")))?
        .map_err(|e| match e {
            igd_next::RequestError::ErrorCode(code, text) => Ok((code, text)),
            other => Err(format!("{action}: {other}")),
        })?;
    igd::parse_soap_response(&text, action)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exchange retransmits on schedule and ignores datagrams that are not the answer.
    #[tokio::test]
    async fn exchange_retransmits_and_filters() {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = server.local_addr().unwrap();
        let handle = std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            // Drop the first request, answer the second with junk and then the answer.
            let (_, _) = server.recv_from(&mut buf).unwrap();
            let (n, from) = server.recv_from(&mut buf).unwrap();
            server.send_to(b"junk", from).unwrap();
            server.send_to(&buf[..n], from).unwrap();
        });
        let (got, took) = exchange(to, None, b"ping", Duration::from_secs(2), |b| b == b"ping")
            .await
            .unwrap();
        assert_eq!(got, b"ping");
        assert!(took >= Duration::from_millis(250), "{took:?}");
        handle.join().unwrap();

        // A closed port is reported as such (ICMP), not as a timeout.
        let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = closed.local_addr().unwrap();
        drop(closed);
        let e = exchange(to, None, b"x", Duration::from_secs(2), |_| true).await;
        assert_eq!(e, Err(ExchangeError::Refused));
    }
}
