//! The client's digest authentication step (RFC 3261 §22.2–22.3, RFC 7616, RFC 8760), one
//! for REGISTER and INVITE: read a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate),
//! choose the challenge we can answer, tell a wrong password (challenged again without
//! `stale=true`) from a stale nonce (answered again), ask for a password when none was
//! given, and sign each request that follows with the next nonce count.

use super::digest::{self, Challenge};
use super::message::Message;
use super::register::{AuthFailure, AuthInfo, Credentials};
use super::request::random_token;

/// The header a challenge comes in and the one our answer goes in, for a 401 or 407.
pub fn challenge_headers(status: u16) -> (&'static str, &'static str) {
    if status == 407 {
        ("Proxy-Authenticate", "Proxy-Authorization")
    } else {
        ("WWW-Authenticate", "Authorization")
    }
}

/// What to do after a challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStep {
    /// Send the request again: [`Authenticator::sign`] now gives credentials.
    Retry,
    /// No password yet: ask for one, then [`Authenticator::provide_password`].
    NeedPassword {
        /// The realm asked for.
        realm: String,
    },
    /// Give up: see [`Authenticator::failure`].
    Failed,
}

/// One signed request's credentials.
#[derive(Debug, Clone)]
pub struct Signed {
    /// `Authorization` or `Proxy-Authorization`.
    pub header: &'static str,
    /// The header value (it holds the digest response: never log it).
    pub value: String,
    /// What the ladder shows of it.
    pub credentials: Credentials,
}

/// The authentication state of one exchange (see the module documentation).
#[derive(Clone)]
pub struct Authenticator {
    user: String,
    password: Option<String>,
    prefer_auth_int: bool,
    /// The challenge answered: (answer header, challenge, nonce count so far).
    answering: Option<(&'static str, Challenge, u32)>,
    /// The last request carried credentials for the challenge in force.
    sent: bool,
    awaiting: Option<(Challenge, u16, &'static str)>,
    info: Option<AuthInfo>,
    failure: Option<AuthFailure>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// For `user`, with the password when it is known before the first challenge;
    /// `prefer_auth_int` picks qop=auth-int when offered.
    pub fn new(user: String, password: Option<String>, prefer_auth_int: bool) -> Self {
        Authenticator {
            user,
            password,
            prefer_auth_int,
            answering: None,
            sent: false,
            awaiting: None,
            info: None,
            failure: None,
        }
    }

    /// The authentication in force (what the report shows).
    pub fn info(&self) -> Option<&AuthInfo> {
        self.info.as_ref()
    }

    /// Why authentication failed, once it has.
    pub fn failure(&self) -> Option<&AuthFailure> {
        self.failure.as_ref()
    }

    /// Whether a password is being waited for.
    pub fn is_awaiting_password(&self) -> bool {
        self.awaiting.is_some()
    }

    /// The next request is not a reply to a challenge even if it carries credentials (after
    /// a 423 or 422 retry the nonce stays valid; being challenged then is not a rejection).
    pub fn forget_sent(&mut self) {
        self.sent = false;
    }

    /// A 401 or 407 `response` arrived.
    pub fn challenged(&mut self, response: &Message) -> AuthStep {
        let status = response.status().unwrap_or(401);
        let (header, answer_header) = challenge_headers(status);
        let (chosen, errors) = Challenge::choose(response.headers_named(header));
        let Some(ch) = chosen else {
            self.failure = Some(AuthFailure::Unanswerable {
                status,
                errors: errors.iter().map(ToString::to_string).collect(),
            });
            return AuthStep::Failed;
        };
        if self.sent && !ch.stale {
            self.failure = Some(AuthFailure::Rejected {
                user: self.user.clone(),
                realm: ch.realm.clone(),
                status,
            });
            return AuthStep::Failed;
        }
        if self.password.is_none() {
            let realm = ch.realm.clone();
            self.awaiting = Some((ch, status, answer_header));
            return AuthStep::NeedPassword { realm };
        }
        self.accept(ch, status, answer_header);
        AuthStep::Retry
    }

    /// The password asked for with [`AuthStep::NeedPassword`] (`None`: there is none, and
    /// authentication fails). `None` when no password was being waited for.
    pub fn provide_password(&mut self, password: Option<String>) -> Option<AuthStep> {
        let (ch, status, header) = self.awaiting.take()?;
        Some(match password {
            Some(p) => {
                self.password = Some(p);
                self.accept(ch, status, header);
                AuthStep::Retry
            }
            None => {
                self.failure = Some(AuthFailure::NoPassword { status });
                AuthStep::Failed
            }
        })
    }

    fn accept(&mut self, ch: Challenge, status: u16, header: &'static str) {
        let stale_retry = ch.stale && self.sent;
        self.info = Some(AuthInfo {
            challenge_status: status,
            realm: ch.realm.clone(),
            algorithm: ch.algorithm_name(),
            qop: ch
                .qop_to_use(self.prefer_auth_int)
                .map(|q| q.token().to_string()),
            user: self.user.clone(),
            stale_retry: stale_retry || self.info.as_ref().is_some_and(|a| a.stale_retry),
        });
        self.sent = false;
        self.answering = Some((header, ch, 0));
    }

    /// Credentials for a `method` request to `uri` with `body`, with the next nonce count
    /// and a fresh cnonce from `rng`; `None` before any challenge.
    pub fn sign(
        &mut self,
        rng: &mut impl rand::Rng,
        method: &str,
        uri: &str,
        body: &[u8],
    ) -> Option<Signed> {
        let (header, challenge, nc) = self.answering.as_mut()?;
        let password = self.password.as_ref()?;
        *nc += 1;
        let cnonce = random_token(rng, 16);
        let auth = digest::authorize(
            challenge,
            &self.user,
            password,
            digest::Request { method, uri, body },
            *nc,
            &cnonce,
            self.prefer_auth_int,
        );
        self.sent = true;
        Some(Signed {
            header,
            value: auth.value().to_string(),
            credentials: Credentials {
                header,
                algorithm: challenge.algorithm_name(),
                qop: auth.qop.map(|q| q.token()),
            },
        })
    }
}
