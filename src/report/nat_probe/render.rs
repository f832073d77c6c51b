//! The human rendering of nat-probe: the verdict line, the NAT behaviour facts, the servers,
//! and with `-v` every test.

use super::NatProbeResult;
use crate::report::{Describe, Section, opt, yes_no};
use crate::stun::StunTransport;
use crate::stun::behavior::ClassicType;

fn classic_label(c: Option<ClassicType>) -> &'static str {
    c.map_or("undetermined", ClassicType::as_str)
}

impl Describe for NatProbeResult {
    fn verdict(&self) -> String {
        if self.turn.is_empty() {
            return self.nat_verdict();
        }
        let turn = self.turn_verdict();
        if self.nat_tested {
            format!("{}; {turn}", self.nat_verdict())
        } else {
            turn
        }
    }

    fn sections(&self, verbose: bool) -> Vec<Section> {
        let mut out = if self.nat_tested {
            self.nat_sections(verbose)
        } else {
            Vec::new()
        };
        out.extend(super::turn::sections(&self.turn, verbose));
        out
    }
}

impl NatProbeResult {
    /// The TURN half of the verdict line: whether a relay works and, if not, why.
    fn turn_verdict(&self) -> String {
        use super::turn::RelayVerdict;
        let failing: Vec<String> = self
            .turn
            .iter()
            .filter(|t| t.status != "works")
            .map(|t| format!("{}: {}", t.target.uri, t.cause(&self.turn)))
            .collect();
        match self.relay_verdict {
            RelayVerdict::Works if failing.is_empty() => "TURN relay works: media both ways".into(),
            RelayVerdict::Works => format!("TURN relay works over UDP; {}", failing.join("; ")),
            RelayVerdict::WorksOverTcpOnly if failing.is_empty() => {
                "TURN relay works over TCP/TLS (no UDP relay tested)".into()
            }
            RelayVerdict::WorksOverTcpOnly => {
                format!("TURN relay works over TCP/TLS only; {}", failing.join("; "))
            }
            _ => format!("TURN relay fails — {}", failing.join("; ")),
        }
    }

    fn nat_verdict(&self) -> String {
        if self.udp_blocked {
            return "UDP is blocked: STUN answered only over TCP".into();
        }
        let Some(mapped) = &self.mapped_address else {
            if !self.servers.is_empty()
                && self
                    .servers
                    .iter()
                    .all(|s| s.status == super::ServerStatus::Unresolved)
            {
                return "no STUN server name resolved: nothing was sent (DNS)".into();
            }
            return "no STUN server answered".into();
        };
        match self.nat_detected {
            Some(false) => format!(
                "no NAT ({}): this host's address {mapped} is public",
                classic_label(self.classic_type)
            ),
            _ if self.transport == StunTransport::Tcp => {
                format!("behind NAT; public address {mapped} (over TCP)")
            }
            _ => format!(
                "{} NAT: {} mapping, {} filtering; public address {mapped}",
                classic_label(self.classic_type),
                self.mapping.as_str(),
                self.filtering.as_str()
            ),
        }
    }

    fn nat_sections(&self, verbose: bool) -> Vec<Section> {
        let mut facts = vec![
            ("NAT detected".to_string(), yes_no(self.nat_detected)),
            ("Local address".into(), opt(&self.local_address)),
            ("Public (mapped) address".into(), opt(&self.mapped_address)),
            ("Mapping (RFC 4787)".into(), self.mapping.as_str().into()),
            (
                "Filtering (RFC 4787)".into(),
                self.filtering.as_str().into(),
            ),
            (
                "Classic type (RFC 3489)".into(),
                classic_label(self.classic_type).into(),
            ),
            ("Hairpinning".into(), yes_no(self.hairpinning)),
            ("Port preservation".into(), yes_no(self.port_preservation)),
        ];
        if let Some(l) = self.binding_lifetime {
            let v = match l.less_than_s {
                Some(u) => format!("{}–{} s", l.at_least_s, u),
                None => format!("at least {} s", l.at_least_s),
            };
            facts.push(("Binding lifetime".into(), v));
        }
        facts.push(("Transport".into(), self.transport.as_str().into()));
        facts.push(("RFC 5780 server".into(), opt(&self.primary_server)));
        let ms = |v: Option<f64>| v.map_or("-".into(), |x| format!("{x:.1}"));
        let servers = self
            .servers
            .iter()
            .map(|s| {
                vec![
                    s.server.to_string(),
                    opt(&s.address),
                    s.status.as_str().into(),
                    ms(s.rtt_ms),
                    if s.rfc5780 { "yes".into() } else { "no".into() },
                    opt(&s.mapped_address),
                    s.error
                        .clone()
                        .or_else(|| s.software.clone())
                        .unwrap_or_default(),
                ]
            })
            .collect();
        let mut out = vec![
            Section::Facts {
                title: "NAT behaviour".into(),
                rows: facts,
            },
            Section::Table {
                title: "STUN servers".into(),
                header: [
                    "server", "address", "status", "rtt ms", "RFC 5780", "mapped", "note",
                ]
                .map(String::from)
                .to_vec(),
                rows: servers,
            },
        ];
        if verbose {
            let tests = self
                .tests
                .iter()
                .map(|t| {
                    let mut req = String::new();
                    if t.request.change_ip || t.request.change_port {
                        req = format!(
                            "CHANGE-REQUEST{}{}",
                            if t.request.change_ip { " ip" } else { "" },
                            if t.request.change_port { " port" } else { "" }
                        );
                    }
                    if let Some(p) = t.request.response_port {
                        req = format!("RESPONSE-PORT {p}");
                    }
                    vec![
                        t.test.clone(),
                        format!("{} → {}", opt(&t.request.from), t.request.to),
                        req,
                        t.outcome.as_str().to_string(),
                        t.response
                            .as_ref()
                            .map(|r| r.from.to_string())
                            .unwrap_or_default(),
                        t.response
                            .as_ref()
                            .and_then(|r| r.mapped_address)
                            .map(|a| a.to_string())
                            .unwrap_or_default(),
                        ms(t.rtt_ms),
                        t.transmissions.to_string(),
                    ]
                })
                .collect();
            out.push(Section::Table {
                title: "Tests (RFC 5780)".into(),
                header: [
                    "test",
                    "sent",
                    "request",
                    "outcome",
                    "answer from",
                    "mapped",
                    "rtt ms",
                    "tx",
                ]
                .map(String::from)
                .to_vec(),
                rows: tests,
            });
        }
        out
    }
}
