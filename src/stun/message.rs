//! Encoding Binding requests and decoding any STUN message into a flat, owned view.
//!
//! Wire format: RFC 8489 §5 (20-byte header, magic cookie 0x2112A442, attributes padded to 4
//! bytes). Decoding is total: every input gives a [`StunMessage`] or a [`DecodeError`], never a
//! panic (the wire checks below run before stun_codec sees the bytes).

use std::fmt;
use std::net::SocketAddr;

use bytecodec::DecodeExt;
use stun_codec::Attribute as _;
use stun_codec::rfc5389::attributes::Software;
use stun_codec::rfc5389::methods::BINDING;
use stun_codec::{Message, MessageClass, MessageDecoder};

use super::attributes::{Attribute, ChangeRequest, Padding, ResponsePort};
use super::builder::MessageBuilder;

/// The fixed magic cookie of RFC 5389/8489 messages (§5).
pub const MAGIC_COOKIE: u32 = 0x2112_A442;
/// Size of the STUN header in bytes.
pub const HEADER_LEN: usize = 20;
/// Default STUN port over UDP and TCP (RFC 8489 §18.6).
pub const DEFAULT_PORT: u16 = 3478;

/// What a Binding request should ask for (RFC 5780 §7).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BindingRequest {
    /// CHANGE-REQUEST flags; `None` sends no CHANGE-REQUEST attribute.
    pub change_request: Option<ChangeRequest>,
    /// RESPONSE-PORT: ask the server to answer to this port of our (mapped) IP.
    pub response_port: Option<u16>,
    /// PADDING of this many bytes (rounded up to a multiple of 4).
    pub padding: Option<usize>,
    /// SOFTWARE description, e.g. "voipdiag 0.1.0".
    pub software: Option<String>,
}

/// The class of a message (RFC 8489 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// A request, e.g. a Binding request.
    Request,
    /// An indication (no response expected).
    Indication,
    /// A success response.
    SuccessResponse,
    /// An error response (carries ERROR-CODE).
    ErrorResponse,
}

impl Class {
    /// The class as written in reports: `request`, `indication`, `success-response`,
    /// `error-response` (the serde form too).
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Request => "request",
            Class::Indication => "indication",
            Class::SuccessResponse => "success-response",
            Class::ErrorResponse => "error-response",
        }
    }
}

/// Class and method from the 16-bit message type (RFC 8489 §5: the class bits C1 C0 sit at
/// 0x0100 and 0x0010, the 12 method bits around them). RFC 3489 types decode the same way.
pub fn message_type(t: u16) -> (Class, u16) {
    let class = match t & 0x0110 {
        0x0000 => Class::Request,
        0x0010 => Class::Indication,
        0x0100 => Class::SuccessResponse,
        _ => Class::ErrorResponse,
    };
    let method = (t & 0x000f) | ((t & 0x00e0) >> 1) | ((t & 0x3e00) >> 2);
    (class, method)
}

/// Method name: Binding (RFC 8489), RFC 3489's Shared Secret, the TURN methods (RFC 8656
/// §17), else the number in hex.
pub fn method_name(method: u16) -> String {
    match method {
        0x001 => "binding".into(),
        0x002 => "shared-secret".into(),
        0x003 => "allocate".into(),
        0x004 => "refresh".into(),
        0x006 => "send".into(),
        0x007 => "data".into(),
        0x008 => "create-permission".into(),
        0x009 => "channel-bind".into(),
        other => format!("0x{other:03x}"),
    }
}

/// An owned, flattened view of one decoded STUN message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StunMessage {
    /// Message class.
    pub class: Class,
    /// Method number (0x001 = Binding).
    pub method: u16,
    /// The 96-bit transaction ID.
    pub transaction_id: [u8; 12],
    /// XOR-MAPPED-ADDRESS (RFC 8489 §14.2), already un-XORed.
    pub xor_mapped_address: Option<SocketAddr>,
    /// MAPPED-ADDRESS (RFC 8489 §14.1), sent by older servers.
    pub mapped_address: Option<SocketAddr>,
    /// OTHER-ADDRESS (RFC 5780 §7.4) or, from RFC 3489 servers, CHANGED-ADDRESS.
    pub other_address: Option<SocketAddr>,
    /// RESPONSE-ORIGIN (RFC 5780 §7.3): the address the server sent this response from.
    pub response_origin: Option<SocketAddr>,
    /// CHANGE-REQUEST (in requests).
    pub change_request: Option<ChangeRequest>,
    /// RESPONSE-PORT (in requests).
    pub response_port: Option<u16>,
    /// SOFTWARE.
    pub software: Option<String>,
    /// ERROR-CODE as (code, reason phrase).
    pub error_code: Option<(u16, String)>,
    /// Whether a FINGERPRINT was present (and therefore verified).
    pub fingerprint: bool,
    /// Types of attributes we do not understand, in order.
    pub unknown_attributes: Vec<u16>,
    /// USERNAME (RFC 8489 §14.3).
    pub username: Option<String>,
    /// REALM (RFC 8489 §14.9), from a 401/438 or an authenticated message.
    pub realm: Option<String>,
    /// NONCE (RFC 8489 §14.10).
    pub nonce: Option<String>,
    /// Whether MESSAGE-INTEGRITY was present (its value is never kept).
    pub message_integrity: bool,
    /// Whether MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6) was present.
    pub message_integrity_sha256: bool,
    /// PASSWORD-ALGORITHMS (RFC 8489 §14.11) as sent, raw.
    pub password_algorithms: Option<Vec<u8>>,
    /// XOR-RELAYED-ADDRESS (RFC 8656 §18.5): the allocation's relayed transport address.
    pub relayed_address: Option<SocketAddr>,
    /// XOR-PEER-ADDRESS (RFC 8656 §18.3); the first one when several.
    pub peer_address: Option<SocketAddr>,
    /// LIFETIME (RFC 8656 §18.4) in seconds.
    pub lifetime_s: Option<u32>,
    /// CHANNEL-NUMBER (RFC 8656 §18.2).
    pub channel_number: Option<u16>,
    /// DATA (RFC 8656 §18.6): what a Send or Data indication carries.
    pub data: Option<Vec<u8>>,
}

impl StunMessage {
    /// The reflexive (mapped) address: XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS.
    pub fn mapped(&self) -> Option<SocketAddr> {
        self.xor_mapped_address.or(self.mapped_address)
    }
}

/// Why bytes are not an acceptable STUN message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer than 20 bytes, or the length field points past the end of the datagram.
    #[error("truncated STUN message: {0}")]
    Truncated(String),
    /// Not STUN at all (top bits set, no magic cookie): RFC 7983 demultiplexing says so.
    #[error("not a STUN message: {0}")]
    NotStun(String),
    /// The FINGERPRINT attribute does not match the message (RFC 8489 §14.7).
    #[error("FINGERPRINT check failed")]
    BadFingerprint,
    /// Header fine, attributes malformed.
    #[error("malformed STUN message: {0}")]
    Malformed(String),
}

/// Cheap check (RFC 7983 §7 and RFC 8489 §5) whether a datagram could be STUN: first two bits
/// zero, magic cookie present, length a multiple of 4 that matches the datagram.
pub fn looks_like_stun(buf: &[u8]) -> bool {
    check_header(buf).is_ok()
}

fn check_header(buf: &[u8]) -> Result<(), DecodeError> {
    if buf.len() < HEADER_LEN {
        return Err(DecodeError::Truncated(format!(
            "{} bytes, the header alone is 20",
            buf.len()
        )));
    }
    if buf[0] & 0xC0 != 0 {
        return Err(DecodeError::NotStun(format!(
            "first byte 0x{:02x} has the top bits set",
            buf[0]
        )));
    }
    let cookie = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
    if cookie != MAGIC_COOKIE {
        return Err(DecodeError::NotStun(format!(
            "magic cookie 0x{cookie:08x} (an RFC 3489 message, or not STUN)"
        )));
    }
    let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
    if len % 4 != 0 {
        return Err(DecodeError::Malformed(format!(
            "length {len} is not a multiple of 4"
        )));
    }
    if HEADER_LEN + len > buf.len() {
        return Err(DecodeError::Truncated(format!(
            "length field says {} bytes of attributes, {} present",
            len,
            buf.len() - HEADER_LEN
        )));
    }
    if HEADER_LEN + len < buf.len() {
        return Err(DecodeError::Malformed(format!(
            "{} trailing bytes after the message",
            buf.len() - HEADER_LEN - len
        )));
    }
    Ok(())
}

/// Decodes one STUN message from a whole datagram (or a framed stream message).
///
/// Errors: [`DecodeError`] says precisely what is wrong; a failed FINGERPRINT is
/// [`DecodeError::BadFingerprint`] so callers can ignore such datagrams (RFC 8489 §7.3).
pub fn decode(buf: &[u8]) -> Result<StunMessage, DecodeError> {
    check_header(buf)?;
    check_fingerprint(buf)?;
    let mut decoder = MessageDecoder::<Attribute>::new();
    let msg = match decoder.decode_from_bytes(buf) {
        Ok(Ok(m)) => m,
        Ok(Err(broken)) => {
            let text = broken.error().to_string();
            if text.contains("attr=Fingerprint") {
                return Err(DecodeError::BadFingerprint);
            }
            return Err(DecodeError::Malformed(in_stun_terms(&text)));
        }
        Err(e) => return Err(DecodeError::Malformed(in_stun_terms(&e.to_string()))),
    };
    Ok(flatten(&msg))
}

/// A stun_codec/bytecodec error in the field's words: which attribute (its RFC name, from
/// the `attr=` mark of the error's history) and what is wrong with it, instead of the
/// library's `InvalidInput (cause; invalid utf-8 sequence …)`. The history's other lines
/// (source paths of the build machine) are never shown.
fn in_stun_terms(text: &str) -> String {
    let first = first_line(text);
    let attr = text.split("attr=").nth(1).map(|rest| {
        let name: String = rest
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        // XorMappedAddress → XOR-MAPPED-ADDRESS, as RFC 8489 §14 names them.
        let mut rfc = String::new();
        for (i, c) in name.chars().enumerate() {
            if i > 0 && c.is_ascii_uppercase() {
                rfc.push('-');
            }
            rfc.push(c.to_ascii_uppercase());
        }
        rfc
    });
    let cause = first
        .split_once("cause; ")
        .map_or(first.as_str(), |(_, c)| c.trim_end_matches(')'));
    let what = if cause.contains("invalid utf-8") {
        "is not valid UTF-8 text (RFC 8489 requires UTF-8)".to_string()
    } else if first.starts_with("UnexpectedEos") {
        "is cut short".to_string()
    } else {
        format!("is malformed ({cause})")
    };
    match attr {
        Some(a) if !a.is_empty() => format!("the {a} attribute {what}"),
        _ => format!("an attribute {what}"),
    }
}

/// FINGERPRINT attribute type (RFC 8489 §14.7).
const FINGERPRINT: u16 = 0x8028;

/// Verifies a trailing FINGERPRINT over the bytes as received: CRC-32 of everything before
/// the attribute, XOR 0x5354554E. stun_codec checks it by re-encoding the decoded message,
/// which misses changes in reserved and padding bytes; this is the one place that closes
/// that gap.
fn check_fingerprint(buf: &[u8]) -> Result<(), DecodeError> {
    let n = buf.len();
    // Walk the attributes: FINGERPRINT counts only as the last attribute itself, not as the
    // last bytes of, say, a DATA attribute that carries another STUN message (TURN Send).
    let mut off = HEADER_LEN;
    let mut last = None;
    while off + 4 <= n {
        let len = usize::from(u16::from_be_bytes([buf[off + 2], buf[off + 3]]));
        last = Some(off);
        off += 4 + len.div_ceil(4) * 4;
    }
    let Some(at) = last else { return Ok(()) };
    if off != n || at + 8 != n || u16::from_be_bytes([buf[at], buf[at + 1]]) != FINGERPRINT {
        return Ok(());
    }
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&buf[..n - 8]) ^ 0x5354_554e;
    let got = u32::from_be_bytes([buf[n - 4], buf[n - 3], buf[n - 2], buf[n - 1]]);
    if u16::from_be_bytes([buf[n - 6], buf[n - 5]]) != 4 || crc != got {
        return Err(DecodeError::BadFingerprint);
    }
    Ok(())
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

fn flatten(msg: &Message<Attribute>) -> StunMessage {
    let class = match msg.class() {
        MessageClass::Request => Class::Request,
        MessageClass::Indication => Class::Indication,
        MessageClass::SuccessResponse => Class::SuccessResponse,
        MessageClass::ErrorResponse => Class::ErrorResponse,
    };
    let mut out = StunMessage {
        class,
        method: msg.method().as_u16(),
        transaction_id: *msg.transaction_id().as_bytes(),
        xor_mapped_address: None,
        mapped_address: None,
        other_address: None,
        response_origin: None,
        change_request: None,
        response_port: None,
        software: None,
        error_code: None,
        fingerprint: false,
        unknown_attributes: msg
            .unknown_attributes()
            .map(|a| a.get_type().as_u16())
            .collect(),
        username: None,
        realm: None,
        nonce: None,
        message_integrity: false,
        message_integrity_sha256: false,
        password_algorithms: None,
        relayed_address: None,
        peer_address: None,
        lifetime_s: None,
        channel_number: None,
        data: None,
    };
    for attr in msg.attributes() {
        match attr {
            Attribute::XorMappedAddress(a) => out.xor_mapped_address = Some(a.address()),
            Attribute::MappedAddress(a) => out.mapped_address = Some(a.address()),
            Attribute::OtherAddress(a) => out.other_address = Some(a.address()),
            Attribute::ChangedAddress(a) => {
                out.other_address.get_or_insert(a.0);
            }
            Attribute::ResponseOrigin(a) => out.response_origin = Some(a.address()),
            Attribute::ChangeRequest(c) => out.change_request = Some(*c),
            Attribute::ResponsePort(p) => out.response_port = Some(p.0),
            Attribute::Software(s) => out.software = Some(s.description().to_string()),
            Attribute::ErrorCode(e) => {
                // coturn pads its reason phrases with NUL bytes.
                let reason = e.reason_phrase().trim_end_matches('\0').trim().to_string();
                out.error_code = Some((e.code(), reason));
            }
            Attribute::Realm(r) => out.realm = Some(r.text().to_string()),
            Attribute::Username(u) => out.username = Some(u.name().to_string()),
            Attribute::Nonce(n) => out.nonce = Some(n.value().to_string()),
            Attribute::MessageIntegrity(_) => out.message_integrity = true,
            Attribute::MessageIntegritySha256(_) => out.message_integrity_sha256 = true,
            Attribute::PasswordAlgorithms(p) => out.password_algorithms = Some(p.0.clone()),
            Attribute::XorRelayAddress(a) => out.relayed_address = Some(a.address()),
            Attribute::XorPeerAddress(a) => {
                out.peer_address.get_or_insert(a.address());
            }
            Attribute::Lifetime(l) => {
                out.lifetime_s = Some(u32::try_from(l.lifetime().as_secs()).unwrap_or(u32::MAX));
            }
            Attribute::ChannelNumber(c) => out.channel_number = Some(c.value()),
            Attribute::Data(d) => out.data = Some(d.data().to_vec()),
            Attribute::Fingerprint(_) => out.fingerprint = true,
            _ => {}
        }
    }
    out
}

/// Encodes a Binding request with transaction ID `tid`, ending in FINGERPRINT.
///
/// Errors only if `software` is 128 characters or longer (RFC 8489 §14.14).
pub fn encode_binding_request(tid: [u8; 12], req: &BindingRequest) -> Result<Vec<u8>, String> {
    let mut b = MessageBuilder::request(BINDING.as_u16(), tid).map_err(|e| e.to_string())?;
    if let Some(cr) = req.change_request {
        b = b.attribute(cr);
    }
    if let Some(port) = req.response_port {
        b = b.attribute(ResponsePort(port));
    }
    if let Some(n) = req.padding {
        b = b.attribute(Padding(vec![0; n.div_ceil(4) * 4]));
    }
    if let Some(s) = &req.software {
        b = b.attribute(Software::new(s.clone()).map_err(|e| e.to_string())?);
    }
    b.encode(true).map_err(|e| e.to_string())
}

/// Encodes a Binding success response (what an RFC 5780 server sends): XOR-MAPPED-ADDRESS,
/// optional OTHER-ADDRESS and RESPONSE-ORIGIN, FINGERPRINT.
pub fn encode_binding_success(
    tid: [u8; 12],
    mapped: SocketAddr,
    other_address: Option<SocketAddr>,
    response_origin: Option<SocketAddr>,
) -> Result<Vec<u8>, String> {
    use stun_codec::rfc5389::attributes::XorMappedAddress;
    use stun_codec::rfc5780::attributes::{OtherAddress, ResponseOrigin};
    let mut b = MessageBuilder::new(Class::SuccessResponse, BINDING.as_u16(), tid)
        .map_err(|e| e.to_string())?
        .attribute(XorMappedAddress::new(mapped));
    if let Some(a) = response_origin {
        b = b.attribute(ResponseOrigin::new(a));
    }
    if let Some(a) = other_address {
        b = b.attribute(OtherAddress::new(a));
    }
    b.encode(true).map_err(|e| e.to_string())
}

/// Checks MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5) with a short-term `password`.
///
/// Returns `Ok(false)` when the message has no MESSAGE-INTEGRITY or the HMAC does not match.
pub fn verify_short_term_integrity(buf: &[u8], password: &str) -> Result<bool, DecodeError> {
    use stun_codec::rfc5389::attributes::MessageIntegrity;
    check_header(buf)?;
    let msg = match MessageDecoder::<Attribute>::new().decode_from_bytes(buf) {
        Ok(Ok(m)) => m,
        Ok(Err(_)) => return Err(DecodeError::BadFingerprint),
        Err(e) => return Err(DecodeError::Malformed(in_stun_terms(&e.to_string()))),
    };
    Ok(msg
        .get_attribute::<MessageIntegrity>()
        .is_some_and(|mi| mi.check_short_term_credential(password).is_ok()))
}

/// Checks MESSAGE-INTEGRITY with a long-term credential (HMAC-SHA1 keyed with
/// MD5(username ":" realm ":" password), RFC 8489 §9.2.2).
///
/// False when the message does not decode, has no MESSAGE-INTEGRITY, or the HMAC differs.
pub fn verify_long_term_integrity(buf: &[u8], username: &str, realm: &str, password: &str) -> bool {
    use stun_codec::rfc5389::attributes::{MessageIntegrity, Realm, Username};
    if check_header(buf).is_err() {
        return false;
    }
    let (Ok(u), Ok(r)) = (
        Username::new(username.to_string()),
        Realm::new(realm.to_string()),
    ) else {
        return false;
    };
    match MessageDecoder::<Attribute>::new().decode_from_bytes(buf) {
        Ok(Ok(msg)) => msg
            .get_attribute::<MessageIntegrity>()
            .is_some_and(|mi| mi.check_long_term_credential(&u, &r, password).is_ok()),
        _ => false,
    }
}

/// Length of the STUN message at the start of a stream buffer (RFC 8489 §6.2.2: over TCP,
/// messages are framed by their length field), or `None` if more bytes are needed.
pub fn stream_frame_len(buf: &[u8]) -> Option<usize> {
    if buf.len() < 4 {
        return None;
    }
    Some(HEADER_LEN + usize::from(u16::from_be_bytes([buf[2], buf[3]])))
}

/// Transaction ID as 24 hex digits, for traces and reports.
pub fn tid_hex(tid: &[u8; 12]) -> String {
    tid.iter().map(|b| format!("{b:02x}")).collect()
}

impl fmt::Display for StunMessage {
    /// One-line summary for `-v` traces, e.g.
    /// `Binding success-response tid=… XOR-MAPPED-ADDRESS=203.0.113.1:4000 OTHER-ADDRESS=…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let method = if self.method == 0x001 {
            "Binding".to_string()
        } else if (0x002..=0x009).contains(&self.method) && self.method != 0x005 {
            method_name(self.method)
        } else {
            format!("method 0x{:03x}", self.method)
        };
        write!(
            f,
            "{method} {} tid={}",
            self.class.as_str(),
            tid_hex(&self.transaction_id)
        )?;
        if let Some(c) = self.change_request {
            write!(
                f,
                " CHANGE-REQUEST(ip={},port={})",
                c.change_ip, c.change_port
            )?;
        }
        if let Some(p) = self.response_port {
            write!(f, " RESPONSE-PORT={p}")?;
        }
        if let Some(a) = self.xor_mapped_address {
            write!(f, " XOR-MAPPED-ADDRESS={a}")?;
        }
        if let Some(a) = self.mapped_address {
            write!(f, " MAPPED-ADDRESS={a}")?;
        }
        if let Some(a) = self.response_origin {
            write!(f, " RESPONSE-ORIGIN={a}")?;
        }
        if let Some(a) = self.other_address {
            write!(f, " OTHER-ADDRESS={a}")?;
        }
        if let Some((code, reason)) = &self.error_code {
            write!(f, " ERROR-CODE={code} {reason:?}")?;
        }
        if let Some(s) = &self.software {
            write!(f, " SOFTWARE={s:?}")?;
        }
        if let Some(a) = self.relayed_address {
            write!(f, " XOR-RELAYED-ADDRESS={a}")?;
        }
        if let Some(a) = self.peer_address {
            write!(f, " XOR-PEER-ADDRESS={a}")?;
        }
        if let Some(l) = self.lifetime_s {
            write!(f, " LIFETIME={l}")?;
        }
        if let Some(c) = self.channel_number {
            write!(f, " CHANNEL-NUMBER=0x{c:04x}")?;
        }
        if let Some(r) = &self.realm {
            write!(f, " REALM={r:?}")?;
        }
        if self.nonce.is_some() {
            write!(f, " NONCE")?;
        }
        if let Some(d) = &self.data {
            write!(f, " DATA({} bytes)", d.len())?;
        }
        if self.message_integrity {
            // The HMAC is never shown (it is derived from the password).
            write!(f, " MESSAGE-INTEGRITY=<redacted>")?;
        }
        if self.message_integrity_sha256 {
            write!(f, " MESSAGE-INTEGRITY-SHA256=<redacted>")?;
        }
        if self.fingerprint {
            write!(f, " FINGERPRINT")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5769 §2.1 sample request: SOFTWARE "STUN test client", PRIORITY, ICE-CONTROLLED,
    /// USERNAME "evtj:h6vY", MESSAGE-INTEGRITY, FINGERPRINT; password "VOkJxbRl1RmTxUk/WvJxBt".
    const RFC5769_REQUEST: [u8; 108] = [
        0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, // Binding request, length 88, cookie
        0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf,
        0xae, // transaction ID
        0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63,
        0x6c, 0x69, 0x65, 0x6e, 0x74, // SOFTWARE
        0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, // PRIORITY
        0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b,
        0x36, // ICE-CONTROLLED
        0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20,
        0x20, // USERNAME + padding
        0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2,
        0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2, // MESSAGE-INTEGRITY
        0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf, // FINGERPRINT
    ];

    /// RFC 5769 §2.2 sample IPv4 response: XOR-MAPPED-ADDRESS 192.0.2.1:32853.
    const RFC5769_RESPONSE_V4: [u8; 80] = [
        0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
        0x86, 0xfa, 0x87, 0xdf, 0xae, // header
        0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72,
        0x20, // SOFTWARE "test vector"
        0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43, // XOR-MAPPED
        0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89,
        0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, // MESSAGE-INTEGRITY
        0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96, // FINGERPRINT
    ];

    /// RFC 5769 §2.3 sample IPv6 response: XOR-MAPPED-ADDRESS
    /// [2001:db8:1234:5678:11:2233:4455:6677]:32853.
    const RFC5769_RESPONSE_V6: [u8; 92] = [
        0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
        0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76,
        0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01,
        0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
        0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9,
        0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb,
        0x0b, 0x4c,
    ];

    /// Real coturn 4.6.1 answer to a plain Binding request (tests/data/stun/
    /// coturn_binding_plain.bin): XOR-MAPPED 192.0.2.20:53671, MAPPED, RESPONSE-ORIGIN
    /// 192.0.2.10:3478, OTHER-ADDRESS 192.0.2.11:3479, SOFTWARE, FINGERPRINT.
    pub(crate) const COTURN_PLAIN: [u8; 100] =
        *include_bytes!("../../tests/data/stun/coturn_binding_plain.bin");

    /// Real coturn answer to CHANGE-REQUEST(ip, port) (coturn_binding_change_ip_port.bin):
    /// sent from 192.0.2.11:3479 (RESPONSE-ORIGIN), no FINGERPRINT.
    pub(crate) const COTURN_CHANGE_IP_PORT: [u8; 92] =
        *include_bytes!("../../tests/data/stun/coturn_binding_change_ip_port.bin");

    /// Real coturn answer to CHANGE-REQUEST(port) (coturn_binding_change_port.bin): sent from
    /// 192.0.2.10:3479.
    const COTURN_CHANGE_PORT: [u8; 92] =
        *include_bytes!("../../tests/data/stun/coturn_binding_change_port.bin");

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn message_type_splits_class_and_method() {
        assert_eq!(message_type(0x0001), (Class::Request, 1));
        assert_eq!(message_type(0x0101), (Class::SuccessResponse, 1));
        assert_eq!(message_type(0x0111), (Class::ErrorResponse, 1));
        assert_eq!(message_type(0x0016), (Class::Indication, 6));
        assert_eq!(method_name(6), "send");
        assert_eq!(method_name(0x0ab), "0x0ab");
        assert_eq!(Class::SuccessResponse.as_str(), "success-response");
    }

    #[test]
    fn fingerprint_inside_turn_data_is_not_ours() {
        // A TURN Send indication (ndpi-stun.pcap frame 77) whose DATA attribute carries a whole
        // STUN request ending in that request's FINGERPRINT: the outer message has none.
        let inner = hex::decode(
            "000100502112a442475365334b756d334e684950000600096b5374793a58704a73000000\
             c0570004000300 0a802a0008f4d3bd50aee2dde70025000000240004 6e7f23ff0008001448\
             1f767304 01d4c44eb86a455b8910d84d04b7928028000401477a4d"
                .replace(' ', ""),
        )
        .unwrap();
        assert_eq!(inner.len(), 100);
        let mut outer = hex::decode("001600742112a4427a66435744622f7a42473243").unwrap();
        outer.extend_from_slice(&hex::decode("0012000800018cb998b82f43").unwrap());
        outer.extend_from_slice(&[0x00, 0x13, 0x00, 100]);
        outer.extend_from_slice(&inner);
        assert_eq!(outer.len(), 20 + 116);
        assert_eq!(check_fingerprint(&outer), Ok(()));
        // The inner message's own FINGERPRINT is right, and a flipped byte is caught.
        assert_eq!(check_fingerprint(&inner), Ok(()));
        let mut bad = inner.clone();
        bad[30] ^= 1;
        assert_eq!(check_fingerprint(&bad), Err(DecodeError::BadFingerprint));
    }

    #[test]
    fn rfc5769_request_fingerprint_and_integrity() {
        let m = decode(&RFC5769_REQUEST).expect("RFC 5769 §2.1 decodes");
        assert_eq!(m.class, Class::Request);
        assert!(m.fingerprint);
        assert_eq!(m.software.as_deref(), Some("STUN test client"));
        // PRIORITY and ICE-CONTROLLED are ICE attributes we keep as unknown.
        assert_eq!(m.unknown_attributes, vec![0x0024, 0x8029]);
        assert_eq!(
            verify_short_term_integrity(&RFC5769_REQUEST, "VOkJxbRl1RmTxUk/WvJxBt"),
            Ok(true)
        );
        assert_eq!(
            verify_short_term_integrity(&RFC5769_REQUEST, "wrong"),
            Ok(false)
        );
    }

    #[test]
    fn rfc5769_responses_ipv4_and_ipv6() {
        let v4 = decode(&RFC5769_RESPONSE_V4).unwrap();
        assert_eq!(v4.class, Class::SuccessResponse);
        assert_eq!(v4.mapped(), Some(sa("192.0.2.1:32853")));
        assert_eq!(
            verify_short_term_integrity(&RFC5769_RESPONSE_V4, "VOkJxbRl1RmTxUk/WvJxBt"),
            Ok(true)
        );
        let v6 = decode(&RFC5769_RESPONSE_V6).unwrap();
        assert_eq!(
            v6.mapped(),
            Some(sa("[2001:db8:1234:5678:11:2233:4455:6677]:32853"))
        );
        assert_eq!(
            verify_short_term_integrity(&RFC5769_RESPONSE_V6, "VOkJxbRl1RmTxUk/WvJxBt"),
            Ok(true)
        );
    }

    #[test]
    fn a_flipped_bit_fails_the_fingerprint() {
        for i in 20..RFC5769_RESPONSE_V4.len() - 8 {
            let mut b = RFC5769_RESPONSE_V4;
            b[i] ^= 0x01;
            assert!(
                decode(&b).is_err(),
                "flipping byte {i} must not decode cleanly"
            );
        }
        // Flipping inside the XOR-MAPPED-ADDRESS value is caught by FINGERPRINT.
        let mut b = RFC5769_RESPONSE_V4;
        b[46] ^= 0x01;
        assert_eq!(decode(&b), Err(DecodeError::BadFingerprint));
    }

    /// RFC 5769 §2.4: a request with a long-term credential; user "マトリックス", realm
    /// "example.org", password "TheMatrIX" after SASLprep; no FINGERPRINT.
    const RFC5769_LONG_TERM: [u8; 116] = [
        0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72,
        0xc0, 0x29, 0xda, 0x41, 0x2e, 0x00, 0x06, 0x00, 0x12, 0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88,
        0xe3, 0x83, 0xaa, 0xe3, 0x83, 0x83, 0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9, 0x00, 0x00, 0x00,
        0x15, 0x00, 0x1c, 0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36,
        0x4f, 0x4c, 0x33, 0x34, 0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73,
        0x41, 0x00, 0x14, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72,
        0x67, 0x00, 0x00, 0x08, 0x00, 0x14, 0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02,
        0xb8, 0xe0, 0x71, 0x2e, 0x85, 0xc9, 0xa2, 0x8c, 0xa8, 0x96, 0x66,
    ];

    #[test]
    fn rfc5769_long_term_vector() {
        let m = decode(&RFC5769_LONG_TERM).unwrap();
        let user = "\u{30de}\u{30c8}\u{30ea}\u{30c3}\u{30af}\u{30b9}";
        assert_eq!(m.username.as_deref(), Some(user));
        assert_eq!(m.realm.as_deref(), Some("example.org"));
        assert_eq!(m.nonce.as_deref(), Some("f//499k954d6OL34oL9FSTvy64sA"));
        assert!(verify_long_term_integrity(
            &RFC5769_LONG_TERM,
            user,
            "example.org",
            "TheMatrIX"
        ));
        assert!(!verify_long_term_integrity(
            &RFC5769_LONG_TERM,
            user,
            "example.org",
            "TheMatrix"
        ));
        // Our builder computes the same HMAC over the same attributes.
        let rebuilt = MessageBuilder::request(0x001, m.transaction_id)
            .unwrap()
            .long_term_credential(&crate::stun::builder::LongTermCredential {
                username: user.into(),
                realm: "example.org".into(),
                nonce: "f//499k954d6OL34oL9FSTvy64sA".into(),
                password: "TheMatrIX".into(),
            })
            .unwrap()
            .encode(false)
            .unwrap();
        assert_eq!(
            rebuilt[96..],
            RFC5769_LONG_TERM[96..],
            "same MESSAGE-INTEGRITY"
        );
    }

    #[test]
    fn real_coturn_rfc5780_responses() {
        let plain = decode(&COTURN_PLAIN).unwrap();
        assert_eq!(plain.xor_mapped_address, Some(sa("192.0.2.20:53671")));
        assert_eq!(plain.mapped_address, Some(sa("192.0.2.20:53671")));
        assert_eq!(plain.response_origin, Some(sa("192.0.2.10:3478")));
        assert_eq!(plain.other_address, Some(sa("192.0.2.11:3479")));
        assert_eq!(plain.software.as_deref(), Some("Coturn-4.6.1 'Gorst'"));
        assert!(plain.fingerprint);

        let both = decode(&COTURN_CHANGE_IP_PORT).unwrap();
        assert_eq!(both.response_origin, Some(sa("192.0.2.11:3479")));
        assert!(
            !both.fingerprint,
            "coturn sends no FINGERPRINT on changed responses"
        );

        let port = decode(&COTURN_CHANGE_PORT).unwrap();
        assert_eq!(port.response_origin, Some(sa("192.0.2.10:3479")));
        assert_eq!(port.mapped(), Some(sa("192.0.2.20:53671")));
    }

    #[test]
    fn change_request_and_response_port_wire_values() {
        // RFC 5780 §7.2: change IP = 0x04, change port = 0x02; §7.5: port in the top 16 bits.
        let req = BindingRequest {
            change_request: Some(ChangeRequest {
                change_ip: true,
                change_port: true,
            }),
            response_port: Some(40000),
            padding: Some(6),
            software: None,
        };
        let tid = [7u8; 12];
        let bytes = encode_binding_request(tid, &req).unwrap();
        assert_eq!(
            &bytes[20..28],
            &[0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x06]
        );
        assert_eq!(
            &bytes[28..36],
            &[0x00, 0x27, 0x00, 0x04, 0x9c, 0x40, 0x00, 0x00]
        );
        assert_eq!(&bytes[36..40], &[0x00, 0x26, 0x00, 0x08]);
        // It decodes back, FINGERPRINT and all (stun_codec's own CHANGE-REQUEST cannot).
        let m = decode(&bytes).unwrap();
        assert_eq!(m.change_request, req.change_request);
        assert_eq!(m.response_port, Some(40000));
        assert!(m.fingerprint);
        let port_only = BindingRequest {
            change_request: Some(ChangeRequest {
                change_ip: false,
                change_port: true,
            }),
            ..Default::default()
        };
        let bytes = encode_binding_request(tid, &port_only).unwrap();
        assert_eq!(&bytes[24..28], &[0x00, 0x00, 0x00, 0x02]);
        assert_eq!(
            decode(&bytes).unwrap().change_request,
            port_only.change_request
        );
    }

    #[test]
    fn precise_errors_for_bad_input() {
        assert!(matches!(decode(&[]), Err(DecodeError::Truncated(_))));
        assert!(matches!(
            decode(&COTURN_PLAIN[..50]),
            Err(DecodeError::Truncated(_))
        ));
        let mut rtp = [0u8; 40];
        rtp[0] = 0x80;
        assert!(matches!(decode(&rtp), Err(DecodeError::NotStun(_))));
        let mut classic = COTURN_PLAIN;
        classic[4] = 0; // RFC 3489 message: no magic cookie
        assert!(matches!(decode(&classic), Err(DecodeError::NotStun(_))));
        let mut long = COTURN_PLAIN.to_vec();
        long.extend_from_slice(&[0, 0, 0, 0]);
        assert!(matches!(decode(&long), Err(DecodeError::Malformed(_))));
        // An attribute whose length runs past the message.
        let mut bad = COTURN_CHANGE_PORT;
        bad[23] = 0x40;
        assert!(decode(&bad).is_err());
        assert!(looks_like_stun(&COTURN_PLAIN));
        assert!(!looks_like_stun(&rtp));
    }

    /// Library error text becomes the field's words: a SOFTWARE attribute that is not UTF-8
    /// is named as such, not as bytecodec's error chain.
    #[test]
    fn attribute_errors_are_named_in_stun_terms() {
        let mut b = COTURN_CHANGE_IP_PORT;
        let at = (20..b.len() - 4)
            .step_by(4)
            .find(|&i| b[i] == 0x80 && b[i + 1] == 0x22)
            .expect("SOFTWARE in the coturn answer");
        b[at + 4] = 0xff;
        let e = decode(&b).unwrap_err().to_string();
        assert_eq!(
            e,
            "malformed STUN message: the SOFTWARE attribute is not valid UTF-8 text (RFC 8489 requires UTF-8)"
        );
    }

    /// Deterministic mutation fuzzing: no input, however broken, panics the decoder.
    #[test]
    fn no_datagram_panics_the_decoder() {
        use rand::{Rng, SeedableRng, rngs::StdRng};
        let seeds: [&[u8]; 5] = [
            &RFC5769_REQUEST,
            &RFC5769_RESPONSE_V4,
            &RFC5769_RESPONSE_V6,
            &COTURN_PLAIN,
            &COTURN_CHANGE_IP_PORT,
        ];
        let mut rng = StdRng::seed_from_u64(5780);
        let mut decoded = 0;
        for i in 0..60_000 {
            let mut b = seeds[i % seeds.len()].to_vec();
            match rng.next_u32() % 4 {
                0 => {
                    let n = (rng.next_u32() % 4 + 1) as usize;
                    for _ in 0..n {
                        let at = rng.next_u32() as usize % b.len();
                        b[at] = rng.next_u32() as u8;
                    }
                }
                1 => b.truncate(rng.next_u32() as usize % b.len()),
                2 => {
                    // Plausible header, random attributes, consistent length.
                    let n = (rng.next_u32() % 16) as usize * 4;
                    b.truncate(20);
                    b.extend((0..n).map(|_| rng.next_u32() as u8));
                    b[2..4].copy_from_slice(&(n as u16).to_be_bytes());
                }
                _ => {
                    let at = 20 + rng.next_u32() as usize % (b.len() - 20);
                    b[at] = rng.next_u32() as u8;
                    // keep the length field consistent so attribute parsing is reached
                }
            }
            if decode(&b).is_ok() {
                decoded += 1;
            }
        }
        assert!(
            decoded > 0,
            "some mutations must still decode (sanity of the harness)"
        );
    }
}
