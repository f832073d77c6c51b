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
}
