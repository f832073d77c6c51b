//! What the server saw of us, from the top Via of its response: `received` (RFC 3261
//! §18.2.1) and `rport` (RFC 3581 §4) — the reflexive transport address, as STUN would say.

use std::net::{IpAddr, SocketAddr};

use super::message::Message;

/// The reflexive address of a response's top Via.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReflexiveAddress {
    /// `received` as returned.
    pub received: Option<String>,
    /// `rport` as returned (`None` also when the server left it empty).
    pub rport: Option<u16>,
    /// The source address the server saw: received (or the sent-by host when absent, per
    /// RFC 3261 §18.2.1) with rport (or the sent-by port).
    pub seen: Option<SocketAddr>,
}

impl ReflexiveAddress {
    /// Reads it from a response's top Via.
    pub fn from_response(response: &Message) -> ReflexiveAddress {
        let Some(via) = response.top_via() else {
            return ReflexiveAddress::default();
        };
        let received = via.received().map(str::to_string);
        let rport = via.rport().flatten();
        let ip = received
            .as_deref()
            .or(Some(via.host.as_str()))
            .and_then(|h| h.trim_matches(['[', ']']).parse::<IpAddr>().ok());
        let port = rport.or(via.port);
        ReflexiveAddress {
            received,
            rport,
            seen: ip.zip(port).map(|(i, p)| SocketAddr::new(i, p)),
        }
    }

    /// Whether the seen address differs from `local` (a NAT between): `None` when unknown.
    pub fn nat_detected(&self, local: SocketAddr) -> Option<bool> {
        self.seen.map(|s| s != local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(via: &str) -> Message {
        Message::parse(
            format!("SIP/2.0 200 OK\r\nVia: {via}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
                .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn reflexive_address_from_via() {
        let local: SocketAddr = "10.0.0.2:5060".parse().unwrap();
        let v = ReflexiveAddress::from_response(&response(
            "SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa;received=203.0.113.1;rport=40000",
        ));
        assert_eq!(v.seen, Some("203.0.113.1:40000".parse().unwrap()));
        assert_eq!(v.nat_detected(local), Some(true));
        // No received: the server saw the sent-by host; rport equal → no NAT.
        let v = ReflexiveAddress::from_response(&response(
            "SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa;rport=5060",
        ));
        assert_eq!(v.nat_detected(local), Some(false));
        // Host name sent-by and no received: unknown.
        let v = ReflexiveAddress::from_response(&response(
            "SIP/2.0/UDP host.invalid:5060;branch=z9hG4bKa",
        ));
        assert_eq!(v.nat_detected(local), None);
    }
}
