//! The JSON reports as typed values (ripgrep's `tests/json.rs` way): a test decodes the
//! document into these structs instead of poking at untyped keys, so a renamed key, a wrong
//! type or an address that does not parse as `ip:port` fails the decode. Only the keys the
//! tests read are modelled; the documents may carry more ("may grow, never renamed").

use std::net::SocketAddr;

use serde::Deserialize;

/// The envelope every command prints (DESIGN.md, "Output contract").
#[derive(Debug, Deserialize)]
pub struct Report<T> {
    /// The subcommand.
    pub command: String,
    /// voipdiag's version.
    pub version: String,
    /// RFC 3339 start.
    pub started_at: String,
    /// Wall time, ms.
    pub duration_ms: u64,
    /// `ok`, `problem`, `no-answer`, `error`.
    pub status: String,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// The command's result.
    pub result: T,
}

/// One finding.
#[derive(Debug, Deserialize)]
pub struct Finding {
    /// Stable code.
    pub code: String,
    /// `info`, `warning`, `critical`.
    pub severity: String,
    /// In words.
    pub message: String,
}

impl<T> Report<T> {
    /// The finding codes in order.
    pub fn codes(&self) -> Vec<&str> {
        self.findings.iter().map(|f| f.code.as_str()).collect()
    }
}

/// Decodes a report; panics with the document when it does not fit.
pub fn decode<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Report<T> {
    serde_json::from_value(v.clone())
        .unwrap_or_else(|e| panic!("report does not decode: {e}\n{v:#}"))
}

/// `result` of nat-probe.
#[derive(Debug, Deserialize)]
pub struct NatProbe {
    /// RFC 4787 mapping.
    pub mapping: String,
    /// RFC 4787 filtering.
    pub filtering: String,
    /// NAT between us and the server.
    pub nat_detected: Option<bool>,
    /// Our address.
    pub local_address: Option<SocketAddr>,
    /// The public address.
    pub mapped_address: Option<SocketAddr>,
    /// RFC 3489 name.
    pub classic_type: Option<String>,
    /// Hairpinning.
    pub hairpinning: Option<bool>,
    /// Port preservation.
    pub port_preservation: Option<bool>,
    /// `udp` or `tcp`.
    pub transport: String,
    /// UDP blocked, TCP worked.
    pub udp_blocked: bool,
    /// The primary server supports RFC 5780.
    pub rfc5780: bool,
    /// The primary server.
    pub primary_server: Option<SocketAddr>,
    /// Every server.
    pub servers: Vec<NatServer>,
    /// Every test.
    pub tests: Vec<NatTest>,
    /// Probe time, ms.
    pub probe_ms: f64,
}

/// One STUN server of nat-probe.
#[derive(Debug, Deserialize)]
pub struct NatServer {
    /// As given.
    pub server: String,
    /// As used.
    pub address: Option<SocketAddr>,
    /// `answered`, `timeout`, …
    pub status: String,
}

/// One test of nat-probe.
#[derive(Debug, Deserialize)]
pub struct NatTest {
    /// `binding`, `mapping-test-2`, …
    pub test: String,
    /// `udp` or `tcp`.
    pub transport: String,
    /// What was sent.
    pub request: NatRequest,
    /// `answered`, `timeout`, …
    pub outcome: String,
    /// What came back.
    pub response: Option<NatResponse>,
    /// Round trip, ms.
    pub rtt_ms: Option<f64>,
    /// Transmissions.
    pub transmissions: u32,
    /// Start, ms after the probe's.
    pub started_ms: Option<f64>,
}

/// A test's request.
#[derive(Debug, Deserialize)]
pub struct NatRequest {
    /// Our socket.
    pub from: Option<SocketAddr>,
    /// The destination.
    pub to: SocketAddr,
    /// 24 hex digits.
    pub transaction_id: String,
}

/// A test's response.
#[derive(Debug, Deserialize)]
pub struct NatResponse {
    /// Its source.
    pub from: SocketAddr,
    /// The mapped address in it.
    pub mapped_address: Option<SocketAddr>,
}
