//! Lab tests: `voipdiag enum-lookup` against knot (authoritative, e164.arpa DNSSEC-signed, a
//! private ENUM tree, SIP domains, a zone that fails to load) and unbound (validating,
//! rotating RRset order) in a network namespace (tests/lab/dns-lab.sh), plus a nameserver
//! that never answers.
//!
//! Needs root, iproute2, nftables, knot (knotd, kdig) and unbound. Without them the tests say
//! why and skip — unless VOIPDIAG_LAB_REQUIRED=1 (as in CI), where they fail.

use std::sync::Mutex;

use serde_json::Value;

mod common;

use common::codes;

use common::Lab;

static SERIAL: Mutex<()> = Mutex::new(());

const KNOT: &str = "127.0.53.1";
const SILENT: &str = "127.0.53.9";

fn dns_lab(code: char) -> Option<(std::sync::MutexGuard<'static, ()>, Lab)> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    common::lab_available(
        &["ip", "nft", "knotd", "kdig", "unbound"],
        "apt-get install iproute2 nftables knot knot-dnsutils unbound",
    )
    .then(|| (guard, Lab::up("tests/lab/dns-lab.sh", "vq", code, &[])))
}

/// Runs `voipdiag --json enum-lookup ARGS…` in the lab's namespace: (exit code, report).
fn lookup(lab: &Lab, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["enum-lookup"];
    all.extend_from_slice(args);
    lab.voipdiag_json('d', &all)
}

fn uris(r: &Value) -> Vec<String> {
    r["result"]["uris"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["uri"].as_str().unwrap().to_string())
        .collect()
}

fn rcodes(r: &Value) -> Vec<String> {
    r["result"]["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["rcode"].as_str().unwrap().to_string())
        .collect()
}

const NUMBER: &[&str] = &["+43", "1", "979", "3321"];
const EXPECTED: [&str; 3] = [
    "sip:info@example.com",
    "tel:+4319793321",
    "sip:19793321@backup.example.com",
];

#[test]
fn enum_terminal_records_in_order_with_services_and_ad() {
    let Some((_g, lab)) = dns_lab('t') else {
        return;
    };

    // Through the system's resolver (unbound, validating): three URIs of order 100 by
    // preference; the malformed regexp and the non-ENUM service are skipped and reported; the
    // order-200 mailto record is not considered; the answer is DNSSEC-validated.
    let (code, r) = lookup(&lab, NUMBER);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["status"], "ok");
    assert_eq!(uris(&r), EXPECTED);
    let res = &r["result"];
    assert_eq!(res["server"], "system");
    assert_eq!(res["number"], "+4319793321");
    let u0 = &res["uris"][0];
    assert_eq!(u0["service"], "E2U+sip");
    assert_eq!(u0["order"], 100);
    assert_eq!(u0["preference"], 10);
    assert_eq!(u0["enumservices"][0]["type"], "sip");
    assert_eq!(
        u0["record"],
        r#"100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" ."#
    );
    assert_eq!(res["uris"][1]["service"], "E2U+tel");
    assert_eq!(res["uris"][2]["preference"], 20);
    let q = &res["queries"][0];
    assert_eq!(q["name"], "1.2.3.3.9.7.9.1.3.4.e164.arpa");
    assert_eq!(q["type"], "NAPTR");
    assert_eq!(q["rcode"], "NOERROR");
    assert_eq!(q["ad"], true, "unbound validated the signed e164.arpa");
    assert!(q["ms"].as_f64().unwrap() > 0.0);
    let c = codes(&r);
    for want in ["MALFORMED_REGEXP", "UNKNOWN_SERVICE", "DNSSEC_VALIDATED"] {
        assert!(c.contains(&want.to_string()), "{want} missing: {c:?}");
    }
    let mailto = res["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["services"] == "E2U+mailto")
        .unwrap();
    assert_eq!(mailto["disposition"], "not-considered");

    // --service picks one enumservice; mailto's order 200 is then the first that matches,
    // and its i flag applies.
    let (code, r) = lookup(&lab, &["+4319793321", "--service", "E2U+mailto"]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(uris(&r), ["mailto:info@example.com"]);
    let (code, r) = lookup(&lab, &["+4319793321", "--service", "sip"]);
    assert_eq!(code, 0);
    assert_eq!(
        uris(&r),
        ["sip:info@example.com", "sip:19793321@backup.example.com"]
    );
    let (code, r) = lookup(&lab, &["+4319793321", "--service", "E2U+h323"]);
    assert_eq!(code, 1, "{r:#}");
    assert!(codes(&r).contains(&"NO_USABLE_URI".to_string()));

    // Straight to the authoritative server, over UDP and over TCP: same URIs, no AD (knot
    // does not validate).
    for extra in [&[][..], &["--tcp"]] {
        let mut args = vec!["0043-1-979-3321", "--server", KNOT];
        args.extend_from_slice(extra);
        let (code, r) = lookup(&lab, &args);
        assert_eq!(code, 0, "{args:?} {r:#}");
        assert_eq!(uris(&r), EXPECTED, "{args:?}");
        assert_eq!(r["result"]["queries"][0]["ad"], false);
        assert_eq!(r["result"]["server"], "127.0.53.1:53");
        assert!(codes(&r).contains(&"DNSSEC_NOT_VALIDATED".to_string()));
    }

    // Human output: verdict, URI table, records with what was done, queries with AD.
    let out = lab.voipdiag('d', &["enum-lookup", "tel:+43-1-979-3321"], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.starts_with("OK +4319793321 → 3 URI(s); first sip:info@example.com"),
        "{text}"
    );
    for want in [
        "malformed-regexp",
        "not-considered",
        "NAPTR",
        "AD",
        "MALFORMED_REGEXP",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
}

/// unbound hands the NAPTR set out in rotating order; the URIs must come out in the same
/// (order, preference) order every time, whatever order the answer had.
#[test]
fn enum_unsorted_answers_are_sorted_by_us() {
    let Some((_g, lab)) = dns_lab('u') else {
        return;
    };
    let mut unsorted_answers = 0;
    for _ in 0..8 {
        let (code, r) = lookup(&lab, &["+4319793321"]);
        assert_eq!(code, 0, "{r:#}");
        assert_eq!(uris(&r), EXPECTED);
        // records[] is in processing (sorted) order; received_index is where each record
        // was in the answer.
        let received: Vec<u64> = r["result"]["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["received_index"].as_u64().unwrap())
            .collect();
        if received != (0..received.len() as u64).collect::<Vec<_>>() {
            unsorted_answers += 1;
        }
    }
    assert!(
        unsorted_answers > 0,
        "the resolver never sent the records unsorted: the test proves nothing"
    );
}

#[test]
fn enum_chains_loops_malformed_and_missing_entries() {
    let Some((_g, lab)) = dns_lab('c') else {
        return;
    };

    // A non-terminal chain: by replacement into voipdiag.test, then by regexp.
    let (code, r) = lookup(&lab, &["+43 1 555 0001"]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(uris(&r), ["sip:chained@example.com"]);
    assert_eq!(
        r["result"]["uris"][0]["domain"],
        "15550001.chain2.voipdiag.test"
    );
    let names: Vec<&str> = r["result"]["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "1.0.0.0.5.5.5.1.3.4.e164.arpa",
            "chain1.voipdiag.test",
            "15550001.chain2.voipdiag.test"
        ]
    );
    let ads: Vec<&Value> = r["result"]["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| &q["ad"])
        .collect();
    assert_eq!(
        ads,
        [&Value::Bool(true), &Value::Bool(false), &Value::Bool(false)]
    );

    // A loop: cut, reported, no URI → exit 1.
    let (code, r) = lookup(&lab, &["+43 1 555 0002"]);
    assert_eq!(code, 1, "{r:#}");
    let c = codes(&r);
    assert!(c.contains(&"NAPTR_LOOP".to_string()), "{c:?}");
    assert!(c.contains(&"NO_USABLE_URI".to_string()), "{c:?}");
    assert_eq!(r["result"]["queries"].as_array().unwrap().len(), 2);

    // Only a malformed regexp: reported, skipped, exit 1.
    let (code, r) = lookup(&lab, &["+43 1 555 0003"]);
    assert_eq!(code, 1, "{r:#}");
    assert!(codes(&r).contains(&"MALFORMED_REGEXP".to_string()));
    assert_eq!(r["result"]["records"][0]["disposition"], "malformed-regexp");

    // NXDOMAIN and a name without NAPTR: no ENUM entry, exit 1.
    for (number, rcode) in [("+43 1 555 0004", "NXDOMAIN"), ("+43 1 555 0005", "NODATA")] {
        let (code, r) = lookup(&lab, &[number]);
        assert_eq!(code, 1, "{r:#}");
        assert_eq!(r["status"], "problem");
        assert_eq!(codes(&r), ["NO_ENUM_ENTRY"], "{number}");
        assert_eq!(rcodes(&r), [rcode]);
    }
}

#[test]
fn enum_private_trees_are_tried_in_order() {
    let Some((_g, lab)) = dns_lab('p') else {
        return;
    };

    // The private tree first: its entry wins; e164.arpa is not asked.
    let (code, r) = lookup(
        &lab,
        &[
            "+4319793321",
            "--suffix",
            "e164.voipdiag.test",
            "--suffix",
            "e164.arpa",
        ],
    );
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(uris(&r), ["sip:private@pbx.voipdiag.test"]);
    assert_eq!(r["result"]["suffixes"].as_array().unwrap().len(), 1);

    // Not in the first tree: the next one answers.
    let (code, r) = lookup(
        &lab,
        &[
            "+4315550004",
            "--suffix",
            "e164.arpa",
            "--suffix",
            "e164.voipdiag.test.",
        ],
    );
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(uris(&r), ["sip:4315550004@pbx.voipdiag.test"]);
    let s = &r["result"]["suffixes"];
    assert_eq!(s[0]["rcode"], "NXDOMAIN");
    assert_eq!(s[1]["suffix"], "e164.voipdiag.test");
    assert_eq!(s[1]["domain"], "4.0.0.0.5.5.5.1.3.4.e164.voipdiag.test");
    assert_eq!(s[1]["rcode"], "NOERROR");

    // In neither: no ENUM entry naming both trees.
    let (code, r) = lookup(
        &lab,
        &[
            "+4315550009",
            "--suffix",
            "e164.voipdiag.test",
            "--suffix",
            "e164.arpa",
        ],
    );
    assert_eq!(code, 1, "{r:#}");
    let msg = r["findings"][0]["message"].as_str().unwrap();
    assert!(msg.contains("e164.voipdiag.test, e164.arpa"), "{msg}");
}

#[test]
fn servfail_and_a_silent_nameserver_are_no_answer() {
    let Some((_g, lab)) = dns_lab('s') else {
        return;
    };

    // A zone its server cannot load: SERVFAIL, exit 3.
    let (code, r) = lookup(&lab, &["+4319793321", "--suffix", "broken.voipdiag.test"]);
    assert_eq!(code, 3, "{r:#}");
    assert_eq!(r["status"], "no-answer");
    assert_eq!(rcodes(&r), ["SERVFAIL"]);
    assert!(codes(&r).contains(&"DNS_FAILURE".to_string()));

    // A nameserver that never answers: TIMEOUT after the --timeout, exit 3, for a number and
    // for a SIP domain (which then does not wait once per SRV name as well).
    for args in [
        &["+4319793321", "--server", SILENT, "--timeout", "1s"][..],
        &[
            "sip:example.voipdiag.test",
            "--server",
            SILENT,
            "--timeout",
            "1s",
        ],
        &[
            "+4319793321",
            "--server",
            SILENT,
            "--timeout",
            "1s",
            "--tcp",
        ],
    ] {
        let (code, r) = lookup(&lab, args);
        assert_eq!(code, 3, "{args:?} {r:#}");
        assert_eq!(rcodes(&r), ["TIMEOUT"], "{args:?}");
        assert!(codes(&r).contains(&"DNS_TIMEOUT".to_string()));
        // Bounded by one timeout: the silent server got exactly one query (the rcodes
        // above), not one per SRV name. (How long that takes is benches/enum_lookup.py's.)
    }
}

#[test]
fn sip_domains_naptr_srv_and_addresses() {
    let Some((_g, lab)) = dns_lab('d') else {
        return;
    };

    // NAPTR (TLS 10, TCP 20, UDP 30, WS 40; received in rotating order) → SRV by priority
    // → A and AAAA.
    let (code, r) = lookup(&lab, &["sip:example.voipdiag.test"]);
    assert_eq!(code, 0, "{r:#}");
    let t = r["result"]["targets"].as_array().unwrap();
    let transports: Vec<&str> = t.iter().map(|x| x["transport"].as_str().unwrap()).collect();
    assert_eq!(
        transports,
        ["tls", "tcp", "tcp", "tcp", "tcp", "udp", "udp", "ws"]
    );
    assert!(t.iter().all(|x| x["source"] == "naptr"));
    assert_eq!(t[0]["host"], "tls.example.voipdiag.test");
    assert_eq!(t[0]["port"], 5061);
    assert_eq!(t[0]["address"], "192.0.2.13");
    // The TCP group: priority 10 (weights 60 and 40, in weighted-random order) before the
    // priority-20 backup; a.example has A and AAAA.
    let tcp: Vec<(u64, u64, &str)> = t[1..5]
        .iter()
        .map(|x| {
            (
                x["priority"].as_u64().unwrap(),
                x["weight"].as_u64().unwrap(),
                x["address"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(tcp[3], (20, 0, "192.0.2.12"));
    let mut first_three: Vec<&str> = tcp[..3].iter().map(|x| x.2).collect();
    first_three.sort();
    assert_eq!(first_three, ["192.0.2.10", "192.0.2.11", "2001:db8::10"]);
    assert!(
        tcp[..3]
            .iter()
            .all(|x| x.0 == 10 && (x.1 == 60 || x.1 == 40))
    );
    assert_eq!(t[7]["port"], 8080);
    assert_eq!(r["result"]["naptr"].as_array().unwrap().len(), 4);

    // sips: only the TLS service.
    let (code, r) = lookup(&lab, &["sips:example.voipdiag.test"]);
    assert_eq!(code, 0);
    assert_eq!(r["result"]["targets"].as_array().unwrap().len(), 1);

    // No NAPTR: the SRV names (source srv).
    let (code, r) = lookup(&lab, &["sip:srvonly.voipdiag.test"]);
    assert_eq!(code, 0, "{r:#}");
    let t = &r["result"]["targets"][0];
    assert_eq!(
        (t["source"].as_str(), t["port"].as_u64()),
        (Some("srv"), Some(5070))
    );

    // Neither NAPTR nor SRV: the domain's own A and AAAA, UDP 5060.
    let (code, r) = lookup(&lab, &["--sip-domain", "aonly.voipdiag.test"]);
    assert_eq!(code, 0, "{r:#}");
    let t = r["result"]["targets"].as_array().unwrap();
    let got: Vec<(&str, &str, u64, &str)> = t
        .iter()
        .map(|x| {
            (
                x["source"].as_str().unwrap(),
                x["transport"].as_str().unwrap(),
                x["port"].as_u64().unwrap(),
                x["address"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("a", "udp", 5060, "192.0.2.20"),
            ("aaaa", "udp", 5060, "2001:db8::20")
        ]
    );

    // NAPTR without a usable service: the SRV fallback, reported.
    let (code, r) = lookup(&lab, &["sip:badnaptr.voipdiag.test"]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["result"]["targets"][0]["source"], "fallback");
    assert!(codes(&r).contains(&"NAPTR_NOT_USABLE".to_string()));

    // Nothing at all: exit 1.
    let (code, r) = lookup(&lab, &["sip:nosip.voipdiag.test"]);
    assert_eq!(code, 1, "{r:#}");
    assert!(codes(&r).contains(&"NO_SIP_SERVER".to_string()));
}
