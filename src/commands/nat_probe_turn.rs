//! nat-probe's `--turn`: which relays to test with which credential, then for each URI (and
//! relayed address family) resolve, connect (TLS verified unless `--insecure`), bind the
//! peer sockets and run the TURN relay test machine over the driver.

use std::net::SocketAddr;
use std::time::{Duration, UNIX_EPOCH};

use super::{CommandError, Env, given_secret};
use crate::addr::Host;
use crate::cli::{GlobalArgs, TurnArgs, TurnFamily, TurnPeer};
use crate::net::driver::{self, ConnectSpec, Socket, TlsSpec};
use crate::net::tls::TlsOptions;
use crate::report::nat_probe::turn::{TlsReport, TurnContext, TurnReport};
use crate::stun::turn::allocation::RequestedFamily;
use crate::stun::turn::channel::stream_framer;
use crate::stun::turn::credential::{Credentials, rest_credential};
use crate::stun::turn::probe::{
    PeerStrategy, SOCKET_CLIENT, SOCKET_PEER, SOCKET_SECOND, TurnProbe, TurnProbeConfig,
    policy_targets,
};
use crate::stun::turn::uri::{TurnTransport, TurnUri};

/// `$VOIPDIAG_TURN_PASSWORD`: the TURN password.
pub const PASSWORD_ENV: &str = "VOIPDIAG_TURN_PASSWORD";
/// `$VOIPDIAG_TURN_SECRET`: the TURN REST shared secret.
pub const SECRET_ENV: &str = "VOIPDIAG_TURN_SECRET";
/// Largest `--ice-servers` file read.
const MAX_ICE_FILE: u64 = 1024 * 1024;

/// One URI to test and the credential to test it with.
#[derive(Debug, Clone)]
pub struct Target {
    /// The URI.
    pub uri: TurnUri,
    /// The credential, if any.
    pub credentials: Option<Credentials>,
}

/// The targets `--turn` and `--ice-servers` name, with their credentials.
///
/// # Errors
/// Usage: an unreadable or malformed `--ice-servers` file or a bad URI in it, an unreadable
/// secret or password file, a shared secret or a password without `--turn-user`.
pub fn targets(args: &TurnArgs, env: &Env) -> Result<Vec<Target>, CommandError> {
    let secret = given_secret(
        SECRET_ENV,
        args.turn_secret_file.as_deref(),
        None,
        "TURN secret",
    )?;
    let password = given_secret(
        PASSWORD_ENV,
        args.turn_password_file.as_deref(),
        args.turn_password.as_ref(),
        "TURN password",
    )?;
    let now = env
        .started_at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let global = match (&secret, &args.turn_user) {
        (Some(s), Some(user)) => Some(rest_credential(
            s.as_bytes(),
            Some(user),
            now + args.turn_ttl.as_secs(),
        )),
        (Some(_), None) => {
            return Err(CommandError::Usage(
                "a TURN REST secret needs --turn-user: the user name is EXPIRY:USER".into(),
            ));
        }
        (None, Some(user)) => {
            let password = match password {
                Some(p) => p,
                None => super::sip_common::prompt(user)
                    .map_err(CommandError::Usage)?
                    .ok_or_else(|| {
                        CommandError::Usage(format!(
                            "no TURN password for {user}: set ${PASSWORD_ENV}, use --turn-password-file, or run on a terminal"
                        ))
                    })?,
            };
            Some(Credentials::LongTerm {
                username: user.clone(),
                password,
            })
        }
        (None, None) if args.turn_password.is_some() || args.turn_password_file.is_some() => {
            return Err(CommandError::Usage(
                "a TURN password needs --turn-user".into(),
            ));
        }
        (None, None) => None,
    };
    let mut out: Vec<Target> = args
        .uris
        .iter()
        .map(|u| Target {
            uri: u.clone(),
            credentials: global.clone(),
        })
        .collect();
    if let Some(path) = &args.ice_servers {
        let text = read_ice_file(path)?;
        let list = crate::stun::turn::ice_servers::parse(&text)
            .map_err(|e| CommandError::Usage(format!("--ice-servers {}: {e}", path.display())))?;
        for server in list {
            let creds = match (&server.username, &server.credential) {
                (Some(u), Some(c)) => Some(Credentials::LongTerm {
                    username: u.clone(),
                    password: c.clone(),
                }),
                _ => global.clone(),
            };
            for u in &server.urls {
                let uri: TurnUri = u.parse().map_err(|e: String| {
                    CommandError::Usage(format!("--ice-servers {}: {e}", path.display()))
                })?;
                out.push(Target {
                    uri,
                    credentials: creds.clone(),
                });
            }
        }
    }
    Ok(out)
}

fn read_ice_file(path: &std::path::Path) -> Result<String, CommandError> {
    use std::io::Read;
    let mut text = String::new();
    let what = path.display();
    let r = if path.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_ICE_FILE + 1)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_ICE_FILE + 1).read_to_string(&mut text))
    };
    r.map_err(|e| CommandError::Usage(format!("cannot read --ice-servers {what}: {e}")))?;
    if text.len() as u64 > MAX_ICE_FILE {
        return Err(CommandError::Usage(format!(
            "--ice-servers {what} is larger than 1 MiB"
        )));
    }
    Ok(text)
}

fn software() -> String {
    format!("voipdiag {}", env!("CARGO_PKG_VERSION"))
}

/// Tests every target, one after the other (so that their traffic does not mix).
///
/// # Errors
/// A machine that failed (internal).
pub async fn run(
    global: &GlobalArgs,
    args: &TurnArgs,
    env: &Env,
    targets: &[Target],
) -> Result<Vec<TurnReport>, CommandError> {
    let families: &[(RequestedFamily, &'static str)] = match args.turn_family {
        TurnFamily::Ipv4 => &[(RequestedFamily::Default, "ipv4")],
        TurnFamily::Ipv6 => &[(RequestedFamily::Ipv6, "ipv6")],
        TurnFamily::Dual => &[
            (RequestedFamily::Ipv4, "ipv4"),
            (RequestedFamily::Ipv6, "ipv6"),
        ],
    };
    let tls =
        TlsOptions::new(args.ca_file.as_deref(), args.insecure).map_err(CommandError::Usage)?;
    let now_unix = env
        .started_at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let mut out = Vec::new();
    for t in targets {
        for &(family, fname) in families {
            if env.interrupt.is_set() {
                return Ok(out);
            }
            out.push(run_one(global, args, env, t, family, fname, &tls, now_unix).await?);
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
async fn run_one(
    global: &GlobalArgs,
    args: &TurnArgs,
    env: &Env,
    t: &Target,
    family: RequestedFamily,
    fname: &'static str,
    tls: &TlsOptions,
    now_unix: u64,
) -> Result<TurnReport, CommandError> {
    let rest_expiry = t.credentials.as_ref().and_then(Credentials::rest_expiry);
    let mut ctx = TurnContext {
        uri: t.uri.to_string(),
        transport: t.uri.transport,
        family: fname,
        server_address: None,
        local_address: None,
        tls: None,
        mechanism: t
            .credentials
            .as_ref()
            .map_or("none", Credentials::mechanism),
        username: t.credentials.as_ref().map(|c| c.username().to_string()),
        rest_expiry,
        rest_expired: rest_expiry.is_some_and(|e| e < now_unix),
        error: None,
    };
    let host = match Host::parse(&t.uri.host) {
        Ok(h) => h,
        Err(e) => {
            ctx.error = Some(e);
            return Ok(TurnReport::new(ctx, None));
        }
    };
    let server = match crate::net::resolve::resolve(&host, t.uri.port, global.family()).await {
        Ok(v) => v[0],
        Err(e) => {
            ctx.error = Some(format!("the name did not resolve: {e}"));
            return Ok(TurnReport::new(ctx, None));
        }
    };
    ctx.server_address = Some(server);
    let local_ip = match driver::route_source(server) {
        Ok(ip) => ip,
        Err(e) => {
            ctx.error = Some(format!("no route to {server}: {e}"));
            return Ok(TurnReport::new(ctx, None));
        }
    };
    let udp = driver::bind_udp_sockets(local_ip, 0, 3).map_err(|e| {
        CommandError::Internal(anyhow::anyhow!(
            "cannot bind UDP sockets on {local_ip}: {e}"
        ))
    })?;
    let reliable = t.uri.transport.is_stream();
    let tls_spec = (t.uri.transport == TurnTransport::Tls).then(|| TlsSpec {
        server_name: t.uri.host.clone(),
        options: tls.clone(),
    });
    let spec = ConnectSpec {
        peer: server,
        local: Some(SocketAddr::new(local_ip, 0)),
        tls: tls_spec.clone(),
        framer: stream_framer,
    };
    let first = if reliable {
        match tokio::time::timeout(global.timeout, driver::connect(&spec)).await {
            Ok(Ok((stream, conn))) => {
                ctx.local_address = Some(conn.local);
                if tls_spec.is_some() {
                    ctx.tls = Some(tls_report(&conn, tls.insecure));
                }
                Socket::Stream(stream)
            }
            Ok(Err(e)) => {
                let text = e.to_string();
                if matches!(e, crate::machine::StreamError::Tls(_)) {
                    ctx.tls = Some(TlsReport {
                        error: Some(text.trim_start_matches("TLS failed: ").to_string()),
                        ..TlsReport::default()
                    });
                }
                ctx.error = Some(format!("cannot connect to {server}: {text}"));
                return Ok(TurnReport::new(ctx, None));
            }
            Err(_) => {
                ctx.error = Some(format!(
                    "no connection to {server} within {}",
                    humantime::format_duration(global.timeout)
                ));
                return Ok(TurnReport::new(ctx, None));
            }
        }
    } else {
        ctx.local_address = udp[0].local_addr().ok();
        Socket::Udp(udp[0].clone())
    };
    let strategy = match &args.turn_peer {
        TurnPeer::Auto => PeerStrategy::Auto,
        TurnPeer::SelfPeer => PeerStrategy::SelfPeer,
        TurnPeer::Two => PeerStrategy::TwoAllocations,
        TurnPeer::Peer(hp) => {
            match crate::net::resolve::resolve(&hp.host, hp.port.unwrap_or(7), global.family())
                .await
            {
                Ok(v) => PeerStrategy::Peer(v[0]),
                Err(e) => {
                    return Err(CommandError::Usage(format!("--turn-peer {hp}: {e}")));
                }
            }
        }
    };
    let stun_port = match t.uri.transport {
        TurnTransport::Tls => crate::stun::message::DEFAULT_PORT,
        _ => server.port(),
    };
    let config = TurnProbeConfig {
        server,
        stun_server: SocketAddr::new(server.ip(), stun_port),
        reliable,
        credentials: t.credentials.clone(),
        family,
        software: software(),
        timeout: global.timeout,
        strategy,
        count: args.turn_count,
        interval: Duration::from_millis(20),
        peer_policy: if args.turn_peer_policy {
            policy_targets()
        } else {
            Vec::new()
        },
        hold: args.turn_hold,
    };
    let mut machine = TurnProbe::new(config, env.now(), env.rng());
    if let Some(l) = ctx.local_address {
        machine.set_local(SOCKET_CLIENT, l);
    }
    for (i, s) in udp.iter().enumerate().skip(1) {
        if let Ok(a) = s.local_addr() {
            machine.set_local(i, a);
        }
    }
    let second = if reliable {
        Socket::Connect(spec)
    } else {
        Socket::Udp(udp[SOCKET_SECOND].clone())
    };
    let sockets = vec![first, Socket::Udp(udp[SOCKET_PEER].clone()), second];
    let options = driver::Options {
        tracer: super::nat_probe::stun_tracer(global.verbose),
        interrupt: &env.interrupt,
        precise: false,
    };
    let end = driver::run(&mut machine, sockets, options, |_, ()| {}).await;
    if let Some(f) = end.failure() {
        return Err(CommandError::Internal(anyhow::anyhow!(f)));
    }
    Ok(TurnReport::new(ctx, Some(machine.outcome())))
}

/// What the TLS session showed: version, whether verified, the certificate's subject and
/// notAfter (x509-cert decodes the DER).
fn tls_report(conn: &driver::Connection, insecure: bool) -> TlsReport {
    use x509_cert::der::Decode;
    let mut r = TlsReport {
        verified: !insecure,
        version: conn.tls_version.clone(),
        ..TlsReport::default()
    };
    if let Some(cert) = conn
        .peer_certificate
        .as_deref()
        .and_then(|der| x509_cert::Certificate::from_der(der).ok())
    {
        r.subject = Some(cert.tbs_certificate.subject.to_string());
        let not_after = cert.tbs_certificate.validity.not_after.to_unix_duration();
        r.not_after = Some(humantime::format_rfc3339_seconds(UNIX_EPOCH + not_after).to_string());
    }
    r
}
