//! The invariants every decoder of outside bytes must keep, one function per decoder. The
//! cargo-fuzz targets in `fuzz/` call these with libFuzzer's inputs (nightly); the seeded
//! mutation tests in `tests/mutation.rs` call them with mutants of [`seeds`] under stable
//! `cargo test`. Each function panics — the failure both harnesses report — only when an
//! invariant is broken; a decoder that panics on its own is a failure too.
//!
//! Decoders covered: SIP messages and stream framing, STUN/TURN messages, SDP, RTP and RTCP
//! (with the receiver's statistics), ENUM NAPTR processing (RFC 3402 DDDS walk and the
//! RFC 6116 substitution), UPnP XML/SSDP/NAT-PMP/PCP answers, and pcap/pcapng captures.

use std::collections::HashMap;

use crate::capture::analysis::{Analysis, Options};
use crate::capture::reader::{Frame, read_frames};
use crate::dns::r#enum::{Fetched, MAX_DOMAINS, Plan, SubstExpr, walk};
use crate::dns::rfc3263::Naptr;
use crate::report::terminal_safe;
use crate::sip::message::{Message, stream_frame_len};

/// The fuzz targets, by name (as in `fuzz/Cargo.toml`).
pub const TARGETS: [&str; 9] = [
    "sip_message",
    "stun_message",
    "sdp",
    "rtp_rtcp",
    "enum_naptr",
    "upnp_xml",
    "pcap_decode",
    "call",
    "turn",
];

pub mod call;
pub mod turn;

pub use call::{SEPARATOR as CALL_SEPARATOR, call, call_result};

/// Runs target `name` on `data`.
///
/// # Panics
/// On an unknown name, or when the target's invariant is broken.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "sip_message" => sip_message(data),
        "stun_message" => stun_message(data),
        "sdp" => sdp(data),
        "rtp_rtcp" => rtp_rtcp(data),
        "enum_naptr" => enum_naptr(data),
        "upnp_xml" => upnp_xml(data),
        "pcap_decode" => pcap_decode(data),
        "call" => call(data),
        "turn" => turn::turn(data),
        other => panic!("no fuzz target {other}"),
    }
}

/// Text shown to a user never carries a terminal control sequence.
fn shown_safely(text: &str) {
    let safe = terminal_safe(text);
    assert!(
        !safe
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "control character left in {safe:?}"
    );
}

/// SIP (RFC 3261 §7): parsing never panics; an accepted message lies within the input,
/// parses to itself from its own bytes, and — with a Content-Length — frames on a stream to
/// exactly its own length (§18.3).
pub fn sip_message(data: &[u8]) {
    if let Ok(msg) = Message::parse(data) {
        assert!(msg.len <= data.len(), "{} > {}", msg.len, data.len());
        let own = data.get(..msg.len).unwrap_or_default();
        let again = Message::parse(own).expect("a message parses from its own bytes");
        assert_eq!(again, msg, "a message parses to itself");
        if msg.header("Content-Length").is_some()
            && let Ok(Some(n)) = stream_frame_len(own)
        {
            assert_eq!(n, msg.len, "frames to its own length");
        }
        shown_safely(&crate::report::trace::sip_message(
            &crate::machine::Traced {
                direction: crate::machine::Direction::Received,
                local: ([127, 0, 0, 1], 5060).into(),
                remote: ([127, 0, 0, 1], 5062).into(),
                stream: false,
                bytes: own,
            },
            2,
        ));
    }
    if let Ok(Some(n)) = stream_frame_len(data) {
        assert!(n <= data.len(), "framed {n} of {}", data.len());
    }
}

/// STUN/TURN (RFC 8489 §5, §14; RFC 8656 §18): decoding never panics; an accepted message
/// is a STUN header whose length fits the input; its trace line shows safely.
pub fn stun_message(data: &[u8]) {
    use crate::stun::message::{decode, looks_like_stun, stream_frame_len};
    if let Ok(m) = decode(data) {
        assert!(data.len() >= 20, "a message is at least its header");
        assert!(looks_like_stun(data), "an accepted message looks like STUN");
        let _ = m.mapped();
        shown_safely(&m.to_string());
    }
    if let Some(n) = stream_frame_len(data) {
        assert!(n >= 20, "a framed message is at least its header: {n}");
    }
    let line = crate::report::trace::stun_line(
        &crate::machine::Traced {
            direction: crate::machine::Direction::Received,
            local: ([127, 0, 0, 1], 3478).into(),
            remote: ([127, 0, 0, 1], 40000).into(),
            stream: false,
            bytes: data,
        },
        1,
    );
    assert!(!line.contains('\n'), "a STUN trace is one line: {line:?}");
    shown_safely(&line);
}

/// SDP (RFC 8866): parsing never panics; every media section came from an `m=` line, and
/// its RTCP port is the RTP port + 1 or one the body named (RFC 3605).
pub fn sdp(data: &[u8]) {
    let lines = data
        .split(|b| *b == b'\n')
        .filter(|l| l.starts_with(b"m="))
        .count();
    if let Ok(s) = crate::sdp::parse(data) {
        assert!(
            s.media.len() <= lines,
            "{} media from {lines} m= lines",
            s.media.len()
        );
    }
    if let Some(s) = crate::sdp::lenient(data) {
        assert!(s.media.len() <= lines);
    }
}

/// RTP (RFC 3550 §5.1) and RTCP (§6): parsing never panics; an accepted RTP header's
/// payload lies within the packet; the receiver's statistics stay finite and the MOS within
/// 1–5 whatever arrives.
pub fn rtp_rtcp(data: &[u8]) {
    use crate::rtp::{RtpReceiver, header, rtcp};
    if let Ok(h) = header::parse(data) {
        assert!(
            h.payload_offset + h.payload_len <= data.len(),
            "payload {}+{} beyond {}",
            h.payload_offset,
            h.payload_len,
            data.len()
        );
        let mut r = RtpReceiver::new(h.ssrc, Vec::new());
        // The same packet a few times, at odd times: duplicates, reordering, a clock jump.
        for (k, t) in [0i64, 20_000_000, 10_000_000, 3_600_000_000_000, -5]
            .into_iter()
            .enumerate()
        {
            let mut hk = h;
            hk.sequence_number = h.sequence_number.wrapping_add(k as u16 * 7);
            r.receive(t, &hk, data);
        }
        let q = r.quality();
        if let Some(mos) = q.mos {
            assert!((1.0..=5.0).contains(&mos), "MOS {mos}");
        }
        let s = &q.summary;
        for v in [
            s.loss_percent,
            s.max_delta_ms,
            s.jitter_mean_ms,
            s.jitter_max_ms,
        ] {
            assert!(v.is_finite(), "{s:?}");
        }
    }
    if let Ok(c) = rtcp::parse(data) {
        assert!(
            c.reports.len() * 24 <= data.len(),
            "more report blocks than bytes"
        );
    }
}

/// ENUM (RFC 6116, RFC 3402 §3.2): NAPTR sets built from the input — one record per line,
/// `order|preference|flags|services|regexp|replacement|set` — are walked from the number's
/// domain as `enum-lookup` does: the plan asks at most [`MAX_DOMAINS`] domains, the walk
/// never panics, is deterministic, and gives only URIs its terminal records produced.
pub fn enum_naptr(data: &[u8]) {
    const START: &str = "4.3.2.1.5.5.5.1.e164.arpa";
    const AUS: &str = "+15551234";
    let domains = [START, "a.example", "b.example", "c.example"];
    let mut sets: HashMap<String, Vec<Naptr>> = HashMap::new();
    for line in data.split(|b| *b == b'\n').take(64) {
        let line = String::from_utf8_lossy(line);
        let f: Vec<&str> = line.split('|').collect();
        let field = |i: usize| f.get(i).copied().unwrap_or("");
        let number = |i: usize| field(i).trim().parse::<u16>().unwrap_or(0);
        let set = domains[usize::from(number(6)) % domains.len()];
        let regexp = field(4);
        if let Ok(e) = SubstExpr::parse(regexp)
            && let Some(out) = e.apply(AUS)
        {
            assert!(
                out.len() <= 64 * 1024,
                "substitution output of {} bytes",
                out.len()
            );
        }
        sets.entry(set.to_string()).or_default().push(Naptr {
            order: number(0),
            preference: number(1),
            flags: field(2).into(),
            services: field(3).into(),
            regexp: regexp.into(),
            replacement: field(5).into(),
        });
    }
    let mut plan = Plan::new(START, AUS);
    let mut asked = 0;
    while let Some((domain, depth)) = plan.next_query() {
        asked += 1;
        assert!(
            asked <= MAX_DOMAINS,
            "the plan asked more than {MAX_DOMAINS} domains"
        );
        let fetched = match sets.get(&domain.to_ascii_lowercase()) {
            Some(r) => Fetched::Records(r.clone()),
            None => Fetched::NoEntry("NXDOMAIN".into()),
        };
        plan.fetched(domain, depth, fetched);
    }
    let w = walk(START, &plan.sets, AUS, None);
    assert_eq!(
        w,
        walk(START, &plan.sets, AUS, None),
        "the walk is deterministic"
    );
    for u in &w.uris {
        assert!(
            plan.sets.values().any(|s| matches!(s, Fetched::Records(r)
                if r.iter().any(|n| n.order == u.order && n.preference == u.preference))),
            "a URI from no record: {u:?}"
        );
    }
}

/// UPnP (Device Architecture 1.1 §1–3), SSDP, NAT-PMP (RFC 6886) and PCP (RFC 6887) answers:
/// nothing panics; a document the XML check lets through nests at most 64 deep and has no
/// DTD; names shown to the user are cut to [`crate::text::MAX_TEXT`] characters.
pub fn upnp_xml(data: &[u8]) {
    use crate::upnp::{igd, natpmp, pcp, ssdp, xml};
    let text = String::from_utf8_lossy(data);
    if xml::check(&text).is_ok() {
        // An independent reading: without comments, CDATA and processing instructions, no
        // `<!` is left and tags nest at most 64 deep (attribute values may only make this
        // count lower, never raise a false alarm).
        let mut plain = String::new();
        let mut rest = text.as_ref();
        while let Some(lt) = rest.find('<') {
            plain.push_str(&rest[..lt]);
            let tail = &rest[lt..];
            let skip = [("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>")]
                .iter()
                .find(|(open, _)| tail.starts_with(open))
                .map(|(_, close)| tail.find(close).map_or(tail.len(), |e| e + close.len()));
            match skip {
                Some(n) => rest = &tail[n..],
                None => {
                    plain.push('<');
                    rest = &tail[1..];
                }
            }
        }
        plain.push_str(rest);
        assert!(
            !plain.contains("<!"),
            "a DTD or declaration passed the check"
        );
        let (mut depth, mut deepest) = (0usize, 0usize);
        for w in plain.as_bytes().windows(2) {
            match w {
                [b'<', b'/'] => depth = depth.saturating_sub(1),
                [b'<', _] => {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
                [b'/', b'>'] => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        assert!(
            deepest <= xml::MAX_DEPTH + 1,
            "nesting {deepest} passed the check"
        );
    }
    if let Ok(d) = igd::parse_description(&text) {
        for name in [&d.friendly_name, &d.manufacturer, &d.model_name, &d.udn]
            .into_iter()
            .flatten()
        {
            assert!(name.chars().count() <= crate::text::MAX_TEXT + 1);
        }
    }
    let _ = igd::parse_scpd(&text);
    let _ = igd::parse_soap_response(&text, "GetExternalIPAddress");
    let _ = ssdp::location(data);
    for op in 0..=2 {
        let _ = natpmp::natpmp_decode(data, op);
    }
    if let Ok(r) = pcp::pcp_decode_map(data) {
        assert!(
            r.nonce.is_some() || r.result != 0,
            "a success always carries its nonce"
        );
    }
}

/// Captures: reading a pcap/pcapng never panics and never believes a record longer than the
/// input; every frame is accounted for (decoded + ignored + malformed = total), also when the
/// input is fed as one raw frame of every link type.
pub fn pcap_decode(data: &[u8]) {
    let mut a = Analysis::new(Options {
        rtp_heuristics: true,
    });
    let _ = read_frames(
        data,
        Some(data.len() as u64),
        |f| a.frame(f),
        |_| {},
        || false,
    );
    a.finish();
    let p = a.packets;
    assert_eq!(p.total, p.decoded + p.ignored + p.malformed);
    let mut b = Analysis::new(Options {
        rtp_heuristics: true,
    });
    for linktype in [0, 1, 101, 108, 113, 228, 229, 276] {
        b.frame(&Frame {
            number: 1,
            time_ns: 0,
            linktype,
            data,
            orig_len: data.len() as u32,
        });
    }
    b.finish();
    let p = b.packets;
    assert_eq!(p.total, p.decoded + p.ignored + p.malformed);
}

fn split<'a>(data: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(sep.len()).position(|w| w == sep) {
        out.push(&rest[..i]);
        rest = &rest[i + sep.len()..];
    }
    out.push(rest);
    out
}

fn replace(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    if from.is_empty() || data.len() < from.len() {
        return data.to_vec();
    }
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out
}

/// Valid inputs for each target to mutate from (the same seeds start the cargo-fuzz corpora).
pub mod seeds {
    /// Seeds of target `name` (see [`super::TARGETS`]).
    pub fn of(name: &str) -> Vec<Vec<u8>> {
        match name {
            "sip_message" => sip(),
            "stun_message" => stun(),
            "sdp" => vec![SDP.as_bytes().to_vec()],
            "rtp_rtcp" => rtp_rtcp(),
            "enum_naptr" => vec![NAPTR.as_bytes().to_vec()],
            "upnp_xml" => upnp(),
            "pcap_decode" => vec![pcap()],
            "call" => super::call::seeds(),
            "turn" => super::turn::seeds(),
            _ => Vec::new(),
        }
    }

    const SDP: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=rtcp:40005\r\na=sendrecv\r\nm=image 40010 udptl t38\r\n";

    fn invite() -> String {
        format!(
            "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport\r\nMax-Forwards: 70\r\nTo: Bob <sip:bob@example.com>\r\nFrom: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\nCall-ID: a84b4c76e66710@192.0.2.1\r\nCSeq: 314159 INVITE\r\nContact: <sip:alice@192.0.2.1>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
            SDP.len()
        )
    }

    fn sip() -> Vec<Vec<u8>> {
        vec![
            invite().into_bytes(),
            b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx;received=203.0.113.5;rport=4000\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:a@x>;tag=2\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\nContact: <sip:a@192.0.2.1>;expires=3600\r\nWWW-Authenticate: Digest realm=\"x\", nonce=\"n\", qop=\"auth\"\r\nContent-Length: 0\r\n\r\n".to_vec(),
            b"OPTIONS sip:x SIP/2.0\r\nv: SIP/2.0/TCP h\r\ni: short\r\nl: 0\r\n\r\n".to_vec(),
        ]
    }

    fn stun() -> Vec<Vec<u8>> {
        use crate::stun::message::{
            BindingRequest, encode_binding_request, encode_binding_success,
        };
        let mut out = Vec::new();
        if let Ok(r) = encode_binding_request([7; 12], &BindingRequest::default()) {
            out.push(r);
        }
        if let Ok(r) = encode_binding_success(
            [7; 12],
            ([203, 0, 113, 5], 40000).into(),
            Some(([198, 51, 100, 11], 3479).into()),
            Some(([198, 51, 100, 10], 3478).into()),
        ) {
            out.push(r);
        }
        // A TURN Allocate (RFC 8656 §7.1) with long-term credentials.
        let credential = crate::stun::builder::LongTermCredential {
            username: "user".into(),
            password: "pass".into(),
            realm: "example.org".into(),
            nonce: "nonce".into(),
        };
        if let Ok(turn) = crate::stun::builder::MessageBuilder::request(0x003, [9; 12])
            .map(|b| b.attribute(stun_codec::rfc5766::attributes::RequestedTransport::new(17)))
            .and_then(|b| b.long_term_credential(&credential))
            .and_then(|b| b.encode(true))
        {
            out.push(turn);
        }
        out
    }

    fn rtp_rtcp() -> Vec<Vec<u8>> {
        let mut rtp = vec![0x90, 0x65, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4, 0xbe, 0xde, 0, 1];
        rtp.extend_from_slice(&[0x10, 0xaa, 0, 0]);
        rtp.extend_from_slice(&[0x05, 0x8a, 0x03, 0x20]);
        let rr = vec![
            0x81, 201, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8, 0x10, 0, 0, 3, 0, 0, 0x10, 0, 0, 0, 0, 20, 0,
            0, 0, 0, 0, 0, 0, 0,
        ];
        // Found by libFuzzer: a stream whose MOS fell below 1.
        let low_mos = vec![
            0x81, 0x83, 0, 0, 0, 0, 5, 1, 0, 0, 0, 0x11, 0x84, 0xff, 0x9b, 0x0e,
        ];
        // Found by libFuzzer: a NACK of one word panicked the rtcp crate.
        let short_nack = vec![0x81, 0xcd, 0, 1, 0, 0, 1, 0];
        // And an RTP extension element longer than its block panicked the rtp crate.
        let long_element = vec![
            0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 0x1f, 0xaa, 0xbb, 0xcc,
        ];
        // And a padded RTCP packet with no room for its padding count.
        let empty_padded = vec![0xa0, 0x41, 0, 0, 0x80, 0xce, 0, 5];
        // And a FIR with half an entry.
        let half_fir = vec![
            0x84, 0xce, 0, 5, 0, 0, 5, 0, 1, 1, 1, 0, 0, 0, 0, 0, 4, 0xf6, 0, 2, 0, 0, 0x1c, 0,
        ];
        vec![
            rtp,
            rr,
            low_mos,
            short_nack,
            long_element,
            empty_padded,
            half_fir,
        ]
    }

    const NAPTR: &str = "100|10|u|E2U+sip|!^\\+1(.*)$!sip:\\1@example.com!|.|0\n100|20||E2U+sip||a.example|0\n10|10|u|E2U+voice:tel|!^(.*)$!tel:\\1!|.|1\n";

    fn upnp() -> Vec<Vec<u8>> {
        vec![
            br#"<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><URLBase>http://192.168.1.1:5000</URLBase><device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><friendlyName>router</friendlyName><UDN>uuid:x</UDN><deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType><deviceList><device><serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType><controlURL>/ctl</controlURL><SCPDURL>/scpd.xml</SCPDURL></service></serviceList></device></deviceList></device></deviceList></device></root>"#.to_vec(),
            br#"<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:GetExternalIPAddressResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"><NewExternalIPAddress>203.0.113.5</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>"#.to_vec(),
            b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nLOCATION: http://192.168.1.1:5000/rootDesc.xml\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n".to_vec(),
            vec![0, 128, 0, 0, 0, 0, 0, 5, 203, 0, 113, 5],
            // Found by libFuzzer: a tag hiding a declaration.
            b"<<!>\0.".to_vec(),
        ]
    }

    /// A small pcap: SIP INVITE with SDP, RTP to its port, STUN, SIP over TCP.
    fn pcap() -> Vec<u8> {
        use crate::capture::writer::PcapWriter;
        let a: std::net::SocketAddr = "192.0.2.1:5060".parse().unwrap_or(([0, 0, 0, 0], 0).into());
        let b: std::net::SocketAddr = "192.0.2.2:5060".parse().unwrap_or(([0, 0, 0, 0], 0).into());
        let at = |port: u16, addr: std::net::SocketAddr| std::net::SocketAddr::new(addr.ip(), port);
        let stun = stun();
        let t = |i: u64| std::time::Duration::from_secs(i);
        let Ok(mut w) = PcapWriter::new(Vec::new()) else {
            return Vec::new();
        };
        let _ = w.write_udp(t(0), a, b, invite().as_bytes());
        let _ = w.write_udp(t(1), at(40002, a), at(40000, b), &rtp_rtcp()[0]);
        let _ = w.write_udp(
            t(2),
            at(40000, a),
            at(3478, b),
            stun.first().map_or(&[][..], |s| &s[..]),
        );
        let _ = w.write_tcp(t(3), a, b, invite().as_bytes());
        w.into_inner()
    }
}
