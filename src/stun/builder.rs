//! Building any STUN message (RFC 8489 §5, §14): class, method, transaction ID, attributes in
//! the order added, then MESSAGE-INTEGRITY with a long-term credential (§9.2) and FINGERPRINT
//! (§14.7) when asked. stun_codec encodes; the attribute set is [`Attribute`] (RFC 5389, 5780,
//! and TURN's RFC 5766/8656).

use bytecodec::EncodeExt;
use stun_codec::rfc5389::attributes::{Fingerprint, MessageIntegrity, Nonce, Realm, Username};
use stun_codec::{Message, MessageClass, MessageEncoder, Method, TransactionId};

use super::attributes::Attribute;
use super::message::Class;

/// Why a message could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot build the STUN message: {0}")]
pub struct BuildError(String);

fn err(e: impl std::fmt::Display) -> BuildError {
    BuildError(e.to_string().lines().next().unwrap_or("").to_string())
}

/// A long-term credential (RFC 8489 §9.2): the user name, the server's REALM and NONCE, and
/// the password. The password is never shown: `Debug` prints it as `***`.
#[derive(Clone)]
pub struct LongTermCredential {
    /// USERNAME (already through SASLprep/OpaqueString where that matters).
    pub username: String,
    /// REALM from the server's 401.
    pub realm: String,
    /// NONCE from the server's 401 or 438.
    pub nonce: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for LongTermCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LongTermCredential")
            .field("username", &self.username)
            .field("realm", &self.realm)
            .field("nonce", &self.nonce)
            .field("password", &"***")
            .finish()
    }
}

/// A STUN message under construction.
#[derive(Debug, Clone)]
pub struct MessageBuilder {
    message: Message<Attribute>,
}

impl MessageBuilder {
    /// A message of `class` and `method` (12-bit, e.g. 0x001 Binding, 0x003 Allocate).
    ///
    /// # Errors
    /// A method number over 0xFFF.
    pub fn new(class: Class, method: u16, transaction_id: [u8; 12]) -> Result<Self, BuildError> {
        let class = match class {
            Class::Request => MessageClass::Request,
            Class::Indication => MessageClass::Indication,
            Class::SuccessResponse => MessageClass::SuccessResponse,
            Class::ErrorResponse => MessageClass::ErrorResponse,
        };
        let method = Method::new(method).map_err(err)?;
        Ok(MessageBuilder {
            message: Message::new(class, method, TransactionId::new(transaction_id)),
        })
    }

    /// A request of `method`.
    ///
    /// # Errors
    /// As [`MessageBuilder::new`].
    pub fn request(method: u16, transaction_id: [u8; 12]) -> Result<Self, BuildError> {
        Self::new(Class::Request, method, transaction_id)
    }

    /// Adds an attribute (in order).
    #[must_use]
    pub fn attribute(mut self, attribute: impl Into<Attribute>) -> Self {
        self.message.add_attribute(attribute.into());
        self
    }

    /// Adds USERNAME, NONCE and REALM, then MESSAGE-INTEGRITY keyed with
    /// MD5(username ":" realm ":" password) over everything before it (RFC 8489 §9.2.2).
    ///
    /// # Errors
    /// A user name, realm or nonce stun_codec refuses (too long).
    pub fn long_term_credential(self, c: &LongTermCredential) -> Result<Self, BuildError> {
        let username = Username::new(c.username.clone()).map_err(err)?;
        let realm = Realm::new(c.realm.clone()).map_err(err)?;
        let nonce = Nonce::new(c.nonce.clone()).map_err(err)?;
        let mut b = self
            .attribute(username.clone())
            .attribute(nonce)
            .attribute(realm.clone());
        let mi =
            MessageIntegrity::new_long_term_credential(&b.message, &username, &realm, &c.password)
                .map_err(err)?;
        b.message.add_attribute(Attribute::from(mi));
        Ok(b)
    }

    /// Encodes the message, ending in FINGERPRINT when `fingerprint`.
    ///
    /// # Errors
    /// An attribute stun_codec cannot encode.
    pub fn encode(mut self, fingerprint: bool) -> Result<Vec<u8>, BuildError> {
        if fingerprint {
            let fp = Fingerprint::new(&self.message).map_err(err)?;
            self.message.add_attribute(Attribute::from(fp));
        }
        MessageEncoder::<Attribute>::new()
            .encode_into_bytes(self.message)
            .map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stun::message::decode;
    use stun_codec::rfc5766::attributes::{Lifetime, RequestedTransport};

    /// RFC 5769 §2.4, the sample request with long-term authentication: USERNAME
    /// "マトリックス", NONCE, REALM "example.org", MESSAGE-INTEGRITY keyed with the password
    /// after SASLprep ("TheMatrIX"); no FINGERPRINT.
    const RFC5769_LONG_TERM: [u8; 116] = [
        0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42, // Binding request, length 96, cookie
        0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0, 0x29, 0xda, 0x41,
        0x2e, // transaction ID
        0x00, 0x06, 0x00, 0x12, 0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88, 0xe3, 0x83, 0xaa, 0xe3, 0x83,
        0x83, 0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9, 0x00, 0x00, // USERNAME (18 bytes) + padding
        0x00, 0x15, 0x00, 0x1c, 0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64,
        0x36, 0x4f, 0x4c, 0x33, 0x34, 0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34,
        0x73, 0x41, // NONCE "f//499k954d6OL34oL9FSTvy64sA"
        0x00, 0x14, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67,
        0x00, // REALM "example.org" + padding
        0x00, 0x08, 0x00, 0x14, 0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02, 0xb8, 0xe0,
        0x71, 0x2e, 0x85, 0xc9, 0xa2, 0x8c, 0xa8, 0x96, 0x66, // MESSAGE-INTEGRITY
    ];

    #[test]
    fn rfc5769_long_term_request_byte_for_byte() {
        let tid = RFC5769_LONG_TERM[8..20].try_into().unwrap();
        let credential = LongTermCredential {
            username: "\u{30de}\u{30c8}\u{30ea}\u{30c3}\u{30af}\u{30b9}".into(),
            realm: "example.org".into(),
            nonce: "f//499k954d6OL34oL9FSTvy64sA".into(),
            password: "TheMatrIX".into(),
        };
        let bytes = MessageBuilder::request(0x001, tid)
            .unwrap()
            .long_term_credential(&credential)
            .unwrap()
            .encode(false)
            .unwrap();
        assert_eq!(bytes, RFC5769_LONG_TERM);
        assert!(!format!("{credential:?}").contains("TheMatrIX"));
    }

    #[test]
    fn turn_allocate_request_round_trips() {
        let bytes = MessageBuilder::request(0x003, [7; 12])
            .unwrap()
            .attribute(RequestedTransport::new(17))
            .attribute(Lifetime::new(std::time::Duration::from_secs(600)).unwrap())
            .encode(true)
            .unwrap();
        let m = decode(&bytes).unwrap();
        assert_eq!((m.class, m.method), (Class::Request, 0x003));
        assert!(m.fingerprint);
        assert!(m.unknown_attributes.is_empty());
        assert!(MessageBuilder::request(0x1000, [0; 12]).is_err());
    }
}
