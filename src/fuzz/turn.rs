//! The `turn` fuzz target: the TURN relay test (nat-probe `--turn`) fed a hostile server.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::SeedableRng;

use crate::machine::{Input, Machine};
use crate::stun::message::{Class, decode};
use crate::stun::turn::allocation::RequestedFamily;
use crate::stun::turn::credential::Credentials;
use crate::stun::turn::probe::{PeerStrategy, TurnProbe, TurnProbeConfig, policy_targets};

/// Separates the datagrams of a `turn` input.
/// (bytes that STUN padding and zero-valued attributes do not produce).
pub const SEPARATOR: &[u8] = b"\xf0\xf1\xf2\xf3";

const SERVER: &str = "198.51.100.10:3478";

/// The TURN relay test fed a hostile server: the first byte picks the peer strategy (and,
/// bit 2, the peer policy audit; bit 3 TCP; bit 4 a hold); then datagrams separated by
/// [`SEPARATOR`], each led by a byte: bits 0–1 the socket, bit 2 "from a relayed-looking port
/// instead of the server's", bits 3–7 the delay in units of 20 ms; `$T` in a datagram becomes
/// the transaction ID of our last request on that socket (so responses match). Nothing panics, the machine sends a bounded number of datagrams,
/// once the input ends it finishes by itself within 60 s of simulated time, and the report
/// and its findings are built without panicking and show safely.
pub fn turn(data: &[u8]) {
    let _ = outcome(data);
}

/// [`turn`], returning what the test learned (for checking the seeds reach a relay).
pub fn outcome(data: &[u8]) -> Option<crate::stun::turn::probe::TurnOutcome> {
    let (&mode, rest) = data.split_first()?;
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let server: SocketAddr = SERVER.parse().expect("literal");
    let strategy = match mode & 3 {
        0 => PeerStrategy::Auto,
        1 => PeerStrategy::SelfPeer,
        2 => PeerStrategy::TwoAllocations,
        _ => PeerStrategy::Peer("192.0.2.7:7".parse().expect("literal")),
    };
    let config = TurnProbeConfig {
        server,
        stun_server: server,
        reliable: mode & 8 != 0,
        credentials: Some(Credentials::LongTerm {
            username: "alice".into(),
            password: "pw".into(),
        }),
        family: RequestedFamily::Default,
        software: "fuzz".into(),
        timeout: Duration::from_secs(3),
        strategy,
        count: 3,
        interval: Duration::from_millis(20),
        peer_policy: if mode & 4 != 0 {
            policy_targets()
        } else {
            Vec::new()
        },
        hold: (mode & 16 != 0).then_some(Duration::from_secs(30)),
    };
    let mut p = TurnProbe::new(config, start, rand::rngs::StdRng::seed_from_u64(1));
    let mut last_tid: [Vec<u8>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    let mut sent = 0usize;
    let mut drain = |p: &mut TurnProbe, tids: &mut [Vec<u8>; 3]| {
        while let Some(t) = p.poll_transmit() {
            sent += 1;
            if let Ok(m) = decode(&t.payload)
                && m.class == Class::Request
                && let Some(slot) = tids.get_mut(t.socket)
            {
                *slot = m.transaction_id.to_vec();
            }
        }
        assert!(sent < 100_000, "a flood of datagrams");
    };
    drain(&mut p, &mut last_tid);
    let mut now = start;
    for chunk in super::split(rest, SEPARATOR).into_iter().take(256) {
        let Some((&lead, bytes)) = chunk.split_first() else {
            continue;
        };
        let until = now + Duration::from_millis(u64::from(lead >> 3) * 20);
        while let Some(t) = p.poll_timeout().filter(|t| *t <= until) {
            now = now.max(t);
            p.handle_timeout(now);
            drain(&mut p, &mut last_tid);
        }
        now = until;
        let socket = usize::from(lead & 3).min(2);
        let bytes = super::replace(bytes, b"$T", &last_tid[socket]);
        let from = if lead & 4 != 0 {
            SocketAddr::new(server.ip(), 50_000)
        } else {
            server
        };
        p.handle_input(
            now,
            Input::Message {
                socket,
                from,
                data: &bytes,
            },
        );
        drain(&mut p, &mut last_tid);
        if p.is_done() {
            break;
        }
    }
    let limit = now + Duration::from_secs(60);
    for _ in 0..100_000 {
        if p.is_done() {
            break;
        }
        let Some(t) = p.poll_timeout() else {
            panic!("the TURN test waits for nothing and never ends");
        };
        now = now.max(t);
        assert!(now <= limit, "still running 60 s after the last input");
        p.handle_timeout(now);
        drain(&mut p, &mut last_tid);
    }
    assert!(p.is_done(), "the TURN test must end without more input");
    let outcome = p.outcome();
    let learned = outcome.clone();
    let report = crate::report::nat_probe::turn::TurnReport::new(
        crate::report::nat_probe::turn::TurnContext {
            uri: format!("turn:{SERVER}"),
            transport: crate::stun::turn::uri::TurnTransport::Udp,
            family: "ipv4",
            server_address: Some(server),
            local_address: None,
            tls: None,
            mechanism: "long-term",
            username: Some("alice".into()),
            rest_expiry: None,
            rest_expired: false,
            error: None,
        },
        Some(outcome),
    );
    let json = serde_json::to_string(&report).expect("the report serialises");
    assert!(
        !json.contains("\"pw\""),
        "the password never reaches the report"
    );
    for f in crate::report::nat_probe::turn::turn_findings(std::slice::from_ref(&report)) {
        super::shown_safely(&f.message);
    }
    Some(learned)
}

/// Seeds: a server that challenges, allocates (unsigned answers are taken), grants the
/// permission and the channel, relays data, and deletes.
pub fn seeds() -> Vec<Vec<u8>> {
    use crate::stun::builder::MessageBuilder;
    use stun_codec::rfc5389::attributes::{ErrorCode, Nonce, Realm, XorMappedAddress};
    use stun_codec::rfc5766::attributes::{Data, Lifetime, XorPeerAddress, XorRelayAddress};
    let tid = [b'$', b'T', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let relayed: SocketAddr = "198.51.100.10:50000".parse().expect("literal");
    let public: SocketAddr = "203.0.113.1:40000".parse().expect("literal");
    let msg = |class, method, f: &dyn Fn(MessageBuilder) -> MessageBuilder| {
        MessageBuilder::new(class, method, tid)
            .map(f)
            .and_then(|b| b.encode(false))
            .map(|mut v| {
                // The placeholder is 2 bytes of the 12-byte ID: cut the other 10.
                v.drain(10..20);
                v
            })
            .unwrap_or_default()
    };
    let challenge = msg(Class::ErrorResponse, 0x003, &|b| {
        b.attribute(ErrorCode::new(401, "Unauthorized".into()).expect("code"))
            .attribute(Realm::new("lab".into()).expect("realm"))
            .attribute(Nonce::new("n1".into()).expect("nonce"))
    });
    let allocated = msg(Class::SuccessResponse, 0x003, &|b| {
        b.attribute(XorRelayAddress::new(relayed))
            .attribute(XorMappedAddress::new(public))
            .attribute(Lifetime::from_u32(600))
    });
    let binding = msg(Class::SuccessResponse, 0x001, &|b| {
        b.attribute(XorMappedAddress::new(public))
    });
    let permitted = msg(Class::SuccessResponse, 0x008, &|b| b);
    let bound = msg(Class::SuccessResponse, 0x009, &|b| b);
    let refreshed = msg(Class::SuccessResponse, 0x004, &|b| {
        b.attribute(Lifetime::from_u32(0))
    });
    let data = MessageBuilder::new(Class::Indication, 0x007, [7; 12])
        .map(|b| {
            b.attribute(XorPeerAddress::new(public))
                .attribute(Data::new(vec![0x80; 172]).expect("data"))
        })
        .and_then(|b| b.encode(false))
        .unwrap_or_default();
    let channel = crate::stun::turn::channel::encode(0x4000, &[0x80; 172], false);
    let mut seq = vec![1u8];
    // (delay in 20 ms units, socket, message): the ChannelBind comes after the indication
    // round (3 packets 20 ms apart, then 300 ms of grace).
    for (delay, socket, m) in [
        (0u8, 1u8, &binding),
        (0, 0, &challenge),
        (1, 0, &allocated),
        (1, 0, &permitted),
        (1, 0, &data),
        (25, 0, &bound),
        (1, 0, &channel),
        (30, 0, &refreshed),
    ] {
        let lead = (delay << 3) | socket;
        seq.push(lead);
        seq.extend_from_slice(m);
        seq.extend_from_slice(SEPARATOR);
    }
    let mut two = seq.clone();
    two[0] = 2;
    vec![seq, two]
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_seeds_reach_an_allocation_a_channel_and_the_delete() {
        let seeds = super::seeds();
        let o = super::outcome(&seeds[0]).unwrap();
        assert_eq!(o.allocation.outcome, "allocated", "{o:?}");
        assert_eq!(o.channel.as_ref().map(|c| c.outcome), Some("bound"));
        assert!(o.deleted);
    }
}
