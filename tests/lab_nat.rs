//! Lab tests: `voipdiag nat-probe` against coturn through real Linux NATs in network
//! namespaces (tests/lab/nat-lab.sh), checked against an independent socket oracle
//! (tests/lab/oracle.py) that measures each topology's real behaviour without STUN.
//!
//! Needs root, iproute2, nftables, coturn and python3. Without them the tests say why and
//! skip — unless VOIPDIAG_LAB_REQUIRED=1 (as in CI), where a missing prerequisite fails.
//! Scenarios run one at a time (a process-wide lock): the probe's verdicts rest on timing
//! of silence, and the machine has 2 cores.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

mod common;

static SERIAL: Mutex<()> = Mutex::new(());

fn oracle_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/lab/oracle.py")
}

fn lab_available() -> bool {
    common::lab_available(
        &["ip", "nft", "turnserver", "python3"],
        "apt-get install iproute2 nftables coturn python3",
    )
}

/// Takes the process-wide lab lock; `None` (after saying why) when the lab cannot run here.
fn lab_session() -> Option<std::sync::MutexGuard<'static, ()>> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    lab_available().then_some(guard)
}

use common::Lab;

/// Builds a nat-lab.sh topology.
fn nat_lab(code: char, topology: &str) -> Lab {
    Lab::up("tests/lab/nat-lab.sh", "vd", code, &[topology])
}

impl Lab {
    /// Runs the oracle: its server in the server namespace, its client in the client's.
    fn oracle(&self) -> Value {
        let mut server = Command::new("ip")
            .args(["netns", "exec", &self.ns('s'), "python3"])
            .arg(oracle_script())
            .arg("server")
            .stdout(Stdio::null())
            .spawn()
            .expect("start oracle server");
        std::thread::sleep(Duration::from_millis(300));
        let out = Command::new("ip")
            .args(["netns", "exec", &self.ns('c'), "python3"])
            .arg(oracle_script())
            .arg("client")
            .output()
            .expect("run oracle client");
        let _ = server.kill();
        let _ = server.wait();
        assert!(
            out.status.success(),
            "oracle failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("oracle JSON")
    }

    /// Runs voipdiag in the client namespace.
    fn voipdiag(&self, args: &[&str]) -> Output {
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns('c'),
                env!("CARGO_BIN_EXE_voipdiag"),
            ])
            .args(args)
            .output()
            .expect("run voipdiag")
    }

    fn probe_json(&self, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["nat-probe", "--json", "--timeout", "2s"];
        all.extend_from_slice(args);
        let out = self.voipdiag(&all);
        let code = out.status.code().unwrap_or(-1);
        let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): stdout={} stderr={}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (code, json)
    }
}

fn ip_of(addr: &Value) -> String {
    let s = addr.as_str().unwrap_or_default();
    s.rsplit_once(':')
        .map(|(ip, _)| ip.to_string())
        .unwrap_or_default()
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// What a topology really does and what voipdiag must say about it.
struct Scenario {
    code: char,
    topology: &'static str,
    mapping: &'static str,
    filtering: &'static str,
    classic_type: Option<&'static str>,
    nat_detected: bool,
    public_ip: &'static str,
    hairpinning: Option<bool>,
    port_preservation: Option<bool>,
    exit: i32,
    finding: &'static str,
}

fn run_scenario(s: &Scenario) {
    let Some(_serial) = lab_session() else {
        return;
    };
    let lab = nat_lab(s.code, s.topology);

    // 1. The topology really behaves as designed (independent of STUN and of voipdiag).
    let truth = lab.oracle();
    assert_eq!(
        truth["mapping"], s.mapping,
        "oracle mapping for {}",
        s.topology
    );
    assert_eq!(
        truth["filtering"], s.filtering,
        "oracle filtering for {}",
        s.topology
    );
    assert_eq!(
        ip_of(&truth["mapped_address"]),
        s.public_ip,
        "oracle public address"
    );

    // 2. voipdiag says the same.
    let (code, report) = lab.probe_json(&["--server", "203.0.113.10"]);
    let r = &report["result"];
    assert_eq!(report["command"], "nat-probe");
    assert_eq!(r["mapping"], truth["mapping"], "{}: {report:#}", s.topology);
    assert_eq!(
        r["filtering"], truth["filtering"],
        "{}: {report:#}",
        s.topology
    );
    assert_eq!(
        r["classic_type"],
        serde_json::json!(s.classic_type),
        "{}",
        s.topology
    );
    assert_eq!(r["nat_detected"], s.nat_detected, "{}", s.topology);
    assert_eq!(ip_of(&r["mapped_address"]), s.public_ip, "{}", s.topology);
    assert_eq!(
        r["hairpinning"],
        serde_json::json!(s.hairpinning),
        "{}",
        s.topology
    );
    assert_eq!(
        r["port_preservation"],
        serde_json::json!(s.port_preservation),
        "{}",
        s.topology
    );
    assert_eq!(r["rfc5780"], true);
    assert_eq!(code, s.exit, "{}: exit code; {report:#}", s.topology);
    assert!(
        codes(&report).iter().any(|c| c == s.finding),
        "{}: expected finding {} in {:?}",
        s.topology,
        s.finding,
        codes(&report)
    );
    // Every test is listed with request, outcome and (when answered) an RTT.
    let tests = r["tests"].as_array().unwrap();
    for name in [
        "binding",
        "mapping-test-2",
        "mapping-test-3",
        "filtering-test-2",
        "filtering-test-3",
    ] {
        let t = tests
            .iter()
            .find(|t| t["test"] == name)
            .unwrap_or_else(|| panic!("test {name} missing"));
        assert!(t["request"]["to"].is_string());
        if t["outcome"] == "answered" {
            assert!(t["rtt_ms"].as_f64().unwrap() >= 0.0);
        }
    }
    for key in ["started_at", "duration_ms", "version", "status", "findings"] {
        assert!(!report[key].is_null(), "envelope key {key}");
    }
}

#[test]
fn open_internet() {
    run_scenario(&Scenario {
        code: 'a',
        topology: "open",
        mapping: "endpoint-independent",
        filtering: "endpoint-independent",
        classic_type: Some("open-internet"),
        nat_detected: false,
        public_ip: "198.51.100.2",
        hairpinning: None,
        port_preservation: None,
        exit: 0,
        finding: "NO_NAT",
    });
}

#[test]
fn symmetric_udp_firewall() {
    run_scenario(&Scenario {
        code: 'b',
        topology: "firewall",
        mapping: "endpoint-independent",
        filtering: "address-and-port-dependent",
        classic_type: Some("symmetric-udp-firewall"),
        nat_detected: false,
        public_ip: "198.51.100.2",
        hairpinning: None,
        port_preservation: None,
        exit: 0,
        finding: "FILTERING_ADDRESS_AND_PORT_DEPENDENT",
    });
}

#[test]
fn full_cone() {
    run_scenario(&Scenario {
        code: 'c',
        topology: "full-cone",
        mapping: "endpoint-independent",
        filtering: "endpoint-independent",
        classic_type: Some("full-cone"),
        nat_detected: true,
        public_ip: "203.0.113.1",
        hairpinning: Some(true),
        port_preservation: Some(true),
        exit: 0,
        finding: "FILTERING_ENDPOINT_INDEPENDENT",
    });
}

#[test]
fn restricted_cone() {
    run_scenario(&Scenario {
        code: 'd',
        topology: "restricted-cone",
        mapping: "endpoint-independent",
        filtering: "address-dependent",
        classic_type: Some("restricted-cone"),
        nat_detected: true,
        public_ip: "203.0.113.1",
        hairpinning: Some(true),
        port_preservation: Some(true),
        exit: 0,
        finding: "FILTERING_ADDRESS_DEPENDENT",
    });
}

#[test]
fn port_restricted_cone() {
    run_scenario(&Scenario {
        code: 'e',
        topology: "port-restricted",
        mapping: "endpoint-independent",
        filtering: "address-and-port-dependent",
        classic_type: Some("port-restricted-cone"),
        nat_detected: true,
        public_ip: "203.0.113.1",
        hairpinning: Some(false),
        port_preservation: Some(true),
        exit: 0,
        finding: "NO_HAIRPINNING",
    });
}

#[test]
fn symmetric() {
    run_scenario(&Scenario {
        code: 'f',
        topology: "symmetric",
        mapping: "address-and-port-dependent",
        filtering: "address-and-port-dependent",
        classic_type: Some("symmetric"),
        nat_detected: true,
        public_ip: "203.0.113.1",
        hairpinning: Some(false),
        port_preservation: Some(false),
        exit: 1,
        finding: "SYMMETRIC_NAT",
    });
}

#[test]
fn double_nat_with_cgnat_outer() {
    run_scenario(&Scenario {
        code: 'g',
        topology: "double-nat",
        mapping: "endpoint-independent",
        filtering: "address-and-port-dependent",
        classic_type: Some("port-restricted-cone"),
        nat_detected: true,
        public_ip: "203.0.113.1",
        hairpinning: Some(false),
        port_preservation: Some(true),
        exit: 0,
        finding: "NAT_DETECTED",
    });
}

#[test]
fn udp_blocked_is_told_apart_from_server_down() {
    let Some(_serial) = lab_session() else {
        return;
    };
    {
        let lab = nat_lab('h', "udp-blocked");
        let truth = lab.oracle();
        assert_eq!(truth["udp"], false, "oracle: UDP must really be blocked");
        let (code, report) = lab.probe_json(&["--server", "203.0.113.10"]);
        let r = &report["result"];
        assert_eq!(code, 1, "{report:#}");
        assert_eq!(report["status"], "problem");
        assert_eq!(r["classic_type"], "udp-blocked");
        assert_eq!(r["udp_blocked"], true);
        assert_eq!(r["transport"], "tcp");
        assert_eq!(ip_of(&r["mapped_address"]), "203.0.113.1");
        assert_eq!(r["mapping"], "unknown");
        assert_eq!(r["filtering"], "unknown");
        assert!(codes(&report).contains(&"UDP_BLOCKED".to_string()));
    }
    {
        let lab = nat_lab('i', "server-down");
        let (code, report) = lab.probe_json(&["--server", "203.0.113.10"]);
        assert_eq!(code, 3, "{report:#}");
        assert_eq!(report["status"], "no-answer");
        assert_eq!(report["result"]["udp_blocked"], false);
        assert!(report["result"]["mapped_address"].is_null());
        let c = codes(&report);
        assert!(c.contains(&"NO_ANSWER".to_string()), "{c:?}");
        // Nothing listens: the ICMP port unreachable is reported, not just a timeout.
        assert_eq!(
            report["result"]["servers"][0]["status"], "unreachable",
            "{report:#}"
        );
        assert!(
            report["result"]["servers"][0]["error"]
                .as_str()
                .unwrap()
                .contains("port unreachable")
        );
        assert!(c.contains(&"SERVER_UNREACHABLE".to_string()), "{c:?}");
    }
}

#[test]
fn without_rfc5780_mapping_comes_from_several_servers_and_filtering_is_unknown() {
    let Some(_serial) = lab_session() else {
        return;
    };
    let plain = [
        "--server",
        "203.0.113.12",
        "--server",
        "203.0.113.12:3480",
        "--server",
        "203.0.113.13",
    ];
    for (code, topology, mapping, classic, exit) in [
        (
            'j',
            "port-restricted",
            "endpoint-independent",
            Value::Null,
            0,
        ),
        (
            'k',
            "symmetric",
            "address-and-port-dependent",
            Value::from("symmetric"),
            1,
        ),
    ] {
        let lab = nat_lab(code, topology);
        let (rc, report) = lab.probe_json(&plain);
        let r = &report["result"];
        assert_eq!(r["rfc5780"], false, "{report:#}");
        assert_eq!(r["mapping"], mapping, "{topology}: {report:#}");
        assert_eq!(r["filtering"], "unknown", "{topology}: never guessed");
        assert_eq!(r["classic_type"], classic, "{topology}");
        assert_eq!(rc, exit, "{topology}");
        assert!(codes(&report).contains(&"FILTERING_UNKNOWN".to_string()));
        assert_eq!(r["servers"].as_array().unwrap().len(), 3);
    }
}

#[test]
fn binding_lifetime_is_measured_within_its_bound() {
    let Some(_serial) = lab_session() else {
        return;
    };
    let lab = nat_lab('l', "port-restricted");
    // The router forgets idle UDP mappings after 3 s.
    for key in [
        "nf_conntrack_udp_timeout",
        "nf_conntrack_udp_timeout_stream",
    ] {
        let ok = Command::new("ip")
            .args([
                "netns",
                "exec",
                &lab.ns('r'),
                "sysctl",
                "-qw",
                &format!("net.netfilter.{key}=3"),
            ])
            .status()
            .unwrap();
        assert!(ok.success());
    }
    let (code, report) = lab.probe_json(&[
        "--server",
        "203.0.113.10",
        "--lifetime",
        "--lifetime-max",
        "8s",
    ]);
    let r = &report["result"];
    let at_least = r["binding_lifetime"]["at_least_s"]
        .as_u64()
        .unwrap_or_else(|| panic!("{report:#}"));
    let less_than = r["binding_lifetime"]["less_than_s"].as_u64().unwrap();
    assert!(
        (2..=3).contains(&at_least),
        "at least {at_least} s: {report:#}"
    );
    assert!((3..=5).contains(&less_than), "less than {less_than} s");
    assert_eq!(r["binding_lifetime_s"].as_u64(), Some(at_least));
    assert_eq!(code, 0);
    assert!(codes(&report).contains(&"BINDING_LIFETIME".to_string()));
    // The ladder stops at --lifetime-max: no check waited longer.
    let waits: Vec<u64> = r["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| {
            t["test"]
                .as_str()?
                .strip_prefix("lifetime-check-")?
                .strip_suffix('s')?
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(waits.iter().max(), Some(&8), "{waits:?}");
}

#[test]
fn ctrl_c_prints_what_was_learned() {
    let Some(_serial) = lab_session() else {
        return;
    };
    let lab = nat_lab('m', "port-restricted");
    let out = lab.voipdiag_interrupted(
        'c',
        &[
            "nat-probe",
            "--json",
            "--server",
            "203.0.113.10",
            "--lifetime",
            "--lifetime-max",
            "60s",
        ],
        Duration::from_millis(1500),
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("a report after Ctrl-C");
    let r = &report["result"];
    assert_eq!(r["interrupted"], true);
    assert_eq!(
        r["mapping"], "endpoint-independent",
        "learned before the interrupt"
    );
    assert_eq!(r["filtering"], "address-and-port-dependent");
    assert!(codes(&report).contains(&"INTERRUPTED".to_string()));
}

#[test]
fn human_output_leads_with_a_verdict_and_explains_for_calls() {
    let Some(_serial) = lab_session() else {
        return;
    };
    let lab = nat_lab('n', "symmetric");
    let out = lab.voipdiag(&["nat-probe", "--server", "203.0.113.10", "--color", "never"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("PROBLEM symmetric NAT"), "{first}");
    assert!(text.contains("TURN/media relay"), "{text}");
    assert!(text.contains("address-and-port-dependent"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.is_empty(),
        "no progress or traces on stderr when not a terminal"
    );
}

#[test]
fn tcp_transport_learns_the_public_address() {
    let Some(_serial) = lab_session() else {
        return;
    };
    let lab = nat_lab('o', "port-restricted");
    let (code, report) = lab.probe_json(&["--server", "203.0.113.10", "--transport", "tcp"]);
    let r = &report["result"];
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(r["transport"], "tcp");
    assert_eq!(r["nat_detected"], true);
    assert_eq!(ip_of(&r["mapped_address"]), "203.0.113.1");
    assert_eq!(ip_of(&r["local_address"]), "10.77.0.2");
    // Over TCP only the address is learned; UDP behaviour is not guessed.
    assert_eq!(r["mapping"], "unknown");
    assert_eq!(r["filtering"], "unknown");
    assert_eq!(r["tests"][0]["test"], "tcp-binding");
    assert_eq!(r["tests"][0]["outcome"], "answered");
}
