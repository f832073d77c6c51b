//! `name-addr` / `addr-spec` with header parameters (RFC 3261 §20.10, §25.1): To, From,
//! Contact, Route and the like.

use super::grammar::parse_params;
use super::is_token;

/// A `name-addr` or `addr-spec` with header parameters, as in To, From, Contact, Route
/// (RFC 3261 §20.10, §25.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name, unquoted, when present.
    pub display: Option<String>,
    /// The URI, without `<>`.
    pub uri: String,
    /// Header parameters (`tag`, `expires`, `q`, …), names lower-cased.
    pub params: Vec<(String, Option<String>)>,
}

impl NameAddr {
    /// Parses `"Name" <uri>;params`, `Name <uri>;params` or `uri;params`.
    ///
    /// # Errors
    /// A description of the first grammar violation: an unterminated quoted string, an
    /// unquoted display name with separators, whitespace inside `<>`, a bare URI with `?` or
    /// `,` (which needs `<>`), an empty parameter.
    pub fn parse(v: &str) -> Result<NameAddr, String> {
        let v = v.trim();
        let (display, after_display) = if let Some(rest) = v.strip_prefix('"') {
            let mut escaped = false;
            let mut end = None;
            for (i, c) in rest.char_indices() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let end = end.ok_or("unterminated quoted display name")?;
            let after = rest[end + 1..].trim_start();
            if !after.starts_with('<') {
                return Err("a quoted display name must be followed by <URI>".into());
            }
            (Some(unescape(&rest[..end])), after)
        } else if let Some(lt) = v.find('<') {
            let name = v[..lt].trim();
            if !name.split_whitespace().all(is_token) {
                return Err(format!(
                    "display name {name:?} has characters that need quoting"
                ));
            }
            ((!name.is_empty()).then(|| name.to_string()), &v[lt..])
        } else {
            // addr-spec: the parameters after the first ';' belong to the header.
            let (uri, params) = match v.split_once(';') {
                Some((u, p)) => (u.trim(), p),
                None => (v, ""),
            };
            if uri.contains(['?', ',', ' ']) {
                return Err(format!(
                    "URI {uri:?} contains `?`, `,` or space and must be enclosed in <>"
                ));
            }
            check_uri(uri)?;
            return Ok(NameAddr {
                display: None,
                uri: uri.to_string(),
                params: parse_params(params)?,
            });
        };
        let inner = after_display.strip_prefix('<').ok_or("expected `<`")?;
        let (uri, after) = inner.split_once('>').ok_or("unterminated `<`")?;
        if uri != uri.trim() {
            return Err(format!("whitespace inside <{uri}>"));
        }
        check_uri(uri)?;
        let after = after.trim_start();
        let params = match after.strip_prefix(';') {
            Some(p) => parse_params(p)?,
            None if after.is_empty() => Vec::new(),
            None => return Err(format!("junk after <URI>: {after:?}")),
        };
        Ok(NameAddr {
            display,
            uri: uri.to_string(),
            params,
        })
    }

    /// The `tag` parameter (RFC 3261 §19.3).
    pub fn tag(&self) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == "tag")
            .and_then(|(_, v)| v.as_deref())
    }

    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut escaped = false;
    for c in s.chars() {
        if escaped || c != '\\' {
            out.push(c);
            escaped = false;
        } else {
            escaped = true;
        }
    }
    out
}

/// A URI needs a scheme (`absoluteURI`, RFC 3261 §25.1) and no whitespace.
fn check_uri(uri: &str) -> Result<(), String> {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Err(format!("URI {uri:?} has no scheme"));
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok || rest.is_empty() || uri.contains(char::is_whitespace) {
        return Err(format!("bad URI {uri:?}"));
    }
    Ok(())
}
