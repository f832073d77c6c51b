//! The TURN relay test in simulated time against the scripted server of [`super::sim`]
//! behind the simulated NAT (quinn-proto style: the clock jumps to the next event).

#![allow(clippy::disallowed_methods)] // a start time for the simulated clock

use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::allocation::{AuthOutcome, RequestedFamily};
use super::credential::Credentials;
use super::probe::{
    PeerStrategy, SOCKET_CLIENT, SOCKET_PEER, SOCKET_SECOND, TurnOutcome, TurnProbe,
    TurnProbeConfig, policy_targets,
};
use super::sim::TurnSim;
use crate::machine::{Machine, simulate};
use crate::stun::sim::{Filtering, SimNetwork};

fn config(strategy: PeerStrategy, password: &str) -> TurnProbeConfig {
    TurnProbeConfig {
        server: "198.51.100.10:3478".parse().unwrap(),
        stun_server: "198.51.100.10:3478".parse().unwrap(),
        reliable: false,
        credentials: Some(Credentials::LongTerm {
            username: "alice".into(),
            password: password.into(),
        }),
        family: RequestedFamily::Default,
        software: "voipdiag test".into(),
        timeout: Duration::from_secs(3),
        strategy,
        count: 10,
        interval: Duration::from_millis(20),
        peer_policy: Vec::new(),
        hold: None,
    }
}

/// Runs the probe against `sim` (calling `at` with the elapsed time before each send, to
/// script events such as a NAT rebinding); returns the outcome and the simulated duration.
fn run_at(
    cfg: TurnProbeConfig,
    sim: &mut TurnSim,
    mut at: impl FnMut(Duration, &mut TurnSim),
) -> (TurnOutcome, Duration) {
    let t0 = Instant::now();
    let mut p = TurnProbe::new(cfg, t0, StdRng::seed_from_u64(7));
    for s in [SOCKET_CLIENT, SOCKET_PEER, SOCKET_SECOND] {
        p.set_local(s, SimNetwork::local(s));
    }
    let end = simulate(
        &mut p,
        t0,
        100_000,
        |now, t| {
            at(now - t0, sim);
            sim.send(now, t)
        },
        |_, _, ()| {},
    );
    assert!(p.is_done(), "the test ends by itself");
    (p.outcome(), end - t0)
}

fn run(cfg: TurnProbeConfig, sim: &mut TurnSim) -> (TurnOutcome, Duration) {
    run_at(cfg, sim, |_, _| {})
}

fn symmetric() -> TurnSim {
    TurnSim::new(true, Filtering::AddressAndPortDependent)
}

#[test]
fn self_strategy_through_a_symmetric_nat_carries_media_both_ways() {
    let mut sim = symmetric();
    let (o, took) = run(config(PeerStrategy::Auto, "secret-pw"), &mut sim);
    assert_eq!(o.auth_outcome, AuthOutcome::Accepted);
    assert_eq!(o.realm.as_deref(), Some("lab"));
    assert_eq!(o.allocation.outcome, "allocated");
    assert_eq!(o.allocation.relayed_scope, Some("public"));
    assert_eq!(o.allocation.lifetime_s, Some(600));
    let m = o.media.expect("media tested");
    assert_eq!(m.strategy, "self");
    assert_eq!(m.via, vec!["indication", "channel"]);
    assert_eq!((m.inbound.sent, m.inbound.received), (Some(20), Some(20)));
    assert_eq!((m.outbound.sent, m.outbound.received), (Some(20), Some(20)));
    assert_eq!(m.loss_pct, Some(0.0));
    // Through a symmetric NAT the peer's address towards the relay is not the one the
    // server's Binding saw: the client must answer where the relay saw it from.
    let peer = m.peer_address.expect("peer address learned");
    assert_eq!(peer.ip(), crate::stun::sim::PUBLIC_IP);
    let rtt = m.rtt_ms.expect("round trips");
    assert!((7.9..=8.1).contains(&rtt.min), "4 hops of 2 ms: {rtt:?}");
    assert_eq!(o.channel.as_ref().map(|c| c.outcome), Some("bound"));
    assert!(o.deleted, "the allocation is always deleted");
    assert_eq!(sim.allocations(), 0);
    // 401 challenge, then the authenticated Allocate; a Refresh with lifetime 0 at the end.
    let methods: Vec<(&str, Option<u16>, bool)> = o
        .transactions
        .iter()
        .map(|t| (t.method.as_str(), t.error_code, t.authenticated))
        .collect();
    assert_eq!(methods[0], ("allocate", Some(401), false));
    assert_eq!(methods[1], ("allocate", None, true));
    assert_eq!(methods.last().unwrap().0, "refresh");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn stale_nonce_is_retried_with_the_new_nonce() {
    let mut sim = symmetric();
    sim.stale_nonce_once = true;
    let (o, _) = run(config(PeerStrategy::SelfPeer, "secret-pw"), &mut sim);
    assert_eq!(o.stale_nonces, 1);
    assert_eq!(o.allocation.outcome, "allocated");
    let codes: Vec<Option<u16>> = o
        .transactions
        .iter()
        .take(3)
        .map(|t| t.error_code)
        .collect();
    assert_eq!(codes, vec![Some(401), Some(438), None]);
    assert!(o.media.unwrap().via.len() == 2);
}

#[test]
fn sha256_when_the_server_offers_it() {
    // RFC 8489 §9.2: the nonce cookie with the "password algorithms" bit and
    // PASSWORD-ALGORITHMS (MD5, SHA-256): we answer with SHA-256 and
    // MESSAGE-INTEGRITY-SHA256, and check the server's signed answers the same way.
    let mut sim = symmetric();
    sim.offer_sha256 = true;
    let (o, _) = run(config(PeerStrategy::SelfPeer, "secret-pw"), &mut sim);
    assert_eq!(o.auth_outcome, AuthOutcome::Accepted);
    assert_eq!(
        o.password_algorithm,
        Some(crate::stun::integrity::PasswordAlgorithm::Sha256)
    );
    assert_eq!(o.media.unwrap().via.len(), 2);
    assert!(o.deleted);
    let mut sim = symmetric();
    sim.offer_sha256 = true;
    let (o, _) = run(config(PeerStrategy::SelfPeer, "wrong"), &mut sim);
    assert_eq!(o.auth_outcome, AuthOutcome::Rejected);
}

#[test]
fn wrong_password_is_rejected_and_nothing_is_left_allocated() {
    let mut sim = symmetric();
    let (o, _) = run(config(PeerStrategy::Auto, "wrong"), &mut sim);
    assert_eq!(o.auth_outcome, AuthOutcome::Rejected);
    assert_eq!(o.allocation.outcome, "error");
    assert_eq!(o.allocation.error_code, Some(401));
    assert!(o.media.is_none());
    assert!(!o.deleted);
    assert_eq!(sim.allocations(), 0);
}

#[test]
fn no_credentials_and_open_relay() {
    let mut sim = symmetric();
    let mut cfg = config(PeerStrategy::Auto, "x");
    cfg.credentials = None;
    let (o, _) = run(cfg.clone(), &mut sim);
    assert_eq!(o.auth_outcome, AuthOutcome::NoCredentials);
    assert_eq!(o.allocation.error_code, Some(401));

    let mut open = symmetric();
    open.user = None;
    let (o, _) = run(cfg, &mut open);
    assert_eq!(o.auth_outcome, AuthOutcome::NotRequired);
    assert_eq!(o.media.unwrap().via.len(), 2);
    assert_eq!(open.allocations(), 0);
}

#[test]
fn quota_of_one_refuses_the_second_allocation() {
    let mut sim = symmetric();
    sim.quota = 1;
    let (o, _) = run(config(PeerStrategy::TwoAllocations, "secret-pw"), &mut sim);
    assert_eq!(o.allocation.outcome, "allocated");
    let b = o.second_allocation.expect("second allocation tried");
    assert_eq!((b.outcome, b.error_code), ("error", Some(486)));
    assert!(o.deleted, "the first one is deleted all the same");
    assert_eq!(sim.allocations(), 0);
}

#[test]
fn two_allocations_relay_between_themselves() {
    let mut sim = symmetric();
    let (o, _) = run(config(PeerStrategy::TwoAllocations, "secret-pw"), &mut sim);
    let m = o.media.unwrap();
    assert_eq!(m.strategy, "two-allocations");
    assert_eq!(m.via, vec!["indication", "channel"]);
    assert_eq!(m.loss_pct, Some(0.0));
    assert!(o.deleted);
    assert_eq!(sim.allocations(), 0);
}

#[test]
fn forbidden_own_address_falls_back_to_two_allocations_under_auto() {
    let mut sim = symmetric();
    sim.denied_peers = vec![crate::stun::sim::PUBLIC_IP];
    let (o, _) = run(config(PeerStrategy::SelfPeer, "secret-pw"), &mut sim);
    assert_eq!(o.permissions[0].outcome, "refused");
    assert_eq!(o.permissions[0].error_code, Some(403));
    assert!(o.media.is_none());

    let mut sim = symmetric();
    sim.denied_peers = vec![crate::stun::sim::PUBLIC_IP];
    let (o, _) = run(config(PeerStrategy::Auto, "secret-pw"), &mut sim);
    assert!(o.self_test_impossible.is_some());
    assert_eq!(o.media.unwrap().strategy, "two-allocations");
    assert_eq!(sim.allocations(), 0);
}

#[test]
fn capacity_and_silence() {
    let mut sim = symmetric();
    sim.capacity = 0;
    let (o, _) = run(config(PeerStrategy::Auto, "secret-pw"), &mut sim);
    assert_eq!(o.allocation.error_code, Some(508));

    let mut sim = symmetric();
    sim.silent = true;
    let (o, took) = run(config(PeerStrategy::Auto, "secret-pw"), &mut sim);
    assert_eq!(o.allocation.outcome, "no-answer");
    assert!(
        took <= Duration::from_secs(3),
        "bounded by --timeout: {took:?}"
    );
}

#[test]
fn hold_refreshes_on_schedule_and_media_still_flows() {
    let mut sim = symmetric();
    let mut cfg = config(PeerStrategy::SelfPeer, "secret-pw");
    cfg.hold = Some(Duration::from_secs(700));
    let (o, took) = run(cfg, &mut sim);
    let r = o.refresh.expect("held");
    // Allocation at lifetime/2 (300, 600 s), permission every 240 s (240, 480), channel at
    // 540 s.
    assert_eq!(
        (
            r.allocation_refreshes,
            r.permission_refreshes,
            r.channel_refreshes,
            r.outcome
        ),
        (2, 2, 1, "ok")
    );
    let m = o.media.unwrap();
    let after: Vec<_> = m.rounds.iter().filter(|r| r.after_hold).collect();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].inbound.received, Some(10));
    assert_eq!(after[0].outbound.received, Some(10));
    assert!(took > Duration::from_secs(700) && took < Duration::from_secs(702));
    assert_eq!(sim.allocations(), 0);
}

#[test]
fn nat_rebinding_during_the_hold_loses_the_allocation() {
    let mut sim = symmetric();
    let mut cfg = config(PeerStrategy::SelfPeer, "secret-pw");
    cfg.hold = Some(Duration::from_secs(400));
    let mut rebound = false;
    let (o, _) = run_at(cfg, &mut sim, |t, sim| {
        if t > Duration::from_secs(100) && !rebound {
            rebound = true;
            sim.nat.rebind();
        }
    });
    let r = o.refresh.expect("held");
    assert_eq!((r.outcome, r.error_code), ("lost", Some(437)));
    // The server still holds the old allocation (it expires there); we cannot delete it
    // from the new 5-tuple.
    assert_eq!(sim.allocations(), 1);
}

#[test]
fn peer_policy_reports_what_the_server_accepts() {
    let mut sim = symmetric();
    sim.denied_peers = vec![[127, 0, 0, 1].into(), [169, 254, 169, 254].into()];
    let mut cfg = config(PeerStrategy::SelfPeer, "secret-pw");
    cfg.peer_policy = policy_targets();
    let (o, _) = run(cfg, &mut sim);
    let refused: Vec<_> = o
        .peer_policy
        .iter()
        .filter(|p| p.outcome == "refused")
        .map(|p| p.purpose)
        .collect();
    assert_eq!(refused, vec!["loopback", "metadata"]);
    assert_eq!(o.peer_policy.len(), policy_targets().len());
    assert!(o.peer_policy.iter().all(|p| p.outcome != "no-answer"));
}

#[test]
fn ctrl_c_deletes_the_allocation() {
    let mut sim = symmetric();
    let t0 = Instant::now();
    let mut p = TurnProbe::new(
        config(PeerStrategy::SelfPeer, "secret-pw"),
        t0,
        StdRng::seed_from_u64(3),
    );
    for s in [SOCKET_CLIENT, SOCKET_PEER, SOCKET_SECOND] {
        p.set_local(s, SimNetwork::local(s));
    }
    let mut now = t0;
    let mut queue: Vec<(Instant, usize, std::net::SocketAddr, Vec<u8>)> = Vec::new();
    let mut interrupted = false;
    for _ in 0..10_000 {
        while let Some(t) = p.poll_transmit() {
            for (d, socket, from, bytes) in sim.send(now, &t) {
                queue.push((now + d, socket, from, bytes));
            }
        }
        if p.is_done() {
            break;
        }
        if sim.allocations() == 1 && !interrupted {
            interrupted = true;
            p.interrupt(now);
            continue;
        }
        queue.sort_by_key(|q| q.0);
        let next_in = queue.first().map(|q| q.0);
        match (next_in, p.poll_timeout()) {
            (Some(a), t) if t.is_none_or(|t| a <= t) => {
                let (at, socket, from, bytes) = queue.remove(0);
                now = now.max(at);
                p.handle_input(
                    now,
                    crate::machine::Input::Message {
                        socket,
                        from,
                        data: &bytes,
                    },
                );
            }
            (_, Some(t)) => {
                now = now.max(t);
                p.handle_timeout(now);
            }
            _ => break,
        }
    }
    assert!(interrupted && p.is_done());
    let o = p.outcome();
    assert!(o.interrupted);
    assert!(o.deleted);
    assert_eq!(sim.allocations(), 0);
}

/// The report's findings for an outcome (as nat-probe builds them).
fn findings_of(o: TurnOutcome) -> Vec<(&'static str, crate::report::Severity)> {
    use crate::report::nat_probe::turn::{TurnContext, TurnReport, turn_findings};
    let report = TurnReport::new(
        TurnContext {
            uri: "turn:198.51.100.10:3478?transport=udp".into(),
            transport: super::uri::TurnTransport::Udp,
            family: "ipv4",
            server_address: Some("198.51.100.10:3478".parse().unwrap()),
            local_address: Some(SimNetwork::local(SOCKET_CLIENT)),
            tls: None,
            mechanism: "long-term",
            username: Some("alice".into()),
            rest_expiry: None,
            rest_expired: false,
            error: None,
        },
        Some(o),
    );
    turn_findings(&[report])
        .into_iter()
        .map(|f| (f.code, f.severity))
        .collect()
}

#[test]
fn refused_channels_are_a_warning_when_indications_work() {
    use crate::report::Severity;
    let mut sim = symmetric();
    sim.refuse_channels = true;
    let (o, _) = run(config(PeerStrategy::SelfPeer, "secret-pw"), &mut sim);
    assert_eq!(
        o.channel.as_ref().map(|c| (c.outcome, c.error_code)),
        Some(("refused", Some(400)))
    );
    assert_eq!(o.media.as_ref().unwrap().via, vec!["indication"]);
    let f = findings_of(o);
    assert!(
        f.contains(&("TURN_CHANNEL_FAILED", Severity::Warning)),
        "{f:?}"
    );
    assert!(f.contains(&("TURN_RELAY_OK", Severity::Info)), "{f:?}");
}

#[test]
fn a_leftover_allocation_on_our_5_tuple_is_named() {
    use crate::report::Severity;
    let mut sim = symmetric();
    sim.leftover_allocation = true;
    let (o, _) = run(config(PeerStrategy::SelfPeer, "secret-pw"), &mut sim);
    assert_eq!(o.allocation.error_code, Some(437));
    let f = findings_of(o);
    assert!(
        f.contains(&("TURN_ALLOCATION_MISMATCH", Severity::Critical)),
        "{f:?}"
    );
}
