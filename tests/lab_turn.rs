//! Lab tests: `voipdiag nat-probe --turn` against Debian's coturn in network namespaces
//! (tests/lab/turn-lab.sh: one coturn instance per behaviour, behind a real Linux NAT).
//!
//! Needs root, iproute2, nftables, coturn, openssl and conntrack. Without them the tests say
//! why and skip — unless VOIPDIAG_LAB_REQUIRED=1 (as in CI), where a missing prerequisite
//! fails. One lab at a time (a process-wide lock).

use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

mod common;

use common::{Lab, codes};

static SERIAL: Mutex<()> = Mutex::new(());

const PASSWORD: &str = "secret-pw";

fn lab_session() -> Option<std::sync::MutexGuard<'static, ()>> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    common::lab_available(
        &["ip", "nft", "turnserver", "openssl", "conntrack"],
        "apt-get install iproute2 nftables coturn openssl conntrack",
    )
    .then_some(guard)
}

/// `nat-probe --json --turn-only --timeout 2s ARGS…` in the client, with the password in
/// the environment; (exit code, report, stderr).
fn turn(lab: &Lab, args: &[&str]) -> (i32, Value, String) {
    turn_env(lab, args, &[("VOIPDIAG_TURN_PASSWORD", PASSWORD)])
}

fn turn_env(lab: &Lab, args: &[&str], env: &[(&str, &str)]) -> (i32, Value, String) {
    let mut all = vec!["nat-probe", "--turn-only", "--timeout", "2s"];
    all.extend_from_slice(args);
    let (code, v, out) = lab.voipdiag_json_env('c', &all, env);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        !stdout.contains(PASSWORD),
        "the password never reaches the report"
    );
    (code, v, String::from_utf8_lossy(&out.stderr).to_string())
}

fn first(v: &Value) -> &Value {
    &v["result"]["turn"][0]
}

fn has(v: &Value, code: &str) -> bool {
    codes(v).iter().any(|c| c == code)
}

fn severity(v: &Value, code: &str) -> String {
    v["findings"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["code"] == code))
        .map(|f| f["severity"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

fn assert_works(v: &Value, strategy: &str) {
    let t = first(v);
    assert_eq!(t["status"], "works", "{t:#}");
    let m = &t["media"];
    assert_eq!(m["strategy"], strategy, "{m:#}");
    assert_eq!(
        m["via"],
        serde_json::json!(["indication", "channel"]),
        "{m:#}"
    );
    assert_eq!(m["inbound"]["sent"], 20);
    assert_eq!(m["inbound"]["received"], 20, "{m:#}");
    assert_eq!(m["outbound"]["received"], 20, "{m:#}");
    assert_eq!(m["loss_pct"], 0.0);
    assert!(m["rtt_ms"]["min"].as_f64().unwrap() > 0.0);
    assert_eq!(t["deleted"], true, "always deleted: {t:#}");
    assert!(has(v, "TURN_RELAY_OK"));
}

#[test]
fn turn_relays_through_a_symmetric_nat() {
    let Some(_serial) = lab_session() else {
        return;
    };
    let lab = Lab::up("tests/lab/turn-lab.sh", "vt", 's', &["symmetric"]);
    let ca = format!("/tmp/turn-lab-{}/ca.pem", lab.prefix);

    // Good long-term credentials over UDP, self strategy through an APDM/APDF NAT: both
    // ways through indications and a channel; candidates with RFC 8445 priorities.
    let (code, v, _) = turn(
        &lab,
        &["--turn", "turn:203.0.113.10", "--turn-user", "alice"],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_works(&v, "self");
    let t = first(&v);
    assert_eq!(t["auth"]["outcome"], "accepted");
    assert_eq!(t["auth"]["realm"], "lab");
    assert_eq!(t["allocation"]["relayed_scope"], "public");
    assert!(
        t["allocation"]["software"]
            .as_str()
            .unwrap()
            .contains("Coturn")
    );
    let kinds: Vec<&str> = t["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["host", "srflx", "relay"]);
    assert_eq!(t["candidates"][2]["priority"], 16_777_215);
    assert_eq!(v["result"]["relay_verdict"], "works");
    assert_eq!(v["result"]["nat_tested"], false);
    let tx = t["transactions"].as_array().unwrap();
    assert_eq!(tx[0]["error_code"], 401);
    assert_eq!(tx.last().unwrap()["method"], "refresh");

    // Over TCP, explicitly each strategy.
    for peer in ["self", "two"] {
        let (code, v, _) = turn(
            &lab,
            &[
                "--turn",
                "turn:203.0.113.10?transport=tcp",
                "--turn-user",
                "alice",
                "--turn-peer",
                peer,
            ],
        );
        assert_eq!(code, 0, "{peer}: {v:#}");
        assert_works(
            &v,
            if peer == "two" {
                "two-allocations"
            } else {
                "self"
            },
        );
        assert_eq!(v["result"]["relay_verdict"], "works-over-tcp-only");
    }

    // -vv traces: MESSAGE-INTEGRITY redacted in the summary and in the hex dump.
    let out = lab.voipdiag(
        'c',
        &[
            "nat-probe",
            "--turn-only",
            "-vv",
            "--turn",
            "turn:203.0.113.10",
            "--turn-user",
            "alice",
        ],
        &[("VOIPDIAG_TURN_PASSWORD", PASSWORD)],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("MESSAGE-INTEGRITY=<redacted>"), "{err}");
    assert!(
        err.contains("00 08 00 14 xx xx xx xx"),
        "MI value masked in hex: {err}"
    );
    assert!(!err.contains(PASSWORD));

    // A UDP echo server as the peer: the echoes prove both ways.
    let (code, v, _) = turn(
        &lab,
        &[
            "--turn",
            "turn:203.0.113.10",
            "--turn-user",
            "alice",
            "--turn-peer",
            "203.0.113.20:7",
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    let m = &first(&v)["media"];
    assert_eq!(m["strategy"], "peer");
    assert_eq!(m["outbound"]["sent"], 20);
    assert_eq!(m["inbound"]["received"], 20, "{m:#}");
    assert_eq!(m["via"], serde_json::json!(["indication", "channel"]));

    // Both families: coturn here has no IPv6 relay address (440), IPv4 works: a warning.
    let (code, v, _) = turn(
        &lab,
        &[
            "--turn",
            "turn:203.0.113.10",
            "--turn-user",
            "alice",
            "--turn-family",
            "dual",
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["result"]["turn"][0]["family"], "ipv4");
    assert_eq!(v["result"]["turn"][0]["status"], "works");
    assert_eq!(
        v["result"]["turn"][1]["allocation"]["error_code"], 440,
        "{v:#}"
    );
    assert_eq!(severity(&v, "TURN_IPV6_UNSUPPORTED"), "warning");

    // Wrong password; no credentials.
    let (code, v, _) = turn_env(
        &lab,
        &["--turn", "turn:203.0.113.10", "--turn-user", "alice"],
        &[("VOIPDIAG_TURN_PASSWORD", "wrong")],
    );
    assert_eq!(code, 1);
    assert!(has(&v, "TURN_AUTH_FAILED"), "{v:#}");
    assert_eq!(first(&v)["auth"]["outcome"], "rejected");
    assert_eq!(first(&v)["allocation"]["error_code"], 401);
    let (code, v, _) = turn(&lab, &["--turn", "turn:203.0.113.10"]);
    assert_eq!(code, 1);
    assert!(has(&v, "TURN_NO_CREDENTIALS"), "{v:#}");

    // TURN REST: the right secret works; a wrong one fails as any wrong credential does;
    // an expired REST user name (from a REST response) is flagged.
    let dir = std::env::temp_dir().join(format!("vd-turn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.secret");
    let bad = dir.join("bad.secret");
    std::fs::write(&good, "north\n").unwrap();
    std::fs::write(&bad, "south\n").unwrap();
    let (code, v, _) = turn(
        &lab,
        &[
            "--turn",
            "turn:203.0.113.11",
            "--turn-user",
            "bob",
            "--turn-secret-file",
            good.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_works(&v, "self");
    assert_eq!(first(&v)["auth"]["mechanism"], "rest");
    assert!(
        first(&v)["auth"]["username"]
            .as_str()
            .unwrap()
            .ends_with(":bob")
    );
    assert!(!v.to_string().contains("north"), "the secret never shows");
    let (code, v, _) = turn(
        &lab,
        &[
            "--turn",
            "turn:203.0.113.11",
            "--turn-user",
            "bob",
            "--turn-secret-file",
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1);
    assert!(has(&v, "TURN_AUTH_FAILED"));
    let ice = dir.join("rest.json");
    std::fs::write(
        &ice,
        r#"{"username":"1600000000:bob","password":"x","ttl":60,"uris":["turn:203.0.113.11"]}"#,
    )
    .unwrap();
    let (code, v, _) = turn(&lab, &["--ice-servers", ice.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(has(&v, "TURN_REST_EXPIRED"), "{v:#}");
    assert_eq!(first(&v)["auth"]["rest_expired"], true);

    // The client's public address denied as a peer: self fails with the cause; auto falls
    // back to two allocations, which relay between themselves.
    let (code, v, _) = turn(
        &lab,
        &[
            "--turn",
            "turn:203.0.113.13",
            "--turn-user",
            "alice",
            "--turn-peer",
            "self",
        ],
    );
    assert_eq!(code, 1);
    assert!(has(&v, "TURN_PEER_FORBIDDEN"));
    assert_eq!(severity(&v, "TURN_PEER_FORBIDDEN"), "critical");
    assert_eq!(first(&v)["permissions"][0]["error_code"], 403);
    let (code, v, _) = turn(
        &lab,
        &["--turn", "turn:203.0.113.13", "--turn-user", "alice"],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_works(&v, "two-allocations");
    assert!(has(&v, "TURN_SELF_TEST_IMPOSSIBLE"));

    // --user-quota=1 with two allocations: 486; one relay port: 508.
    let (code, v, _) = turn(
        &lab,
        &[
            "--turn",
            "turn:203.0.113.14",
            "--turn-user",
            "alice",
            "--turn-peer",
            "two",
        ],
    );
    assert_eq!(code, 1);
    assert!(has(&v, "TURN_QUOTA_REACHED"), "{v:#}");
    assert_eq!(first(&v)["second_allocation"]["error_code"], 486);
    assert_eq!(first(&v)["deleted"], true);
    let (code, v, _) = turn(
        &lab,
        &[
            "--turn",
            "turn:203.0.113.16",
            "--turn-user",
            "alice",
            "--turn-peer",
            "two",
        ],
    );
    assert_eq!(code, 1);
    assert!(has(&v, "TURN_INSUFFICIENT_CAPACITY"), "{v:#}");

    // --stale-nonce=2 and a 3 s hold: the delete meets 438, is repeated with the new nonce.
    let (code, v, _) = turn(
        &lab,
        &[
            "--turn",
            "turn:203.0.113.15",
            "--turn-user",
            "alice",
            "--turn-hold",
            "3s",
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    assert!(first(&v)["stale_nonces"].as_u64().unwrap() >= 1, "{v:#}");
    assert!(has(&v, "TURN_STALE_NONCE"));
    assert_eq!(first(&v)["deleted"], true);
    assert_eq!(first(&v)["refresh"]["outcome"], "ok");

    // A conntrack flush during the hold: the NAT rebinds, the refresh meets 438 then 437.
    let flusher = {
        let r = lab.ns('r');
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            std::process::Command::new("ip")
                .args(["netns", "exec", &r, "conntrack", "-F"])
                .output()
                .expect("conntrack -F")
        })
    };
    let (code, v, _) = turn(
        &lab,
        &[
            "--turn",
            "turn:203.0.113.19",
            "--turn-user",
            "alice",
            "--turn-hold",
            "8s",
        ],
    );
    assert!(flusher.join().unwrap().status.success());
    assert_eq!(code, 1, "{v:#}");
    assert!(has(&v, "TURN_ALLOCATION_LOST"), "{v:#}");
    assert_eq!(first(&v)["refresh"]["outcome"], "lost");
    assert_eq!(first(&v)["refresh"]["error_code"], 437);
    assert_eq!(first(&v)["status"], "fails");

    // TLS: verified with the lab CA (subject and expiry shown); without it, and with a
    // certificate for another name, TURN_TLS_CERT_INVALID.
    let (code, v, _) = turn(
        &lab,
        &[
            "--turn",
            "turns:203.0.113.10",
            "--turn-user",
            "alice",
            "--ca-file",
            &ca,
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    let tls = &first(&v)["tls"];
    assert_eq!(tls["verified"], true);
    assert_eq!(tls["subject"], "CN=turn.lab");
    assert!(tls["not_after"].as_str().unwrap().ends_with('Z'));
    assert_eq!(first(&v)["status"], "works");
    let (code, v, _) = turn(
        &lab,
        &["--turn", "turns:203.0.113.10", "--turn-user", "alice"],
    );
    assert_eq!(code, 1, "{v:#}");
    assert!(has(&v, "TURN_TLS_CERT_INVALID"));
    let (code, v, _) = turn(
        &lab,
        &[
            "--turn",
            "turns:203.0.113.10",
            "--turn-user",
            "alice",
            "--insecure",
        ],
    );
    assert_eq!(code, 0, "--insecure: not verified, but it works: {v:#}");
    assert_eq!(first(&v)["tls"]["verified"], false);
    let (code, v, _) = turn(
        &lab,
        &[
            "--turn",
            "turns:203.0.113.11",
            "--turn-user",
            "alice",
            "--ca-file",
            &ca,
        ],
    );
    assert_eq!(code, 1);
    assert!(
        first(&v)["tls"]["error"]
            .as_str()
            .unwrap()
            .contains("not valid for name"),
        "{v:#}"
    );

    // An open relay works but is a warning (exit 0 under the exit rule).
    let (code, v, _) = turn(&lab, &["--turn", "turn:203.0.113.12"]);
    assert_eq!(code, 0, "{v:#}");
    assert!(has(&v, "TURN_OPEN_RELAY"));
    assert_eq!(severity(&v, "TURN_OPEN_RELAY"), "warning");
    assert_eq!(first(&v)["auth"]["outcome"], "not-required");

    // A private relayed address from a public server.
    let (code, v, _) = turn(
        &lab,
        &["--turn", "turn:203.0.113.17", "--turn-user", "alice"],
    );
    assert_eq!(code, 1);
    assert!(has(&v, "TURN_RELAY_ADDRESS_PRIVATE"), "{v:#}");
    assert_eq!(first(&v)["allocation"]["relayed_scope"], "private");

    // A server that is down: ICMP ends the wait at once; exit 3 (nothing answered).
    let (code, v, _) = turn(
        &lab,
        &["--turn", "turn:203.0.113.18", "--turn-user", "alice"],
    );
    assert_eq!(code, 3, "{v:#}");
    assert!(has(&v, "TURN_SERVER_UNREACHABLE"));
    assert!(
        first(&v)["allocation"]["reason"]
            .as_str()
            .unwrap()
            .contains("ICMP")
    );

    // Peer policy audit: coturn's default refuses loopback but accepts private ranges.
    let (code, v, _) = turn(
        &lab,
        &[
            "--turn",
            "turn:203.0.113.10",
            "--turn-user",
            "alice",
            "--turn-peer-policy",
        ],
    );
    assert_eq!(code, 0, "a warning: {v:#}");
    let policy = first(&v)["peer_policy"].as_array().unwrap().clone();
    let outcome = |class: &str| {
        policy
            .iter()
            .find(|p| p["purpose"] == class)
            .map(|p| p["outcome"].as_str().unwrap().to_string())
    };
    assert_eq!(outcome("loopback").as_deref(), Some("refused"));
    assert_eq!(outcome("rfc1918").as_deref(), Some("accepted"));
    assert!(has(&v, "TURN_PERMISSIVE_PEER_POLICY"));

    // The NAT tests and the TURN test together: the TURN host is the STUN server.
    let (code, v, _) = lab.voipdiag_json_env(
        'c',
        &[
            "nat-probe",
            "--timeout",
            "2s",
            "--turn",
            "turn:203.0.113.10",
            "--turn-user",
            "alice",
        ],
        &[("VOIPDIAG_TURN_PASSWORD", PASSWORD)],
    );
    assert_eq!(v["result"]["nat_tested"], true);
    assert_eq!(v["result"]["nat_detected"], true, "{v:#}");
    assert!(
        v["result"]["mapped_address"]
            .as_str()
            .unwrap()
            .starts_with("203.0.113.1:")
    );
    assert_eq!(v["result"]["servers"][0]["address"], "203.0.113.10:3478");
    assert_eq!(v["result"]["relay_verdict"], "works");
    assert!(has(&v, "TURN_RELAY_OK"));
    assert!(code == 0 || code == 1, "{v:#}");

    // Ctrl-C during a hold: the allocation is deleted and the report printed.
    let out = lab.voipdiag_interrupted(
        'c',
        &[
            "--json",
            "nat-probe",
            "--turn-only",
            "--turn",
            "turn:203.0.113.12",
            "--turn-hold",
            "60s",
        ],
        Duration::from_millis(1500),
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("a report after Ctrl-C");
    assert_eq!(first(&v)["refresh"]["outcome"], "interrupted", "{v:#}");
    assert_eq!(first(&v)["deleted"], true);
    assert_eq!(v["result"]["interrupted"], true);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn turn_over_tcp_when_udp_is_blocked() {
    let Some(_serial) = lab_session() else {
        return;
    };
    let lab = Lab::up("tests/lab/turn-lab.sh", "vt", 'u', &["udp-blocked"]);
    let (code, v, _) = turn(
        &lab,
        &[
            "--turn",
            "turn:203.0.113.10",
            "--turn",
            "turn:203.0.113.10?transport=tcp",
            "--turn-user",
            "alice",
        ],
    );
    assert_eq!(code, 0, "a UDP failure is a warning when TCP works: {v:#}");
    assert_eq!(v["result"]["relay_verdict"], "works-over-tcp-only");
    assert!(has(&v, "TURN_UDP_UNREACHABLE"), "{v:#}");
    assert_eq!(severity(&v, "TURN_UDP_UNREACHABLE"), "warning");
    let tcp = &v["result"]["turn"][1];
    assert_eq!(tcp["status"], "works");
    // UDP is blocked, so this host cannot be its own peer: two allocations over TCP.
    assert_eq!(tcp["media"]["strategy"], "two-allocations");
    assert!(tcp["self_test_impossible"].is_string());

    // With the NAT tests: UDP_BLOCKED says what the relay tested here means for calls.
    let (_, v, _) = lab.voipdiag_json_env(
        'c',
        &[
            "nat-probe",
            "--timeout",
            "2s",
            "--turn",
            "turn:203.0.113.10?transport=tcp",
            "--turn-user",
            "alice",
        ],
        &[("VOIPDIAG_TURN_PASSWORD", PASSWORD)],
    );
    let blocked = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "UDP_BLOCKED")
        .unwrap_or_else(|| panic!("{v:#}"));
    assert!(
        blocked["message"]
            .as_str()
            .unwrap()
            .contains("carries media both ways over TCP/TLS"),
        "{blocked}"
    );
}
