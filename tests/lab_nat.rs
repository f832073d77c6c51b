//! Lab tests: `voipdiag nat-probe` against coturn through real Linux NATs in network
//! namespaces (tests/lab/nat-lab.sh), checked against an independent socket oracle
//! (tests/lab/oracle.py) that measures each topology's real behaviour without STUN.
//!
//! Needs root, iproute2, nftables, coturn and python3. Without them the tests say why and
//! skip — unless VOIPDIAG_LAB_REQUIRED=1 (as in CI), where a missing prerequisite fails.
//! Scenarios run one at a time (a process-wide lock): the probe's verdicts rest on timing
//! of silence, and the machine has 2 cores.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

mod common;

use common::codes;

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

/// What the NAT lab adds to [`Lab`]: the independent oracle and nat-probe in the client.
trait NatLab {
    fn oracle(&self) -> Value;
    fn probe_json(&self, args: &[&str]) -> (i32, Value);
}

impl NatLab for Lab {
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

    /// nat-probe in the client namespace: (exit code, the report).
    fn probe_json(&self, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["nat-probe", "--timeout", "2s"];
        all.extend_from_slice(args);
        self.voipdiag_json('c', &all)
    }
}

fn ip_of(addr: &Value) -> String {
    let s = addr.as_str().unwrap_or_default();
    s.rsplit_once(':')
        .map(|(ip, _)| ip.to_string())
        .unwrap_or_default()
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

    // 2. voipdiag says the same: the report decoded into typed values (addresses must parse
    // as ip:port).
    let (code, json) = lab.probe_json(&["--server", "203.0.113.10"]);
    let report: common::json::Report<common::json::NatProbe> = common::json::decode(&json);
    let r = &report.result;
    assert_eq!(report.command, "nat-probe");
    assert_eq!(
        r.mapping,
        truth["mapping"].as_str().unwrap(),
        "{}: {json:#}",
        s.topology
    );
    assert_eq!(
        r.filtering,
        truth["filtering"].as_str().unwrap(),
        "{}: {json:#}",
        s.topology
    );
    assert_eq!(r.classic_type.as_deref(), s.classic_type, "{}", s.topology);
    assert_eq!(r.nat_detected, Some(s.nat_detected), "{}", s.topology);
    let mapped = r.mapped_address.expect("a mapped address");
    assert_eq!(mapped.ip().to_string(), s.public_ip, "{}", s.topology);
    assert_eq!(r.hairpinning, s.hairpinning, "{}", s.topology);
    assert_eq!(r.port_preservation, s.port_preservation, "{}", s.topology);
    assert!(r.rfc5780);
    assert_eq!(r.transport, "udp");
    assert!(!r.udp_blocked);
    assert_eq!(r.primary_server, Some("203.0.113.10:3478".parse().unwrap()));
    assert_eq!(r.servers[0].status, "answered");
    assert_eq!(code, s.exit, "{}: exit code; {json:#}", s.topology);
    assert!(
        report.codes().contains(&s.finding),
        "{}: expected finding {} in {:?}",
        s.topology,
        s.finding,
        report.codes()
    );
    assert_eq!(report.status, if s.exit == 0 { "ok" } else { "problem" });
    // Every test is listed with request, outcome and (when answered) an RTT within the
    // probe: it starts after the test started and ends before the verdict.
    for name in [
        "binding",
        "mapping-test-2",
        "mapping-test-3",
        "filtering-test-2",
        "filtering-test-3",
    ] {
        let t = r
            .tests
            .iter()
            .find(|t| t.test == name)
            .unwrap_or_else(|| panic!("test {name} missing"));
        assert_eq!(t.transport, "udp");
        assert_eq!(t.request.transaction_id.len(), 24);
        assert!(t.transmissions >= 1);
        if t.outcome == "answered" {
            let rtt = t.rtt_ms.expect("an answered test has an RTT");
            let started = t.started_ms.expect("a sent test has a start");
            assert!(started + rtt <= r.probe_ms, "{t:?}");
            assert!(t.response.is_some(), "{t:?}");
        }
    }
    assert_eq!(report.version, env!("CARGO_PKG_VERSION"));
    assert!(report.started_at.ends_with('Z') && report.duration_ms > 0);
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
    let out = lab.voipdiag(
        'c',
        &["nat-probe", "--server", "203.0.113.10", "--color", "never"],
        &[],
    );
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
