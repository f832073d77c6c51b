//! The conclusions of NAT behaviour discovery from what its tests observed: RFC 4787 mapping
//! and filtering (RFC 5780 §4.3, §4.4), hairpinning (§4.5), port preservation, and the binding
//! lifetime (§4.6).

use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

use super::test::{Outcome, Test, TestKind};
use super::{LIFETIME_STEPS_S, NatBehaviorDiscovery, SOCKET_MAPPING};
use crate::stun::behavior::{
    FilteringBehavior, FilteringObservation, MappingBehavior, classify_filtering, classify_mapping,
    classify_mapping_multi,
};

/// The binding lifetime bounds measured by the RFC 5780 §4.6 test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lifetime {
    /// The longest wait (s) after which the binding still delivered a response.
    pub at_least_s: u64,
    /// The shortest wait (s) after which it did not; `None` if it survived every wait.
    pub less_than_s: Option<u64>,
}

/// The conclusions of a finished (or interrupted) probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The server the RFC 5780 tests ran against (or whose mapping is reported).
    pub primary: Option<SocketAddr>,
    /// Whether the primary server supports RFC 5780 (sent OTHER-ADDRESS).
    pub rfc5780: bool,
    /// Local address of the mapping socket.
    pub local_address: Option<SocketAddr>,
    /// Mapped (server-reflexive) address of the mapping socket as the primary server saw it.
    pub mapped_address: Option<SocketAddr>,
    /// Whether the mapped address differs from every local address; `None` without answers.
    pub nat_detected: Option<bool>,
    /// RFC 4787 mapping behaviour.
    pub mapping: MappingBehavior,
    /// Whether port dependence of the mapping was tested (always with RFC 5780).
    pub mapping_port_tested: bool,
    /// RFC 4787 filtering behaviour.
    pub filtering: FilteringBehavior,
    /// Whether the NAT hairpins; `None` if not tested or meaningless (no NAT).
    pub hairpinning: Option<bool>,
    /// Whether the NAT kept our local port; `None` if there is no NAT or no answer.
    pub port_preservation: Option<bool>,
    /// Binding lifetime bounds, when measured.
    pub lifetime: Option<Lifetime>,
    /// Why the lifetime was not measured although asked for.
    pub lifetime_problem: Option<String>,
    /// Whether any server answered at all over UDP.
    pub any_answer: bool,
    /// No UDP answer, but STUN over TCP answered: UDP is blocked. Its mapping is in
    /// [`NatBehaviorDiscovery::tcp_fallback`].
    pub udp_blocked: bool,
}

impl NatBehaviorDiscovery {
    fn find(&self, kind: TestKind) -> Option<&Test> {
        self.tests.iter().find(|t| t.kind == kind)
    }

    /// The conclusions from what the tests observed so far.
    pub fn verdict(&self) -> Verdict {
        let any_answer = self
            .tests
            .iter()
            .any(|t| t.kind == TestKind::Test1 && t.answer().is_some());
        let primary = self.primary;
        let x1 = self
            .mapping_socket_answer()
            .and_then(|a| a.message.mapped());
        let local_address = self.local[SOCKET_MAPPING];
        let nat_detected = x1.map(|m| !self.is_own_address(m));
        let rfc5780 = primary.is_some_and(|p| p.other.is_some());
        let mapped_of = |k| {
            self.find(k)
                .and_then(|t| t.answer())
                .and_then(|a| a.message.mapped())
        };
        let (mapping, mapping_port_tested) = if rfc5780 {
            (
                classify_mapping(
                    x1,
                    mapped_of(TestKind::MappingTest2),
                    mapped_of(TestKind::MappingTest3),
                ),
                true,
            )
        } else {
            let observed: Vec<(SocketAddr, SocketAddr)> = self
                .tests
                .iter()
                .filter(|t| t.kind == TestKind::Test1)
                .filter_map(|t| {
                    t.answer()
                        .and_then(|a| a.message.mapped())
                        .map(|m| (t.server, m))
                })
                .collect();
            classify_mapping_multi(&observed)
        };
        let observe = |k| match self.find(k).map(|t| &t.outcome) {
            Some(Outcome::Answered(_)) => FilteringObservation::Answered,
            Some(Outcome::Timeout) => FilteringObservation::Silent,
            _ => FilteringObservation::Unusable,
        };
        let filtering = if rfc5780 {
            classify_filtering(
                observe(TestKind::FilteringTest2),
                observe(TestKind::FilteringTest3),
            )
        } else {
            FilteringBehavior::Unknown
        };
        let hairpinning = match self.find(TestKind::Hairpinning).map(|t| &t.outcome) {
            Some(Outcome::Answered(_)) => Some(true),
            Some(Outcome::Timeout | Outcome::Unreachable(_)) => Some(false),
            _ => None,
        };
        let port_preservation = match (nat_detected, x1, local_address) {
            (Some(true), Some(m), Some(l)) => Some(m.port() == l.port()),
            _ => None,
        };
        let (lifetime, lifetime_problem) = self.lifetime_verdict();
        Verdict {
            primary: primary.map(|p| p.server),
            rfc5780,
            local_address,
            mapped_address: x1,
            nat_detected,
            mapping,
            mapping_port_tested,
            filtering,
            hairpinning,
            port_preservation,
            lifetime,
            lifetime_problem,
            any_answer,
            udp_blocked: !any_answer && !self.interrupted && self.tcp_fallback().is_some(),
        }
    }

    fn lifetime_verdict(&self) -> (Option<Lifetime>, Option<String>) {
        if self.config.lifetime_max.is_none() {
            return (None, None);
        }
        let checks: Vec<(u64, &Outcome)> = self
            .tests
            .iter()
            .filter_map(|t| match t.kind {
                TestKind::LifetimeCheck { wait_s } => Some((wait_s, &t.outcome)),
                _ => None,
            })
            .collect();
        match checks.iter().find(|(w, _)| *w == 0).map(|(_, o)| *o) {
            Some(Outcome::Answered(_)) => {}
            Some(Outcome::Skipped(r)) => return (None, Some((*r).to_string())),
            Some(Outcome::Unusable { reason, .. }) => return (None, Some(reason.clone())),
            Some(Outcome::Timeout) => {
                return (
                    None,
                    Some("the control check got no response: the server ignores RESPONSE-PORT, or bindings last under a second".into()),
                );
            }
            _ => return (None, Some("the lifetime test did not complete".into())),
        }
        let at_least_s = checks
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Answered(_)))
            .map(|(w, _)| *w)
            .max()
            .unwrap_or(0);
        let less_than_s = checks
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Timeout))
            .map(|(w, _)| *w)
            .min();
        let complete = checks
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Answered(_) | Outcome::Timeout))
            && checks.len() == lifetime_steps(self.config.lifetime_max.unwrap_or_default()).len();
        if !complete {
            return (
                Some(Lifetime {
                    at_least_s,
                    less_than_s,
                }),
                Some("interrupted before every lifetime check ran".into()),
            );
        }
        (
            Some(Lifetime {
                at_least_s,
                less_than_s,
            }),
            None,
        )
    }
}

/// The waits (s) the lifetime test uses for a maximum `max`: a roughly geometric ladder,
/// always starting with the 0 s control and ending at `max` itself.
pub fn lifetime_steps(max: Duration) -> Vec<u64> {
    let max_s = max.as_secs().max(1);
    let mut steps: Vec<u64> = LIFETIME_STEPS_S
        .iter()
        .copied()
        .filter(|s| *s < max_s)
        .collect();
    steps.push(max_s);
    steps
}
