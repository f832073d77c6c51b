//! `voipdiag call` against real callees (sipp) in network namespaces (tests/lab/rtp-lab.sh):
//! a caller `a`, a router `r` that drops exactly every tenth RTP packet towards the callee
//! (nft numgen in the forward path), and the callee `b`. The counts each way must be exact to
//! the packet (and agree with tshark on the callee's interface); busy, a closed port, a
//! silent host, a return path that drops all RTP and an answer naming an unreachable private
//! address must each give their outcome, verdicts, findings and exit code.
//!
//! Needs root, iproute2, nftables, sipp (sip-tester), tshark (dumpcap). Without them the test
//! says why and skips — unless VOIPDIAG_LAB_REQUIRED=1 (as in CI), where it fails.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

mod common;

const TOOLS: &[&str] = &["ip", "nft", "sipp", "dumpcap", "tshark"];
const HINT: &str = "apt-get install iproute2 nftables sip-tester tshark";

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ns(lab: &common::Lab, role: char, argv: &[&str]) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", &lab.ns(role)]).args(argv);
    c
}

/// sipp as the callee in `b` on 10.79.2.2:5060, media port 6000 echoing RTP, with the
/// built-in `uas` scenario or one of tests/lab/sipp/.
fn callee(lab: &common::Lab, scenario: &str, calls: u32) -> Killed {
    let n = calls.to_string();
    let mut argv = vec!["sipp", "-i", "10.79.2.2", "-mi", "10.79.2.2", "-mp", "6000"];
    let file;
    if scenario == "uas" {
        argv.extend(["-sn", "uas"]);
    } else {
        file = format!(
            "{}/tests/lab/sipp/{scenario}.xml",
            env!("CARGO_MANIFEST_DIR")
        );
        argv.extend(["-sf", &file]);
    }
    argv.extend(["-rtp_echo", "-m", &n, "-nostdin"]);
    let child = ns(lab, 'b', &argv)
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sipp uas");
    std::thread::sleep(Duration::from_millis(400));
    Killed(child)
}

/// Who places a call: a lab namespace.
trait Caller {
    fn run(&self, args: &[&str]) -> (i32, Value);
}

impl Caller for common::Lab {
    fn run(&self, args: &[&str]) -> (i32, Value) {
        self.voipdiag_json('a', args)
    }
}

impl Caller for RoleLab<'_> {
    fn run(&self, args: &[&str]) -> (i32, Value) {
        self.lab.voipdiag_json(self.role, args)
    }
}

fn call(lab: &impl Caller, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["call", "--timeout", "2s"];
    all.extend_from_slice(args);
    lab.run(&all)
}

fn nft(lab: &common::Lab, rule: &str) {
    let st = ns(lab, 'r', &["nft", rule]).status().expect("nft");
    assert!(st.success(), "nft {rule}");
}

#[test]
fn calls_through_a_real_router_to_sipp() {
    if !common::lab_available(TOOLS, HINT) {
        return;
    }
    let lab = common::Lab::up("tests/lab/rtp-lab.sh", "vc", 'c', &[]);
    let dir = std::env::temp_dir().join(format!("voipdiag-calllab-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // 1. An echo call of 3 s through the router that drops every 10th packet towards the
    //    callee and every 20th of what it echoes back (both counters start with this
    //    call): 150 sent, packets 10, 20, …, 150 lost on the way out — tshark on the
    //    callee's side sees 135 with 14 lost (RFC 3550 counts up to the highest sequence
    //    number received, so the 150th is not seen) — and of the 135 echoed, the 20th,
    //    40th, …, 120th lost on the way back: 129 return, 20 of the 149 expected missing.
    let cap = dir.join("echo.pcapng");
    let iface = format!("{}b0", lab.prefix);
    let dump = Killed(
        ns(&lab, 'b', &["dumpcap", "-q", "-i", &iface, "-w"])
            .arg(&cap)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dumpcap"),
    );
    std::thread::sleep(Duration::from_millis(700));
    // The way back loses too: every 20th packet the callee echoes to us.
    nft(
        &lab,
        "add rule inet loss forward ip daddr 10.79.1.2 udp sport 6000 numgen inc mod 20 == 19 counter drop",
    );
    let uas = callee(&lab, "uas", 2);
    let ours = dir.join("ours.pcap");
    let ours_arg = ours.to_str().unwrap().to_string();
    let (code, v) = call(
        &lab,
        &[
            "sip:service@10.79.2.2",
            "--echo",
            "--duration",
            "3s",
            "--dtmf",
            "1#",
            "--pcap",
            &ours_arg,
        ],
    );
    let r = &v["result"];
    assert_eq!(code, 0, "{v}");
    assert_eq!(r["outcome"], "answered");
    assert_eq!(r["final_status"], 200);
    assert_eq!(r["hangup"]["by"], "us");
    assert_eq!(r["hangup"]["bye_status"], 200);
    let m = &r["media"];
    assert_eq!(m["outbound"]["packets"], 150, "{m}");
    assert_eq!(m["outbound"]["echo"]["returned"], 129, "{m}");
    assert_eq!(m["inbound"]["packets"], 129, "{m}");
    assert_eq!(m["inbound"]["expected"], 149, "{m}");
    assert_eq!(m["inbound"]["lost"], 20, "{m}");
    assert_eq!(m["mos"]["basis_outbound"], "echo");
    // sipp's answer has no telephone-event: no DTMF can be sent, and the report says so.
    assert_eq!(m["dtmf"]["sent"], "");
    assert!(
        common::codes(&v).contains(&"DTMF_NOT_NEGOTIATED".to_string()),
        "{v}"
    );
    assert_eq!(m["latched"], Value::Null);
    for way in ["inbound", "outbound"] {
        let verdict = m["verdict"][way].as_str().unwrap();
        assert!(["ok", "poor"].contains(&verdict), "{way}: {verdict}");
    }
    let codes = common::codes(&v);
    assert!(!codes.iter().any(|c| c == "ONE_WAY_AUDIO"), "{codes:?}");
    // tshark on the callee's interface. dumpcap gets the kernel's capture blocks late
    // (TPACKET_V3 block timeout): wait before stopping it, or the last packets are missing.
    std::thread::sleep(Duration::from_millis(1500));
    let _ = Command::new("kill")
        .args(["-INT", &dump.0.id().to_string()])
        .status();
    std::thread::sleep(Duration::from_millis(500));
    drop(dump);
    let ssrc = format!("0x{:08X}", m["outbound"]["ssrc"].as_u64().unwrap());
    let ts = Command::new("tshark")
        .args(["-n", "-q", "-r"])
        .arg(&cap)
        .args(["-z", "rtp,streams"])
        .output()
        .unwrap();
    let ts = String::from_utf8_lossy(&ts.stdout);
    let cols: Vec<&str> = ts
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|c| c.len() > 10 && c[2] == "10.79.1.2" && c[5] == "6000" && c[6] == ssrc)
        .unwrap_or_else(|| panic!("tshark does not see {ssrc}:\n{ts}"));
    assert_eq!((cols[8], cols[9]), ("135", "14"), "{cols:?}");

    // Our own capture (--pcap) says the same to pcap-decode: 150 packets out.
    assert!(
        r["pcap"]["packets"].as_u64().unwrap() > 285,
        "{}",
        r["pcap"]
    );
    let (_, d) = common::voipdiag_json(&["pcap-decode", &ours_arg]);
    let streams = d["result"]["streams"].as_array().unwrap();
    let out = streams
        .iter()
        .find(|s| s["dst"] == "10.79.2.2:6000")
        .unwrap_or_else(|| panic!("{d}"));
    assert_eq!(out["packets"], 150, "{d}");
    assert_eq!(d["result"]["calls"][0]["final_status"], 200);
    assert_eq!(d["result"]["calls"][0]["call_id"], r["call_id"]);

    // 2. The same with a loss threshold of 5 %: the call works, the expectation fails.
    let (code, v) = call(
        &lab,
        &[
            "sip:service@10.79.2.2",
            "--echo",
            "--duration",
            "1s",
            "--max-loss",
            "5",
        ],
    );
    assert_eq!(code, 1, "{v}");
    assert!(common::codes(&v).contains(&"EXPECTATION_FAILED".to_string()));
    let failed: Vec<&Value> = v["result"]["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["pass"] == false)
        .collect();
    assert_eq!(failed.len(), 1, "{v}");
    assert_eq!(failed[0]["name"], "max-loss");
    drop(uas);

    // Ctrl-C in the middle of a long call: BYE, and the report of what was measured.
    let uas = callee(&lab, "uas", 1);
    let out = lab.voipdiag_interrupted(
        'a',
        &[
            "--json",
            "call",
            "sip:service@10.79.2.2",
            "--echo",
            "--duration",
            "30s",
        ],
        Duration::from_millis(2500),
    );
    drop(uas);
    let v: Value = serde_json::from_slice(&out.stdout).expect("a report after Ctrl-C");
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["result"]["outcome"], "interrupted");
    assert_eq!(v["result"]["hangup"]["by"], "us");
    assert_eq!(v["result"]["hangup"]["bye_status"], 200, "{v}");
    assert!(common::codes(&v).contains(&"INTERRUPTED".to_string()));
    let sent = v["result"]["media"]["outbound"]["packets"]
        .as_u64()
        .unwrap();
    assert!(
        (50..1500).contains(&sent),
        "media until Ctrl-C only: {sent}"
    );

    // 3. All RTP towards the caller dropped: nothing arrives, the echo returns nothing —
    //    one-way audio, inbound; outbound has no evidence either way.
    nft(
        &lab,
        "add rule inet loss forward ip daddr 10.79.1.2 udp sport 6000 drop",
    );
    let uas = callee(&lab, "uas", 1);
    let (code, v) = call(
        &lab,
        &["sip:service@10.79.2.2", "--echo", "--duration", "1s"],
    );
    drop(uas);
    assert_eq!(code, 1, "{v}");
    let m = &v["result"]["media"];
    assert_eq!(m["inbound"]["packets"], 0, "{m}");
    assert_eq!(m["verdict"]["inbound"], "dead");
    assert_eq!(m["verdict"]["outbound"], "unknown");
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "ONE_WAY_AUDIO")
        .unwrap_or_else(|| panic!("{v}"));
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("from the far end to us")
    );

    // 4. Busy: exit 1 — unless 486 is what the test expects.
    let uas = callee(&lab, "uas-busy", 2);
    let (code, v) = call(&lab, &["sip:busy@10.79.2.2", "--duration", "0"]);
    assert_eq!(
        (code, v["result"]["outcome"].as_str()),
        (1, Some("busy")),
        "{v}"
    );
    assert!(common::codes(&v).contains(&"CALL_BUSY".to_string()));
    let (code, v) = call(
        &lab,
        &[
            "sip:busy@10.79.2.2",
            "--duration",
            "0",
            "--expect-status",
            "486",
        ],
    );
    assert_eq!(code, 0, "{v}");
    drop(uas);

    // 4b. Ringing without an answer: CANCEL at the timeout, 487, no answer (exit 3); on
    //     purpose with --cancel-after, the expected 487 passes (exit 0).
    let uas = callee(&lab, "uas-ring", 2);
    let (code, v) = call(&lab, &["sip:ring@10.79.2.2", "--duration", "0"]);
    assert_eq!(
        (code, v["result"]["outcome"].as_str()),
        (3, Some("cancelled")),
        "{v}"
    );
    assert_eq!(v["result"]["cancelled_by"], "no-answer");
    assert_eq!(v["result"]["final_status"], 487);
    assert!(common::codes(&v).contains(&"SIP_NO_ANSWER".to_string()));
    let (code, v) = call(
        &lab,
        &[
            "sip:ring@10.79.2.2",
            "--cancel-after",
            "300ms",
            "--expect-status",
            "487",
        ],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["result"]["cancelled_by"], "requested");
    drop(uas);

    // 5. An answer naming a private address we cannot reach (10.99.0.5): the router answers
    //    our RTP with ICMP; no audio either way, and the cause is named.
    let uas = callee(&lab, "uas-private", 1);
    let (code, v) = call(&lab, &["sip:private@10.79.2.2", "--duration", "2s"]);
    drop(uas);
    assert_eq!(code, 1, "{v}");
    let m = &v["result"]["media"];
    assert_eq!(m["remote_signalled"], "10.99.0.5:6000");
    assert_eq!(m["verdict"]["outbound"], "dead", "{v}");
    assert_eq!(m["verdict"]["inbound"], "dead", "{v}");
    let codes = common::codes(&v);
    assert!(
        codes.contains(&"MEDIA_PORT_UNREACHABLE".to_string()),
        "{codes:?}"
    );
    assert!(codes.contains(&"NO_MEDIA".to_string()), "{codes:?}");

    // 6. A closed port (ICMP) and a silent host: no answer, exit 3.
    let (code, v) = call(&lab, &["sip:x@10.79.2.2:5999", "--duration", "0"]);
    assert_eq!(
        (code, v["result"]["outcome"].as_str()),
        (3, Some("unreachable")),
        "{v}"
    );
    // `unreachable`, not `no-answer`: the ICMP error ended it, not the timeout.
    nft(&lab, "add rule inet loss forward udp dport 5070 drop");
    let (code, v) = call(&lab, &["sip:x@10.79.2.2:5070", "--duration", "0"]);
    assert_eq!(
        (code, v["result"]["outcome"].as_str()),
        (3, Some("no-answer")),
        "{v}"
    );
    assert!(common::codes(&v).contains(&"SIP_NO_ANSWER".to_string()));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts `voipdiag --json call --answer ARGS…` in namespace `role`; its report is read when
/// the returned child is waited for.
fn answerer(lab: &common::Lab, role: char, args: &[&str]) -> Child {
    let child = Command::new("ip")
        .args(["netns", "exec", &lab.ns(role)])
        .arg(env!("CARGO_BIN_EXE_voipdiag"))
        .args(["--json", "call", "--answer"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("voipdiag --answer");
    std::thread::sleep(Duration::from_millis(300));
    child
}

fn answered(child: Child) -> (i32, Value) {
    let out = child.wait_with_output().expect("wait for the answerer");
    (
        out.status.code().unwrap_or(-1),
        common::json_of(&out, "call --answer"),
    )
}

fn finding<'a>(v: &'a Value, code: &str) -> Option<&'a Value> {
    v["findings"].as_array()?.iter().find(|f| f["code"] == code)
}

/// voipdiag calls voipdiag (`--answer` on the public side, tests/lab/sip-lab.sh) from a
/// public client, from behind a NAT — where the offer's private address is only rescued by
/// the answerer latching, and without latching is the named cause of one-way audio — and
/// from behind the kernel's SIP ALG, whose rewrite of the SDP the answerer's 200 exposes.
#[test]
fn voipdiag_to_voipdiag_through_nat_and_a_sip_alg() {
    if !common::lab_available(
        &["ip", "nft", "kamailio", "openssl"],
        "apt-get install iproute2 nftables kamailio kamailio-tls-modules openssl",
    ) {
        return;
    }
    let lab = common::Lab::up("tests/lab/sip-lab.sh", "vk", 'k', &[]);
    // The answerer gets its own public address on the server namespace, port 5060 (the
    // ALG's port).
    let st = ns(
        &lab,
        's',
        &["ip", "addr", "add", "198.51.100.20/32", "dev", "lo"],
    )
    .status()
    .unwrap();
    assert!(st.success());
    let listen = ["--listen", "198.51.100.20", "--wait", "15s"];
    let target = "sip:echo@198.51.100.20";

    // 1. Direct: both ways, each proven by the other side's RTCP; the offer arrived as sent;
    //    the DTMF arrives as expected, and the answerer records what it heard.
    let rec = std::env::temp_dir().join(format!("voipdiag-rec-{}.wav", std::process::id()));
    let rec_arg = rec.to_str().unwrap().to_string();
    let b = answerer(
        &lab,
        's',
        &[&listen[..], &["--record", &rec_arg, "--expect-dtmf", "42"]].concat(),
    );
    let (code, v) = call(
        &lab_role(&lab, 'd'),
        &[target, "--duration", "3s", "--dtmf", "42"],
    );
    let (acode, av) = answered(b);
    assert_eq!(code, 0, "{v}");
    assert_eq!(acode, 0, "{av}");
    let m = &v["result"]["media"];
    assert_eq!(m["verdict"]["inbound"], "ok", "{v}");
    assert_eq!(m["verdict"]["outbound"], "ok", "{v}");
    assert_eq!(m["mos"]["basis_outbound"], "rtcp");
    assert!(m["rtt_ms"].as_f64().is_some(), "{m}");
    assert_eq!(av["result"]["media"]["dtmf"]["received"], "42");
    let dtmf_check = av["result"]["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "expect-dtmf")
        .unwrap_or_else(|| panic!("{av}"));
    assert_eq!(dtmf_check["pass"], true);
    let seconds = av["result"]["recording"]["seconds"].as_f64().unwrap();
    assert!(seconds > 2.0, "{}", av["result"]["recording"]);
    let wav = std::fs::read(&rec).unwrap();
    let _ = std::fs::remove_file(&rec);
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(
        wav.len(),
        44 + (seconds * 16000.0).round() as usize,
        "8 kHz 16-bit mono"
    );
    assert_eq!(av["result"]["hangup"]["by"], "far-end");
    assert_eq!(v["result"]["offer_seen"]["address"], "203.0.113.2", "{v}");
    assert!(finding(&v, "SDP_REWRITTEN_IN_PATH").is_none());

    // 2. Behind NAT: the offer names 10.77.0.2; the answerer latches onto the NAT's
    //    address and audio flows both ways — with the findings that say a strict phone
    //    would not.
    let b = answerer(&lab, 's', &listen);
    let (code, v) = call(
        &lab_role(&lab, 'n'),
        &[target, "--duration", "3s", "--alg-check"],
    );
    let (_, av) = answered(b);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["result"]["nat"]["nat_detected"], true);
    assert_eq!(
        v["result"]["nat"]["sip_alg_detected"], false,
        "a plain NAT is no ALG"
    );
    assert!(finding(&v, "OFFER_PRIVATE_MEDIA_ADDRESS").is_some(), "{v}");
    assert_eq!(v["result"]["media"]["verdict"]["inbound"], "ok", "{v}");
    let am = &av["result"]["media"];
    assert!(
        am["latched"].as_str().unwrap().starts_with("192.0.2.2:"),
        "{av}"
    );
    assert!(finding(&av, "MEDIA_LATCHED").is_some(), "{av}");
    let private = finding(&av, "ANSWER_PRIVATE_MEDIA_ADDRESS").expect("the caller's private offer");
    assert_eq!(
        private["severity"], "warning",
        "rescued by latching: {private}"
    );

    // 3. The same with a strict answerer (--no-latch): its RTP goes to 10.77.0.2 and never
    //    arrives. The caller hears nothing and names the cause: its own private offer from
    //    behind a NAT; the answerer says its outbound is dead for the same reason.
    let b = answerer(&lab, 's', &[&listen[..], &["--no-latch"]].concat());
    let (code, v) = call(&lab_role(&lab, 'n'), &[target, "--duration", "3s"]);
    let (acode, av) = answered(b);
    assert_eq!(code, 1, "{v}");
    assert_eq!(acode, 1, "{av}");
    assert_eq!(v["result"]["media"]["verdict"]["inbound"], "dead", "{v}");
    let f = finding(&v, "ONE_WAY_AUDIO").unwrap_or_else(|| panic!("{v}"));
    let text = f["message"].as_str().unwrap();
    assert!(
        text.contains("from the far end to us") && text.contains("10.77.0.2"),
        "{text}"
    );
    assert_eq!(av["result"]["media"]["verdict"]["outbound"], "dead", "{av}");
    assert_eq!(av["result"]["media"]["verdict"]["inbound"], "ok", "{av}");

    // 3b. The same strict answerer, but the caller learns its RTP socket's public address
    //     with STUN (coturn on the server) and offers that: audio both ways.
    let stun_log =
        std::env::temp_dir().join(format!("voipdiag-call-turn-{}.log", std::process::id()));
    let _turn = Killed(
        ns(
            &lab,
            's',
            &[
                "turnserver",
                "-n",
                "--listening-ip=198.51.100.10",
                "--listening-port=3478",
                "--no-tls",
                "--no-dtls",
                "--no-cli",
                "--simple-log",
            ],
        )
        .arg(format!("--log-file={}", stun_log.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("turnserver"),
    );
    for _ in 0..100 {
        let ss = ns(&lab, 's', &["ss", "-lnu"]).output().unwrap();
        if String::from_utf8_lossy(&ss.stdout).contains("198.51.100.10:3478") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let b = answerer(&lab, 's', &listen);
    let (_, v) = call(
        &lab_role(&lab, 'n'),
        &[
            target,
            "--duration",
            "1s",
            "--stun",
            "198.51.100.10",
            "--rtp-port",
            "20000-20100",
        ],
    );
    let (_, av) = answered(b);
    let mapping = v["result"]["nat"]["media_mapping"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"));
    assert!(mapping.starts_with("192.0.2.2:"), "{mapping}");
    let mapped_port: u64 = mapping.rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(v["result"]["sdp"]["offer"]["address"], "192.0.2.2");
    assert_eq!(v["result"]["sdp"]["offer"]["port"], mapped_port);
    assert_eq!(av["result"]["offer_seen"]["address"], "192.0.2.2", "{av}");
    assert!(finding(&v, "OFFER_PRIVATE_MEDIA_ADDRESS").is_none(), "{v}");
    // Whether the far end's RTP gets through to the mapping depends on who sends first: the
    // answerer sends at once, its packets reach the NAT before ours and take the mapping's
    // reply tuple, so the NAT moves our RTP to another port (seen in this lab). Both ends
    // must say so in their own terms, not call it fine.
    if v["result"]["media"]["verdict"]["inbound"] == "dead" {
        let f = finding(&v, "ONE_WAY_AUDIO").unwrap_or_else(|| panic!("{v}"));
        assert!(f["message"].as_str().unwrap().contains("STUN"), "{f}");
    }

    // 4. Behind the kernel's SIP ALG: it rewrites the offer's address, and the answerer's
    //    200 shows it.
    let b = answerer(&lab, 's', &listen);
    let (_, v) = call(
        &lab_role(&lab, 'b'),
        &[target, "--duration", "2s", "--alg-check"],
    );
    let _ = answered(b);
    assert_eq!(v["result"]["nat"]["sip_alg_detected"], true, "{v}");
    assert!(finding(&v, "SIP_ALG_DETECTED").is_some(), "{v}");
    let f = finding(&v, "SDP_REWRITTEN_IN_PATH").unwrap_or_else(|| panic!("{v}"));
    assert!(
        f["message"].as_str().unwrap().contains("192.0.2.130"),
        "{f}"
    );
    assert_eq!(v["result"]["offer_seen"]["address"], "192.0.2.130");

    // 5. Through kamailio, which wants proxy authentication for INVITE: 407, the INVITE
    //    again with credentials (also on the ACK), relayed with Record-Route; our BYE
    //    follows the route. A wrong password fails as auth-failed without the secret
    //    anywhere in the output.
    let b = answerer(&lab, 's', &listen);
    let out = lab.voipdiag(
        'd',
        &[
            "--json",
            "call",
            "--timeout",
            "2s",
            "sip:echo@198.51.100.10",
            "--user",
            "alice",
            "--duration",
            "2s",
        ],
        &[("VOIPDIAG_PASSWORD", "lab-Secret-1")],
    );
    let (_, av) = answered(b);
    let v = common::json_of(&out, "call through kamailio");
    assert_eq!(out.status.code(), Some(0), "{v}");
    let r = &v["result"];
    assert_eq!(r["auth"]["challenge_status"], 407, "{r}");
    assert_eq!(r["auth"]["realm"], "lab");
    let ladder: Vec<&str> = r["ladder"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        &ladder[..3],
        ["INVITE", "407 Proxy Authentication Required", "INVITE"],
        "{ladder:?}"
    );
    let ack = r["ladder"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["message"] == "ACK")
        .unwrap();
    assert_eq!(
        ack["authenticated"], true,
        "§13.2.2.4: the ACK carries the credentials"
    );
    assert_eq!(
        r["hangup"]["bye_status"], 200,
        "the BYE followed the Record-Route"
    );
    assert_eq!(av["result"]["outcome"], "answered", "{av}");
    assert_eq!(av["result"]["hangup"]["by"], "far-end");
    let out = lab.voipdiag(
        'd',
        &[
            "--json",
            "call",
            "--timeout",
            "2s",
            "sip:echo@198.51.100.10",
            "--user",
            "alice",
        ],
        &[("VOIPDIAG_PASSWORD", "wrong-Secret-9")],
    );
    let v = common::json_of(&out, "wrong password");
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(v["result"]["outcome"], "auth-failed");
    assert!(finding(&v, "AUTH_FAILED").is_some());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("wrong-Secret-9"));

    // 5b. The same call over TCP to kamailio (which relays it over UDP): the INVITE, the
    //     ACK and our BYE on the one connection.
    let b = answerer(&lab, 's', &listen);
    let out = lab.voipdiag(
        'd',
        &[
            "--json",
            "call",
            "--timeout",
            "2s",
            "sip:echo@198.51.100.10",
            "--user",
            "alice",
            "--duration",
            "1s",
            "--transport",
            "tcp",
        ],
        &[("VOIPDIAG_PASSWORD", "lab-Secret-1")],
    );
    let (_, av) = answered(b);
    let v = common::json_of(&out, "call over TCP");
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["result"]["transport"], "tcp");
    assert_eq!(v["result"]["auth"]["challenge_status"], 407);
    assert_eq!(v["result"]["hangup"]["bye_status"], 200, "{v}");
    assert_eq!(av["result"]["outcome"], "answered", "{av}");

    // 5c. And over TLS (kamailio's port 5061, its certificate checked against the lab CA).
    let ca = format!("/tmp/sip-lab-{}/ca.pem", lab.prefix);
    let b = answerer(&lab, 's', &listen);
    let out = lab.voipdiag(
        'd',
        &[
            "--json",
            "call",
            "--timeout",
            "2s",
            "sip:echo@198.51.100.10",
            "--user",
            "alice",
            "--duration",
            "1s",
            "--transport",
            "tls",
            "--ca-file",
            &ca,
        ],
        &[("VOIPDIAG_PASSWORD", "lab-Secret-1")],
    );
    let (_, av) = answered(b);
    let v = common::json_of(&out, "call over TLS");
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["result"]["transport"], "tls");
    assert_eq!(v["result"]["server"], "198.51.100.10:5061");
    assert_eq!(v["result"]["hangup"]["bye_status"], 200, "{v}");
    assert_eq!(av["result"]["outcome"], "answered", "{av}");

    // 6. The answerer behind the NAT registers alice and answers the call kamailio routes
    //    to her binding (through the NAT, on the REGISTER's flow); the public caller latches
    //    onto the NAT's address for the answer's private 10.77.0.2, and says so. The
    //    binding is removed at the end.
    //    The server namespace routes between the public client and the NAT for this.
    let st = ns(&lab, 's', &["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        .status()
        .unwrap();
    assert!(st.success());
    let b = Command::new("ip")
        .args(["netns", "exec", &lab.ns('n')])
        .arg(env!("CARGO_BIN_EXE_voipdiag"))
        .args([
            "--json",
            "call",
            "--answer",
            "--listen",
            "10.77.0.2:5062",
            "--wait",
            "10s",
        ])
        .args(["--register", "sip:alice@198.51.100.10"])
        .env("VOIPDIAG_PASSWORD", "lab-Secret-1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("voipdiag --answer --register");
    std::thread::sleep(Duration::from_millis(800));
    let (code, v) = call(
        &lab_role(&lab, 'd'),
        &["sip:alice@198.51.100.10", "--duration", "2s"],
    );
    let (acode, av) = answered(b);
    assert_eq!((code, acode), (0, 0), "{v}\n{av}");
    let reg = &av["result"]["registration"];
    assert_eq!(reg["aor"], "sip:alice@198.51.100.10", "{av}");
    assert_eq!(reg["removed"], true, "{reg}");
    assert!(finding(&v, "MEDIA_LATCHED").is_some(), "{v}");
    let private = finding(&v, "ANSWER_PRIVATE_MEDIA_ADDRESS").unwrap_or_else(|| panic!("{v}"));
    assert_eq!(private["severity"], "warning");
    assert_eq!(v["result"]["media"]["verdict"]["inbound"], "ok", "{v}");
    assert_eq!(v["result"]["media"]["verdict"]["outbound"], "ok", "{v}");
}

/// The lab seen from another caller namespace (the sip lab's d, n, b).
fn lab_role(lab: &common::Lab, role: char) -> RoleLab<'_> {
    RoleLab { lab, role }
}

struct RoleLab<'a> {
    lab: &'a common::Lab,
    role: char,
}

/// baresip (another implementation) answers automatically and sends RTCP: the far end's
/// receiver report proves our outbound direction — ok, with its basis, a round trip from
/// LSR/DLSR — without an echo.
#[test]
fn baresip_answers_and_its_rtcp_proves_our_audio() {
    if !common::lab_available(
        &["ip", "nft", "baresip"],
        "apt-get install iproute2 nftables baresip",
    ) {
        return;
    }
    let lab = common::Lab::up("tests/lab/rtp-lab.sh", "vc", 'r', &[]);
    let dir = std::env::temp_dir().join(format!("voipdiag-baresip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config"),
        format!(
            "sip_listen 10.79.2.2:5060\nmodule_path /usr/lib/baresip/modules\nmodule g711.so\n\
             module ausine.so\nmodule aufile.so\nmodule account.so\nmodule menu.so\n\
             audio_source ausine,440\naudio_player aufile,{}\nausrc_srate 48000\n\
             auplay_srate 48000\nausrc_channels 2\nauplay_channels 2\n",
            dir.join("heard.wav").display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("accounts"),
        "<sip:callee@10.79.2.2>;regint=0;answermode=auto\n",
    )
    .unwrap();
    let callee = Killed(
        ns(&lab, 'b', &["baresip", "-f"])
            .arg(&dir)
            .args(["-t", "30"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("baresip"),
    );
    // baresip is ready when it listens.
    for _ in 0..100 {
        let ss = ns(&lab, 'b', &["ss", "-lnu"]).output().unwrap();
        if String::from_utf8_lossy(&ss.stdout).contains("10.79.2.2:5060") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (code, v) = call(&lab, &["sip:callee@10.79.2.2", "--duration", "7s"]);
    drop(callee);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 0, "{v}");
    let m = &v["result"]["media"];
    assert_eq!(m["verdict"]["inbound"], "ok", "{v}");
    assert_eq!(m["verdict"]["outbound"], "ok", "{v}");
    assert_eq!(m["mos"]["basis_outbound"], "rtcp");
    assert!(m["outbound"]["remote_report"]["reports"].as_u64().unwrap() >= 1);
    assert!(m["rtt_ms"].as_f64().is_some(), "{m}");
    assert!(m["inbound"]["packets"].as_u64().unwrap() >= 300, "{m}");
}
