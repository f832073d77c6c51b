//! TURN credentials: the long-term credential (RFC 8489 §9.2) and the TURN REST API's
//! time-limited credential minted from a shared secret (draft-uberti-behave-turn-rest-00, as
//! coturn's `--use-auth-secret` / `--static-auth-secret` implement it).

use base64::Engine as _;
use hmac::{Hmac, Mac};

/// What the client authenticates with.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A user name and password (`--turn-user` and its password).
    LongTerm {
        /// USERNAME.
        username: String,
        /// The password; never shown.
        password: String,
    },
    /// A REST credential minted from a shared secret: the user name `EXPIRY:USER` and the
    /// password base64(HMAC-SHA1(secret, username)).
    Rest {
        /// `EXPIRY:USER`.
        username: String,
        /// The derived password; never shown.
        password: String,
        /// Unix time the credential expires.
        expiry: u64,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::LongTerm { username, .. } => {
                write!(f, "LongTerm {{ username: {username:?}, password: *** }}")
            }
            Credentials::Rest {
                username, expiry, ..
            } => write!(
                f,
                "Rest {{ username: {username:?}, expiry: {expiry}, password: *** }}"
            ),
        }
    }
}

impl Credentials {
    /// The USERNAME sent.
    pub fn username(&self) -> &str {
        match self {
            Credentials::LongTerm { username, .. } | Credentials::Rest { username, .. } => username,
        }
    }

    /// The password the MESSAGE-INTEGRITY key is made from.
    pub fn password(&self) -> &str {
        match self {
            Credentials::LongTerm { password, .. } | Credentials::Rest { password, .. } => password,
        }
    }

    /// `long-term` or `rest`.
    pub fn mechanism(&self) -> &'static str {
        match self {
            Credentials::LongTerm { .. } => "long-term",
            Credentials::Rest { .. } => "rest",
        }
    }

    /// A REST credential's expiry (Unix seconds); for a long-term user name of the REST form
    /// (`EXPIRY:USER`, as a TURN REST response hands out) the expiry it carries.
    pub fn rest_expiry(&self) -> Option<u64> {
        match self {
            Credentials::Rest { expiry, .. } => Some(*expiry),
            Credentials::LongTerm { username, .. } => rest_username_expiry(username),
        }
    }
}

/// Mints a TURN REST credential: user name `EXPIRY:USER` (or just `EXPIRY` without a user),
/// password base64(HMAC-SHA1(`secret`, user name)). `expiry` is Unix seconds.
pub fn rest_credential(secret: &[u8], user: Option<&str>, expiry: u64) -> Credentials {
    let username = match user {
        Some(u) if !u.is_empty() => format!("{expiry}:{u}"),
        _ => expiry.to_string(),
    };
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(username.as_bytes());
    let password = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    Credentials::Rest {
        username,
        password,
        expiry,
    }
}

/// The expiry a REST user name carries (`EXPIRY:USER` or `EXPIRY`), if it has that form.
pub fn rest_username_expiry(username: &str) -> Option<u64> {
    let head = username.split(':').next()?;
    (head.len() >= 9 && head.bytes().all(|b| b.is_ascii_digit()))
        .then(|| head.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_credential_matches_an_independent_hmac() {
        // python3: base64(hmac.new(b"north", b"1700000000:alice", sha1).digest())
        let c = rest_credential(b"north", Some("alice"), 1_700_000_000);
        assert_eq!(c.username(), "1700000000:alice");
        assert_eq!(c.password(), "Cd/49soE35ICqcJF/bCTn8Z4OyE=");
        assert_eq!(c.rest_expiry(), Some(1_700_000_000));
        assert!(
            !format!("{c:?}").contains("Cd/49"),
            "Debug shows no password"
        );
        assert_eq!(
            rest_credential(b"k", None, 1_800_000_000).username(),
            "1800000000"
        );
    }

    #[test]
    fn rest_expiry_only_from_rest_shaped_names() {
        assert_eq!(rest_username_expiry("1700000000:bob"), Some(1_700_000_000));
        assert_eq!(rest_username_expiry("alice"), None);
        assert_eq!(rest_username_expiry("12:bob"), None);
        let lt = Credentials::LongTerm {
            username: "1700000000:bob".into(),
            password: "x".into(),
        };
        assert_eq!(lt.rest_expiry(), Some(1_700_000_000));
    }
}
