//! Server transactions (RFC 3261 §17.2): a request the far end sent us (a BYE, re-INVITE,
//! OPTIONS or NOTIFY during a call), the response we give it, and the request's
//! retransmissions answered again from the transaction, not passed up twice.
//!
//! Non-INVITE (§17.2.2): Trying → Completed on a final response, which is kept for Timer J
//! (64·T1 over UDP, 0 over a reliable transport) to answer retransmissions. INVITE
//! (§17.2.1): a non-2xx final response is kept until the ACK (or Timer H, 64·T1); a 2xx ends
//! the transaction, its retransmissions being the dialog's (RFC 6026 §8).

use std::time::{Duration, Instant};

use super::{Kind, Timers};
use crate::sip::message::Message;

/// Server transaction state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// The request arrived, no response yet.
    Trying,
    /// A provisional response was sent.
    Proceeding,
    /// A final response was sent; retransmissions of the request get it again.
    Completed,
    /// Over.
    Terminated,
}

/// One server transaction.
#[derive(Debug, Clone)]
pub struct ServerTransaction {
    kind: Kind,
    reliable: bool,
    timers: Timers,
    branch: String,
    method: String,
    state: ServerState,
    last_response: Option<Vec<u8>>,
    linger_until: Option<Instant>,
}

impl ServerTransaction {
    /// The transaction of `request` (its top Via branch and method, §17.2.3), arrived over
    /// a `reliable` transport or not.
    pub fn new(request: &Message, reliable: bool, timers: Timers) -> Self {
        let method = request.method().unwrap_or("").to_string();
        ServerTransaction {
            kind: if method == "INVITE" {
                Kind::Invite
            } else {
                Kind::NonInvite
            },
            reliable,
            timers,
            branch: branch_of(request),
            method,
            state: ServerState::Trying,
            last_response: None,
            linger_until: None,
        }
    }

    /// Whether `request` belongs to this transaction: a retransmission (same branch and
    /// method), or, for INVITE, the ACK of its non-2xx response (§17.2.3).
    pub fn matches(&self, request: &Message) -> bool {
        let method = request.method().unwrap_or("");
        branch_of(request) == self.branch
            && (method == self.method || (self.kind == Kind::Invite && method == "ACK"))
    }

    /// State.
    pub fn state(&self) -> ServerState {
        self.state
    }

    /// The method of the request.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// Records the response `bytes` with `status`, sent at `now`.
    pub fn respond(&mut self, now: Instant, status: u16, bytes: Vec<u8>) {
        if self.state == ServerState::Terminated {
            return;
        }
        self.last_response = Some(bytes);
        if status < 200 {
            self.state = ServerState::Proceeding;
            return;
        }
        let linger = match (self.kind, status) {
            (Kind::Invite, 200..=299) => None,
            _ if self.reliable && self.kind == Kind::NonInvite => Some(Duration::ZERO),
            _ => Some(self.timers.t1 * 64),
        };
        match linger {
            None => self.state = ServerState::Terminated,
            Some(d) => {
                self.state = ServerState::Completed;
                self.linger_until = Some(now + d);
            }
        }
    }

    /// A request matched this transaction again: the response to send again, if any (none
    /// for an ACK, which ends an INVITE transaction's Completed state).
    pub fn handle_request(&mut self, request: &Message) -> Option<&[u8]> {
        if request.method() == Some("ACK") {
            if self.state == ServerState::Completed {
                self.state = ServerState::Terminated;
            }
            return None;
        }
        self.last_response.as_deref()
    }

    /// When [`ServerTransaction::handle_timeout`] is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            ServerState::Completed => self.linger_until,
            _ => None,
        }
    }

    /// Timer J (or H) at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == ServerState::Completed && self.linger_until.is_none_or(|t| now >= t) {
            self.state = ServerState::Terminated;
        }
    }

    /// Whether it is over.
    pub fn is_terminated(&self) -> bool {
        self.state == ServerState::Terminated
    }
}

fn branch_of(m: &Message) -> String {
    m.top_via()
        .and_then(|v| v.branch().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bye(branch: &str, method: &str) -> Message {
        Message::parse(
            format!(
                "{method} sip:a@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch={branch}\r\n\
                 CSeq: 2 {method}\r\nCall-ID: c\r\nFrom: <sip:b@x>;tag=1\r\nTo: <sip:a@y>;tag=2\r\n\
                 Content-Length: 0\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn non_invite_answers_retransmissions_until_timer_j() {
        #[allow(clippy::disallowed_methods)]
        let t0 = Instant::now();
        let mut st = ServerTransaction::new(&bye("z9hG4bKb", "BYE"), false, Timers::default());
        assert!(st.matches(&bye("z9hG4bKb", "BYE")));
        assert!(!st.matches(&bye("z9hG4bKc", "BYE")));
        assert_eq!(
            st.handle_request(&bye("z9hG4bKb", "BYE")),
            None,
            "no response yet"
        );
        st.respond(t0, 200, b"SIP/2.0 200 OK".to_vec());
        assert_eq!(
            st.handle_request(&bye("z9hG4bKb", "BYE")),
            Some(b"SIP/2.0 200 OK".as_slice())
        );
        assert_eq!(st.poll_timeout(), Some(t0 + Duration::from_secs(32)));
        st.handle_timeout(t0 + Duration::from_secs(32));
        assert!(st.is_terminated());
    }

    #[test]
    fn invite_non_2xx_ends_with_its_ack() {
        #[allow(clippy::disallowed_methods)]
        let t0 = Instant::now();
        let mut st = ServerTransaction::new(&bye("z9hG4bKi", "INVITE"), true, Timers::default());
        st.respond(t0, 488, b"SIP/2.0 488".to_vec());
        assert_eq!(st.state(), ServerState::Completed);
        assert!(st.matches(&bye("z9hG4bKi", "ACK")));
        assert_eq!(st.handle_request(&bye("z9hG4bKi", "ACK")), None);
        assert!(st.is_terminated());
        let mut st = ServerTransaction::new(&bye("z9hG4bKj", "INVITE"), true, Timers::default());
        st.respond(t0, 200, b"SIP/2.0 200".to_vec());
        assert!(st.is_terminated(), "a 2xx is the dialog's to retransmit");
    }
}
