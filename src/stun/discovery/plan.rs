//! How the discovery proceeds once test I has answers (RFC 5780 §4): the primary server, the
//! mapping (§4.3) and filtering (§4.4) tests against it, hairpinning (§4.5), the lifetime
//! ladder (§4.6), and cancelling what is no longer needed.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::test::{Answer, Outcome, Test, TestKind};
use super::{
    FIRST_LIFETIME_SOCKET, NatBehaviorDiscovery, Primary, SOCKET_FILTERING, SOCKET_HAIRPIN,
    SOCKET_LIFETIME_CHECK, SOCKET_MAPPING, lifetime_steps,
};
use crate::stun::attributes::ChangeRequest;
use crate::stun::message::BindingRequest;

impl NatBehaviorDiscovery {
    pub(super) fn choose_primary(&mut self) {
        if self.primary.is_some() {
            return;
        }
        let bindings: Vec<&Test> = self
            .tests
            .iter()
            .filter(|t| t.kind == TestKind::Test1)
            .collect();
        if let Some((t, a)) = bindings
            .iter()
            .filter_map(|t| t.answer().map(|a| (t, a)))
            .find(|(_, a)| a.message.other_address.is_some() && a.message.mapped().is_some())
        {
            self.primary = Some(Primary {
                server: t.server,
                other: a.message.other_address,
            });
            return;
        }
        if bindings.iter().all(|t| !t.is_pending())
            && let Some(t) = bindings
                .iter()
                .find(|t| t.answer().is_some_and(|a| a.message.mapped().is_some()))
        {
            self.primary = Some(Primary {
                server: t.server,
                other: None,
            });
        }
    }

    pub(super) fn start_primary_tests(&mut self, now: Instant, p: Primary) {
        let Some(other) = p.other else {
            if self.config.lifetime_max.is_some() {
                self.skip_lifetime("the server does not support RFC 5780 (no OTHER-ADDRESS)");
            }
            return;
        };
        let server = p.server;
        let alt_ip_primary_port = SocketAddr::new(other.ip(), server.port());
        self.add_test(
            TestKind::MappingTest2,
            SOCKET_MAPPING,
            server,
            alt_ip_primary_port,
            BindingRequest::default(),
            now,
            false,
        );
        self.add_test(
            TestKind::MappingTest3,
            SOCKET_MAPPING,
            server,
            other,
            BindingRequest::default(),
            now,
            false,
        );
        let change = |ip, port| BindingRequest {
            change_request: Some(ChangeRequest {
                change_ip: ip,
                change_port: port,
            }),
            ..Default::default()
        };
        let i = self.add_test(
            TestKind::FilteringTest2,
            SOCKET_FILTERING,
            server,
            server,
            change(true, true),
            now,
            true,
        );
        self.tests[i].expect_from = Some(other);
        let i = self.add_test(
            TestKind::FilteringTest3,
            SOCKET_FILTERING,
            server,
            server,
            change(false, true),
            now,
            true,
        );
        self.tests[i].expect_from = Some(SocketAddr::new(server.ip(), other.port()));
        if let Some(max) = self.config.lifetime_max {
            for (k, wait_s) in lifetime_steps(max).into_iter().enumerate() {
                self.add_test(
                    TestKind::LifetimeSetup { wait_s },
                    FIRST_LIFETIME_SOCKET + k,
                    server,
                    server,
                    BindingRequest::default(),
                    now,
                    false,
                );
            }
        }
    }

    fn skip_lifetime(&mut self, reason: &'static str) {
        let server = self.primary.map(|p| p.server);
        if let Some(server) = server {
            let i = self.add_test(
                TestKind::LifetimeCheck { wait_s: 0 },
                SOCKET_LIFETIME_CHECK,
                server,
                server,
                BindingRequest::default(),
                self.start,
                true,
            );
            self.tests[i].outcome = Outcome::Skipped(reason);
        }
    }

    pub(super) fn mapping_socket_answer(&self) -> Option<&Answer> {
        let primary = self.primary.map(|p| p.server);
        self.tests
            .iter()
            .filter(|t| t.kind == TestKind::Test1)
            .filter_map(|t| t.answer().map(|a| (t, a)))
            .filter(|(_, a)| a.message.mapped().is_some())
            .min_by_key(|(t, _)| (Some(t.server) != primary, t.started_after))
            .map(|(_, a)| a)
    }

    pub(super) fn start_hairpinning(&mut self, now: Instant) {
        if self.hairpin_started || !self.config.hairpinning {
            return;
        }
        let Some(answer) = self.mapping_socket_answer() else {
            return;
        };
        let Some(mapped) = answer.message.mapped() else {
            return;
        };
        let server = answer.from;
        self.hairpin_started = true;
        let i = self.add_test(
            TestKind::Hairpinning,
            SOCKET_HAIRPIN,
            server,
            mapped,
            BindingRequest::default(),
            now,
            true,
        );
        self.tests[i].expect_on = Some(SOCKET_MAPPING);
        if self.is_own_address(mapped) {
            self.tests[i].outcome = Outcome::Skipped("no NAT: the mapped address is our own");
        }
    }

    pub(super) fn is_own_address(&self, mapped: SocketAddr) -> bool {
        crate::stun::behavior::is_own_address(
            mapped,
            self.local[SOCKET_MAPPING],
            &self.config.local_ips,
        )
    }

    pub(super) fn start_lifetime_checks(&mut self) {
        let mut new_checks = Vec::new();
        for (idx, t) in self.tests.iter().enumerate() {
            let TestKind::LifetimeSetup { wait_s } = t.kind else {
                continue;
            };
            let Some(a) = t.answer() else {
                continue;
            };
            let Some(mapped) = a.message.mapped() else {
                continue;
            };
            let exists = self
                .tests
                .iter()
                .any(|c| c.kind == TestKind::LifetimeCheck { wait_s });
            if !exists {
                let answered_at = t.transaction.first_sent().unwrap_or(self.start) + a.rtt;
                new_checks.push((
                    idx,
                    wait_s,
                    mapped.port(),
                    t.server,
                    answered_at + Duration::from_secs(wait_s),
                ));
            }
        }
        for (setup_idx, wait_s, port, server, at) in new_checks {
            let socket = self.tests[setup_idx].socket;
            let req = BindingRequest {
                response_port: Some(port),
                ..Default::default()
            };
            let i = self.add_test(
                TestKind::LifetimeCheck { wait_s },
                SOCKET_LIFETIME_CHECK,
                server,
                server,
                req,
                at,
                true,
            );
            self.tests[i].expect_on = Some(socket);
        }
    }

    pub(super) fn cancel_unneeded_bindings(&mut self) {
        let Some(p) = self.primary else {
            return;
        };
        if p.other.is_none() {
            return;
        }
        let others_done = self
            .tests
            .iter()
            .filter(|t| t.kind != TestKind::Test1)
            .all(|t| !t.is_pending());
        if others_done {
            for t in &mut self.tests {
                if t.is_pending() && t.kind == TestKind::Test1 {
                    t.outcome = Outcome::Cancelled;
                }
            }
        }
    }
}
