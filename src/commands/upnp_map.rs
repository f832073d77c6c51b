//! `voipdiag upnp-map`: ask the gateway with UPnP IGD, NAT-PMP and PCP (concurrently with
//! `--protocol auto`), show what it says, list/add/delete a mapping with the first that
//! answered, and tell whether a mapping there can help (double NAT, `--stun`).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

use igd_next::PortMappingProtocol;

use super::CommandError;
use crate::cli::{GatewayProtocol, GlobalArgs, HostPort, UpnpAction, UpnpMapArgs};
use crate::net::portmap::{self, ExchangeError, Gateway};
use crate::report::upnp_map::{
    ActionOutcome, Connection, GatewayInfo, Mapping, Probe, UpnpMapResult, double_nat, findings,
    status,
};
use crate::report::{Report, ms};
use crate::upnp::igd;
use crate::upnp::natpmp::{self, MapProtocol, NatPmpResponse};

/// Most entries `list` reads (GetGenericPortMappingEntry index bound).
const MAX_ENTRIES: u32 = 1024;

/// PCP has no external-address request: `status` maps a UDP port of ours for this long and
/// deletes it at once (RFC 6887 §15).
const PCP_PROBE_LIFETIME_S: u32 = 120;

/// What the UPnP probe learned.
struct UpnpState {
    gateway: Gateway,
    info: GatewayInfo,
    external: Option<IpAddr>,
    no_external: bool,
    connection: Connection,
}

/// Where to find the gateway, from `--gateway`.
enum GatewayArg {
    Url(String),
    Ip(IpAddr),
}

fn parse_gateway(s: &str) -> Result<GatewayArg, CommandError> {
    if s.starts_with("http://") {
        igd::split_url(s).map_err(CommandError::Usage)?;
        return Ok(GatewayArg::Url(s.to_string()));
    }
    s.parse()
        .map(GatewayArg::Ip)
        .map_err(|_| CommandError::Usage(format!("--gateway {s}: an IP address or an http:// URL")))
}

fn interface_address(name: &str) -> Result<IpAddr, CommandError> {
    let addrs = nix::ifaddrs::getifaddrs()
        .map_err(|e| CommandError::Usage(format!("--interface {name}: {e}")))?;
    addrs
        .filter(|a| a.interface_name == name)
        .find_map(|a| a.address?.as_sockaddr_in().map(|s| IpAddr::V4(s.ip())))
        .ok_or_else(|| {
            CommandError::Usage(format!(
                "--interface {name}: no such interface with an IPv4 address"
            ))
        })
}

/// Runs `upnp-map`.
///
/// # Errors
/// Usage errors (missing PROTO/PORT for add/delete, a bad --gateway); nothing else: silent
/// gateways and refusals are part of the report.
pub async fn run(
    global: &GlobalArgs,
    args: &UpnpMapArgs,
) -> Result<Report<UpnpMapResult>, CommandError> {
    let started_at = SystemTime::now();
    let t0 = Instant::now();
    let needs_port = matches!(args.action, UpnpAction::Add | UpnpAction::Delete);
    let target = match (args.map_protocol, args.external_port) {
        (Some(p), Some(port)) if needs_port => Some((p, port)),
        (None, None) if !needs_port => None,
        _ if needs_port => {
            return Err(CommandError::Usage(
                "add and delete need PROTO and EXTERNAL_PORT, e.g. add udp 5060".into(),
            ));
        }
        _ => {
            return Err(CommandError::Usage(
                "PROTO and EXTERNAL_PORT are only for add and delete".into(),
            ));
        }
    };
    let gateway_arg = args.gateway.as_deref().map(parse_gateway).transpose()?;
    let gateway_ip = match &gateway_arg {
        Some(GatewayArg::Ip(ip)) => Some(*ip),
        Some(GatewayArg::Url(u)) => igd::split_url(u).ok().map(|(a, _)| a.ip()),
        None => portmap::default_gateway().map(IpAddr::V4),
    };
    let local = match (&args.local, &args.interface) {
        (Some(ip), _) => Some(*ip),
        (None, Some(name)) => Some(interface_address(name)?),
        _ => gateway_ip
            .and_then(|g| crate::net::udp::route_source(SocketAddr::new(g, natpmp::PORT)).ok()),
    };
    let timeout = global.timeout;
    let mut result = UpnpMapResult {
        action: format!("{:?}", args.action).to_lowercase(),
        local_address: local,
        timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        ..Default::default()
    };

    let want = |p: GatewayProtocol| args.protocol == GatewayProtocol::Auto || args.protocol == p;
    let work = async {
        let upnp = async {
            if !want(GatewayProtocol::Upnp) {
                return None;
            }
            let t = Instant::now();
            let r = probe_upnp(gateway_arg.as_ref(), gateway_ip, local, timeout).await;
            Some((r, t.elapsed()))
        };
        let nat_pmp = async {
            if !want(GatewayProtocol::Natpmp) {
                return None;
            }
            Some(probe_natpmp(gateway_ip, local, timeout).await)
        };
        let pcp = async {
            if !want(GatewayProtocol::Pcp) {
                return None;
            }
            Some(probe_pcp(gateway_ip, local, timeout).await)
        };
        let stun = async {
            match &args.stun {
                Some(s) => Some(stun_address(s, local, global, timeout).await),
                None => None,
            }
        };
        futures_util::future::join4(upnp, nat_pmp, pcp, stun).await
    };
    let (upnp, nat_pmp, pcp, stun) = tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => {
            result.interrupted = true;
            (None, None, None, None)
        }
    };

    let mut upnp_state = None;
    if let Some((r, took)) = upnp {
        match r {
            Ok(state) => {
                result.probes.push(Probe {
                    protocol: "upnp",
                    outcome: "answered",
                    ms: ms(took),
                    external_address: state.external,
                    detail: state.info.device.friendly_name.clone(),
                });
                upnp_state = Some(state);
            }
            Err(e) => result.probes.push(Probe {
                protocol: "upnp",
                outcome: "no-answer",
                ms: ms(took),
                external_address: None,
                detail: Some(e),
            }),
        }
    }
    for p in [nat_pmp, pcp].into_iter().flatten() {
        result.probes.push(p.probe);
        if p.no_external {
            result.no_external_address = true;
        }
    }
    result.answered = result
        .probes
        .iter()
        .filter(|p| p.outcome == "answered" || p.outcome == "error")
        .map(|p| p.protocol)
        .collect();
    match stun {
        Some(Ok(ip)) => result.stun_address = Some(ip),
        Some(Err(e)) => result.stun_error = Some(e),
        None => {}
    }
    if let Some(s) = &upnp_state {
        result.gateway = Some(s.info.clone());
        result.connection = Some(s.connection.clone());
        if s.no_external {
            result.no_external_address = true;
        }
    } else if let Some(ip) = gateway_ip.filter(|_| !result.answered.is_empty()) {
        result.gateway = Some(GatewayInfo {
            address: Some(ip),
            ..Default::default()
        });
    }
    result.external_address = upnp_state
        .as_ref()
        .and_then(|s| s.external)
        .or_else(|| result.probes.iter().find_map(|p| p.external_address));
    if result.external_address.is_some() {
        result.no_external_address = false;
    }
    // The protocol used for the action: the one asked for, else UPnP, PCP, NAT-PMP.
    result.protocol = ["upnp", "pcp", "natpmp"]
        .into_iter()
        .find(|p| result.answered.contains(p));

    if !result.interrupted && result.protocol.is_some() {
        act(
            args,
            target,
            upnp_state.as_ref(),
            gateway_ip,
            local,
            timeout,
            &mut result,
        )
        .await;
    }
    result.double_nat = double_nat(&result);
    let found = findings(&result);
    let st = status(&result);
    Ok(Report::new(
        "upnp-map",
        started_at,
        t0.elapsed(),
        st,
        found,
        result,
    ))
}

/// Discovery (or the given URL), the device description, and the three status actions.
async fn probe_upnp(
    gateway: Option<&GatewayArg>,
    gateway_ip: Option<IpAddr>,
    local: Option<IpAddr>,
    timeout: Duration,
) -> Result<UpnpState, String> {
    let (gateway, device) = match gateway {
        Some(GatewayArg::Url(url)) => portmap::describe(url, timeout).await?,
        _ => {
            let only = matches!(gateway, Some(GatewayArg::Ip(_)))
                .then_some(gateway_ip)
                .flatten();
            let g = portmap::discover(local, only, timeout)
                .await
                .map_err(|e| match e {
                    igd_next::SearchError::NoResponseWithinTimeout => {
                        format!("no SSDP answer within {timeout:?}")
                    }
                    e => format!("SSDP: {e}"),
                })?;
            let url = portmap::description_url(&g);
            let device = match portmap::http_get(&url, timeout).await {
                Ok(xml) => igd::parse_description(&xml).unwrap_or_default(),
                Err(_) => Default::default(),
            };
            (g, device)
        }
    };
    let info = GatewayInfo {
        address: Some(gateway.addr.ip()),
        description_url: Some(portmap::description_url(&gateway)),
        control_url: Some(portmap::control_url(&gateway)),
        service_type: Some(gateway.service_type.clone()),
        device,
    };
    // igd-next's get_external_ip cannot tell an empty answer (no public address) from a
    // broken one, so the three status actions go through our SOAP call.
    let arg = |args: &[(String, String)], name: &str| {
        args.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    };
    let (mut external, mut no_external) = (None, false);
    if let Ok(args) = portmap::soap(&gateway, "GetExternalIPAddress", timeout).await {
        match arg(&args, "NewExternalIPAddress").as_deref().map(str::trim) {
            Some("") | None => no_external = true,
            Some(s) => external = s.parse().ok(),
        }
    }
    let mut connection = Connection::default();
    if let Ok(args) = portmap::soap(&gateway, "GetStatusInfo", timeout).await {
        connection.status = arg(&args, "NewConnectionStatus");
        connection.uptime_s = arg(&args, "NewUptime").and_then(|u| u.parse().ok());
        connection.last_error = arg(&args, "NewLastConnectionError");
    }
    if let Ok(args) = portmap::soap(&gateway, "GetConnectionTypeInfo", timeout).await {
        connection.connection_type = arg(&args, "NewConnectionType");
    }
    Ok(UpnpState {
        gateway,
        info,
        external,
        no_external,
        connection,
    })
}

/// A NAT-PMP or PCP probe's outcome.
struct PmpProbe {
    probe: Probe,
    no_external: bool,
}

fn silent(protocol: &'static str, e: &ExchangeError, took: Duration) -> PmpProbe {
    PmpProbe {
        probe: Probe {
            protocol,
            outcome: if *e == ExchangeError::Refused {
                "refused"
            } else {
                "no-answer"
            },
            ms: ms(took),
            external_address: None,
            detail: Some(e.to_string()),
        },
        no_external: false,
    }
}

fn no_gateway(protocol: &'static str) -> PmpProbe {
    PmpProbe {
        probe: Probe {
            protocol,
            outcome: "no-answer",
            ms: 0.0,
            external_address: None,
            detail: Some("no default gateway (give --gateway)".into()),
        },
        no_external: false,
    }
}

async fn probe_natpmp(
    gateway: Option<IpAddr>,
    local: Option<IpAddr>,
    timeout: Duration,
) -> PmpProbe {
    let Some(gw) = gateway else {
        return no_gateway("natpmp");
    };
    let t = Instant::now();
    let req = natpmp::natpmp_external_address_request();
    let accept = |b: &[u8]| natpmp::natpmp_decode(b, 0).is_ok();
    match portmap::exchange(
        SocketAddr::new(gw, natpmp::PORT),
        local,
        &req,
        timeout,
        accept,
    )
    .await
    {
        Ok((bytes, took)) => {
            let Ok(NatPmpResponse::ExternalAddress {
                result, address, ..
            }) = natpmp::natpmp_decode(&bytes, 0)
            else {
                unreachable!("accepted above")
            };
            PmpProbe {
                probe: Probe {
                    protocol: "natpmp",
                    outcome: if result == 0 { "answered" } else { "error" },
                    ms: ms(took),
                    external_address: (result == 0).then_some(IpAddr::V4(address)),
                    detail: Some(format!("{result} {}", natpmp::natpmp_result_name(result))),
                },
                no_external: result == 3,
            }
        }
        Err(e) => silent("natpmp", &e, t.elapsed()),
    }
}

/// A NAT-PMP or PCP mapping request for this host (an unmap when `lifetime_s` is 0).
#[derive(Debug, Clone, Copy)]
struct PmpMap {
    gateway: IpAddr,
    /// Where to send from.
    local: Option<IpAddr>,
    /// Our address as the gateway sees it (PCP's client address).
    client: IpAddr,
    protocol: MapProtocol,
    internal_port: u16,
    /// Suggested external port (0: any).
    external_port: u16,
    lifetime_s: u32,
}

/// What the gateway answered, NAT-PMP or PCP.
struct PmpAnswer {
    result: u16,
    result_name: &'static str,
    external_port: u16,
    lifetime_s: u32,
    /// PCP only: the assigned external address.
    external_address: Option<IpAddr>,
    took: Duration,
}

/// One PCP MAP exchange with `nonce` (a delete must repeat the nonce of its map, RFC 6887
/// §11.3). A NAT-PMP-only gateway's version-0 answer comes back as result 1 UNSUPP_VERSION.
async fn pcp_map(
    m: PmpMap,
    nonce: [u8; 12],
    timeout: Duration,
) -> Result<PmpAnswer, ExchangeError> {
    let req = natpmp::pcp_map_request(
        nonce,
        m.protocol,
        m.internal_port,
        m.external_port,
        m.lifetime_s,
        m.client,
    );
    // A NAT-PMP-only gateway answers version 0 (unsupported version): take that too.
    let accept = |b: &[u8]| match natpmp::pcp_decode_map(b) {
        Ok(r) => r.nonce == nonce || r.result != 0,
        Err(natpmp::DecodeError::Version(0)) => true,
        Err(_) => false,
    };
    let to = SocketAddr::new(m.gateway, natpmp::PORT);
    let (bytes, took) = portmap::exchange(to, m.local, &req, timeout, accept).await?;
    let r = natpmp::pcp_decode_map(&bytes).ok();
    let result = r.as_ref().map_or(1, |r| r.result);
    Ok(PmpAnswer {
        result: u16::from(result),
        result_name: natpmp::pcp_result_name(result),
        external_port: r.as_ref().map_or(0, |r| r.external_port),
        lifetime_s: r.as_ref().map_or(0, |r| r.lifetime_s),
        external_address: r.map(|r| r.external_address),
        took,
    })
}

/// One NAT-PMP mapping exchange (RFC 6886 §3.3).
async fn natpmp_map(m: PmpMap, timeout: Duration) -> Result<PmpAnswer, ExchangeError> {
    let req =
        natpmp::natpmp_map_request(m.protocol, m.internal_port, m.external_port, m.lifetime_s);
    let op = req[1];
    let accept = |b: &[u8]| natpmp::natpmp_decode(b, op).is_ok();
    let to = SocketAddr::new(m.gateway, natpmp::PORT);
    let (bytes, took) = portmap::exchange(to, m.local, &req, timeout, accept).await?;
    let (result, external_port, lifetime_s) = match natpmp::natpmp_decode(&bytes, op) {
        Ok(NatPmpResponse::Mapping {
            result,
            external_port,
            lifetime_s,
            ..
        }) => (result, external_port, lifetime_s),
        Ok(other) => (other.result(), 0, 0),
        Err(_) => unreachable!("accepted above"),
    };
    Ok(PmpAnswer {
        result,
        result_name: natpmp::natpmp_result_name(result),
        external_port,
        lifetime_s,
        external_address: None,
        took,
    })
}

async fn probe_pcp(gateway: Option<IpAddr>, local: Option<IpAddr>, timeout: Duration) -> PmpProbe {
    let (Some(gateway), Some(client)) = (gateway, local) else {
        return no_gateway("pcp");
    };
    let t = Instant::now();
    // A port of ours to map for the external address (held while mapped).
    let Ok(holder) = std::net::UdpSocket::bind(SocketAddr::new(client, 0)) else {
        return no_gateway("pcp");
    };
    let m = PmpMap {
        gateway,
        local,
        client,
        protocol: MapProtocol::Udp,
        internal_port: holder.local_addr().map_or(0, |a| a.port()),
        external_port: 0,
        lifetime_s: PCP_PROBE_LIFETIME_S,
    };
    let nonce: [u8; 12] = rand::random();
    match pcp_map(m, nonce, timeout).await {
        Ok(a) => {
            if a.result == 0 {
                // Delete it again at once (lifetime 0); its outcome does not matter.
                let unmap = PmpMap { lifetime_s: 0, ..m };
                let _ = pcp_map(unmap, nonce, timeout).await;
            }
            PmpProbe {
                probe: Probe {
                    protocol: "pcp",
                    outcome: if a.result == 0 { "answered" } else { "error" },
                    ms: ms(a.took),
                    external_address: a.external_address.filter(|_| a.result == 0),
                    detail: Some(format!("{} {}", a.result, a.result_name)),
                },
                no_external: matches!(a.result, 7 | 11),
            }
        }
        Err(e) => silent("pcp", &e, t.elapsed()),
    }
}

/// The address a STUN server sees for us (one Binding request).
async fn stun_address(
    server: &HostPort,
    local: Option<IpAddr>,
    global: &GlobalArgs,
    timeout: Duration,
) -> Result<IpAddr, String> {
    let port = server.port.unwrap_or(crate::stun::message::DEFAULT_PORT);
    let to = *crate::net::resolve::resolve(&server.host, port, global.family())
        .await?
        .first()
        .ok_or_else(|| format!("{server}: no address"))?;
    let tid: [u8; 12] = rand::random();
    let req = crate::stun::message::encode_binding_request(tid, &Default::default())?;
    let accept = |b: &[u8]| {
        crate::stun::message::decode(b)
            .is_ok_and(|m| m.transaction_id == tid && m.mapped().is_some())
    };
    let local = local.filter(|l| l.is_ipv4() == to.is_ipv4());
    let (bytes, _) = portmap::exchange(to, local, &req, timeout, accept)
        .await
        .map_err(|e| format!("STUN {to}: {e}"))?;
    crate::stun::message::decode(&bytes)
        .ok()
        .and_then(|m| m.mapped())
        .map(|a| a.ip())
        .ok_or_else(|| "no mapped address".into())
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
        other => (None, other.to_string()),
    }
}

fn failed(code: Option<u16>, error: String) -> ActionOutcome {
    ActionOutcome {
        ok: false,
        mapping: None,
        error_code: code,
        error: Some(error),
        notes: Vec::new(),
    }
}

/// The UPnP list (GetGenericPortMappingEntry from 0 until SpecifiedArrayIndexInvalid).
async fn upnp_list(g: &Gateway, timeout: Duration) -> Result<Vec<Mapping>, (Option<u16>, String)> {
    let mut out = Vec::new();
    for i in 0..MAX_ENTRIES {
        let entry = tokio::time::timeout(timeout, g.get_generic_port_mapping_entry(i))
            .await
            .map_err(|_| (None, format!("entry {i}: no answer within {timeout:?}")))?;
        match entry {
            Ok(e) => out.push(Mapping {
                protocol: format!("{}", e.protocol),
                external_port: e.external_port,
                internal_client: e.internal_client,
                internal_port: e.internal_port,
                lease_s: e.lease_duration,
                description: e.port_mapping_description,
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
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
async fn act(
    args: &UpnpMapArgs,
    target: Option<(MapProtocol, u16)>,
    upnp: Option<&UpnpState>,
    gateway_ip: Option<IpAddr>,
    local: Option<IpAddr>,
    timeout: Duration,
    result: &mut UpnpMapResult,
) {
    let protocol = result.protocol.unwrap_or("upnp");
    match (args.action, protocol, upnp) {
        (UpnpAction::Status, _, _) => {}
        (UpnpAction::List, "upnp", Some(s)) => match upnp_list(&s.gateway, timeout).await {
            Ok(m) => result.mappings = m,
            Err((code, e)) => result.outcome = Some(failed(code, e)),
        },
        (UpnpAction::List, _, _) => {
            result.outcome = Some(failed(
                None,
                "NAT-PMP and PCP cannot list mappings; only UPnP can".into(),
            ));
        }
        (UpnpAction::Add | UpnpAction::Delete, "upnp", Some(s)) => {
            let (proto, ext) = target.expect("checked");
            result.outcome = Some(upnp_add_delete(args, s, proto, ext, local, timeout).await);
            if let Ok(m) = upnp_list(&s.gateway, timeout).await {
                result.mappings = m;
            }
        }
        (UpnpAction::Add | UpnpAction::Delete, p, _) => {
            let (proto, ext) = target.expect("checked");
            let (Some(gw), Some(me)) = (gateway_ip, local) else {
                result.outcome = Some(failed(None, "no gateway address".into()));
                return;
            };
            if let Some(c) = args.internal_client.filter(|c| *c != me) {
                result.outcome = Some(failed(
                    None,
                    format!("{p} maps only to the host that asks ({me}), not to {c}"),
                ));
                return;
            }
            let add = args.action == UpnpAction::Add;
            let m = PmpMap {
                gateway: gw,
                local,
                client: me,
                protocol: proto,
                internal_port: args.internal_port.unwrap_or(ext),
                external_port: if add { ext } else { 0 },
                lifetime_s: if add { args.lease } else { 0 },
            };
            let outcome = pmp_action(p == "pcp", m, timeout).await;
            if let Some(m) = outcome
                .mapping
                .clone()
                .filter(|_| args.action == UpnpAction::Add)
            {
                result.mappings = vec![m];
            }
            result.outcome = Some(outcome);
        }
    }
}

async fn upnp_add_delete(
    args: &UpnpMapArgs,
    s: &UpnpState,
    proto: MapProtocol,
    ext: u16,
    local: Option<IpAddr>,
    timeout: Duration,
) -> ActionOutcome {
    let internal_port = args.internal_port.unwrap_or(ext);
    if args.action == UpnpAction::Delete {
        let r =
            tokio::time::timeout(timeout, s.gateway.remove_port(upnp_protocol(proto), ext)).await;
        return match r {
            Err(_) => failed(None, format!("no answer within {timeout:?}")),
            Ok(Ok(())) => ActionOutcome {
                ok: true,
                mapping: None,
                error_code: None,
                error: None,
                notes: Vec::new(),
            },
            Ok(Err(igd_next::RemovePortError::NoSuchPortMapping)) => {
                failed(Some(714), igd::error_name(714).into())
            }
            Ok(Err(igd_next::RemovePortError::ActionNotAuthorized)) => {
                failed(Some(606), igd::error_name(606).into())
            }
            Ok(Err(igd_next::RemovePortError::RequestError(e))) => {
                let (c, n) = request_error(&e);
                failed(c, n)
            }
        };
    }
    let Some(client) = args.internal_client.or(local) else {
        return failed(
            None,
            "no LAN address to forward to (give --internal-client)".into(),
        );
    };
    let to = SocketAddr::new(client, internal_port);
    let mut lease = args.lease;
    let mut notes = Vec::new();
    for attempt in 0..2 {
        let r = tokio::time::timeout(
            timeout,
            s.gateway
                .add_port(upnp_protocol(proto), ext, to, lease, &args.description),
        )
        .await;
        let (code, name) = match r {
            Err(_) => return failed(None, format!("no answer within {timeout:?}")),
            Ok(Ok(())) => {
                return ActionOutcome {
                    ok: true,
                    mapping: Some(Mapping {
                        protocol: proto.as_str().into(),
                        external_port: ext,
                        internal_client: client.to_string(),
                        internal_port,
                        lease_s: lease,
                        description: args.description.clone(),
                        enabled: true,
                    }),
                    error_code: None,
                    error: None,
                    notes,
                };
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
        if code == Some(725) && attempt == 0 && lease != 0 {
            notes.push(format!(
                "the gateway answered 725 OnlyPermanentLeasesSupported to a {lease} s lease; retried with lease 0 (permanent): delete the mapping when done"
            ));
            lease = 0;
            continue;
        }
        let mut f = failed(code, name);
        f.notes = notes;
        return f;
    }
    unreachable!("the loop returns")
}

/// add/delete by PCP (with the nonce derived from the mapping, so a later delete repeats
/// it) or NAT-PMP.
async fn pmp_action(pcp: bool, m: PmpMap, timeout: Duration) -> ActionOutcome {
    let answer = if pcp {
        let nonce = natpmp::pcp_mapping_nonce(m.client, m.protocol, m.internal_port);
        pcp_map(m, nonce, timeout).await
    } else {
        natpmp_map(m, timeout).await
    };
    let a = match answer {
        Err(e) => return failed(None, e.to_string()),
        Ok(a) if a.result != 0 => return failed(Some(a.result), a.result_name.into()),
        Ok(a) => a,
    };
    let mut notes = Vec::new();
    if m.external_port != 0 && a.external_port != m.external_port {
        notes.push(format!(
            "the gateway gave external port {}, not the {} asked for",
            a.external_port, m.external_port
        ));
    }
    ActionOutcome {
        ok: true,
        mapping: (a.lifetime_s > 0).then(|| Mapping {
            protocol: m.protocol.as_str().into(),
            external_port: a.external_port,
            internal_client: m.client.to_string(),
            internal_port: m.internal_port,
            lease_s: a.lifetime_s,
            description: String::new(),
            enabled: true,
        }),
        error_code: None,
        error: None,
        notes,
    }
}
