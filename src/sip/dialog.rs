//! What both sides of a test call's dialog share (the UAC of `invite` and the UAS of
//! `answer`): the ladder of messages, how the call ended and who hung up, what the dialog
//! tells the call machine, and the session timer (RFC 4028).

use std::time::Duration;

use super::message::Message;
use super::register::{AuthFailure, AuthInfo};

/// How long a CANCEL or BYE waits for its answer before the call is given up.
pub const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// The methods we accept inside the dialog (the Allow header of our requests and answers).
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, PRACK";

/// Who sent a ladder message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sender {
    /// Us.
    Us,
    /// The far end (or a proxy on the way).
    Them,
}

/// One SIP message of the call, timed from the command's start.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LadderStep {
    /// Time since the start, ms.
    pub at_ms: f64,
    /// Who sent it.
    pub by: Sender,
    /// `INVITE`, `ACK`, `180 Ringing`, …
    pub message: String,
    /// CSeq number.
    pub cseq: u64,
    /// Whether a request carried credentials (their value is never kept).
    pub authenticated: bool,
    /// Whether it carried SDP.
    pub sdp: bool,
}

/// How the call attempt ended (the JSON `outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallOutcome {
    /// A 2xx: the call was answered.
    Answered,
    /// 486 Busy Here, 600 Busy Everywhere.
    Busy,
    /// Another final response ≥ 300.
    Rejected,
    /// No final response: no response at all within the timeout, or only provisional ones.
    NoAnswer,
    /// We CANCELed (`--cancel-after`, or no final response in time) and it took effect.
    Cancelled,
    /// The flow failed: ICMP unreachable, connection refused or closed.
    Unreachable,
    /// A challenge could not be answered, or our credentials were refused.
    AuthFailed,
    /// Ctrl-C.
    Interrupted,
}

/// Who ended an answered call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HangupBy {
    /// Our BYE.
    Us,
    /// The far end's BYE.
    FarEnd,
}

/// What the dialog came to.
#[derive(Debug, Clone, Default)]
pub struct InviteOutcome {
    /// How it ended; `None` while it runs.
    pub outcome: Option<CallOutcome>,
    /// The final response's status and reason.
    pub final_status: Option<(u16, String)>,
    /// Every SIP message of the call.
    pub ladder: Vec<LadderStep>,
    /// The authentication used.
    pub auth: Option<AuthInfo>,
    /// Why authentication failed.
    pub auth_failure: Option<AuthFailure>,
    /// Time from the (last) INVITE to the first response, to the first provisional ≥ 180
    /// (post-dial delay) and to the 2xx.
    pub first_response: Option<Duration>,
    /// Post-dial delay: INVITE to 180/183 (or to the final response if none came).
    pub pdd: Option<Duration>,
    /// INVITE to 2xx.
    pub answer: Option<Duration>,
    /// When (since the start) the dialog was confirmed.
    pub answered_at: Option<Duration>,
    /// The answer SDP and whether it came in a provisional response (early media).
    pub answer_sdp: Option<(Vec<u8>, bool)>,
    /// The first 2xx (its Via shows how the far end saw us).
    pub answer_response: Option<Message>,
    /// Session-Expires / Min-SE retry: the interval asked for after a 422, s.
    pub session_interval_retry: Option<u32>,
    /// Who hung up, and the BYE's final status (our BYE) when it had one.
    pub hangup: Option<(HangupBy, Option<u16>)>,
    /// 2xx from other forks that were ACKed and sent a BYE.
    pub forks_released: u32,
    /// A PRACK was sent for a reliable provisional response.
    pub prack: bool,
    /// The session timer the 2xx set (RFC 4028): interval, s, and who refreshes.
    pub session_timer: Option<(u32, Refresher)>,
    /// Session refreshes: our re-INVITEs answered 2xx, or the far end's refreshing requests.
    pub refreshes: u32,
    /// The far end was the refresher and did not refresh in time: we sent BYE (RFC 4028
    /// §10).
    pub session_expired: bool,
    /// Why we sent CANCEL, when we did.
    pub cancelled_by: Option<CancelReason>,
    /// A transport failure: words.
    pub error: Option<String>,
}

/// Why we sent CANCEL (RFC 3261 §9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CancelReason {
    /// No final response within `--timeout`: the call was not answered.
    NoAnswer,
    /// Asked for: `--cancel-after`, a hang-up or Ctrl-C while ringing.
    Requested,
}

/// Who refreshes the session (RFC 4028 §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Refresher {
    /// We (the caller).
    Uac,
    /// The far end.
    Uas,
}

/// Reads `Session-Expires: delta[;refresher=uac|uas]` (RFC 4028 §4); a missing refresher
/// means us (§7.2 requires the UAS to name one; we take the duty rather than let the
/// session expire). Intervals under 90 s (Min-SE's floor) are raised to 90.
pub fn session_expires(m: &Message) -> Option<(u32, Refresher)> {
    let v = m.header("Session-Expires")?;
    let mut parts = v.split(';');
    let delta: u32 = parts.next()?.trim().parse().ok()?;
    let refresher = parts
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("refresher"))
        .map_or(Refresher::Uac, |(_, v)| {
            if v.trim().eq_ignore_ascii_case("uas") {
                Refresher::Uas
            } else {
                Refresher::Uac
            }
        });
    Some((delta.max(90), refresher))
}

/// What the dialog tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InviteEvent {
    /// A challenge needs a password: answer with [`Invite::provide_password`](crate::sip::invite::Invite::provide_password).
    PasswordNeeded {
        /// The realm asked for.
        realm: String,
    },
    /// The SDP answer arrived (in a provisional response: early media).
    Answer {
        /// The body.
        sdp: Vec<u8>,
        /// In a provisional response.
        early: bool,
    },
    /// The call was answered (2xx, ACK sent).
    Confirmed,
    /// The far end sent a new offer inside the dialog (re-INVITE or UPDATE); we answered it
    /// with our current SDP.
    NewOffer {
        /// Its body.
        sdp: Vec<u8>,
    },
    /// The far end hung up.
    RemoteBye,
    /// The dialog ended (see [`Invite::outcome`](crate::sip::invite::Invite::outcome)).
    Ended,
}
