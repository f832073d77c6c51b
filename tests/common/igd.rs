//! A minimal UPnP IGD on loopback for tests: an HTTP server whose answers a route closure
//! chooses, and the documents it serves (device description, SCPD, SOAP answers and faults).
//! `--gateway URL` points voipdiag at it, so no root, lab or SSDP is needed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The WAN IP connection service type.
pub const WANIP: &str = "urn:schemas-upnp-org:service:WANIPConnection:1";

/// One HTTP request as the route sees it.
pub struct Request {
    /// `GET /desc.xml HTTP/1.1` and the like.
    pub line: String,
    /// The SOAPAction's action name, empty for a GET.
    pub action: String,
    /// The body (SOAP arguments).
    pub body: String,
}

/// An HTTP server on `ip` (any port) answering each request, after `delay`, with
/// `route(request) = (status, body)`; at most 5000 connections. Its port and the number of
/// connections it took.
pub fn http_server(
    ip: &str,
    delay: Duration,
    route: impl Fn(&Request) -> (String, String) + Send + Sync + 'static,
) -> (u16, Arc<AtomicU32>) {
    let listener = TcpListener::bind((ip, 0)).expect("bind the IGD");
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&hits);
    let route = Arc::new(route);
    std::thread::spawn(move || {
        for s in listener.incoming().take(5000).flatten() {
            counted.fetch_add(1, Ordering::Relaxed);
            let route = Arc::clone(&route);
            std::thread::spawn(move || serve(s, delay, &*route));
        }
    });
    (port, hits)
}

fn serve(s: TcpStream, delay: Duration, route: &dyn Fn(&Request) -> (String, String)) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(clone) = s.try_clone() else { return };
    let mut reader = BufReader::new(clone);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let (mut length, mut action) = (0usize, String::new());
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
        let lower = header.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("soapaction:") {
            action = header
                .rsplit('#')
                .next()
                .unwrap_or("")
                .trim()
                .trim_end_matches('"')
                .into();
        }
    }
    let mut body = vec![0u8; length.min(1 << 16)];
    let _ = reader.read_exact(&mut body);
    std::thread::sleep(delay);
    let request = Request {
        line,
        action,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let (status, text) = route(&request);
    let mut s = s;
    let _ = write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
}

/// A root device description: an IGD named `name` whose WAN IP connection service has its
/// control URL `/ctl` and its SCPD at `scpd_url` (URLBase `base`, may be empty).
pub fn description(base: &str, name: &str, scpd_url: &str) -> String {
    description_urls(base, name, "/ctl", scpd_url)
}

/// As [`description`] with the WANIPConnection control URL given too (relative or not).
pub fn description_urls(base: &str, name: &str, control_url: &str, scpd_url: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><URLBase>{base}</URLBase><device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><friendlyName>{name}</friendlyName><UDN>uuid:{name}</UDN><deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType><deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType><serviceList><service><serviceType>{WANIP}</serviceType><controlURL>{control_url}</controlURL><SCPDURL>{scpd_url}</SCPDURL></service></serviceList></device></deviceList></device></deviceList></device></root>"#
    )
}

/// A service description listing `actions` (name, input argument names).
pub fn scpd(actions: &[(&str, &[&str])]) -> String {
    let list: String = actions
        .iter()
        .map(|(name, args)| {
            let args: String = args
                .iter()
                .map(|a| format!("<argument><name>{a}</name><direction>in</direction></argument>"))
                .collect();
            format!("<action><name>{name}</name><argumentList>{args}</argumentList></action>")
        })
        .collect();
    format!(
        r#"<?xml version="1.0"?><scpd xmlns="urn:schemas-upnp-org:service-1-0"><actionList>{list}</actionList></scpd>"#
    )
}

/// A SOAP envelope around `body`.
pub fn envelope(body: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>{body}</s:Body></s:Envelope>"#
    )
}

/// A UPnP error answer (UPnP Device Architecture §3.2.2).
pub fn fault(code: u16, text: &str) -> String {
    envelope(&format!(
        r#"<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>{code}</errorCode><errorDescription>{text}</errorDescription></UPnPError></detail></s:Fault>"#
    ))
}

/// A successful answer to `action` with `args` (already XML).
pub fn ok(action: &str, args: &str) -> String {
    envelope(&format!(
        r#"<u:{action}Response xmlns:u="{WANIP}">{args}</u:{action}Response>"#
    ))
}
