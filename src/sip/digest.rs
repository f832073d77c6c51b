//! HTTP Digest authentication for SIP (RFC 3261 §22.4, RFC 7616, RFC 8760): challenge
//! parsing and the Authorization / Proxy-Authorization value.
//!
//! Our own code rather than rsip's: rsip rejects `qop="auth,auth-int"` and
//! `algorithm=SHA-256`, formats `nc` in decimal and does not compute `-sess` HA1
//! (../shared/CRATES.md §1).

use std::fmt;

use md5::Md5;
use sha2::{Digest, Sha256, Sha512_256};

/// Errors reading a challenge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// The scheme is not `Digest`.
    #[error("authentication scheme {0:?} is not Digest")]
    Scheme(String),
    /// A parameter list that does not parse.
    #[error("malformed challenge: {0}")]
    Malformed(String),
    /// A required parameter is missing.
    #[error("challenge has no {0} parameter")]
    Missing(&'static str),
    /// An algorithm we do not implement.
    #[error("unsupported digest algorithm {0:?}")]
    Algorithm(String),
    /// Only qop values we do not implement were offered.
    #[error("unsupported qop {0:?}")]
    Qop(String),
}

/// Hash algorithm (RFC 7616 §3.3, RFC 8760 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Algorithm {
    /// `MD5` (the default when absent).
    #[serde(rename = "MD5")]
    Md5,
    /// `SHA-256`.
    #[serde(rename = "SHA-256")]
    Sha256,
    /// `SHA-512-256`.
    #[serde(rename = "SHA-512-256")]
    Sha512_256,
}

impl Algorithm {
    fn hash_hex(self, data: &[u8]) -> String {
        match self {
            Algorithm::Md5 => hex::encode(Md5::digest(data)),
            Algorithm::Sha256 => hex::encode(Sha256::digest(data)),
            Algorithm::Sha512_256 => hex::encode(Sha512_256::digest(data)),
        }
    }

    fn token(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha512_256 => "SHA-512-256",
        }
    }
}

/// Quality of protection (RFC 7616 §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Qop {
    /// Authentication only.
    Auth,
    /// Authentication with integrity of the body.
    AuthInt,
}

/// A parsed WWW-Authenticate / Proxy-Authenticate Digest challenge.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Challenge {
    /// Protection space.
    pub realm: String,
    /// Server nonce.
    pub nonce: String,
    /// Opaque value to echo back.
    pub opaque: Option<String>,
    /// Hash algorithm.
    pub algorithm: Algorithm,
    /// Whether the `-sess` variant is used (HA1 bound to nonce and cnonce).
    pub session: bool,
    /// Offered qop values we implement, in the server's order; empty means RFC 2069 mode.
    pub qop: Vec<Qop>,
    /// `stale=true`: the nonce expired, the credentials were right (RFC 7616 §3.3).
    pub stale: bool,
    /// `userhash=true` (RFC 7616 §3.4.4).
    pub userhash: bool,
}

/// Splits `name=value, name="quoted, value"` into pairs (names lower-cased, quotes removed).
fn auth_params(s: &str) -> Result<Vec<(String, String)>, DigestError> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let (name, after) = rest
            .split_once('=')
            .ok_or_else(|| DigestError::Malformed(format!("no `=` in {rest:?}")))?;
        let name = name.trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remainder) = if let Some(q) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut escaped = false;
            let mut end = None;
            for (i, c) in q.char_indices() {
                if escaped {
                    value.push(c);
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    end = Some(i);
                    break;
                } else {
                    value.push(c);
                }
            }
            let end =
                end.ok_or_else(|| DigestError::Malformed(format!("unterminated quote in {name}")))?;
            (value, &q[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        out.push((name, value));
        rest = remainder.trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    Ok(out)
}

impl Challenge {
    /// Parses a challenge value such as
    /// `Digest realm="atlanta.com", nonce="…", qop="auth,auth-int", algorithm=SHA-256`.
    ///
    /// # Errors
    /// [`DigestError`] for a non-Digest scheme, a malformed list, a missing realm or nonce, an
    /// unknown algorithm, or a qop list with nothing we implement.
    pub fn parse(value: &str) -> Result<Challenge, DigestError> {
        let value = value.trim();
        let (scheme, params) = value.split_once([' ', '\t']).unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(DigestError::Scheme(scheme.to_string()));
        }
        let params = auth_params(params)?;
        let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let algorithm_token = get("algorithm").unwrap_or_else(|| "MD5".into());
        let upper = algorithm_token.to_ascii_uppercase();
        let (base, session) = match upper.strip_suffix("-SESS") {
            Some(b) => (b, true),
            None => (upper.as_str(), false),
        };
        let algorithm = match base {
            "MD5" => Algorithm::Md5,
            "SHA-256" => Algorithm::Sha256,
            "SHA-512-256" => Algorithm::Sha512_256,
            _ => return Err(DigestError::Algorithm(algorithm_token)),
        };
        let qop = match get("qop") {
            None => Vec::new(),
            Some(list) => {
                let known: Vec<Qop> = list
                    .split(',')
                    .filter_map(|q| match q.trim().to_ascii_lowercase().as_str() {
                        "auth" => Some(Qop::Auth),
                        "auth-int" => Some(Qop::AuthInt),
                        _ => None,
                    })
                    .collect();
                if known.is_empty() {
                    return Err(DigestError::Qop(list));
                }
                known
            }
        };
        Ok(Challenge {
            realm: get("realm").ok_or(DigestError::Missing("realm"))?,
            nonce: get("nonce").ok_or(DigestError::Missing("nonce"))?,
            opaque: get("opaque"),
            algorithm,
            session,
            qop,
            stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
            userhash: get("userhash").is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }

    /// The algorithm token as the server wrote it (`MD5-sess`, `SHA-256`, …).
    pub fn algorithm_name(&self) -> String {
        format!(
            "{}{}",
            self.algorithm.token(),
            if self.session { "-sess" } else { "" }
        )
    }

    /// The qop we answer with: `auth` when offered (or `auth-int` when `prefer_auth_int` and
    /// offered), else whatever is offered; `None` for an RFC 2069 challenge without qop.
    pub fn qop_to_use(&self, prefer_auth_int: bool) -> Option<Qop> {
        if prefer_auth_int && self.qop.contains(&Qop::AuthInt) {
            Some(Qop::AuthInt)
        } else if self.qop.contains(&Qop::Auth) {
            Some(Qop::Auth)
        } else {
            self.qop.first().copied()
        }
    }

    /// Picks the challenge to answer from several header values: the first one we support
    /// (RFC 8760 §2.4). Returns the parse errors of the ones skipped.
    pub fn choose<'a>(
        values: impl IntoIterator<Item = &'a str>,
    ) -> (Option<Challenge>, Vec<DigestError>) {
        let mut errors = Vec::new();
        for v in values {
            match Challenge::parse(v) {
                Ok(c) => return (Some(c), errors),
                Err(e) => errors.push(e),
            }
        }
        (None, errors)
    }
}

/// What the client answers with: everything but the password, which is consumed.
#[derive(Clone, PartialEq, Eq)]
pub struct Authorization {
    /// Header value, e.g. `Digest username="alice", realm=…, response="…"`.
    value: String,
    /// The qop used.
    pub qop: Option<Qop>,
    /// Nonce count used (RFC 7616 §3.4).
    pub nc: u32,
}

impl Authorization {
    /// The header value to send. It contains the digest response: never log it; use
    /// [`redact`] for traces.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Authorization({})", redact_value(&self.value))
    }
}

/// The inputs of one response computation (RFC 7616 §3.4.1).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// SIP method (`REGISTER`).
    pub method: &'a str,
    /// digest-uri: the Request-URI as sent.
    pub uri: &'a str,
    /// Message body, for `auth-int`.
    pub body: &'a [u8],
}

/// Computes the Authorization value answering `challenge`.
///
/// `nc` is the nonce count (1 for the first use of a nonce), `cnonce` a fresh client nonce.
/// Prefers `auth` over `auth-int` when both are offered; `prefer_auth_int` flips that.
pub fn authorize(
    challenge: &Challenge,
    username: &str,
    password: &str,
    request: Request<'_>,
    nc: u32,
    cnonce: &str,
    prefer_auth_int: bool,
) -> Authorization {
    let alg = challenge.algorithm;
    let qop = challenge.qop_to_use(prefer_auth_int);
    let mut ha1 = alg.hash_hex(format!("{username}:{}:{password}", challenge.realm).as_bytes());
    if challenge.session {
        ha1 = alg.hash_hex(format!("{ha1}:{}:{cnonce}", challenge.nonce).as_bytes());
    }
    let ha2 = match qop {
        Some(Qop::AuthInt) => alg.hash_hex(
            format!(
                "{}:{}:{}",
                request.method,
                request.uri,
                alg.hash_hex(request.body)
            )
            .as_bytes(),
        ),
        _ => alg.hash_hex(format!("{}:{}", request.method, request.uri).as_bytes()),
    };
    let nc_hex = format!("{nc:08x}");
    let response = match qop {
        Some(q) => alg.hash_hex(
            format!(
                "{ha1}:{}:{nc_hex}:{cnonce}:{}:{ha2}",
                challenge.nonce,
                qop_token(q)
            )
            .as_bytes(),
        ),
        None => alg.hash_hex(format!("{ha1}:{}:{ha2}", challenge.nonce).as_bytes()),
    };
    let user = if challenge.userhash {
        alg.hash_hex(format!("{username}:{}", challenge.realm).as_bytes())
    } else {
        username.to_string()
    };
    let mut value = format!(
        "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{response}\", algorithm={}",
        quote(&user),
        quote(&challenge.realm),
        quote(&challenge.nonce),
        quote(request.uri),
        challenge.algorithm_name()
    );
    if let Some(q) = qop {
        value.push_str(&format!(
            ", qop={}, nc={nc_hex}, cnonce=\"{}\"",
            qop_token(q),
            quote(cnonce)
        ));
    }
    if let Some(o) = &challenge.opaque {
        value.push_str(&format!(", opaque=\"{}\"", quote(o)));
    }
    if challenge.userhash {
        value.push_str(", userhash=true");
    }
    Authorization { value, qop, nc }
}

fn qop_token(q: Qop) -> &'static str {
    q.token()
}

impl Qop {
    /// The token as written in challenges and credentials.
    pub fn token(self) -> &'static str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }
}

fn quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Replaces the `response` parameter of an Authorization value with `<redacted>`.
pub fn redact_value(value: &str) -> String {
    let lower = value.to_ascii_lowercase();
    let Some(start) = lower.find("response=") else {
        return value.to_string();
    };
    let after = start + "response=".len();
    let end = if value[after..].starts_with('"') {
        value[after + 1..]
            .find('"')
            .map_or(value.len(), |i| after + i + 2)
    } else {
        value[after..].find(',').map_or(value.len(), |i| after + i)
    };
    format!("{}\"<redacted>\"{}", &value[..after], &value[end..])
}

/// Redacts the digest response in every Authorization / Proxy-Authorization line of a SIP
/// message's text, for traces (`-v`).
pub fn redact(message: &str) -> String {
    message
        .split_inclusive('\n')
        .map(|line| {
            let name = line.split(':').next().unwrap_or("").trim();
            if name.eq_ignore_ascii_case("Authorization")
                || name.eq_ignore_ascii_case("Proxy-Authorization")
            {
                redact_value(line)
            } else {
                line.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response_of(a: &Authorization) -> String {
        let v = a.value();
        let s = v.find("response=\"").unwrap() + 10;
        v[s..s + v[s..].find('"').unwrap()].to_string()
    }

    /// RFC 2617 §3.5: MD5, qop=auth.
    #[test]
    fn rfc2617_example() {
        let c = Challenge::parse(
            "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", \
             opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
        )
        .unwrap();
        assert_eq!(c.qop, [Qop::Auth, Qop::AuthInt]);
        let a = authorize(
            &c,
            "Mufasa",
            "Circle Of Life",
            Request {
                method: "GET",
                uri: "/dir/index.html",
                body: b"",
            },
            1,
            "0a4f113b",
            false,
        );
        assert_eq!(response_of(&a), "6629fae49393a05397450978507c4ef1");
        assert!(a.value().contains("nc=00000001"));
        assert!(a.value().contains("qop=auth,"));
    }

    /// RFC 7616 §3.9.1: the same request with MD5 and with SHA-256.
    #[test]
    fn rfc7616_examples() {
        let req = Request {
            method: "GET",
            uri: "/dir/index.html",
            body: b"",
        };
        let nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        for (alg, expected) in [
            ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
            (
                "SHA-256",
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            ),
        ] {
            let c = Challenge::parse(&format!(
                "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", \
                 algorithm={alg}, nonce=\"{nonce}\", \
                 opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
            ))
            .unwrap();
            let a = authorize(&c, "Mufasa", "Circle of Life", req, 1, cnonce, false);
            assert_eq!(response_of(&a), expected, "{alg}");
        }
    }

    /// RFC 7616 §3.9.2: SHA-512-256 with userhash. The RFC's printed username hash and
    /// response are not of its inputs (erratum 4897); these are the erratum's values.
    #[test]
    fn rfc7616_sha512_256_userhash() {
        let c = Challenge::parse(
            "Digest realm=\"api@example.org\", qop=\"auth\", algorithm=SHA-512-256, \
             nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", \
             opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", charset=UTF-8, userhash=true",
        )
        .unwrap();
        assert_eq!(c.algorithm, Algorithm::Sha512_256);
        let a = authorize(
            &c,
            "J\u{e4}s\u{f8}n Doe",
            "Secret, or not?",
            Request {
                method: "GET",
                uri: "/doe.json",
                body: b"",
            },
            1,
            "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
            false,
        );
        assert!(
            a.value()
                .contains("793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b"),
            "userhash"
        );
        assert_eq!(
            response_of(&a),
            "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5"
        );
    }

    /// MD5-sess and auth-int follow the RFC 7616 §3.4.2/§3.4.3 formulas (checked against an
    /// independent computation: HA1 = H(H(u:r:p):nonce:cnonce), HA2 = H(m:uri:H(body))).
    #[test]
    fn sess_and_auth_int_formulas() {
        let c = Challenge::parse(
            "Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess, qop=\"auth-int\"",
        )
        .unwrap();
        assert!(c.session);
        let a = authorize(
            &c,
            "u",
            "p",
            Request {
                method: "REGISTER",
                uri: "sip:r",
                body: b"",
            },
            10,
            "c",
            true,
        );
        let h = |s: &str| hex::encode(Md5::digest(s.as_bytes()));
        let ha1 = h(&format!("{}:n:c", h("u:r:p")));
        let ha2 = h(&format!("REGISTER:sip:r:{}", h("")));
        let expected = h(&format!("{ha1}:n:0000000a:c:auth-int:{ha2}"));
        assert_eq!(response_of(&a), expected);
        assert!(a.value().contains("nc=0000000a"));
        assert!(a.value().contains("algorithm=MD5-sess"));
    }

    #[test]
    fn challenge_errors_and_choice() {
        assert!(matches!(
            Challenge::parse("Basic realm=\"x\""),
            Err(DigestError::Scheme(_))
        ));
        assert!(matches!(
            Challenge::parse("Digest realm=\"x\", nonce=\"y\", algorithm=SHA-1"),
            Err(DigestError::Algorithm(_))
        ));
        assert!(matches!(
            Challenge::parse("Digest realm=\"x\""),
            Err(DigestError::Missing("nonce"))
        ));
        assert!(Challenge::parse("Digest realm=\"x, nonce=\"y\"").is_err());
        let stale = Challenge::parse("Digest realm=\"x\", nonce=\"y\", stale=TRUE").unwrap();
        assert!(stale.stale);
        let (c, skipped) = Challenge::choose([
            "Digest realm=\"x\", nonce=\"1\", algorithm=SHA-1",
            "Digest realm=\"x\", nonce=\"2\", algorithm=SHA-256",
        ]);
        assert_eq!(c.unwrap().algorithm, Algorithm::Sha256);
        assert_eq!(skipped.len(), 1);
    }

    #[test]
    fn redaction_hides_only_the_response() {
        let c = Challenge::parse("Digest realm=\"x\", nonce=\"y\", qop=auth").unwrap();
        let a = authorize(
            &c,
            "alice",
            "secret",
            Request {
                method: "REGISTER",
                uri: "sip:x",
                body: b"",
            },
            1,
            "c",
            false,
        );
        let secret = response_of(&a);
        let text = format!(
            "REGISTER sip:x SIP/2.0\r\nAuthorization: {}\r\n\r\n",
            a.value()
        );
        let red = redact(&text);
        assert!(!red.contains(&secret));
        assert!(red.contains("username=\"alice\""));
        assert!(red.contains("response=\"<redacted>\""));
        assert!(!format!("{a:?}").contains(&secret));
    }
}
