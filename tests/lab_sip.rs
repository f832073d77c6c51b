//! Lab tests: `voipdiag sip-options` and `register` against kamailio in network namespaces
//! (tests/lab/sip-lab.sh): a client on the public side, one behind a Linux NAT, and one behind
//! a NAT running the kernel's SIP ALG (nf_conntrack_sip + nf_nat_sip).
//!
//! Needs root, iproute2, nftables, kamailio (+ tls modules), openssl and knot. Without them the tests
//! say why and skip — unless VOIPDIAG_LAB_REQUIRED=1 (as in CI), where they fail.

use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

mod common;

static SERIAL: Mutex<()> = Mutex::new(());

const SERVER: &str = "198.51.100.10";
const ALICE_PASSWORD: &str = "lab-Secret-1";
const BOB_PASSWORD: &str = "lab-Secret-2";

fn lab_session() -> Option<std::sync::MutexGuard<'static, ()>> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    common::lab_available(
        &["ip", "nft", "kamailio", "openssl", "knotd", "script"],
        "apt-get install iproute2 nftables kamailio kamailio-tls-modules openssl knot bsdutils",
    )
    .then_some(guard)
}

use common::{Lab, codes};

/// Builds the SIP lab.
fn sip_lab(code: char) -> Lab {
    Lab::up("tests/lab/sip-lab.sh", "vs", code, &[])
}

/// What the SIP lab adds to [`Lab`]: short names for running voipdiag in a namespace
/// (d direct, n NAT, b ALG) and the lab CA.
trait SipLab {
    fn run(&self, role: char, args: &[&str], env: &[(&str, &str)]) -> Output;
    fn json(&self, role: char, args: &[&str], env: &[(&str, &str)]) -> (i32, Value, Output);
    fn ca(&self) -> String;
}

impl SipLab for Lab {
    fn run(&self, role: char, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.voipdiag(role, args, env)
    }

    fn json(&self, role: char, args: &[&str], env: &[(&str, &str)]) -> (i32, Value, Output) {
        self.voipdiag_json_env(role, args, env)
    }

    fn ca(&self) -> String {
        format!("/tmp/sip-lab-{}/ca.pem", self.prefix)
    }
}

#[test]
fn options_direct_nat_and_alg() {
    let Some(_lock) = lab_session() else { return };
    let lab = sip_lab('o');

    // Direct: 200 with RTT and Server, no NAT, no ALG.
    let (code, r, _) = lab.json('d', &["sip-options", SERVER], &[]);
    assert_eq!(code, 0, "{r}");
    let t = &r["result"]["targets"][0];
    assert_eq!(t["status_code"], 200);
    assert!(t["rtt_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(t["server"], "kamailio-lab-md5");
    assert_eq!(t["transport"], "udp");
    assert_eq!(t["address"], "198.51.100.10:5060");
    assert_eq!(t["nat_detected"], false);
    assert_eq!(t["sip_alg_detected"], false);
    assert_eq!(t["received"], "203.0.113.2");
    assert_eq!(
        t["allow"],
        serde_json::json!(["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER"])
    );
    assert_eq!(t["supported"], serde_json::json!(["path", "outbound"]));
    assert_eq!(t["accept"], serde_json::json!(["application/sdp"]));
    assert_eq!(r["status"], "ok");

    // A final response other than 2xx: exit 1.
    let (code, r, _) = lab.json('d', &["sip-options", "sip:nobody@198.51.100.10"], &[]);
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["result"]["targets"][0]["status_code"], 404);
    assert!(codes(&r).contains(&"SIP_ERROR_RESPONSE".to_string()));

    // Behind NAT: the server sees the router's WAN address; no ALG.
    let (code, r, _) = lab.json('n', &["sip-options", SERVER], &[]);
    assert_eq!(code, 0, "{r}");
    let t = &r["result"]["targets"][0];
    assert_eq!(t["nat_detected"], true, "{t}");
    assert!(
        t["public_address"]
            .as_str()
            .unwrap()
            .starts_with("192.0.2.2:")
    );
    assert!(
        t["local_address"]
            .as_str()
            .unwrap()
            .starts_with("10.77.0.2:")
    );
    assert_eq!(t["sip_alg_detected"], false);
    assert!(codes(&r).contains(&"NAT_DETECTED".to_string()));

    // Behind the kernel's SIP ALG: the first view is rewritten to look like no NAT; the
    // host-name Via shows the truth.
    let (code, r, _) = lab.json('b', &["sip-options", SERVER], &[]);
    assert_eq!(code, 0, "{r}");
    let t = &r["result"]["targets"][0];
    assert_eq!(t["sip_alg_detected"], true, "{t}");
    assert_eq!(t["nat_detected"], true);
    assert!(
        t["public_address"]
            .as_str()
            .unwrap()
            .starts_with("192.0.2.130:")
    );
    assert_eq!(
        t["received"], "10.78.0.2",
        "the ALG translated received back"
    );
    assert!(codes(&r).contains(&"SIP_ALG_DETECTED".to_string()));
}

#[test]
fn options_over_tcp_tls_repeat_and_several_targets() {
    let Some(_lock) = lab_session() else { return };
    let lab = sip_lab('t');
    let ca = lab.ca();
    let (code, r, _) = lab.json(
        'd',
        &[
            "sip-options",
            "sip:198.51.100.10;transport=tcp",
            "sips:198.51.100.10",
            "198.51.100.10:5080",
            "--ca-file",
            &ca,
            "--count",
            "3",
            "--interval",
            "50ms",
        ],
        &[],
    );
    assert_eq!(code, 0, "{r}");
    let targets = r["result"]["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 3);
    assert_eq!(targets[0]["transport"], "tcp");
    assert_eq!(targets[1]["transport"], "tls");
    assert_eq!(targets[1]["address"], "198.51.100.10:5061");
    assert!(targets[1]["tls_version"].as_str().is_some());
    assert_eq!(targets[2]["server"], "kamailio-lab-sha256");
    for t in targets {
        assert_eq!(t["status_code"], 200, "{t}");
        let s = &t["stats"];
        assert_eq!(s["sent"], 3);
        assert_eq!(s["received"], 3);
        assert_eq!(s["loss_percent"], 0.0);
        assert!(s["min_ms"].as_f64().unwrap() <= s["max_ms"].as_f64().unwrap());
        assert_eq!(t["probes"].as_array().unwrap().len(), 3);
    }

    // TLS without the lab CA: the certificate is not trusted → no answer, exit 3.
    let (code, r, _) = lab.json('d', &["sip-options", "sips:198.51.100.10"], &[]);
    assert_eq!(code, 3, "{r}");
    assert!(codes(&r).contains(&"SIP_TRANSPORT_FAILED".to_string()));

    // --json-lines: one line per probe, then the report.
    let out = lab.run(
        'd',
        &[
            "sip-options",
            SERVER,
            "--count",
            "2",
            "--interval",
            "20ms",
            "--json-lines",
            "--json",
        ],
        &[],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| l.contains("\"probe\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[1]["probe"]["seq"], 2);
}

#[test]
fn silent_host_is_no_answer_within_the_timeout() {
    let Some(_lock) = lab_session() else { return };
    let lab = sip_lab('s');
    let (code, r, _) = lab.json(
        'd',
        &["--timeout", "1s", "sip-options", "198.51.100.10:5070"],
        &[],
    );
    assert_eq!(code, 3, "{r}");
    assert_eq!(r["status"], "no-answer");
    let probe = &r["result"]["targets"][0]["probes"][0];
    assert_eq!(probe["transmissions"], 2, "Timer E retransmitted at T1");
    assert!(codes(&r).contains(&"SIP_NO_ANSWER".to_string()));
    // Two transmissions: Timer E fired at T1, then --timeout ended the transaction (the
    // REGISTER machine's simulated-time test shows the same bound without a clock).

    // The same over TCP: the SYN is dropped.
    let (code, _, _) = lab.json(
        'd',
        &[
            "--timeout",
            "1s",
            "sip-options",
            "sip:198.51.100.10:5070;transport=tcp",
        ],
        &[],
    );
    assert_eq!(code, 3);

    // A name that does not resolve: no answer, exit 3, with the DNS trail.
    let (code, r, _) = lab.json(
        'd',
        &[
            "--timeout",
            "1s",
            "register",
            "sip:alice@nowhere.invalid",
            "--dns-server",
            "203.0.113.1",
        ],
        &[("VOIPDIAG_PASSWORD", ALICE_PASSWORD)],
    );
    assert_eq!(code, 3, "{r}");
    assert!(codes(&r).contains(&"SIP_NO_ADDRESS".to_string()));
    assert!(
        !r["result"]["resolution"]["queries"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn register_over_each_transport_and_nat() {
    let Some(_lock) = lab_session() else { return };
    let lab = sip_lab('r');
    let ca = lab.ca();
    let env = [("VOIPDIAG_PASSWORD", ALICE_PASSWORD)];
    for (aor, extra) in [
        ("sip:alice@198.51.100.10", vec![]),
        ("sip:alice@198.51.100.10;transport=tcp", vec![]),
        ("sips:alice@198.51.100.10", vec!["--ca-file", ca.as_str()]),
    ] {
        let mut args = vec!["register", aor];
        args.extend(extra);
        let (code, r, out) = lab.json('d', &args, &env);
        assert_eq!(code, 0, "{aor}: {r}");
        let res = &r["result"];
        assert_eq!(res["registered"], true);
        assert_eq!(res["final_status"], 200);
        assert_eq!(res["expires_s"], 3600);
        assert_eq!(res["auth"]["algorithm"], "MD5");
        assert_eq!(res["auth"]["qop"], "auth");
        assert!(
            res["bindings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|b| b["ours"] == true)
        );
        assert_eq!(
            res["ladder"].as_array().unwrap().len(),
            4,
            "REGISTER, 401, REGISTER, 200"
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains(ALICE_PASSWORD));
    }

    // Behind NAT, SHA-256, a 423 retry with Min-Expires, and --unregister.
    let (code, r, _) = lab.json(
        'n',
        &[
            "register",
            "sip:alice@198.51.100.10:5080",
            "--expires",
            "10",
        ],
        &env,
    );
    assert_eq!(code, 0, "{r}");
    let res = &r["result"];
    assert_eq!(res["auth"]["algorithm"], "SHA-256");
    assert_eq!(res["nat_detected"], true);
    assert!(
        res["public_address"]
            .as_str()
            .unwrap()
            .starts_with("192.0.2.2:")
    );
    assert_eq!(res["requested_expires_s"], 60);
    assert_eq!(res["expires_s"], 60);
    assert!(codes(&r).contains(&"INTERVAL_TOO_BRIEF".to_string()));
    let contact = res["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["ours"] == true)
        .unwrap()["uri"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, r, _) = lab.json(
        'n',
        &[
            "register",
            "sip:alice@198.51.100.10:5080",
            "--unregister",
            "--contact",
            &contact,
        ],
        &env,
    );
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["result"]["registered"], true);
    assert!(
        !r["result"]["bindings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["ours"] == true)
    );

    // 407 (Proxy-Authenticate) path, password from a file.
    let file = format!("/tmp/sip-lab-{}/bob.pw", lab.prefix);
    std::fs::write(&file, format!("{BOB_PASSWORD}\n")).unwrap();
    let (code, r, _) = lab.json(
        'd',
        &[
            "register",
            "sip:bob@198.51.100.10",
            "--password-file",
            &file,
        ],
        &[],
    );
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["result"]["auth"]["challenge_status"], 407);
}

#[test]
fn wrong_password_fails_and_no_secret_leaks() {
    let Some(_lock) = lab_session() else { return };
    let lab = sip_lab('w');
    let wrong = "Wrong-Pa55word-xyz";
    let (code, r, _) = lab.json(
        'd',
        &["register", "sip:alice@198.51.100.10"],
        &[("VOIPDIAG_PASSWORD", wrong)],
    );
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["result"]["registered"], false);
    assert!(codes(&r).contains(&"AUTH_FAILED".to_string()));

    // No password anywhere (stdin is not a terminal): a clear finding, exit 1.
    let (code, r, _) = lab.json('d', &["register", "sip:alice@198.51.100.10"], &[]);
    assert_eq!(code, 1, "{r}");
    assert!(codes(&r).contains(&"AUTH_FAILED".to_string()));

    // -vv traces every message: the password and the digest response never appear.
    for args in [
        vec!["-vv", "register", "sip:alice@198.51.100.10"],
        vec!["-vv", "--json", "register", "sip:alice@198.51.100.10"],
    ] {
        let out = lab.run('d', &args, &[("VOIPDIAG_PASSWORD", ALICE_PASSWORD)]);
        assert_eq!(out.status.code(), Some(0));
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            all.contains("Authorization: Digest"),
            "trace shows the header"
        );
        assert!(all.contains("response=\"<redacted>\""));
        assert!(!all.contains(ALICE_PASSWORD));
        // No 32-hex-digit response value survives.
        let leaked = all
            .split("response=\"")
            .skip(1)
            .any(|rest| rest.len() >= 32 && rest[..32].chars().all(|c| c.is_ascii_hexdigit()));
        assert!(!leaked, "a digest response leaked");
    }
}

#[test]
fn rfc3263_location_with_naptr_and_srv() {
    let Some(_lock) = lab_session() else { return };
    let lab = sip_lab('n');
    let (code, r, _) = lab.json(
        'd',
        &[
            "sip-options",
            "sip:voipdiag.test",
            "sip:srvonly.voipdiag.test",
            "--dns-server",
            "198.51.100.53",
        ],
        &[],
    );
    assert_eq!(code, 0, "{r}");
    // NAPTR (served unsorted: order 20 first in the zone) → SIP+D2T wins by order →
    // _sip._tcp SRV priority 10 (port 5060) before 20 (5080) → A.
    let t = &r["result"]["targets"][0];
    assert_eq!(t["transport"], "tcp", "{t}");
    assert_eq!(t["address"], "198.51.100.10:5060");
    let targets: Vec<(String, String, String)> = t["resolution"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["transport"].as_str().unwrap().into(),
                x["address"].as_str().unwrap().into(),
                x["source"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expect = |t: &str, a: &str| (t.to_string(), a.to_string(), "naptr".to_string());
    assert_eq!(
        targets,
        [
            expect("tcp", "198.51.100.10:5060"),
            expect("tcp", "198.51.100.10:5080"),
            expect("udp", "198.51.100.10:5060"),
        ]
    );
    let queries: Vec<String> = t["resolution"]["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            format!(
                "{} {} {}",
                q["type"].as_str().unwrap(),
                q["name"].as_str().unwrap(),
                q["rcode"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(queries[0], "NAPTR voipdiag.test NOERROR");
    assert_eq!(queries[1], "SRV _sip._tcp.voipdiag.test NOERROR");
    // No NAPTR: the SRV fallbacks in RFC 3263 order, _sip._udp found (port 5080).
    let t = &r["result"]["targets"][1];
    assert_eq!(t["transport"], "udp", "{t}");
    assert_eq!(t["address"], "198.51.100.10:5080");
    assert_eq!(t["server"], "kamailio-lab-sha256");
    assert_eq!(t["resolution"]["targets"][0]["source"], "srv");
    let names: Vec<&str> = t["resolution"]["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        &names[..4],
        [
            "srvonly.voipdiag.test",
            "_sips._tcp.srvonly.voipdiag.test",
            "_sip._tcp.srvonly.voipdiag.test",
            "_sip._udp.srvonly.voipdiag.test"
        ]
    );
}

#[test]
fn register_redirect_stale_nonce_auth_user_and_password_sources() {
    let Some(_lock) = lab_session() else { return };
    let lab = sip_lab('x');

    // 3xx: reported with the redirect targets, exit 1.
    let (code, r, _) = lab.json(
        'd',
        &["register", "sip:moved@198.51.100.10"],
        &[("VOIPDIAG_PASSWORD", ALICE_PASSWORD)],
    );
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["result"]["final_status"], 302);
    assert_eq!(
        r["result"]["redirect"],
        serde_json::json!(["sip:moved@192.0.2.99:5060"])
    );
    assert!(codes(&r).contains(&"REGISTER_REDIRECTED".to_string()));

    // stale=true on the first credentials: answered again with the new nonce, not a failure.
    let (code, r, _) = lab.json(
        'd',
        &["register", "sip:carol@198.51.100.10"],
        &[("VOIPDIAG_PASSWORD", "lab-Secret-3")],
    );
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["result"]["auth"]["stale_retry"], true);
    assert_eq!(r["result"]["ladder"].as_array().unwrap().len(), 6);

    // --user: the authentication user differs from the AOR's; --password on the command line.
    let (code, r, _) = lab.json(
        'd',
        &[
            "register",
            "sip:dave@198.51.100.10",
            "--user",
            "alice",
            "--password",
            ALICE_PASSWORD,
        ],
        &[],
    );
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["result"]["auth"]["user"], "alice");
    assert_eq!(r["result"]["aor"], "sip:dave@198.51.100.10");

    // The prompt on a terminal (script(1) gives voipdiag a pty); the typed password is not
    // echoed.
    let mut child = Command::new("script")
        .args([
            "-qec",
            &format!(
                "ip netns exec {} {} --json register sip:alice@198.51.100.10",
                lab.ns('d'),
                env!("CARGO_BIN_EXE_voipdiag")
            ),
            "/dev/null",
        ])
        .env_remove("VOIPDIAG_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run script");
    std::thread::sleep(Duration::from_millis(500));
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(format!("{ALICE_PASSWORD}\r").as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Password for alice:"), "{text}");
    assert!(text.contains("\"registered\":true"), "{text}");
    assert!(
        !text.contains(ALICE_PASSWORD),
        "the password was echoed: {text}"
    );
}

#[test]
fn outbound_proxy_and_ctrl_c() {
    let Some(_lock) = lab_session() else { return };
    let lab = sip_lab('p');

    // --proxy: the request goes to the proxy (md5 instance on 5060) with a Route header,
    // not to the target's port 5080.
    let out = lab.run(
        'd',
        &[
            "-v",
            "--json",
            "sip-options",
            "sip:198.51.100.10:5080",
            "--proxy",
            "sip:198.51.100.10",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = &r["result"]["targets"][0];
    assert_eq!(t["address"], "198.51.100.10:5060", "{t}");
    assert_eq!(t["server"], "kamailio-lab-md5");
    assert_eq!(t["request_uri"], "sip:198.51.100.10:5080");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Route: <sip:198.51.100.10;lr>"));

    // Ctrl-C during an endless ping prints the probes done so far.
    let out = lab.voipdiag_interrupted(
        'd',
        &[
            "--json",
            "sip-options",
            SERVER,
            "--count",
            "0",
            "--interval",
            "100ms",
        ],
        Duration::from_millis(800),
    );
    assert_eq!(out.status.code(), Some(0));
    let r: Value = serde_json::from_slice(&out.stdout).expect("a report after Ctrl-C");
    assert_eq!(r["result"]["interrupted"], true);
    assert!(codes(&r).contains(&"INTERRUPTED".to_string()));
    let t = &r["result"]["targets"][0];
    let answered = t["stats"]["received"].as_u64().unwrap();
    assert!(answered >= 2, "{t}");
    assert_eq!(t["status_code"], 200);
}
