//! `voipdiag call --answer`: listen for one INVITE (UDP), ring, answer with our SDP (or the
//! `--answer-code`), run the same media session as a caller, and report — the far end of a
//! two-ended test, whose 200 tells a voipdiag caller how its offer arrived.

use std::net::{IpAddr, SocketAddr};

use super::call_media::{MediaSetup, Recorder, WavRecording, codecs, conclude};
use super::sip_common::timers;
use super::{CommandError, Env};
use crate::call::{Call, CallEvent, Dialog};
use crate::cli::{CallArgs, GlobalArgs};
use crate::net::driver::{self, Socket};
use crate::report::Report;
use crate::report::call::{CallContext, CallResult};
use crate::sip::answer::{AnswerConfig, Answerer};
use crate::sip::endpoint::{Endpoint, Flow};
use crate::sip::request::random_token;
use crate::sip::target::Transport;

/// Where we listen by default.
const DEFAULT_PORT: u16 = 5060;

/// Runs `call --answer`.
///
/// # Errors
/// The listen address cannot be bound, or no address to advertise is known.
pub async fn run(global: &GlobalArgs, args: &CallArgs) -> Result<Report<CallResult>, CommandError> {
    let env = Env::new(global);
    let recorder = Recorder::new(global.verbose > 0, args.pcap.as_deref())?;
    let mut wav = WavRecording::new(args.record.as_deref())?;
    let codecs = codecs(args);
    let mut rng = env.rng();
    let listen = args.listen.map_or(
        SocketAddr::new(IpAddr::from([0, 0, 0, 0]), DEFAULT_PORT),
        |l| SocketAddr::new(l.ip, if l.port == 0 { DEFAULT_PORT } else { l.port }),
    );
    let sip = driver::bind_udp(listen)
        .map_err(|e| CommandError::Usage(format!("cannot listen on {listen}: {e}")))?;
    let mut local = sip
        .local_addr()
        .map_err(|e| CommandError::Internal(e.into()))?;
    // The address our Contact and SDP name: the one we listen on, else the one the default
    // route would use (a host without one must say --listen ADDR).
    if local.ip().is_unspecified() {
        let probe = SocketAddr::new(IpAddr::from([192, 0, 2, 1]), 9);
        let ip = args
            .media_address
            .map_or_else(|| driver::route_source(probe), Ok);
        local.set_ip(ip.map_err(|e| {
            CommandError::Usage(format!(
                "no address to advertise ({e}): give --listen ADDR or --media-address"
            ))
        })?);
    }
    let now = env.now();
    let mut setup = MediaSetup::new(args, listen.ip(), local.ip(), &codecs, &mut rng, now)?;
    setup.map(args, global, &env).await;
    let now = env.now();
    let flow = Flow {
        socket: 0,
        transport: Transport::Udp,
        local,
        // Unknown until the INVITE arrives: every request and response goes to its source.
        peer: SocketAddr::new(local.ip(), 0),
    };
    let to_tag = random_token(&mut rng, 10);
    let endpoint = Endpoint::new(vec![flow], timers(&args.sip), Some(global.timeout), to_tag);
    let config = AnswerConfig {
        local: setup.local.clone(),
        ring: args.ring,
        code: args.answer_code,
        contact: format!("sip:voipdiag@{}:{}", flow.sent_by_host(), local.port()),
        wait: args.wait,
        start: env.t0,
    };
    let answerer = Answerer::new(config, endpoint, env.rng(), now);
    let (media, media_sockets, offer) = setup.into_session(args, &mut rng, now);
    let mut call = Call::new(
        Dialog::Callee(answerer),
        media,
        codecs,
        args.duration,
        env.rng(),
        env.t0,
    );
    let mut sockets = vec![Socket::Udp(sip)];
    sockets.extend(media_sockets.into_iter().map(Socket::Udp));
    let hook = |t: &crate::machine::Traced<'_>| recorder.record(t);
    let options = driver::Options {
        tracer: recorder.active().then_some(&hook as crate::net::Tracer<'_>),
        interrupt: &env.interrupt,
        precise: true,
    };
    let end = driver::run(&mut call, sockets, options, |_, event| {
        if let CallEvent::Audio(samples) = event {
            wav.write(&samples);
        }
    })
    .await;
    if let Some(f) = end.failure() {
        return Err(CommandError::Internal(anyhow::anyhow!(f)));
    }
    let r = call.result();
    let Dialog::Callee(a) = call.dialog() else {
        return Err(CommandError::Internal(anyhow::anyhow!(
            "not the answering dialog"
        )));
    };
    let caller = a.caller();
    let ctx = CallContext {
        mode: "answer",
        target: local.to_string(),
        flow: Some(Flow {
            peer: caller.unwrap_or(flow.peer),
            ..flow
        }),
        resolution: Default::default(),
    };
    let call_id = a.call_id().unwrap_or("").to_string();
    let seen = a.offer_seen();
    let mut report = conclude(
        &env,
        args,
        ctx,
        call_id,
        &r,
        offer,
        None,
        local,
        caller.map(|c| c.ip()),
        &recorder,
        &mut wav,
    );
    report.result.offer_seen = seen;
    Ok(report)
}
