//! Hostile peers on loopback: SIP, STUN, DNS, UPnP/NAT-PMP/PCP servers that answer as an
//! attacker would, hostile files and captures. Each test asserts no panic or abort, the exit
//! code, a bound on wall time and on peak memory (`/usr/bin/time`), and the corrected output.
//! Everything runs on 127.0.0.0/8 without root; each test uses its own addresses or ports.
// A test harness measures wall time and bounds its peers' lives by the clock.
#![allow(clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_resolver::proto::rr::RecordType;
use serde_json::Value;

mod common;

/// What a bounded run of voipdiag gave.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    wall: Duration,
    rss_mb: u64,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }

    /// No raw ESC on stdout or stderr, and the report shows the sequence escaped.
    fn escapes_shown(&self) -> &Self {
        assert!(!self.stdout.contains('\x1b'), "{:?}", self.stdout);
        assert!(!self.stderr.contains('\x1b'), "{:?}", self.stderr);
        assert!(
            self.stdout.contains("\\x1b"),
            "shown escaped: {}",
            self.stdout
        );
        self
    }

    /// No panic (101), no abort (134) or kill, within `secs` and `mb`.
    fn within(&self, secs: u64, mb: u64) -> &Self {
        assert!(
            ![101, 134, 137, -1].contains(&self.code),
            "crashed or killed: exit {}\n{}",
            self.code,
            self.stderr
        );
        assert!(
            self.wall <= Duration::from_secs(secs),
            "took {:?} (bound {secs} s)",
            self.wall
        );
        assert!(
            self.rss_mb <= mb,
            "peak RSS {} MB (bound {mb} MB)",
            self.rss_mb
        );
        self
    }
}

/// Runs voipdiag with a hard kill after 60 s, measuring its peak RSS with `/usr/bin/time`.
fn bounded(args: &[&str]) -> Option<Run> {
    if !std::path::Path::new("/usr/bin/time").exists() {
        return common::skip_or_fail("/usr/bin/time missing (apt-get install time)");
    }
    let rss_file = tempfile("rss");
    let start = Instant::now();
    let out = Command::new("timeout")
        .args(["-s", "KILL", "60", "/usr/bin/time", "-f", "%M", "-o"])
        .arg(&rss_file)
        .arg(env!("CARGO_BIN_EXE_voipdiag"))
        .args(args)
        .output()
        .expect("run voipdiag");
    let wall = start.elapsed();
    let rss_kb: u64 = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|s| s.lines().last().and_then(|l| l.trim().parse().ok()))
        .unwrap_or(u64::MAX / 1024);
    let _ = std::fs::remove_file(&rss_file);
    Some(Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        wall,
        rss_mb: rss_kb / 1024,
    })
}

fn tempfile(what: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    std::env::temp_dir().join(format!(
        "voipdiag-hostile-{}-{what}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

fn codes(r: &Value) -> Vec<String> {
    common::codes(r)
}

/// A UDP peer answering each datagram with what `reply` makes of it, for `for_s` seconds.
fn udp_peer(
    ip: &str,
    port: u16,
    for_s: u64,
    reply: impl Fn(&[u8], SocketAddr) -> Vec<Vec<u8>> + Send + 'static,
) -> (SocketAddr, std::thread::JoinHandle<u32>) {
    let sock = UdpSocket::bind((ip, port)).expect("bind the peer");
    let addr = sock.local_addr().unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let handle = std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(for_s);
        let mut buf = vec![0u8; 65536];
        let mut seen = 0;
        while Instant::now() < until {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                continue;
            };
            seen += 1;
            for answer in reply(&buf[..n], from) {
                let _ = sock.send_to(&answer, from);
            }
        }
        seen
    });
    (addr, handle)
}

// ---------------------------------------------------------------------------------------
// SIP

/// A start line of spaces only ("  \r\n"), over UDP to sip-options and register, and over
/// TCP with a Content-Length: a parse error, not a crash (it panicked with exit 101).
#[test]
fn a_blank_sip_start_line_is_a_parse_error() {
    let (udp, _h) = udp_peer("127.0.0.1", 0, 8, |_, _| {
        vec![
            b"  \r\n".to_vec(),
            b"   \r\nContent-Length: 0\r\n\r\n".to_vec(),
        ]
    });
    let target = format!("sip:127.0.0.1:{}", udp.port());
    let Some(r) = bounded(&["--json", "--timeout", "1s", "sip-options", &target]) else {
        return;
    };
    r.within(6, 100);
    assert_eq!(r.code, 3, "{}", r.stdout);
    let aor = format!("sip:alice@127.0.0.1:{}", udp.port());
    let r = bounded(&[
        "--json",
        "register",
        &aor,
        "--user",
        "alice",
        "--password",
        "x",
        "--timeout",
        "1s",
    ])
    .unwrap();
    r.within(6, 100);
    assert_eq!(r.code, 3, "{}", r.stdout);

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in listener.incoming().take(4).flatten() {
            std::thread::spawn(move || {
                let mut s = s;
                let mut buf = [0u8; 4096];
                let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
                let _ = s.read(&mut buf);
                let _ = s.write_all(b"   \r\nContent-Length: 0\r\n\r\n");
                std::thread::sleep(Duration::from_secs(3));
            });
        }
    });
    let target = format!("sip:127.0.0.1:{port};transport=tcp");
    let r = bounded(&["--json", "--timeout", "1s", "sip-options", &target]).unwrap();
    r.within(6, 100);
    assert!([1, 3].contains(&r.code), "exit {}: {}", r.code, r.stdout);
    r.json();
}

/// The SIP answer of `request` with `extra` header lines (Via, From, To, Call-ID and CSeq
/// copied; a To tag added).
fn sip_answer(request: &[u8], status: &str, extra: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(request);
    let mut out = format!("SIP/2.0 {status}\r\n");
    for line in text.split("\r\n") {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("via:")
            || lower.starts_with("from:")
            || lower.starts_with("call-id:")
            || lower.starts_with("cseq:")
        {
            out.push_str(line);
            out.push_str("\r\n");
        } else if lower.starts_with("to:") {
            out.push_str(line);
            out.push_str(";tag=hostile\r\n");
        }
    }
    out.push_str(extra);
    out.push_str("Content-Length: 0\r\n\r\n");
    out.into_bytes()
}

/// A registrar that answers 200 OK listing only somebody else's Contact, with an Expires
/// beyond 2^32−1: not registered (exit 1), and said why.
#[test]
fn a_2xx_without_our_contact_is_not_a_registration() {
    let (udp, _h) = udp_peer("127.0.0.1", 0, 8, |req, _| {
        vec![sip_answer(
            req,
            "200 OK",
            "Contact: <sip:mallory@192.0.2.66:5060>;expires=3600\r\nExpires: 99999999999\r\n",
        )]
    });
    let aor = format!("sip:alice@127.0.0.1:{}", udp.port());
    let Some(r) = bounded(&["--json", "--timeout", "2s", "register", &aor]) else {
        return;
    };
    r.within(6, 100);
    let j = r.json();
    assert_eq!(r.code, 1, "{j:#}");
    assert_eq!(j["result"]["registered"], false);
    let c = codes(&j);
    assert!(c.contains(&"BINDING_NOT_LISTED".into()), "{c:?}");
    assert!(c.contains(&"MALFORMED_EXPIRES".into()), "{c:?}");
}

/// Escape sequences in a SIP server's reason phrase and Server header reach neither the
/// human report nor the -v trace raw, for sip-options (200) and register (403).
#[test]
fn sip_escape_sequences_are_escaped() {
    let (udp, _h) = udp_peer("127.0.0.1", 0, 8, |req, _| {
        let status = if req.starts_with(b"REGISTER") {
            "403 Forbidden\x1b]0;owned\x07"
        } else {
            "200 OK\x1b]0;owned\x07"
        };
        vec![sip_answer(req, status, "Server: evil\x1b[2J\x1b[31m\r\n")]
    });
    let options = format!("sip:127.0.0.1:{}", udp.port());
    let aor = format!("sip:alice@127.0.0.1:{}", udp.port());
    for (args, exit) in [(["sip-options", &options], 0), (["register", &aor], 1)] {
        let mut all = vec!["--color", "never", "-v", "--timeout", "2s"];
        all.extend(args);
        let Some(r) = bounded(&all) else {
            return;
        };
        r.within(6, 100).escapes_shown();
        assert_eq!(r.code, exit, "{args:?}: {}\n{}", r.stdout, r.stderr);
    }
}

// ---------------------------------------------------------------------------------------
// STUN

fn stun_attr(kind: u16, value: &[u8]) -> Vec<u8> {
    let mut a = kind.to_be_bytes().to_vec();
    a.extend_from_slice(&(value.len() as u16).to_be_bytes());
    a.extend_from_slice(value);
    while !a.len().is_multiple_of(4) {
        a.push(0);
    }
    a
}

fn xor_address(kind: u16, addr: SocketAddr) -> Vec<u8> {
    let SocketAddr::V4(a) = addr else {
        return Vec::new();
    };
    let port = a.port() ^ 0x2112;
    let ip = u32::from(*a.ip()) ^ 0x2112_A442;
    let mut v = vec![0, 1];
    v.extend_from_slice(&port.to_be_bytes());
    v.extend_from_slice(&ip.to_be_bytes());
    stun_attr(kind, &v)
}

fn plain_address(kind: u16, addr: SocketAddr) -> Vec<u8> {
    let SocketAddr::V4(a) = addr else {
        return Vec::new();
    };
    let mut v = vec![0, 1];
    v.extend_from_slice(&a.port().to_be_bytes());
    v.extend_from_slice(&a.ip().octets());
    stun_attr(kind, &v)
}

/// Whether STUN message `m` carries an attribute of type `kind`.
fn has_attribute(m: &[u8], kind: u16) -> bool {
    let mut at = 20;
    while let Some(h) = m.get(at..at + 4) {
        if u16::from_be_bytes([h[0], h[1]]) == kind {
            return true;
        }
        at += 4 + usize::from(u16::from_be_bytes([h[2], h[3]])).div_ceil(4) * 4;
    }
    false
}

/// A Binding success for request `req` with `attrs`.
fn stun_success(req: &[u8], attrs: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = attrs.concat();
    let mut m = vec![0x01, 0x01];
    m.extend_from_slice(&(body.len() as u16).to_be_bytes());
    m.extend_from_slice(&req[4..20]);
    m.extend_from_slice(&body);
    m
}

/// SOFTWARE with terminal escape sequences: escaped in the report and the -v trace.
#[test]
fn stun_software_escape_sequences_are_escaped() {
    let (server, _h) = udp_peer("127.0.0.1", 0, 8, |req, from| {
        if req.len() < 20 || req[0] != 0 || req[1] != 1 {
            return Vec::new();
        }
        vec![stun_success(
            req,
            &[
                xor_address(0x0020, from),
                stun_attr(0x8022, b"evil\x1b]0;owned\x07\x1b[2J"),
            ],
        )]
    });
    let Some(r) = bounded(&[
        "--color",
        "never",
        "-v",
        "--timeout",
        "1s",
        "nat-probe",
        "--server",
        &server.to_string(),
    ]) else {
        return;
    };
    r.within(8, 100);
    assert!(!r.stdout.contains('\x1b'), "{:?}", r.stdout);
    assert!(!r.stderr.contains('\x1b'), "{:?}", r.stderr);
    // The trace shows it (escaped either way), the report too.
    assert!(r.stderr.contains("evil\\"), "{}", r.stderr);
}

/// A TURN server that never lets go: every authenticated request gets 438 Stale Nonce with
/// a fresh nonce, every request also brings a burst of stray Data indications and garbage,
/// and its REALM carries terminal escapes. The test ends in bounded time with the cause
/// (a stale nonce that is never resolved, after a bounded number of retries), the escapes
/// shown escaped, and the password nowhere.
#[test]
fn a_turn_server_that_keeps_rotating_its_nonce_is_bounded() {
    let requests = Arc::new(AtomicU32::new(0));
    let seen = requests.clone();
    let (server, _h) = udp_peer("127.0.0.4", 0, 10, move |req, from| {
        if req.len() < 20 || req[0] > 1 {
            return Vec::new();
        }
        let kind = u16::from_be_bytes([req[0], req[1]]);
        if kind == 0x0001 {
            return vec![stun_success(req, &[xor_address(0x0020, from)])];
        }
        let n = seen.fetch_add(1, Ordering::Relaxed);
        let error_type = (kind | 0x0110).to_be_bytes();
        let (code, phrase): (u8, &[u8]) = if has_attribute(req, 0x0008) {
            (38, b"Stale Nonce")
        } else {
            (1, b"Unauthorized")
        };
        let mut ec = vec![0, 0, 4, code];
        ec.extend_from_slice(phrase);
        let body = [
            stun_attr(0x0009, &ec),
            stun_attr(0x0014, b"lab\x1b]0;owned\x07"),
            stun_attr(0x0015, format!("nonce-{n}").as_bytes()),
        ]
        .concat();
        let mut m = error_type.to_vec();
        m.extend_from_slice(&(body.len() as u16).to_be_bytes());
        m.extend_from_slice(&req[4..20]);
        m.extend_from_slice(&body);
        let mut out = vec![m];
        for i in 0..50u8 {
            // Data indications nobody asked for, and bytes that are nothing.
            let data = [xor_address(0x0012, from), stun_attr(0x0013, &[0x80; 172])].concat();
            let mut d = vec![0x00, 0x17];
            d.extend_from_slice(&(data.len() as u16).to_be_bytes());
            d.extend_from_slice(&[0x21, 0x12, 0xa4, 0x42]);
            d.extend_from_slice(&[i; 12]);
            d.extend_from_slice(&data);
            out.push(d);
            out.push(vec![0x40, 0x00, 0xff, 0xff, i]);
        }
        out
    });
    let uri = format!("turn:{server}");
    let Some(r) = bounded(&[
        "--color",
        "never",
        "--timeout",
        "1s",
        "nat-probe",
        "--turn-only",
        "--turn",
        &uri,
        "--turn-user",
        "alice",
        "--turn-password",
        "hunter2-secret",
    ]) else {
        return;
    };
    r.within(8, 100);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("TURN_STALE_NONCE"), "{}", r.stdout);
    assert!(
        !r.stdout.contains('\x1b') && r.stdout.contains("\\x1b"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("hunter2") && !r.stderr.contains("hunter2"));
    // The first Allocate, its authenticated repeat, and at most 3 repeats with new nonces
    // (retransmissions of each aside).
    let asked = requests.load(Ordering::Relaxed);
    assert!((5..=12).contains(&asked), "{asked} requests");
}

/// A server whose OTHER-ADDRESS names a host that is not a STUN server (any host: the
/// server chooses it) gets one datagram per named address, not a retransmission schedule.
#[test]
fn server_named_addresses_get_one_datagram_each() {
    let named = UdpSocket::bind("127.0.0.77:0").unwrap();
    let other = named.local_addr().unwrap();
    let (server, _h) = udp_peer("127.0.0.1", 0, 10, move |req, from| {
        // Binding requests without CHANGE-REQUEST only: the named address never answers.
        if req.len() < 20 || req[..2] != [0, 1] || has_attribute(req, 0x0003) {
            return Vec::new();
        }
        vec![stun_success(
            req,
            &[xor_address(0x0020, from), plain_address(0x802c, other)],
        )]
    });
    // Also the alternate IP with the primary port.
    let named_primary_port = UdpSocket::bind(("127.0.0.77", server.port())).ok();
    let count = |s: &UdpSocket| {
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let mut buf = [0u8; 1500];
        let mut n = 0;
        while s.recv_from(&mut buf).is_ok() {
            n += 1;
        }
        n
    };
    let Some(r) = bounded(&[
        "--json",
        "--timeout",
        "2s",
        "nat-probe",
        "--server",
        &server.to_string(),
    ]) else {
        return;
    };
    r.within(10, 100);
    let j = r.json();
    assert_eq!(j["result"]["rfc5780"], true, "{j:#}");
    assert_eq!(count(&named), 1, "datagrams to OTHER-ADDRESS");
    if let Some(s) = named_primary_port {
        assert_eq!(count(&s), 1, "datagrams to the alternate IP, primary port");
    }
}

// ---------------------------------------------------------------------------------------
// DNS

mod dns {
    use super::*;
    use hickory_resolver::proto::op::{Message, MessageType, OpCode};
    use hickory_resolver::proto::rr::rdata::{NAPTR, SRV};
    use hickory_resolver::proto::rr::{Name, RData, Record};

    /// The queries a nameserver saw: (name, type).
    pub type Seen = Arc<Mutex<Vec<(String, RecordType)>>>;

    /// A UDP nameserver: `answer(qname, qtype)` gives the records (owner, data), or `None` to
    /// stay silent. Returns the address and the queries seen (name, type).
    pub fn server(
        answer: impl Fn(&str, RecordType) -> Option<Vec<(String, RData)>> + Send + 'static,
    ) -> (SocketAddr, Seen) {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = sock.local_addr().unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            let until = Instant::now() + Duration::from_secs(20);
            let mut buf = vec![0u8; 4096];
            while Instant::now() < until {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(q) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let Some(query) = q.queries.first().cloned() else {
                    continue;
                };
                let name = query.name().to_string();
                log.lock().unwrap().push((name.clone(), query.query_type()));
                let Some(records) = answer(&name, query.query_type()) else {
                    continue;
                };
                let mut m = Message::new(q.metadata.id, MessageType::Response, OpCode::Query);
                m.metadata.recursion_desired = true;
                m.metadata.recursion_available = true;
                m.add_query(query);
                for (owner, data) in records {
                    m.add_answer(Record::from_rdata(
                        Name::from_ascii(&owner).unwrap(),
                        60,
                        data,
                    ));
                }
                if let Ok(bytes) = m.to_vec() {
                    let _ = sock.send_to(&bytes, from);
                }
            }
        });
        (addr, seen)
    }

    pub fn naptr(
        order: u16,
        flags: &str,
        services: &str,
        regexp: &str,
        replacement: &str,
    ) -> RData {
        RData::NAPTR(NAPTR::new(
            order,
            10,
            flags.as_bytes().into(),
            services.as_bytes().into(),
            regexp.as_bytes().into(),
            Name::from_ascii(replacement).unwrap(),
        ))
    }

    pub fn srv(target: &str) -> RData {
        RData::SRV(SRV::new(10, 10, 5060, Name::from_ascii(target).unwrap()))
    }
}

/// `enum-lookup +15551234` asking `ns`, bounded.
fn enum_lookup(ns: SocketAddr, timeout: &str) -> Option<Run> {
    let server = ns.to_string();
    bounded(&[
        "--json",
        "--timeout",
        timeout,
        "enum-lookup",
        "+15551234",
        "--server",
        &server,
    ])
}

/// 40 NAPTR services, 20 SRV targets each, no address answers: RFC 3263 location is bounded
/// in lookups (6 services, 8 hosts) and in total time (2 × --timeout), not one timeout each.
#[test]
fn a_zone_with_hundreds_of_targets_is_bounded() {
    let (ns, seen) = dns::server(|name, t| match t {
        RecordType::NAPTR if name == "flood.test." => Some(
            (0..40)
                .map(|i| {
                    (
                        name.to_string(),
                        dns::naptr(
                            10,
                            "s",
                            "SIP+D2U",
                            "",
                            &format!("_sip._udp.s{i}.flood.test."),
                        ),
                    )
                })
                .collect(),
        ),
        RecordType::SRV if name.ends_with(".flood.test.") => Some(
            (0..20)
                .map(|j| (name.to_string(), dns::srv(&format!("h{j}.{}", &name[10..]))))
                .collect(),
        ),
        _ => None,
    });
    let Some(r) = bounded(&[
        "--json",
        "--timeout",
        "500ms",
        "sip-options",
        "sip:flood.test",
        "--dns-server",
        &ns.to_string(),
    ]) else {
        return;
    };
    r.within(4, 100);
    assert_eq!(r.code, 3, "{}", r.stdout);
    let seen = seen.lock().unwrap();
    let count = |t: RecordType| seen.iter().filter(|(_, q)| *q == t).count();
    assert_eq!(count(RecordType::NAPTR), 1, "{seen:?}");
    assert!(count(RecordType::SRV) <= 6, "{seen:?}");
    assert!(count(RecordType::A) <= 8, "{seen:?}");
}

/// An ENUM chain into silent domains ends at the walk's deadline (2 × --timeout), not
/// after one timeout per domain; the queries not sent are logged as DEADLINE.
#[test]
fn an_enum_walk_into_silence_has_a_deadline() {
    let start = "4.3.2.1.5.5.5.1.e164.arpa.";
    let (ns, seen) = dns::server(move |name, t| {
        (t == RecordType::NAPTR && name == start).then(|| {
            (0..10)
                .map(|i| {
                    (
                        start.to_string(),
                        dns::naptr(10, "", "E2U+sip", "", &format!("d{i}.chain.test.")),
                    )
                })
                .collect()
        })
    });
    let Some(r) = enum_lookup(ns, "500ms") else {
        return;
    };
    r.within(4, 100);
    let j = r.json();
    assert!(
        seen.lock().unwrap().len() <= 5,
        "{:?}",
        seen.lock().unwrap()
    );
    let rcodes: Vec<&str> = j["result"]["queries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|q| q["rcode"].as_str())
        .collect();
    assert!(rcodes.contains(&"DEADLINE"), "{rcodes:?}");
}

/// A NAPTR record owned by another name than the one asked is not applied to the number
/// (it was), and the log counts it.
#[test]
fn records_for_another_owner_are_not_used() {
    let start = "4.3.2.1.5.5.5.1.e164.arpa.";
    let (ns, _) = dns::server(move |name, t| {
        (t == RecordType::NAPTR && name == start).then(|| {
            vec![
                (
                    "attacker.example.".to_string(),
                    dns::naptr(10, "u", "E2U+sip", "!^.*$!sip:evil@attacker.example!", "."),
                ),
                (
                    start.to_string(),
                    dns::naptr(20, "u", "E2U+sip", "!^.*$!sip:ok@example.com!", "."),
                ),
            ]
        })
    });
    let Some(r) = enum_lookup(ns, "1s") else {
        return;
    };
    r.within(4, 100);
    let j = r.json();
    let uris: Vec<&str> = j["result"]["uris"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["uri"].as_str())
        .collect();
    assert_eq!(uris, ["sip:ok@example.com"], "{j:#}");
    assert_eq!(j["result"]["queries"][0]["foreign"], 1, "{j:#}");
}

/// A NAPTR whose URI carries escape sequences: enum-lookup's report shows them escaped.
#[test]
fn enum_escape_sequences_are_escaped() {
    let start = "4.3.2.1.5.5.5.1.e164.arpa.";
    let (ns, _) = dns::server(move |name, t| {
        (t == RecordType::NAPTR && name == start).then(|| {
            vec![(
                start.to_string(),
                dns::naptr(10, "u", "E2U+sip", "!^.*$!sip:\x1b[2J@example.com!", "."),
            )]
        })
    });
    let server = ns.to_string();
    let Some(r) = bounded(&[
        "--color",
        "never",
        "--timeout",
        "1s",
        "enum-lookup",
        "+15551234",
        "--server",
        &server,
    ]) else {
        return;
    };
    r.within(4, 100).escapes_shown();
}

// ---------------------------------------------------------------------------------------
// UPnP, NAT-PMP, PCP

use common::igd::{self, http_server};

/// `upnp-map ACTION --protocol upnp --gateway URL --timeout T --json`, bounded.
fn upnp_at(url: &str, action: &str, timeout: &str) -> Option<Run> {
    bounded(&[
        "--json",
        "--timeout",
        timeout,
        "upnp-map",
        action,
        "--protocol",
        "upnp",
        "--gateway",
        url,
    ])
}

fn scpd() -> String {
    igd::scpd(&[
        ("GetExternalIPAddress", &[]),
        ("GetGenericPortMappingEntry", &["NewPortMappingIndex"]),
        ("GetStatusInfo", &[]),
    ])
}

/// A device description nested 20,000 deep (it aborted with a stack overflow) and one with
/// a billion-laughs DTD (1 GB, a minute of CPU): refused at once, in little memory.
#[test]
fn nested_and_entity_bombs_are_refused() {
    let nested = format!(
        "<?xml version=\"1.0\"?><root>{}{}</root>",
        "<a>".repeat(20_000),
        "</a>".repeat(20_000)
    );
    let mut laughs = String::from("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY l0 \"lol\">");
    for i in 1..10 {
        let prev = format!("&l{};", i - 1);
        laughs.push_str(&format!("<!ENTITY l{i} \"{}\">", prev.repeat(10)));
    }
    laughs.push_str("]><root><device><friendlyName>&l9;</friendlyName></device></root>");
    for body in [nested, laughs] {
        let (port, _) = http_server("127.0.0.1", Duration::ZERO, move |_| {
            ("200 OK".into(), body.clone())
        });
        let url = format!("http://127.0.0.1:{port}/desc.xml");
        let Some(r) = upnp_at(&url, "status", "1s") else {
            return;
        };
        r.within(5, 100);
        let j = r.json();
        assert_eq!(r.code, 3, "{j:#}");
        let detail = j["result"]["probes"][0]["detail"].as_str().unwrap_or("");
        assert!(detail.contains("refused"), "{detail}");
    }
}

/// The description names an SCPD on another host: it is not fetched (the gateway is the
/// only UPnP device voipdiag talks to).
#[test]
fn an_scpd_on_another_host_is_not_fetched() {
    let (elsewhere, hits) = http_server("127.0.0.2", Duration::ZERO, |_| ("200 OK".into(), scpd()));
    let scpd_url = format!("http://127.0.0.2:{elsewhere}/scpd.xml");
    let (port, _) = http_server("127.0.0.1", Duration::ZERO, move |r| {
        if r.line.starts_with("GET") {
            ("200 OK".into(), igd::description("", "hostile", &scpd_url))
        } else {
            ("500 Internal Server Error".into(), String::new())
        }
    });
    let url = format!("http://127.0.0.1:{port}/desc.xml");
    let Some(r) = upnp_at(&url, "status", "1s") else {
        return;
    };
    r.within(5, 100);
    r.json();
    assert_eq!(hits.load(Ordering::Relaxed), 0, "the other host was asked");
}

/// A gateway that lists entries forever, slowly, each with 10 kB of description: the list
/// stops at its time budget, the text is cut, and the report says the list is incomplete.
#[test]
fn an_endless_mapping_list_is_bounded() {
    let long = "d".repeat(10_000);
    let (port, _) = http_server("127.0.0.1", Duration::from_millis(100), move |r| {
        if r.line.starts_with("GET /desc.xml") {
            return (
                "200 OK".into(),
                igd::description("", "hostile", "/scpd.xml"),
            );
        }
        if r.line.starts_with("GET /scpd.xml") {
            return ("200 OK".into(), scpd());
        }
        let args = match r.action.as_str() {
            "GetExternalIPAddress" => {
                "<NewExternalIPAddress>203.0.113.9</NewExternalIPAddress>".to_string()
            }
            "GetGenericPortMappingEntry" => format!(
                "<NewRemoteHost></NewRemoteHost><NewExternalPort>5060</NewExternalPort><NewProtocol>UDP</NewProtocol><NewInternalPort>5060</NewInternalPort><NewInternalClient>192.168.1.2</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>{long}</NewPortMappingDescription><NewLeaseDuration>0</NewLeaseDuration>"
            ),
            _ => String::new(),
        };
        ("200 OK".into(), igd::ok(&r.action, &args))
    });
    let url = format!("http://127.0.0.1:{port}/desc.xml");
    let Some(r) = upnp_at(&url, "list", "500ms") else {
        return;
    };
    r.within(8, 100);
    let j = r.json();
    let mappings = j["result"]["mappings"].as_array().unwrap();
    assert!(!mappings.is_empty() && mappings.len() < 100, "{j:#}");
    for m in mappings {
        let d = m["description"].as_str().unwrap();
        assert!(d.chars().count() <= 257 && d.ends_with('…'), "{d}");
    }
    assert!(codes(&j).contains(&"LIST_INCOMPLETE".into()), "{j:#}");
}

/// NAT-PMP and PCP gateways that only refuse, a NAT-PMP "0.0.0.0" (no external address
/// yet), and a PCP answer with another mapping's nonce.
#[test]
fn refusals_and_foreign_answers_are_not_success() {
    let refuse = |req: &[u8], _: SocketAddr| -> Vec<Vec<u8>> {
        match req.first() {
            // NAT-PMP: result 2 Not Authorized.
            Some(0) => vec![vec![
                0,
                128 + req.get(1).copied().unwrap_or(0),
                0,
                2,
                0,
                0,
                0,
                9,
            ]],
            // PCP: a short error, result 2 NOT_AUTHORIZED.
            Some(2) => {
                let mut a = vec![0u8; 24];
                a[0] = 2;
                a[1] = 0x81;
                a[3] = 2;
                vec![a]
            }
            _ => Vec::new(),
        }
    };
    let (_, _h) = udp_peer("127.0.0.7", 5351, 10, refuse);
    for protocol in ["natpmp", "pcp"] {
        let Some(r) = bounded(&[
            "--json",
            "--timeout",
            "1s",
            "upnp-map",
            "status",
            "--protocol",
            protocol,
            "--gateway",
            "127.0.0.7",
        ]) else {
            return;
        };
        r.within(5, 100);
        let j = r.json();
        assert_eq!(r.code, 1, "{protocol}: {j:#}");
        assert!(codes(&j).contains(&"GATEWAY_REFUSED".into()), "{j:#}");
    }

    // NAT-PMP success with 0.0.0.0; PCP success with a nonce that is not ours.
    let odd = |req: &[u8], _: SocketAddr| -> Vec<Vec<u8>> {
        match req.first() {
            Some(0) => vec![vec![0, 128, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0]],
            Some(2) => {
                let mut a = req.to_vec();
                a.resize(60, 0);
                a[1] = 0x81;
                a[3] = 0;
                a[24] ^= 0xff; // another nonce
                vec![a]
            }
            _ => Vec::new(),
        }
    };
    let (_, _h2) = udp_peer("127.0.0.8", 5351, 10, odd);
    let r = bounded(&[
        "--json",
        "--timeout",
        "1s",
        "upnp-map",
        "status",
        "--protocol",
        "natpmp",
        "--gateway",
        "127.0.0.8",
    ])
    .unwrap();
    r.within(5, 100);
    let j = r.json();
    assert_eq!(j["result"]["external_address"], Value::Null, "{j:#}");
    assert_eq!(j["result"]["no_external_address"], true, "{j:#}");
    let r = bounded(&[
        "--json",
        "--timeout",
        "1s",
        "upnp-map",
        "status",
        "--protocol",
        "pcp",
        "--gateway",
        "127.0.0.8",
    ])
    .unwrap();
    r.within(5, 100);
    assert_eq!(r.code, 3, "a foreign nonce is no answer: {}", r.stdout);
}

// ---------------------------------------------------------------------------------------
// Files and captures

/// `--ca-file` and `--password-file` that never end (/dev/zero) or do not exist: an input
/// error (exit 2) at once, in little memory.
#[test]
fn endless_and_missing_files_are_input_errors() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = format!("sip:127.0.0.1:{}", silent.local_addr().unwrap().port());
    let tls = format!("{};transport=tls", target.replacen("sip:", "sips:", 1));
    for args in [
        vec!["sip-options", tls.as_str(), "--ca-file", "/dev/zero"],
        vec![
            "sip-options",
            tls.as_str(),
            "--ca-file",
            "/nonexistent/ca.pem",
        ],
        vec![
            "register",
            "sip:a@127.0.0.1",
            "--password-file",
            "/dev/zero",
        ],
        vec![
            "register",
            "sip:a@127.0.0.1",
            "--password-file",
            "/nonexistent",
        ],
    ] {
        let mut all = vec!["--timeout", "1s"];
        all.extend(args.iter());
        let Some(r) = bounded(&all) else {
            return;
        };
        r.within(3, 100);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    }
}

fn write_pcap(path: &std::path::Path, frames: impl Iterator<Item = Vec<u8>>) {
    let out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut w = voipdiag::capture::writer::PcapWriter::new(out).unwrap();
    for (i, f) in frames.enumerate() {
        w.write_frame(std::time::Duration::from_millis(i as u64), &f)
            .unwrap();
    }
    w.flush().unwrap();
}

/// SIP in a capture with escape sequences in its headers: pcap-decode's views show them
/// escaped.
#[test]
fn capture_escape_sequences_are_escaped() {
    let path = tempfile("escapes.pcap");
    let invite = "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: \"\x1b]0;owned\x07\" <sip:a\x1b[31m@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\x1b[2J@x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    let mut frame = Vec::new();
    etherparse::PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([192, 0, 2, 1], [192, 0, 2, 2], 64)
        .udp(5060, 5060)
        .write(&mut frame, invite.as_bytes())
        .unwrap();
    write_pcap(&path, std::iter::once(frame));
    let file = path.to_str().unwrap().to_string();
    for view in ["summary", "messages", "ladder"] {
        let Some(r) = bounded(&["--color", "never", "pcap-decode", &file, "--view", view]) else {
            return;
        };
        r.within(5, 100).escapes_shown();
    }
    let _ = std::fs::remove_file(&path);
}

/// A 56-byte capture whose record claims caplen 0x7FFFFFFF (it allocated 256 MiB), and one
/// with 60,000 calls and 20,000 TCP flows: memory stays bounded, the report says what was
/// left out.
#[test]
fn hostile_captures_are_bounded() {
    let bogus = tempfile("bogus.pcap");
    let mut b = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&65535u32.to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    b.extend_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    b.extend_from_slice(&[0; 16]);
    std::fs::write(&bogus, &b).unwrap();
    let Some(r) = bounded(&["--json", "pcap-decode", bogus.to_str().unwrap()]) else {
        return;
    };
    let _ = std::fs::remove_file(&bogus);
    r.within(5, 40);
    let j = r.json();
    // A capture cut short is a warning (a live capture stopped mid-packet is common): exit 0
    // under the one exit rule, with the finding there for --fail-on warning.
    assert_eq!(r.code, 0, "{j:#}");
    assert!(
        j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "CAPTURE_TRUNCATED" && f["severity"] == "warning"),
        "{j:#}"
    );
    assert!(
        j["result"]["truncated"]
            .as_str()
            .unwrap()
            .contains("32 bytes"),
        "{j:#}"
    );

    let many = tempfile("many.pcap");
    let host = |i: usize| [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
    let frame = |i: usize, tcp: bool, payload: &[u8]| {
        let mut f = Vec::new();
        let b =
            etherparse::PacketBuilder::ethernet2([1; 6], [2; 6]).ipv4(host(i), [192, 0, 2, 1], 64);
        if tcp {
            b.tcp(1024 + (i % 60_000) as u16, 5060, 1, 65535)
                .write(&mut f, payload)
        } else {
            b.udp(5060, 5060).write(&mut f, payload)
        }
        .unwrap();
        f
    };
    let calls = (0..60_000).map(move |i| {
        frame(
            i,
            false,
            format!(
                "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK{i}\r\nFrom: <sip:{}@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: {i}@x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
                "a".repeat(2000)
            )
            .as_bytes(),
        )
    });
    let flows = (0..20_000).map(move |i| {
        frame(
            i,
            true,
            b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 900\r\n\r\nv=0",
        )
    });
    write_pcap(&many, calls.chain(flows));
    let r = bounded(&["--json", "pcap-decode", many.to_str().unwrap()]).unwrap();
    let _ = std::fs::remove_file(&many);
    r.within(60, 200);
    let j = r.json();
    let e = &j["result"]["evicted"];
    assert_eq!(e["call_invites"], 50_000, "{e}");
    assert!(e["tcp_flows"].as_u64().unwrap() > 0, "{e}");
    assert!(codes(&j).contains(&"STATE_LIMITS".into()));
    let from = j["result"]["calls"][0]["from"].as_str().unwrap();
    assert!(from.chars().count() <= 257, "{}", from.len());
}
