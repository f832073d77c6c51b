//! `upnp-map` against UPnP error answers miniupnpd never gives: 725
//! OnlyPermanentLeasesSupported (voipdiag retries with lease 0 and says so) and 606 Action
//! not authorized. A minimal IGD on loopback serves a description, an SCPD and the SOAP
//! answers; `--gateway URL` skips SSDP, so no root and no lab are needed. (The real
//! miniupnpd is tested in lab_upnp.rs; this covers only the answers it cannot produce.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

mod common;

use common::igd::{self, Request};

/// The strict router: permanent leases only (725 for a timed one), deletions refused (606),
/// the list empty; records the lease of each AddPortMapping.
fn route(r: &Request, leases: &Mutex<Vec<String>>) -> (String, String) {
    let ok = |s: String| ("200 OK".to_string(), s);
    let error = |code, text| {
        (
            "500 Internal Server Error".to_string(),
            igd::fault(code, text),
        )
    };
    if r.line.starts_with("GET /rootDesc.xml") {
        return ok(igd::description("", "strict router", "/scpd.xml"));
    }
    if r.line.starts_with("GET /scpd.xml") {
        return ok(igd::scpd(&[
            (
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
                ],
            ),
            (
                "DeletePortMapping",
                &["NewRemoteHost", "NewExternalPort", "NewProtocol"],
            ),
        ]));
    }
    match r.action.as_str() {
        "GetExternalIPAddress" => ok(igd::ok(
            &r.action,
            "<NewExternalIPAddress>203.0.113.9</NewExternalIPAddress>",
        )),
        "GetStatusInfo" => ok(igd::ok(
            &r.action,
            "<NewConnectionStatus>Connected</NewConnectionStatus>",
        )),
        "AddPortMapping" => {
            let lease = r
                .body
                .split("<NewLeaseDuration>")
                .nth(1)
                .and_then(|r| r.split('<').next())
                .unwrap_or("?")
                .to_string();
            leases.lock().unwrap().push(lease.clone());
            if lease == "0" {
                ok(igd::ok(&r.action, ""))
            } else {
                error(725, "OnlyPermanentLeasesSupported")
            }
        }
        "DeletePortMapping" => error(606, "Action not authorized"),
        // GetGenericPortMappingEntry and anything else: the end of the list.
        _ => error(713, "SpecifiedArrayIndexInvalid"),
    }
}

fn voipdiag(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--timeout", "2s", "upnp-map"];
    all.extend_from_slice(args);
    common::voipdiag_json(&all)
}

#[test]
fn permanent_leases_only_is_retried_with_lease_0_and_606_is_named() {
    let leases = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&leases);
    let (port, _) = igd::http_server("127.0.0.1", Duration::ZERO, move |r| route(r, &seen));
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

/// A description at /upnp/desc.xml naming its control and SCPD URLs relatively, with no
/// URLBase: they resolve against the description's directory (RFC 3986 §5.2) to
/// /upnp/ctl and /upnp/scpd.xml. Asking /ctl instead got 404 and read "no gateway answered".
#[test]
fn relative_control_urls_resolve_against_the_description() {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&asked);
    let (port, _) = igd::http_server("127.0.0.1", Duration::ZERO, move |r| {
        seen.lock().unwrap().push(r.line.clone());
        let ok = |s: String| ("200 OK".to_string(), s);
        if r.line.starts_with("GET /upnp/desc.xml") {
            return ok(igd::description_urls(
                "",
                "relative router",
                "ctl",
                "scpd.xml",
            ));
        }
        if r.line.starts_with("GET /upnp/scpd.xml") {
            return ok(igd::scpd(&[("GetExternalIPAddress", &[])]));
        }
        if !r.line.starts_with("POST /upnp/ctl ") {
            return ("404 Not Found".to_string(), String::new());
        }
        match r.action.as_str() {
            "GetExternalIPAddress" => ok(igd::ok(
                &r.action,
                "<NewExternalIPAddress>203.0.113.9</NewExternalIPAddress>",
            )),
            "GetStatusInfo" => ok(igd::ok(
                &r.action,
                "<NewConnectionStatus>Connected</NewConnectionStatus>",
            )),
            _ => (
                "500 Internal Server Error".to_string(),
                igd::fault(713, "SpecifiedArrayIndexInvalid"),
            ),
        }
    });
    let url = format!("http://127.0.0.1:{port}/upnp/desc.xml");
    let (_, r) = voipdiag(&["status", "--protocol", "upnp", "--gateway", &url]);
    assert_eq!(r["result"]["external_address"], "203.0.113.9", "{r:#}");
    assert_eq!(r["result"]["gateway"]["friendly_name"], "relative router");
    let lines = asked.lock().unwrap().clone();
    assert!(
        lines.iter().all(|l| l.contains(" /upnp/")),
        "only paths under /upnp/ asked: {lines:?}"
    );
}

/// The gateway answers discovery and its description, but its control URL answers 404: the
/// report names that step and the HTTP status (it said nothing and exited 0).
#[test]
fn a_failing_control_url_is_named_not_ignored() {
    let (port, _) = igd::http_server("127.0.0.1", Duration::ZERO, move |r| {
        let ok = |s: String| ("200 OK".to_string(), s);
        if r.line.starts_with("GET /upnp/desc.xml") {
            return ok(igd::description_urls(
                "",
                "broken router",
                "/missing",
                "scpd.xml",
            ));
        }
        if r.line.starts_with("GET /upnp/scpd.xml") {
            return ok(igd::scpd(&[("GetExternalIPAddress", &[])]));
        }
        ("404 Not Found".to_string(), String::new())
    });
    let url = format!("http://127.0.0.1:{port}/upnp/desc.xml");
    let (code, r) = voipdiag(&["status", "--protocol", "upnp", "--gateway", &url]);
    assert_eq!(code, 1, "{r:#}");
    let codes = common::codes(&r);
    assert!(codes.contains(&"UPNP_CONTROL_FAILED".to_string()), "{r:#}");
    assert!(!codes.contains(&"NO_GATEWAY".to_string()));
    let e = r["result"]["control_error"].as_str().unwrap();
    assert!(e.contains("/missing") && e.contains("404"), "{e}");
}
