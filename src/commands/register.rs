//! `voipdiag register`: REGISTER with digest authentication (401/407, stale nonces), a retry
//! with Min-Expires after 423, and the bindings the registrar kept.

use std::io::IsTerminal;
use std::time::{Instant, SystemTime};

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::CommandError;
use super::sip_common::{
    Exchange, ViewOfUs, open_session, request_on, route_set, sent_by_host, timers, tracer,
};
use crate::cli::{GlobalArgs, RegisterArgs};
use crate::net::sip::{Received, transact};
use crate::report::register::{AuthInfo, Binding, RegisterResult, Step, findings, status};
use crate::report::{Report, ms};
use crate::sip::digest::{self, Challenge};
use crate::sip::message::{Message, NameAddr};
use crate::sip::request::{Method, random_token};
use crate::sip::target::{Target, Transport};

/// The environment variable the password is read from.
pub const PASSWORD_ENV: &str = "VOIPDIAG_PASSWORD";

/// Requests sent at most in one run (challenge, stale nonce, 423 and their combinations).
const MAX_REQUESTS: u32 = 6;

/// Where the password comes from, tried in this order: `$VOIPDIAG_PASSWORD`,
/// `--password-file`, `--password`, a prompt when stdin is a terminal.
fn obtain_password(args: &RegisterArgs, user: &str) -> Result<Option<String>, CommandError> {
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
        return Ok(Some(p));
    }
    if let Some(path) = &args.password_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            CommandError::Usage(format!(
                "cannot read the password file {}: {e}",
                path.display()
            ))
        })?;
        return Ok(Some(text.lines().next().unwrap_or("").to_string()));
    }
    if let Some(p) = &args.password {
        return Ok(Some(p.clone()));
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(format!("Password for {user}: "))
            .map(Some)
            .map_err(|e| CommandError::Usage(format!("cannot read the password: {e}")));
    }
    Ok(None)
}

/// Runs `register`.
///
/// # Errors
/// Usage errors (no user part, unreadable password file); the rest is in the report.
pub async fn run(
    global: &GlobalArgs,
    args: &RegisterArgs,
) -> Result<Report<RegisterResult>, CommandError> {
    let started_at = SystemTime::now();
    let t0 = Instant::now();
    let aor = &args.aor;
    let user = match (&args.user, &aor.user) {
        (Some(u), _) | (None, Some(u)) => u.clone(),
        (None, None) => {
            return Err(CommandError::Usage(format!(
                "{aor} has no user part; give sip:user@domain or --user"
            )));
        }
    };
    if args.password_file.is_some() && std::env::var_os(PASSWORD_ENV).is_none() {
        // Fail early on an unreadable file, before any traffic.
        obtain_password(args, &user)?;
    }
    let mut result = RegisterResult {
        aor: aor.aor(),
        unregister: args.unregister,
        requested_expires_s: if args.unregister { 0 } else { args.expires },
        ..RegisterResult::default()
    };
    let registrar = Target {
        secure: aor.secure,
        user: None,
        host: aor.host.clone(),
        port: aor.port,
        transport: aor.transport,
    };
    let mut rng = StdRng::from_rng(&mut rand::rng());
    let (resolution, session) = open_session(&registrar, &args.sip, global, &mut rng).await;
    result.resolution = resolution;
    let mut session = match session {
        Ok(s) => s,
        Err(u) => {
            result.error = Some(u.message);
            result.error_code = Some(u.code);
            return Ok(finish(started_at, t0, result));
        }
    };
    let flow = &mut session.flow;
    result.address = Some(flow.peer.to_string());
    result.transport = Some(flow.transport.to_string());
    result.local_address = Some(flow.local.to_string());
    let contact = args.contact.clone().unwrap_or_else(|| {
        let mut c = format!(
            "sip:{user}@{}:{}",
            sent_by_host(flow.local),
            flow.local.port()
        );
        if flow.transport != Transport::Udp {
            c.push_str(&format!(";transport={}", flow.transport));
        }
        c
    });
    let ex = Exchange {
        uri: registrar.request_uri(),
        from: (aor.aor(), random_token(&mut rng, 10)),
        to: aor.aor(),
        call_id: format!("{}@voipdiag", random_token(&mut rng, 20)),
    };
    let route = route_set(&args.sip);
    let timers = timers(&args.sip);
    let trace = tracer(global.verbose);
    let mut expires = result.requested_expires_s;
    let mut password: Option<String> = None;
    // (header name, challenge, nonce count, status) of the challenge being answered.
    let mut answering: Option<(&'static str, Challenge, u32, u16)> = None;
    let mut sent_credentials_for: Option<String> = None;
    let mut cseq = 0;
    let mut last: Option<Received> = None;
    for _ in 0..MAX_REQUESTS {
        cseq += 1;
        let mut extra = Vec::new();
        let mut credentials = None;
        if let (Some((name, ch, nc, _)), Some(pw)) = (&mut answering, &password) {
            *nc += 1;
            let cnonce = random_token(&mut rng, 16);
            let auth = digest::authorize(
                ch,
                &user,
                pw,
                digest::Request {
                    method: "REGISTER",
                    uri: &ex.uri,
                    body: b"",
                },
                *nc,
                &cnonce,
                args.auth_int,
            );
            credentials = Some((*name, ch.algorithm_name(), auth.qop));
            extra.push((name.to_string(), auth.value().to_string()));
            sent_credentials_for = Some(ch.nonce.clone());
        }
        let (bytes, tx) = match request_on(
            flow,
            Method::Register,
            &ex,
            cseq,
            None,
            Some(contact.clone()),
            Some(expires),
            extra,
            route.clone(),
            timers,
            global.timeout,
            &mut rng,
        ) {
            Ok(r) => r,
            Err(e) => return Err(CommandError::Internal(e.into())),
        };
        let sent_at = t0.elapsed();
        result.ladder.push(Step::request(
            ms(sent_at),
            cseq,
            expires,
            credentials
                .as_ref()
                .map(|(h, alg, qop)| (*h, alg.as_str(), qop.map(|q| q.token()))),
        ));
        let exchange = tokio::select! {
            r = transact(flow, &bytes, tx, Some(&trace)) => r,
            _ = tokio::signal::ctrl_c() => {
                result.error = Some("interrupted (Ctrl-C)".into());
                result.error_code = Some("INTERRUPTED");
                break;
            }
        };
        let exchange = match exchange {
            Ok(e) => e,
            Err(e) => {
                result.error = Some(e.to_string());
                result.error_code = Some("SIP_TRANSPORT_FAILED");
                break;
            }
        };
        for p in exchange
            .provisional
            .iter()
            .chain(exchange.final_response.iter())
        {
            result.ladder.push(Step::response(
                ms(sent_at + p.at),
                p.message.status().unwrap_or(0),
                p.message.reason().unwrap_or(""),
            ));
        }
        let Some(resp) = exchange.final_response else {
            break;
        };
        let code = resp.message.status().unwrap_or(0);
        last = Some(resp.clone());
        let m = &resp.message;
        match code {
            401 | 407 => {
                let (header, auth_header) = if code == 401 {
                    ("WWW-Authenticate", "Authorization")
                } else {
                    ("Proxy-Authenticate", "Proxy-Authorization")
                };
                let (chosen, errors) = Challenge::choose(m.headers_named(header));
                let Some(ch) = chosen else {
                    result.auth_failure = Some(format!(
                        "the registrar's {code} challenge cannot be answered: {}",
                        errors
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; ")
                    ));
                    break;
                };
                if sent_credentials_for.is_some() && !ch.stale {
                    result.auth_failure = Some(format!(
                        "authentication failed: the registrar rejected the credentials of user \
                         {user:?} for realm {:?} ({code} again) — wrong password or user name",
                        ch.realm
                    ));
                    break;
                }
                if password.is_none() {
                    password = obtain_password(args, &user)?;
                }
                if password.is_none() {
                    result.auth_failure = Some(format!(
                        "the registrar requires authentication ({code}) and no password was \
                         given: set {PASSWORD_ENV}, use --password-file, or run on a terminal"
                    ));
                    break;
                }
                let stale_retry = ch.stale && sent_credentials_for.is_some();
                result.auth = Some(AuthInfo {
                    challenge_status: code,
                    realm: ch.realm.clone(),
                    algorithm: ch.algorithm_name(),
                    qop: ch.qop_to_use(args.auth_int).map(|q| q.token().to_string()),
                    user: user.clone(),
                    stale_retry: stale_retry || result.auth.as_ref().is_some_and(|a| a.stale_retry),
                });
                sent_credentials_for = None;
                answering = Some((auth_header, ch, 0, code));
            }
            423 => {
                let min = m
                    .header("Min-Expires")
                    .and_then(|v| v.trim().parse::<u32>().ok());
                match min {
                    Some(min) if result.interval_retry.is_none() && min > expires => {
                        result.interval_retry = Some(min);
                        expires = min;
                        result.requested_expires_s = min;
                        // The nonce stays valid: answer it again with the next nc.
                        sent_credentials_for = None;
                    }
                    _ => break,
                }
            }
            _ => break,
        }
    }
    if let Some(resp) = &last {
        read_final(&mut result, &resp.message, &contact, flow.local);
    }
    Ok(finish(started_at, t0, result))
}

fn finish(started_at: SystemTime, t0: Instant, result: RegisterResult) -> Report<RegisterResult> {
    let found = findings(&result);
    let st = status(&result);
    Report::new("register", started_at, t0.elapsed(), st, found, result)
}

/// Fills the result from the final response.
fn read_final(
    result: &mut RegisterResult,
    m: &Message,
    contact: &str,
    local: std::net::SocketAddr,
) {
    let code = m.status().unwrap_or(0);
    result.final_status = Some(code);
    result.reason = m.reason().map(str::to_string);
    let view = ViewOfUs::from_response(m);
    result.received = view.received.clone();
    result.rport = view.rport;
    result.nat_detected = view.nat_detected(local);
    result.public_address = view.seen.map(|s| s.to_string());
    let list = |name: &str| {
        m.headers_named(name)
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    match code {
        200..=299 => {
            let header_expires = m
                .header("Expires")
                .and_then(|e| e.trim().parse::<u64>().ok());
            result.bindings = m
                .headers_named("Contact")
                .filter_map(|c| NameAddr::parse(c).ok())
                .map(|c| Binding {
                    ours: same_uri(&c.uri, contact),
                    expires_s: c
                        .param("expires")
                        .and_then(|e| e.parse().ok())
                        .or(header_expires),
                    uri: c.uri,
                })
                .collect();
            let ours = result.bindings.iter().find(|b| b.ours);
            result.expires_s = ours.and_then(|b| b.expires_s).or(header_expires);
            result.registered = if result.unregister {
                ours.is_none()
            } else {
                true
            };
            result.path = list("Path");
            result.service_route = list("Service-Route");
            result.p_associated_uri = list("P-Associated-URI");
        }
        300..=399 => {
            result.redirect = m
                .headers_named("Contact")
                .filter_map(|c| NameAddr::parse(c).ok())
                .map(|c| c.uri)
                .collect();
        }
        _ => {}
    }
}

/// URI equality for bindings: scheme, user and host case-insensitively; parameters ignored.
fn same_uri(a: &str, b: &str) -> bool {
    let base = |s: &str| s.split(';').next().unwrap_or("").to_ascii_lowercase();
    base(a) == base(b)
}
