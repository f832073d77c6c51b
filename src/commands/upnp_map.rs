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
use crate::report::Report;
use crate::report::upnp_map::{
    GatewayProbe, Protocol, UpnpMapResult, double_nat, findings, status, stun_answer,
};
use crate::stun::binding::BindingClient;
use crate::upnp::exchange::{ExchangeError, PortMapExchange};
use crate::upnp::pmp::{self, PmpMap};
use crate::upnp::{ActionOutcome, MapProtocol, PORT, pcp};

/// PCP has no external-address request: `status` maps a UDP port of ours for this long and
/// deletes it at once (RFC 6887 §15).
const PCP_PROBE_LIFETIME_S: u32 = 120;

/// The `-v` trace hook of NAT-PMP and PCP: one line per datagram, with `-vv` a hex dump.
fn port_map_tracer(verbose: u8) -> Option<crate::net::Tracer<'static>> {
    fn one_line(t: &crate::machine::Traced<'_>) {
        eprintln!("{}", crate::report::trace::port_map_line(t, 1));
    }
    fn with_hex(t: &crate::machine::Traced<'_>) {
        eprintln!("{}", crate::report::trace::port_map_line(t, 2));
    }
    match verbose {
        0 => None,
        1 => Some(&one_line),
        _ => Some(&with_hex),
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
    let options = env.options_traced(port_map_tracer(env.verbose));
    let end = driver::run(&mut x, vec![Socket::Udp(socket)], options, |_, ()| {}).await;
    if let Some(f) = end.failure() {
        return Err(ExchangeError::Io(f));
    }
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
        (None, Some(name)) => Some(
            upnp::interface_ipv4(name)
                .map_err(|e| CommandError::Usage(format!("--interface {name}: {e}")))?,
        ),
        _ => gateway_ip.and_then(|g| driver::route_source(SocketAddr::new(g, PORT)).ok()),
    };
    let timeout = global.timeout;
    let mut result = UpnpMapResult {
        action: args.action.into(),
        gateway_address: gateway_ip,
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
        let answer = r
            .as_ref()
            .map(|s| (s.external, s.info.device.friendly_name.clone()))
            .map_err(Clone::clone);
        result.probes.push(GatewayProbe::upnp(answer, took));
        upnp_state = r.ok();
    }
    for (probe, no_external) in [nat_pmp, pcp_probe].into_iter().flatten() {
        result.probes.push(probe);
        result.no_external_address |= no_external;
    }
    match stun {
        Some(Ok(ip)) => result.stun_address = Some(ip),
        Some(Err(e)) => result.stun_error = Some(e),
        None => {}
    }
    result.control_error = upnp_state.as_ref().and_then(|s| s.control_error.clone());
    let upnp_facts = upnp_state
        .as_ref()
        .map(|s| (&s.info, &s.connection, s.external, s.no_external));
    result.conclude(gateway_ip, upnp_facts);
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

/// NAT-PMP's external address request: the probe and whether the gateway said it has no
/// external address (result 3, Network Failure).
async fn probe_natpmp(
    gateway: Option<IpAddr>,
    local: Option<IpAddr>,
    timeout: Duration,
    env: &Env,
) -> (GatewayProbe, bool) {
    let Some(gw) = gateway else {
        return (GatewayProbe::no_gateway(Protocol::Natpmp), false);
    };
    let t = env.now();
    let x = pmp::natpmp_external_address(gw, t, timeout);
    match exchange(x, local, gw, env).await {
        Ok((r, took)) => {
            let code = r.result();
            let name = crate::upnp::natpmp::natpmp_result_name(code);
            let external = pmp::external_address(&r).map(IpAddr::V4);
            let probe = GatewayProbe::answered(Protocol::Natpmp, code, name, external, took);
            // Result 3 (Network Failure) or success with 0.0.0.0: no external address yet.
            (probe, code == 3 || (code == 0 && external.is_none()))
        }
        Err(e) => (
            GatewayProbe::failed(Protocol::Natpmp, &e, env.now() - t),
            false,
        ),
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
    let none = || (GatewayProbe::no_gateway(Protocol::Pcp), false);
    let (Some(gateway), Some(client)) = (gateway, local) else {
        return none();
    };
    let t = env.now();
    let Ok(holder) = std::net::UdpSocket::bind(SocketAddr::new(client, 0)) else {
        return none();
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
            let probe = GatewayProbe::answered(
                Protocol::Pcp,
                a.result,
                a.result_name,
                a.external_address,
                took,
            );
            (probe, matches!(a.result, 7 | 11))
        }
        Err(e) => (
            GatewayProbe::failed(Protocol::Pcp, &e, env.now() - t),
            false,
        ),
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
    let end = driver::run(
        &mut client,
        vec![Socket::Udp(socket)],
        env.options_traced(super::nat_probe::stun_tracer(env.verbose)),
        |_, _| {},
    )
    .await;
    if let Some(f) = end.failure() {
        return Err(f);
    }
    stun_answer(&client.checks()[0].outcome, to, timeout)
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
                Ok(l) => {
                    result.mappings = l.mappings;
                    result.list_notes = l.notes;
                }
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
        if let Ok(l) = upnp::list(&s.gateway, timeout).await {
            result.mappings = l.mappings;
            result.list_notes = l.notes;
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
