//! `voipdiag call`: locate the target, open the SIP flow and the RTP (and RTCP) sockets, run
//! the call machine (`call`: the INVITE dialog and the media session) over the driver, judge
//! each direction (`diagnose::media`), check the expectations, and report.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tokio::net::UdpSocket;

use super::sip_common::{
    given_password, open_server_flow, prompt, route_set, timers, tls_options, trace_sip,
};
use super::{CommandError, Env};
use crate::call::{Call, CallEvent, Expectations, ExpectedMedia, Measured, check};
use crate::cli::{CallArgs, CallCodec, ExpectMedia, GlobalArgs, PortRange};
use crate::diagnose::media::call_verdicts;
use crate::machine::Traced;
use crate::net::driver::{self, Socket};
use crate::report::Report;
use crate::report::call::{CallContext, CallResult, Nat, Offer, findings, status};
use crate::rtp::sender::AudioSource;
use crate::rtp::session::{MediaConfig, MediaSession};
use crate::sdp::Direction;
use crate::sdp::offer::{AudioCodec, LocalMedia, write};
use crate::sip::endpoint::Endpoint;
use crate::sip::invite::{Invite, InviteConfig};
use crate::sip::reflexive::ReflexiveAddress;
use crate::sip::request::random_token;
use crate::sip::target::Transport;

/// Ports tried at most when binding the RTP/RTCP pair in a range or at random.
const BIND_ATTEMPTS: u32 = 64;

/// The `-v` trace of a call: SIP only (RTP and RTCP would drown it).
fn trace_call(t: &Traced<'_>) {
    if t.bytes.first().is_some_and(u8::is_ascii_alphabetic) {
        trace_sip(t);
    }
}

/// Binds the RTP socket on `ip` (and RTCP on the next port unless `mux`): in `range`
/// (even RTP ports, RFC 3550 §11), or on free ports.
fn bind_media(
    ip: IpAddr,
    range: Option<PortRange>,
    mux: bool,
    rng: &mut impl rand::Rng,
) -> Result<(Arc<UdpSocket>, Option<Arc<UdpSocket>>), String> {
    use rand::RngExt;
    let (low, high) = range.map_or((16384, 32766), |r| (r.low, r.high));
    let mut last = String::from("no port in the range");
    for attempt in 0..BIND_ATTEMPTS {
        let port = if range.is_some() && u32::from(high - low) < BIND_ATTEMPTS {
            let p = u32::from(low) + attempt * if mux { 1 } else { 2 };
            match u16::try_from(p) {
                Ok(p) if p <= high => p,
                _ => break,
            }
        } else {
            let p = rng.random_range(low..=high);
            if mux { p } else { p & !1 }
        };
        let rtp = match driver::bind_udp(SocketAddr::new(ip, port)) {
            Ok(s) => s,
            Err(e) => {
                last = format!("{ip}:{port}: {e}");
                continue;
            }
        };
        if mux {
            return Ok((rtp, None));
        }
        match driver::bind_udp(SocketAddr::new(ip, port.wrapping_add(1))) {
            Ok(rtcp) => return Ok((rtp, Some(rtcp))),
            Err(e) => last = format!("{ip}:{}: {e}", port.wrapping_add(1)),
        }
    }
    Err(format!("cannot bind the RTP socket: {last}"))
}

fn expectations(args: &CallArgs) -> Expectations {
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

/// Runs `call`.
///
/// # Errors
/// Usage errors (bad DTMF digits, unreadable password file or CA file, prompt failure); the
/// rest is in the report.
pub async fn run(global: &GlobalArgs, args: &CallArgs) -> Result<Report<CallResult>, CommandError> {
    let env = Env::new(global);
    if let Some(d) = &args.dtmf
        && let Some(bad) = d
            .chars()
            .find(|c| crate::rtp::sender::event_code(*c).is_none())
    {
        return Err(CommandError::Usage(format!(
            "--dtmf: {bad:?} is not a DTMF digit (0-9 * # A-D)"
        )));
    }
    for (name, v) in [
        ("--max-loss", args.max_loss),
        ("--max-jitter", args.max_jitter),
        ("--min-mos", args.min_mos),
        ("--max-pdd", args.max_pdd),
        ("--max-rtt", args.max_rtt),
    ] {
        if v.is_some_and(|x| !x.is_finite() || x < 0.0) {
            return Err(CommandError::Usage(format!("{name} must be a number ≥ 0")));
        }
    }
    let password = given_password(args.password_file.as_deref(), args.password.as_ref())?;
    tls_options(&args.sip)?;
    let mut codecs: Vec<AudioCodec> = Vec::new();
    for c in &args.codec {
        let c = match c {
            CallCodec::Pcmu => AudioCodec::Pcmu,
            CallCodec::Pcma => AudioCodec::Pcma,
        };
        if !codecs.contains(&c) {
            codecs.push(c);
        }
    }
    let mut rng = env.rng();
    let target_text = args.target.to_string();
    let (resolution, opened) = open_server_flow(&args.target, &args.sip, global, &mut rng).await;
    let opened = match opened {
        Ok(o) => o,
        Err(u) => {
            let ctx = CallContext {
                target: target_text,
                flow: None,
                resolution,
            };
            return Ok(finish(
                &env,
                CallResult::unreachable(ctx, u.code, u.message),
            ));
        }
    };
    let flow = opened.flow.flow(0);
    let ctx = CallContext {
        target: target_text,
        flow: Some(flow),
        resolution,
    };
    let (rtp, rtcp) = match bind_media(flow.local.ip(), args.rtp_port, args.rtcp_mux, &mut rng) {
        Ok(s) => s,
        Err(e) => return Err(CommandError::Usage(e)),
    };
    let rtp_local = rtp
        .local_addr()
        .map_err(|e| CommandError::Internal(e.into()))?;
    let media_address = args.media_address.unwrap_or(flow.local.ip());
    let local_media = LocalMedia {
        session_id: rand::RngExt::random_range(&mut rng, 1..=u64::from(u32::MAX)),
        address: media_address,
        port: rtp_local.port(),
        codecs: codecs.clone(),
        telephone_event: true,
        ptime_ms: args.ptime,
        direction: Direction::SendRecv,
        rtcp_mux: args.rtcp_mux,
    };
    let offer_sdp = write(
        &local_media,
        None,
        Some(crate::sdp::offer::TELEPHONE_EVENT_PT),
    );
    let user = args.user.clone().or_else(|| {
        args.from
            .as_deref()
            .and_then(|f| f.parse::<crate::sip::target::Target>().ok())
            .and_then(|t| t.user)
    });
    let from = args.from.clone().unwrap_or_else(|| match &user {
        Some(u) => format!("sip:{u}@{}", args.target.host),
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
    let now = env.now();
    let endpoint = Endpoint::new(
        vec![flow],
        timers(&args.sip),
        Some(global.timeout),
        random_token(&mut rng, 10),
    );
    let config = InviteConfig {
        request_uri: args.target.request_uri(),
        from,
        to: args.target.aor(),
        user: user.clone().unwrap_or_else(|| "voipdiag".into()),
        password,
        contact,
        route: route_set(&args.sip),
        offer: offer_sdp.into_bytes(),
        no_answer: global.timeout,
        cancel_after: args.cancel_after,
        start: env.t0,
    };
    let invite = Invite::new(config, endpoint, env.rng(), now);
    let call_id = invite.call_id().to_string();
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let media = MediaSession::new(MediaConfig {
        rtp_socket: 1,
        rtcp_socket: rtcp.as_ref().map(|_| 2),
        codecs: codecs.clone(),
        ptime_ms: args.ptime,
        source: if args.silence {
            AudioSource::Silence
        } else {
            AudioSource::Tone(args.tone)
        },
        latch: !args.no_latch,
        echo: args.echo,
        dtmf: args.dtmf.clone().unwrap_or_default(),
        cname: format!("{}@voipdiag", random_token(&mut rng, 12)),
        start: now,
        wall_start: wall,
    });
    let mut call = Call::new(
        invite,
        media,
        codecs.clone(),
        args.duration,
        env.rng(),
        env.t0,
    );
    let mut sockets = vec![opened.flow.socket, Socket::Udp(rtp)];
    if let Some(r) = rtcp {
        sockets.push(Socket::Udp(r));
    }
    let options = driver::Options {
        tracer: (global.verbose > 0).then_some(&trace_call as crate::net::Tracer<'static>),
        interrupt: &env.interrupt,
    };
    let prompt_user = user.unwrap_or_else(|| "voipdiag".into());
    let mut prompt_error = None;
    let end = driver::run(
        &mut call,
        sockets,
        options,
        |m, CallEvent::PasswordNeeded { .. }| {
            let pw = prompt(&prompt_user).unwrap_or_else(|e| {
                prompt_error = Some(e);
                None
            });
            m.provide_password(driver::now(), pw);
        },
    )
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
    let nat_detected = seen.as_ref().and_then(|v| v.nat_detected(flow.local));
    let nat = Nat {
        received: seen.as_ref().and_then(|v| v.received.clone()),
        rport: seen.as_ref().and_then(|v| v.rport),
        nat_detected,
        public_address: seen.as_ref().and_then(|v| v.seen),
        media_mapping: None,
    };
    let offer_address = SocketAddr::new(media_address, rtp_local.port());
    let facts = r.media_facts(
        offer_address,
        nat_detected == Some(true) && args.media_address.is_none(),
        Some(flow.peer.ip()),
    );
    let (inbound, outbound, media_findings) = call_verdicts(&facts);
    let measured = Measured {
        final_status: r.signalling.final_status.as_ref().map(|f| f.0),
        verdicts: facts.media_due.then_some((inbound, outbound)),
        inbound_loss: r
            .media
            .inbound
            .as_ref()
            .map(|q| crate::rtp::stats::round3(q.summary.loss_percent)),
        outbound_loss: r.outbound_loss(),
        jitter: r
            .media
            .inbound
            .as_ref()
            .map(|q| crate::rtp::stats::round3(q.summary.jitter_mean_ms)),
        mos: (facts.inbound_mos, facts.outbound_mos),
        pdd: r.signalling.pdd.map(crate::report::ms),
        rtt: r.rtt_ms(),
    };
    let checked = check(&expectations(args), &measured);
    let offer = Offer {
        address: media_address,
        port: rtp_local.port(),
        codecs: codecs.iter().map(|c| c.name()).collect(),
    };
    let result = CallResult::from_call(
        ctx,
        call_id,
        &r,
        offer,
        nat,
        (inbound, outbound),
        media_findings,
        checked,
    );
    let result = CallResult {
        dtmf_requested: args.dtmf.clone().unwrap_or_default(),
        ..result
    };
    Ok(finish(&env, result))
}

fn finish(env: &Env, result: CallResult) -> Report<CallResult> {
    let found = findings(&result);
    let st = status(&result, &found);
    env.report("call", st, found, result)
}
