//! Building the responses we send to the far end's requests (RFC 3261 §8.2.6): the Via
//! headers, From, To (with our tag added when it has none), Call-ID and CSeq copied from the
//! request, then our headers and body. rsip writes the header section.

use super::message::Message;
use super::request::user_agent;

/// A response to `request` with `status` and `reason`; `to_tag` is added to To when the
/// request's To has no tag (§8.2.6.2). `extra` headers follow, then the body (with its
/// Content-Type) and Content-Length.
pub fn build(
    request: &Message,
    status: u16,
    reason: &str,
    to_tag: Option<&str>,
    extra: &[(String, String)],
    body: Option<(&str, &[u8])>,
) -> Vec<u8> {
    use rsip::headers::{self, UntypedHeader};
    let mut h = rsip::Headers::default();
    for via in request.headers_named("Via") {
        h.push(headers::Via::new(via.to_string()).into());
    }
    if let Some(from) = request.header("From") {
        h.push(headers::From::new(from.to_string()).into());
    }
    if let Some(to) = request.header("To") {
        let has_tag = super::message::NameAddr::parse(to).is_ok_and(|n| n.tag().is_some());
        let to = match to_tag {
            Some(tag) if !has_tag => format!("{to};tag={tag}"),
            _ => to.to_string(),
        };
        h.push(headers::To::new(to).into());
    }
    if let Some(id) = request.header("Call-ID") {
        h.push(headers::CallId::new(id.to_string()).into());
    }
    if let Some(cseq) = request.header("CSeq") {
        h.push(headers::CSeq::new(cseq.to_string()).into());
    }
    h.push(headers::Server::new(user_agent()).into());
    for (name, value) in extra {
        h.push(rsip::Header::Other(name.clone(), value.clone()));
    }
    let body = match body {
        Some((ctype, b)) => {
            h.push(headers::ContentType::new(ctype.to_string()).into());
            b.to_vec()
        }
        None => Vec::new(),
    };
    h.push(headers::ContentLength::new(body.len().to_string()).into());
    let mut out = format!("SIP/2.0 {status} {reason}\r\n{h}\r\n").into_bytes();
    out.extend_from_slice(&body);
    out
}

/// `request` with its top Via stamped as the server that received it from `source` must
/// (RFC 3261 §18.2.1, RFC 3581 §4): `received` with the source address when it differs from
/// the sent-by host, and `rport` filled with the source port when the client asked for it.
/// The response built from it then tells the client how it was seen (its NAT).
pub fn stamp_via(request: &Message, source: std::net::SocketAddr) -> Message {
    let mut m = request.clone();
    let Some(h) = m
        .headers
        .iter_mut()
        .find(|h| h.name.eq_ignore_ascii_case("Via"))
    else {
        return m;
    };
    let Ok(via) = super::message::Via::parse(&h.value) else {
        return m;
    };
    let ip = source.ip().to_string();
    let sent_by = via.host.trim_matches(['[', ']']).to_string();
    let mut parts: Vec<String> = h.value.split(';').map(str::to_string).collect();
    let mut asked_rport = false;
    for p in parts.iter_mut().skip(1) {
        let name = p
            .split('=')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if name == "rport" {
            *p = format!("rport={}", source.port());
            asked_rport = true;
        }
    }
    parts.retain(|p| !p.trim().to_ascii_lowercase().starts_with("received="));
    if sent_by != ip || asked_rport {
        parts.push(format!("received={ip}"));
    }
    h.value = parts.join(";");
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_the_request_and_adds_our_tag() {
        let req = Message::parse(
            b"BYE sip:a@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKb\r\n\
              Via: SIP/2.0/UDP 192.0.2.8;branch=z9hG4bKa\r\nFrom: <sip:b@x>;tag=1\r\n\
              To: <sip:a@y>\r\nCall-ID: c1\r\nCSeq: 7 BYE\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap();
        let r = Message::parse(&build(&req, 200, "OK", Some("t9"), &[], None)).unwrap();
        assert_eq!(r.status(), Some(200));
        assert_eq!(r.headers_named("Via").count(), 2);
        assert_eq!(r.top_via().unwrap().branch(), Some("z9hG4bKb"));
        assert_eq!(r.cseq(), Some((7, "BYE".into())));
        assert_eq!(r.header("Call-ID"), Some("c1"));
        assert_eq!(r.header("To"), Some("<sip:a@y>;tag=t9"));
        assert!(r.problems.is_empty(), "{:?}", r.problems);
    }

    /// A client behind a NAT with rport: received and rport filled; without rport and from
    /// its own address: untouched.
    #[test]
    fn via_is_stamped_with_the_source() {
        let req = |via: &str| {
            Message::parse(
                format!(
                    "BYE sip:a@192.0.2.1 SIP/2.0\r\nVia: {via}\r\nFrom: <sip:a@x>;tag=1\r\n\
                     To: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n"
                )
                .as_bytes(),
            )
            .unwrap()
        };
        let m = stamp_via(
            &req("SIP/2.0/UDP 10.77.0.2:5060;branch=z9hG4bKx;rport"),
            "192.0.2.2:31000".parse().unwrap(),
        );
        let v = m.top_via().unwrap();
        assert_eq!(v.received(), Some("192.0.2.2"));
        assert_eq!(v.rport(), Some(Some(31000)));
        let same = stamp_via(
            &req("SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKx"),
            "192.0.2.2:5060".parse().unwrap(),
        );
        assert_eq!(
            same.header("Via"),
            Some("SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKx")
        );
    }
}
