//! `voipdiag upnp-map`: ask the gateway with UPnP IGD, NAT-PMP and PCP (concurrently with
//! `--protocol auto`), show what it says, list/add/delete a mapping with the first that
//! answered, and tell whether a mapping there can help (double NAT, `--stun`).
//!
//! NAT-PMP and PCP are [`PortMapExchange`] machines and `--stun` a [`BindingClient`], each
//! run by the driver; UPnP goes through igd-next (`net::upnp`).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::{CommandError, Env};
use crate::cli::{GatewayProtocol, GlobalArgs, HostPort, UpnpAction, UpnpMapArgs};
use crate::net::driver::{self, Socket};
use crate::net::upnp::{self, MapRequest, UpnpState};
use crate::report::upnp_map::{
    Action, GatewayInfo, GatewayProbe, ProbeOutcome, Protocol, UpnpMapResult, double_nat, findings,
    status,
};
use crate::report::{Report, ms};
use crate::stun::binding::{BindingClient, CheckOutcome};
use crate::upnp::exchange::{ExchangeError, PortMapExchange};
use crate::upnp::pmp::{self, PmpMap};
use crate::upnp::{ActionOutcome, MapProtocol, PORT, pcp};

/// PCP has no external-address request: `status` maps a UDP port of ours for this long and
/// deletes it at once (RFC 6887 §15).
const PCP_PROBE_LIFETIME_S: u32 = 120;

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

fn action(a: UpnpAction) -> Action {
    match a {
        UpnpAction::Status => Action::Status,
        UpnpAction::List => Action::List,
        UpnpAction::Add => Action::Add,
        UpnpAction::Delete => Action::Delete,
    }
}

/// Runs one NAT-PMP/PCP exchange from `local` (any address of the gateway's family when
/// `None`) over the driver.
async fn exchange<T>(
    mut x: PortMapExchange<T>,
    local: Option<IpAddr>,
    gateway: IpAddr,
    env: &Env,
) -> Result<(T, Duration), ExchangeError> {
    let ip = local.unwrap_or(crate::addr::Family::of(gateway).unspecified());
    let socket =
        driver::bind_udp(SocketAddr::new(ip, 0)).map_err(|e| ExchangeError::Io(e.to_string()))?;
    driver::run(&mut x, vec![Socket::Udp(socket)], env.options(), |_, ()| {}).await;
    x.into_outcome()
}

/// Runs `upnp-map`.
///
/// # Errors
/// Usage errors (PROTO/PORT with status or list, a bad --interface); nothing else: silent
/// gateways and refusals are part of the report.
pub async fn run(
    global: &GlobalArgs,
    args: &UpnpMapArgs,
) -> Result<Report<UpnpMapResult>, CommandError> {
    let env = Env::new(global);
    let target = args.target().map_err(CommandError::Usage)?;
    let gateway_ip = match &args.gateway {
        Some(g) => g.ip(),
        None => upnp::default_gateway().map(IpAddr::V4),
    };
    let local = match (&args.local, &args.interface) {
        (Some(ip), _) => Some(*ip),
        (None, Some(name)) => Some(interface_address(name)?),
        _ => gateway_ip.and_then(|g| driver::route_source(SocketAddr::new(g, PORT)).ok()),
    };
    let timeout = global.timeout;
    let mut result = UpnpMapResult {
        action: action(args.action),
        local_address: local,
        timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        ..Default::default()
    };
    let want = |p: GatewayProtocol| args.protocol == GatewayProtocol::Auto || args.protocol == p;
    let mut rng = env.rng();
    let pcp_nonce = crate::stun::transaction::new_transaction_id(&mut rng);
    let stun_rng = StdRng::from_rng(&mut rng);
    let work = async {
        let upnp = async {
            if !want(GatewayProtocol::Upnp) {
                return None;
            }
            let t = env.now();
            let r = upnp::probe(args.gateway.as_ref(), gateway_ip, local, timeout).await;
            Some((r, env.now() - t))
        };
        let nat_pmp = async {
            want(GatewayProtocol::Natpmp).then_some(())?;
            Some(probe_natpmp(gateway_ip, local, timeout, &env).await)
        };
        let pcp = async {
            want(GatewayProtocol::Pcp).then_some(())?;
            Some(probe_pcp(gateway_ip, local, timeout, pcp_nonce, &env).await)
        };
        let stun = async {
            let s = args.stun.as_ref()?;
            Some(stun_address(s, local, global, timeout, stun_rng, &env).await)
        };
        futures_util::future::join4(upnp, nat_pmp, pcp, stun).await
    };
    let mut interrupt = env.interrupt.clone();
    let (upnp_probe, nat_pmp, pcp_probe, stun) = tokio::select! {
        r = work => r,
        () = interrupt.pressed() => {
            result.interrupted = true;
            (None, None, None, None)
        }
    };
    let mut upnp_state = None;
    if let Some((r, took)) = upnp_probe {
        let (outcome, external_address, detail) = match &r {
            Ok(s) => (
                ProbeOutcome::Answered,
                s.external,
                s.info.device.friendly_name.clone(),
            ),
            Err(e) => (ProbeOutcome::NoAnswer, None, Some(e.clone())),
        };
        result.probes.push(GatewayProbe {
            protocol: Protocol::Upnp,
            outcome,
            ms: ms(took),
            external_address,
            detail,
        });
        upnp_state = r.ok();
    }
    for (probe, no_external) in [nat_pmp, pcp_probe].into_iter().flatten() {
        result.probes.push(probe);
        result.no_external_address |= no_external;
    }
    result.answered = result
        .probes
        .iter()
        .filter(|p| matches!(p.outcome, ProbeOutcome::Answered | ProbeOutcome::Error))
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
        result.no_external_address |= s.no_external;
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
    // The protocol used for the action: UPnP, else PCP, else NAT-PMP.
    result.protocol = [Protocol::Upnp, Protocol::Pcp, Protocol::Natpmp]
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
            &env,
        )
        .await;
    }
    result.double_nat = double_nat(&result);
    let found = findings(&result);
    let st = status(&result);
    Ok(env.report("upnp-map", st, found, result))
}

fn silent(protocol: Protocol, e: &ExchangeError, took: Duration) -> (GatewayProbe, bool) {
    let outcome = if *e == ExchangeError::Refused {
        ProbeOutcome::Refused
    } else {
        ProbeOutcome::NoAnswer
    };
    let probe = GatewayProbe {
        protocol,
        outcome,
        ms: ms(took),
        external_address: None,
        detail: Some(e.to_string()),
    };
    (probe, false)
}

fn no_gateway(protocol: Protocol) -> (GatewayProbe, bool) {
    let probe = GatewayProbe {
        protocol,
        outcome: ProbeOutcome::NoAnswer,
        ms: 0.0,
        external_address: None,
        detail: Some("no default gateway (give --gateway)".into()),
    };
    (probe, false)
}

/// NAT-PMP's external address request: the probe and whether the gateway said it has no
/// external address (result 3, Network Failure).
async fn probe_natpmp(
    gateway: Option<IpAddr>,
    local: Option<IpAddr>,
    timeout: Duration,
    env: &Env,
) -> (GatewayProbe, bool) {
    let Some(gw) = gateway else {
        return no_gateway(Protocol::Natpmp);
    };
    let t = env.now();
    let x = pmp::natpmp_external_address(gw, t, timeout);
    match exchange(x, local, gw, env).await {
        Ok((r, took)) => {
            let result = r.result();
            let probe = GatewayProbe {
                protocol: Protocol::Natpmp,
                outcome: if result == 0 {
                    ProbeOutcome::Answered
                } else {
                    ProbeOutcome::Error
                },
                ms: ms(took),
                external_address: pmp::external_address(&r).map(IpAddr::V4),
                detail: Some(format!(
                    "{result} {}",
                    crate::upnp::natpmp::natpmp_result_name(result)
                )),
            };
            (probe, result == 3)
        }
        Err(e) => silent(Protocol::Natpmp, &e, env.now() - t),
    }
}

/// PCP's probe: map a UDP port of ours (held while mapped) and delete the mapping at once.
async fn probe_pcp(
    gateway: Option<IpAddr>,
    local: Option<IpAddr>,
    timeout: Duration,
    nonce: [u8; 12],
    env: &Env,
) -> (GatewayProbe, bool) {
    let (Some(gateway), Some(client)) = (gateway, local) else {
        return no_gateway(Protocol::Pcp);
    };
    let t = env.now();
    let Ok(holder) = std::net::UdpSocket::bind(SocketAddr::new(client, 0)) else {
        return no_gateway(Protocol::Pcp);
    };
    let m = PmpMap {
        gateway,
        client,
        protocol: MapProtocol::Udp,
        internal_port: holder.local_addr().map_or(0, |a| a.port()),
        external_port: 0,
        lifetime_s: PCP_PROBE_LIFETIME_S,
    };
    match exchange(pmp::pcp_map(m, nonce, t, timeout), local, gateway, env).await {
        Ok((a, took)) => {
            if a.result == 0 {
                // Delete it again at once (lifetime 0); its outcome does not matter.
                let unmap = PmpMap { lifetime_s: 0, ..m };
                let x = pmp::pcp_map(unmap, nonce, env.now(), timeout);
                let _ = exchange(x, local, gateway, env).await;
            }
            let probe = GatewayProbe {
                protocol: Protocol::Pcp,
                outcome: if a.result == 0 {
                    ProbeOutcome::Answered
                } else {
                    ProbeOutcome::Error
                },
                ms: ms(took),
                external_address: a.external_address.filter(|_| a.result == 0),
                detail: Some(format!("{} {}", a.result, a.result_name)),
            };
            (probe, matches!(a.result, 7 | 11))
        }
        Err(e) => silent(Protocol::Pcp, &e, env.now() - t),
    }
}

/// The address a STUN server sees for us (one Binding check).
async fn stun_address(
    server: &HostPort,
    local: Option<IpAddr>,
    global: &GlobalArgs,
    timeout: Duration,
    rng: StdRng,
    env: &Env,
) -> Result<IpAddr, String> {
    let port = server.port.unwrap_or(crate::stun::message::DEFAULT_PORT);
    let to = *crate::net::resolve::resolve(&server.host, port, global.family())
        .await?
        .first()
        .ok_or_else(|| format!("{server}: no address"))?;
    let local = local.filter(|l| l.is_ipv4() == to.is_ipv4());
    let bind = SocketAddr::new(
        local.unwrap_or(crate::addr::Family::of(to.ip()).unspecified()),
        0,
    );
    let socket = driver::bind_udp(bind).map_err(|e| format!("STUN {to}: {e}"))?;
    let local = socket.local_addr().map_err(|e| e.to_string())?;
    let rto = crate::stun::retransmit::DEFAULT_RTO;
    let mut client = BindingClient::new(env.now(), timeout, rto, None, rng);
    client.add_udp(0, local, to);
    driver::run(
        &mut client,
        vec![Socket::Udp(socket)],
        env.options(),
        |_, _| {},
    )
    .await;
    match &client.checks()[0].outcome {
        CheckOutcome::Answered { message, .. } => message
            .mapped()
            .map(|a| a.ip())
            .ok_or_else(|| "no mapped address".into()),
        CheckOutcome::Timeout => Err(format!("STUN {to}: no answer within {timeout:?}")),
        CheckOutcome::Refused(_) => Err(format!(
            "STUN {to}: port unreachable (nothing listens there)"
        )),
        CheckOutcome::Failed(e) => Err(format!("STUN {to}: {e}")),
        CheckOutcome::Pending | CheckOutcome::Cancelled => Err(format!("STUN {to}: interrupted")),
    }
}

#[allow(clippy::too_many_arguments)]
async fn act(
    args: &UpnpMapArgs,
    target: Option<(MapProtocol, u16)>,
    upnp_state: Option<&UpnpState>,
    gateway_ip: Option<IpAddr>,
    local: Option<IpAddr>,
    timeout: Duration,
    result: &mut UpnpMapResult,
    env: &Env,
) {
    let protocol = result.protocol.unwrap_or(Protocol::Upnp);
    let Some((proto, ext)) = target else {
        if args.action != UpnpAction::List {
            return;
        }
        match (protocol, upnp_state) {
            (Protocol::Upnp, Some(s)) => match upnp::list(&s.gateway, timeout).await {
                Ok(m) => result.mappings = m,
                Err((code, e)) => result.outcome = Some(ActionOutcome::failed(code, e)),
            },
            _ => {
                result.outcome = Some(ActionOutcome::failed(
                    None,
                    "NAT-PMP and PCP cannot list mappings; only UPnP can".into(),
                ));
            }
        }
        return;
    };
    let add = args.action == UpnpAction::Add;
    let internal_port = args.internal_port.unwrap_or(ext);
    if let (Protocol::Upnp, Some(s)) = (protocol, upnp_state) {
        let request = MapRequest {
            add,
            protocol: proto,
            external_port: ext,
            internal_port,
            internal_client: args.internal_client.or(local),
            lease_s: args.lease,
            description: args.description.clone(),
        };
        result.outcome = Some(upnp::add_delete(&s.gateway, &request, timeout).await);
        if let Ok(m) = upnp::list(&s.gateway, timeout).await {
            result.mappings = m;
        }
        return;
    }
    let (Some(gw), Some(me)) = (gateway_ip, local) else {
        result.outcome = Some(ActionOutcome::failed(None, "no gateway address".into()));
        return;
    };
    if let Some(c) = args.internal_client.filter(|c| *c != me) {
        result.outcome = Some(ActionOutcome::failed(
            None,
            format!("{protocol} maps only to the host that asks ({me}), not to {c}"),
        ));
        return;
    }
    let m = PmpMap {
        gateway: gw,
        client: me,
        protocol: proto,
        internal_port,
        external_port: if add { ext } else { 0 },
        lifetime_s: if add { args.lease } else { 0 },
    };
    let start = env.now();
    let x = if protocol == Protocol::Pcp {
        let nonce = pcp::pcp_mapping_nonce(m.client, m.protocol, m.internal_port);
        pmp::pcp_map(m, nonce, start, timeout)
    } else {
        pmp::natpmp_map(m, start, timeout)
    };
    let answer = exchange(x, local, gw, env).await.map(|(a, _)| a);
    let outcome = pmp::action_outcome(&m, answer);
    if let Some(mapping) = outcome.mapping.clone().filter(|_| add) {
        result.mappings = vec![mapping];
    }
    result.outcome = Some(outcome);
}
