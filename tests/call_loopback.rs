//! `voipdiag call` against `voipdiag call --answer` on loopback (no root, no lab): the media
//! options a caller sets show in what the answerer measures — RTCP multiplexed on the RTP
//! port (RFC 5761) still gives both ends a round trip, `--ptime 30` paces 30 ms packets,
//! `--media-address` is what the offer says and what arrives, `--silence` sends silence.

use std::process::{Command, Stdio};
use std::time::Duration;

mod common;

#[test]
fn media_options_reach_the_far_end() {
    let port = 20_000 + std::process::id() % 20_000;
    let listen = format!("127.0.0.1:{port}");
    let wav = std::env::temp_dir().join(format!("voipdiag-silence-{}.wav", std::process::id()));
    let answerer = Command::new(env!("CARGO_BIN_EXE_voipdiag"))
        .args([
            "--json", "call", "--answer", "--listen", &listen, "--wait", "15s",
        ])
        .args(["--rtcp-mux", "--record", wav.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("voipdiag --answer");
    std::thread::sleep(Duration::from_millis(300));
    let out = common::voipdiag(&[
        "--json",
        "call",
        &format!("sip:x@{listen}"),
        "--duration",
        "3s",
        "--rtcp-mux",
        "--ptime",
        "30",
        "--media-address",
        "127.0.0.1",
        "--silence",
    ]);
    let v = common::json_of(&out, "call");
    let a = answerer.wait_with_output().expect("wait for the answerer");
    let av = common::json_of(&a, "call --answer");
    assert_eq!(out.status.code(), Some(0), "{v}");
    let r = &v["result"];
    assert_eq!(r["sdp"]["offer"]["address"], "127.0.0.1");
    assert_eq!(av["result"]["offer_seen"]["address"], "127.0.0.1", "{av}");
    // 3 s of 30 ms packets: 100.
    assert_eq!(r["media"]["outbound"]["packets"], 100, "{v}");
    assert_eq!(
        r["media"]["outbound"]["bytes"],
        100 * 240,
        "240 bytes of G.711 per 30 ms"
    );
    let m = &av["result"]["media"];
    assert_eq!(m["inbound"]["packets"], 100, "{av}");
    // RTCP on the RTP port both ways: each end has the other's report and a round trip.
    for (who, media) in [("caller", &r["media"]), ("answerer", m)] {
        assert!(
            media["inbound"]["rtcp_packets"].as_u64().unwrap() >= 1,
            "{who}: {media}"
        );
        assert!(media["rtt_ms"].as_f64().is_some(), "{who}: {media}");
        assert_eq!(media["mos"]["basis_outbound"], "rtcp", "{who}");
    }
    // What arrived is silence: G.711 silence decodes to samples near zero.
    let bytes = std::fs::read(&wav).unwrap();
    let _ = std::fs::remove_file(&wav);
    let samples: Vec<i16> = bytes[44..]
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    assert!(samples.len() >= 8000 * 2, "{} samples", samples.len());
    assert!(samples.iter().all(|s| s.unsigned_abs() < 16), "not silence");
    let codes = common::codes(&v);
    assert!(
        !codes.iter().any(|c| c == "MEDIA_PORT_MISMATCH"),
        "{codes:?}"
    );
}
