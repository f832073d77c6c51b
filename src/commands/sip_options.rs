//! `voipdiag sip-options`: OPTIONS to each target (concurrently), ping-like repeats, the
//! server's view of us from the top Via, and a second OPTIONS with a host-name Via that a SIP
//! ALG leaves alone — the difference between the two views is the ALG's fingerprint.

use std::time::{Instant, SystemTime};

use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::watch;

use super::CommandError;
use super::sip_common::{
    Exchange, ViewOfUs, open_another, open_session, request_on, route_set, timers, tracer,
};
use crate::cli::{GlobalArgs, SipOptionsArgs};
use crate::net::Tracer;
use crate::net::sip::{SipFlow, transact};
use crate::report::sip_options::{Probe, SipOptionsResult, Stats, TargetReport, findings, status};
use crate::report::{Report, ms};
use crate::sip::message::Message;
use crate::sip::request::{Method, random_token};
use crate::sip::target::{Target, Transport};
use crate::sip::transaction::Timers;

/// The host name the ALG check puts in Via sent-by (RFC 6761 reserves `.invalid`).
pub const ALG_CHECK_HOST: &str = "voipdiag.invalid";

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
            .map(|t| probe_target(t, args, global, stop_rx.clone(), &trace)),
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
    args: &SipOptionsArgs,
    global: &GlobalArgs,
    mut stop: watch::Receiver<bool>,
    trace: Tracer<'_>,
) -> TargetReport {
    let mut rng = StdRng::from_rng(&mut rand::rng());
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
    let timers = timers(&args.sip);
    let ex = Exchange {
        uri: target.request_uri(),
        from: (
            format!("sip:voipdiag@{ALG_CHECK_HOST}"),
            random_token(&mut rng, 10),
        ),
        to: target.request_uri(),
        call_id: format!("{}@voipdiag", random_token(&mut rng, 20)),
    };
    let route = route_set(&args.sip);
    let count = if args.count == 0 {
        u32::MAX
    } else {
        args.count
    };
    // --parallel: more flows to the same server, each running its share of the probes.
    let lanes = args.parallel.clamp(1, count.max(1));
    let mut extra_flows = Vec::new();
    for _ in 1..lanes {
        match open_another(&session, &args.sip, global).await {
            Ok(f) => extra_flows.push(f),
            Err(e) => {
                report.error = Some(format!("cannot open another flow: {e}"));
                report.error_code = Some("SIP_TRANSPORT_FAILED");
                return report;
            }
        }
    }
    let mut flows = vec![session.flow];
    flows.extend(extra_flows);
    let lane_count = flows.len() as u32;
    let lane_results =
        futures_util::future::join_all(flows.iter_mut().enumerate().map(|(i, flow)| {
            let lane = Lane {
                first_seq: i as u32 + 1,
                step: lane_count,
                count,
                ex: &ex,
                route: &route,
                timers,
                target: &report.target,
            };
            run_lane(lane, flow, args, global, stop.clone(), trace)
        }))
        .await;
    let mut first_answer: Option<Message> = None;
    let mut last_answer: Option<(u32, Message)> = None;
    for (probes, first, last, retransmitted) in lane_results {
        report.probes.extend(probes);
        report.retransmitted += retransmitted;
        if first_answer.is_none() {
            first_answer = first;
        }
        if let Some((seq, m)) = last
            && last_answer.as_ref().is_none_or(|(s, _)| *s < seq)
        {
            last_answer = Some((seq, m));
        }
    }
    report.probes.sort_by_key(|p| p.seq);
    let flow = &mut flows[0];
    if let Some((_, m)) = &last_answer {
        fill_from_response(&mut report, m, flow);
    }
    let mut cseq = count.min(1_000_000) + 1;
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
            trace,
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

/// One flow's share of the probes: seq = first_seq, first_seq + step, … up to count.
struct Lane<'a> {
    first_seq: u32,
    step: u32,
    count: u32,
    ex: &'a Exchange,
    route: &'a [String],
    timers: Timers,
    target: &'a str,
}

/// Runs one lane; returns its probes, its first and last answer, and how many probes were
/// answered only after retransmission.
async fn run_lane(
    lane: Lane<'_>,
    flow: &mut SipFlow,
    args: &SipOptionsArgs,
    global: &GlobalArgs,
    mut stop: watch::Receiver<bool>,
    tracer: Tracer<'_>,
) -> (Vec<Probe>, Option<Message>, Option<(u32, Message)>, u32) {
    let mut rng = StdRng::from_rng(&mut rand::rng());
    let (mut probes, mut first, mut last, mut retransmitted) = (Vec::new(), None, None, 0);
    let mut seq = lane.first_seq;
    while seq <= lane.count && !*stop.borrow() {
        let probe_started = Instant::now();
        let (probe, answer) = one_probe(
            flow,
            lane.ex,
            seq,
            seq,
            None,
            lane.route,
            lane.timers,
            global,
            &mut rng,
            tracer,
            &mut stop,
        )
        .await;
        if args.json_lines {
            println!("{}", probe.json_line(lane.target));
        }
        if probe.transmissions > 1 && probe.status_code.is_some() {
            retransmitted += 1;
        }
        let broken = probe.error.is_some();
        probes.push(probe);
        if let Some(m) = answer {
            if first.is_none() {
                first = Some(m.clone());
            }
            last = Some((seq, m));
        }
        seq = match seq.checked_add(lane.step) {
            Some(next) if !broken && next <= lane.count => next,
            _ => break,
        };
        if args.interval.is_zero() {
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep_until((probe_started + args.interval).into()) => {}
            _ = stop.changed() => break,
        }
    }
    (probes, first, last, retransmitted)
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
