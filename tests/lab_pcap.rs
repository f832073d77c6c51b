//! `pcap-decode` on captures the suite makes itself (tests/lab/rtp-lab.sh): real sipp calls
//! from a caller namespace through a router that drops exactly every tenth RTP packet
//! (nft numgen) to a callee, G.711 RTP played from sip-tester's pcap, captured with dumpcap
//! on the callee's interface. voipdiag must find the call and the known loss and agree with
//! tshark on the same file; without RTP echo the call is one-way audio.
//!
//! Needs root, iproute2, nftables, sipp (sip-tester) and tshark (dumpcap). Without them the
//! test says why and skips — unless VOIPDIAG_LAB_REQUIRED=1 (as in CI), where it fails.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

mod common;

const TOOLS: &[&str] = &["ip", "nft", "sipp", "dumpcap", "tshark"];
const HINT: &str = "apt-get install iproute2 nftables sip-tester tshark";
const G711: &str = "/usr/share/sip-tester/g711a.pcap";

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

/// One sipp call a → b (uac_pcap plays 236 G.711 packets of 30 ms), captured on b.
fn call(lab: &common::Lab, dir: &std::path::Path, echo: bool) -> std::path::PathBuf {
    let cap = dir.join(if echo { "echo.pcapng" } else { "oneway.pcapng" });
    let iface = format!("{}b0", lab.prefix);
    let dump = Killed(
        ns(lab, 'b', &["dumpcap", "-q", "-i", &iface, "-w"])
            .arg(&cap)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dumpcap"),
    );
    std::thread::sleep(Duration::from_millis(700));
    // Not under `timeout`: killing `timeout` would leave sipp holding the media port.
    let mut uas = vec![
        "sipp",
        "-sn",
        "uas",
        "-i",
        "10.79.2.2",
        "-mi",
        "10.79.2.2",
        "-mp",
        "6000",
        "-m",
        "1",
        "-nostdin",
    ];
    if echo {
        uas.push("-rtp_echo");
    }
    let server = Killed(
        ns(lab, 'b', &uas)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sipp uas"),
    );
    std::thread::sleep(Duration::from_millis(300));
    let st = ns(
        lab,
        'a',
        &[
            "timeout",
            "30",
            "sipp",
            "-sn",
            "uac_pcap",
            "10.79.2.2:5060",
            "-i",
            "10.79.1.2",
            "-mi",
            "10.79.1.2",
            "-mp",
            "6010",
            "-m",
            "1",
            "-nostdin",
        ],
    )
    .current_dir(dir)
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .status()
    .expect("sipp uac");
    assert!(st.success(), "sipp uac_pcap failed");
    // The callee ends by itself after its one call (-m 1); bounded wait, then killed.
    let mut server = server;
    for _ in 0..50 {
        if server.0.try_wait().ok().flatten().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(server);
    // dumpcap writes a complete file on SIGINT.
    let _ = Command::new("kill")
        .args(["-INT", &dump.0.id().to_string()])
        .status();
    std::thread::sleep(Duration::from_millis(500));
    drop(dump);
    cap
}

fn decode(cap: &std::path::Path) -> (Option<i32>, Value) {
    let (code, v) = common::voipdiag_json(&["pcap-decode", cap.to_str().expect("a UTF-8 path")]);
    (Some(code), v)
}

#[test]
fn sipp_calls_with_known_loss_and_one_way_audio() {
    if !common::lab_available(TOOLS, HINT) {
        return;
    }
    if !std::path::Path::new(G711).exists() {
        if std::env::var("VOIPDIAG_LAB_REQUIRED").as_deref() == Ok("1") {
            panic!("{G711} missing (sip-tester)");
        }
        eprintln!("SKIP: {G711} missing (apt-get install sip-tester)");
        return;
    }
    let lab = common::Lab::up("tests/lab/rtp-lab.sh", "vr", 'p', &[]);
    let dir = std::env::temp_dir().join(format!("voipdiag-rtplab-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("pcap")).unwrap();
    // uac_pcap plays pcap/g711a.pcap, then pcap/dtmf_2833_1.pcap (sip-tester ships both).
    for e in std::fs::read_dir("/usr/share/sip-tester")
        .unwrap()
        .flatten()
    {
        let _ = std::os::unix::fs::symlink(e.path(), dir.join("pcap").join(e.file_name()));
    }

    // Two-way: the callee echoes what it receives.
    let cap = call(&lab, &dir, true);
    let (_, v) = decode(&cap);
    let r = &v["result"];
    assert_eq!(r["calls"].as_array().map(Vec::len), Some(1), "{r}");
    let c = &r["calls"][0];
    assert_eq!(c["final_status"], 200);
    assert_eq!(c["ended_by"], "caller");
    let to_callee = r["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["dst"] == "10.79.2.2:6000" && s["ssrc"] == "0xDEE0EE8F")
        .expect("caller → callee G.711 stream");
    // 236 packets sent; packets 10, 20, …, 230 dropped on the way: 23 lost of 236.
    assert_eq!(to_callee["expected"], 236, "{to_callee}");
    assert_eq!(to_callee["lost"], 23, "{to_callee}");
    assert_eq!(to_callee["packets"], 213);
    assert_eq!(to_callee["codec"], "PCMA");
    assert!(
        to_callee["mos"].as_f64().unwrap() < 4.0,
        "10% loss must cost MOS: {to_callee}"
    );
    assert_eq!(to_callee["call_id"], c["call_id"]);
    // tshark on the same file.
    let ts = Command::new("tshark")
        .args(["-n", "-q", "-r"])
        .arg(&cap)
        .args(["-z", "rtp,streams"])
        .output()
        .unwrap();
    let ts = String::from_utf8_lossy(&ts.stdout);
    // Columns: start end src-ip src-port dst-ip dst-port ssrc payload packets lost (pct) …
    let cols: Vec<&str> = ts
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|c| c.len() > 10 && c[2] == "10.79.1.2" && c[5] == "6000" && c[6] == "0xDEE0EE8F")
        .unwrap_or_else(|| panic!("tshark does not see the stream:\n{ts}"));
    assert_eq!(
        (cols[8], cols[9], cols[10]),
        ("213", "23", "(9.7%)"),
        "{cols:?}"
    );
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"ONE_WAY_AUDIO"), "{codes:?}");

    // One-way: no echo, so nothing comes back to the caller.
    let cap = call(&lab, &dir, false);
    let (code, v) = decode(&cap);
    assert_eq!(code, Some(1));
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"ONE_WAY_AUDIO"), "{codes:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
