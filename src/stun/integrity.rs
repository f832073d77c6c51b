//! RFC 8489's stronger long-term credential: password algorithms (§9.2.1 nonce cookie and
//! security feature bits, §14.11 PASSWORD-ALGORITHMS, §14.12 PASSWORD-ALGORITHM), the keys
//! (§9.2.2: MD5 or SHA-256 of `username ":" realm ":" password`) and MESSAGE-INTEGRITY-SHA256
//! (§14.6: HMAC-SHA256 over the message up to the attribute, its length field counting the
//! attribute), computed over the wire bytes because stun_codec 0.4 has none of it. ring
//! (already in the tree for rustls) does the SHA-256 and the HMAC.

use md5::Digest as _;

/// The nonce cookie that announces STUN security features (RFC 8489 §9.2.1).
pub const NONCE_COOKIE: &str = "obMatJos2";

/// MESSAGE-INTEGRITY-SHA256 attribute type.
const MI_SHA256: u16 = 0x001C;
/// FINGERPRINT attribute type.
const FINGERPRINT: u16 = 0x8028;

/// A password algorithm (RFC 8489 §18.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PasswordAlgorithm {
    /// 0x0001: MD5 key, as RFC 5389.
    Md5,
    /// 0x0002: SHA-256 key.
    Sha256,
}

impl PasswordAlgorithm {
    /// The registered number.
    pub fn number(self) -> u16 {
        match self {
            PasswordAlgorithm::Md5 => 1,
            PasswordAlgorithm::Sha256 => 2,
        }
    }

    /// The PASSWORD-ALGORITHM value (number, no parameters).
    pub fn attribute(self) -> Vec<u8> {
        let mut v = self.number().to_be_bytes().to_vec();
        v.extend_from_slice(&[0, 0]);
        v
    }

    /// The key (RFC 8489 §9.2.2): the algorithm's hash of `username:realm:password`.
    pub fn key(self, username: &str, realm: &str, password: &str) -> Vec<u8> {
        let input = format!("{username}:{realm}:{password}");
        match self {
            PasswordAlgorithm::Md5 => md5::Md5::digest(input.as_bytes()).to_vec(),
            PasswordAlgorithm::Sha256 => {
                ring::digest::digest(&ring::digest::SHA256, input.as_bytes())
                    .as_ref()
                    .to_vec()
            }
        }
    }
}

/// Whether a NONCE announces the "Password algorithms" feature (RFC 8489 §9.2.1: the cookie,
/// then 24 feature bits in 4 base64 characters; bit 0, the least significant, per Errata 6290).
pub fn offers_password_algorithms(nonce: &str) -> bool {
    let Some(rest) = nonce.strip_prefix(NONCE_COOKIE) else {
        return false;
    };
    let Some(chars) = rest.get(..4) else {
        return false;
    };
    let value = |c: u8| -> Option<u32> {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        Some(u32::from(v))
    };
    let mut bits = 0u32;
    for c in chars.bytes() {
        match value(c) {
            Some(v) => bits = (bits << 6) | v,
            None => return false,
        }
    }
    bits & 1 == 1
}

/// The algorithm numbers in a PASSWORD-ALGORITHMS value (each: number, parameter length,
/// parameters padded to 4 bytes); `None` when it is cut.
pub fn algorithms(raw: &[u8]) -> Option<Vec<u16>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let head = raw.get(i..i + 4)?;
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        out.push(u16::from_be_bytes([head[0], head[1]]));
        i += 4 + len.div_ceil(4) * 4;
        if i > raw.len() {
            return None;
        }
    }
    Some(out)
}

/// The algorithm to answer a server's offer with: SHA-256 when offered, else MD5 when
/// offered, else none we support.
pub fn choose(offer: &[u16]) -> Option<PasswordAlgorithm> {
    if offer.contains(&2) {
        Some(PasswordAlgorithm::Sha256)
    } else if offer.contains(&1) {
        Some(PasswordAlgorithm::Md5)
    } else {
        None
    }
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    ring::hmac::sign(&k, data).as_ref().to_vec()
}

fn set_length(bytes: &mut [u8], len: usize) {
    let len = u16::try_from(len).unwrap_or(u16::MAX);
    bytes[2..4].copy_from_slice(&len.to_be_bytes());
}

/// Appends MESSAGE-INTEGRITY-SHA256 keyed with `key` to an encoded message without
/// FINGERPRINT (RFC 8489 §14.6), then FINGERPRINT when `fingerprint` (§14.7).
pub fn sign_sha256(mut message: Vec<u8>, key: &[u8], fingerprint: bool) -> Vec<u8> {
    if message.len() < 20 {
        return message;
    }
    let body = message.len() - 20;
    set_length(&mut message, body + 36);
    let mac = hmac_sha256(key, &message);
    message.extend_from_slice(&MI_SHA256.to_be_bytes());
    message.extend_from_slice(&32u16.to_be_bytes());
    message.extend_from_slice(&mac);
    if fingerprint {
        let body = message.len() - 20;
        set_length(&mut message, body + 8);
        let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&message) ^ 0x5354_554e;
        message.extend_from_slice(&FINGERPRINT.to_be_bytes());
        message.extend_from_slice(&4u16.to_be_bytes());
        message.extend_from_slice(&crc.to_be_bytes());
    }
    message
}

/// Checks MESSAGE-INTEGRITY-SHA256 with `key` over the bytes as received: false when absent
/// or different.
pub fn verify_sha256(buf: &[u8], key: &[u8]) -> bool {
    let mut off = 20;
    while off + 4 <= buf.len() {
        let kind = u16::from_be_bytes([buf[off], buf[off + 1]]);
        let len = usize::from(u16::from_be_bytes([buf[off + 2], buf[off + 3]]));
        if kind == MI_SHA256 {
            let Some(mac) = buf.get(off + 4..off + 4 + len) else {
                return false;
            };
            if !(16..=32).contains(&len) {
                return false;
            }
            let mut head = buf[..off].to_vec();
            set_length(&mut head, off - 20 + 4 + len);
            let expected = hmac_sha256(key, &head);
            // Compared without an early exit.
            return expected[..len]
                .iter()
                .zip(mac)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        }
        off += 4 + len.div_ceil(4) * 4;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8489 Appendix B.1 as corrected by Errata 6268: USERHASH, NONCE, REALM,
    /// PASSWORD-ALGORITHM (SHA-256), MESSAGE-INTEGRITY-SHA256; user "マトリックス", realm
    /// "example.org", password "TheMatrIX".
    const B1_REQUEST: &[u8] = &[
        0x00, 0x01, 0x00, 0x90, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72,
        0xc0, 0x29, 0xda, 0x41, 0x2e, 0x00, 0x1e, 0x00, 0x20, 0x4a, 0x3c, 0xf3, 0x8f, 0xef, 0x69,
        0x92, 0xbd, 0xa9, 0x52, 0xc6, 0x78, 0x04, 0x17, 0xda, 0x0f, 0x24, 0x81, 0x94, 0x15, 0x56,
        0x9e, 0x60, 0xb2, 0x05, 0xc4, 0x6e, 0x41, 0x40, 0x7f, 0x17, 0x04, 0x00, 0x15, 0x00, 0x29,
        0x6f, 0x62, 0x4d, 0x61, 0x74, 0x4a, 0x6f, 0x73, 0x32, 0x41, 0x41, 0x41, 0x43, 0x66, 0x2f,
        0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36, 0x4f, 0x4c, 0x33, 0x34, 0x6f,
        0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73, 0x41, 0x00, 0x00, 0x00, 0x00,
        0x14, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67, 0x00,
        0x00, 0x1d, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x20, 0xb5, 0xc7, 0xbf,
        0x00, 0x5b, 0x6c, 0x52, 0xa2, 0x1c, 0x51, 0xc5, 0xe8, 0x92, 0xf8, 0x19, 0x24, 0x13, 0x62,
        0x96, 0xcb, 0x92, 0x7c, 0x43, 0x14, 0x93, 0x09, 0x27, 0x8c, 0xc6, 0x51, 0x8e, 0x65,
    ];
    const USER: &str = "\u{30de}\u{30c8}\u{30ea}\u{30c3}\u{30af}\u{30b9}";

    #[test]
    fn rfc8489_b1_verifies_and_our_signature_is_the_same() {
        let key = PasswordAlgorithm::Sha256.key(USER, "example.org", "TheMatrIX");
        assert!(verify_sha256(B1_REQUEST, &key));
        let md5 = PasswordAlgorithm::Md5.key(USER, "example.org", "TheMatrIX");
        assert!(!verify_sha256(B1_REQUEST, &md5));
        // Signing the bytes before the attribute (length as it was then) gives the same.
        let before = B1_REQUEST.len() - 36;
        let mut unsigned = B1_REQUEST[..before].to_vec();
        unsigned[2..4].copy_from_slice(&u16::try_from(before - 20).unwrap().to_be_bytes());
        assert_eq!(sign_sha256(unsigned, &key, false), B1_REQUEST);
        // B.1's nonce announces username anonymity (bit 1), not password algorithms.
        assert!(!offers_password_algorithms(
            "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA"
        ));
        assert!(offers_password_algorithms("obMatJos2AAABxyz"));
        assert!(!offers_password_algorithms("nonce"));
    }

    #[test]
    fn algorithm_lists_and_choice() {
        assert_eq!(algorithms(&[0, 1, 0, 0, 0, 2, 0, 0]), Some(vec![1, 2]));
        assert_eq!(
            algorithms(&[0, 9, 0, 5, 1, 2, 3, 4, 5, 0, 0, 0, 0, 1, 0, 0]),
            Some(vec![9, 1])
        );
        assert_eq!(algorithms(&[0, 1, 0]), None);
        assert_eq!(choose(&[1, 2]), Some(PasswordAlgorithm::Sha256));
        assert_eq!(choose(&[9, 1]), Some(PasswordAlgorithm::Md5));
        assert_eq!(choose(&[9]), None);
        // RFC 8489 §9.2.2: MD5 of "user:realm:pass".
        assert_eq!(
            PasswordAlgorithm::Md5.key("user", "realm", "pass"),
            [
                0x84, 0x93, 0xfb, 0xc5, 0x3b, 0xa5, 0x82, 0xfb, 0x4c, 0x04, 0x4c, 0x45, 0x6b, 0xdc,
                0x40, 0xeb
            ]
        );
    }
}
