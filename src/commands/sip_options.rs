//! `voipdiag sip-options`: OPTIONS to each target (concurrently), ping-like repeats, the
//! server's view of us from the top Via, and a second OPTIONS with a host-name Via that a SIP
//! ALG leaves alone — the difference between the two views is the ALG's fingerprint.

use std::time::{Duration, Instant, SystemTime};

use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::watch;

use super::CommandError;
use super::sip_common::{Exchange, ViewOfUs, open_session, request_on, tracer};
use crate::cli::{GlobalArgs, SipOptionsArgs};
use crate::net::Tracer;
use crate::net::sip::{SipFlow, transact};
use crate::report::Report;
use crate::report::sip_options::{Probe, SipOptionsResult, Stats, TargetReport, findings, status};
use crate::sip::message::Message;
use crate::sip::request::{Method, random_token};
use crate::sip::target::{Target, Transport};
use crate::sip::transaction::Timers;

/// The host name the ALG check puts in Via sent-by (RFC 6761 reserves `.invalid`).
pub const ALG_CHECK_HOST: &str = "voipdiag.invalid";

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// Runs `sip-options`.
///
/// # Errors
/// Only for internal failures; unreachable targets are part of the report.
pub async fn run(
    global: &GlobalArgs,
    args: &SipOptionsArgs,
) -> Result<Report<SipOptionsResult>, CommandError> {
    let started_at = SystemTime::now();
    let t0 = Instant::now();
    let (stop_tx, stop_rx) = watch::channel(false);
    let trace = tracer(global.verbose);
    let work = futures_util::future::join_all(
        args.targets
            .iter()
            .enumerate()
            .map(|(i, t)| probe_target(t, i as u64, args, global, stop_rx.clone(), &trace)),
    );
    let mut work = std::pin::pin!(work);
    let mut interrupted = false;
    let targets = tokio::select! {
        r = &mut work => r,
        _ = tokio::signal::ctrl_c() => {
            interrupted = true;
            let _ = stop_tx.send(true);
            work.await
        }
    };
    let result = SipOptionsResult {
        targets,
        interrupted,
    };
    let found = findings(&result);
    let st = status(&result);
    Ok(Report::new(
        "sip-options",
        started_at,
        t0.elapsed(),
        st,
        found,
        result,
    ))
}

async fn probe_target(
    target: &Target,
    index: u64,
    args: &SipOptionsArgs,
    global: &GlobalArgs,
    mut stop: watch::Receiver<bool>,
    trace: &(
         dyn Fn(crate::net::Direction, std::net::SocketAddr, std::net::SocketAddr, &[u8]) + Sync
     ),
) -> TargetReport {
    let mut rng = StdRng::from_rng(&mut rand::rng());
    let _ = index;
    let mut report = TargetReport {
        target: target.to_string(),
        request_uri: target.request_uri(),
        ..TargetReport::default()
    };
    let (resolution, session) = open_session(target, &args.sip, global, &mut rng).await;
    report.resolution = resolution;
    let mut session = match session {
        Ok(s) => s,
        Err(u) => {
            report.error = Some(u.message);
            report.error_code = Some(u.code);
            return report;
        }
    };
    let flow = &mut session.flow;
    report.address = Some(flow.peer.to_string());
    report.transport = Some(flow.transport.to_string());
    report.local_address = Some(flow.local.to_string());
    report.tls_version = flow.tls_version.clone();
    let timers = Timers {
        t1: args.sip.t1,
        ..Timers::default()
    };
    let ex = Exchange {
        uri: target.request_uri(),
        from: (
            format!("sip:voipdiag@{ALG_CHECK_HOST}"),
            random_token(&mut rng, 10),
        ),
        to: target.request_uri(),
        call_id: format!("{}@voipdiag", random_token(&mut rng, 20)),
    };
    let route = args
        .sip
        .proxy
        .as_ref()
        .map(|p| vec![format!("{};lr", p.request_uri())])
        .unwrap_or_default();
    let mut cseq = 0u32;
    let mut first_answer: Option<Message> = None;
    let count = if args.count == 0 {
        u32::MAX
    } else {
        args.count
    };
    let tracer: Tracer<'_> = trace;
    for seq in 1..=count {
        if *stop.borrow() {
            break;
        }
        let probe_started = Instant::now();
        cseq += 1;
        let (probe, answer) = one_probe(
            flow, &ex, seq, cseq, None, &route, timers, global, &mut rng, tracer, &mut stop,
        )
        .await;
        if args.json_lines {
            let line = serde_json::json!({"target": report.target, "probe": probe});
            println!("{line}");
        }
        if probe.transmissions > 1 && probe.status_code.is_some() {
            report.retransmitted += 1;
        }
        let broken = probe.error.is_some();
        report.probes.push(probe);
        if let Some(m) = answer {
            if first_answer.is_none() {
                first_answer = Some(m.clone());
            }
            fill_from_response(&mut report, &m, flow);
        }
        if broken || seq == count {
            break;
        }
        let next = probe_started + args.interval;
        tokio::select! {
            () = tokio::time::sleep_until(next.into()) => {}
            _ = stop.changed() => break,
        }
    }
    report.stats = Stats::of(&report.probes);
    report.rtt_ms = report.probes.iter().rev().find_map(|p| p.rtt_ms);
    if let Some(p) = report.probes.iter().rev().find(|p| p.status_code.is_some()) {
        report.status_code = p.status_code;
        report.reason = p.reason.clone();
    }
    // The ALG check: a Via sent-by the ALG cannot match. Over TLS no ALG can read the
    // message, so there is nothing to check.
    if let Some(first) = &first_answer
        && !args.no_alg_check
        && flow.transport != Transport::Tls
        && !*stop.borrow()
    {
        let view_a = ViewOfUs::from_response(first);
        cseq += 1;
        let (_, answer) = one_probe(
            flow,
            &ex,
            0,
            cseq,
            Some(ALG_CHECK_HOST),
            &route,
            timers,
            global,
            &mut rng,
            tracer,
            &mut stop,
        )
        .await;
        if let Some(b) = answer {
            let view_b = ViewOfUs::from_response(&b);
            if let Some(seen_b) = view_b.seen {
                report.alg_check_address = Some(seen_b.to_string());
                report.sip_alg_detected = Some(view_a.seen.is_some_and(|a| a != seen_b));
                // The host-name view is the true one.
                report.nat_detected = Some(seen_b != flow.local);
                report.public_address = Some(seen_b.to_string());
            }
        }
    }
    report
}

/// One OPTIONS transaction; returns the probe record and the final response.
#[allow(clippy::too_many_arguments)]
async fn one_probe(
    flow: &mut SipFlow,
    ex: &Exchange,
    seq: u32,
    cseq: u32,
    sent_by: Option<&str>,
    route: &[String],
    timers: Timers,
    global: &GlobalArgs,
    rng: &mut StdRng,
    tracer: Tracer<'_>,
    stop: &mut watch::Receiver<bool>,
) -> (Probe, Option<Message>) {
    let mut probe = Probe {
        seq,
        status_code: None,
        reason: None,
        rtt_ms: None,
        transmissions: 0,
        error: None,
    };
    let (bytes, tx) = match request_on(
        flow,
        Method::Options,
        ex,
        cseq,
        sent_by,
        None,
        None,
        vec![("Accept".into(), "application/sdp".into())],
        route.to_vec(),
        timers,
        global.timeout,
        rng,
    ) {
        Ok(r) => r,
        Err(e) => {
            probe.error = Some(e.to_string());
            return (probe, None);
        }
    };
    let result = tokio::select! {
        r = transact(flow, &bytes, tx, Some(tracer)) => r,
        _ = stop.changed() => {
            probe.error = Some("interrupted".into());
            return (probe, None);
        }
    };
    match result {
        Ok(exchange) => {
            probe.transmissions = exchange.transmissions;
            match exchange.final_response {
                Some(r) => {
                    probe.status_code = r.message.status();
                    probe.reason = r.message.reason().map(str::to_string);
                    probe.rtt_ms = Some(ms(r.at));
                    (probe, Some(r.message))
                }
                None => (probe, None),
            }
        }
        Err(e) => {
            probe.transmissions = 1;
            probe.error = Some(e.to_string());
            (probe, None)
        }
    }
}

fn fill_from_response(report: &mut TargetReport, m: &Message, flow: &SipFlow) {
    let list = |name: &str| {
        m.headers_named(name)
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    report.server = m.header("Server").map(str::to_string);
    report.user_agent = m.header("User-Agent").map(str::to_string);
    report.allow = list("Allow");
    report.supported = list("Supported");
    report.accept = list("Accept");
    let view = ViewOfUs::from_response(m);
    report.received = view.received.clone();
    report.rport = view.rport;
    report.nat_detected = view.nat_detected(flow.local);
    report.public_address = view.seen.map(|s| s.to_string());
}
