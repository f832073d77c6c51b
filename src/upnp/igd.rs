//! UPnP IGD facts that igd-next does not cover, without I/O: the device description
//! (friendly name, manufacturer, model, UDN, IGD version, WAN service and control URL), the
//! GetStatusInfo / GetConnectionTypeInfo actions, error code names (UPnP Device
//! Architecture 1.1 §3.2.2 and WANIPConnection:2 §2.5), and the default gateway from
//! /proc/net/route.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use xmltree::Element;

/// The gateway as its description presents it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeviceDescription {
    /// `friendlyName`.
    pub friendly_name: Option<String>,
    /// `manufacturer`.
    pub manufacturer: Option<String>,
    /// `modelName`.
    pub model_name: Option<String>,
    /// `modelNumber`.
    pub model_number: Option<String>,
    /// `serialNumber`.
    pub serial_number: Option<String>,
    /// `UDN`, e.g. `uuid:…`.
    pub udn: Option<String>,
    /// `urn:schemas-upnp-org:device:InternetGatewayDevice:2`.
    pub device_type: Option<String>,
    /// 1 or 2, from the device type.
    pub igd_version: Option<u8>,
    /// The WAN connection service type, e.g. `urn:schemas-upnp-org:service:WANIPConnection:2`.
    #[serde(skip)]
    pub service_type: Option<String>,
    /// Its control URL as written (relative or absolute).
    #[serde(skip)]
    pub control_url: Option<String>,
    /// Its SCPD URL.
    #[serde(skip)]
    pub scpd_url: Option<String>,
    /// `URLBase`, when given (UPnP 1.0).
    #[serde(skip)]
    pub url_base: Option<String>,
}

fn child_text(e: &Element, name: &str) -> Option<String> {
    e.get_child(name)
        .and_then(|c| c.get_text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The WAN connection services we can use, best first.
const WAN_SERVICES: [&str; 3] = [
    "urn:schemas-upnp-org:service:WANIPConnection:2",
    "urn:schemas-upnp-org:service:WANIPConnection:1",
    "urn:schemas-upnp-org:service:WANPPPConnection:1",
];

/// Parses a root device description (UPnP Device Architecture §2.3). The WAN service is
/// searched in every embedded device.
///
/// # Errors
/// Not XML, or no `device` element.
pub fn parse_description(xml: &str) -> Result<DeviceDescription, String> {
    super::xml::check(xml).map_err(|e| format!("device description refused: {e}"))?;
    let root = Element::parse(xml.as_bytes()).map_err(|e| format!("device description: {e}"))?;
    let device = root
        .get_child("device")
        .ok_or("device description without a <device> element")?;
    let device_type = child_text(device, "deviceType");
    let igd_version = device_type.as_deref().and_then(|t| {
        t.strip_prefix("urn:schemas-upnp-org:device:InternetGatewayDevice:")
            .and_then(|v| v.parse().ok())
    });
    // What is shown to the user is cut to a sane length.
    let shown = |name: &str| child_text(device, name).map(|t| crate::text::clip(t).0);
    let mut d = DeviceDescription {
        friendly_name: shown("friendlyName"),
        manufacturer: shown("manufacturer"),
        model_name: shown("modelName"),
        model_number: shown("modelNumber"),
        serial_number: shown("serialNumber"),
        udn: shown("UDN"),
        device_type,
        igd_version,
        url_base: child_text(&root, "URLBase"),
        ..Default::default()
    };
    let mut services = Vec::new();
    collect_services(device, 0, &mut services);
    if let Some((t, ctl, scpd)) = WAN_SERVICES
        .iter()
        .find_map(|want| services.iter().find(|(t, _, _)| t == want))
    {
        d.service_type = Some(t.clone());
        d.control_url = Some(ctl.clone());
        d.scpd_url = Some(scpd.clone());
    }
    Ok(d)
}

fn collect_services(device: &Element, depth: usize, out: &mut Vec<(String, String, String)>) {
    if depth > 8 {
        return;
    }
    if let Some(list) = device.get_child("serviceList") {
        for s in list.children.iter().filter_map(|c| c.as_element()) {
            if let (Some(t), Some(ctl)) =
                (child_text(s, "serviceType"), child_text(s, "controlURL"))
            {
                out.push((t, ctl, child_text(s, "SCPDURL").unwrap_or_default()));
            }
        }
    }
    if let Some(list) = device.get_child("deviceList") {
        for d in list.children.iter().filter_map(|c| c.as_element()) {
            collect_services(d, depth + 1, out);
        }
    }
}

/// The actions of a service description (SCPD, UPnP Device Architecture §2.5) with their
/// input argument names, in order: what igd-next needs to build requests.
///
/// # Errors
/// Not XML, or no `actionList`.
pub fn parse_scpd(xml: &str) -> Result<std::collections::HashMap<String, Vec<String>>, String> {
    super::xml::check(xml).map_err(|e| format!("service description refused: {e}"))?;
    let root = Element::parse(xml.as_bytes()).map_err(|e| format!("service description: {e}"))?;
    let list = root
        .get_child("actionList")
        .ok_or("service description without an <actionList>")?;
    Ok(list
        .children
        .iter()
        .filter_map(|c| c.as_element())
        .filter_map(|a| {
            let name = child_text(a, "name")?;
            let args = a
                .get_child("argumentList")
                .map(|l| {
                    l.children
                        .iter()
                        .filter_map(|c| c.as_element())
                        .filter(|arg| child_text(arg, "direction").as_deref() == Some("in"))
                        .filter_map(|arg| child_text(arg, "name"))
                        .collect()
                })
                .unwrap_or_default();
            Some((name, args))
        })
        .collect())
}

/// A SOAP request body for `action` of `service_type` without arguments.
pub fn soap_body(service_type: &str, action: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:{action} xmlns:u=\"{service_type}\"></u:{action}></s:Body></s:Envelope>\r\n"
    )
}

/// The output arguments of a SOAP response, or the UPnP error (code, description).
///
/// # Errors
/// `Err(Ok((code, description)))` for a UPnP error, `Err(Err(text))` for a response that
/// is not SOAP.
#[allow(clippy::type_complexity)]
pub fn parse_soap_response(
    xml: &str,
    action: &str,
) -> Result<Vec<(String, String)>, Result<(u16, String), String>> {
    super::xml::check(xml).map_err(|e| Err(format!("SOAP response refused: {e}")))?;
    let root = Element::parse(xml.as_bytes()).map_err(|e| Err(format!("SOAP response: {e}")))?;
    let body = root
        .get_child("Body")
        .ok_or_else(|| Err("SOAP response without Body".to_string()))?;
    if let Some(fault) = body.get_child("Fault") {
        let err = fault
            .get_child("detail")
            .and_then(|d| d.get_child("UPnPError"));
        let code = err
            .and_then(|e| child_text(e, "errorCode"))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let desc = err
            .and_then(|e| child_text(e, "errorDescription"))
            .unwrap_or_default();
        return Err(Ok((code, desc)));
    }
    let resp = body
        .get_child(format!("{action}Response").as_str())
        .ok_or_else(|| Err(format!("SOAP response without {action}Response")))?;
    Ok(resp
        .children
        .iter()
        .filter_map(|c| c.as_element())
        .map(|e| {
            (
                e.name.clone(),
                e.get_text()
                    .map(|t| t.trim().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect())
}

/// Name of a UPnP error code: UPnP Device Architecture 1.1 §3.2.2 (4xx, 6xx) and
/// WANIPConnection:2 §2.5 (7xx).
pub fn error_name(code: u16) -> &'static str {
    match code {
        401 => "Invalid Action",
        402 => "Invalid Args",
        501 => "Action Failed",
        600 => "Argument Value Invalid",
        601 => "Argument Value Out of Range",
        602 => "Optional Action Not Implemented",
        606 => "Action not authorized",
        713 => "SpecifiedArrayIndexInvalid",
        714 => "NoSuchEntryInArray",
        715 => "WildCardNotPermittedInSrcIP",
        716 => "WildCardNotPermittedInExtPort",
        718 => "ConflictInMappingEntry",
        724 => "SamePortValuesRequired",
        725 => "OnlyPermanentLeasesSupported",
        726 => "RemoteHostOnlySupportsWildcard",
        727 => "ExternalPortOnlySupportsWildcard",
        728 => "NoPortMapsAvailable",
        729 => "ConflictWithOtherMechanisms",
        732 => "WildCardNotPermittedInIntPort",
        _ => "unknown error",
    }
}

/// `http://host[:port]/path` split into the socket address (IP literals only, as UPnP
/// LOCATIONs are) and the path.
pub fn split_url(url: &str) -> Result<(SocketAddr, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let addr: SocketAddr = authority
        .parse()
        .or_else(|_| {
            authority
                .parse::<IpAddr>()
                .map(|ip| SocketAddr::new(ip, 80))
        })
        .map_err(|_| format!("{url}: the host must be an IP address (and port)"))?;
    Ok((
        addr,
        if path.is_empty() {
            "/".into()
        } else {
            path.into()
        },
    ))
}

/// Resolves a URL as UPnP 1.0/1.1 do: absolute as is, else against `base` (URLBase or the
/// description's own URL) by RFC 3986 §5.2 — `ctl` under `http://gw/upnp/desc.xml` is
/// `http://gw/upnp/ctl` (the `url` crate does the resolution). A base that does not parse is
/// used as an origin, as before.
pub fn join_url(base: &str, url: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") {
        return url.to_string();
    }
    match url::Url::parse(base).and_then(|b| b.join(url)) {
        Ok(u) => u.to_string(),
        Err(_) => format!(
            "{}/{}",
            base.trim_end_matches('/'),
            url.trim_start_matches('/')
        ),
    }
}

/// The IPv4 default gateway in /proc/net/route text (lowest metric), if any.
pub fn default_gateway(proc_net_route: &str) -> Option<Ipv4Addr> {
    proc_net_route
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // Iface Destination Gateway Flags RefCnt Use Metric Mask …
            if f.len() < 8 || f[1] != "00000000" || f[7] != "00000000" {
                return None;
            }
            let gw = u32::from_str_radix(f[2], 16).ok()?;
            let metric: u32 = f[6].parse().ok()?;
            // The kernel prints the address as a host-order u32.
            (gw != 0).then(|| (metric, Ipv4Addr::from(gw.to_ne_bytes())))
        })
        .min_by_key(|(m, _)| *m)
        .map(|(_, ip)| ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The description miniupnpd 2.3.1 serves (abridged, same structure).
    const DESC: &str = r#"<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0" configId="1337"><specVersion><major>1</major><minor>1</minor></specVersion>
<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType><friendlyName>voipdiag lab router</friendlyName><manufacturer>voipdiag lab</manufacturer><modelName>miniupnpd lab</modelName><modelNumber>2.3.1</modelNumber><serialNumber>LAB-0001</serialNumber><UDN>uuid:3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b</UDN>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType><serviceId>urn:upnp-org:serviceId:L3Forwarding1</serviceId><controlURL>/ctl/L3F</controlURL><eventSubURL>/evt/L3F</eventSubURL><SCPDURL>/L3F.xml</SCPDURL></service></serviceList>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:2</deviceType><friendlyName>WANDevice</friendlyName>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1</serviceType><controlURL>/ctl/CmnIfCfg</controlURL><SCPDURL>/WANCfg.xml</SCPDURL></service></serviceList>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:2</deviceType>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:2</serviceType><serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId><controlURL>/ctl/IPConn</controlURL><eventSubURL>/evt/IPConn</eventSubURL><SCPDURL>/WANIPCn.xml</SCPDURL></service></serviceList>
</device></deviceList></device></deviceList><presentationURL>http://192.168.80.1/</presentationURL></device></root>"#;

    #[test]
    fn description_of_miniupnpd() {
        let d = parse_description(DESC).unwrap();
        assert_eq!(d.friendly_name.as_deref(), Some("voipdiag lab router"));
        assert_eq!(d.manufacturer.as_deref(), Some("voipdiag lab"));
        assert_eq!(d.model_name.as_deref(), Some("miniupnpd lab"));
        assert_eq!(d.model_number.as_deref(), Some("2.3.1"));
        assert_eq!(
            d.udn.as_deref(),
            Some("uuid:3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b")
        );
        assert_eq!(d.igd_version, Some(2));
        assert_eq!(
            d.service_type.as_deref(),
            Some("urn:schemas-upnp-org:service:WANIPConnection:2")
        );
        assert_eq!(d.control_url.as_deref(), Some("/ctl/IPConn"));
        assert_eq!(d.scpd_url.as_deref(), Some("/WANIPCn.xml"));
        // A v1 gateway with PPP only.
        let v1 = DESC
            .replace("InternetGatewayDevice:2", "InternetGatewayDevice:1")
            .replace("WANIPConnection:2", "WANPPPConnection:1");
        let d = parse_description(&v1).unwrap();
        assert_eq!(d.igd_version, Some(1));
        assert_eq!(
            d.service_type.as_deref(),
            Some("urn:schemas-upnp-org:service:WANPPPConnection:1")
        );
        assert!(parse_description("<root/>").is_err());
        assert!(parse_description("not xml").is_err());
    }

    #[test]
    fn scpd_actions_and_in_arguments() {
        let scpd = r#"<?xml version="1.0"?><scpd xmlns="urn:schemas-upnp-org:service-1-0"><actionList>
<action><name>DeletePortMapping</name><argumentList>
<argument><name>NewRemoteHost</name><direction>in</direction></argument>
<argument><name>NewExternalPort</name><direction>in</direction></argument>
<argument><name>NewProtocol</name><direction>in</direction></argument></argumentList></action>
<action><name>GetExternalIPAddress</name><argumentList>
<argument><name>NewExternalIPAddress</name><direction>out</direction></argument></argumentList></action>
</actionList></scpd>"#;
        let m = parse_scpd(scpd).unwrap();
        assert_eq!(
            m["DeletePortMapping"],
            ["NewRemoteHost", "NewExternalPort", "NewProtocol"]
        );
        assert!(m["GetExternalIPAddress"].is_empty());
        assert!(parse_scpd("<scpd/>").is_err());
    }

    #[test]
    fn soap_responses_and_errors() {
        let ok = r#"<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:GetStatusInfoResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:2"><NewConnectionStatus>Connected</NewConnectionStatus><NewLastConnectionError>ERROR_NONE</NewLastConnectionError><NewUptime>9036</NewUptime></u:GetStatusInfoResponse></s:Body></s:Envelope>"#;
        let args = parse_soap_response(ok, "GetStatusInfo").unwrap();
        assert_eq!(args[0], ("NewConnectionStatus".into(), "Connected".into()));
        assert_eq!(args[2], ("NewUptime".into(), "9036".into()));
        let fault = r#"<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>501</errorCode><errorDescription>Action Failed</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>"#;
        assert_eq!(
            parse_soap_response(fault, "AddPortMapping"),
            Err(Ok((501, "Action Failed".into())))
        );
        assert!(matches!(parse_soap_response("<x", "A"), Err(Err(_))));
        assert_eq!(error_name(718), "ConflictInMappingEntry");
        assert_eq!(error_name(725), "OnlyPermanentLeasesSupported");
        assert_eq!(error_name(606), "Action not authorized");
        let body = soap_body(
            "urn:schemas-upnp-org:service:WANIPConnection:1",
            "GetStatusInfo",
        );
        assert!(body.contains(
            "<u:GetStatusInfo xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\">"
        ));
    }

    #[test]
    fn urls() {
        assert_eq!(
            split_url("http://192.168.80.1:5000/rootDesc.xml").unwrap(),
            ("192.168.80.1:5000".parse().unwrap(), "/rootDesc.xml".into())
        );
        assert_eq!(
            split_url("http://192.168.80.1").unwrap(),
            ("192.168.80.1:80".parse().unwrap(), "/".into())
        );
        assert!(split_url("https://x/").is_err());
        assert!(split_url("http://router.lan/").is_err());
        assert_eq!(
            join_url("http://192.168.80.1:5000/rootDesc.xml", "/ctl/IPConn"),
            "http://192.168.80.1:5000/ctl/IPConn"
        );
        assert_eq!(
            join_url("http://192.168.80.1:5000", "ctl/IPConn"),
            "http://192.168.80.1:5000/ctl/IPConn"
        );
        assert_eq!(join_url("http://a:1/x", "http://b:2/y"), "http://b:2/y");
        // RFC 3986 §5.2: relative to the description's directory, not the origin.
        assert_eq!(
            join_url("http://192.168.1.1:1900/upnp/desc.xml", "ctl"),
            "http://192.168.1.1:1900/upnp/ctl"
        );
        assert_eq!(
            join_url("http://192.168.1.1:1900/upnp/desc.xml", "../scpd.xml"),
            "http://192.168.1.1:1900/scpd.xml"
        );
    }

    #[test]
    fn default_gateway_from_proc_net_route() {
        let t = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                 c0\t00000000\t0150A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
                 c0\t0050A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        assert_eq!(default_gateway(t), Some(Ipv4Addr::new(192, 168, 80, 1)));
        assert_eq!(default_gateway("Iface\n"), None);
        assert_eq!(default_gateway(""), None);
    }
}
