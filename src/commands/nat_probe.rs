//! `voipdiag nat-probe`: resolve the servers, bind the sockets, run the RFC 5780 discovery
//! (with STUN over TCP beside it, to tell "UDP blocked" from "server down") or the TCP
//! Binding checks alone over the driver, and build the report.

use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::{CommandError, Env};
use crate::addr::{Family, HostPort};
use crate::cli::{GlobalArgs, NatProbeArgs};
use crate::machine::Frame;
use crate::net::driver::{self, ConnectSpec, Socket};
use crate::net::{Traced, Tracer};
use crate::report::nat_probe::turn::RelayVerdict;
use crate::report::nat_probe::{NatProbeResult, ResolvedServer, findings, status};
use crate::report::{ms, trace};
use crate::stun::StunTransport;
use crate::stun::binding::BindingClient;
use crate::stun::discovery::{DiscoveryConfig, NatBehaviorDiscovery};
use crate::stun::message::{self, DEFAULT_PORT};
use crate::stun::turn::uri::TurnTransport;

/// Public STUN servers used when no `--server` is given; the first supports RFC 5780.
pub const DEFAULT_SERVERS: &[&str] = &[
    "stun.stunprotocol.org:3478",
    "stun.l.google.com:19302",
    "stun.cloudflare.com:3478",
];

/// Lower bound of the wait for silence (filtering, hairpinning, lifetime checks).
const MIN_SILENCE: Duration = Duration::from_millis(80);

/// STUN over a stream is framed by its length field (RFC 8489 §6.2.2).
fn stun_framer(buf: &[u8]) -> Result<Frame, String> {
    Ok(message::stream_frame_len(buf).map_or(Frame::Incomplete, Frame::Message))
}

fn software() -> String {
    format!("voipdiag {}", env!("CARGO_PKG_VERSION"))
}

/// Runs the probe and returns its report.
///
/// # Errors
/// `--local` of the other family than `-4`/`-6`, or a local address that cannot be bound
/// (usage); no route to the first server (internal).
pub async fn run(global: &GlobalArgs, args: &NatProbeArgs) -> Result<Report, CommandError> {
    let env = Env::new(global);
    let mut family = global.family();
    if let Some(l) = args.local {
        let lf = Family::of(l.ip);
        if family != Family::Any && family != lf {
            return Err(CommandError::Usage(format!(
                "--local {} does not match the address family chosen with -4/-6",
                l.ip
            )));
        }
        family = lf;
    }
    let turn_targets = super::nat_probe_turn::targets(&args.turn, &env)?;
    if args.turn.turn_only && turn_targets.is_empty() {
        return Err(CommandError::Usage(
            "--turn-only needs a TURN server: --turn URI or --ice-servers FILE".into(),
        ));
    }
    let given: Vec<HostPort> = if !args.servers.is_empty() {
        args.servers.clone()
    } else if let Some(t) = turn_targets.first() {
        // Without --server the TURN host is also the STUN server (on the STUN port when
        // the URI is turns:).
        let port = match t.uri.transport {
            TurnTransport::Tls => DEFAULT_PORT,
            _ => t.uri.port,
        };
        match format!("{}:{port}", bracket(&t.uri.host)).parse() {
            Ok(hp) => vec![hp],
            Err(_) => Vec::new(),
        }
    } else {
        DEFAULT_SERVERS
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect()
    };
    if args.turn.turn_only {
        let mut result = NatProbeResult::empty(&[], StunTransport::Udp);
        result.nat_tested = false;
        return finish(global, args, &env, result, &turn_targets).await;
    }
    let resolved = resolve_all(&given, family).await;
    // All probe sockets share one family: that of the first server that resolved.
    let family = match (
        family,
        resolved.iter().find_map(|t| t.address.as_ref().ok()),
    ) {
        (Family::Any, Some(a)) => Family::of(a.ip()),
        (f, _) => f,
    };
    let servers: Vec<SocketAddr> = resolved
        .iter()
        .filter_map(|t| t.address.as_ref().ok().copied())
        .filter(|a| family.accepts(a))
        .collect();
    let options = driver::Options {
        tracer: stun_tracer(global.verbose),
        interrupt: &env.interrupt,
        precise: false,
    };
    let progress =
        (!global.json && std::io::stderr().is_terminal() && global.verbose == 0).then(|| {
            let pb = indicatif::ProgressBar::new_spinner();
            pb.set_message(format!(
                "probing NAT behaviour via {} STUN server(s)…",
                servers.len()
            ));
            pb.enable_steady_tick(Duration::from_millis(100));
            pb
        });
    let ips = local_ips();
    let result = if servers.is_empty() {
        NatProbeResult::empty(&resolved, StunTransport::Udp)
    } else if StunTransport::from(args.transport) == StunTransport::Tcp {
        let mut client = BindingClient::new(
            env.now(),
            global.timeout,
            crate::stun::retransmit::DEFAULT_RTO,
            Some(software()),
            env.rng(),
        );
        let local = args.local.map(|l| SocketAddr::new(l.ip, 0));
        let sockets = servers
            .iter()
            .enumerate()
            .map(|(i, s)| {
                client.add_stream(i, *s);
                Socket::Connect(ConnectSpec {
                    peer: *s,
                    local,
                    tls: None,
                    framer: stun_framer,
                })
            })
            .collect();
        let end = driver::run(&mut client, sockets, options, |_, _| {}).await;
        failed(&end)?;
        NatProbeResult::from_tcp_checks(&resolved, client.checks(), &ips)
    } else {
        let local_ip = match args.local {
            Some(l) => l.ip,
            None => driver::route_source(servers[0]).map_err(|e| {
                CommandError::Internal(anyhow::anyhow!("no route to {}: {e}", servers[0]))
            })?,
        };
        let mut d = discovery(args, global, &servers, &env, ips.clone());
        let mut sockets = bind(&mut d, args, local_ip)?;
        for (_, server) in d.tcp_sockets() {
            sockets.push(Socket::Connect(ConnectSpec {
                peer: server,
                local: Some(SocketAddr::new(local_ip, 0)),
                tls: None,
                framer: stun_framer,
            }));
        }
        let end = driver::run(&mut d, sockets, options, |_, ()| {}).await;
        failed(&end)?;
        NatProbeResult::from_discovery(&resolved, &d, &ips)
    };
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    finish(global, args, &env, result, &turn_targets).await
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// Runs the TURN tests (if any) and builds the report.
async fn finish(
    global: &GlobalArgs,
    args: &NatProbeArgs,
    env: &Env,
    mut result: NatProbeResult,
    turn_targets: &[super::nat_probe_turn::Target],
) -> Result<Report, CommandError> {
    if !turn_targets.is_empty() && !env.interrupt.is_set() {
        let progress = (!global.json && std::io::stderr().is_terminal() && global.verbose == 0)
            .then(|| {
                let pb = indicatif::ProgressBar::new_spinner();
                pb.set_message(format!("testing {} TURN relay(s)…", turn_targets.len()));
                pb.enable_steady_tick(Duration::from_millis(100));
                pb
            });
        result.turn = super::nat_probe_turn::run(global, &args.turn, env, turn_targets).await?;
        if let Some(pb) = progress {
            pb.finish_and_clear();
        }
    }
    result.interrupted |= env.interrupt.is_set();
    result.relay_verdict = RelayVerdict::of(&result.turn);
    result.probe_ms = ms(env.now().saturating_duration_since(env.t0));
    let found = findings(&result);
    let st = status(&result, &found);
    Ok(env.report("nat-probe", st, found, result))
}

/// The `-v` trace hook of STUN and TURN: one line per message, with `-vv` a hex dump
/// (MESSAGE-INTEGRITY masked).
pub(crate) fn stun_tracer(verbose: u8) -> Option<Tracer<'static>> {
    fn one_line(t: &Traced<'_>) {
        eprintln!("{}", trace::stun_line(t, 1));
    }
    fn with_hex(t: &Traced<'_>) {
        eprintln!("{}", trace::stun_line(t, 2));
    }
    match verbose {
        0 => None,
        1 => Some(&one_line),
        _ => Some(&with_hex),
    }
}

/// A machine that failed is an internal error (exit 4), never a crash.
fn failed(end: &driver::End) -> Result<(), CommandError> {
    end.failure()
        .map_or(Ok(()), |f| Err(CommandError::Internal(anyhow::anyhow!(f))))
}

/// The report of nat-probe.
pub type Report = crate::report::Report<NatProbeResult>;

/// The discovery machine for `servers`, STUN over TCP beside it.
fn discovery(
    args: &NatProbeArgs,
    global: &GlobalArgs,
    servers: &[SocketAddr],
    env: &Env,
    local_ips: Vec<IpAddr>,
) -> NatBehaviorDiscovery {
    let config = DiscoveryConfig {
        servers: servers.to_vec(),
        timeout: global.timeout,
        initial_rto: crate::stun::retransmit::DEFAULT_RTO,
        min_silence: MIN_SILENCE,
        hairpinning: !args.no_hairpinning,
        lifetime_max: args.lifetime.then_some(args.lifetime_max),
        software: Some(software()),
        local_ips,
        tcp_checks: true,
    };
    NatBehaviorDiscovery::new(config, env.now(), env.rng())
}

/// Binds the discovery's UDP sockets on `ip` (the first on `--local`'s port) and tells the
/// machine their addresses.
fn bind(
    d: &mut NatBehaviorDiscovery,
    args: &NatProbeArgs,
    ip: IpAddr,
) -> Result<Vec<Socket>, CommandError> {
    let sockets = driver::bind_udp_sockets(ip, args.local.map_or(0, |l| l.port), d.socket_count())
        .map_err(|e| {
            if matches!(
                e.kind(),
                std::io::ErrorKind::AddrNotAvailable | std::io::ErrorKind::AddrInUse
            ) {
                CommandError::Usage(format!("cannot bind {ip}: {e}"))
            } else {
                CommandError::Internal(anyhow::anyhow!("cannot bind UDP sockets on {ip}: {e}"))
            }
        })?;
    for (i, s) in sockets.iter().enumerate() {
        if let Ok(a) = s.local_addr() {
            d.set_local_addr(i, a);
        }
    }
    Ok(sockets.into_iter().map(Socket::Udp).collect())
}

async fn resolve_all(given: &[HostPort], family: Family) -> Vec<ResolvedServer> {
    let handles: Vec<_> = given
        .iter()
        .map(|hp| {
            let hp = hp.clone();
            tokio::spawn(async move {
                let address =
                    crate::net::resolve::resolve(&hp.host, hp.port.unwrap_or(DEFAULT_PORT), family)
                        .await
                        .map(|v| v[0]);
                ResolvedServer { given: hp, address }
            })
        })
        .collect();
    let mut out = Vec::with_capacity(handles.len());
    for (h, hp) in handles.into_iter().zip(given) {
        out.push(h.await.unwrap_or_else(|e| ResolvedServer {
            given: hp.clone(),
            address: Err(e.to_string()),
        }));
    }
    out
}

fn local_ips() -> Vec<IpAddr> {
    let mut out = Vec::new();
    if let Ok(addrs) = nix::ifaddrs::getifaddrs() {
        for ifa in addrs {
            if let Some(a) = ifa.address {
                if let Some(v4) = a.as_sockaddr_in() {
                    out.push(IpAddr::V4(v4.ip()));
                } else if let Some(v6) = a.as_sockaddr_in6() {
                    out.push(IpAddr::V6(v6.ip()));
                }
            }
        }
    }
    out
}
