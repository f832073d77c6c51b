//! `voipdiag sip-options`: for each target (concurrently) locate the server, open one flow per
//! lane, run the OPTIONS machine (`sip::options`: the probes, then the SIP ALG check) over
//! the driver, and report.

use super::sip_common::{open_another, open_server_flow, route_set, timers, tls_options, tracer};
use super::{CommandError, Env};
use crate::cli::{GlobalArgs, SipOptionsArgs};
use crate::net::driver;
use crate::report::Report;
use crate::report::sip_options::{ProbeReport, SipOptionsResult, TargetReport, findings, status};
use crate::sip::endpoint::Endpoint;
use crate::sip::options::{OptionsConfig, OptionsEvent, OptionsProbe};
use crate::sip::request::random_token;
use crate::sip::target::{Target, Transport};

/// Runs `sip-options`.
///
/// # Errors
/// Only for internal failures; unreachable targets are part of the report.
pub async fn run(
    global: &GlobalArgs,
    args: &SipOptionsArgs,
) -> Result<Report<SipOptionsResult>, CommandError> {
    let env = Env::new(global);
    // An unreadable --ca-file is an input error, found before any traffic.
    tls_options(&args.sip)?;
    let targets = futures_util::future::join_all(
        args.targets
            .iter()
            .map(|t| probe_target(t, args, global, &env)),
    )
    .await;
    let result = SipOptionsResult {
        targets,
        interrupted: env.interrupt.is_set(),
    };
    let found = findings(&result);
    let st = status(&result);
    Ok(env.report("sip-options", st, found, result))
}

async fn probe_target(
    target: &Target,
    args: &SipOptionsArgs,
    global: &GlobalArgs,
    env: &Env,
) -> TargetReport {
    let mut rng = env.rng();
    let mut report = TargetReport {
        target: target.to_string(),
        request_uri: target.request_uri(),
        ..TargetReport::default()
    };
    let (resolution, opened) = open_server_flow(target, &args.sip, global, &mut rng).await;
    report.resolution = resolution;
    let first = match opened {
        Ok(s) => s,
        Err(u) => {
            report.error = Some(u.message);
            report.error_code = Some(u.code);
            return report;
        }
    };
    let flow = first.flow.flow(0);
    report.address = Some(flow.peer);
    report.transport = Some(flow.transport);
    report.local_address = Some(flow.local);
    report.tls_version.clone_from(&first.flow.tls_version);
    let count = if args.count == 0 {
        u32::MAX
    } else {
        args.count
    };
    // --parallel: more flows to the same server, each running its share of the probes.
    let lanes = args.parallel.clamp(1, count.max(1));
    let mut flows = vec![flow];
    let mut sockets = Vec::new();
    for i in 1..lanes {
        match open_another(&first, &args.sip, global).await {
            Ok(f) => {
                flows.push(f.flow(i as usize));
                sockets.push(f.socket);
            }
            Err(e) => {
                report.error = Some(format!("cannot open another flow: {e}"));
                report.error_code = Some("SIP_TRANSPORT_FAILED");
                return report;
            }
        }
    }
    sockets.insert(0, first.flow.socket);
    let config = OptionsConfig {
        count,
        interval: args.interval,
        // Over TLS no ALG can read the message, so there is nothing to check.
        alg_check: !args.no_alg_check && flow.transport != Transport::Tls,
    };
    let endpoint = Endpoint::new(
        flows,
        timers(&args.sip),
        Some(global.timeout),
        random_token(&mut rng, 10),
    );
    let mut machine = OptionsProbe::new(
        config,
        endpoint,
        target.request_uri(),
        route_set(&args.sip),
        rng,
        env.now(),
    );
    let options = driver::Options {
        tracer: tracer(global.verbose),
        interrupt: &env.interrupt,
        precise: false,
    };
    let name = report.target.clone();
    let end = driver::run(
        &mut machine,
        sockets,
        options,
        |_, OptionsEvent::Probe(p)| {
            if args.json_lines {
                println!("{}", ProbeReport::from(&p).json_line(&name));
            }
        },
    )
    .await;
    if let Some(f) = end.failure() {
        report.error = Some(f);
        report.error_code = Some("INTERNAL_ERROR");
        return report;
    }
    report.fill(&flow, machine.outcome());
    report
}
