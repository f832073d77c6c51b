//! `voipdiag nat-probe`: resolve servers, bind sockets, drive the RFC 5780 probe (plus STUN
//! over TCP to tell "UDP blocked" from "server down"), and build the report.

use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc;

use super::CommandError;
use crate::cli::{GlobalArgs, HostPort, NatProbeArgs, Transport};
use crate::net::resolve::{Family, resolve};
use crate::net::tcp::{TcpError, TcpExchange, exchange};
use crate::net::udp::{DatagramMachine, DriveEnd, bind_sockets, drive, route_source};
use crate::net::{Direction, Tracer};
use crate::report::nat_probe::{
    NatProbeResult, ServerReport, TestReport, TestRequest, TestResponse, findings, status,
};
use crate::report::{Report, ms};
use crate::stun::behavior::{FilteringBehavior, MappingBehavior, classic_type, is_own_address};
use crate::stun::message::{self, BindingRequest, decode, encode_binding_request, tid_hex};
use crate::stun::probe::{Outcome, Probe, ProbeConfig, Test};

/// Public STUN servers used when no `--server` is given; the first supports RFC 5780.
pub const DEFAULT_SERVERS: &[&str] = &[
    "stun.stunprotocol.org:3478",
    "stun.l.google.com:19302",
    "stun.cloudflare.com:3478",
];

/// Lower bound of the wait for silence (filtering, hairpinning, lifetime checks).
const MIN_SILENCE: Duration = Duration::from_millis(80);

impl DatagramMachine for Probe {
    fn poll_transmit(&mut self) -> Option<(usize, SocketAddr, Vec<u8>)> {
        Probe::poll_transmit(self).map(|t| (t.socket, t.destination, t.payload))
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Probe::poll_timeout(self)
    }
    fn handle_timeout(&mut self, now: Instant) {
        Probe::handle_timeout(self, now);
    }
    fn handle_datagram(&mut self, now: Instant, socket: usize, from: SocketAddr, data: &[u8]) {
        Probe::handle_datagram(self, now, socket, from, data);
    }
    fn handle_unreachable(&mut self, now: Instant, socket: usize, dest: SocketAddr, reason: &str) {
        Probe::handle_unreachable(self, now, socket, dest, reason);
    }
    fn is_done(&self) -> bool {
        Probe::is_done(self)
    }
    fn interrupt(&mut self) {
        Probe::interrupt(self);
    }
}

struct Target {
    given: HostPort,
    address: Result<SocketAddr, String>,
}

/// Runs the probe and returns its report.
pub async fn run(
    global: &GlobalArgs,
    args: &NatProbeArgs,
) -> Result<Report<NatProbeResult>, CommandError> {
    let started_at = SystemTime::now();
    let t0 = Instant::now();
    let mut family = global.family();
    if let Some(l) = args.local {
        let lf = if l.ip.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        };
        if family != Family::Any && family != lf {
            return Err(CommandError::Usage(format!(
                "--local {} does not match the address family chosen with -4/-6",
                l.ip
            )));
        }
        family = lf;
    }
    let given: Vec<HostPort> = if args.servers.is_empty() {
        DEFAULT_SERVERS
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect()
    } else {
        args.servers.clone()
    };
    let targets = resolve_all(&given, family).await;
    // All probe sockets share one family: that of the first server that resolved.
    let family = match (family, targets.iter().find_map(|t| t.address.as_ref().ok())) {
        (Family::Any, Some(a)) if a.is_ipv6() => Family::V6,
        (Family::Any, Some(_)) => Family::V4,
        (f, _) => f,
    };
    let servers: Vec<SocketAddr> = targets
        .iter()
        .filter_map(|t| t.address.as_ref().ok().copied())
        .filter(|a| family.accepts(a))
        .collect();

    let verbose = global.verbose;
    let trace = move |dir: Direction, local: SocketAddr, remote: SocketAddr, bytes: &[u8]| {
        eprintln!("{}", trace_line(dir, local, remote, bytes, verbose, "udp"));
    };
    let tracer: Option<Tracer<'_>> = (verbose > 0).then_some(&trace as Tracer<'_>);
    let progress = (!global.json && std::io::stderr().is_terminal() && verbose == 0).then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_message(format!(
            "probing NAT behaviour via {} STUN server(s)…",
            servers.len()
        ));
        pb.enable_steady_tick(Duration::from_millis(100));
        pb
    });

    let mut result = if servers.is_empty() {
        empty_result(&targets, "udp")
    } else if args.transport == Transport::Tcp {
        probe_tcp(&targets, &servers, args, global.timeout, tracer).await?
    } else {
        probe_udp(&targets, &servers, args, global.timeout, tracer, verbose).await?
    };
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    result.probe_ms = ms(t0.elapsed());
    let found = findings(&result);
    let st = status(&result, &found);
    Ok(Report::new(
        "nat-probe",
        started_at,
        t0.elapsed(),
        st,
        found,
        result,
    ))
}

async fn resolve_all(given: &[HostPort], family: Family) -> Vec<Target> {
    let handles: Vec<_> = given
        .iter()
        .map(|hp| {
            let hp = hp.clone();
            tokio::spawn(async move {
                let address = resolve(
                    &hp.host,
                    hp.port.unwrap_or(crate::stun::message::DEFAULT_PORT),
                    family,
                )
                .await
                .map(|v| v[0]);
                Target { given: hp, address }
            })
        })
        .collect();
    let mut targets = Vec::with_capacity(handles.len());
    for (h, hp) in handles.into_iter().zip(given) {
        targets.push(h.await.unwrap_or_else(|e| Target {
            given: hp.clone(),
            address: Err(e.to_string()),
        }));
    }
    targets
}

/// One `-v` trace line: direction, addresses, the decoded STUN message; `-vv` adds hex.
fn trace_line(
    dir: Direction,
    local: SocketAddr,
    remote: SocketAddr,
    bytes: &[u8],
    verbose: u8,
    transport: &str,
) -> String {
    let arrow = match dir {
        Direction::Sent => "→",
        Direction::Received => "←",
    };
    let text = match decode(bytes) {
        Ok(m) => m.to_string(),
        Err(e) => format!("{} bytes, not accepted: {e}", bytes.len()),
    };
    let mut line = format!("{local} {arrow} {remote} ({transport})  {text}");
    if verbose > 1 {
        for chunk in bytes.chunks(16) {
            line.push_str("\n    ");
            line.push_str(
                &chunk
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
    }
    line
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

fn stun_tcp_request(seed: u64) -> ([u8; 12], Vec<u8>) {
    let mut tid = [0u8; 12];
    tid[..8].copy_from_slice(&seed.to_be_bytes());
    tid[8..].copy_from_slice(&rand::random::<u32>().to_be_bytes());
    let req = encode_binding_request(
        tid,
        &BindingRequest {
            software: Some(software()),
            ..Default::default()
        },
    )
    .unwrap_or_default();
    (tid, req)
}

fn software() -> String {
    format!("voipdiag {}", env!("CARGO_PKG_VERSION"))
}

/// A STUN binding over TCP: `(exchange, mapped address)`.
type TcpOutcome = Result<(TcpExchange, Option<SocketAddr>), TcpError>;

async fn tcp_binding(
    server: SocketAddr,
    local_ip: Option<IpAddr>,
    timeout: Duration,
    tracer: Option<Tracer<'_>>,
) -> (String, TcpOutcome) {
    let (tid, req) = stun_tcp_request(rand::random());
    let local = local_ip.map(|ip| SocketAddr::new(ip, 0));
    let r = exchange(
        server,
        local,
        &req,
        message::stream_frame_len,
        timeout,
        tracer,
    )
    .await;
    let r = r.and_then(|x| match decode(&x.response) {
        Ok(m) if m.transaction_id == tid => {
            let mapped = m.mapped();
            Ok((x, mapped))
        }
        Ok(_) => Err(TcpError::Io("response with another transaction ID".into())),
        Err(e) => Err(TcpError::Io(e.to_string())),
    });
    (tid_hex(&tid), r)
}

fn tcp_test_report(server: SocketAddr, tid: &str, r: &TcpOutcome) -> TestReport {
    let (outcome, detail, response, rtt_ms, from) = match r {
        Ok((x, mapped)) => (
            "answered",
            None,
            Some(TestResponse {
                from: server.to_string(),
                received_on: Some(x.local.to_string()),
                mapped_address: mapped.map(|m| m.to_string()),
                other_address: None,
                response_origin: None,
                error_code: None,
            }),
            Some(ms(x.rtt)),
            Some(x.local.to_string()),
        ),
        Err(TcpError::Timeout(_)) => ("timeout", None, None, None, None),
        Err(TcpError::Refused) => (
            "unreachable",
            Some("TCP connection refused".to_string()),
            None,
            None,
            None,
        ),
        Err(e) => ("unreachable", Some(e.to_string()), None, None, None),
    };
    TestReport {
        test: "tcp-binding".into(),
        transport: "tcp",
        server: server.to_string(),
        request: TestRequest {
            from,
            to: server.to_string(),
            transaction_id: tid.to_string(),
            change_ip: false,
            change_port: false,
            response_port: None,
        },
        outcome,
        detail,
        response,
        rtt_ms,
        transmissions: 1,
        started_ms: Some(0.0),
    }
}

fn empty_result(targets: &[Target], transport: &'static str) -> NatProbeResult {
    NatProbeResult {
        mapping: MappingBehavior::Unknown,
        filtering: FilteringBehavior::Unknown,
        nat_detected: None,
        local_address: None,
        mapped_address: None,
        classic_type: None,
        hairpinning: None,
        port_preservation: None,
        binding_lifetime_s: None,
        binding_lifetime: None,
        transport,
        udp_blocked: false,
        rfc5780: false,
        primary_server: None,
        servers: targets
            .iter()
            .map(|t| ServerReport {
                server: t.given.to_string(),
                address: t.address.as_ref().ok().map(ToString::to_string),
                status: if t.address.is_ok() {
                    "timeout".into()
                } else {
                    "unresolved".into()
                },
                rtt_ms: None,
                rfc5780: false,
                other_address: None,
                mapped_address: None,
                software: None,
                error: t.address.as_ref().err().cloned(),
            })
            .collect(),
        tests: Vec::new(),
        ignored_datagrams: Default::default(),
        interrupted: false,
        probe_ms: 0.0,
    }
}

async fn probe_tcp(
    targets: &[Target],
    servers: &[SocketAddr],
    args: &NatProbeArgs,
    timeout: Duration,
    tracer: Option<Tracer<'_>>,
) -> Result<NatProbeResult, CommandError> {
    let mut result = empty_result(targets, "tcp");
    let local_ip = args.local.map(|l| l.ip);
    let ips = local_ips();
    let futs: Vec<_> = servers
        .iter()
        .map(|s| tcp_binding(*s, local_ip, timeout, tracer))
        .collect();
    let mut outcomes = Vec::new();
    for (s, f) in servers.iter().zip(futs) {
        outcomes.push((*s, f.await));
    }
    for (server, (tid, r)) in &outcomes {
        result.tests.push(tcp_test_report(*server, tid, r));
        if let Some(sr) = result
            .servers
            .iter_mut()
            .find(|x| x.address.as_deref() == Some(&server.to_string()))
        {
            fill_server_from_tcp(sr, r);
        }
    }
    if let Some((server, (_, Ok((x, Some(mapped)))))) = outcomes
        .iter()
        .find(|(_, (_, r))| matches!(r, Ok((_, Some(_)))))
    {
        apply_tcp_mapping(&mut result, *server, x, *mapped, &ips);
    }
    Ok(result)
}

/// Fills the address facts of `result` from a STUN-over-TCP answer.
fn apply_tcp_mapping(
    result: &mut NatProbeResult,
    server: SocketAddr,
    x: &TcpExchange,
    mapped: SocketAddr,
    ips: &[IpAddr],
) {
    result.primary_server = Some(server.to_string());
    result.local_address = Some(x.local.to_string());
    result.mapped_address = Some(mapped.to_string());
    let nat = !is_own_address(mapped, Some(x.local), ips);
    result.nat_detected = Some(nat);
    result.port_preservation = nat.then_some(mapped.port() == x.local.port());
}

fn fill_server_from_tcp(sr: &mut ServerReport, r: &TcpOutcome) {
    match r {
        Ok((x, mapped)) => {
            sr.status = "answered".into();
            sr.rtt_ms = Some(ms(x.rtt));
            sr.mapped_address = mapped.map(|m| m.to_string());
        }
        Err(TcpError::Timeout(_)) => sr.status = "timeout".into(),
        Err(e) => {
            sr.status = "unreachable".into();
            sr.error = Some(format!("TCP: {e}"));
        }
    }
}

async fn probe_udp(
    targets: &[Target],
    servers: &[SocketAddr],
    args: &NatProbeArgs,
    timeout: Duration,
    tracer: Option<Tracer<'_>>,
    verbose: u8,
) -> Result<NatProbeResult, CommandError> {
    let local_ip = match args.local {
        Some(l) => l.ip,
        None => route_source(servers[0]).map_err(|e| {
            CommandError::Internal(anyhow::anyhow!("no route to {}: {e}", servers[0]))
        })?,
    };
    let ips = local_ips();
    let config = ProbeConfig {
        servers: servers.to_vec(),
        timeout,
        initial_rto: crate::stun::retransmit::DEFAULT_RTO,
        min_silence: MIN_SILENCE,
        hairpinning: !args.no_hairpinning,
        lifetime_max: args.lifetime.then_some(args.lifetime_max),
        software: Some(software()),
        local_ips: ips.clone(),
    };
    let mut probe = Probe::new(config, Instant::now(), rand::random());
    let sockets = bind_sockets(
        local_ip,
        args.local.map_or(0, |l| l.port),
        probe.socket_count(),
    )
    .map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrNotAvailable
            || e.kind() == std::io::ErrorKind::AddrInUse
        {
            CommandError::Usage(format!("cannot bind {local_ip}: {e}"))
        } else {
            CommandError::Internal(anyhow::anyhow!(
                "cannot bind UDP sockets on {local_ip}: {e}"
            ))
        }
    })?;
    for (i, s) in sockets.iter().enumerate() {
        if let Ok(a) = s.local_addr() {
            probe.set_local_addr(i, a);
        }
    }

    // STUN over TCP to every server, concurrently: tells "UDP blocked" from "server down",
    // and its round trip lets UDP tests stop waiting early.
    let (tx, rx) = mpsc::unbounded_channel::<(SocketAddr, Duration)>();
    let tcp_tracer_owned = tracer.is_some();
    let tcp_tasks: Vec<_> = servers
        .iter()
        .map(|&server| {
            let tx = tx.clone();
            tokio::spawn(async move {
                let t = |d: Direction, l: SocketAddr, r: SocketAddr, b: &[u8]| {
                    eprintln!("{}", trace_line(d, l, r, b, verbose, "tcp"));
                };
                let tr: Option<Tracer<'_>> = tcp_tracer_owned.then_some(&t as Tracer<'_>);
                let out = tcp_binding(server, Some(local_ip), timeout, tr).await;
                if let Ok((x, _)) = &out.1 {
                    let _ = tx.send((server, x.connect_time));
                }
                (server, out)
            })
        })
        .collect();
    drop(tx);
    let end = drive(
        &mut probe,
        &sockets,
        rx,
        |p, now, (server, rtt)| p.handle_server_reachable(now, server, rtt),
        tracer,
    )
    .await;
    let verdict = probe.verdict();

    // The TCP results matter only when UDP got no answer; otherwise keep those already in.
    let tcp_needed = !verdict.any_answer && end != DriveEnd::Interrupted;
    let mut tcp_results = Vec::new();
    for task in tcp_tasks {
        if tcp_needed || task.is_finished() {
            if let Ok(r) = task.await {
                tcp_results.push(r);
            }
        } else {
            task.abort();
        }
    }

    let mut result = empty_result(targets, "udp");
    result.interrupted = end == DriveEnd::Interrupted;
    result.ignored_datagrams = probe.ignored().clone();
    result.rfc5780 = verdict.rfc5780;
    result.primary_server = verdict.primary.map(|p| p.to_string());
    result.local_address = verdict.local_address.map(|a| a.to_string());
    result.mapped_address = verdict.mapped_address.map(|a| a.to_string());
    result.nat_detected = verdict.nat_detected;
    result.mapping = verdict.mapping;
    result.filtering = verdict.filtering;
    result.hairpinning = if verdict.nat_detected == Some(true) {
        verdict.hairpinning
    } else {
        None
    };
    result.port_preservation = verdict.port_preservation;
    result.binding_lifetime = verdict.lifetime;
    result.binding_lifetime_s = verdict.lifetime.map(|l| l.at_least_s);
    let locals: Vec<Option<SocketAddr>> = sockets.iter().map(|s| s.local_addr().ok()).collect();
    result.tests = probe
        .tests()
        .iter()
        .map(|t| test_report(t, &locals))
        .collect();
    for t in probe
        .tests()
        .iter()
        .filter(|t| t.kind == crate::stun::probe::TestKind::Binding)
    {
        if let Some(sr) = result
            .servers
            .iter_mut()
            .find(|x| x.address.as_deref() == Some(&t.server.to_string()))
        {
            fill_server_from_udp(sr, t);
        }
    }
    for (server, (tid, r)) in &tcp_results {
        result.tests.push(tcp_test_report(*server, tid, r));
    }
    if !verdict.any_answer && !result.interrupted {
        // No UDP answer: STUN over TCP decides between "UDP blocked" and "server down".
        if let Some((server, (_, Ok((x, Some(mapped)))))) = tcp_results
            .iter()
            .find(|(_, (_, r))| matches!(r, Ok((_, Some(_)))))
        {
            result.udp_blocked = true;
            result.transport = "tcp";
            apply_tcp_mapping(&mut result, *server, x, *mapped, &ips);
            result.port_preservation = None;
            result.classic_type = classic_type(true, true, result.mapping, result.filtering);
            return Ok(result);
        }
        for (server, (_, r)) in &tcp_results {
            if let Some(sr) = result
                .servers
                .iter_mut()
                .find(|x| x.address.as_deref() == Some(&server.to_string()))
                && let Err(e) = r
                && sr.error.is_none()
            {
                sr.error = Some(format!("no UDP answer; TCP: {e}"));
            }
        }
    }
    if let Some(nat) = result.nat_detected {
        result.classic_type = classic_type(false, nat, result.mapping, result.filtering);
    }
    Ok(result)
}

fn fill_server_from_udp(sr: &mut ServerReport, t: &Test) {
    match &t.outcome {
        Outcome::Answered(a) => {
            sr.status = "answered".into();
            sr.rtt_ms = Some(ms(a.rtt));
            sr.rfc5780 = a.message.other_address.is_some();
            sr.other_address = a.message.other_address.map(|x| x.to_string());
            sr.mapped_address = a.message.mapped().map(|x| x.to_string());
            sr.software.clone_from(&a.message.software);
        }
        Outcome::Timeout => sr.status = "timeout".into(),
        Outcome::Unreachable(why) => {
            sr.status = "unreachable".into();
            sr.error = Some(why.clone());
        }
        Outcome::ErrorResponse { code, reason } => {
            sr.status = "error-response".into();
            sr.error = Some(format!("{code} {reason}"));
        }
        Outcome::Cancelled | Outcome::Pending => sr.status = "cancelled".into(),
        Outcome::Unusable { reason, .. } => {
            sr.status = "unusable".into();
            sr.error = Some(reason.clone());
        }
        Outcome::Skipped(why) => {
            sr.status = "skipped".into();
            sr.error = Some((*why).to_string());
        }
    }
}

fn test_report(t: &Test, locals: &[Option<SocketAddr>]) -> TestReport {
    let answer_of = |a: &crate::stun::probe::Answer| TestResponse {
        from: a.from.to_string(),
        received_on: locals
            .get(a.received_on)
            .copied()
            .flatten()
            .map(|x| x.to_string()),
        mapped_address: a.message.mapped().map(|x| x.to_string()),
        other_address: a.message.other_address.map(|x| x.to_string()),
        response_origin: a.message.response_origin.map(|x| x.to_string()),
        error_code: a.message.error_code.as_ref().map(|e| e.0),
    };
    let (outcome, detail, response, rtt) = match &t.outcome {
        Outcome::Answered(a) => ("answered", None, Some(answer_of(a)), Some(ms(a.rtt))),
        Outcome::Timeout => ("timeout", None, None, None),
        Outcome::Unreachable(w) => ("unreachable", Some(w.clone()), None, None),
        Outcome::ErrorResponse { code, reason } => (
            "error-response",
            Some(format!("{code} {reason}")),
            None,
            None,
        ),
        Outcome::Unusable { reason, answer } => (
            "unusable",
            Some(reason.clone()),
            Some(answer_of(answer)),
            Some(ms(answer.rtt)),
        ),
        Outcome::Cancelled | Outcome::Pending => ("cancelled", None, None, None),
        Outcome::Skipped(w) => ("skipped", Some((*w).to_string()), None, None),
    };
    let cr = t
        .request
        .change_request
        .unwrap_or(crate::stun::attributes::ChangeRequest {
            change_ip: false,
            change_port: false,
        });
    TestReport {
        test: t.kind.name(),
        transport: "udp",
        server: t.server.to_string(),
        request: TestRequest {
            from: locals
                .get(t.socket)
                .copied()
                .flatten()
                .map(|x| x.to_string()),
            to: t.destination.to_string(),
            transaction_id: tid_hex(&t.transaction_id),
            change_ip: cr.change_ip,
            change_port: cr.change_port,
            response_port: t.request.response_port,
        },
        outcome,
        detail,
        response,
        rtt_ms: rtt,
        transmissions: t.transmissions,
        started_ms: t.started_after.map(ms),
    }
}
