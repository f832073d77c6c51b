//! What both sides of `call` share: argument checks, the RTP/RTCP sockets and our SDP
//! (the files a run writes are in `call_files`), and the end of a run — each direction's verdict
//! (`diagnose::media`), the expectations (`call::check`) and the report.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use tokio::net::UdpSocket;

use super::call_files::{Recorder, WavRecording, load_wav};
use super::{CommandError, Env};
use crate::call::{Measured, check};
use crate::cli::{CallArgs, GlobalArgs, PortRange};
use crate::diagnose::media::call_verdicts;
use crate::net::driver;
use crate::net::driver::Socket;
use crate::report::Report;
use crate::report::call::{
    CallContext, CallResult, Nat, Offer, PcapFile, Recording, findings, status,
};
use crate::rtp::sender::AudioSource;
use crate::rtp::session::{MediaConfig, MediaSession};
use crate::sdp::Direction;
use crate::sdp::offer::{AudioCodec, LocalMedia, write};
use crate::sip::answer::{OFFER_SEEN_HEADER, OfferSeen};
use crate::sip::reflexive::ReflexiveAddress;
use crate::sip::request::random_token;
use crate::stun::binding::BindingClient;

/// Ports tried at most when binding the RTP/RTCP pair in a range or at random.
const BIND_ATTEMPTS: u32 = 64;

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

/// The media sockets and our description, before the session starts.
#[derive(Debug)]
pub struct MediaSetup {
    /// The STUN mapping of the RTP socket (`--stun`), or why there is none.
    pub mapping: Option<Result<SocketAddr, String>>,
    play: Option<Vec<i16>>,
    rtp: Arc<UdpSocket>,
    rtcp: Option<Arc<UdpSocket>>,
    /// Our side of the SDP.
    pub local: LocalMedia,
}

impl MediaSetup {
    /// Binds the sockets on `bind` and describes them with `advertise` (or
    /// `--media-address`).
    ///
    /// # Errors
    /// No free port: a usage error (the range is the user's).
    pub fn new(
        args: &CallArgs,
        bind: IpAddr,
        advertise: IpAddr,
        codecs: &[AudioCodec],
        rng: &mut impl rand::Rng,
        _now: Instant,
    ) -> Result<MediaSetup, CommandError> {
        let play = args.play.as_deref().map(load_wav).transpose()?;
        let (rtp, rtcp) =
            bind_media(bind, args.rtp_port, args.rtcp_mux, rng).map_err(CommandError::Usage)?;
        let port = rtp
            .local_addr()
            .map_err(|e| CommandError::Internal(e.into()))?
            .port();
        let local = LocalMedia {
            session_id: rand::RngExt::random_range(rng, 1..=u64::from(u32::MAX)),
            address: args.media_address.unwrap_or(advertise),
            port,
            codecs: codecs.to_vec(),
            telephone_event: true,
            ptime_ms: args.ptime,
            direction: Direction::SendRecv,
            rtcp_mux: args.rtcp_mux,
            rtcp_port: None,
        };
        Ok(MediaSetup {
            play,
            rtp,
            rtcp,
            local,
            mapping: None,
        })
    }

    /// With `--stun HOST`: learns the public address of the RTP (and RTCP) socket with one
    /// Binding check each from those very sockets (RFC 8489), and advertises it in our SDP
    /// unless `--media-address` says otherwise. A failure is kept (STUN_FAILED) and the
    /// local address stays.
    pub async fn map(&mut self, args: &CallArgs, global: &GlobalArgs, env: &Env) {
        let Some(server) = &args.stun else { return };
        let port = server.port.unwrap_or(crate::stun::message::DEFAULT_PORT);
        let to = match crate::net::resolve::resolve(&server.host, port, global.family()).await {
            Ok(a) => match a
                .iter()
                .find(|a| a.is_ipv4() == self.local.address.is_ipv4())
            {
                Some(a) => *a,
                None => {
                    self.mapping = Some(Err(format!("{server}: no address of our family")));
                    return;
                }
            },
            Err(e) => {
                self.mapping = Some(Err(e));
                return;
            }
        };
        let mut sockets = vec![Socket::Udp(Arc::clone(&self.rtp))];
        if let Some(r) = &self.rtcp {
            sockets.push(Socket::Udp(Arc::clone(r)));
        }
        let mut client = BindingClient::new(
            env.now(),
            global.timeout,
            crate::stun::retransmit::DEFAULT_RTO,
            None,
            env.rng(),
        );
        for (i, s) in sockets.iter().enumerate() {
            if let Some(local) = s.local_addr() {
                client.add_udp(i, local, to);
            }
        }
        let end = driver::run(&mut client, sockets, env.options(), |_, _| {}).await;
        if let Some(f) = end.failure() {
            self.mapping = Some(Err(f));
            return;
        }
        let mapped: Vec<Option<SocketAddr>> = client.checks().iter().map(|c| c.mapped()).collect();
        match mapped.first().copied().flatten() {
            Some(rtp) => {
                if args.media_address.is_none() {
                    self.local.address = rtp.ip();
                    self.local.port = rtp.port();
                    self.local.rtcp_port = mapped.get(1).copied().flatten().map(|a| a.port());
                }
                self.mapping = Some(Ok(rtp));
            }
            None => {
                let why = crate::report::upnp_map::stun_answer(
                    &client.checks()[0].outcome,
                    to,
                    global.timeout,
                )
                .err()
                .unwrap_or_else(|| "no mapped address".into());
                self.mapping = Some(Err(why));
            }
        }
    }

    /// Our offer.
    pub fn offer_sdp(&self) -> Vec<u8> {
        write(
            &self.local,
            None,
            Some(crate::sdp::offer::TELEPHONE_EVENT_PT),
        )
        .into_bytes()
    }

    /// The media session on driver sockets 1 (RTP) and 2 (RTCP), the sockets in that
    /// order, and our offer as reported.
    pub fn into_session(
        self,
        args: &CallArgs,
        rng: &mut impl rand::Rng,
        now: Instant,
    ) -> (MediaSession, Vec<Arc<UdpSocket>>, Offer) {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let media = MediaSession::new(MediaConfig {
            rtp_socket: 1,
            rtcp_socket: self.rtcp.as_ref().map(|_| 2),
            codecs: self.local.codecs.clone(),
            ptime_ms: args.ptime,
            source: match (&self.play, args.silence) {
                (Some(samples), _) => AudioSource::Samples(samples.clone()),
                (None, true) => AudioSource::Silence,
                (None, false) => AudioSource::Tone(args.tone),
            },
            latch: !args.no_latch,
            echo: args.echo,
            dtmf: args.dtmf.clone().unwrap_or_default(),
            record: args.record.is_some(),
            cname: format!("{}@voipdiag", random_token(rng, 12)),
            start: now,
            wall_start: wall,
        });
        let offer = Offer {
            address: self.local.address,
            port: self.local.port,
            codecs: self.local.codecs.iter().map(|c| c.name()).collect(),
            stun: self.mapping.clone(),
        };
        let mut sockets = vec![self.rtp];
        sockets.extend(self.rtcp);
        (media, sockets, offer)
    }
}

/// The end of a run: how the far end saw our signalling (`seen`, from the Via of its
/// response — none when we answered), the verdicts, the expectations, the report.
/// `signalling_peer` is where the far end's signalling came from.
#[allow(clippy::too_many_arguments)]
pub fn conclude(
    env: &Env,
    args: &CallArgs,
    ctx: CallContext,
    call_id: String,
    r: &crate::call::CallResult,
    offer: Offer,
    seen: Option<ReflexiveAddress>,
    local_sip: SocketAddr,
    signalling_peer: Option<IpAddr>,
    recorder: &Recorder,
    wav: &mut WavRecording,
    sip_alg_detected: Option<bool>,
) -> Report<CallResult> {
    let nat_detected = seen.as_ref().and_then(|v| v.nat_detected(local_sip));
    let nat = Nat {
        received: seen.as_ref().and_then(|v| v.received.clone()),
        rport: seen.as_ref().and_then(|v| v.rport),
        nat_detected,
        public_address: seen.as_ref().and_then(|v| v.seen),
        media_mapping: offer.stun.as_ref().and_then(|m| m.as_ref().ok()).copied(),
        sip_alg_detected,
    };
    let offer_address = SocketAddr::new(offer.address, offer.port);
    let facts = r.media_facts(
        offer_address,
        nat_detected == Some(true)
            && args.media_address.is_none()
            && !offer.stun.as_ref().is_some_and(|m| m.is_ok()),
        signalling_peer,
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
    let mut checked = check(&super::call::expectations(args), &measured);
    if let Some(want) = &args.expect_dtmf {
        let got = &r.media.dtmf_received;
        checked.push(crate::call::Checked {
            name: "expect-dtmf",
            expected: want.clone(),
            actual: Some(got.clone()),
            pass: got == want,
        });
    }
    // A voipdiag callee says how our offer arrived: a difference is a rewrite in the path.
    let offer_seen = r
        .signalling
        .answer_response
        .as_ref()
        .and_then(|m| m.header(OFFER_SEEN_HEADER))
        .map(OfferSeen::parse);
    let result = CallResult::from_call(
        ctx,
        call_id,
        r,
        offer,
        nat,
        (inbound, outbound),
        media_findings,
        checked,
    );
    let result = CallResult {
        dtmf_requested: args.dtmf.clone().unwrap_or_default(),
        offer_seen,
        pcap: recorder.finish().map(|(file, packets, error)| PcapFile {
            file: file.display().to_string(),
            packets,
            error,
        }),
        recording: wav.finish().map(|(file, seconds, error)| Recording {
            file: file.display().to_string(),
            seconds,
            error,
        }),
        ..result
    };
    finish(env, result)
}

/// The report of `result`: its findings and status.
pub fn finish(env: &Env, result: CallResult) -> Report<CallResult> {
    let found = findings(&result);
    let st = status(&result, &found);
    env.report("call", st, found, result)
}
