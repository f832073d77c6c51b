//! Reading TURN servers and credentials from what web applications hand out: a WebRTC
//! `iceServers` list (W3C WebRTC §4.2.1 `RTCIceServer`: `urls` as a string or a list,
//! `username`, `credential`), wrapped in `{"iceServers": [...]}` or bare, and a TURN REST API
//! response (`{"username", "password", "ttl", "uris"}`, draft-uberti-behave-turn-rest-00 §2.2).

use serde_json::Value;

/// One server entry: its TURN URIs (stun: URIs are left out) and credential.
#[derive(Clone, PartialEq, Eq)]
pub struct IceServer {
    /// `turn:` / `turns:` URIs as given.
    pub urls: Vec<String>,
    /// User name.
    pub username: Option<String>,
    /// Password (the `credential`); never shown.
    pub credential: Option<String>,
}

impl std::fmt::Debug for IceServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IceServer")
            .field("urls", &self.urls)
            .field("username", &self.username)
            .field("credential", &self.credential.as_ref().map(|_| "***"))
            .finish()
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

fn is_turn(u: &str) -> bool {
    let l = u.trim().to_ascii_lowercase();
    l.starts_with("turn:") || l.starts_with("turns:")
}

/// Parses the JSON text; errors say what shape was expected.
pub fn parse(text: &str) -> Result<Vec<IceServer>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let entry = |o: &Value, urls_key: &str, cred_key: &str| IceServer {
        urls: strings(o.get(urls_key))
            .into_iter()
            .chain(strings(o.get("url")))
            .filter(|u| is_turn(u))
            .collect(),
        username: o.get("username").and_then(Value::as_str).map(String::from),
        credential: o.get(cred_key).and_then(Value::as_str).map(String::from),
    };
    let list: Vec<IceServer> = match &v {
        Value::Object(o) if o.contains_key("uris") => vec![entry(&v, "uris", "password")],
        Value::Object(o) if o.contains_key("iceServers") => match o.get("iceServers") {
            Some(Value::Array(a)) => a.iter().map(|x| entry(x, "urls", "credential")).collect(),
            _ => return Err("\"iceServers\" is not a list".into()),
        },
        Value::Object(o) if o.contains_key("urls") || o.contains_key("url") => {
            vec![entry(&v, "urls", "credential")]
        }
        Value::Array(a) => a.iter().map(|x| entry(x, "urls", "credential")).collect(),
        _ => {
            return Err(
                "expected an iceServers list ({\"iceServers\": [{\"urls\", \"username\", \"credential\"}]}) or a TURN REST response ({\"username\", \"password\", \"ttl\", \"uris\"})"
                    .into(),
            );
        }
    };
    let list: Vec<IceServer> = list.into_iter().filter(|s| !s.urls.is_empty()).collect();
    if list.is_empty() {
        return Err("it names no turn: or turns: URI".into());
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webrtc_list_and_rest_response() {
        let l = parse(
            r#"{"iceServers":[{"urls":"stun:stun.example.org"},
                {"urls":["turn:t.example.org?transport=udp","turns:t.example.org"],
                 "username":"1700000000:bob","credential":"pw"}]}"#,
        )
        .unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].urls.len(), 2);
        assert_eq!(l[0].credential.as_deref(), Some("pw"));
        assert!(!format!("{l:?}").contains("pw\""));
        let r = parse(
            r#"{"username":"1700000000:bob","password":"x","ttl":86400,
                "uris":["turn:1.2.3.4:3478?transport=udp","turn:1.2.3.4:3478?transport=tcp"]}"#,
        )
        .unwrap();
        assert_eq!(r[0].urls.len(), 2);
        assert_eq!(r[0].credential.as_deref(), Some("x"));
        assert!(parse("[]").is_err());
        assert!(parse("{\"a\":1}").is_err());
        assert!(parse("nope").is_err());
    }
}
