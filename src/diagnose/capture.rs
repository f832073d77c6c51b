//! What a capture analysis found, as typed facts: frame accounting, what the bounds on its
//! state left out, the STUN messages it saw, the NAT trouble in signalling, and its findings.
//! `capture/` produces them, `report/` puts them into words; neither reaches into the other.

use std::net::IpAddr;

use super::media::MediaFinding;

/// Frame accounting: `decoded + ignored + malformed == total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PacketCounts {
    /// Frames read.
    pub total: u64,
    /// Frames that carried SIP, SDP, RTP, RTCP, STUN or DTMF (or a fragment/segment of it).
    pub decoded: u64,
    /// Frames of other protocols.
    pub ignored: u64,
    /// Frames that could not be decoded (cut, inconsistent, or failed parsing).
    pub malformed: u64,
}

/// What was not kept because a bound on the analysis' state was reached: all zero for any
/// ordinary capture. A capture built to exhaust memory meets these instead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Evicted {
    /// INVITE requests of dialogs beyond the call bound: in the SIP totals, not followed.
    pub call_invites: u64,
    /// RTP packets of streams beyond the stream bound: decoded, no statistics.
    pub stream_packets: u64,
    /// TCP directions dropped, oldest first: a
    /// message they held in part is lost.
    pub tcp_flows: u64,
    /// Media endpoints forgotten, oldest first: their RTP is then
    /// unsignalled.
    pub media_endpoints: u64,
    /// STUN flows and SCTP state forgotten, oldest first.
    pub flows: u64,
}

impl Evicted {
    /// Whether nothing was evicted.
    pub fn is_empty(&self) -> bool {
        *self == Evicted::default()
    }
}

/// The bounds on a capture analysis' state, as the report quotes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// INVITE dialogs followed.
    pub calls: usize,
    /// RTP streams with statistics.
    pub streams: usize,
    /// TCP directions reassembled at once.
    pub tcp_flows: usize,
    /// MiB all TCP directions may buffer together.
    pub tcp_mib: usize,
    /// SDP-announced media endpoints remembered.
    pub endpoints: usize,
}

/// A STUN message seen in the capture.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StunRecord {
    /// Frame number.
    pub frame: u64,
    /// Time (ns).
    #[serde(skip)]
    pub time_ns: i64,
    /// Source "ip:port".
    pub src: String,
    /// Destination "ip:port".
    pub dst: String,
    /// UDP or TCP.
    pub transport: &'static str,
    /// Class: request, indication, success-response, error-response.
    pub class: String,
    /// Method name (binding, allocate, …) or number.
    pub method: String,
    /// Transaction ID (hex).
    pub transaction_id: String,
    /// RFC 3489 message without the magic cookie.
    pub classic: bool,
    /// XOR-MAPPED-ADDRESS.
    pub xor_mapped_address: Option<String>,
    /// MAPPED-ADDRESS.
    pub mapped_address: Option<String>,
    /// OTHER-ADDRESS (RFC 5780) / CHANGED-ADDRESS.
    pub other_address: Option<String>,
    /// RESPONSE-ORIGIN (RFC 5780).
    pub response_origin: Option<String>,
    /// CHANGE-REQUEST flags, e.g. "ip+port".
    pub change_request: Option<String>,
    /// ERROR-CODE.
    pub error: Option<String>,
    /// SOFTWARE.
    pub software: Option<String>,
}

/// Where in a SIP message an address was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignallingField {
    /// The top Via's sent-by.
    Via,
    /// Contact.
    Contact,
    /// The SDP connection address (`c=`) of the first RTP stream.
    SdpConnection,
}

impl SignallingField {
    /// As the report names it: `Via`, `Contact`, `SDP c=`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignallingField::Via => "Via",
            SignallingField::Contact => "Contact",
            SignallingField::SdpConnection => "SDP c=",
        }
    }
}

/// A private or CGNAT address in signalling sent from a public address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrivateAddress {
    /// Where it was.
    pub field: SignallingField,
    /// The address.
    pub address: IpAddr,
    /// The public source of the message.
    pub sent_from: IpAddr,
}

/// A sign that a SIP ALG rewrote a message on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlgSign {
    /// SDP with `c=` the public source but `o=` private: c= was rewritten, o= left.
    SdpRewritten {
        /// The message's source.
        from: IpAddr,
        /// Its `c=`.
        connection: IpAddr,
        /// Its `o=` address.
        origin: IpAddr,
    },
    /// A request whose Via is the public source but whose Contact is private: Via was
    /// rewritten.
    ViaRewritten {
        /// The message's source.
        from: IpAddr,
        /// Its top Via host.
        via: IpAddr,
        /// Its Contact host.
        contact: IpAddr,
    },
}

/// One conclusion about a capture.
#[derive(Debug, Clone, PartialEq)]
pub enum CaptureFinding {
    /// The file ended early or was cut: the report covers what came before.
    Truncated(String),
    /// Bounds on the analysis' state were reached: some calls, streams or flows were not
    /// followed (counts in the report's `evicted`).
    StateLimits {
        /// What was left out.
        evicted: Evicted,
        /// The bounds it met.
        limits: Limits,
    },
    /// Frames that could not be decoded, with the most frequent reason.
    Malformed {
        /// How many.
        count: u64,
        /// The most frequent reason.
        most_often: String,
    },
    /// The caller cancelled before an answer.
    Cancelled {
        /// The call.
        call: usize,
    },
    /// The call failed with a final response (its status line).
    Failed {
        /// The call.
        call: usize,
        /// The final response's status line, e.g. `486 Busy Here`.
        reason: String,
        /// Its status code (≥ 300).
        status: u16,
    },
    /// No final response to the INVITE in the capture.
    NoFinalResponse {
        /// The call.
        call: usize,
    },
    /// Answered, but no BYE was seen.
    NoBye {
        /// The call.
        call: usize,
    },
    /// Private/CGNAT addresses in signalling sent from a public address.
    PrivateAddresses {
        /// The call.
        call: usize,
        /// The addresses and where they were.
        addresses: Vec<PrivateAddress>,
    },
    /// A sign of a SIP ALG.
    AlgSuspected {
        /// The call.
        call: usize,
        /// What was seen.
        sign: AlgSign,
    },
    /// What the media shows.
    Media(MediaFinding),
    /// Nothing VoIP in the capture.
    NoVoip,
}
