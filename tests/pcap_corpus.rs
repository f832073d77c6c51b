//! `pcap-decode` on the real public captures of tests/data/captures, with tshark as the oracle:
//! every RTP stream (packets and loss exactly, jitter and max delta within 0.1 ms) in both
//! the signalled and the heuristic mode, SIP message counts by method and status, and the
//! frame count. Plus what the captures are in the set for (fragments, tunnels, TCP, WebSocket,
//! SCTP, DTMF, T.38 switch), and cut or damaged copies of every capture, which must give a
//! partial report and never a panic. Skips with a message where tshark is absent (fails in CI).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod common;

fn captures() -> Option<Vec<PathBuf>> {
    let root = common::data_dir().join("captures");
    let dir = match std::fs::read_dir(&root) {
        Ok(dir) => dir,
        Err(e) => {
            return common::skip_or_fail(&format!("{} is not readable: {e}", root.display()));
        }
    };
    let mut files: Vec<PathBuf> = dir
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    files.sort();
    if files.is_empty() {
        return common::skip_or_fail(&format!("no captures in {}", root.display()));
    }
    Some(files)
}

fn decode(file: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "pcap-decode",
        file.to_str().expect("a UTF-8 path"),
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = common::voipdiag(&args);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}: exit {:?}: {}",
        file.display(),
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    common::json_of(&out, &file.display().to_string())["result"].clone()
}

/// Options tshark needs to see what the capture is (MANIFEST.md).
fn tshark_options(file: &Path) -> Vec<&'static str> {
    if file.to_string_lossy().contains("tcp_fragmented") {
        vec!["-d", "tcp.port==6060,sip"]
    } else {
        vec![]
    }
}

fn tshark(file: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .args(["-n", "-q", "-r"])
        .arg(file)
        .args(tshark_options(file))
        .args(args)
        .output()
        .expect("run tshark");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[derive(Debug, Clone, PartialEq)]
struct Oracle {
    packets: u64,
    lost: i64,
    max_delta: f64,
    mean_jitter: f64,
    max_jitter: f64,
}

fn endpoint(ip: &str, port: &str) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

/// Parses `tshark -z rtp,streams`: key (src, dst, SSRC) → figures.
fn tshark_streams(file: &Path, heuristic: bool) -> BTreeMap<(String, String, String), Oracle> {
    let mut args = vec![];
    if heuristic {
        args.extend(["-o", "rtp.heuristic_rtp:TRUE"]);
    }
    args.extend(["-z", "rtp,streams"]);
    let text = tshark(file, &args);
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let t: Vec<&str> = line.split_whitespace().collect();
        // start end src sport dst dport ssrc payload… pkts lost (pct) min mean max minj meanj maxj [X]
        if t.len() < 17 || !t[6].starts_with("0x") {
            continue;
        }
        let n = t.len() - usize::from(t[t.len() - 1] == "X");
        let f = |i: usize| t[n - i].parse::<f64>().expect("number");
        out.insert(
            (endpoint(t[2], t[3]), endpoint(t[4], t[5]), t[6].to_string()),
            Oracle {
                packets: t[n - 9].parse().expect("packets"),
                lost: t[n - 8].parse().expect("lost"),
                max_delta: f(4),
                mean_jitter: f(2),
                max_jitter: f(1),
            },
        );
    }
    out
}

fn tshark_sip(file: &Path) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let text = tshark(file, &["-z", "sip,stat"]);
    let (mut req, mut resp) = (BTreeMap::new(), BTreeMap::new());
    for line in text.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("SIP ")
            && let Some((code, n)) = rest.split_once(' ').zip(l.rsplit_once(':'))
        {
            let count =
                n.1.trim()
                    .trim_end_matches("Packets")
                    .trim()
                    .parse()
                    .unwrap();
            resp.insert(code.0.to_string(), count);
        } else if let Some((m, n)) = l.split_once(':')
            && m.trim().chars().all(|c| c.is_ascii_uppercase())
            && !m.trim().is_empty()
            && n.trim().ends_with("Packets")
        {
            let count = n.trim().trim_end_matches("Packets").trim().parse().unwrap();
            req.insert(m.trim().to_string(), count);
        }
    }
    (req, resp)
}

fn frame_count(file: &Path) -> u64 {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(file)
        .args(["-T", "fields", "-e", "frame.number"])
        .output()
        .expect("run tshark");
    String::from_utf8_lossy(&out.stdout).lines().count() as u64
}

fn counts(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn rtp_streams_and_sip_counts_agree_with_tshark() {
    let Some(files) = captures() else { return };
    if !common::tool_available("tshark", "apt-get install tshark") {
        return;
    }
    let mut compared = 0;
    let mut failures = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let plain = decode(file, &[]);
        let p = &plain["packets"];
        let total = p["total"].as_u64().unwrap();
        assert_eq!(
            total,
            p["decoded"].as_u64().unwrap()
                + p["ignored"].as_u64().unwrap()
                + p["malformed"].as_u64().unwrap(),
            "{name}: packets do not add up"
        );
        assert_eq!(total, frame_count(file), "{name}: frame count");
        let (req, resp) = tshark_sip(file);
        if counts(&plain["sip"]["requests"]) != req || counts(&plain["sip"]["responses"]) != resp {
            failures.push(format!(
                "{name}: SIP counts: tshark {req:?} {resp:?}, ours {} {}",
                plain["sip"]["requests"], plain["sip"]["responses"]
            ));
        }
        for heuristic in [false, true] {
            let ours = if heuristic {
                decode(file, &["--rtp-heuristics"])
            } else {
                plain.clone()
            };
            let oracle = tshark_streams(file, heuristic);
            let mut mine = BTreeMap::new();
            for s in ours["streams"].as_array().unwrap() {
                let key = (
                    s["src"].as_str().unwrap().to_string(),
                    s["dst"].as_str().unwrap().to_string(),
                    s["ssrc"].as_str().unwrap().to_string(),
                );
                mine.insert(key, s.clone());
            }
            let mode = if heuristic { "heuristic" } else { "signalled" };
            for (key, o) in &oracle {
                compared += 1;
                let Some(s) = mine.get(key) else {
                    failures.push(format!("{name} ({mode}): tshark has {key:?}, we do not"));
                    continue;
                };
                let num = |k: &str| s[k].as_f64().unwrap();
                let mut bad = vec![];
                if s["packets"].as_u64().unwrap() != o.packets {
                    bad.push(format!("packets {} vs {}", s["packets"], o.packets));
                }
                if s["lost"].as_i64().unwrap() != o.lost {
                    bad.push(format!("lost {} vs {}", s["lost"], o.lost));
                }
                for (k, want) in [
                    ("jitter_max_ms", o.max_jitter),
                    ("jitter_mean_ms", o.mean_jitter),
                    ("max_delta_ms", o.max_delta),
                ] {
                    if (num(k) - want).abs() > 0.1 {
                        bad.push(format!("{k} {} vs {want}", num(k)));
                    }
                }
                if !bad.is_empty() {
                    failures.push(format!("{name} ({mode}) {key:?}: {}", bad.join(", ")));
                }
            }
            for key in mine.keys().filter(|k| !oracle.contains_key(*k)) {
                failures.push(format!("{name} ({mode}): we have {key:?}, tshark does not"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "disagreements with tshark:\n{}",
        failures.join("\n")
    );
    assert!(compared >= 30, "only {compared} streams compared");
}

fn capture(name: &str) -> Option<PathBuf> {
    let found = captures()?
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == name));
    found.or_else(|| common::skip_or_fail(&format!("capture {name} is missing")))
}

#[test]
fn what_each_capture_is_for() {
    let Some(_) = captures() else { return };
    let get = |n: &str| decode(&capture(n).expect(n), &[]);

    // IPv6 fragments reassembled: the large INVITEs are there (2 INVITEs, 32 messages).
    let v = get("sngrep-ipv6frag.pcap");
    assert_eq!(v["sip"]["messages"], 32);
    assert_eq!(v["sip"]["requests"]["INVITE"], 2);
    assert_eq!(v["packets"]["malformed"], 0);

    // IP-in-IP around SIP over TCP: one answered call, ended by the caller after 32 s.
    let v = get("sngrep-ipip.pcap");
    let c = &v["calls"][0];
    assert_eq!(c["final_status"], 200);
    assert_eq!(c["transport"], "TCP");
    assert_eq!(c["ended_by"], "caller");
    assert!(
        (c["duration_s"].as_f64().unwrap() - 32.0).abs() < 1.0,
        "{c}"
    );
    assert_eq!(c["codecs"], serde_json::json!(["PCMU", "telephone-event"]));

    // SIP over TCP with retransmissions and over WebSocket, SCTP (a message in two chunks),
    // GRE/PPP and ERSPAN.
    assert_eq!(get("heplify-sip_tcp_websocket.pcap")["sip"]["messages"], 39);
    assert_eq!(get("heplify-sip_sctp.pcap")["sip"]["requests"]["INVITE"], 1);
    assert_eq!(get("ndpi-gre.pcapng")["sip"]["messages"], 1);
    assert_eq!(
        get("heplify-erspan_sip_ipv4_udp.pcapng")["sip"]["messages"],
        140
    );
    let v = get("heplify-sip_ipv4_tcp_fragmented.pcap");
    assert!(
        v["sip"]["messages"].as_u64().unwrap() > 400,
        "messages split over segments"
    );
    assert_eq!(v["packets"]["malformed"], 0);

    // Keep-alives and HTTP on port 5060 are not SIP.
    let v = get("ndpi-http_on_sip_port.pcap");
    assert_eq!(v["sip"]["messages"], 0);
    let v = get("ndpi-sip_hello.pcapng");
    assert_eq!(v["sip"]["messages"], 8);

    // Failed calls and their findings.
    let Some(aaa) = capture("sngrep-aaa.pcap") else {
        return;
    };
    let out = common::voipdiag(&["pcap-decode", "--json", aaa.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "problems found → exit 1");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"CALL_FAILED"), "{codes:?}");
    let statuses: Vec<u64> = doc["result"]["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["final_status"].as_u64())
        .collect();
    assert!(
        statuses.contains(&403) || statuses.contains(&480),
        "{statuses:?}"
    );

    // The T.38 re-INVITE ends RTP on that port: 1838 packets, 6 lost (as tshark counts).
    let v = get("heplify-FAX-Call-t38-CA-TDM-SIP-FB-1.pcap");
    let s = v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["ssrc"] == "0x0EAF0EAF")
        .unwrap();
    assert_eq!(
        (s["packets"].as_u64(), s["lost"].as_i64()),
        (Some(1838), Some(6))
    );
    assert!(s["mos"].as_f64().unwrap() > 4.0);

    // RFC 4733: digit 1, its end packet sent three times with one sequence number.
    let v = decode(
        &capture("sipp-dtmf_2833_1.pcap").unwrap(),
        &["--rtp-heuristics"],
    );
    let s = &v["streams"][0];
    assert_eq!(s["dtmf"], "1");
    assert_eq!(
        (s["lost"].as_i64(), s["duplicates"].as_u64()),
        (Some(-2), Some(2))
    );

    // STUN, including RFC 3489 and TURN indications.
    let v = get("ndpi-stun.pcap");
    assert!(v["stun_messages"].as_u64().unwrap() > 100);
    assert!(
        v["stun"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["xor_mapped_address"].is_string())
    );
}

#[test]
fn views_render_messages_ladder_and_streams() {
    let Some(f) = capture("heplify-sip_ipv4_tcp.pcap") else {
        return;
    };
    let run = |args: &[&str]| {
        let mut all = vec!["pcap-decode", "--color", "never", f.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = common::voipdiag(&all);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (_, text, _) = run(&["--view", "messages"]);
    assert!(
        text.contains("INVITE sip:") && text.contains("180 Ringing") && text.contains("BYE"),
        "{text}"
    );
    let (_, text, _) = run(&[
        "--view",
        "ladder",
        "--call-id",
        "158936656982201062716@10.33.6.100",
    ]);
    assert!(text.contains("|--------INVITE (SDP)-------->|"), "{text}");
    assert!(text.contains("|<------------BYE-------------|"), "{text}");
    let (_, text, _) = run(&["--view", "streams"]);
    assert!(
        text.contains("0x42F433D4") && text.contains("seq errors"),
        "{text}"
    );
    let (code, _, err) = run(&["--view", "ladder", "--call-id", "nope"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no SIP message with Call-ID nope"), "{err}");
}

/// Cut every capture at several places and damage bytes: a partial report with the accounting
/// intact, never a panic or an internal error.
#[test]
fn cut_and_damaged_captures_give_partial_reports() {
    let Some(files) = captures() else { return };
    let dir = std::env::temp_dir().join(format!("voipdiag-pcap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut seed = 0x2545_f491_u64;
    for file in files.iter().take(24) {
        let bytes = std::fs::read(file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let mut variants: Vec<Vec<u8>> = vec![];
        for frac in [3, 2] {
            variants.push(bytes[..bytes.len() * (frac - 1) / frac + 7].to_vec());
        }
        let mut damaged = bytes.clone();
        for _ in 0..20 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let i = 64 + (seed as usize) % (damaged.len().saturating_sub(64).max(1));
            if i < damaged.len() {
                damaged[i] = (seed >> 32) as u8;
            }
        }
        variants.push(damaged);
        for (k, v) in variants.iter().enumerate() {
            let path = dir.join(format!("{k}-{name}"));
            std::fs::write(&path, v).unwrap();
            assert_threads_agree(&path);
            let out = common::voipdiag(&["pcap-decode", "--json", path.to_str().unwrap()]);
            let code = out.status.code();
            assert!(
                matches!(code, Some(0..=2)),
                "{name} variant {k}: exit {code:?} {}",
                String::from_utf8_lossy(&out.stderr)
            );
            if code == Some(2) {
                continue; // header destroyed: "not a pcap" is the right answer
            }
            let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
            let p = &doc["result"]["packets"];
            assert_eq!(
                p["total"].as_u64(),
                Some(
                    p["decoded"].as_u64().unwrap()
                        + p["ignored"].as_u64().unwrap()
                        + p["malformed"].as_u64().unwrap()
                ),
                "{name} variant {k}"
            );
            if k < 2 {
                assert!(
                    doc["result"]["truncated"].is_string(),
                    "{name} cut: truncated must be said"
                );
            }
        }
    }
    // Garbage and an empty file are clear errors (exit 2), not panics.
    for (label, content) in [
        ("garbage", b"this is not a capture at all".to_vec()),
        ("empty", vec![]),
    ] {
        let path = dir.join(label);
        std::fs::write(&path, content).unwrap();
        let out = common::voipdiag(&["pcap-decode", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{label}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("voipdiag:"),
            "{label}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `pcap-decode --threads 2` gives the report `--threads 1` gives (timing fields aside),
/// with the same exit code.
fn assert_threads_agree(file: &Path) {
    let run = |threads: &str| {
        let out = common::voipdiag(&[
            "pcap-decode",
            "--json",
            "--threads",
            threads,
            file.to_str().unwrap(),
        ]);
        let mut doc: Value = if out.stdout.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&out.stdout).unwrap()
        };
        if let Some(o) = doc.as_object_mut() {
            o.remove("duration_ms");
            o.remove("started_at");
        }
        (out.status.code(), doc)
    };
    let (one, two) = (run("1"), run("2"));
    assert_eq!(one.0, two.0, "{}: exit codes differ", file.display());
    assert!(
        one.1 == two.1,
        "{}: --threads 2 differs from 1",
        file.display()
    );
}

/// The two-thread reader (the default for large regular files) changes nothing but the
/// time: the same report on every corpus capture (their cut and damaged copies are compared
/// in `cut_and_damaged_captures_give_partial_reports`) and on a generated capture of 40
/// interleaved calls, several batches long.
#[test]
fn two_threads_give_the_same_report() {
    let Some(files) = captures() else { return };
    for file in &files {
        assert_threads_agree(file);
    }
    let generated =
        std::env::temp_dir().join(format!("voipdiag-calls-{}.pcap", std::process::id()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/gen_capture.py");
    let made = Command::new("python3")
        .arg(&script)
        .arg(&generated)
        .args(["--calls", "40", "--mb", "6"])
        .status();
    if !made.is_ok_and(|s| s.success()) {
        common::skip_or_fail::<()>("python3 could not run benches/gen_capture.py");
        return;
    }
    let doc = decode(&generated, &["--threads", "2"]);
    assert_eq!(
        doc["calls"].as_array().map(Vec::len),
        Some(40),
        "interleaved calls"
    );
    assert_eq!(doc["streams"].as_array().map(Vec::len), Some(80));
    assert_threads_agree(&generated);
    let _ = std::fs::remove_file(&generated);
}

#[test]
fn reads_stdin() {
    let Some(f) = capture("sngrep-ipip.pcap") else {
        return;
    };
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} pcap-decode - --json < {}",
            env!("CARGO_BIN_EXE_voipdiag"),
            f.display()
        ))
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["result"]["sip"]["messages"], 4);
    assert_eq!(doc["result"]["file"], "-");
}

/// A capture made to show the classic NAT failure: the callee answers from the public
/// 198.51.100.7 with SDP naming its private 10.9.9.9; the caller's RTP goes to 10.9.9.9 (it
/// cannot arrive), the callee's comes back from 198.51.100.7. RTP is seen both ways, yet
/// one way is lost: pcap-decode says ONE_WAY_AUDIO, which way, and why.
#[test]
fn rtp_to_a_private_answer_address_is_one_way_audio() {
    use voipdiag::capture::writer::PcapWriter;
    let caller: std::net::SocketAddr = "203.0.113.5:5060".parse().unwrap();
    let callee: std::net::SocketAddr = "198.51.100.7:5060".parse().unwrap();
    let caller_rtp: std::net::SocketAddr = "203.0.113.5:4000".parse().unwrap();
    let private_rtp: std::net::SocketAddr = "10.9.9.9:6000".parse().unwrap();
    let callee_public_rtp: std::net::SocketAddr = "198.51.100.7:30000".parse().unwrap();
    let sdp = |ip: &str, port: u16| {
        format!(
            "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n"
        )
    };
    let msg = |start: &str, cseq: &str, to_tag: &str, body: &str| {
        format!(
            "{start}\r\nVia: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bKnat1\r\n\
             From: <sip:a@example.com>;tag=ft\r\nTo: <sip:b@example.com>{to_tag}\r\n\
             Call-ID: nat-one-way@example.com\r\nCSeq: {cseq}\r\n\
             {}Content-Length: {}\r\n\r\n{body}",
            if body.is_empty() {
                ""
            } else {
                "Content-Type: application/sdp\r\n"
            },
            body.len()
        )
    };
    let path = std::env::temp_dir().join(format!("voipdiag-natoneway-{}.pcap", std::process::id()));
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut w = PcapWriter::new(file).unwrap();
    let t = |ms: u64| std::time::Duration::from_millis(1_800_000_000_000 + ms);
    let offer = sdp("203.0.113.5", 4000);
    let answer = sdp("10.9.9.9", 6000);
    w.write_udp(
        t(0),
        caller,
        callee,
        msg("INVITE sip:b@example.com SIP/2.0", "1 INVITE", "", &offer).as_bytes(),
    )
    .unwrap();
    w.write_udp(
        t(50),
        callee,
        caller,
        msg("SIP/2.0 200 OK", "1 INVITE", ";tag=tt", &answer).as_bytes(),
    )
    .unwrap();
    w.write_udp(
        t(60),
        caller,
        callee,
        msg("ACK sip:b@example.com SIP/2.0", "1 ACK", ";tag=tt", "").as_bytes(),
    )
    .unwrap();
    let rtp = |seq: u16, ssrc: u32| {
        let mut p = vec![0x80, 0];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
        p.extend_from_slice(&ssrc.to_be_bytes());
        p.extend_from_slice(&[0xff; 160]);
        p
    };
    for k in 0..100u16 {
        let at = t(100 + u64::from(k) * 20);
        w.write_udp(at, caller_rtp, private_rtp, &rtp(k, 0xaaaa))
            .unwrap();
        w.write_udp(at, callee_public_rtp, caller_rtp, &rtp(k, 0xbbbb))
            .unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let (code, v) = common::voipdiag_json(&["pcap-decode", path.to_str().unwrap()]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 1, "{v}");
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "ONE_WAY_AUDIO")
        .unwrap_or_else(|| panic!("no ONE_WAY_AUDIO: {}", v["findings"]));
    let text = f["message"].as_str().unwrap();
    assert!(text.contains("callee → caller only"), "{text}");
    assert!(
        text.contains("10.9.9.9:6000") && text.contains("private"),
        "{text}"
    );
    assert_eq!(f["severity"], "critical");
}
