//! The ladder view: a sequence diagram of one dialog, one column per address.

use std::fmt::Write as _;
use std::net::SocketAddr;

use super::{MessageReport, PcapDecodeResult, Time};

impl PcapDecodeResult {
    /// Seconds since the capture's first frame, as the messages and ladder views show them.
    pub(super) fn rel(&self, t: Time) -> String {
        let first = self.capture.first.map_or(0, |f| f.0);
        format!("{:.6}", (t.0 - first) as f64 / 1e9)
    }

    /// The ladder (sequence diagram) of one dialog as text; `None` when the Call-ID is unknown.
    pub fn ladder(&self, call_id: &str) -> Option<String> {
        let msgs: Vec<&MessageReport> = self
            .messages
            .iter()
            .filter(|m| m.call_id == call_id)
            .collect();
        if msgs.is_empty() {
            return None;
        }
        let mut hosts: Vec<SocketAddr> = Vec::new();
        for m in &msgs {
            for a in [m.src, m.dst] {
                if !hosts.contains(&a) {
                    hosts.push(a);
                }
            }
        }
        const COL: usize = 30;
        let width = COL * (hosts.len() - 1) + 1;
        let mut out = String::new();
        let mut head = String::new();
        for (i, h) in hosts.iter().enumerate() {
            let label = h.to_string();
            let pos = i * COL;
            while head.chars().count() < pos.saturating_sub(label.len() / 2) {
                head.push(' ');
            }
            head.push_str(&label);
            head.push(' ');
        }
        let _ = writeln!(out, "{:>12}  {}", "", head.trim_end());
        for m in msgs {
            let (a, b) = (
                hosts.iter().position(|h| *h == m.src).unwrap_or(0),
                hosts.iter().position(|h| *h == m.dst).unwrap_or(0),
            );
            let mut line: Vec<char> = vec![' '; width];
            for i in 0..hosts.len() {
                line[i * COL] = '|';
            }
            let (lo, hi) = (a.min(b) * COL, a.max(b) * COL);
            let mut label = m
                .message
                .split(' ')
                .take(if m.status.is_some() { 4 } else { 1 })
                .collect::<Vec<_>>()
                .join(" ");
            if m.sdp {
                label.push_str(" (SDP)");
            }
            if hi > lo {
                for c in line.iter_mut().take(hi).skip(lo + 1) {
                    *c = '-';
                }
                if b > a {
                    line[hi - 1] = '>';
                } else {
                    line[lo + 1] = '<';
                }
                let room = hi - lo - 3;
                let label: String = label.chars().take(room).collect();
                let start = lo + 2 + (room - label.chars().count()) / 2;
                for (k, ch) in label.chars().enumerate() {
                    line[start + k] = ch;
                }
            }
            let _ = writeln!(
                out,
                "{:>12}  {}",
                self.rel(m.time),
                line.into_iter().collect::<String>().trim_end()
            );
        }
        Some(out)
    }
}
