//! `voipdiag call --answer`: listen for one INVITE (UDP), ring, answer with our SDP (or the
//! `--answer-code`), run the same media session as a caller, and report — the far end of a
//! two-ended test, whose 200 tells a voipdiag caller how its offer arrived.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use super::call::codecs;
use super::call_files::{Recorder, WavRecording};
use super::call_media::{MediaSetup, conclude};
use super::sip_common::{given_password, route_set, timers};
use super::{CommandError, Env};
use crate::addr::Host;
use crate::call::{Call, CallEvent, Dialog};
use crate::cli::{CallArgs, GlobalArgs};
use crate::net::dns::DnsClient;
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
    let recorder = Recorder::new(global.verbose, args.pcap.as_deref())?;
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
    let registration = match &args.register {
        Some(aor) => Some(register(global, args, aor, &sip, local, &env, false).await?),
        None => None,
    };
    if let Some(Registered { error: Some(e), .. }) = &registration {
        let ctx = CallContext {
            mode: "answer",
            target: local.to_string(),
            flow: None,
            resolution: Default::default(),
        };
        return Ok(super::call_media::finish(
            &env,
            CallResult::unreachable(ctx, "REGISTER_FAILED", e.clone()),
        ));
    }
    let to_tag = random_token(&mut rng, 10);
    let endpoint = Endpoint::new(vec![flow], timers(&args.sip), Some(global.timeout), to_tag);
    let config = AnswerConfig {
        local: setup.local.clone(),
        ring: args.ring,
        code: args.answer_code,
        contact: registration.as_ref().map_or_else(
            || format!("sip:voipdiag@{}:{}", flow.sent_by_host(), local.port()),
            |r| r.contact.clone(),
        ),
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
    let mut sockets = vec![Socket::Udp(Arc::clone(&sip))];
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
        None,
    );
    report.result.offer_seen = seen;
    if let (Some(aor), Some(r)) = (&args.register, &registration) {
        // Remove our binding, so the registrar does not route calls to a test that ended.
        let removed = register(global, args, aor, &sip, local, &env, true).await?;
        report.result.registration = Some(crate::report::call::Registration {
            aor: aor.aor(),
            contact: r.contact.clone(),
            registrar: r.registrar,
            expires_s: r.expires_s,
            removed: removed.error.is_none(),
        });
    }
    Ok(report)
}

/// What a REGISTER from the listening socket came to.
#[derive(Debug)]
struct Registered {
    contact: String,
    registrar: Option<SocketAddr>,
    expires_s: Option<u64>,
    error: Option<String>,
}

/// Registers (or with `remove`, unregisters) `aor` from the listening socket `sip`, so the
/// registrar routes the AOR's calls to it (RFC 3261 §10; the same machine as `register`).
///
/// # Errors
/// An unreadable password file: a usage error.
async fn register(
    global: &GlobalArgs,
    args: &CallArgs,
    aor: &crate::sip::target::Target,
    sip: &Arc<tokio::net::UdpSocket>,
    local: SocketAddr,
    env: &Env,
    remove: bool,
) -> Result<Registered, CommandError> {
    use crate::sip::register::{RegisterConfig, RegisterEvent, Registration, read_final};
    let user = args
        .user
        .clone()
        .or_else(|| aor.user.clone())
        .unwrap_or_else(|| "voipdiag".into());
    let contact = format!("sip:{user}@{}:{}", Host::Ip(local.ip()), local.port());
    let mut out = Registered {
        contact: contact.clone(),
        registrar: None,
        expires_s: None,
        error: None,
    };
    let password = given_password(args.password_file.as_deref(), args.password.as_ref())?;
    let registrar = crate::sip::target::Target {
        user: None,
        ..aor.clone()
    };
    let mut rng = env.rng();
    let dns = match DnsClient::new(args.sip.dns_server.map(|n| n.0), false, global.timeout) {
        Ok(d) => d,
        Err(e) => {
            out.error = Some(e);
            return Ok(out);
        }
    };
    let next_hop = args.sip.proxy.as_ref().unwrap_or(&registrar);
    let resolution = dns
        .locate_sip(next_hop, Some(Transport::Udp), global.family(), &mut rng)
        .await;
    let Some(server) = resolution.targets.first() else {
        out.error = Some(format!(
            "{} did not resolve to a UDP address",
            next_hop.host
        ));
        return Ok(out);
    };
    out.registrar = Some(server.address);
    let flow = Flow {
        socket: 0,
        transport: Transport::Udp,
        local,
        peer: server.address,
    };
    let expires = if remove { 0 } else { 600 };
    let config = RegisterConfig {
        aor: aor.aor(),
        request_uri: registrar.request_uri(),
        user: user.clone(),
        contact: contact.clone(),
        expires,
        unregister: remove,
        auth_int: false,
        route: route_set(&args.sip),
        password,
        start: env.t0,
    };
    let endpoint = Endpoint::new(
        vec![flow],
        timers(&args.sip),
        Some(global.timeout),
        random_token(&mut rng, 10),
    );
    let mut machine = Registration::new(config, endpoint, rng, env.now());
    let end = driver::run(
        &mut machine,
        vec![Socket::Udp(Arc::clone(sip))],
        env.options(),
        |m, RegisterEvent::PasswordNeeded { .. }| m.provide_password(driver::now(), None),
    )
    .await;
    if let Some(f) = end.failure() {
        return Err(CommandError::Internal(anyhow::anyhow!(f)));
    }
    let o = machine.outcome();
    let kept = o
        .final_response
        .as_ref()
        .map(|m| read_final(m, &contact, remove));
    out.expires_s = kept.as_ref().and_then(|k| k.expires_s);
    out.error = match (&o.error, &o.auth_failure, &kept) {
        (Some((_, e)), _, _) => Some(e.clone()),
        (_, Some(f), _) => Some(crate::report::register::auth_failure_text(f)),
        (_, _, Some(k)) if k.registered => None,
        (_, _, Some(_)) => Some(format!(
            "the registrar did not keep {contact} for {}: {}",
            aor.aor(),
            o.final_response.as_ref().map_or(String::new(), |m| format!(
                "{} {}",
                m.status().unwrap_or(0),
                m.reason().unwrap_or("")
            ))
        )),
        (_, _, None) => Some(format!("no answer to REGISTER from {}", server.address)),
    };
    Ok(out)
}
