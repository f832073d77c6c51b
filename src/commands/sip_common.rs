//! What the SIP subcommands share: locating the next hop (RFC 3263), opening the flow to the
//! first address that accepts one, the route set, timers, TLS settings, the password
//! sources, and the `-v` trace of every message with credentials redacted.

use std::net::SocketAddr;

use crate::cli::{GlobalArgs, SipArgs};
use crate::dns::resolution::{Resolution, Resolved};
use crate::net::dns::DnsClient;
use crate::net::sip::{OpenFlow, open};
use crate::net::tls::TlsOptions;
use crate::net::{Traced, Tracer};
use crate::report::trace;
use crate::sip::target::Target;
use crate::sip::transaction::Timers;

/// An open flow to the server a target resolved to.
#[derive(Debug)]
pub struct ServerFlow {
    /// The flow.
    pub flow: OpenFlow,
    /// The resolved address the flow goes to.
    pub server: Resolved,
}

/// Why no flow could be opened.
#[derive(Debug, Clone)]
pub struct Unreachable {
    /// Finding code: `SIP_NO_ADDRESS` or `SIP_TRANSPORT_FAILED`.
    pub code: &'static str,
    /// In words.
    pub message: String,
}

/// Locates `target` (or the `--proxy`) and opens a flow to the first address that accepts
/// one (RFC 3263 §4.3: try the next on failure).
pub async fn open_server_flow(
    target: &Target,
    sip: &SipArgs,
    global: &GlobalArgs,
    rng: &mut impl rand::Rng,
) -> (Resolution, Result<ServerFlow, Unreachable>) {
    let next_hop = sip.proxy.as_ref().unwrap_or(target);
    let dns_server = sip.dns_server.map(|n| n.0);
    let dns = match DnsClient::new(dns_server, false, global.timeout) {
        Ok(d) => d,
        Err(e) => {
            return (
                Resolution::default(),
                Err(Unreachable {
                    code: "SIP_NO_ADDRESS",
                    message: e,
                }),
            );
        }
    };
    let resolution = dns
        .locate_sip(
            next_hop,
            sip.transport.map(Into::into),
            global.family(),
            rng,
        )
        .await;
    if resolution.targets.is_empty() {
        let message = format!(
            "{} did not resolve to any address ({})",
            next_hop.host,
            resolution
                .queries
                .iter()
                .map(|q| format!("{} {}: {}", q.rtype, q.name, q.rcode))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return (
            resolution,
            Err(Unreachable {
                code: "SIP_NO_ADDRESS",
                message,
            }),
        );
    }
    let tls = match tls_options(sip) {
        Ok(t) => t,
        Err(e) => {
            return (
                Resolution::default(),
                Err(Unreachable {
                    code: "SIP_TRANSPORT_FAILED",
                    message: e.to_string(),
                }),
            );
        }
    };
    let local = sip.local.map(|l| SocketAddr::new(l.ip, l.port));
    let mut errors = Vec::new();
    for server in resolution.targets.iter().take(4) {
        match open(
            server.transport,
            server.address,
            local,
            &server.host,
            &tls,
            global.timeout,
        )
        .await
        {
            Ok(flow) => {
                let server = server.clone();
                return (resolution, Ok(ServerFlow { flow, server }));
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    (
        resolution,
        Err(Unreachable {
            code: "SIP_TRANSPORT_FAILED",
            message: errors.join("; "),
        }),
    )
}

/// Another flow to the server `first` reached (for `--parallel`), from any local port.
///
/// # Errors
/// As [`open`].
pub async fn open_another(
    first: &ServerFlow,
    sip: &SipArgs,
    global: &GlobalArgs,
) -> Result<OpenFlow, crate::sip::endpoint::FlowError> {
    open(
        first.server.transport,
        first.server.address,
        None,
        &first.server.host,
        &tls_options(sip).map_err(|e| crate::sip::endpoint::FlowError::Io(e.to_string()))?,
        global.timeout,
    )
    .await
}

/// TLS settings from `--ca-file` / `--insecure`, the CA file read and checked now.
///
/// # Errors
/// An unreadable, oversized or certificate-less CA file: a usage error (exit 2).
pub fn tls_options(sip: &SipArgs) -> Result<TlsOptions, crate::commands::CommandError> {
    TlsOptions::new(sip.ca_file.as_deref(), sip.insecure)
        .map_err(crate::commands::CommandError::Usage)
}

/// Transaction timers from `--t1` (T2 per RFC 3261).
pub fn timers(sip: &SipArgs) -> Timers {
    Timers {
        t1: sip.t1,
        ..Timers::default()
    }
}

/// The route set: the `--proxy` as a loose router (RFC 3261 §8.1.2, §16.12), or empty.
pub fn route_set(sip: &SipArgs) -> Vec<String> {
    sip.proxy
        .as_ref()
        .map(|p| vec![format!("{};lr", p.request_uri())])
        .unwrap_or_default()
}

/// The `-v` trace hook: every message to stderr, Authorization values redacted.
pub fn trace_sip(t: &Traced<'_>) {
    eprintln!("{}", trace::sip_message(t, 1));
}

/// The `-vv` trace hook: as [`trace_sip`], with a hex dump.
pub fn trace_sip_hex(t: &Traced<'_>) {
    eprintln!("{}", trace::sip_message(t, 2));
}

/// The trace hook for `verbose` (none without `-v`; `-vv` adds hex dumps).
pub fn tracer(verbose: u8) -> Option<Tracer<'static>> {
    match verbose {
        0 => None,
        1 => Some(&trace_sip),
        _ => Some(&trace_sip_hex),
    }
}

/// The password from `$VOIPDIAG_PASSWORD`, `--password-file` or `--password`, in that order;
/// `None` when none is given (a terminal prompt may still supply it when challenged).
pub fn given_password(
    password_file: Option<&std::path::Path>,
    password: Option<&String>,
) -> Result<Option<String>, crate::commands::CommandError> {
    crate::commands::given_secret(
        crate::report::register::PASSWORD_ENV,
        password_file,
        password,
        "password",
    )
}

/// Asks on the terminal, when stdin is one.
pub fn prompt(user: &str) -> Result<Option<String>, String> {
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Ok(None);
    }
    rpassword::prompt_password(format!("Password for {user}: "))
        .map(Some)
        .map_err(|e| format!("cannot read the password: {e}"))
}
