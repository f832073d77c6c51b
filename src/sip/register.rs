//! REGISTER (RFC 3261 §10.2) as a sans-IO machine on the [`Endpoint`]: the request with our
//! Contact and Expires; digest authentication on 401 (WWW-Authenticate) and 407
//! (Proxy-Authenticate) with nonce counts (RFC 7616/8760); a `stale=true` challenge answered
//! again; a 423 Interval Too Brief retried once with Min-Expires (§10.2.8); at most
//! [`MAX_REQUESTS`] requests; and what the registrar kept: the bindings, Path (RFC 3327),
//! Service-Route (RFC 3608), P-Associated-URI (RFC 3455), or the Contacts of a 3xx.
//!
//! The password may be unknown at the start: on the first challenge the machine asks for it
//! with [`RegisterEvent::PasswordNeeded`] and waits for [`Registration::provide_password`].

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use serde::Serialize;

use super::auth::{AuthStep, Authenticator};
use super::context::RequestContext;
use super::endpoint::{ClientId, Endpoint, EndpointEvent, TransactionResult};
use super::message::{Message, NameAddr};
use super::request::Method;
use crate::machine::{Input, Machine, Transmit};

/// Requests sent at most in one run (challenge, stale nonce, 423 and their combinations).
pub const MAX_REQUESTS: u32 = 6;

/// What to register.
#[derive(Clone)]
pub struct RegisterConfig {
    /// Address-of-record, for From and To.
    pub aor: String,
    /// Request-URI: the registrar's domain.
    pub request_uri: String,
    /// Authentication user name.
    pub user: String,
    /// The Contact to register.
    pub contact: String,
    /// Expires to ask for, s (0 removes the binding).
    pub expires: u32,
    /// Whether this removes our binding.
    pub unregister: bool,
    /// Prefer qop=auth-int when offered.
    pub auth_int: bool,
    /// Route set (`--proxy`).
    pub route: Vec<String>,
    /// The password, when known before the first challenge.
    pub password: Option<String>,
    /// Where ladder times count from (the command's start).
    pub start: Instant,
}

impl std::fmt::Debug for RegisterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterConfig")
            .field("aor", &self.aor)
            .field("user", &self.user)
            .field("contact", &self.contact)
            .field("expires", &self.expires)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

/// The credentials a REGISTER carried: (header, algorithm, qop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `Authorization` or `Proxy-Authorization`.
    pub header: &'static str,
    /// `MD5`, `SHA-256`, …
    pub algorithm: String,
    /// qop used, if any.
    pub qop: Option<&'static str>,
}

/// One step of the exchange, timed from the command's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LadderEntry {
    /// A REGISTER we sent.
    Request {
        /// When.
        at: Duration,
        /// Its CSeq.
        cseq: u32,
        /// Its Expires.
        expires: u32,
        /// Its credentials.
        credentials: Option<Credentials>,
    },
    /// A response we received.
    Response {
        /// When.
        at: Duration,
        /// Status code.
        status: u16,
        /// Reason phrase.
        reason: String,
    },
}

/// The authentication that was used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthInfo {
    /// 401 (WWW-Authenticate) or 407 (Proxy-Authenticate).
    pub challenge_status: u16,
    /// Realm.
    pub realm: String,
    /// `MD5`, `MD5-sess`, `SHA-256`, …
    pub algorithm: String,
    /// qop used.
    pub qop: Option<String>,
    /// Authentication user name.
    pub user: String,
    /// Whether a `stale=true` challenge was answered again.
    pub stale_retry: bool,
}

/// Why authentication failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// No challenge of the 401/407 can be answered (unknown algorithm, broken syntax).
    Unanswerable {
        /// 401 or 407.
        status: u16,
        /// Why each challenge was refused.
        errors: Vec<String>,
    },
    /// The registrar challenged our credentials again (without `stale`): wrong password
    /// or user name.
    Rejected {
        /// The user name.
        user: String,
        /// The realm.
        realm: String,
        /// 401 or 407.
        status: u16,
    },
    /// A challenge came and no password was given.
    NoPassword {
        /// 401 or 407.
        status: u16,
    },
}

/// One Contact binding the registrar returned (RFC 3261 §10.3 step 8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Binding {
    /// Contact URI.
    pub uri: String,
    /// Its `expires` parameter (or the Expires header), s.
    pub expires_s: Option<u64>,
    /// Whether it is the one we registered.
    pub ours: bool,
}

/// What the final response says the registrar kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registered {
    /// The binding was stored (or, when unregistering, removed).
    pub registered: bool,
    /// Expiry of our binding (or the Expires header), s.
    pub expires_s: Option<u64>,
    /// Every binding returned (2xx).
    pub bindings: Vec<Binding>,
    /// Expires values that are not delta-seconds (0 to 2^32−1), as received.
    pub malformed_expires: Vec<String>,
    /// Path values (RFC 3327).
    pub path: Vec<String>,
    /// Service-Route values (RFC 3608).
    pub service_route: Vec<String>,
    /// P-Associated-URI values (RFC 3455).
    pub p_associated_uri: Vec<String>,
    /// Contacts of a 3xx.
    pub redirect: Vec<String>,
}

/// What the registration came to.
#[derive(Debug, Clone, Default)]
pub struct RegisterOutcome {
    /// Every request and response.
    pub ladder: Vec<LadderEntry>,
    /// The authentication used.
    pub auth: Option<AuthInfo>,
    /// Why authentication failed, when it did.
    pub auth_failure: Option<AuthFailure>,
    /// Min-Expires of a 423 that drove a retry.
    pub interval_retry: Option<u32>,
    /// Expires of the last request (the Min-Expires after a 423 retry), s.
    pub requested_expires_s: u32,
    /// The last final response.
    pub final_response: Option<Message>,
    /// A transport failure or Ctrl-C: (finding code, words).
    pub error: Option<(&'static str, String)>,
}

/// What the machine asks of its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterEvent {
    /// A challenge needs a password and none was given: answer with
    /// [`Registration::provide_password`].
    PasswordNeeded {
        /// The realm asked for.
        realm: String,
    },
}

/// The REGISTER machine (see the module documentation).
pub struct Registration {
    config: RegisterConfig,
    endpoint: Endpoint,
    ctx: RequestContext,
    rng: StdRng,
    expires: u32,
    cseq: u32,
    requests: u32,
    auth: Authenticator,
    current: Option<(ClientId, Duration)>,
    outcome: RegisterOutcome,
    events: std::collections::VecDeque<RegisterEvent>,
    done: bool,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("config", &self.config)
            .field("requests", &self.requests)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl Registration {
    /// Starts registering at `now` over the endpoint's flow 0; the first REGISTER is sent at
    /// once.
    pub fn new(config: RegisterConfig, endpoint: Endpoint, mut rng: StdRng, now: Instant) -> Self {
        let ctx = RequestContext::new(
            &mut rng,
            config.request_uri.clone(),
            config.aor.clone(),
            config.aor.clone(),
            config.route.clone(),
        );
        let auth = Authenticator::new(
            config.user.clone(),
            config.password.clone(),
            config.auth_int,
        );
        let mut r = Registration {
            auth,
            expires: config.expires,
            outcome: RegisterOutcome {
                requested_expires_s: config.expires,
                ..RegisterOutcome::default()
            },
            config,
            endpoint,
            ctx,
            rng,
            cseq: 0,
            requests: 0,
            current: None,
            events: Default::default(),
            done: false,
        };
        r.send(now);
        r
    }

    /// What the registration came to (so far).
    pub fn outcome(&self) -> &RegisterOutcome {
        &self.outcome
    }

    /// The endpoint (its flow).
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The password asked for with [`RegisterEvent::PasswordNeeded`], or `None` when there
    /// is none: the registration then ends with [`AuthFailure::NoPassword`].
    pub fn provide_password(&mut self, now: Instant, password: Option<String>) {
        match self.auth.provide_password(password) {
            Some(AuthStep::Retry) => self.retry_authenticated(now),
            Some(_) => {
                self.outcome.auth_failure = self.auth.failure().cloned();
                self.done = true;
            }
            None => {}
        }
    }

    fn send(&mut self, now: Instant) {
        if self.requests >= MAX_REQUESTS {
            self.done = true;
            return;
        }
        self.cseq += 1;
        self.requests += 1;
        let flow = *self.endpoint.flow(0);
        let mut spec = self
            .ctx
            .request(&mut self.rng, Method::Register, self.cseq, &flow, None);
        spec.contact = Some(self.config.contact.clone());
        spec.expires = Some(self.expires);
        let mut credentials = None;
        if let Some(signed) = self
            .auth
            .sign(&mut self.rng, "REGISTER", &self.ctx.request_uri, b"")
        {
            spec.extra.push((signed.header.to_string(), signed.value));
            credentials = Some(signed.credentials);
        }
        let at = now.saturating_duration_since(self.config.start);
        self.outcome.ladder.push(LadderEntry::Request {
            at,
            cseq: self.cseq,
            expires: self.expires,
            credentials,
        });
        match self.endpoint.send_request(now, 0, spec) {
            Ok(id) => self.current = Some((id, at)),
            Err(e) => {
                self.outcome.error = Some(("SIP_TRANSPORT_FAILED", e.to_string()));
                self.done = true;
            }
        }
    }

    fn completed(&mut self, now: Instant, result: TransactionResult, sent_at: Duration) {
        for p in result
            .provisional
            .iter()
            .chain(result.final_response.iter())
        {
            self.outcome.ladder.push(LadderEntry::Response {
                at: sent_at + p.at,
                status: p.message.status().unwrap_or(0),
                reason: p.message.reason().unwrap_or("").to_string(),
            });
        }
        let Some(resp) = result.final_response else {
            self.done = true;
            return;
        };
        let code = resp.message.status().unwrap_or(0);
        let m = resp.message;
        self.outcome.final_response = Some(m.clone());
        match code {
            401 | 407 => match self.auth.challenged(&m) {
                AuthStep::Retry => self.retry_authenticated(now),
                AuthStep::NeedPassword { realm } => {
                    self.events
                        .push_back(RegisterEvent::PasswordNeeded { realm });
                }
                AuthStep::Failed => {
                    self.outcome.auth_failure = self.auth.failure().cloned();
                    self.done = true;
                }
            },
            423 => {
                let min = m
                    .header("Min-Expires")
                    .and_then(|v| v.trim().parse::<u32>().ok());
                match min {
                    Some(min) if self.outcome.interval_retry.is_none() && min > self.expires => {
                        self.outcome.interval_retry = Some(min);
                        self.expires = min;
                        self.outcome.requested_expires_s = min;
                        // The nonce stays valid: answer it again with the next nc.
                        self.auth.forget_sent();
                        self.send(now);
                    }
                    _ => self.done = true,
                }
            }
            _ => self.done = true,
        }
    }

    fn retry_authenticated(&mut self, now: Instant) {
        self.outcome.auth = self.auth.info().cloned();
        self.send(now);
    }

    fn drain(&mut self, now: Instant) {
        while let Some(e) = self.endpoint.poll_event() {
            match e {
                EndpointEvent::Completed { id, result } => {
                    if let Some((cur, at)) = self.current
                        && cur == id
                    {
                        self.current = None;
                        self.completed(now, result, at);
                    }
                }
                EndpointEvent::Failed { error, .. } => {
                    self.outcome.error = Some(("SIP_TRANSPORT_FAILED", error.to_string()));
                    self.done = true;
                }
                EndpointEvent::Request { id, .. } => {
                    // Nothing but responses is expected during a registration.
                    self.endpoint
                        .respond(now, id, 481, "Call/Transaction Does Not Exist", &[]);
                }
                EndpointEvent::Invite2xx { .. }
                | EndpointEvent::Provisional { .. }
                | EndpointEvent::Ack { .. } => {}
            }
        }
    }
}

/// Reads what the registrar kept from its final response `m`, for our `contact`.
pub fn read_final(m: &Message, contact: &str, unregister: bool) -> Registered {
    let code = m.status().unwrap_or(0);
    let list = |name: &str| {
        m.headers_named(name)
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let mut r = Registered::default();
    match code {
        200..=299 => {
            // delta-seconds are 0 to 2^32−1 (RFC 3261 §20.19, §20.10): anything else is
            // malformed, not used, and said so.
            let mut malformed = Vec::new();
            let mut seconds = |what: &str, text: &str| match text.trim().parse::<u32>() {
                Ok(s) => Some(u64::from(s)),
                Err(_) => {
                    malformed.push(format!("{what} {:?}", text.trim()));
                    None
                }
            };
            let header_expires = m.header("Expires").and_then(|e| seconds("Expires", e));
            r.bindings = m
                .headers_named("Contact")
                .filter_map(|c| NameAddr::parse(c).ok())
                .map(|c| Binding {
                    ours: same_uri(&c.uri, contact),
                    expires_s: c
                        .param("expires")
                        .and_then(|e| seconds("Contact expires=", e))
                        .or(header_expires),
                    uri: c.uri,
                })
                .collect();
            r.malformed_expires = malformed;
            let ours = r.bindings.iter().find(|b| b.ours);
            r.expires_s = ours.and_then(|b| b.expires_s).or(header_expires);
            // §10.2.4: a 2xx lists every current binding of the AOR. Registered means ours
            // is among them (and not expiring at once); unregistered means it is not.
            r.registered = if unregister {
                ours.is_none_or(|b| b.expires_s == Some(0))
            } else {
                ours.is_some_and(|b| b.expires_s != Some(0))
            };
            r.path = list("Path");
            r.service_route = list("Service-Route");
            r.p_associated_uri = list("P-Associated-URI");
        }
        300..=399 => {
            r.redirect = m
                .headers_named("Contact")
                .filter_map(|c| NameAddr::parse(c).ok())
                .map(|c| c.uri)
                .collect();
        }
        _ => {}
    }
    r
}

/// URI equality for bindings: scheme, user and host case-insensitively; parameters ignored.
fn same_uri(a: &str, b: &str) -> bool {
    let base = |s: &str| s.split(';').next().unwrap_or("").to_ascii_lowercase();
    base(a) == base(b)
}

impl Machine for Registration {
    type Event = RegisterEvent;

    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        self.endpoint.handle_input(now, input);
        self.drain(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.endpoint.handle_timeout(now);
        self.drain(now);
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.endpoint.poll_transmit()
    }

    fn poll_event(&mut self) -> Option<RegisterEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.done {
            return None;
        }
        self.endpoint.poll_timeout()
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn interrupt(&mut self, _now: Instant) {
        if !self.done {
            self.outcome.error = Some(("INTERRUPTED", "interrupted (Ctrl-C)".into()));
            self.endpoint.abandon();
            self.done = true;
        }
    }
}

#[cfg(test)]
mod tests {
    //! The REGISTER machine against a scripted registrar, in simulated time.
    use super::*;
    use crate::machine::{SocketId, simulate};
    use crate::sip::endpoint::Flow;
    use crate::sip::target::Transport;
    use crate::sip::transaction::Timers;
    use rand::SeedableRng;
    use std::net::SocketAddr;

    const REGISTRAR: &str = "192.0.2.10:5060";

    #[derive(Clone, Copy)]
    enum Reply {
        Challenge { nonce: &'static str, stale: bool },
        MinExpires(u32),
        Ok,
        Silence,
    }

    fn t0() -> Instant {
        #[allow(clippy::disallowed_methods)]
        Instant::now()
    }

    fn machine(password: Option<&str>, deadline: Option<Duration>, start: Instant) -> Registration {
        let flow = Flow {
            socket: 0,
            transport: Transport::Udp,
            local: "10.0.0.2:5060".parse().unwrap(),
            peer: REGISTRAR.parse().unwrap(),
        };
        let config = RegisterConfig {
            aor: "sip:alice@example.com".into(),
            request_uri: "sip:example.com".into(),
            user: "alice".into(),
            contact: "sip:alice@10.0.0.2:5060".into(),
            expires: 3600,
            unregister: false,
            auth_int: false,
            route: vec![],
            password: password.map(str::to_string),
            start,
        };
        let endpoint = Endpoint::new(vec![flow], Timers::default(), deadline, "t".into());
        Registration::new(config, endpoint, StdRng::seed_from_u64(5), start)
    }

    /// The registrar: answers each REGISTER with the next reply of `script`, 10 ms later;
    /// records the requests.
    fn registrar(
        script: Vec<Reply>,
        seen: &mut Vec<Message>,
    ) -> impl FnMut(Instant, &Transmit) -> Vec<(Duration, SocketId, SocketAddr, Vec<u8>)> + '_ {
        let mut script = script.into_iter();
        move |_, t| {
            let req = Message::parse(&t.payload).unwrap();
            seen.push(req.clone());
            let (status, extra) = match script.next().unwrap_or(Reply::Silence) {
                Reply::Silence => return vec![],
                Reply::Challenge { nonce, stale } => (
                    401,
                    vec![(
                        "WWW-Authenticate".to_string(),
                        format!(
                            "Digest realm=\"lab\", nonce=\"{nonce}\", algorithm=MD5, qop=\"auth\"{}",
                            if stale { ", stale=true" } else { "" }
                        ),
                    )],
                ),
                Reply::MinExpires(s) => (423, vec![("Min-Expires".into(), s.to_string())]),
                Reply::Ok => {
                    let expires = req.header("Expires").unwrap().to_string();
                    let contact = format!("<sip:alice@10.0.0.2:5060>;expires={expires}");
                    (200, vec![("Contact".into(), contact)])
                }
            };
            let resp = crate::sip::response::build(&req, status, "R", Some("reg"), &extra, None);
            vec![(
                Duration::from_millis(10),
                0,
                REGISTRAR.parse().unwrap(),
                resp,
            )]
        }
    }

    fn authorization(m: &Message) -> Option<(String, String)> {
        let v = m.header("Authorization")?;
        let field = |name: &str| {
            v.split(',')
                .find_map(|p| p.trim().trim_start_matches("Digest ").strip_prefix(name))
                .map(|x| x.trim_start_matches('=').trim_matches('"').to_string())
        };
        Some((field("nonce")?, field("nc")?))
    }

    /// 401 → credentials → 401 stale → credentials for the new nonce → 423 → the same nonce
    /// with the next nc and Min-Expires → 200 with our binding.
    #[test]
    fn challenge_stale_nonce_min_expires_then_registered() {
        let start = t0();
        let mut m = machine(Some("secret"), None, start);
        let mut seen = Vec::new();
        let script = vec![
            Reply::Challenge {
                nonce: "n1",
                stale: false,
            },
            Reply::Challenge {
                nonce: "n2",
                stale: true,
            },
            Reply::MinExpires(7200),
            Reply::Ok,
        ];
        let end = simulate(
            &mut m,
            start,
            1000,
            registrar(script, &mut seen),
            |_, _, _| {},
        );
        assert!(m.is_done());
        let o = m.outcome();
        assert_eq!(seen.len(), 4);
        let cseqs: Vec<u64> = seen.iter().map(|r| r.cseq().unwrap().0).collect();
        assert_eq!(cseqs, [1, 2, 3, 4]);
        let auth: Vec<Option<(String, String)>> = seen.iter().map(authorization).collect();
        let pair = |n: &str, nc: &str| Some((n.to_string(), nc.to_string()));
        assert_eq!(
            auth,
            [
                None,
                pair("n1", "00000001"),
                pair("n2", "00000001"),
                pair("n2", "00000002")
            ]
        );
        assert_eq!(seen[3].header("Expires"), Some("7200"));
        assert_eq!(o.final_response.as_ref().unwrap().status(), Some(200));
        assert_eq!(o.interval_retry, Some(7200));
        assert_eq!(o.requested_expires_s, 7200);
        let auth = o.auth.as_ref().unwrap();
        assert!(auth.stale_retry);
        assert_eq!((auth.challenge_status, auth.realm.as_str()), (401, "lab"));
        assert_eq!(o.auth_failure, None);
        assert_eq!(o.ladder.len(), 8);
        assert_eq!(end - start, Duration::from_millis(40));
        let kept = read_final(
            o.final_response.as_ref().unwrap(),
            "sip:alice@10.0.0.2:5060",
            false,
        );
        assert!(kept.registered);
        assert_eq!(kept.expires_s, Some(7200));
        assert!(kept.bindings[0].ours);
        // The password never reaches the debug form.
        assert!(!format!("{m:?}").contains("secret"));
    }

    /// A 2xx is a registration only when it lists our Contact (RFC 3261 §10.2.4), and
    /// expiry values beyond delta-seconds are refused, not used.
    #[test]
    fn a_2xx_without_our_contact_is_not_a_registration() {
        let ok = |contacts: &str, expires: &str| {
            let text = format!(
                "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKx\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n{contacts}Expires: {expires}\r\nContent-Length: 0\r\n\r\n"
            );
            Message::parse(text.as_bytes()).unwrap()
        };
        let me = "sip:alice@10.0.0.2:5060";
        let other = ok("Contact: <sip:alice@192.0.2.9:5060>;expires=60\r\n", "60");
        let kept = read_final(&other, me, false);
        assert!(!kept.registered);
        assert_eq!(kept.bindings.len(), 1);
        assert!(!kept.bindings[0].ours);
        // Removing: a list without ours means it is gone.
        assert!(read_final(&other, me, true).registered);
        let none = ok("", "60");
        assert!(!read_final(&none, me, false).registered);
        let huge = ok(
            "Contact: <sip:alice@10.0.0.2:5060>;expires=99999999999\r\n",
            "4294967296",
        );
        let kept = read_final(&huge, me, false);
        assert!(kept.registered);
        assert_eq!(kept.expires_s, None);
        assert_eq!(
            kept.malformed_expires.len(),
            2,
            "{:?}",
            kept.malformed_expires
        );
        let max = ok("Contact: <sip:alice@10.0.0.2:5060>\r\n", "4294967295");
        assert_eq!(read_final(&max, me, false).expires_s, Some(4_294_967_295));
        let gone = ok("Contact: <sip:alice@10.0.0.2:5060>;expires=0\r\n", "0");
        assert!(!read_final(&gone, me, false).registered);
    }

    /// Credentials challenged again without `stale`: authentication failed.
    #[test]
    fn challenged_twice_is_an_authentication_failure() {
        let start = t0();
        let mut m = machine(Some("wrong"), None, start);
        let mut seen = Vec::new();
        let script = vec![
            Reply::Challenge {
                nonce: "n1",
                stale: false,
            },
            Reply::Challenge {
                nonce: "n1",
                stale: false,
            },
        ];
        simulate(
            &mut m,
            start,
            1000,
            registrar(script, &mut seen),
            |_, _, _| {},
        );
        assert!(m.is_done());
        assert_eq!(seen.len(), 2);
        assert_eq!(
            m.outcome().auth_failure,
            Some(AuthFailure::Rejected {
                user: "alice".into(),
                realm: "lab".into(),
                status: 401
            })
        );
    }

    /// A silent registrar: Timer F after 64·T1 = 32 s, the request sent 11 times (Timer E);
    /// with a user deadline of 2 s, after 2 s.
    #[test]
    fn silence_ends_with_timer_f() {
        for (deadline, took, sent) in [(None, 32, 11), (Some(Duration::from_secs(2)), 2, 3)] {
            let start = t0();
            let mut m = machine(Some("secret"), deadline, start);
            let mut seen = Vec::new();
            let end = simulate(
                &mut m,
                start,
                1000,
                registrar(vec![], &mut seen),
                |_, _, _| {},
            );
            assert!(m.is_done());
            assert_eq!(end - start, Duration::from_secs(took));
            assert_eq!(seen.len(), sent);
            let o = m.outcome();
            assert!(o.final_response.is_none());
            assert_eq!(o.ladder.len(), 1, "one REGISTER, no response");
        }
    }

    /// Without a password the machine asks for one at the first challenge; none given ends
    /// it with NoPassword, one given carries on.
    #[test]
    fn asks_for_the_password_when_challenged() {
        for given in [None, Some("secret")] {
            let start = t0();
            let mut m = machine(None, None, start);
            let mut seen = Vec::new();
            let script = vec![
                Reply::Challenge {
                    nonce: "n1",
                    stale: false,
                },
                Reply::Ok,
            ];
            let mut asked = 0;
            simulate(
                &mut m,
                start,
                1000,
                registrar(script, &mut seen),
                |m, now, e| {
                    assert_eq!(
                        e,
                        RegisterEvent::PasswordNeeded {
                            realm: "lab".into()
                        }
                    );
                    asked += 1;
                    m.provide_password(now, given.map(str::to_string));
                },
            );
            assert_eq!(asked, 1);
            match given {
                None => assert_eq!(
                    m.outcome().auth_failure,
                    Some(AuthFailure::NoPassword { status: 401 })
                ),
                Some(_) => {
                    assert_eq!(seen.len(), 2);
                    let final_status = m.outcome().final_response.as_ref().unwrap().status();
                    assert_eq!(final_status, Some(200));
                }
            }
        }
    }
}
