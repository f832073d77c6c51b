//! The `call` fuzz target: a test call (either side) fed a hostile far end.

use crate::sip::message::Message;

/// Separates the datagrams of a `call` input.
pub const SEPARATOR: &[u8] = b"\0\0\0\0";

/// A test call (`call`, either side) fed a hostile far end: the first byte picks the side
/// (odd: we answer); then datagrams separated by [`SEPARATOR`], each led by a byte
/// whose low bits pick the socket (SIP, RTP, RTCP) and whose high bits the delay in tens of
/// ms; `$B`, `$C` and `$F` in a datagram become the branch, Call-ID and From tag of our
/// last request, so responses can match. Nothing panics, the machine sends a bounded
/// number of datagrams, and once the input ends it finishes by itself within 120 s of
/// simulated time (every wait is bounded).
pub fn call(data: &[u8]) {
    let _ = call_result(data);
}

/// [`call`], returning what the call came to (for checking the seeds reach a call).
pub fn call_result(data: &[u8]) -> Option<crate::call::CallResult> {
    use crate::call::{Call, CallEvent};
    use crate::machine::{Input, Machine};
    use std::time::{Duration, Instant};
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let (&mode, rest) = data.split_first()?;
    let mut c: Call = if mode & 1 == 1 {
        fuzz_call::callee(start)
    } else {
        fuzz_call::caller(start)
    };
    let mut vars: [(&[u8], Vec<u8>); 3] = [
        (b"$B", Vec::new()),
        (b"$C", Vec::new()),
        (b"$F", Vec::new()),
    ];
    let mut sent = 0usize;
    let mut now = start;
    let mut drain = |c: &mut Call, now: Instant, vars: &mut [(&[u8], Vec<u8>); 3]| {
        while let Some(t) = c.poll_transmit() {
            sent += 1;
            if t.socket == 0
                && let Ok(m) = Message::parse(&t.payload)
                && m.method().is_some()
            {
                let from_tag = m
                    .header("From")
                    .and_then(|f| crate::sip::message::NameAddr::parse(f).ok())
                    .and_then(|n| n.tag().map(str::to_string));
                vars[0].1 = m
                    .top_via()
                    .and_then(|v| v.branch().map(|b| b.as_bytes().to_vec()))
                    .unwrap_or_default();
                vars[1].1 = m.header("Call-ID").unwrap_or("").as_bytes().to_vec();
                vars[2].1 = from_tag.unwrap_or_default().into_bytes();
            }
        }
        while let Some(e) = c.poll_event() {
            if let CallEvent::PasswordNeeded { .. } = e {
                c.provide_password(now, Some("pw".into()));
            }
        }
        assert!(sent < 200_000, "a flood of datagrams");
    };
    drain(&mut c, now, &mut vars);
    for chunk in super::split(rest, SEPARATOR).into_iter().take(256) {
        let Some((&lead, bytes)) = chunk.split_first() else {
            continue;
        };
        let until = now + Duration::from_millis(u64::from(lead >> 2) * 10);
        while let Some(t) = c.poll_timeout().filter(|t| *t <= until) {
            now = now.max(t);
            c.handle_timeout(now);
            drain(&mut c, now, &mut vars);
        }
        now = until;
        let mut bytes = bytes.to_vec();
        for (name, value) in &vars {
            bytes = super::replace(&bytes, name, value);
        }
        let socket = usize::from(lead & 3).min(2);
        let from = fuzz_call::PEERS[socket];
        c.handle_input(
            now,
            Input::Message {
                socket,
                from,
                data: &bytes,
            },
        );
        drain(&mut c, now, &mut vars);
        if c.is_done() {
            break;
        }
    }
    let limit = now + Duration::from_secs(120);
    for _ in 0..100_000 {
        if c.is_done() {
            break;
        }
        let Some(t) = c.poll_timeout() else {
            panic!("the call waits for nothing and never ends");
        };
        now = now.max(t);
        assert!(now <= limit, "still running 120 s after the last input");
        c.handle_timeout(now);
        drain(&mut c, now, &mut vars);
    }
    assert!(c.is_done(), "the call must end without more input");
    let r = c.result();
    if let Some(q) = &r.media.inbound
        && let Some(mos) = q.mos
    {
        assert!((1.0..=5.0).contains(&mos), "MOS {mos}");
    }
    Some(r)
}

/// The machines the `call` target runs: a caller and a callee as the commands build them.
mod fuzz_call {
    use std::net::SocketAddr;
    use std::time::{Duration, Instant};

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use crate::call::{Call, Dialog};
    use crate::rtp::sender::AudioSource;
    use crate::rtp::session::{MediaConfig, MediaSession};
    use crate::sdp::offer::{AudioCodec, LocalMedia};
    use crate::sip::endpoint::{Endpoint, Flow};
    use crate::sip::target::Transport;
    use crate::sip::transaction::Timers;

    /// Where the far end's datagrams come from, per socket.
    pub const PEERS: [SocketAddr; 3] = [
        SocketAddr::new(
            std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 10)),
            5060,
        ),
        SocketAddr::new(
            std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 10)),
            4000,
        ),
        SocketAddr::new(
            std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 10)),
            4001,
        ),
    ];

    fn local() -> SocketAddr {
        SocketAddr::new(
            std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2)),
            5060,
        )
    }

    fn codecs() -> Vec<AudioCodec> {
        vec![AudioCodec::Pcmu, AudioCodec::Pcma]
    }

    fn media(start: Instant) -> MediaSession {
        MediaSession::new(MediaConfig {
            rtp_socket: 1,
            rtcp_socket: Some(2),
            codecs: codecs(),
            ptime_ms: 20,
            source: AudioSource::Tone(1000.0),
            latch: true,
            echo: true,
            dtmf: "1".into(),
            record: true,
            cname: "fuzz@voipdiag".into(),
            start,
            wall_start: Duration::from_secs(1_800_000_000),
        })
    }

    fn local_media() -> LocalMedia {
        LocalMedia {
            session_id: 1,
            address: local().ip(),
            port: 40000,
            codecs: codecs(),
            telephone_event: true,
            ptime_ms: 20,
            direction: crate::sdp::Direction::SendRecv,
            rtcp_mux: false,
            rtcp_port: None,
        }
    }

    pub fn caller(start: Instant) -> Call {
        let flow = Flow {
            socket: 0,
            transport: Transport::Udp,
            local: local(),
            peer: PEERS[0],
        };
        let endpoint = Endpoint::new(
            vec![flow],
            Timers::default(),
            Some(Duration::from_secs(5)),
            "us".into(),
        );
        let offer = crate::sdp::offer::write(&local_media(), None, Some(101)).into_bytes();
        let invite = crate::sip::invite::Invite::new(
            crate::sip::invite::InviteConfig {
                request_uri: "sip:bob@192.0.2.10".into(),
                from: "sip:alice@example.com".into(),
                to: "sip:bob@192.0.2.10".into(),
                user: "alice".into(),
                password: None,
                contact: "sip:alice@10.0.0.2:5060".into(),
                route: vec![],
                offer,
                no_answer: Duration::from_secs(5),
                cancel_after: None,
                start,
            },
            endpoint,
            StdRng::seed_from_u64(1),
            start,
        );
        Call::new(
            Dialog::Caller(invite),
            media(start),
            codecs(),
            Some(Duration::from_secs(1)),
            StdRng::seed_from_u64(2),
            start,
        )
    }

    pub fn callee(start: Instant) -> Call {
        let flow = Flow {
            socket: 0,
            transport: Transport::Udp,
            local: local(),
            peer: SocketAddr::new(local().ip(), 0),
        };
        let endpoint = Endpoint::new(
            vec![flow],
            Timers::default(),
            Some(Duration::from_secs(5)),
            "ans".into(),
        );
        let answerer = crate::sip::answer::Answerer::new(
            crate::sip::answer::AnswerConfig {
                local: local_media(),
                ring: Duration::from_millis(100),
                code: 200,
                contact: "sip:voipdiag@10.0.0.2:5060".into(),
                wait: Duration::from_secs(10),
                start,
            },
            endpoint,
            StdRng::seed_from_u64(3),
            start,
        );
        Call::new(
            Dialog::Callee(answerer),
            media(start),
            codecs(),
            None,
            StdRng::seed_from_u64(4),
            start,
        )
    }
}

/// A caller's far end (180, 200 with SDP, RTP, an RTCP RR, a hold re-INVITE, BYE) and a
/// callee's caller (INVITE, ACK, RTP, BYE), in the `call` target's format.
pub fn seeds() -> Vec<Vec<u8>> {
    let sep = SEPARATOR;
    let answer_sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";
    let resp = |code: &str, body: &str| {
        format!(
            "SIP/2.0 {code}\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=$B;rport=5060\r\nFrom: <sip:alice@example.com>;tag=$F\r\nTo: <sip:bob@192.0.2.10>;tag=far\r\nCall-ID: $C\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@192.0.2.10:5060>\r\nSession-Expires: 90;refresher=uas\r\n{}Content-Length: {}\r\n\r\n{body}",
            if body.is_empty() {
                ""
            } else {
                "Content-Type: application/sdp\r\n"
            },
            body.len()
        )
    };
    let request = |method: &str, cseq: u32, tags: (&str, &str), body: &str| {
        format!(
            "{method} sip:alice@10.0.0.2:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK{method}{cseq}\r\nFrom: <sip:bob@192.0.2.10>;tag={}\r\nTo: <sip:alice@example.com>{}\r\nCall-ID: $C\r\nCSeq: {cseq} {method}\r\nContact: <sip:bob@192.0.2.10:5060>\r\n{}Content-Length: {}\r\n\r\n{body}",
            tags.0,
            tags.1,
            if body.is_empty() {
                ""
            } else {
                "Content-Type: application/sdp\r\n"
            },
            body.len()
        )
    };
    let rtp = {
        let mut p = vec![0x80, 0, 0, 1, 0, 0, 0, 160, 0xfa, 0xfa, 0xfa, 0xfa];
        p.extend_from_slice(&[0xff; 160]);
        p
    };
    let rr = crate::rtp::rtcp::report(0xfafafafa, Some((1 << 40, 160, 1, 160)), None, "far")
        .unwrap_or_default();
    let hold = answer_sdp.replace("c=IN IP4 192.0.2.10", "c=IN IP4 0.0.0.0");
    let mut caller = vec![0u8];
    for (lead, bytes) in [
        (0u8, resp("180 Ringing", "").into_bytes()),
        (4 * 5, resp("200 OK", answer_sdp).into_bytes()),
        (1 + 4 * 2, rtp.clone()),
        (2 + 4, rr),
        (
            4 * 10,
            request("INVITE", 7, ("far", ";tag=$F"), &hold).into_bytes(),
        ),
        (
            4 * 20,
            request("BYE", 8, ("far", ";tag=$F"), "").into_bytes(),
        ),
    ] {
        caller.extend_from_slice(sep);
        caller.push(lead);
        caller.extend_from_slice(&bytes);
    }
    let offer = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 0\r\n";
    let mut callee = vec![1u8];
    for (lead, bytes) in [
        (0u8, request("INVITE", 1, ("cf", ""), offer).into_bytes()),
        (
            4 * 20,
            request("ACK", 1, ("cf", ";tag=ans"), "").into_bytes(),
        ),
        (1 + 4 * 2, rtp),
        (
            4 * 50,
            request("BYE", 2, ("cf", ";tag=ans"), "").into_bytes(),
        ),
    ] {
        callee.extend_from_slice(sep);
        callee.push(lead);
        callee.extend_from_slice(&bytes);
    }
    vec![caller, callee]
}

#[cfg(test)]
mod tests {
    use crate::sip::invite::{CallOutcome, HangupBy};

    /// The `call` seeds reach what they are for: the caller's far end answers, sends RTP and
    /// hangs up; the callee's caller is answered and hangs up.
    #[test]
    fn call_seeds_make_calls() {
        let seeds = super::seeds();
        let caller = super::call_result(&seeds[0]).unwrap();
        assert_eq!(caller.signalling.outcome, Some(CallOutcome::Answered));
        assert!(caller.media.inbound_packets >= 1);
        assert!(caller.held, "the re-INVITE put the call on hold");
        assert_eq!(caller.signalling.hangup, Some((HangupBy::FarEnd, None)));
        let callee = super::call_result(&seeds[1]).unwrap();
        assert_eq!(callee.signalling.outcome, Some(CallOutcome::Answered));
        assert_eq!(callee.signalling.hangup, Some((HangupBy::FarEnd, None)));
    }
}
