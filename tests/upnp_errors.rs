//! `upnp-map` against UPnP error answers miniupnpd never gives: 725
//! OnlyPermanentLeasesSupported (voipdiag retries with lease 0 and says so) and 606 Action
//! not authorized. A minimal IGD on loopback serves a description, an SCPD and the SOAP
//! answers; `--gateway URL` skips SSDP, so no root and no lab are needed. (The real
//! miniupnpd is tested in lab_upnp.rs; this covers only the answers it cannot produce.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::Value;

mod common;

const SERVICE: &str = "urn:schemas-upnp-org:service:WANIPConnection:1";

fn description(port: u16) -> String {
    format!(
        r#"<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><URLBase>http://127.0.0.1:{port}</URLBase><device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><friendlyName>strict router</friendlyName><UDN>uuid:strict</UDN><deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType><deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType><serviceList><service><serviceType>{SERVICE}</serviceType><controlURL>/ctl</controlURL><SCPDURL>/scpd.xml</SCPDURL></service></serviceList></device></deviceList></device></deviceList></device></root>"#
    )
}

fn scpd() -> String {
    let action = |name: &str, args: &[&str]| {
        let args: String = args
            .iter()
            .map(|a| format!("<argument><name>{a}</name><direction>in</direction></argument>"))
            .collect();
        format!("<action><name>{name}</name><argumentList>{args}</argumentList></action>")
    };
    format!(
        r#"<?xml version="1.0"?><scpd xmlns="urn:schemas-upnp-org:service-1-0"><actionList>{}{}</actionList></scpd>"#,
        action(
            "AddPortMapping",
            &[
                "NewRemoteHost",
                "NewExternalPort",
                "NewProtocol",
                "NewInternalPort",
                "NewInternalClient",
                "NewEnabled",
                "NewPortMappingDescription",
                "NewLeaseDuration",
            ]
        ),
        action(
            "DeletePortMapping",
            &["NewRemoteHost", "NewExternalPort", "NewProtocol"]
        )
    )
}

fn envelope(body: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>{body}</s:Body></s:Envelope>"#
    )
}

fn fault(code: u16, text: &str) -> String {
    envelope(&format!(
        r#"<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>{code}</errorCode><errorDescription>{text}</errorDescription></UPnPError></detail></s:Fault>"#
    ))
}

fn ok(action: &str, args: &str) -> String {
    envelope(&format!(
        r#"<u:{action}Response xmlns:u="{SERVICE}">{args}</u:{action}Response>"#
    ))
}

/// Answers one HTTP request on `s`; records the lease of each AddPortMapping.
fn serve(mut s: TcpStream, port: u16, leases: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let (mut length, mut action) = (0usize, String::new());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("soapaction:") {
            action = line
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
    let body = String::from_utf8_lossy(&body);
    let (status, text) = if request_line.starts_with("GET /rootDesc.xml") {
        ("200 OK", description(port))
    } else if request_line.starts_with("GET /scpd.xml") {
        ("200 OK", scpd())
    } else {
        match action.as_str() {
            "GetExternalIPAddress" => (
                "200 OK",
                ok(
                    &action,
                    "<NewExternalIPAddress>203.0.113.9</NewExternalIPAddress>",
                ),
            ),
            "GetStatusInfo" => (
                "200 OK",
                ok(
                    &action,
                    "<NewConnectionStatus>Connected</NewConnectionStatus>",
                ),
            ),
            "AddPortMapping" => {
                let lease = body
                    .split("<NewLeaseDuration>")
                    .nth(1)
                    .and_then(|r| r.split('<').next())
                    .unwrap_or("?")
                    .to_string();
                leases.lock().unwrap().push(lease.clone());
                if lease == "0" {
                    ("200 OK", ok(&action, ""))
                } else {
                    (
                        "500 Internal Server Error",
                        fault(725, "OnlyPermanentLeasesSupported"),
                    )
                }
            }
            "DeletePortMapping" => (
                "500 Internal Server Error",
                fault(606, "Action not authorized"),
            ),
            // GetGenericPortMappingEntry and anything else: the end of the list.
            _ => (
                "500 Internal Server Error",
                fault(713, "SpecifiedArrayIndexInvalid"),
            ),
        }
    };
    let _ = write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
}

fn voipdiag(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--timeout", "2s", "upnp-map"];
    all.extend_from_slice(args);
    common::voipdiag_json(&all)
}

#[test]
fn permanent_leases_only_is_retried_with_lease_0_and_606_is_named() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let leases = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&leases);
    std::thread::spawn(move || {
        // Bounded: the two runs below make fewer than 40 requests.
        for stream in listener.incoming().take(64).flatten() {
            serve(stream, port, &seen);
        }
    });
    let url = format!("http://127.0.0.1:{port}/rootDesc.xml");

    let (code, r) = voipdiag(&[
        "add",
        "udp",
        "5060",
        "--protocol",
        "upnp",
        "--gateway",
        &url,
        "--lease",
        "3600",
    ]);
    assert_eq!(code, 0, "{r:#}");
    let res = &r["result"];
    assert_eq!(res["gateway"]["friendly_name"], "strict router");
    assert_eq!(res["external_address"], "203.0.113.9");
    let o = &res["outcome"];
    assert_eq!(o["ok"], true, "{o}");
    assert_eq!(o["mapping"]["lease_s"], 0, "{o}");
    let note = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "MAPPING_NOTE")
        .unwrap_or_else(|| panic!("no note about the retry: {r:#}"));
    assert!(
        note["message"]
            .as_str()
            .unwrap()
            .contains("725 OnlyPermanentLeasesSupported"),
        "{note}"
    );
    assert_eq!(*leases.lock().unwrap(), ["3600", "0"]);

    let (code, r) = voipdiag(&[
        "delete",
        "udp",
        "5060",
        "--protocol",
        "upnp",
        "--gateway",
        &url,
    ]);
    assert_eq!(code, 1, "{r:#}");
    let o = &r["result"]["outcome"];
    assert_eq!(o["error_code"], 606);
    assert_eq!(o["error"], "Action not authorized");
    let failed = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "MAPPING_FAILED")
        .unwrap_or_else(|| panic!("{r:#}"));
    assert!(
        failed["message"].as_str().unwrap().contains("606"),
        "{failed}"
    );
}
