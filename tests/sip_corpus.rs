//! The SIP parser on every message of tests/data/sip-messages: the RFC 4475 torture tests and
//! the RFC 3261 examples. Valid messages parse without a problem; invalid ones are rejected or
//! carry a precise problem; nothing panics. Skips with a message where the data is absent (a packaged crate),
//! and fails instead in CI (`VOIPDIAG_LAB_REQUIRED=1` or `CI`).

use std::path::PathBuf;

use voipdiag::sip::message::{Message, ProblemKind};

mod common;

fn corpus(dir: &str) -> Option<(PathBuf, Vec<Vec<String>>)> {
    let root = common::data_dir().join("sip-messages").join(dir);
    let index = match std::fs::read_to_string(root.join("INDEX.tsv")) {
        Ok(s) => s,
        Err(e) => {
            return common::skip_or_fail(&format!(
                "{} not readable ({e}); the test messages are absent",
                root.display()
            ));
        }
    };
    let rows = index
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    Some((root, rows))
}

/// Outcome of one message: Ok(problems) or Err(reason).
fn outcome(root: &std::path::Path, name: &str) -> Result<Message, String> {
    let bytes = std::fs::read(root.join(format!("{name}.sip"))).expect("message file");
    Message::parse(&bytes).map_err(|e| e.to_string())
}

#[test]
fn rfc4475_torture_messages() {
    let Some((root, rows)) = corpus("torture") else {
        return;
    };
    assert_eq!(rows.len(), 49, "RFC 4475 has 49 messages");
    let mut failures = Vec::new();
    for row in &rows {
        let (name, class) = (&row[0], row[2].as_str());
        let result = outcome(&root, name);
        let verdict = match (&result, class) {
            (Ok(m), "valid") if m.problems.is_empty() => None,
            (Ok(m), "valid") => Some(format!("valid but flagged: {:?}", m.problems)),
            (Err(e), "valid" | "syntax-valid") => Some(format!("rejected: {e}")),
            (Ok(m), "syntax-valid") if m.is_well_formed() => None,
            (Ok(m), "syntax-valid") => Some(format!("syntax-valid but flagged: {:?}", m.problems)),
            (Err(_), "invalid") => None,
            (Ok(m), "invalid") if !m.is_well_formed() => None,
            (Ok(_), "invalid") => Some("invalid but accepted without a syntax problem".into()),
            (Ok(m), "semantic-invalid")
                if m.problems.iter().any(|p| p.kind == ProblemKind::Semantic) =>
            {
                None
            }
            (Ok(_), "semantic-invalid") => Some("semantic-invalid but not flagged".into()),
            (Err(_), "semantic-invalid") => None,
            (_, other) => Some(format!("unknown class {other}")),
        };
        match &result {
            Ok(m) => eprintln!(
                "{name:10} {class:16} ok {:?}",
                m.problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
            ),
            Err(e) => eprintln!("{name:10} {class:16} rejected: {e}"),
        }
        if let Some(v) = verdict {
            failures.push(format!("{name} ({class}): {v}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rfc4475_precise_reasons() {
    let Some((root, _)) = corpus("torture") else {
        return;
    };
    let expect = [
        ("clerr", "Content-Length 9999 exceeds"),
        ("ncl", "Content-Length is not a non-negative number"),
        ("ltgtruri", "Request-URI enclosed in <>"),
        ("escruri", "URI headers"),
        ("lwsstart", "extra whitespace"),
        ("trws", "extra whitespace"),
        ("quotbal", "unterminated quoted display name"),
        ("badaspec", "whitespace inside <"),
        ("baddn", "need quoting"),
        ("baddate", "GMT"),
        ("badvers", "unsupported version \"SIP/7.0\""),
        ("mismatch01", "does not match the request method"),
        ("bigcode", "status code \"4294967301\""),
        ("scalar02", "out of range"),
        ("scalarlg", "out of range"),
        ("regbadct", "must be enclosed in <>"),
        ("badinv01", "empty"),
        ("multi01", "appears 2 times"),
        ("mcl01", "Content-Length: appears 2 times"),
        ("insuf", "To: required header field missing"),
    ];
    for (name, needle) in expect {
        let text = match outcome(&root, name) {
            Ok(m) => m
                .problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
            Err(e) => e,
        };
        assert!(
            text.contains(needle),
            "{name}: expected {needle:?} in {text:?}"
        );
    }
    // dblreq: the second request after Content-Length is not taken as body.
    let m = outcome(&root, "dblreq").unwrap();
    assert!(m.body.is_empty());
    assert!(m.len < std::fs::read(root.join("dblreq.sip")).unwrap().len());
    // inv2543: no Content-Length over a datagram, the rest is the body.
    assert_eq!(outcome(&root, "inv2543").unwrap().body.len(), 105);
    // transports: five Via values, one an unknown transport.
    let m = outcome(&root, "transports").unwrap();
    let transports: Vec<String> = m
        .headers_named("Via")
        .map(|v| voipdiag::sip::message::Via::parse(v).unwrap().transport)
        .collect();
    assert_eq!(transports, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
}

#[test]
fn rfc3261_examples() {
    let Some((root, rows)) = corpus("rfc3261") else {
        return;
    };
    assert_eq!(rows.len(), 15);
    for row in &rows {
        let m = outcome(&root, &row[0]).unwrap_or_else(|e| panic!("{}: {e}", row[0]));
        assert!(m.problems.is_empty(), "{}: {:?}", row[0], m.problems);
        assert_eq!(m.body.len().to_string(), row[5], "{} body", row[0]);
        for via in m.headers_named("Via") {
            voipdiag::sip::message::Via::parse(via).unwrap();
        }
    }
    let list = outcome(&root, "s7_3_1_via_list").unwrap();
    assert!(list.headers_named("Via").count() >= 2);
    let compact = outcome(&root, "s7_3_3_compact").unwrap();
    for name in [
        "Via",
        "From",
        "To",
        "Call-ID",
        "Content-Length",
        "Content-Type",
    ] {
        assert!(
            compact.header(name).is_some(),
            "compact form of {name} expanded"
        );
    }
}
