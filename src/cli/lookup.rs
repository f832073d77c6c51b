//! `enum-lookup`'s and `upnp-map`'s arguments.

use super::*;

pub(crate) const ENUM_LOOKUP_HELP: &str = "\
Examples:
  voipdiag enum-lookup +43 1 979 3321
  voipdiag enum-lookup 0043-1-9793321 --service E2U+sip --json
  voipdiag enum-lookup +43 1 979 3321 --suffix e164.example.net --suffix e164.arpa
  voipdiag enum-lookup sip:example.com
  voipdiag enum-lookup --sip-domain example.com --server 192.0.2.53 --tcp

A number may have any spacing, dashes, a leading + or 00, or be a tel: URI. Its NAPTR
records are sorted by order then preference; terminal (\"u\") records give URIs through their
regexp, non-terminal ones are followed (at most 5 hops). Once an order gives a URI, higher
orders are not considered (RFC 3403 §4.1). Every query is listed with its rcode, time and
whether the nameserver DNSSEC-validated it (AD).

Exit codes: 0 URIs (or servers) found; 1 no ENUM entry, or records without a usable URI;
3 SERVFAIL or no answer.

JSON result keys: number, aus, suffixes, uris (uri, service, enumservices, order, preference,
domain, record), records, queries (name, type, rcode, answers, ms, ad); for a SIP domain:
sip_domain, targets (transport, host, port, address, priority, weight, source), naptr, srv,
queries.";

pub(crate) const UPNP_MAP_HELP: &str = "\
Examples:
  voipdiag upnp-map                       (status: which protocols answer, external address)
  voipdiag upnp-map list
  voipdiag upnp-map add udp 5060 --lease 3600 --description softphone
  voipdiag upnp-map delete udp 5060
  voipdiag upnp-map --protocol natpmp --gateway 192.168.1.1 --stun stun.example.net

With --protocol auto (the default) UPnP, NAT-PMP and PCP are asked at the same time; add and
delete then use the first that answered, in that order. An external address that is
private or in 100.64.0.0/10, or that differs from the address a STUN server sees (--stun),
means double NAT: a mapping on this router will not make you reachable from the Internet.

Exit codes: 0 ok; 1 the action failed or double NAT; 3 no gateway answered.

JSON result keys: action, protocol, answered, probes, gateway (friendly_name, manufacturer,
model_name, model_number, udn, igd_version, description_url, control_url, service_type),
external_address, connection, mappings (protocol, external_port, internal_client,
internal_port, lease_s, description, enabled), double_nat, stun_address.";

/// Arguments of `enum-lookup`.
#[derive(Debug, Clone, Args)]
pub struct EnumLookupArgs {
    /// An E.164 number (+43 1 979 3321, 0043-1-9793321, tel:+4319793321; spaces allowed
    /// without quotes) or a SIP domain as sip:DOMAIN / sips:DOMAIN.
    #[arg(value_name = "NUMBER|sip:DOMAIN", num_args = 1.., required_unless_present = "sip_domain", conflicts_with = "sip_domain")]
    pub input: Vec<String>,

    /// Locate the SIP servers of this domain (RFC 3263), like sip:DOMAIN.
    #[arg(long, value_name = "DOMAIN")]
    pub sip_domain: Option<String>,

    /// ENUM tree to look in, tried in the order given (default e164.arpa; give it as well to
    /// try it after a private tree).
    #[arg(long, value_name = "DOMAIN")]
    pub suffix: Vec<String>,

    /// Only this enumservice, e.g. E2U+sip, sip, E2U+voice:tel (default: all).
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<crate::dns::r#enum::ServiceFilter>,

    /// Ask this nameserver, ADDR[:PORT], instead of the system's (/etc/resolv.conf).
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub server: Option<NameServer>,

    /// Query over TCP only.
    #[arg(long)]
    pub tcp: bool,
}

/// What `upnp-map` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UpnpAction {
    /// Which protocols answer, the gateway, its external address and connection.
    Status,
    /// The gateway's port mappings (UPnP only: NAT-PMP and PCP cannot list).
    List,
    /// Open a port: PROTO EXTERNAL_PORT.
    Add,
    /// Close a port: PROTO EXTERNAL_PORT.
    Delete,
}

impl From<UpnpAction> for crate::upnp::Action {
    fn from(a: UpnpAction) -> Self {
        match a {
            UpnpAction::Status => Self::Status,
            UpnpAction::List => Self::List,
            UpnpAction::Add => Self::Add,
            UpnpAction::Delete => Self::Delete,
        }
    }
}

/// The gateway protocol(s) to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GatewayProtocol {
    /// All three at once.
    Auto,
    /// UPnP IGD v1/v2.
    Upnp,
    /// NAT-PMP (RFC 6886).
    Natpmp,
    /// PCP (RFC 6887).
    Pcp,
}

/// Arguments of `upnp-map`.
#[derive(Debug, Clone, Args)]
pub struct UpnpMapArgs {
    /// status, list, add or delete.
    #[arg(value_enum, default_value_t = UpnpAction::Status)]
    pub action: UpnpAction,

    /// For add/delete: udp or tcp.
    #[arg(value_enum, value_name = "PROTO", required_if_eq_any = [("action", "add"), ("action", "delete")])]
    pub map_protocol: Option<MapProtocol>,

    /// For add/delete: the external port.
    #[arg(value_name = "EXTERNAL_PORT", value_parser = clap::value_parser!(u16).range(1..), required_if_eq_any = [("action", "add"), ("action", "delete")])]
    pub external_port: Option<u16>,

    /// Which gateway protocol to speak.
    #[arg(long, value_enum, default_value_t = GatewayProtocol::Auto)]
    pub protocol: GatewayProtocol,

    /// The gateway: an address (NAT-PMP/PCP, and the only UPnP device accepted) or the URL
    /// of its UPnP description (skips SSDP discovery). Default: the default route's gateway.
    #[arg(long, value_name = "ADDR|URL")]
    pub gateway: Option<crate::upnp::GatewayAddr>,

    /// Search from this local address (default: the one routing to the gateway).
    #[arg(long, value_name = "ADDR", conflicts_with = "interface")]
    pub local: Option<std::net::IpAddr>,

    /// Search on this interface (its IPv4 address).
    #[arg(long, value_name = "NAME")]
    pub interface: Option<String>,

    /// For add: the LAN address to forward to (default: our own).
    #[arg(long, value_name = "ADDR")]
    pub internal_client: Option<std::net::IpAddr>,

    /// For add/delete: the internal port (default: the external port).
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub internal_port: Option<u16>,

    /// For add: lease in seconds (0 = permanent, if the gateway allows it).
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub lease: u32,

    /// For add: the mapping's description (UPnP).
    #[arg(long, value_name = "TEXT", default_value = "voipdiag")]
    pub description: String,

    /// Compare the gateway's external address with the one this STUN server sees
    /// (HOST[:PORT]).
    #[arg(long, value_name = "HOST[:PORT]")]
    pub stun: Option<HostPort>,
}

/// A port mapping's protocol (`PROTO` of upnp-map).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MapProtocol {
    /// UDP (SIP, RTP).
    Udp,
    /// TCP (SIP over TCP/TLS).
    Tcp,
}

impl From<MapProtocol> for crate::upnp::MapProtocol {
    fn from(p: MapProtocol) -> Self {
        match p {
            MapProtocol::Udp => Self::Udp,
            MapProtocol::Tcp => Self::Tcp,
        }
    }
}

impl UpnpMapArgs {
    /// The mapping that `add`/`delete` act on, `(protocol, external port)`; `None` for
    /// `status`/`list`. (clap already requires both for add and delete.)
    ///
    /// # Errors
    /// PROTO or EXTERNAL_PORT given to `status` or `list`.
    pub fn target(&self) -> Result<Option<(crate::upnp::MapProtocol, u16)>, String> {
        match (self.action, self.map_protocol, self.external_port) {
            (UpnpAction::Add | UpnpAction::Delete, Some(p), Some(port)) => {
                Ok(Some((p.into(), port)))
            }
            (UpnpAction::Status | UpnpAction::List, None, None) => Ok(None),
            (UpnpAction::Status | UpnpAction::List, _, _) => {
                Err("PROTO and EXTERNAL_PORT are only for add and delete".into())
            }
            _ => Err("add and delete need PROTO and EXTERNAL_PORT, e.g. add udp 5060".into()),
        }
    }
}
