//! UPnP IGD over the network, through igd-next (SSDP discovery, the port-mapping SOAP
//! actions) and hyper (the device description): the I/O half of `upnp-map`'s UPnP client.
//! What igd-next leaves to us is parsed without I/O in `crate::upnp::igd`. Every call is
//! bounded by the timeout given. Also the default gateway from /proc/net/route.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Full, Limited};
use igd_next::aio::Provider;
use igd_next::{PortMappingProtocol, RequestError};

use super::driver::{self, Socket};
use super::signal::Interrupt;
use crate::upnp::igd::{self, DeviceDescription};
use crate::upnp::ssdp::SsdpSearch;
use crate::upnp::xml;
use crate::upnp::{ActionOutcome, Connection, GatewayAddr, GatewayInfo, MapProtocol, Mapping};

/// A gateway found by SSDP or named with `--gateway URL`.
pub type Gateway = igd_next::aio::Gateway<Guarded>;

/// igd-next's HTTP client with every SOAP answer checked by [`crate::upnp::xml::check`]
/// before igd-next's own (recursive, entity-expanding) XML parser sees it.
#[derive(Debug, Clone)]
pub struct Guarded;

impl Provider for Guarded {
    /// POSTs the SOAP request with hyper (igd-next's own provider ignores the HTTP status,
    /// so a 404 read as "malformed XML"): 200 and 500 (a SOAP fault, UPnP DA §3.2.2) give the
    /// body, any other status is an error naming it; the body is bounded and XML-checked.
    async fn send_async(url: &str, action: &str, body: &str) -> Result<String, RequestError> {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<Full<bytes::Bytes>>();
        let req = hyper::Request::builder()
            .uri(url)
            .method("POST")
            .header("SOAPAction", action)
            .header("Content-Type", "text/xml")
            .body(Full::new(bytes::Bytes::from(body.to_string())))
            .map_err(|e| RequestError::InvalidResponse(format!("POST {url}: {e}")))?;
        let resp = client
            .request(req)
            .await
            .map_err(|e| RequestError::InvalidResponse(format!("POST {url}: {e}")))?;
        let status = resp.status();
        if !(status.is_success() || status == hyper::StatusCode::INTERNAL_SERVER_ERROR) {
            return Err(RequestError::InvalidResponse(format!("HTTP {status}")));
        }
        let bytes = Limited::new(resp.into_body(), MAX_HTTP_BODY)
            .collect()
            .await
            .map_err(|e| RequestError::InvalidResponse(format!("POST {url}: {e}")))?
            .to_bytes();
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| RequestError::InvalidResponse(format!("POST {url}: not UTF-8")))?;
        xml::check(&text)
            .map_err(|e| RequestError::InvalidResponse(format!("SOAP answer refused: {e}")))?;
        Ok(text)
    }
}

/// Largest device description or SOAP answer read, bytes.
const MAX_HTTP_BODY: usize = 256 * 1024;

/// Most entries `list` reads (GetGenericPortMappingEntry index bound).
pub const MAX_ENTRIES: u32 = 1024;
/// Listing takes at most this many `--timeout`s in all.
pub const LIST_BUDGET_TIMEOUTS: u32 = 4;

/// The mappings a UPnP gateway listed, and what was cut short.
#[derive(Debug, Default)]
pub struct Listing {
    /// The entries, in index order.
    pub mappings: Vec<Mapping>,
    /// Why the list or its text is incomplete, in words.
    pub notes: Vec<String>,
}

/// What the UPnP probe learned.
#[derive(Debug)]
pub struct UpnpState {
    /// The gateway, for later actions.
    pub gateway: Gateway,
    /// What it says it is.
    pub info: GatewayInfo,
    /// GetExternalIPAddress.
    pub external: Option<IpAddr>,
    /// GetExternalIPAddress answered with an empty address: no public address.
    pub no_external: bool,
    /// GetStatusInfo / GetConnectionTypeInfo.
    pub connection: Connection,
    /// GetExternalIPAddress failed at the control URL (HTTP status, transport, or a UPnP
    /// error): the step and what it got, in words.
    pub control_error: Option<String>,
}

/// An add or delete, as UPnP needs it.
#[derive(Debug, Clone)]
pub struct MapRequest {
    /// Add (or delete).
    pub add: bool,
    /// UDP or TCP.
    pub protocol: MapProtocol,
    /// External port.
    pub external_port: u16,
    /// LAN port.
    pub internal_port: u16,
    /// LAN address to forward to (add).
    pub internal_client: Option<IpAddr>,
    /// Lease, s (add; 0 = permanent).
    pub lease_s: u32,
    /// Description (add).
    pub description: String,
}

/// The IPv4 address of interface `name`.
///
/// # Errors
/// No such interface, or none with an IPv4 address.
pub fn interface_ipv4(name: &str) -> Result<IpAddr, String> {
    let addrs = nix::ifaddrs::getifaddrs().map_err(|e| e.to_string())?;
    addrs
        .filter(|a| a.interface_name == name)
        .find_map(|a| a.address?.as_sockaddr_in().map(|s| IpAddr::V4(s.ip())))
        .ok_or_else(|| "no such interface with an IPv4 address".to_string())
}

/// The IPv4 default gateway of this host (/proc/net/route), if any.
#[cfg(target_os = "linux")]
pub fn default_gateway() -> Option<Ipv4Addr> {
    std::fs::read_to_string("/proc/net/route")
        .ok()
        .and_then(|t| igd::default_gateway(&t))
}

/// Not Linux: the default gateway is not read (there is no /proc/net/route); `--gateway`
/// names it.
#[cfg(not(target_os = "linux"))]
pub fn default_gateway() -> Option<Ipv4Addr> {
    None
}

/// SSDP search (the [`SsdpSearch`] machine over the driver) from `local` (default: any),
/// bounded by `timeout`: the first gateway (only `only`, when given) whose description, read
/// and checked by [`describe`], has a usable WAN service.
///
/// # Errors
/// No answer within the timeout (or why the last description was refused), a socket error.
pub async fn discover(
    local: Option<IpAddr>,
    only: Option<IpAddr>,
    timeout: Duration,
) -> Result<(Gateway, DeviceDescription), String> {
    let bind = SocketAddr::new(local.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)), 0);
    let socket = driver::bind_udp(bind).map_err(|e| format!("SSDP: bind {bind}: {e}"))?;
    let mut search = SsdpSearch::new(driver::now(), timeout, only);
    let never = Interrupt::never();
    let options = driver::Options {
        tracer: None,
        interrupt: &never,
        precise: false,
    };
    let mut refused = None;
    loop {
        let sockets = vec![Socket::Udp(Arc::clone(&socket))];
        if let Some(f) = driver::run(&mut search, sockets, options, |_, ()| {})
            .await
            .failure()
        {
            return Err(f);
        }
        let Some((_, url)) = search.found().cloned() else {
            break;
        };
        match describe(&url, timeout).await {
            Ok(found) => return Ok(found),
            Err(e) => {
                refused = Some(e);
                search.resume();
            }
        }
    }
    Err(refused.unwrap_or_else(|| format!("no SSDP answer within {timeout:?}")))
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
    // The gateway is the only UPnP device accepted: its SCPD must be on its host too.
    let (scpd_host, _) = igd::split_url(&scpd)?;
    if scpd_host.ip() != addr.ip() {
        return Err(format!(
            "{url}: the description sends us to another host ({scpd_host}) for its service \
             description; only the gateway itself is asked"
        ));
    }
    // igd-next builds its requests from the action arguments the SCPD lists.
    let control_schema = igd::parse_scpd(&http_get(&scpd, timeout).await?)?;
    let gateway = Gateway {
        addr,
        root_url: url.to_string(),
        control_url: control_path,
        control_schema_url: igd::split_url(&scpd).map(|(_, p)| p).unwrap_or_default(),
        control_schema,
        service_type,
        provider: Guarded,
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
    let text = tokio::time::timeout(timeout, Guarded::send_async(&url, &header, &body))
        .await
        .map_err(|_| Err(format!("{action}: no answer within {timeout:?}")))?
        .map_err(|e| match e {
            igd_next::RequestError::ErrorCode(code, text) => Ok((code, text)),
            other => Err(format!("{action}: {other}")),
        })?;
    igd::parse_soap_response(&text, action)
}

/// Discovery (or the given URL), the device description, and the three status actions.
///
/// # Errors
/// No answer to SSDP, an unreadable description: in words.
pub async fn probe(
    gateway: Option<&GatewayAddr>,
    gateway_ip: Option<IpAddr>,
    local: Option<IpAddr>,
    timeout: Duration,
) -> Result<UpnpState, String> {
    let (gateway, device) = match gateway {
        Some(GatewayAddr::Url(url)) => describe(url, timeout).await?,
        _ => {
            let only = matches!(gateway, Some(GatewayAddr::Ip(_)))
                .then_some(gateway_ip)
                .flatten();
            discover(local, only, timeout).await?
        }
    };
    let info = GatewayInfo {
        address: Some(gateway.addr.ip()),
        description_url: Some(description_url(&gateway)),
        control_url: Some(control_url(&gateway)),
        service_type: Some(gateway.service_type.clone()),
        device,
    };
    // igd-next's get_external_ip cannot tell an empty answer (no public address) from a
    // broken one, so the three status actions go through our SOAP call.
    let arg = |args: &[(String, String)], name: &str| {
        args.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    };
    let (mut external, mut no_external, mut control_error) = (None, false, None);
    match soap(&gateway, "GetExternalIPAddress", timeout).await {
        Ok(args) => match arg(&args, "NewExternalIPAddress").as_deref().map(str::trim) {
            Some("") | None => no_external = true,
            Some(s) => external = s.parse().ok(),
        },
        Err(e) => {
            let what = match e {
                Ok((code, text)) => format!("UPnP error {code} {}", crate::text::clip(text).0),
                Err(text) => text,
            };
            control_error = Some(format!("POST {}: {what}", control_url(&gateway)));
        }
    }
    let mut connection = Connection::default();
    if let Ok(args) = soap(&gateway, "GetStatusInfo", timeout).await {
        connection.status = arg(&args, "NewConnectionStatus");
        connection.uptime_s = arg(&args, "NewUptime").and_then(|u| u.parse().ok());
        connection.last_error = arg(&args, "NewLastConnectionError");
    }
    if let Ok(args) = soap(&gateway, "GetConnectionTypeInfo", timeout).await {
        connection.connection_type = arg(&args, "NewConnectionType");
    }
    Ok(UpnpState {
        gateway,
        info,
        external,
        no_external,
        connection,
        control_error,
    })
}

fn upnp_protocol(p: MapProtocol) -> PortMappingProtocol {
    match p {
        MapProtocol::Udp => PortMappingProtocol::UDP,
        MapProtocol::Tcp => PortMappingProtocol::TCP,
    }
}

/// (code, name) of an igd-next request error, when it carries a UPnP code.
fn request_error(e: &igd_next::RequestError) -> (Option<u16>, String) {
    match e {
        igd_next::RequestError::ErrorCode(code, _) => (Some(*code), igd::error_name(*code).into()),
        // igd-next quotes the whole answer in some errors: cut to a sane length.
        other => (None, crate::text::clip(other.to_string()).0),
    }
}

/// The UPnP list (GetGenericPortMappingEntry from 0 until SpecifiedArrayIndexInvalid), at
/// most [`MAX_ENTRIES`] entries within [`LIST_BUDGET_TIMEOUTS`] × `timeout` in all, each
/// entry's text cut to [`crate::text::MAX_TEXT`] characters; the notes say what was cut short.
///
/// # Errors
/// `(UPnP error code, name)` of an answer that ends the list with a failure before any
/// entry came.
pub async fn list(g: &Gateway, timeout: Duration) -> Result<Listing, (Option<u16>, String)> {
    let mut out = Listing::default();
    let deadline = tokio::time::Instant::now() + timeout * LIST_BUDGET_TIMEOUTS;
    let mut clipped = 0;
    let mut clip = |text: String| {
        let (text, cut) = crate::text::clip(text);
        clipped += usize::from(cut);
        text
    };
    for i in 0..MAX_ENTRIES {
        let entry = match tokio::time::timeout_at(
            deadline.min(tokio::time::Instant::now() + timeout),
            g.get_generic_port_mapping_entry(i),
        )
        .await
        {
            Ok(entry) => entry,
            Err(_) if out.mappings.is_empty() => {
                return Err((None, format!("entry {i}: no answer within {timeout:?}")));
            }
            Err(_) => {
                out.notes.push(format!(
                    "the list is incomplete: no entry {i} within the time allowed ({:?} per entry, {:?} in all)",
                    timeout,
                    timeout * LIST_BUDGET_TIMEOUTS
                ));
                break;
            }
        };
        match entry {
            Ok(e) => out.mappings.push(Mapping {
                protocol: format!("{}", e.protocol),
                external_port: e.external_port,
                internal_client: clip(e.internal_client),
                internal_port: e.internal_port,
                lease_s: e.lease_duration,
                description: clip(e.port_mapping_description),
                enabled: e.enabled,
            }),
            Err(igd_next::GetGenericPortMappingEntryError::SpecifiedArrayIndexInvalid) => break,
            Err(igd_next::GetGenericPortMappingEntryError::ActionNotAuthorized) => {
                return Err((Some(606), igd::error_name(606).into()));
            }
            Err(igd_next::GetGenericPortMappingEntryError::RequestError(e)) => {
                let (code, name) = request_error(&e);
                // Some gateways end the list with 714 NoSuchEntryInArray or 402.
                if matches!(code, Some(714 | 402)) {
                    break;
                }
                return Err((code, name));
            }
        }
        if i + 1 == MAX_ENTRIES {
            out.notes.push(format!(
                "the list is incomplete: only the first {MAX_ENTRIES} entries were read"
            ));
        }
    }
    if clipped > 0 {
        out.notes.push(format!(
            "{clipped} text field(s) longer than {} characters were cut (ending in …)",
            crate::text::MAX_TEXT
        ));
    }
    Ok(out)
}

/// Adds (or, with `add` false, deletes) a mapping through UPnP. A 725
/// OnlyPermanentLeasesSupported answer to a timed lease is retried once with lease 0, and
/// the outcome says so.
pub async fn add_delete(g: &Gateway, request: &MapRequest, timeout: Duration) -> ActionOutcome {
    let (proto, ext) = (request.protocol, request.external_port);
    let internal_port = request.internal_port;
    if !request.add {
        let r = tokio::time::timeout(timeout, g.remove_port(upnp_protocol(proto), ext)).await;
        return match r {
            Err(_) => ActionOutcome::failed(None, format!("no answer within {timeout:?}")),
            Ok(Ok(())) => ActionOutcome::done(None, Vec::new()),
            Ok(Err(igd_next::RemovePortError::NoSuchPortMapping)) => {
                ActionOutcome::failed(Some(714), igd::error_name(714).into())
            }
            Ok(Err(igd_next::RemovePortError::ActionNotAuthorized)) => {
                ActionOutcome::failed(Some(606), igd::error_name(606).into())
            }
            Ok(Err(igd_next::RemovePortError::RequestError(e))) => {
                let (c, n) = request_error(&e);
                ActionOutcome::failed(c, n)
            }
        };
    }
    let Some(client) = request.internal_client else {
        return ActionOutcome::failed(
            None,
            "no LAN address to forward to (give --internal-client)".into(),
        );
    };
    let to = SocketAddr::new(client, internal_port);
    let mut lease = request.lease_s;
    let mut notes = Vec::new();
    let mut retried = false;
    loop {
        let r = tokio::time::timeout(
            timeout,
            g.add_port(upnp_protocol(proto), ext, to, lease, &request.description),
        )
        .await;
        let (code, name) = match r {
            Err(_) => return ActionOutcome::failed(None, format!("no answer within {timeout:?}")),
            Ok(Ok(())) => {
                return ActionOutcome::done(
                    Some(Mapping {
                        protocol: proto.as_str().into(),
                        external_port: ext,
                        internal_client: client.to_string(),
                        internal_port,
                        lease_s: lease,
                        description: request.description.clone(),
                        enabled: true,
                    }),
                    notes,
                );
            }
            Ok(Err(e)) => match e {
                igd_next::AddPortError::PortInUse => (Some(718), igd::error_name(718).into()),
                igd_next::AddPortError::ActionNotAuthorized => {
                    (Some(606), igd::error_name(606).into())
                }
                igd_next::AddPortError::SamePortValuesRequired => {
                    (Some(724), igd::error_name(724).into())
                }
                igd_next::AddPortError::OnlyPermanentLeasesSupported => {
                    (Some(725), igd::error_name(725).into())
                }
                igd_next::AddPortError::RequestError(e) => request_error(&e),
                other => (None, other.to_string()),
            },
        };
        if code == Some(725) && !retried && lease != 0 {
            notes.push(format!(
                "the gateway answered 725 OnlyPermanentLeasesSupported to a {lease} s lease; retried with lease 0 (permanent): delete the mapping when done"
            ));
            lease = 0;
            retried = true;
            continue;
        }
        let mut f = ActionOutcome::failed(code, name);
        f.notes = notes;
        return f;
    }
}
