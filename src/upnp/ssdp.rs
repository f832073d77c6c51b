//! SSDP search (UPnP Device Architecture §1.3) as a sans-IO machine: M-SEARCH for an
//! Internet gateway to 239.255.255.250:1900, sent again on the RFC 6886-like schedule of
//! [`super::schedule`], and the LOCATION of each answer. A location is taken only when its
//! host is the host that answered (and, with `--gateway`, that gateway), so an answer cannot
//! send us to a third host. The machine stops at each new location; the caller reads the
//! description and, when it is no gateway, resumes the search with [`SsdpSearch::resume`].

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::SendSchedule;
use super::igd::split_url;
use crate::machine::{Input, Machine, Transmit};

/// The SSDP multicast group and port.
pub const SSDP_GROUP: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(239, 255, 255, 250)), 1900);

/// Search targets: the gateway device and its WAN connection services.
const TARGETS: &[&str] = &[
    "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
    "urn:schemas-upnp-org:service:WANIPConnection:1",
    "urn:schemas-upnp-org:service:WANPPPConnection:1",
];

/// Most answers kept (a LAN floods only so much).
const MAX_ANSWERS: usize = 32;

/// The M-SEARCH requests, one per target.
pub fn requests() -> Vec<Vec<u8>> {
    TARGETS
        .iter()
        .map(|st| {
            format!(
                "M-SEARCH * HTTP/1.1\r\nHost: {SSDP_GROUP}\r\nST: {st}\r\nMan: \"ssdp:discover\"\r\nMX: 2\r\n\r\n"
            )
            .into_bytes()
        })
        .collect()
}

/// The LOCATION URL of an SSDP answer (`HTTP/1.1 200 OK` with a LOCATION header), if it is
/// one.
pub fn location(answer: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(answer).ok()?;
    let mut lines = text.split("\r\n").flat_map(|l| l.split('\n'));
    if !lines.next()?.starts_with("HTTP/1.1 200") {
        return None;
    }
    lines.find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("location")
            .then(|| value.trim().to_string())
    })
}

/// The search (see the module documentation).
#[derive(Debug)]
pub struct SsdpSearch {
    schedule: SendSchedule,
    only: Option<IpAddr>,
    transmits: VecDeque<Transmit>,
    seen: Vec<String>,
    found: Option<(SocketAddr, String)>,
    ignored: u32,
    over: bool,
}

impl SsdpSearch {
    /// A search from `start` for at most `bound`; `only` keeps answers of that host.
    pub fn new(start: Instant, bound: Duration, only: Option<IpAddr>) -> Self {
        let mut s = SsdpSearch {
            schedule: SendSchedule::new(start, bound),
            only,
            transmits: VecDeque::new(),
            seen: Vec::new(),
            found: None,
            ignored: 0,
            over: false,
        };
        s.release(start);
        s
    }

    /// The location found (the answering host and the URL), until [`SsdpSearch::resume`].
    pub fn found(&self) -> Option<&(SocketAddr, String)> {
        self.found.as_ref()
    }

    /// Goes on searching after the caller rejected the location found.
    pub fn resume(&mut self) {
        self.found = None;
    }

    /// Answers ignored (not SSDP, another host's location, over the limit).
    pub fn ignored(&self) -> u32 {
        self.ignored
    }

    fn release(&mut self, now: Instant) {
        let due = self.schedule.due(now);
        if due {
            for r in requests() {
                self.transmits.push_back(Transmit {
                    socket: 0,
                    destination: SSDP_GROUP,
                    payload: r,
                });
            }
        }
    }
}

impl Machine for SsdpSearch {
    type Event = ();

    fn handle_input(&mut self, _now: Instant, input: Input<'_>) {
        let Input::Message { from, data, .. } = input else {
            return;
        };
        let Some(url) = location(data) else {
            self.ignored += 1;
            return;
        };
        let host_ok = split_url(&url).is_ok_and(|(a, _)| a.ip() == from.ip());
        let allowed = self.only.is_none_or(|g| g == from.ip());
        if !host_ok || !allowed || self.seen.len() >= MAX_ANSWERS || self.seen.contains(&url) {
            self.ignored += 1;
            return;
        }
        self.seen.push(url.clone());
        if self.found.is_none() {
            self.found = Some((from, url));
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.schedule.expired(now) {
            self.over = true;
            return;
        }
        self.release(now);
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    fn poll_event(&mut self) -> Option<()> {
        None
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.over {
            return None;
        }
        Some(self.schedule.next_wakeup())
    }

    /// Done at each new location, and when the bound is over.
    fn is_done(&self) -> bool {
        self.found.is_some() || self.over
    }

    fn interrupt(&mut self, _now: Instant) {
        self.over = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::simulate;

    fn answer(location: &str) -> Vec<u8> {
        format!(
            "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: upnp:rootdevice\r\n\
             LOCATION: {location}\r\n\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn locations_only_from_the_host_that_answered() {
        assert_eq!(
            location(&answer("http://192.168.1.1:5000/rootDesc.xml")).as_deref(),
            Some("http://192.168.1.1:5000/rootDesc.xml")
        );
        assert_eq!(location(b"NOTIFY * HTTP/1.1\r\n\r\n"), None);
        #[allow(clippy::disallowed_methods)]
        let t0 = Instant::now();
        let gw: SocketAddr = "192.168.1.1:1900".parse().unwrap();
        let liar: SocketAddr = "192.168.1.66:1900".parse().unwrap();
        let mut s = SsdpSearch::new(t0, Duration::from_secs(2), None);
        simulate(
            &mut s,
            t0,
            100,
            |_, t| {
                assert_eq!(t.destination, SSDP_GROUP);
                let d = Duration::from_millis(3);
                vec![
                    // Another host pointing at the gateway, then at itself wrongly, then the gateway.
                    (d, 0, liar, answer("http://192.168.1.1:5000/evil.xml")),
                    (d, 0, liar, b"junk".to_vec()),
                    (d, 0, gw, answer("http://192.168.1.1:5000/rootDesc.xml")),
                ]
            },
            |_, _, _| {},
        );
        assert_eq!(
            s.found().map(|f| f.1.as_str()),
            Some("http://192.168.1.1:5000/rootDesc.xml")
        );
        assert_eq!(s.ignored(), 2);
        // Nothing else: the search ends with the bound.
        s.resume();
        let end = simulate(&mut s, t0, 100, |_, _| vec![], |_, _, _| {});
        assert!(s.found().is_none());
        assert_eq!(end - t0, Duration::from_secs(2));
    }
}
