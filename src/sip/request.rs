//! Building the requests we send (RFC 3261 §8.1.1): OPTIONS, REGISTER and, for `call`, INVITE,
//! ACK, BYE and CANCEL. rsip assembles and serialises the header section; the request line is
//! written here because rsip's `Uri` cannot parse IPv6 references (`sip:[2001:db8::1]`).

use rand::RngExt;

/// The RFC 3261 §8.1.1.7 magic cookie every branch starts with.
pub const BRANCH_COOKIE: &str = "z9hG4bK";

/// A method we send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// OPTIONS (§11).
    Options,
    /// REGISTER (§10).
    Register,
    /// INVITE (§13).
    Invite,
    /// ACK (§17.1.1.3).
    Ack,
    /// BYE (§15).
    Bye,
    /// CANCEL (§9).
    Cancel,
    /// PRACK (RFC 3262 §7.1).
    Prack,
}

impl Method {
    /// The method token.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Prack => "PRACK",
        }
    }

    fn to_rsip(self) -> rsip::Method {
        match self {
            Method::Options => rsip::Method::Options,
            Method::Register => rsip::Method::Register,
            Method::Invite => rsip::Method::Invite,
            Method::Ack => rsip::Method::Ack,
            Method::Bye => rsip::Method::Bye,
            Method::Cancel => rsip::Method::Cancel,
            Method::Prack => rsip::Method::PRack,
        }
    }
}

/// The topmost Via we add (RFC 3261 §18.1.1, `rport` RFC 3581 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViaSpec {
    /// `UDP`, `TCP`, `TLS`.
    pub transport: &'static str,
    /// sent-by host: our address (IPv6 in brackets) or a name.
    pub sent_by: String,
    /// Our port, omitted when `None`.
    pub port: Option<u16>,
    /// The branch, starting with [`BRANCH_COOKIE`].
    pub branch: String,
}

/// Everything a request carries.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    /// Method.
    pub method: Method,
    /// Request-URI.
    pub uri: String,
    /// Topmost Via.
    pub via: ViaSpec,
    /// From URI and tag.
    pub from: (String, String),
    /// To URI and, inside a dialog, tag.
    pub to: (String, Option<String>),
    /// Call-ID.
    pub call_id: String,
    /// CSeq number.
    pub cseq: u32,
    /// Contact URI (without `<>`), if any.
    pub contact: Option<String>,
    /// Expires in seconds, if any.
    pub expires: Option<u32>,
    /// Route set, outbound proxy first (RFC 3261 §8.1.2).
    pub route: Vec<String>,
    /// Other headers, in order.
    pub extra: Vec<(String, String)>,
    /// Body and its Content-Type.
    pub body: Option<(String, Vec<u8>)>,
}

/// Max-Forwards we send (RFC 3261 §8.1.1.6).
pub const MAX_FORWARDS: u32 = 70;

/// User-Agent we send.
pub fn user_agent() -> String {
    format!("voipdiag/{}", env!("CARGO_PKG_VERSION"))
}

/// A fresh branch: the magic cookie and 16 random alphanumerics.
pub fn new_branch(rng: &mut impl rand::Rng) -> String {
    format!("{BRANCH_COOKIE}{}", random_token(rng, 16))
}

/// A random token of `len` alphanumerics (tags, Call-IDs, cnonces).
pub fn random_token(rng: &mut impl rand::Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Errors building a request.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the request: {0}")]
pub struct BuildError(String);

/// Serialises a request.
///
/// # Errors
/// [`BuildError`] when the Request-URI has whitespace or no scheme.
pub fn build(spec: &RequestSpec) -> Result<Vec<u8>, BuildError> {
    use rsip::headers::{self, UntypedHeader};
    if spec.uri.contains(char::is_whitespace) || !spec.uri.contains(':') {
        return Err(BuildError(format!("bad Request-URI {:?}", spec.uri)));
    }
    let mut h = rsip::Headers::default();
    let v = &spec.via;
    let sent_by = match v.port {
        Some(p) => format!("{}:{p}", v.sent_by),
        None => v.sent_by.clone(),
    };
    h.push(
        headers::Via::new(format!(
            "SIP/2.0/{} {sent_by};branch={};rport",
            v.transport, v.branch
        ))
        .into(),
    );
    for r in &spec.route {
        h.push(headers::Route::new(format!("<{r}>")).into());
    }
    h.push(headers::MaxForwards::new(MAX_FORWARDS.to_string()).into());
    h.push(headers::From::new(format!("<{}>;tag={}", spec.from.0, spec.from.1)).into());
    h.push(
        headers::To::new(match &spec.to.1 {
            Some(tag) => format!("<{}>;tag={tag}", spec.to.0),
            None => format!("<{}>", spec.to.0),
        })
        .into(),
    );
    h.push(headers::CallId::new(spec.call_id.clone()).into());
    h.push(headers::CSeq::new(format!("{} {}", spec.cseq, spec.method.as_str())).into());
    if let Some(c) = &spec.contact {
        h.push(headers::Contact::new(format!("<{c}>")).into());
    }
    if let Some(e) = spec.expires {
        h.push(headers::Expires::new(e.to_string()).into());
    }
    h.push(headers::UserAgent::new(user_agent()).into());
    for (name, value) in &spec.extra {
        h.push(rsip::Header::Other(name.clone(), value.clone()));
    }
    let body = match &spec.body {
        Some((ctype, body)) => {
            h.push(headers::ContentType::new(ctype.clone()).into());
            body.clone()
        }
        None => Vec::new(),
    };
    h.push(headers::ContentLength::new(body.len().to_string()).into());
    let mut out = format!(
        "{} {} {}\r\n{h}\r\n",
        spec.method.to_rsip(),
        spec.uri,
        rsip::Version::V2
    )
    .into_bytes();
    out.extend_from_slice(&body);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::message::{Message, NameAddr};
    use rand::SeedableRng;

    #[test]
    fn options_round_trips_through_our_parser() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let branch = new_branch(&mut rng);
        let spec = RequestSpec {
            method: Method::Options,
            uri: "sip:[2001:db8::1]:5060".into(),
            via: ViaSpec {
                transport: "UDP",
                sent_by: "192.0.2.7".into(),
                port: Some(5062),
                branch: branch.clone(),
            },
            from: ("sip:voipdiag@192.0.2.7".into(), "abc".into()),
            to: ("sip:[2001:db8::1]:5060".into(), None),
            call_id: "cid1".into(),
            cseq: 1,
            contact: Some("sip:voipdiag@192.0.2.7:5062".into()),
            expires: None,
            route: vec!["sip:proxy.example.com;lr".into()],
            extra: vec![("Accept".into(), "application/sdp".into())],
            body: None,
        };
        let bytes = build(&spec).unwrap();
        let m = Message::parse(&bytes).unwrap();
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert_eq!(m.method(), Some("OPTIONS"));
        let via = m.top_via().unwrap();
        assert_eq!(via.branch(), Some(branch.as_str()));
        assert!(branch.starts_with(BRANCH_COOKIE) && branch.len() == 23);
        assert_eq!(via.rport(), Some(None));
        assert_eq!(via.port, Some(5062));
        assert_eq!(m.cseq(), Some((1, "OPTIONS".into())));
        assert_eq!(
            NameAddr::parse(m.header("From").unwrap()).unwrap().tag(),
            Some("abc")
        );
        assert_eq!(m.header("Max-Forwards"), Some("70"));
        assert_eq!(m.header("Route"), Some("<sip:proxy.example.com;lr>"));
        assert_eq!(m.header("Content-Length"), Some("0"));
        assert!(m.header("User-Agent").unwrap().starts_with("voipdiag/"));
        assert_eq!(m.len, bytes.len());
    }

    #[test]
    fn register_with_body_and_expires() {
        let spec = RequestSpec {
            method: Method::Register,
            uri: "sip:example.com".into(),
            via: ViaSpec {
                transport: "TCP",
                sent_by: "voipdiag.invalid".into(),
                port: None,
                branch: "z9hG4bKx".into(),
            },
            from: ("sip:alice@example.com".into(), "t".into()),
            to: ("sip:alice@example.com".into(), None),
            call_id: "c".into(),
            cseq: 2,
            contact: Some("sip:alice@192.0.2.7".into()),
            expires: Some(0),
            route: vec![],
            extra: vec![],
            body: Some(("text/plain".into(), b"hello".to_vec())),
        };
        let m = Message::parse(&build(&spec).unwrap()).unwrap();
        assert_eq!(m.header("Expires"), Some("0"));
        assert_eq!(m.body, b"hello");
        assert_eq!(m.top_via().unwrap().host, "voipdiag.invalid");
    }
}
