//! The human rendering of `call`: the verdict line and the tables.

use super::CallResult;
use crate::diagnose::media::Verdict;
use crate::report::{Describe, Section, opt, yes_no};
use crate::sip::invite::{CallOutcome, HangupBy};

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Ok => "ok",
        Verdict::Poor => "poor",
        Verdict::Dead => "dead",
        Verdict::NotExpected => "not expected",
        Verdict::Unknown => "unknown",
    }
}

fn f1(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.1}"))
}

impl Describe for CallResult {
    fn verdict(&self) -> String {
        let status = match (self.final_status, &self.reason) {
            (Some(c), Some(r)) => format!("{c} {r}"),
            _ => "no final response".into(),
        };
        match self.outcome {
            CallOutcome::Answered | CallOutcome::Interrupted if self.timing_ms.answer.is_some() => {
                let Some(m) = &self.media else {
                    return format!("answered in {} ms; no media", f1(self.timing_ms.answer));
                };
                let both = m.verdict.inbound == Verdict::Ok && m.verdict.outbound == Verdict::Ok;
                let audio = match (m.verdict.inbound, m.verdict.outbound) {
                    _ if both => "audio both ways".to_string(),
                    (Verdict::Dead, Verdict::Dead) => "NO audio either way".into(),
                    (Verdict::Dead, _) => "ONE-WAY audio: nothing from the far end".into(),
                    (_, Verdict::Dead) => "ONE-WAY audio: the far end gets nothing".into(),
                    (i, o) => format!("audio in {}, out {}", verdict_word(i), verdict_word(o)),
                };
                let out_evidence = match (&m.outbound.remote_report, &m.outbound.echo) {
                    (Some(r), _) => format!(" (far end: {:.1} % lost)", r.fraction_lost_percent),
                    (None, Some(e)) => format!(" ({} echoed)", e.returned),
                    _ => String::new(),
                };
                let inbound = if m.inbound.packets == 0 {
                    "in 0".to_string()
                } else {
                    format!("in {}/{}", m.inbound.packets, m.inbound.expected)
                };
                let mut line = format!(
                    "answered in {} ms; {audio} — {inbound}, out {}{out_evidence}",
                    f1(self.timing_ms.answer),
                    m.outbound.packets,
                );
                if m.inbound.packets > 0 {
                    line.push_str(&format!(
                        "; jitter {}/{} ms",
                        f1(Some(m.inbound.jitter_mean_ms)),
                        f1(Some(m.inbound.jitter_max_ms))
                    ));
                }
                if let Some(rtt) = m.rtt_ms {
                    line.push_str(&format!("; RTT {rtt:.1} ms"));
                }
                if m.mos.inbound.is_some() || m.mos.outbound.is_some() {
                    line.push_str(&format!(
                        "; MOS {}/{}",
                        m.mos.inbound.map_or("-".into(), |x| format!("{x:.2}")),
                        m.mos.outbound.map_or("-".into(), |x| format!("{x:.2}"))
                    ));
                }
                line
            }
            CallOutcome::Busy => format!("busy ({status})"),
            CallOutcome::Rejected => format!("rejected ({status})"),
            CallOutcome::NoAnswer => format!("no answer ({status})"),
            CallOutcome::Cancelled => format!("cancelled ({status})"),
            CallOutcome::Unreachable => format!(
                "unreachable: {}",
                self.error.as_deref().unwrap_or("no flow to the server")
            ),
            CallOutcome::AuthFailed => format!("authentication failed ({status})"),
            CallOutcome::Interrupted => "interrupted before the answer".into(),
            CallOutcome::Answered => format!("answered ({status})"),
        }
    }

    fn sections(&self, _verbose: bool) -> Vec<Section> {
        let mut rows = vec![
            (
                "Server".to_string(),
                format!("{} ({})", opt(&self.server), opt(&self.transport)),
            ),
            ("Local address".into(), opt(&self.local_address)),
            ("Call-ID".into(), self.call_id.clone()),
            (
                "Seen by the far end as".into(),
                opt(&self.nat.public_address),
            ),
            ("NAT detected".into(), yes_no(self.nat.nat_detected)),
        ];
        if let Some(sdp) = &self.sdp {
            rows.push((
                "Offer".into(),
                format!(
                    "{}:{} {}",
                    sdp.offer.address,
                    sdp.offer.port,
                    sdp.offer.codecs.join(" ")
                ),
            ));
        }
        if let Some(a) = self.sdp.as_ref().and_then(|s| s.answer.as_ref()) {
            rows.push((
                "Answer".into(),
                format!(
                    "{}:{} {} (PT {}) {}{}{}",
                    opt(&a.address),
                    opt(&a.port),
                    a.codec,
                    a.payload_type,
                    a.direction,
                    if a.private_address {
                        ", private address"
                    } else {
                        ""
                    },
                    if self.early_media { ", early" } else { "" }
                ),
            ));
        }
        if let Some(a) = &self.auth {
            rows.push((
                "Authentication".into(),
                format!(
                    "{} {} realm \"{}\" ({})",
                    a.algorithm,
                    a.qop.as_deref().unwrap_or("(no qop)"),
                    a.realm,
                    a.challenge_status
                ),
            ));
        }
        if let Some(h) = &self.hangup {
            rows.push((
                "Hung up by".into(),
                match h.by {
                    HangupBy::Us => format!("us (BYE → {})", opt(&h.bye_status)),
                    HangupBy::FarEnd => "the far end".into(),
                },
            ));
        }
        let mut out = vec![Section::Facts {
            title: "Call".into(),
            rows,
        }];
        if let Some(m) = &self.media {
            let report = m.outbound.remote_report.as_ref();
            out.push(Section::Table {
                title: "Media".into(),
                header: vec![
                    "Direction".into(),
                    "Verdict".into(),
                    "Packets".into(),
                    "Lost".into(),
                    "Jitter ms".into(),
                    "MOS".into(),
                    "Source of the figures".into(),
                ],
                rows: vec![
                    vec![
                        "inbound".into(),
                        verdict_word(m.verdict.inbound).into(),
                        format!("{}/{}", m.inbound.packets, m.inbound.expected),
                        crate::report::lost_cell(m.inbound.lost, m.inbound.loss_percent),
                        format!(
                            "{:.1}/{:.1}",
                            m.inbound.jitter_mean_ms, m.inbound.jitter_max_ms
                        ),
                        m.mos.inbound.map_or("-".into(), |x| format!("{x:.2}")),
                        "our receiver (RFC 3550)".into(),
                    ],
                    vec![
                        "outbound".into(),
                        verdict_word(m.verdict.outbound).into(),
                        match &m.outbound.echo {
                            Some(e) => {
                                format!("{} sent, {} echoed", m.outbound.packets, e.returned)
                            }
                            None => format!("{} sent", m.outbound.packets),
                        },
                        report.map_or("-".into(), |r| {
                            format!("{} ({:.1} %)", r.cumulative_lost, r.fraction_lost_percent)
                        }),
                        report.map_or("-".into(), |r| format!("{:.1}", r.jitter_ms)),
                        m.mos.outbound.map_or("-".into(), |x| format!("{x:.2}")),
                        {
                            let basis = match m.mos.basis_outbound {
                                Some("rtcp") => "the far end's RTCP report",
                                Some("echo") => "the echo",
                                _ => "no evidence",
                            };
                            match m.outbound.remote_xr.and_then(|x| x.mos_lq) {
                                Some(lq) => format!("{basis}; its XR says MOS-LQ {lq:.1}"),
                                None => basis.to_string(),
                            }
                        },
                    ],
                ],
            });
        }
        out.push(Section::Table {
            title: "Ladder".into(),
            header: vec!["ms".into(), "".into(), "Message".into()],
            rows: self
                .ladder
                .iter()
                .map(|s| {
                    vec![
                        format!("{:.1}", s.at_ms),
                        match s.by {
                            crate::sip::invite::Sender::Us => "→".into(),
                            crate::sip::invite::Sender::Them => "←".into(),
                        },
                        format!(
                            "{}{}{}",
                            s.message,
                            if s.sdp { " (SDP)" } else { "" },
                            if s.authenticated {
                                " (credentials)"
                            } else {
                                ""
                            }
                        ),
                    ]
                })
                .collect(),
        });
        if !self.expectations.is_empty() {
            out.push(Section::Table {
                title: "Expectations".into(),
                header: vec!["Name".into(), "Expected".into(), "Actual".into(), "".into()],
                rows: self
                    .expectations
                    .iter()
                    .map(|e| {
                        vec![
                            e.name.into(),
                            e.expected.clone(),
                            e.actual.clone().unwrap_or("-".into()),
                            if e.pass { "pass".into() } else { "FAIL".into() },
                        ]
                    })
                    .collect(),
            });
        }
        out
    }
}
