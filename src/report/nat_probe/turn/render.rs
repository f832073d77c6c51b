//! The human rendering of the TURN relay test: one block of facts per URI, the peer policy
//! table, and with `-v` every request.

use super::TurnReport;
use crate::report::{Section, opt};

/// The human sections for the TURN tests.
pub fn sections(reports: &[TurnReport], verbose: bool) -> Vec<Section> {
    let mut out = Vec::new();
    for t in reports {
        let mut rows = vec![
            ("Status".to_string(), t.status.to_string()),
            ("Server".into(), opt(&t.target.server_address)),
            ("Local address".into(), opt(&t.target.local_address)),
        ];
        if let Some(tls) = &t.target.tls {
            rows.push((
                "TLS".into(),
                match &tls.error {
                    Some(e) => format!("failed: {e}"),
                    None => format!(
                        "{}{}{}",
                        tls.version.clone().unwrap_or_default(),
                        if tls.verified {
                            ", verified"
                        } else {
                            ", NOT verified"
                        },
                        tls.subject
                            .as_ref()
                            .map_or(String::new(), |s| format!(", {s}"))
                    ),
                },
            ));
        }
        rows.push((
            "Authentication".into(),
            format!(
                "{}{} {}{}: {}",
                t.auth.mechanism,
                match t.auth.password_algorithm {
                    Some(crate::stun::integrity::PasswordAlgorithm::Sha256) => " (SHA-256)",
                    Some(crate::stun::integrity::PasswordAlgorithm::Md5) => " (RFC 8489 MD5)",
                    None => "",
                },
                opt(&t.auth.username),
                t.auth
                    .realm
                    .as_ref()
                    .map_or(String::new(), |r| format!(" (realm {r})")),
                serde_json::to_value(t.auth.outcome)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            ),
        ));
        let a = &t.learned.allocation;
        rows.push((
            "Allocation".into(),
            match a.outcome {
                "allocated" => format!(
                    "relayed {} ({}), mapped {}, lifetime {} s",
                    opt(&a.relayed_address),
                    a.relayed_scope.unwrap_or("-"),
                    opt(&a.mapped_address),
                    opt(&a.lifetime_s)
                ),
                o => format!(
                    "{o}{}{}",
                    a.error_code.map_or(String::new(), |c| format!(" {c}")),
                    a.reason.as_ref().map_or(String::new(), |r| format!(" {r}"))
                ),
            },
        ));
        if let Some(s) = &a.software {
            rows.push(("Server software".into(), s.clone()));
        }
        if let Some(m) = &t.learned.media {
            rows.push((
                "Media".into(),
                format!(
                    "{}: in {}/{}, out {}/{}, via {}",
                    m.strategy,
                    opt(&m.inbound.received),
                    opt(&m.inbound.sent),
                    opt(&m.outbound.received),
                    opt(&m.outbound.sent),
                    if m.via.is_empty() {
                        "nothing".into()
                    } else {
                        m.via.join(" + ")
                    }
                ),
            ));
            if let Some(r) = m.rtt_ms {
                rows.push((
                    "Round trip via relay".into(),
                    format!(
                        "{:.2} / {:.2} / {:.2} ms (min/avg/max)",
                        r.min, r.avg, r.max
                    ),
                ));
            }
        }
        if let Some(r) = &t.learned.refresh {
            rows.push((
                "Hold".into(),
                format!(
                    "{} s: {} ({} allocation, {} permission, {} channel refreshes)",
                    r.hold_s,
                    r.outcome,
                    r.allocation_refreshes,
                    r.permission_refreshes,
                    r.channel_refreshes
                ),
            ));
        }
        let lost = t
            .learned
            .refresh
            .as_ref()
            .is_some_and(|r| r.outcome == "lost");
        rows.push((
            "Deleted".into(),
            match (t.learned.deleted, lost) {
                (true, _) => "yes",
                (false, true) => "no (lost; it expires on the server)",
                (false, false) => "no",
            }
            .into(),
        ));
        out.push(Section::Facts {
            title: format!("TURN {} ({})", t.target.uri, t.target.family),
            rows,
        });
        if !t.learned.peer_policy.is_empty() {
            out.push(Section::Table {
                title: "Peer policy (CreatePermission only)".into(),
                header: ["peer", "class", "server"].map(String::from).to_vec(),
                rows: t
                    .learned
                    .peer_policy
                    .iter()
                    .map(|p| {
                        vec![
                            p.peer.to_string(),
                            p.purpose.to_string(),
                            format!(
                                "{}{}",
                                p.outcome,
                                p.error_code.map_or(String::new(), |c| format!(" ({c})"))
                            ),
                        ]
                    })
                    .collect(),
            });
        }
        if verbose {
            out.push(Section::Table {
                title: "TURN transactions".into(),
                header: ["request", "auth", "answer", "code", "rtt ms", "tx"]
                    .map(String::from)
                    .to_vec(),
                rows: t
                    .learned
                    .transactions
                    .iter()
                    .map(|x| {
                        vec![
                            x.method.clone(),
                            if x.authenticated { "MI" } else { "-" }.into(),
                            x.class.clone(),
                            opt(&x.error_code),
                            x.rtt_ms.map_or("-".into(), |r| format!("{r:.2}")),
                            x.transmissions.to_string(),
                        ]
                    })
                    .collect(),
            });
        }
    }
    out
}
