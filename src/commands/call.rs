//! `voipdiag call`: locate the target, open the SIP flow and the RTP (and RTCP) sockets, run
//! the call machine (`call`: the INVITE dialog and the media session) over the driver, and
//! report (`answer` mode is in `call_answer`; what both share is in `call_media`).

use super::call_files::{Recorder, WavRecording};
use super::call_media::{MediaSetup, conclude};
use super::sip_common::{given_password, open_server_flow, prompt, route_set, timers, tls_options};
use std::sync::Arc;

use super::{CommandError, Env};
use crate::call::{Call, CallEvent, Dialog};
use crate::call::{Expectations, ExpectedMedia};
use crate::cli::{CallArgs, CallCodec, ExpectMedia, GlobalArgs};
use crate::net::driver::{self, Socket};
use crate::report::Report;
use crate::report::call::{CallContext, CallResult};
use crate::sdp::offer::AudioCodec;
use crate::sip::endpoint::Endpoint;
use crate::sip::invite::{Invite, InviteConfig};
use crate::sip::reflexive::ReflexiveAddress;
use crate::sip::request::random_token;
use crate::sip::target::Transport;

/// How long a call stays up after the answer unless `--duration` says otherwise.
pub const DEFAULT_DURATION: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs `call` (or, with `--answer`, answers one).
///
/// # Errors
/// Usage errors (bad DTMF digits, unreadable password or CA file, no free RTP port, prompt
/// failure); the rest is in the report.
pub async fn run(global: &GlobalArgs, args: &CallArgs) -> Result<Report<CallResult>, CommandError> {
    check_args(args)?;
    if args.answer {
        return super::call_answer::run(global, args).await;
    }
    let Some(target) = &args.target else {
        return Err(CommandError::Usage(
            "give a TARGET to call, or --answer".into(),
        ));
    };
    let env = Env::new(global);
    let password = given_password(args.password_file.as_deref(), args.password.as_ref())?;
    tls_options(&args.sip)?;
    let recorder = Recorder::new(global.verbose, args.pcap.as_deref())?;
    let mut wav = WavRecording::new(args.record.as_deref())?;
    let codecs = codecs(args);
    let mut rng = env.rng();
    let target_text = target.to_string();
    let (resolution, opened) = open_server_flow(target, &args.sip, global, &mut rng).await;
    let opened = match opened {
        Ok(o) => o,
        Err(u) => {
            let ctx = CallContext {
                mode: "call",
                target: target_text,
                flow: None,
                resolution,
            };
            return Ok(super::call_media::finish(
                &env,
                CallResult::unreachable(ctx, u.code, u.message),
            ));
        }
    };
    let flow = opened.flow.flow(0);
    let ctx = CallContext {
        mode: "call",
        target: target_text,
        flow: Some(flow),
        resolution,
    };
    let now = env.now();
    let mut setup = MediaSetup::new(
        args,
        flow.local.ip(),
        flow.local.ip(),
        &codecs,
        &mut rng,
        now,
    )?;
    setup.map(args, global, &env).await;
    let user = args.user.clone().or_else(|| {
        args.from
            .as_deref()
            .and_then(|f| f.parse::<crate::sip::target::Target>().ok())
            .and_then(|t| t.user)
    });
    let from = args.from.clone().unwrap_or_else(|| match &user {
        Some(u) => format!("sip:{u}@{}", target.host),
        None => format!("sip:voipdiag@{}", flow.sent_by_host()),
    });
    let mut contact = format!(
        "sip:{}@{}:{}",
        user.as_deref().unwrap_or("voipdiag"),
        flow.sent_by_host(),
        flow.local.port()
    );
    if flow.transport != Transport::Udp {
        contact.push_str(&format!(";transport={}", flow.transport));
    }
    let alg = match (&opened.flow.socket, args.alg_check) {
        (Socket::Udp(s), true) => alg_check(args, global, &env, flow, target, Arc::clone(s)).await,
        _ => None,
    };
    // The INVITE's timers start now, after any STUN and ALG check.
    let now = env.now();
    let endpoint = Endpoint::new(
        vec![flow],
        timers(&args.sip),
        Some(global.timeout),
        random_token(&mut rng, 10),
    );
    let config = InviteConfig {
        request_uri: target.request_uri(),
        from,
        to: target.aor(),
        user: user.clone().unwrap_or_else(|| "voipdiag".into()),
        password,
        contact,
        route: route_set(&args.sip),
        offer: setup.offer_sdp(),
        no_answer: global.timeout,
        cancel_after: args.cancel_after,
        start: env.t0,
    };
    let invite = Invite::new(config, endpoint, env.rng(), now);
    let call_id = invite.call_id().to_string();
    let (media, media_sockets, offer) = setup.into_session(args, &mut rng, now);
    let mut call = Call::new(
        Dialog::Caller(invite),
        media,
        codecs,
        Some(args.duration.unwrap_or(DEFAULT_DURATION)),
        env.rng(),
        env.t0,
    );
    let mut sockets = vec![opened.flow.socket];
    sockets.extend(media_sockets.into_iter().map(Socket::Udp));
    let hook = |t: &crate::machine::Traced<'_>| recorder.record(t);
    let options = driver::Options {
        tracer: recorder.active().then_some(&hook as crate::net::Tracer<'_>),
        interrupt: &env.interrupt,
        precise: true,
    };
    let prompt_user = user.unwrap_or_else(|| "voipdiag".into());
    let mut prompt_error = None;
    let end = driver::run(&mut call, sockets, options, |m, event| match event {
        CallEvent::PasswordNeeded { .. } => {
            let pw = prompt(&prompt_user).unwrap_or_else(|e| {
                prompt_error = Some(e);
                None
            });
            m.provide_password(driver::now(), pw);
        }
        CallEvent::Audio(samples) => wav.write(&samples),
    })
    .await;
    if let Some(e) = prompt_error {
        return Err(CommandError::Usage(e));
    }
    if let Some(f) = end.failure() {
        return Err(CommandError::Internal(anyhow::anyhow!(f)));
    }
    let r = call.result();
    let seen = r
        .signalling
        .answer_response
        .as_ref()
        .map(ReflexiveAddress::from_response);
    Ok(conclude(
        &env,
        args,
        ctx,
        call_id,
        &r,
        offer,
        seen,
        flow.local,
        Some(flow.peer.ip()),
        &recorder,
        &mut wav,
        alg,
    ))
}

/// The SIP ALG check of sip-options over the call's own UDP flow (an OPTIONS, then one whose
/// Via names a host an ALG leaves alone): whether the server's view of us changed. `None`
/// when the server did not answer OPTIONS.
async fn alg_check(
    args: &CallArgs,
    global: &GlobalArgs,
    env: &Env,
    flow: crate::sip::endpoint::Flow,
    target: &crate::sip::target::Target,
    socket: Arc<tokio::net::UdpSocket>,
) -> Option<bool> {
    use crate::sip::options::{OptionsConfig, OptionsProbe};
    let mut rng = env.rng();
    let endpoint = Endpoint::new(
        vec![flow],
        timers(&args.sip),
        Some(global.timeout),
        random_token(&mut rng, 10),
    );
    let config = OptionsConfig {
        count: 1,
        interval: std::time::Duration::ZERO,
        alg_check: true,
    };
    let mut machine = OptionsProbe::new(
        config,
        endpoint,
        target.request_uri(),
        route_set(&args.sip),
        rng,
        env.now(),
    );
    let end = driver::run(
        &mut machine,
        vec![Socket::Udp(socket)],
        env.options(),
        |_, _| {},
    )
    .await;
    if end.failure().is_some() {
        return None;
    }
    machine
        .outcome()
        .alg
        .as_ref()
        .and_then(|a| a.alg_detected())
}

/// Checks what clap cannot: DTMF digits, finite thresholds.
///
/// # Errors
/// A usage error naming the option.
pub fn check_args(args: &CallArgs) -> Result<(), CommandError> {
    for (name, digits) in [("--dtmf", &args.dtmf), ("--expect-dtmf", &args.expect_dtmf)] {
        if let Some(d) = digits
            && let Some(bad) = d
                .chars()
                .find(|c| crate::rtp::sender::event_code(*c).is_none())
        {
            return Err(CommandError::Usage(format!(
                "{name}: {bad:?} is not a DTMF digit (0-9 * # A-D)"
            )));
        }
    }
    for (name, v) in [
        ("--max-loss", args.max_loss),
        ("--max-jitter", args.max_jitter),
        ("--min-mos", args.min_mos),
        ("--max-pdd", args.max_pdd),
        ("--max-rtt", args.max_rtt),
        ("--tone", Some(args.tone)),
    ] {
        if v.is_some_and(|x| !x.is_finite() || x < 0.0) {
            return Err(CommandError::Usage(format!("{name} must be a number ≥ 0")));
        }
    }
    Ok(())
}

/// The codecs of `--codec`, in order, each once.
pub fn codecs(args: &CallArgs) -> Vec<AudioCodec> {
    let mut out = Vec::new();
    for c in &args.codec {
        let c = match c {
            CallCodec::Pcmu => AudioCodec::Pcmu,
            CallCodec::Pcma => AudioCodec::Pcma,
        };
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// The thresholds of the command line.
pub fn expectations(args: &CallArgs) -> Expectations {
    Expectations {
        status: args.expect_status.clone(),
        media: match args.expect_media {
            ExpectMedia::Auto => ExpectedMedia::Auto,
            ExpectMedia::Both => ExpectedMedia::Both,
            ExpectMedia::Inbound => ExpectedMedia::Inbound,
            ExpectMedia::Outbound => ExpectedMedia::Outbound,
            ExpectMedia::None => ExpectedMedia::None,
        },
        max_loss: args.max_loss,
        max_jitter: args.max_jitter,
        min_mos: args.min_mos,
        max_pdd: args.max_pdd,
        max_rtt: args.max_rtt,
    }
}
