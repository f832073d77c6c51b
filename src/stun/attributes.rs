//! The STUN attribute set voipdiag speaks, on top of stun_codec.
//!
//! stun_codec 0.4 gets two RFC 5780 attributes wrong (its CHANGE-REQUEST decodes with the masks
//! 0x2/0x1 instead of 0x4/0x2, and its RESPONSE-PORT always encodes port 0) and has no PADDING
//! nor the RFC 3489 CHANGED-ADDRESS. This module is the one place where we patch around that
//! (see ../shared/CRATES.md §2): it defines those attributes ourselves and plugs them into
//! stun_codec's extensible attribute set together with its correct RFC 5389/5780 attributes
//! and the TURN ones (RFC 5766, RFC 8656 REQUESTED-ADDRESS-FAMILY). stun_codec 0.4 also
//! lacks RFC 8489's MESSAGE-INTEGRITY-SHA256 and password algorithms: they are defined here
//! as raw values and computed in [`crate::stun::integrity`].

use std::net::SocketAddr;

use bytecodec::bytes::{BytesEncoder, RemainingBytesDecoder};
use bytecodec::fixnum::{U32beDecoder, U32beEncoder};
use bytecodec::{ByteCount, Decode, Encode, Eos, SizedEncode, TryTaggedDecode};
use stun_codec::net::{SocketAddrDecoder, SocketAddrEncoder};
use stun_codec::rfc5389::attributes::{
    AlternateServer, ErrorCode, Fingerprint, MappedAddress, MessageIntegrity, Nonce, Realm,
    Software, UnknownAttributes, Username, XorMappedAddress,
};
use stun_codec::rfc5766::attributes::{
    ChannelNumber, Data, DontFragment, EvenPort, Lifetime, RequestedTransport, ReservationToken,
    XorPeerAddress, XorRelayAddress,
};
use stun_codec::rfc5780::attributes::{OtherAddress, ResponseOrigin};
use stun_codec::rfc8656::attributes::RequestedAddressFamily;
use stun_codec::{AttributeType, define_attribute_enums};

/// Implements `Decode`/`TryTaggedDecode` and `Encode`/`SizedEncode` for a wrapper codec whose
/// inner codec works on `$inner` values, converting with `$from` / `$into`.
macro_rules! wrap_codec {
    ($attr:ident, $dec:ident($dinner:ty), $enc:ident($einner:ty), $from:expr, $into:expr) => {
        #[doc = concat!("Decoder of [`", stringify!($attr), "`].")]
        #[derive(Debug, Default)]
        pub struct $dec($dinner);
        impl Decode for $dec {
            type Item = $attr;
            fn decode(&mut self, buf: &[u8], eos: Eos) -> bytecodec::Result<usize> {
                self.0.decode(buf, eos)
            }
            fn finish_decoding(&mut self) -> bytecodec::Result<$attr> {
                let inner = self.0.finish_decoding()?;
                #[allow(clippy::redundant_closure_call)]
                Ok(($from)(inner))
            }
            fn requiring_bytes(&self) -> ByteCount {
                self.0.requiring_bytes()
            }
            fn is_idle(&self) -> bool {
                self.0.is_idle()
            }
        }
        impl TryTaggedDecode for $dec {
            type Tag = AttributeType;
            fn try_start_decoding(&mut self, tag: AttributeType) -> bytecodec::Result<bool> {
                Ok(tag.as_u16() == $attr::CODEPOINT)
            }
        }
        #[doc = concat!("Encoder of [`", stringify!($attr), "`].")]
        #[derive(Debug, Default)]
        pub struct $enc($einner);
        impl Encode for $enc {
            type Item = $attr;
            fn encode(&mut self, buf: &mut [u8], eos: Eos) -> bytecodec::Result<usize> {
                self.0.encode(buf, eos)
            }
            fn start_encoding(&mut self, item: $attr) -> bytecodec::Result<()> {
                #[allow(clippy::redundant_closure_call)]
                self.0.start_encoding(($into)(item))
            }
            fn requiring_bytes(&self) -> ByteCount {
                self.0.requiring_bytes()
            }
            fn is_idle(&self) -> bool {
                self.0.is_idle()
            }
        }
        impl SizedEncode for $enc {
            fn exact_requiring_bytes(&self) -> u64 {
                self.0.exact_requiring_bytes()
            }
        }
        impl stun_codec::Attribute for $attr {
            type Decoder = $dec;
            type Encoder = $enc;
            fn get_type(&self) -> AttributeType {
                AttributeType::new(Self::CODEPOINT)
            }
        }
    };
}

/// CHANGE-REQUEST (RFC 5780 §7.2): ask the server to answer from its other IP and/or port.
///
/// Wire value: a 32-bit word with bit 0x4 = change IP ("A") and 0x2 = change port ("B").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChangeRequest {
    /// Answer from the alternate IP address.
    pub change_ip: bool,
    /// Answer from the alternate port.
    pub change_port: bool,
}
impl ChangeRequest {
    /// Attribute type 0x0003.
    pub const CODEPOINT: u16 = 0x0003;
}
wrap_codec!(
    ChangeRequest,
    ChangeRequestDecoder(U32beDecoder),
    ChangeRequestEncoder(U32beEncoder),
    |v: u32| ChangeRequest {
        change_ip: v & 0x4 != 0,
        change_port: v & 0x2 != 0,
    },
    |c: ChangeRequest| (u32::from(c.change_ip) << 2) | (u32::from(c.change_port) << 1)
);

/// RESPONSE-PORT (RFC 5780 §7.5): send the response to this port of the request's source IP.
///
/// Wire value: the port in the first 16 bits, then 16 bits of padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResponsePort(pub u16);
impl ResponsePort {
    /// Attribute type 0x0027.
    pub const CODEPOINT: u16 = 0x0027;
}
wrap_codec!(
    ResponsePort,
    ResponsePortDecoder(U32beDecoder),
    ResponsePortEncoder(U32beEncoder),
    |v: u32| ResponsePort((v >> 16) as u16),
    |p: ResponsePort| u32::from(p.0) << 16
);

/// PADDING (RFC 5780 §7.6): filler bytes that make a request larger (to test fragmentation).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Padding(pub Vec<u8>);
impl Padding {
    /// Attribute type 0x0026.
    pub const CODEPOINT: u16 = 0x0026;
}
wrap_codec!(
    Padding,
    PaddingDecoder(RemainingBytesDecoder),
    PaddingEncoder(BytesEncoder<Vec<u8>>),
    Padding,
    |p: Padding| p.0
);

/// CHANGED-ADDRESS (RFC 3489 §11.2.3): the classic name of OTHER-ADDRESS, still sent by older
/// servers; same wire format as MAPPED-ADDRESS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChangedAddress(pub SocketAddr);
impl ChangedAddress {
    /// Attribute type 0x0005.
    pub const CODEPOINT: u16 = 0x0005;
}
wrap_codec!(
    ChangedAddress,
    ChangedAddressDecoder(SocketAddrDecoder),
    ChangedAddressEncoder(SocketAddrEncoder),
    ChangedAddress,
    |a: ChangedAddress| a.0
);

/// MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6): HMAC-SHA256 of the message up to it (16 to 32
/// bytes). Kept raw; [`crate::stun::integrity`] computes and checks it over the wire bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageIntegritySha256(pub Vec<u8>);
impl MessageIntegritySha256 {
    /// Attribute type 0x001C.
    pub const CODEPOINT: u16 = 0x001C;
}
wrap_codec!(
    MessageIntegritySha256,
    MessageIntegritySha256Decoder(RemainingBytesDecoder),
    MessageIntegritySha256Encoder(BytesEncoder<Vec<u8>>),
    MessageIntegritySha256,
    |m: MessageIntegritySha256| m.0
);

/// PASSWORD-ALGORITHM (RFC 8489 §14.12): the algorithm the client chose (2 bytes number, 2
/// bytes parameter length, parameters), raw.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PasswordAlgorithm(pub Vec<u8>);
impl PasswordAlgorithm {
    /// Attribute type 0x001D.
    pub const CODEPOINT: u16 = 0x001D;
}
wrap_codec!(
    PasswordAlgorithm,
    PasswordAlgorithmDecoder(RemainingBytesDecoder),
    PasswordAlgorithmEncoder(BytesEncoder<Vec<u8>>),
    PasswordAlgorithm,
    |p: PasswordAlgorithm| p.0
);

/// PASSWORD-ALGORITHMS (RFC 8489 §14.11): the algorithms a server offers, raw (echoed back
/// unchanged in the authenticated request, §9.2.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PasswordAlgorithms(pub Vec<u8>);
impl PasswordAlgorithms {
    /// Attribute type 0x8002.
    pub const CODEPOINT: u16 = 0x8002;
}
wrap_codec!(
    PasswordAlgorithms,
    PasswordAlgorithmsDecoder(RemainingBytesDecoder),
    PasswordAlgorithmsEncoder(BytesEncoder<Vec<u8>>),
    PasswordAlgorithms,
    |p: PasswordAlgorithms| p.0
);

define_attribute_enums!(
    Attribute,
    AttributeDecoder,
    AttributeEncoder,
    [
        MappedAddress,
        XorMappedAddress,
        Username,
        MessageIntegrity,
        ErrorCode,
        UnknownAttributes,
        Realm,
        Nonce,
        Software,
        AlternateServer,
        Fingerprint,
        ChangeRequest,
        ResponsePort,
        Padding,
        ResponseOrigin,
        OtherAddress,
        ChangedAddress,
        ChannelNumber,
        Lifetime,
        XorPeerAddress,
        Data,
        XorRelayAddress,
        EvenPort,
        RequestedTransport,
        DontFragment,
        ReservationToken,
        RequestedAddressFamily,
        MessageIntegritySha256,
        PasswordAlgorithm,
        PasswordAlgorithms
    ]
);
