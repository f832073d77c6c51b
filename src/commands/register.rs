//! `voipdiag register`: locate the registrar, open a flow, run the REGISTER machine
//! (`sip::register`) over the driver, and report what the registrar kept.

use super::sip_common::{
    given_password, open_server_flow, prompt, route_set, timers, tls_options, tracer,
};
use super::{CommandError, Env};
use crate::cli::{GlobalArgs, RegisterArgs};
use crate::net::driver;
use crate::report::Report;
use crate::report::register::{RegisterResult, findings, status};
use crate::sip::endpoint::Endpoint;
use crate::sip::register::{RegisterConfig, RegisterEvent, Registration};
use crate::sip::request::random_token;
use crate::sip::target::{Target, Transport};

/// Runs `register`.
///
/// # Errors
/// Usage errors (no user part, unreadable password file or prompt); the rest is in the
/// report.
pub async fn run(
    global: &GlobalArgs,
    args: &RegisterArgs,
) -> Result<Report<RegisterResult>, CommandError> {
    let env = Env::new(global);
    let aor = &args.aor;
    let user = match (&args.user, &aor.user) {
        (Some(u), _) | (None, Some(u)) => u.clone(),
        (None, None) => {
            return Err(CommandError::Usage(format!(
                "{aor} has no user part; give sip:user@domain or --user"
            )));
        }
    };
    // Fail early on an unreadable file, before any traffic.
    let password = given_password(args.password_file.as_deref(), args.password.as_ref())?;
    tls_options(&args.sip)?;
    let mut result = RegisterResult {
        aor: aor.aor(),
        unregister: args.unregister,
        requested_expires_s: if args.unregister { 0 } else { args.expires },
        ..RegisterResult::default()
    };
    let registrar = Target {
        user: None,
        ..aor.clone()
    };
    let mut rng = env.rng();
    let (resolution, opened) = open_server_flow(&registrar, &args.sip, global, &mut rng).await;
    result.resolution = resolution;
    let opened = match opened {
        Ok(s) => s,
        Err(u) => {
            result.error = Some(u.message);
            result.error_code = Some(u.code);
            return Ok(finish(&env, result));
        }
    };
    let flow = opened.flow.flow(0);
    let contact = args.contact.clone().unwrap_or_else(|| {
        let mut c = format!("sip:{user}@{}:{}", flow.sent_by_host(), flow.local.port());
        if flow.transport != Transport::Udp {
            c.push_str(&format!(";transport={}", flow.transport));
        }
        c
    });
    let config = RegisterConfig {
        aor: aor.aor(),
        request_uri: registrar.request_uri(),
        user: user.clone(),
        contact: contact.clone(),
        expires: result.requested_expires_s,
        unregister: args.unregister,
        auth_int: args.auth_int,
        route: route_set(&args.sip),
        password,
        start: env.t0,
    };
    let endpoint = Endpoint::new(
        vec![flow],
        timers(&args.sip),
        Some(global.timeout),
        random_token(&mut rng, 10),
    );
    let mut machine = Registration::new(config, endpoint, rng, env.now());
    let options = driver::Options {
        tracer: tracer(global.verbose),
        interrupt: &env.interrupt,
        precise: false,
    };
    let mut prompt_error = None;
    let end = driver::run(
        &mut machine,
        vec![opened.flow.socket],
        options,
        |m, RegisterEvent::PasswordNeeded { .. }| {
            let pw = prompt(&user).unwrap_or_else(|e| {
                prompt_error = Some(e);
                None
            });
            m.provide_password(driver::now(), pw);
        },
    )
    .await;
    if let Some(e) = prompt_error {
        return Err(CommandError::Usage(e));
    }
    if let Some(f) = end.failure() {
        return Err(CommandError::Internal(anyhow::anyhow!(f)));
    }
    result.fill(&flow, &contact, machine.outcome());
    Ok(finish(&env, result))
}

fn finish(env: &Env, result: RegisterResult) -> Report<RegisterResult> {
    let found = findings(&result);
    let st = status(&result);
    env.report("register", st, found, result)
}
