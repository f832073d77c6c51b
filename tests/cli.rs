//! CLI tests on loopback only: usage errors, generated files, and the probe against tiny
//! hostile or absent servers on 127.0.0.1.

use std::net::UdpSocket;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

mod common;

use common::voipdiag;

/// A loopback UDP port nothing listens on (bound, then dropped).
fn closed_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["nat-probe", "--timeout", "soon"][..],
        &["nat-probe", "--server", "bad host"],
        &["nat-probe", "--server", "host:0"],
        &["nat-probe", "-4", "-6"],
        &["no-such-command"],
        &["nat-probe", "--local", "not-an-ip"],
        // enum-lookup: a national number, a letter, too many digits, an IP literal, an
        // unknown enumservice syntax, --service with a SIP domain, nothing to look up.
        &["enum-lookup", "01", "979", "3321"],
        &["enum-lookup", "+43", "1", "97x"],
        &["enum-lookup", "+4319793321999999"],
        &["enum-lookup", "sip:192.0.2.1"],
        &["enum-lookup", "+4319793321", "--service", "E2U+"],
        &["enum-lookup", "sip:example.com", "--service", "sip"],
        &["enum-lookup"],
        // upnp-map: add without a port, a port for status, a bad gateway, port 0.
        &["upnp-map", "add", "udp"],
        &["upnp-map", "status", "udp", "5060"],
        &["upnp-map", "--gateway", "router.lan"],
        &["upnp-map", "add", "udp", "0"],
        // Absurd durations: an error, not a panic in the clock arithmetic.
        &["--timeout", "300000000000y", "nat-probe"],
        &["sip-options", "127.0.0.1", "--interval", "300000000000y"],
        &["sip-options", "127.0.0.1", "--t1", "300000000000y"],
        &["nat-probe", "--lifetime-max", "100000000000000000000s"],
        // TURN: a bad URI, a secret without a user, --turn-only with nothing to test, a
        // password without a user, no password anywhere (stdin is not a terminal here), an
        // unreadable secret file, an iceServers file without a TURN URI.
        &["nat-probe", "--turn", "stun:192.0.2.1"],
        &["nat-probe", "--turn", "turns:192.0.2.1?transport=udp"],
        &[
            "nat-probe",
            "--turn",
            "turn:192.0.2.1",
            "--turn-secret-file",
            "Cargo.toml",
        ],
        &["nat-probe", "--turn-only"],
        &[
            "nat-probe",
            "--turn",
            "turn:192.0.2.1",
            "--turn-password",
            "x",
        ],
        &[
            "nat-probe",
            "--turn",
            "turn:192.0.2.1",
            "--turn-user",
            "alice",
        ],
        &[
            "nat-probe",
            "--turn",
            "turn:192.0.2.1",
            "--turn-user",
            "a",
            "--turn-secret-file",
            "/nonexistent",
        ],
        &["nat-probe", "--turn-only", "--ice-servers", "Cargo.toml"],
        &[
            "nat-probe",
            "--turn-only",
            "--turn",
            "turn:192.0.2.1",
            "--turn-peer",
            "nowhere",
        ],
    ] {
        let out = voipdiag(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stdout.is_empty(),
            "{args:?}: usage errors print nothing on stdout"
        );
    }
    let out = voipdiag(&[
        "nat-probe",
        "-6",
        "--local",
        "127.0.0.1",
        "--server",
        "127.0.0.1",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

/// sip-options and register to a closed UDP port: ICMP ends the wait, and the finding names
/// it (it read "no response within the timeout").
#[test]
fn sip_to_a_closed_port_names_the_icmp_error() {
    let port = closed_udp_port();
    let uri = format!("sip:127.0.0.1:{port}");
    let out = voipdiag(&["--json", "--timeout", "5s", "sip-options", &uri]);
    let v = common::json_of(&out, "sip-options closed port");
    assert_eq!(out.status.code(), Some(3), "{v:#}");
    let f = &v["findings"][0];
    assert_eq!(f["code"], "SIP_UNREACHABLE", "{v:#}");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("ICMP port unreachable"),
        "{f}"
    );
    let aor = format!("sip:alice@127.0.0.1:{port}");
    let out = voipdiag(&[
        "--json",
        "--timeout",
        "5s",
        "register",
        &aor,
        "--password",
        "x",
    ]);
    let v = common::json_of(&out, "register closed port");
    let messages: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("ICMP port unreachable")),
        "{v:#}"
    );
}

/// Under --json stdout is always one JSON document: clap's usage errors (USAGE_ERROR) and
/// the commands' input errors (INPUT_ERROR) too, with status "error" and exit 2.
#[test]
fn json_errors_are_json_documents() {
    for (args, code, command) in [
        (
            &["--json", "nat-probe", "--timeout", "soon"][..],
            "USAGE_ERROR",
            "nat-probe",
        ),
        (
            &["nat-probe", "--json", "--turn", "stun:192.0.2.1"],
            "USAGE_ERROR",
            "nat-probe",
        ),
        (&["--json", "no-such-command"], "USAGE_ERROR", ""),
        (
            &["--json", "pcap-decode", "/nonexistent/capture.pcap"],
            "INPUT_ERROR",
            "pcap-decode",
        ),
        (
            &["--json", "pcap-decode", "/"],
            "INPUT_ERROR",
            "pcap-decode",
        ),
        (
            &["--json", "nat-probe", "--turn-only"],
            "INPUT_ERROR",
            "nat-probe",
        ),
    ] {
        let out = voipdiag(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let v = common::json_of(&out, &format!("{args:?}"));
        assert_eq!(v["status"], "error", "{args:?}: {v}");
        assert_eq!(v["findings"][0]["code"], code, "{args:?}: {v}");
        assert!(!v["findings"][0]["message"].as_str().unwrap().is_empty());
        assert_eq!(v["command"].as_str().unwrap_or(""), command, "{args:?}");
        assert!(v["result"].is_null());
    }
}

/// Colour: off in a pipe by default, on with CLICOLOR_FORCE=1, off again with NO_COLOR.
#[test]
fn colour_follows_clicolor_force_and_no_color() {
    let port = closed_udp_port();
    let server = format!("127.0.0.1:{port}");
    let run = |env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_voipdiag"));
        cmd.args(["--timeout", "1s", "nat-probe", "--server", &server])
            .env_remove("CLICOLOR_FORCE")
            .env_remove("NO_COLOR");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        String::from_utf8_lossy(&out.stdout).contains('\x1b')
    };
    assert!(!run(&[]), "no colour in a pipe");
    assert!(
        run(&[("CLICOLOR_FORCE", "1")]),
        "CLICOLOR_FORCE colours a pipe"
    );
    assert!(!run(&[("CLICOLOR_FORCE", "0")]));
}

/// -q: nothing on stdout, the exit code alone.
#[test]
fn quiet_prints_nothing_and_keeps_the_exit_code() {
    let port = closed_udp_port();
    let server = format!("127.0.0.1:{port}");
    let out = voipdiag(&["-q", "--timeout", "1s", "nat-probe", "--server", &server]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// With no server name resolving nothing is sent: the finding says DNS, not "servers down".
#[test]
fn unresolvable_servers_are_named_not_blamed() {
    let out = voipdiag(&[
        "--json",
        "--timeout",
        "1s",
        "nat-probe",
        "--server",
        "no-such-host.invalid",
        "--server",
        "also-missing.invalid:3479",
    ]);
    let v = common::json_of(&out, "nat-probe unresolvable");
    assert_eq!(out.status.code(), Some(3), "nothing answered");
    let codes = common::codes(&v);
    assert!(codes.contains(&"NAMES_UNRESOLVED".to_string()), "{v:#}");
    assert!(!codes.contains(&"NO_ANSWER".to_string()), "{v:#}");
    let message = v["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("no-such-host.invalid") && message.contains("also-missing.invalid"));
    assert_eq!(v["result"]["servers"][0]["status"], "unresolved");
}

#[test]
fn help_and_version_exit_0() {
    let out = voipdiag(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("nat-probe") && text.contains("Exit codes"));
    assert_eq!(voipdiag(&["--version"]).status.code(), Some(0));
    // `voipdiag help [COMMAND]` as users of git and cargo expect.
    let out = voipdiag(&["help", "nat-probe"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: voipdiag nat-probe"));
    assert_eq!(voipdiag(&["help"]).status.code(), Some(0));
}

/// The committed completions/ and man/ must equal what the clap definitions generate now.
/// Regenerate with: cargo run -- generate --out-dir .
#[test]
fn completions_and_man_pages_are_fresh() {
    let tmp = std::env::temp_dir().join(format!("voipdiag-gen-{}", std::process::id()));
    let out = voipdiag(&["generate", "--out-dir", tmp.to_str().unwrap()]);
    assert!(out.status.success());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for dir in ["completions", "man"] {
        for entry in std::fs::read_dir(tmp.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap();
            let committed = std::fs::read(root.join(dir).join(name)).unwrap_or_else(|_| {
                panic!(
                    "{dir}/{} is not committed; run: cargo run -- generate --out-dir .",
                    name.to_string_lossy()
                )
            });
            assert!(
                committed == std::fs::read(&path).unwrap(),
                "{dir}/{} is stale; run: cargo run -- generate --out-dir .",
                name.to_string_lossy()
            );
            checked += 1;
        }
        let committed = std::fs::read_dir(root.join(dir)).unwrap().count();
        let generated = std::fs::read_dir(tmp.join(dir)).unwrap().count();
        assert_eq!(
            committed, generated,
            "{dir}/ has files the generator no longer makes"
        );
    }
    assert_eq!(
        checked,
        5 + 8,
        "5 shells + main page + one page per subcommand"
    );
    // Completions offer only what --help shows: not the hidden `generate` subcommand, the
    // hidden --seed, or the network options pcap-decode refuses.
    let bash = std::fs::read_to_string(tmp.join("completions/voipdiag.bash")).unwrap();
    assert!(!bash.contains("generate") && !bash.contains("--seed"));
    let pcap_line = bash
        .lines()
        .skip_while(|l| !l.contains("voipdiag__subcmd__pcap__subcmd__decode)"))
        .find(|l| l.contains("opts="))
        .expect("pcap-decode's options");
    assert!(pcap_line.contains("--view") && pcap_line.contains("--json"));
    assert!(
        !pcap_line.contains("--timeout") && !pcap_line.contains("-4"),
        "{pcap_line}"
    );
    let _ = std::fs::remove_dir_all(tmp);
}

/// --help puts the options every subcommand shares under their own heading, and a
/// subcommand offers only the options that mean something for it.
#[test]
fn help_groups_global_options_and_pcap_decode_has_no_network_options() {
    let help = |args: &[&str]| String::from_utf8_lossy(&voipdiag(args).stdout).into_owned();
    let nat = help(&["nat-probe", "--help"]);
    let (own, global) = nat
        .split_once("Global options:")
        .expect("a Global options heading");
    assert!(own.contains("--server") && !own.contains("--json"), "{nat}");
    assert!(
        global.contains("--json") && global.contains("--timeout") && global.contains("--fail-on")
    );
    let pcap = help(&["pcap-decode", "--help"]);
    assert!(pcap.contains("--view") && pcap.contains("--json"), "{pcap}");
    assert!(
        !pcap.contains("--timeout") && !pcap.contains("--ipv4"),
        "{pcap}"
    );
    // Given anyway, they are refused with a sentence (exit 2), also under --json.
    let capture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/captures/sngrep-ipip.pcap");
    let out = voipdiag(&[
        "--json",
        "pcap-decode",
        capture.to_str().unwrap(),
        "--timeout",
        "2s",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let v = common::json_of(&out, "pcap-decode --timeout");
    assert_eq!(v["findings"][0]["code"], "INPUT_ERROR");
    assert!(
        v["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("--timeout means nothing")
    );
    // Without them the same capture decodes (the global --timeout default is not "given").
    assert_eq!(
        voipdiag(&["-q", "pcap-decode", capture.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
}

/// One exit rule for every command: warnings are shown but exit 0; a critical finding or a
/// failed expectation exits 1; --fail-on warning makes warnings count. The capture ends
/// mid-call (NO_BYE) and has an INVITE without final answer: warnings only.
#[test]
fn warnings_alone_exit_0_unless_fail_on_warning() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/captures");
    let warned = data.join("heplify-rtp_rtcp_sip_ipv4_udp.pcap");
    let warned = warned.to_str().unwrap();
    let out = voipdiag(&["--json", "pcap-decode", warned]);
    let v = common::json_of(&out, "pcap-decode warnings");
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert_eq!(v["status"], "ok");
    let severities = common::severities(&v);
    assert!(
        severities.contains(&"warning".into()) && !severities.contains(&"critical".into()),
        "{v:#}"
    );
    assert!(common::codes(&v).contains(&"NO_BYE".to_string()));

    let out = voipdiag(&["--json", "--fail-on", "warning", "pcap-decode", warned]);
    let v = common::json_of(&out, "pcap-decode --fail-on warning");
    assert_eq!(out.status.code(), Some(1), "{v:#}");
    assert_eq!(v["status"], "problem");
    let out = voipdiag(&["-q", "pcap-decode", warned, "--fail-on", "warning"]);
    assert_eq!(out.status.code(), Some(1));

    // A critical finding (calls refused with 403/408/480…) exits 1 without --fail-on.
    let failed = data.join("sngrep-aaa.pcap");
    let out = voipdiag(&["--json", "pcap-decode", failed.to_str().unwrap()]);
    let v = common::json_of(&out, "pcap-decode critical");
    assert_eq!(out.status.code(), Some(1), "{v:#}");
    assert_eq!(v["findings"][0]["code"], "CALL_FAILED");
    assert_eq!(v["findings"][0]["severity"], "critical");

    // The same rule for a network command: sip-options to a server that answers 200 OK but
    // ignores rport (RFC 3581) has one warning, SIP_RPORT_IGNORED.
    for (extra, want) in [(None, 0), (Some("warning"), 1)] {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        server
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let uri = format!("sip:127.0.0.1:{}", server.local_addr().unwrap().port());
        let answering = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // One request (on loopback the answer comes before any retransmission).
            let Ok((n, from)) = server.recv_from(&mut buf) else {
                return;
            };
            let request = String::from_utf8_lossy(&buf[..n]).into_owned();
            let copied: Vec<&str> = request
                .split("\r\n")
                .filter(|l| {
                    let name = l.split(':').next().unwrap_or("").to_ascii_lowercase();
                    ["via", "from", "to", "call-id", "cseq"].contains(&name.as_str())
                })
                .collect();
            let response = format!(
                "SIP/2.0 200 OK\r\n{}\r\nContent-Length: 0\r\n\r\n",
                copied.join("\r\n")
            );
            let _ = server.send_to(response.as_bytes(), from);
        });
        let mut args = vec!["--json", "--timeout", "2s"];
        if let Some(level) = extra {
            args.extend(["--fail-on", level]);
        }
        args.extend(["sip-options", uri.as_str()]);
        let out = voipdiag(&args);
        let v = common::json_of(&out, "sip-options warning");
        assert_eq!(common::codes(&v), ["SIP_RPORT_IGNORED"], "{v:#}");
        assert_eq!(common::severities(&v), ["warning"]);
        assert_eq!(out.status.code(), Some(want), "{args:?}: {v:#}");
        let _ = answering.join();
    }

    // The rule is the same for a network command: nat-probe to a closed port hears nothing
    // (exit 3 with or without --fail-on: no-answer is not a finding's severity).
    let server = format!("127.0.0.1:{}", closed_udp_port());
    for extra in [&[][..], &["--fail-on", "warning"]] {
        let mut args = vec!["-q", "--timeout", "1s"];
        args.extend_from_slice(extra);
        args.extend(["nat-probe", "--server", &server]);
        assert_eq!(voipdiag(&args).status.code(), Some(3), "{args:?}");
    }
}

#[test]
fn closed_port_is_no_answer_exit_3_with_icmp_reason() {
    // Bind and drop to find a port nothing listens on.
    let port = closed_udp_port();
    let server = format!("127.0.0.1:{port}");
    let out = voipdiag(&[
        "nat-probe",
        "--json",
        "--timeout",
        "1s",
        "--server",
        &server,
    ]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "no-answer");
    let s = &report["result"]["servers"][0];
    assert_eq!(s["status"], "unreachable", "{report:#}");
    assert!(
        s["error"].as_str().unwrap().contains("port unreachable"),
        "{report:#}"
    );
    // The ICMP error ended the wait (not the timeout): the test records it as unreachable.
    let tests = report["result"]["tests"].as_array().unwrap();
    let binding = tests.iter().find(|t| t["test"] == "binding").unwrap();
    assert_eq!(binding["outcome"], "unreachable", "{report:#}");
}

fn crc32(data: &[u8]) -> u32 {
    crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(data)
}

/// A Binding success response for `tid` with XOR-MAPPED-ADDRESS `addr` (IPv4) and FINGERPRINT.
fn response(tid: &[u8], addr: std::net::SocketAddrV4, break_fingerprint: bool) -> Vec<u8> {
    let mut m = vec![0x01, 0x01, 0x00, 0x14, 0x21, 0x12, 0xa4, 0x42];
    m.extend_from_slice(tid);
    let port = addr.port() ^ 0x2112;
    let ip = u32::from(*addr.ip()) ^ 0x2112_a442;
    m.extend_from_slice(&[0x00, 0x20, 0x00, 0x08, 0x00, 0x01]);
    m.extend_from_slice(&port.to_be_bytes());
    m.extend_from_slice(&ip.to_be_bytes());
    let mut fp = crc32(&m) ^ 0x5354_554e;
    if break_fingerprint {
        fp ^= 1;
    }
    m.extend_from_slice(&[0x80, 0x28, 0x00, 0x04]);
    m.extend_from_slice(&fp.to_be_bytes());
    m
}

/// A hostile server: answers each request first with garbage, a response for another
/// transaction, a response with a broken FINGERPRINT and a truncated one, and only then with
/// the right answer. voipdiag must ignore the bad ones, count them, and still conclude.
#[test]
fn hostile_answers_are_ignored_and_counted() {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = sock.local_addr().unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let handle = std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        let mut answered = 0;
        for _ in 0..50 {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                if answered > 0 {
                    return answered;
                }
                continue;
            };
            if n < 20 || buf[0] != 0x00 || buf[1] != 0x01 {
                continue;
            }
            let tid = buf[8..20].to_vec();
            let std::net::SocketAddr::V4(from4) = from else {
                continue;
            };
            let good = response(&tid, from4, false);
            let mut other = tid.clone();
            other[0] ^= 0xff;
            let _ = sock.send_to(b"\x80\x00 not stun at all", from);
            let _ = sock.send_to(&response(&other, from4, false), from);
            let _ = sock.send_to(&response(&tid, from4, true), from);
            let _ = sock.send_to(&good[..good.len() - 3], from);
            let _ = sock.send_to(&good, from);
            answered += 1;
        }
        answered
    });
    let out = voipdiag(&[
        "nat-probe",
        "--json",
        "--timeout",
        "1s",
        "--server",
        &server.to_string(),
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(handle.join().unwrap() >= 1);
    let r = &report["result"];
    assert_eq!(r["nat_detected"], false, "{report:#}");
    assert_eq!(r["mapped_address"], r["local_address"]);
    assert_eq!(r["rfc5780"], false);
    assert_eq!(r["filtering"], "unknown");
    let ig = &r["ignored_datagrams"];
    assert!(ig["malformed"].as_u64().unwrap() >= 2, "{ig}");
    assert!(ig["bad_fingerprint"].as_u64().unwrap() >= 1, "{ig}");
    assert!(ig["unknown_transaction"].as_u64().unwrap() >= 1, "{ig}");
    assert_eq!(out.status.code(), Some(0), "{report:#}");
}

/// `--seed` makes every random identifier reproducible: the same seed gives the same STUN
/// transaction IDs, another seed others.
#[test]
fn a_seed_makes_identifiers_reproducible() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = silent.local_addr().unwrap().to_string();
    let ids = |seed: &str| -> Vec<String> {
        let (_, r) = common::voipdiag_json(&[
            "--seed",
            seed,
            "--timeout",
            "300ms",
            "nat-probe",
            "--server",
            &server,
        ]);
        r["result"]["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["request"]["transaction_id"].as_str().unwrap().to_string())
            .collect()
    };
    let a = ids("7");
    assert!(!a.is_empty());
    assert_eq!(a, ids("7"));
    assert_ne!(a, ids("8"));
}

/// A clone runs every test: the code and the tests read nothing outside the checkout (the
/// test data is in tests/data), and no machine's absolute path is written into them.
#[test]
fn nothing_reads_outside_the_checkout() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut offenders = Vec::new();
    let mut dirs = vec![root.join("src"), root.join("tests"), root.join("benches")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable source directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                if !path.ends_with("tests/data") {
                    dirs.push(path);
                }
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            for (n, line) in text.lines().enumerate() {
                // Spelled in two pieces so this file does not find itself.
                let shared = ["../", "shared/"].concat();
                let work = ["/wo", "rk/"].concat();
                if (line.contains(&shared) && !line.contains("CRATES.md")) || line.contains(&work) {
                    offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "paths outside the checkout:\n{}",
        offenders.join("\n")
    );
}

/// Human tables fitted into 80 and 120 columns (`COLUMNS`, as a terminal would report) never
/// split an address, SSRC, Call-ID, URI or timestamp: every token of the unbounded rendering
/// is whole in the fitted one, and no line is wider than the terminal unless a token in it is. A width of 0 means unknown (natural width), not one-character columns.
#[test]
fn tables_fit_the_terminal_without_splitting_a_token() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/captures");
    let render = |file: &Path, view: &str, columns: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_voipdiag"));
        cmd.args([
            "--color",
            "never",
            "pcap-decode",
            file.to_str().unwrap(),
            "--view",
            view,
        ]);
        match columns {
            Some(c) => cmd.env("COLUMNS", c),
            None => cmd.env_remove("COLUMNS"),
        };
        let out = cmd.output().expect("run voipdiag");
        let text = String::from_utf8(out.stdout).expect("UTF-8");
        // Without the closing "(took N ms)", which differs run to run.
        text.lines()
            .filter(|l| !l.starts_with("(took "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let width = |l: &str| l.chars().count();
    let mut checked = 0;
    for name in [
        "heplify-FAX-Call-t38-CA-TDM-SIP-FB-1.pcap",
        "sngrep-aaa.pcap",
        "heplify-rtp_rtcp_sip_ipv4_udp.pcap",
        "heplify-sip_tcp_websocket.pcap",
    ] {
        let file = data.join(name);
        for view in ["summary", "streams", "messages"] {
            let natural = render(&file, view, None);
            assert_eq!(
                render(&file, view, Some("0")),
                natural,
                "{name} {view}: 0 columns"
            );
            for columns in [80, 120] {
                let fitted = render(&file, view, Some(&columns.to_string()));
                for line in fitted.lines() {
                    // Overlong only for a token that would not fit on a continuation line
                    // either (a 90-character URI at 80 columns).
                    let unbreakable = line
                        .split_whitespace()
                        .last()
                        .is_some_and(|t| width(t) + 24 > columns);
                    assert!(
                        width(line) <= columns || unbreakable,
                        "{name} {view} at {columns}: line of {} columns:\n{line}\n{fitted}",
                        width(line)
                    );
                }
                for token in natural.split_whitespace() {
                    let token = token.trim_matches(|c: char| "│┆─┼┬┴┌┐└┘├┤╞╡═".contains(c));
                    if token.chars().any(char::is_alphanumeric) {
                        assert!(
                            fitted.contains(token),
                            "{name} {view} at {columns}: '{token}' was split:\n{fitted}"
                        );
                    }
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 4 * 3 * 2);
}

/// Messages a new user meets: each says what happened in the field's words and what to do.
#[test]
fn messages_say_what_to_do() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/captures");
    let text = |args: &[&str]| {
        let mut all = vec!["--color", "never"];
        all.extend_from_slice(args);
        let out = voipdiag(&all);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let file = |name: &str| data.join(name).to_str().unwrap().to_string();

    // An AOR without sip: is a usage error that suggests the SIP URI.
    let (code, _, err) = text(&["register", "alice@example.com"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("did you mean \"sip:alice@example.com\""),
        "{err}"
    );

    // A directory is named as one, not "read failed".
    let (code, _, err) = text(&["pcap-decode", "/"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("/ is a directory"), "{err}");
    assert!(!err.contains("read failed"), "{err}");

    // The ladder of a capture with two calls says which other Call-IDs there are …
    let fax = file("heplify-FAX-Call-t38-CA-TDM-SIP-FB-1.pcap");
    let (_, out, _) = text(&["pcap-decode", &fax, "--view", "ladder"]);
    assert!(
        out.contains("The capture has 2 calls; this is the first"),
        "{out}"
    );
    assert!(out.contains("SD4909701-9ff11bf72eb4a347c92974d8fbbc2668-ao8o3i1"));
    // … and of a capture without a dialog, that there is none (no empty "Call-ID").
    let rtp = file("ndpi-rtp.pcapng");
    let (_, out, _) = text(&["pcap-decode", &rtp, "--view", "ladder"]);
    assert!(out.contains("no SIP dialog in this capture"), "{out}");
    assert!(!out.contains("Ladder of Call-ID \n"), "{out}");

    // Empty views print a sentence, not an empty table.
    let (_, out, _) = text(&["pcap-decode", &rtp, "--view", "messages"]);
    assert!(out.contains("no SIP message in this capture"), "{out}");
    assert!(!out.contains("│ #"), "{out}");
    let (_, out, _) = text(&["pcap-decode", &rtp, "--view", "streams"]);
    assert!(
        out.contains("--rtp-heuristics also finds unsignalled streams"),
        "{out}"
    );

    // A negative RFC 3550 "lost" (a DTMF end packet sent three times) reads as duplicates.
    let dtmf = file("sipp-dtmf_2833_1.pcap");
    let (_, out, _) = text(&[
        "pcap-decode",
        &dtmf,
        "--rtp-heuristics",
        "--view",
        "streams",
    ]);
    assert!(
        out.contains("0 (2 packets more than sent: duplicates)"),
        "{out}"
    );
    assert!(!out.contains("-2 ("), "{out}");

    // Counts in the right number.
    assert!(
        out.starts_with("OK 0 calls, 1 RTP stream, 0 SIP messages in 10 packets"),
        "{out}"
    );
}

/// -v traces the packets of every command that sends them; -vv adds hex dumps (SIP,
/// NAT-PMP/PCP here; STUN in tests/hostile.rs and the labs).
#[test]
fn double_verbose_adds_hex_dumps() {
    let port = closed_udp_port();
    let uri = format!("sip:127.0.0.1:{port}");
    for (args, line) in [
        (
            vec!["--timeout", "2s", "sip-options", uri.as_str()],
            "--- sent",
        ),
        (
            vec![
                "--timeout",
                "500ms",
                "upnp-map",
                "--gateway",
                "127.0.0.1",
                "--protocol",
                "natpmp",
            ],
            "NAT-PMP request: external address, 2 bytes",
        ),
    ] {
        let run = |v: &str| {
            let mut all = vec![v];
            all.extend_from_slice(&args);
            String::from_utf8_lossy(&voipdiag(&all).stderr).into_owned()
        };
        let one = run("-v");
        assert!(one.contains(line), "{args:?} -v:\n{one}");
        let two = run("-vv");
        assert!(two.contains(line), "{args:?} -vv:\n{two}");
        let hex_rows = |s: &str| {
            s.lines()
                .filter(|l| {
                    l.starts_with("    ")
                        && l.split_whitespace()
                            .all(|b| b.len() == 2 && b.chars().all(|c| c.is_ascii_hexdigit()))
                })
                .count()
        };
        assert_eq!(hex_rows(&one), 0, "{args:?} -v has no hex:\n{one}");
        assert!(hex_rows(&two) > 0, "{args:?} -vv has hex:\n{two}");
    }
}
