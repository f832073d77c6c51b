//! The tests of RFC 5780 NAT behaviour discovery: which test (§4.3–§4.6), how each ended, and
//! what came back.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::machine::SocketId;
use crate::stun::message::{BindingRequest, StunMessage};
use crate::stun::transaction::ClientTransaction;

/// Which RFC 5780 test a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "test")]
pub enum TestKind {
    /// Test I: a plain Binding request to a server's primary address (§4.3); every server
    /// gets one, and its answer gives the mapped address.
    Test1,
    /// Mapping test II: to the alternate IP address, primary port (§4.3).
    MappingTest2,
    /// Mapping test III: to the alternate IP address and port (§4.3).
    MappingTest3,
    /// Filtering test II: CHANGE-REQUEST for IP and port (§4.4).
    FilteringTest2,
    /// Filtering test III: CHANGE-REQUEST for port only (§4.4).
    FilteringTest3,
    /// Hairpinning: a request to our own mapped address (§4.5).
    Hairpinning,
    /// Lifetime: create a binding on its own socket (§4.6).
    LifetimeSetup {
        /// Seconds until the matching check.
        wait_s: u64,
    },
    /// Lifetime: does the binding still deliver a response after `wait_s` (§4.6)?
    LifetimeCheck {
        /// Seconds since the binding was created.
        wait_s: u64,
    },
}

impl TestKind {
    /// Short stable name, as in the JSON `tests[].test`.
    pub fn name(&self) -> String {
        match self {
            Self::Test1 => "binding".into(),
            Self::MappingTest2 => "mapping-test-2".into(),
            Self::MappingTest3 => "mapping-test-3".into(),
            Self::FilteringTest2 => "filtering-test-2".into(),
            Self::FilteringTest3 => "filtering-test-3".into(),
            Self::Hairpinning => "hairpinning".into(),
            Self::LifetimeSetup { wait_s } => format!("lifetime-setup-{wait_s}s"),
            Self::LifetimeCheck { wait_s } => format!("lifetime-check-{wait_s}s"),
        }
    }
}

/// A response (or, for hairpinning, our own request) that completed a test.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Source address of the datagram.
    pub from: SocketAddr,
    /// Local socket that received it.
    pub received_on: SocketId,
    /// Time from the first transmission to the answer.
    pub rtt: Duration,
    /// The decoded message.
    pub message: StunMessage,
}

/// How a test ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Still running.
    Pending,
    /// Answered as expected.
    Answered(Answer),
    /// No answer within the schedule.
    Timeout,
    /// An ICMP error (or a socket error) said the destination is unreachable.
    Unreachable(String),
    /// The server answered with an error response.
    ErrorResponse {
        /// ERROR-CODE number, e.g. 420.
        code: u16,
        /// Reason phrase.
        reason: String,
    },
    /// Answered, but in a way that makes the test meaningless (e.g. CHANGE-REQUEST ignored).
    Unusable {
        /// What was wrong.
        reason: String,
        /// The answer.
        answer: Answer,
    },
    /// Stopped because the verdict no longer needed it.
    Cancelled,
    /// Not run, with the reason.
    Skipped(&'static str),
}

/// One test of the discovery: a STUN transaction with what the report shows about it.
#[derive(Debug, Clone)]
pub struct Test {
    /// Which test.
    pub kind: TestKind,
    /// Local socket it was sent from.
    pub socket: SocketId,
    /// The server the test concerns.
    pub server: SocketAddr,
    /// Where the request was sent.
    pub destination: SocketAddr,
    /// What the request asked for.
    pub request: BindingRequest,
    /// For change requests: the address the answer must come from.
    pub expect_from: Option<SocketAddr>,
    /// The socket the answer must arrive on, when not the sending one.
    pub expect_on: Option<SocketId>,
    /// How it ended (so far).
    pub outcome: Outcome,
    /// Offset of the first transmission from the start of the discovery.
    pub started_after: Option<Duration>,
    pub(super) transaction: ClientTransaction,
    /// Not sent before this time (lifetime checks wait).
    pub(super) not_before: Instant,
    /// Silence is an answer: wait a silence window, not the whole timeout.
    pub(super) may_be_silent: bool,
    /// Retransmissions not sent: the destination was named by a server (OTHER-ADDRESS or
    /// the mapped address), not by the user, and has not answered us yet.
    pub(super) withheld: u32,
}

impl Test {
    /// The STUN transaction ID.
    pub fn transaction_id(&self) -> &[u8; 12] {
        self.transaction.transaction_id()
    }

    /// Transmissions made (RFC 8489 §6.2.1 retransmissions included).
    pub fn transmissions(&self) -> u32 {
        self.transaction.transmissions() - self.withheld
    }

    /// Whether the destination is an address a server named (RFC 5780 OTHER-ADDRESS, or the
    /// mapped address hairpinning is sent to) rather than one the user gave: a server could
    /// name any host there, so such a destination gets one datagram until it has answered.
    pub fn to_claimed_address(&self) -> bool {
        matches!(
            self.kind,
            TestKind::MappingTest2 | TestKind::MappingTest3 | TestKind::Hairpinning
        )
    }

    pub(super) fn is_pending(&self) -> bool {
        matches!(self.outcome, Outcome::Pending)
    }

    pub(super) fn answer(&self) -> Option<&Answer> {
        match &self.outcome {
            Outcome::Answered(a) => Some(a),
            _ => None,
        }
    }
}

/// Datagrams the machine received and ignored, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Ignored {
    /// Not STUN, truncated or with malformed attributes.
    pub malformed: u32,
    /// FINGERPRINT did not match (RFC 8489 §7.3: silently discard).
    pub bad_fingerprint: u32,
    /// Valid STUN, but no running test has its transaction ID (stray or late duplicate).
    pub unknown_transaction: u32,
}
