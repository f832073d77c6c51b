//! The UAC side of an INVITE dialog (RFC 3261 §13, §12, §15), sans-IO on the [`Endpoint`]:
//! the INVITE with our SDP offer; digest authentication on 401 and 407 (the same step as
//! REGISTER, RFC 7616/8760) with the credentials repeated on the ACK of the 2xx
//! (§13.2.2.4) and on a challenged BYE; provisional responses with early dialogs per
//! To-tag, the first SDP as the answer (§13.2.1, early media), PRACK for reliable
//! provisional responses (RFC 3262 §4); the ACK of each 2xx (again for each retransmission,
//! RFC 6026) and ACK + BYE for the 2xx of a second fork (§13.2.2.4); the route set from
//! Record-Route and the remote target from Contact (§12.1.2); CANCEL when no final response
//! comes in time, only after a provisional one (§9.1), and ACK + BYE when a 2xx crosses it;
//! 422 Session Interval Too Small retried once with Min-SE (RFC 4028 §7.4); requests from the
//! far end inside the dialog answered (BYE, re-INVITE, UPDATE, OPTIONS, INFO); our BYE.
//!
//! The machine never waits without a bound: the INVITE's transaction bounds the wait for a
//! first response (the user's `--timeout`), the dialog bounds the wait after a provisional
//! one (CANCEL at `no_answer`), a CANCEL or BYE waits at most [`CLOSE_WAIT`].

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;

use super::auth::{AuthStep, Authenticator};
use super::context::RequestContext;
use super::endpoint::{ClientId, Endpoint, EndpointEvent, ServerId, TransactionResult};
use super::message::{Message, NameAddr};
use super::request::{self, Method, RequestSpec};
use crate::machine::{Input, Machine, Transmit};

pub use super::dialog::{
    ALLOW, CLOSE_WAIT, CallOutcome, CancelReason, HangupBy, InviteEvent, InviteOutcome, LadderStep,
    Refresher, Sender, session_expires,
};

/// INVITEs sent at most (challenge, 422 and their combination).
pub const MAX_INVITES: u32 = 4;

/// What to call.
#[derive(Clone)]
pub struct InviteConfig {
    /// Request-URI of the INVITE (the target).
    pub request_uri: String,
    /// From URI (ours).
    pub from: String,
    /// To URI (the target).
    pub to: String,
    /// Authentication user name.
    pub user: String,
    /// Password, when known before the first challenge.
    pub password: Option<String>,
    /// Our Contact URI.
    pub contact: String,
    /// Route set for the INVITE (`--proxy`, RFC 3261 §8.1.2).
    pub route: Vec<String>,
    /// Our SDP offer.
    pub offer: Vec<u8>,
    /// CANCEL when no final response has come this long after the INVITE (and a provisional
    /// one has): the user's `--timeout`.
    pub no_answer: Duration,
    /// CANCEL on purpose this long after the INVITE (`--cancel-after`).
    pub cancel_after: Option<Duration>,
    /// Where ladder times count from (the command's start).
    pub start: Instant,
}

impl std::fmt::Debug for InviteConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InviteConfig")
            .field("request_uri", &self.request_uri)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// INVITE sent, no final response yet.
    Calling,
    /// CANCEL sent, waiting for the INVITE's final response.
    Cancelling,
    /// 2xx ACKed: the call is up.
    Confirmed,
    /// Our BYE sent.
    Closing,
    /// Done.
    Ended,
}

/// The dialog's fields once a To-tag is known (§12.1.2).
#[derive(Debug, Clone)]
struct Peer {
    to_tag: String,
    remote_target: Option<String>,
    route: Vec<String>,
}

/// The UAC INVITE dialog machine (see the module documentation).
pub struct Invite {
    config: InviteConfig,
    endpoint: Endpoint,
    ctx: RequestContext,
    rng: StdRng,
    state: State,
    cseq: u32,
    invites: u32,
    invite: Option<(ClientId, RequestSpec, Instant)>,
    /// Credentials of the last INVITE: (header, value), repeated on its ACK.
    credentials: Option<(&'static str, String)>,
    auth: Authenticator,
    session_expires: Option<u32>,
    provisional_seen: bool,
    /// Reliable provisional responses PRACKed: (to-tag, RSeq).
    pracked: Vec<(String, u32)>,
    confirmed: Option<Peer>,
    cancel: Option<ClientId>,
    bye: Option<ClientId>,
    bye_challenged: bool,
    close_deadline: Option<Instant>,
    answer_deadline: Option<Instant>,
    cancel_at: Option<Instant>,
    outcome: InviteOutcome,
    events: VecDeque<InviteEvent>,
    current_sdp: Vec<u8>,
    /// Our next session refresh (we are the refresher), or when the far end's refresh is
    /// overdue (it is).
    refresh_at: Option<Instant>,
    /// Our refreshing re-INVITE in flight: (transaction, CSeq).
    refresh: Option<(ClientId, u32)>,
}

impl std::fmt::Debug for Invite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invite")
            .field("config", &self.config)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

use crate::rtp::stats::round_ms as ms;

mod answers;

fn tag_of(m: &Message, header: &str) -> Option<String> {
    m.header(header)
        .and_then(|t| NameAddr::parse(t).ok())
        .and_then(|n| n.tag().map(str::to_string))
}

/// The dialog fields a response establishes (§12.1.2): To-tag, remote target (Contact) and
/// route set (Record-Route, reversed).
fn peer_of(m: &Message) -> Option<Peer> {
    let to_tag = tag_of(m, "To")?;
    let remote_target = m
        .header("Contact")
        .and_then(|c| NameAddr::parse(c).ok())
        .map(|c| c.uri);
    let mut route: Vec<String> = m
        .headers_named("Record-Route")
        .filter_map(|r| NameAddr::parse(r).ok())
        .map(|r| r.uri)
        .collect();
    route.reverse();
    Some(Peer {
        to_tag,
        remote_target,
        route,
    })
}

fn is_sdp(m: &Message) -> bool {
    !m.body.is_empty()
        && m.header("Content-Type")
            .is_some_and(|c| c.trim().to_ascii_lowercase().starts_with("application/sdp"))
}

impl Invite {
    /// Starts the call at `now` over the endpoint's flow 0: the INVITE is sent at once.
    pub fn new(config: InviteConfig, endpoint: Endpoint, mut rng: StdRng, now: Instant) -> Self {
        let ctx = RequestContext::new(
            &mut rng,
            config.request_uri.clone(),
            config.from.clone(),
            config.to.clone(),
            config.route.clone(),
        );
        let current_sdp = config.offer.clone();
        let auth = Authenticator::new(config.user.clone(), config.password.clone(), false);
        let mut i = Invite {
            config,
            endpoint,
            ctx,
            rng,
            state: State::Calling,
            cseq: 0,
            invites: 0,
            invite: None,
            credentials: None,
            auth,
            session_expires: None,
            provisional_seen: false,
            pracked: Vec::new(),
            confirmed: None,
            cancel: None,
            bye: None,
            bye_challenged: false,
            close_deadline: None,
            answer_deadline: None,
            cancel_at: None,
            outcome: InviteOutcome::default(),
            events: VecDeque::new(),
            current_sdp,
            refresh_at: None,
            refresh: None,
        };
        i.send_invite(now);
        i
    }

    /// The Call-ID.
    pub fn call_id(&self) -> &str {
        &self.ctx.call_id
    }

    /// What the dialog came to (so far).
    pub fn outcome(&self) -> &InviteOutcome {
        &self.outcome
    }

    /// The endpoint (its flow).
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Whether the call is up (2xx ACKed, no BYE yet).
    pub fn is_confirmed(&self) -> bool {
        self.state == State::Confirmed
    }

    /// The SDP we answer a new offer with (after a change of our media, e.g. latching).
    pub fn set_current_sdp(&mut self, sdp: Vec<u8>) {
        self.current_sdp = sdp;
    }

    /// The password asked for with [`InviteEvent::PasswordNeeded`], or `None`: the call then
    /// ends with [`AuthFailure::NoPassword`](crate::sip::register::AuthFailure::NoPassword).
    pub fn provide_password(&mut self, now: Instant, password: Option<String>) {
        match self.auth.provide_password(password) {
            Some(AuthStep::Retry) => self.retry_authenticated(now),
            Some(_) => {
                self.outcome.auth_failure = self.auth.failure().cloned();
                self.end(CallOutcome::AuthFailed);
            }
            None => {}
        }
    }

    /// Hangs up at `now`: BYE when the call is up, CANCEL when it rings, nothing otherwise.
    pub fn hang_up(&mut self, now: Instant) {
        match self.state {
            State::Confirmed => self.send_bye(now, None),
            State::Calling if self.provisional_seen => {
                self.outcome
                    .cancelled_by
                    .get_or_insert(CancelReason::Requested);
                self.send_cancel(now);
            }
            State::Calling => {
                self.endpoint.abandon();
                self.end(CallOutcome::NoAnswer);
            }
            _ => {}
        }
    }

    fn at(&self, now: Instant) -> f64 {
        ms(now.saturating_duration_since(self.config.start))
    }

    fn log(&mut self, now: Instant, by: Sender, message: String, cseq: u64, auth: bool, sdp: bool) {
        let at_ms = self.at(now);
        self.outcome.ladder.push(LadderStep {
            at_ms,
            by,
            message,
            cseq,
            authenticated: auth,
            sdp,
        });
    }

    fn log_message(&mut self, now: Instant, m: &Message, by: Sender) {
        let text = match (m.status(), m.method()) {
            (Some(code), _) => format!(
                "{code} {}",
                crate::text::clip(m.reason().unwrap_or("").to_string()).0
            ),
            (None, Some(method)) => crate::text::clip(method.to_string()).0,
            _ => String::new(),
        };
        let cseq = m.cseq().map_or(0, |c| c.0);
        let auth = m.header("Authorization").is_some() || m.header("Proxy-Authorization").is_some();
        self.log(now, by, text, cseq, auth, is_sdp(m));
    }

    fn end(&mut self, outcome: CallOutcome) {
        if self.state == State::Ended {
            return;
        }
        self.state = State::Ended;
        self.outcome.outcome.get_or_insert(outcome);
        self.events.push_back(InviteEvent::Ended);
    }

    fn send_invite(&mut self, now: Instant) {
        if self.invites >= MAX_INVITES {
            self.end(CallOutcome::Rejected);
            return;
        }
        self.invites += 1;
        self.cseq += 1;
        let flow = *self.endpoint.flow(0);
        let mut spec = self
            .ctx
            .request(&mut self.rng, Method::Invite, self.cseq, &flow, None);
        spec.contact = Some(self.config.contact.clone());
        spec.extra.push(("Allow".into(), ALLOW.into()));
        spec.extra
            .push(("Supported".into(), "100rel, timer".into()));
        if let Some(se) = self.session_expires {
            spec.extra.push(("Session-Expires".into(), se.to_string()));
            spec.extra.push(("Min-SE".into(), se.to_string()));
        }
        self.credentials = None;
        if let Some(signed) = self.auth.sign(
            &mut self.rng,
            "INVITE",
            &self.ctx.request_uri,
            &self.config.offer,
        ) {
            spec.extra
                .push((signed.header.to_string(), signed.value.clone()));
            self.credentials = Some((signed.header, signed.value));
        }
        spec.body = Some(("application/sdp".into(), self.config.offer.clone()));
        let authenticated = self.credentials.is_some();
        self.log(
            now,
            Sender::Us,
            "INVITE".into(),
            u64::from(self.cseq),
            authenticated,
            true,
        );
        match self.endpoint.send_request(now, 0, spec.clone()) {
            Ok(id) => {
                self.invite = Some((id, spec, now));
                self.answer_deadline = Some(now + self.config.no_answer);
                self.cancel_at = self.config.cancel_after.map(|d| now + d);
            }
            Err(e) => {
                self.outcome.error = Some(e.to_string());
                self.end(CallOutcome::Unreachable);
            }
        }
    }

    fn send_cancel(&mut self, now: Instant) {
        let Some((_, spec, _)) = &self.invite else {
            return;
        };
        // §9.1: the INVITE's Request-URI, Call-ID, To, From, CSeq number, top Via and Route.
        let cancel = RequestSpec {
            method: Method::Cancel,
            contact: None,
            expires: None,
            extra: Vec::new(),
            body: None,
            ..spec.clone()
        };
        let cseq = u64::from(cancel.cseq);
        self.log(now, Sender::Us, "CANCEL".into(), cseq, false, false);
        match self.endpoint.send_request(now, 0, cancel) {
            Ok(id) => {
                self.cancel = Some(id);
                self.state = State::Cancelling;
                self.close_deadline = Some(now + CLOSE_WAIT);
                self.answer_deadline = None;
                self.cancel_at = None;
            }
            Err(e) => {
                self.outcome.error = Some(e.to_string());
                self.end(CallOutcome::NoAnswer);
            }
        }
    }

    /// Where in-dialog requests go over UDP: the remote target's address when there is no
    /// route set and it names an IP literal (§12.2.1.1, §8.1.2); else the flow's peer.
    fn dialog_destination(&self, peer: &Peer) -> SocketAddr {
        let flow = self.endpoint.flow(0);
        if !peer.route.is_empty() || flow.transport.is_reliable() {
            return flow.peer;
        }
        peer.remote_target
            .as_deref()
            .and_then(|t| t.parse::<crate::sip::target::Target>().ok())
            .and_then(|t| match t.host {
                crate::addr::Host::Ip(ip) => Some(SocketAddr::new(
                    ip,
                    t.port.unwrap_or(flow.transport.default_port()),
                )),
                crate::addr::Host::Name(_) => None,
            })
            .unwrap_or(flow.peer)
    }

    /// A request inside the dialog with `peer` (§12.2.1.1).
    fn in_dialog(&mut self, method: Method, cseq: u32, peer: &Peer) -> RequestSpec {
        let flow = *self.endpoint.flow(0);
        let mut ctx = self.ctx.clone();
        ctx.to_tag = Some(peer.to_tag.clone());
        if let Some(t) = &peer.remote_target {
            ctx.request_uri = t.clone();
        }
        ctx.route = if peer.route.is_empty() {
            self.config.route.clone()
        } else {
            peer.route.clone()
        };
        ctx.request(&mut self.rng, method, cseq, &flow, None)
    }

    fn send_ack(&mut self, now: Instant, peer: &Peer, invite_cseq: u32) {
        let mut ack = self.in_dialog(Method::Ack, invite_cseq, peer);
        // §13.2.2.4 (and §22.1): the ACK carries the INVITE's credentials.
        if let Some((header, value)) = &self.credentials {
            ack.extra.push(((*header).to_string(), value.clone()));
        }
        let authenticated = self.credentials.is_some();
        if let Ok(bytes) = request::build(&ack) {
            let dest = self.dialog_destination(peer);
            self.endpoint.send_stateless(0, dest, bytes);
            self.log(
                now,
                Sender::Us,
                "ACK".into(),
                u64::from(invite_cseq),
                authenticated,
                false,
            );
        }
    }

    fn send_bye(&mut self, now: Instant, credentials: Option<(&'static str, String)>) {
        let Some(peer) = self.confirmed.clone() else {
            return;
        };
        self.cseq += 1;
        let mut bye = self.in_dialog(Method::Bye, self.cseq, &peer);
        let authenticated = credentials.is_some();
        if let Some((h, v)) = credentials {
            bye.extra.push((h.to_string(), v));
        }
        self.log(
            now,
            Sender::Us,
            "BYE".into(),
            u64::from(self.cseq),
            authenticated,
            false,
        );
        let dest = self.dialog_destination(&peer);
        match self.endpoint.send_request_to(now, 0, dest, bye) {
            Ok(id) => {
                self.bye = Some(id);
                self.state = State::Closing;
                self.close_deadline = Some(now + CLOSE_WAIT);
            }
            Err(e) => {
                self.outcome.error = Some(e.to_string());
                self.outcome.hangup = Some((HangupBy::Us, None));
                self.end(CallOutcome::Answered);
            }
        }
    }

    /// BYE to the 2xx of another fork (§13.2.2.4): ACK it, then end that dialog.
    fn release_fork(&mut self, now: Instant, fork: &Peer, invite_cseq: u32) {
        self.send_ack(now, fork, invite_cseq);
        self.cseq += 1;
        let bye = self.in_dialog(Method::Bye, self.cseq, fork);
        self.log(
            now,
            Sender::Us,
            "BYE".into(),
            u64::from(self.cseq),
            false,
            false,
        );
        let dest = self.dialog_destination(fork);
        let _ = self.endpoint.send_request_to(now, 0, dest, bye);
        self.outcome.forks_released += 1;
    }

    fn retry_authenticated(&mut self, now: Instant) {
        self.outcome.auth = self.auth.info().cloned();
        self.send_invite(now);
    }

    /// RFC 4028 §10: as the refresher, refresh at half the interval; otherwise expect the
    /// far end's refresh and give up (BYE) `min(32, interval/3)` s before it expires.
    fn schedule_refresh(&mut self, now: Instant) {
        self.refresh_at = self.outcome.session_timer.map(|(interval, refresher)| {
            let i = u64::from(interval);
            now + Duration::from_secs(match refresher {
                Refresher::Uac => i / 2,
                Refresher::Uas => i - (i / 3).min(32),
            })
        });
    }

    /// The refresh timer at `now`.
    fn on_refresh_timer(&mut self, now: Instant) {
        self.refresh_at = None;
        let Some((interval, refresher)) = self.outcome.session_timer else {
            return;
        };
        let Some(peer) = self.confirmed.clone() else {
            return;
        };
        match refresher {
            Refresher::Uas => {
                self.outcome.session_expired = true;
                self.send_bye(now, self.credentials.clone());
            }
            Refresher::Uac => {
                self.cseq += 1;
                let mut reinvite = self.in_dialog(Method::Invite, self.cseq, &peer);
                reinvite.contact = Some(self.config.contact.clone());
                reinvite.extra.push(("Supported".into(), "timer".into()));
                reinvite.extra.push((
                    "Session-Expires".into(),
                    format!("{interval};refresher=uac"),
                ));
                reinvite.body = Some(("application/sdp".into(), self.current_sdp.clone()));
                self.log(
                    now,
                    Sender::Us,
                    "INVITE".into(),
                    u64::from(self.cseq),
                    false,
                    true,
                );
                let dest = self.dialog_destination(&peer);
                if let Ok(id) = self.endpoint.send_request_to(now, 0, dest, reinvite) {
                    self.refresh = Some((id, self.cseq));
                }
            }
        }
    }

    fn drain(&mut self, now: Instant) {
        while let Some(e) = self.endpoint.poll_event() {
            match e {
                EndpointEvent::Provisional { id, response } => {
                    if self.invite.as_ref().is_some_and(|i| i.0 == id) {
                        self.on_provisional(now, response);
                    }
                }
                EndpointEvent::Completed { id, result } => self.on_completed(now, id, result),
                EndpointEvent::Invite2xx { id, response } => {
                    if self.invite.as_ref().is_some_and(|i| i.0 == id) {
                        self.on_2xx_again(now, &response);
                    } else if let (Some(peer), Some(cseq)) = (
                        self.confirmed.clone(),
                        response.cseq().and_then(|c| u32::try_from(c.0).ok()),
                    ) {
                        // A retransmitted 2xx of our refreshing re-INVITE: its ACK again.
                        self.send_ack(now, &peer, cseq);
                    }
                }
                EndpointEvent::Failed { id, error } => {
                    if self.invite.as_ref().is_some_and(|i| i.0 == id)
                        && matches!(self.state, State::Calling | State::Cancelling)
                    {
                        self.outcome.error = Some(error.to_string());
                        self.end(CallOutcome::Unreachable);
                    } else if self.bye == Some(id) {
                        self.outcome.error = Some(error.to_string());
                        self.outcome.hangup = Some((HangupBy::Us, None));
                        self.end(CallOutcome::Answered);
                    }
                }
                EndpointEvent::Request { id, request, .. } => self.on_request(now, id, request),
                // The ACK of a 2xx we sent to a re-INVITE: nothing to do.
                EndpointEvent::Ack { .. } => {}
            }
        }
    }
}

impl Machine for Invite {
    type Event = InviteEvent;

    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        self.endpoint.handle_input(now, input);
        self.drain(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.endpoint.handle_timeout(now);
        self.drain(now);
        if self.state == State::Calling && self.provisional_seen {
            if self.cancel_at.is_some_and(|t| now >= t) {
                self.outcome.cancelled_by = Some(CancelReason::Requested);
                self.send_cancel(now);
            } else if self.answer_deadline.is_some_and(|t| now >= t) {
                self.outcome.cancelled_by = Some(CancelReason::NoAnswer);
                self.send_cancel(now);
            }
        }
        if self.state == State::Calling
            && !self.provisional_seen
            && self.answer_deadline.is_some_and(|t| now >= t)
            && !self.auth.is_awaiting_password()
        {
            // No response at all within the timeout (Timer B, shortened to it, fires at
            // the same time): no CANCEL may be sent (§9.1).
            self.endpoint.abandon();
            self.end(CallOutcome::NoAnswer);
        }
        if self.state == State::Confirmed && self.refresh_at.is_some_and(|t| now >= t) {
            self.on_refresh_timer(now);
        }
        if let Some(t) = self.close_deadline
            && now >= t
        {
            self.close_deadline = None;
            match self.state {
                State::Cancelling => self.end(CallOutcome::Cancelled),
                State::Closing => {
                    self.outcome.hangup = Some((HangupBy::Us, None));
                    self.end(CallOutcome::Answered);
                }
                _ => {}
            }
        }
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.endpoint.poll_transmit()
    }

    fn poll_event(&mut self) -> Option<InviteEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let own = match self.state {
            State::Calling => [self.answer_deadline, self.cancel_at]
                .into_iter()
                .flatten()
                .min(),
            State::Cancelling | State::Closing => self.close_deadline,
            State::Confirmed => self.refresh_at,
            State::Ended => None,
        };
        [self.endpoint.poll_timeout(), own]
            .into_iter()
            .flatten()
            .min()
    }

    fn is_done(&self) -> bool {
        self.state == State::Ended
    }

    fn interrupt(&mut self, now: Instant) {
        self.outcome.outcome = Some(CallOutcome::Interrupted);
        match self.state {
            State::Confirmed | State::Calling => self.hang_up(now),
            State::Cancelling | State::Closing => {}
            State::Ended => {}
        }
        if self.state == State::Calling {
            self.end(CallOutcome::Interrupted);
        }
    }
}

#[cfg(test)]
mod tests {
    //! The dialog against scripted peers, in simulated time (no sockets).
    use super::*;
    use crate::sip::endpoint::Flow;
    use crate::sip::register::AuthFailure;
    use crate::sip::target::Transport;
    use crate::sip::transaction::Timers;
    use rand::SeedableRng;

    const PEER: &str = "192.0.2.10:5060";
    const SDP: &[u8] = b"v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

    fn t0() -> Instant {
        #[allow(clippy::disallowed_methods)]
        Instant::now()
    }

    fn config(start: Instant, password: Option<&str>) -> InviteConfig {
        InviteConfig {
            request_uri: "sip:bob@192.0.2.10".into(),
            from: "sip:alice@example.com".into(),
            to: "sip:bob@192.0.2.10".into(),
            user: "alice".into(),
            password: password.map(str::to_string),
            contact: "sip:alice@10.0.0.2:5060".into(),
            route: vec![],
            offer: b"v=0\r\n".to_vec(),
            no_answer: Duration::from_secs(5),
            cancel_after: None,
            start,
        }
    }

    fn invite(now: Instant, password: Option<&str>) -> Invite {
        let flow = Flow {
            socket: 0,
            transport: Transport::Udp,
            local: "10.0.0.2:5060".parse().unwrap(),
            peer: PEER.parse().unwrap(),
        };
        let endpoint = Endpoint::new(
            vec![flow],
            Timers::default(),
            Some(Duration::from_secs(5)),
            "us".into(),
        );
        Invite::new(
            config(now, password),
            endpoint,
            StdRng::seed_from_u64(1),
            now,
        )
    }

    fn sent(i: &mut Invite) -> Vec<(SocketAddr, Message)> {
        std::iter::from_fn(|| i.poll_transmit())
            .map(|t| (t.destination, Message::parse(&t.payload).unwrap()))
            .collect()
    }

    fn events(i: &mut Invite) -> Vec<InviteEvent> {
        std::iter::from_fn(|| i.poll_event()).collect()
    }

    fn input(i: &mut Invite, now: Instant, data: &[u8]) {
        i.handle_input(
            now,
            Input::Message {
                socket: 0,
                from: PEER.parse().unwrap(),
                data,
            },
        );
    }

    /// A response to `req` with To-tag `tag`, `extra` headers and an optional SDP body.
    fn reply(req: &Message, status: u16, tag: &str, extra: &[(&str, &str)], sdp: bool) -> Vec<u8> {
        let mut h: Vec<(String, String)> = extra
            .iter()
            .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
            .collect();
        h.push(("Contact".into(), "<sip:bob@192.0.2.10:5062>".into()));
        let body = sdp.then_some(("application/sdp", SDP));
        crate::sip::response::build(req, status, "Reason", Some(tag), &h, body)
    }

    fn only(v: Vec<(SocketAddr, Message)>, method: &str) -> (SocketAddr, Message) {
        assert_eq!(v.len(), 1, "{v:?}");
        let (d, m) = v.into_iter().next().unwrap();
        assert_eq!(m.method(), Some(method));
        (d, m)
    }

    /// 407 then 200: the transaction ACKs the 407, the INVITE goes again with
    /// Proxy-Authorization, the 2xx is ACKed by the dialog with the same credentials
    /// (§13.2.2.4) to the remote target, and our BYE ends the call with its 200.
    #[test]
    fn proxy_challenge_then_answer_then_our_bye() {
        let now = t0();
        let mut i = invite(now, Some("secret"));
        let (_, inv1) = only(sent(&mut i), "INVITE");
        assert!(inv1.header("Proxy-Authorization").is_none());
        assert_eq!(inv1.body, b"v=0\r\n");
        let t = now + Duration::from_millis(10);
        input(
            &mut i,
            t,
            &reply(
                &inv1,
                407,
                "px",
                &[(
                    "Proxy-Authenticate",
                    "Digest realm=\"lab\", nonce=\"n1\", qop=\"auth\"",
                )],
                false,
            ),
        );
        let out = sent(&mut i);
        assert_eq!(out.len(), 2, "ACK for the 407, then the new INVITE");
        assert_eq!(out[0].1.method(), Some("ACK"));
        let inv2 = out[1].1.clone();
        assert_eq!(inv2.method(), Some("INVITE"));
        assert_eq!(inv2.cseq(), Some((2, "INVITE".into())));
        let cred = inv2.header("Proxy-Authorization").unwrap().to_string();
        assert!(cred.contains("username=\"alice\"") && cred.contains("uri=\"sip:bob@192.0.2.10\""));
        let t = t + Duration::from_millis(10);
        input(&mut i, t, &reply(&inv2, 180, "bt", &[], false));
        input(
            &mut i,
            t + Duration::from_millis(200),
            &reply(&inv2, 200, "bt", &[], true),
        );
        let (dest, ack) = only(sent(&mut i), "ACK");
        assert_eq!(
            dest,
            "192.0.2.10:5062".parse().unwrap(),
            "to the remote target"
        );
        assert_eq!(ack.cseq(), Some((2, "ACK".into())));
        assert_eq!(ack.header("Proxy-Authorization"), Some(cred.as_str()));
        assert!(ack.header("To").unwrap().ends_with("tag=bt"));
        assert_ne!(
            ack.top_via().unwrap().branch(),
            inv2.top_via().unwrap().branch()
        );
        assert_eq!(
            events(&mut i),
            vec![
                InviteEvent::Answer {
                    sdp: SDP.to_vec(),
                    early: false
                },
                InviteEvent::Confirmed
            ]
        );
        let o = i.outcome();
        assert_eq!(o.auth.as_ref().unwrap().challenge_status, 407);
        assert_eq!(o.pdd, Some(Duration::from_millis(10)));
        assert_eq!(o.answer, Some(Duration::from_millis(210)));
        // A retransmitted 2xx gets the ACK again.
        input(
            &mut i,
            t + Duration::from_millis(700),
            &reply(&inv2, 200, "bt", &[], true),
        );
        only(sent(&mut i), "ACK");
        // Our BYE.
        let t = t + Duration::from_secs(3);
        i.hang_up(t);
        let (_, bye) = only(sent(&mut i), "BYE");
        assert_eq!(bye.cseq(), Some((3, "BYE".into())));
        assert!(bye.header("To").unwrap().ends_with("tag=bt"));
        input(
            &mut i,
            t + Duration::from_millis(5),
            &reply(&bye, 200, "bt", &[], false),
        );
        assert_eq!(events(&mut i), vec![InviteEvent::Ended]);
        assert!(i.is_done());
        let o = i.outcome();
        assert_eq!(o.outcome, Some(CallOutcome::Answered));
        assert_eq!(o.hangup, Some((HangupBy::Us, Some(200))));
        assert_eq!(o.final_status, Some((200, "Reason".into())));
        let ladder: Vec<&str> = o.ladder.iter().map(|l| l.message.as_str()).collect();
        assert_eq!(
            ladder,
            [
                "INVITE",
                "407 Reason",
                "INVITE",
                "180 Reason",
                "200 Reason",
                "ACK",
                "200 Reason",
                "ACK",
                "BYE",
                "200 Reason"
            ]
        );
        let text = format!("{o:?}{:?}", i);
        assert!(!text.contains("secret"));
    }

    /// 180 and then nothing: CANCEL at the timeout (same branch as the INVITE), 487 ACKed by
    /// the transaction, outcome cancelled.
    #[test]
    fn ringing_without_answer_is_cancelled_at_the_timeout() {
        let now = t0();
        let mut i = invite(now, None);
        let (_, inv) = only(sent(&mut i), "INVITE");
        input(
            &mut i,
            now + Duration::from_millis(50),
            &reply(&inv, 180, "bt", &[], false),
        );
        assert!(sent(&mut i).is_empty());
        // Retransmissions stopped with the 180; the next wakeup is the CANCEL at 5 s.
        assert_eq!(i.poll_timeout(), Some(now + Duration::from_secs(5)));
        i.handle_timeout(now + Duration::from_secs(5));
        let (_, cancel) = only(sent(&mut i), "CANCEL");
        assert_eq!(
            cancel.top_via().unwrap().branch(),
            inv.top_via().unwrap().branch()
        );
        assert_eq!(cancel.cseq(), Some((1, "CANCEL".into())));
        let t = now + Duration::from_millis(5020);
        input(&mut i, t, &reply(&cancel, 200, "bt", &[], false));
        input(&mut i, t, &reply(&inv, 487, "bt", &[], false));
        let (_, ack) = only(sent(&mut i), "ACK");
        assert_eq!(
            ack.top_via().unwrap().branch(),
            inv.top_via().unwrap().branch()
        );
        assert_eq!(events(&mut i), vec![InviteEvent::Ended]);
        assert_eq!(i.outcome().outcome, Some(CallOutcome::Cancelled));
        assert_eq!(i.outcome().cancelled_by, Some(CancelReason::NoAnswer));
        assert_eq!(i.outcome().final_status.as_ref().map(|f| f.0), Some(487));
    }

    /// Nothing at all: no CANCEL (§9.1), no answer when the timeout ends.
    #[test]
    fn silence_is_no_answer_without_cancel() {
        let now = t0();
        let mut i = invite(now, None);
        only(sent(&mut i), "INVITE");
        let mut t = now;
        for _ in 0..20 {
            let Some(next) = i.poll_timeout() else { break };
            t = next;
            i.handle_timeout(t);
            for (_, m) in sent(&mut i) {
                assert_eq!(m.method(), Some("INVITE"), "retransmissions only");
            }
            if i.is_done() {
                break;
            }
        }
        assert!(i.is_done());
        assert_eq!(t, now + Duration::from_secs(5));
        assert_eq!(i.outcome().outcome, Some(CallOutcome::NoAnswer));
    }

    /// A 200 crosses our CANCEL: the call is up, so it gets its ACK and then a BYE.
    #[test]
    fn answer_crossing_the_cancel_gets_ack_and_bye() {
        let now = t0();
        let mut i = invite(now, None);
        let (_, inv) = only(sent(&mut i), "INVITE");
        input(
            &mut i,
            now + Duration::from_millis(10),
            &reply(&inv, 180, "bt", &[], false),
        );
        i.hang_up(now + Duration::from_secs(1));
        let (_, cancel) = only(sent(&mut i), "CANCEL");
        let t = now + Duration::from_millis(1010);
        input(&mut i, t, &reply(&inv, 200, "bt", &[], true));
        input(&mut i, t, &reply(&cancel, 481, "bt", &[], false));
        let out = sent(&mut i);
        let methods: Vec<_> = out
            .iter()
            .map(|(_, m)| m.method().unwrap().to_string())
            .collect();
        assert_eq!(methods, ["ACK", "BYE"]);
        input(
            &mut i,
            t + Duration::from_millis(5),
            &reply(&out[1].1, 200, "bt", &[], false),
        );
        assert!(i.is_done());
        assert_eq!(i.outcome().outcome, Some(CallOutcome::Answered));
        assert_eq!(i.outcome().hangup, Some((HangupBy::Us, Some(200))));
    }

    /// Two forks answer: the first is the call; the second gets ACK + BYE (§13.2.2.4).
    #[test]
    fn second_fork_2xx_is_acked_and_released() {
        let now = t0();
        let mut i = invite(now, None);
        let (_, inv) = only(sent(&mut i), "INVITE");
        input(
            &mut i,
            now + Duration::from_millis(10),
            &reply(&inv, 200, "f1", &[], true),
        );
        only(sent(&mut i), "ACK");
        input(
            &mut i,
            now + Duration::from_millis(20),
            &reply(&inv, 200, "f2", &[], true),
        );
        let out = sent(&mut i);
        let methods: Vec<_> = out
            .iter()
            .map(|(_, m)| m.method().unwrap().to_string())
            .collect();
        assert_eq!(methods, ["ACK", "BYE"]);
        assert!(out[1].1.header("To").unwrap().ends_with("tag=f2"));
        assert_eq!(i.outcome().forks_released, 1);
        assert!(i.is_confirmed(), "the first fork's call stays up");
    }

    /// The far end sends a re-INVITE to hold, then BYE: the re-INVITE is answered with our
    /// SDP and handed up; the BYE gets 200 and ends the call, hung up by the far end.
    #[test]
    fn far_end_hold_then_bye() {
        let now = t0();
        let mut i = invite(now, None);
        let (_, inv) = only(sent(&mut i), "INVITE");
        input(&mut i, now, &reply(&inv, 200, "bt", &[], true));
        sent(&mut i);
        events(&mut i);
        let from_tag = NameAddr::parse(inv.header("From").unwrap())
            .unwrap()
            .tag()
            .unwrap()
            .to_string();
        let call_id = inv.header("Call-ID").unwrap().to_string();
        let req = |method: &str, cseq: u32, body: &str| {
            format!(
                "{method} sip:alice@10.0.0.2:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK{method}{cseq}\r\n\
                 From: <sip:bob@192.0.2.10>;tag=bt\r\nTo: <sip:alice@example.com>;tag={from_tag}\r\n\
                 Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nContact: <sip:bob@192.0.2.10:5062>\r\n\
                 Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        let hold = "v=0\r\no=- 1 2 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";
        input(
            &mut i,
            now + Duration::from_secs(1),
            req("INVITE", 7, hold).as_bytes(),
        );
        let out = sent(&mut i);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].1.status(), Some(200));
        assert_eq!(out[0].1.body, b"v=0\r\n", "answered with our SDP");
        assert_eq!(
            events(&mut i),
            vec![InviteEvent::NewOffer {
                sdp: hold.as_bytes().to_vec()
            }]
        );
        // OPTIONS and INFO in the dialog get 200; an UPDATE with SDP is a new offer like a
        // re-INVITE, answered with our SDP (RFC 3311).
        for (method, cseq) in [("OPTIONS", 10), ("INFO", 11)] {
            input(
                &mut i,
                now + Duration::from_millis(1500),
                req(method, cseq, "").as_bytes(),
            );
            let out = sent(&mut i);
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].1.status(), Some(200), "{method}");
            assert!(events(&mut i).is_empty());
        }
        let resume = hold
            .replace("c=IN IP4 0.0.0.0", "c=IN IP4 192.0.2.10")
            .replace("sendonly", "sendrecv");
        input(
            &mut i,
            now + Duration::from_millis(1600),
            req("UPDATE", 12, &resume).as_bytes(),
        );
        let out = sent(&mut i);
        assert_eq!(out[0].1.status(), Some(200));
        assert_eq!(out[0].1.body, b"v=0\r\n");
        assert_eq!(
            events(&mut i),
            vec![InviteEvent::NewOffer {
                sdp: resume.as_bytes().to_vec()
            }]
        );
        input(
            &mut i,
            now + Duration::from_secs(2),
            req("BYE", 8, "").as_bytes(),
        );
        let out = sent(&mut i);
        assert_eq!(out[0].1.status(), Some(200));
        assert_eq!(
            events(&mut i),
            vec![InviteEvent::RemoteBye, InviteEvent::Ended]
        );
        assert_eq!(i.outcome().hangup, Some((HangupBy::FarEnd, None)));
        // A BYE for another call is refused with 481.
        let mut j = invite(now, None);
        sent(&mut j);
        input(&mut j, now, req("BYE", 9, "").as_bytes());
        assert_eq!(sent(&mut j)[0].1.status(), Some(481));
        assert!(!j.is_done());
    }

    /// A reliable 183 with SDP (RFC 3262): early media answer, PRACK with RAck, once even
    /// when the 183 is retransmitted.
    #[test]
    fn reliable_183_with_sdp_is_pracked_once() {
        let now = t0();
        let mut i = invite(now, None);
        let (_, inv) = only(sent(&mut i), "INVITE");
        let p183 = reply(
            &inv,
            183,
            "bt",
            &[("Require", "100rel"), ("RSeq", "17")],
            true,
        );
        input(&mut i, now + Duration::from_millis(30), &p183);
        let (_, prack) = only(sent(&mut i), "PRACK");
        assert_eq!(prack.header("RAck"), Some("17 1 INVITE"));
        assert_eq!(prack.cseq(), Some((2, "PRACK".into())));
        assert_eq!(
            events(&mut i),
            vec![InviteEvent::Answer {
                sdp: SDP.to_vec(),
                early: true
            }]
        );
        input(&mut i, now + Duration::from_millis(530), &p183);
        assert!(sent(&mut i).is_empty());
        assert!(i.outcome().prack);
    }

    /// 422 with Min-SE: the INVITE again with Session-Expires and Min-SE of that value.
    #[test]
    fn session_interval_too_small_is_retried_once() {
        let now = t0();
        let mut i = invite(now, None);
        let (_, inv) = only(sent(&mut i), "INVITE");
        input(
            &mut i,
            now,
            &reply(&inv, 422, "x", &[("Min-SE", "1800")], false),
        );
        let out = sent(&mut i);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].1.header("Session-Expires"), Some("1800"));
        assert_eq!(out[1].1.header("Min-SE"), Some("1800"));
        input(
            &mut i,
            now,
            &reply(&out[1].1, 422, "x", &[("Min-SE", "3600")], false),
        );
        assert!(i.is_done());
        assert_eq!(i.outcome().outcome, Some(CallOutcome::Rejected));
        assert_eq!(i.outcome().session_interval_retry, Some(1800));
    }

    /// Busy, and a wrong password (challenged again without stale).
    #[test]
    fn busy_and_auth_failure() {
        let now = t0();
        let mut i = invite(now, None);
        let (_, inv) = only(sent(&mut i), "INVITE");
        input(&mut i, now, &reply(&inv, 486, "x", &[], false));
        assert_eq!(i.outcome().outcome, Some(CallOutcome::Busy));
        let mut i = invite(now, Some("wrong"));
        let (_, inv) = only(sent(&mut i), "INVITE");
        let ch = [("WWW-Authenticate", "Digest realm=\"lab\", nonce=\"n1\"")];
        input(&mut i, now, &reply(&inv, 401, "x", &ch, false));
        let inv2 = sent(&mut i).pop().unwrap().1;
        assert!(inv2.header("Authorization").is_some());
        input(&mut i, now, &reply(&inv2, 401, "x", &ch, false));
        assert_eq!(i.outcome().outcome, Some(CallOutcome::AuthFailed));
        assert!(matches!(
            i.outcome().auth_failure,
            Some(AuthFailure::Rejected { status: 401, .. })
        ));
    }

    /// Fires every timer up to `until` (inclusive); what was sent meanwhile.
    fn run_until(i: &mut Invite, until: Instant) -> Vec<(SocketAddr, Message)> {
        let mut out = Vec::new();
        while let Some(t) = i.poll_timeout().filter(|t| *t <= until) {
            i.handle_timeout(t);
            out.extend(sent(i));
        }
        out
    }

    /// RFC 4028 as the refresher: re-INVITE at half the interval with Session-Expires and
    /// our SDP, its 2xx ACKed, and the next refresh half an interval later.
    #[test]
    fn session_refresh_when_we_are_the_refresher() {
        let now = t0();
        let mut i = invite(now, None);
        let (_, inv) = only(sent(&mut i), "INVITE");
        assert!(inv.headers_named("Supported").any(|v| v == "timer"));
        input(
            &mut i,
            now,
            &reply(
                &inv,
                200,
                "bt",
                &[("Session-Expires", "90;refresher=uac")],
                true,
            ),
        );
        only(sent(&mut i), "ACK");
        assert_eq!(i.outcome().session_timer, Some((90, Refresher::Uac)));
        let t = now + Duration::from_secs(45);
        let (_, re) = only(run_until(&mut i, t), "INVITE");
        assert_eq!(re.cseq(), Some((2, "INVITE".into())));
        assert!(re.header("To").unwrap().ends_with("tag=bt"));
        assert_eq!(re.header("Session-Expires"), Some("90;refresher=uac"));
        assert_eq!(re.body, b"v=0\r\n");
        input(
            &mut i,
            t + Duration::from_millis(20),
            &reply(
                &re,
                200,
                "bt",
                &[("Session-Expires", "90;refresher=uac")],
                true,
            ),
        );
        let (_, ack) = only(sent(&mut i), "ACK");
        assert_eq!(ack.cseq(), Some((2, "ACK".into())));
        assert_eq!(i.outcome().refreshes, 1);
        let next = t + Duration::from_millis(20) + Duration::from_secs(45);
        assert!(run_until(&mut i, next - Duration::from_millis(1)).is_empty());
        only(run_until(&mut i, next), "INVITE");
        assert!(i.is_confirmed());
    }

    /// RFC 4028 §10: the far end is the refresher and never refreshes: BYE
    /// min(32, interval/3) s before the session expires.
    #[test]
    fn session_expires_without_the_far_ends_refresh() {
        let now = t0();
        let mut i = invite(now, None);
        let (_, inv) = only(sent(&mut i), "INVITE");
        input(
            &mut i,
            now,
            &reply(
                &inv,
                200,
                "bt",
                &[("Session-Expires", "120;refresher=uas")],
                true,
            ),
        );
        only(sent(&mut i), "ACK");
        assert!(run_until(&mut i, now + Duration::from_millis(87_999)).is_empty());
        let (_, bye) = only(run_until(&mut i, now + Duration::from_secs(88)), "BYE");
        assert!(i.outcome().session_expired);
        input(
            &mut i,
            now + Duration::from_secs(89),
            &reply(&bye, 200, "bt", &[], false),
        );
        assert!(i.is_done());
    }

    /// A challenged BYE goes again with credentials for the BYE (RFC 3261 §22.2); the
    /// INVITE having carried credentials does not make it a rejection.
    #[test]
    fn challenged_bye_is_sent_again_with_credentials() {
        let now = t0();
        let mut i = invite(now, Some("secret"));
        let (_, inv) = only(sent(&mut i), "INVITE");
        let ch = [(
            "WWW-Authenticate",
            "Digest realm=\"lab\", nonce=\"n1\", qop=\"auth\"",
        )];
        input(&mut i, now, &reply(&inv, 401, "x", &ch, false));
        let inv2 = sent(&mut i).pop().unwrap().1;
        input(&mut i, now, &reply(&inv2, 200, "bt", &[], true));
        only(sent(&mut i), "ACK");
        i.hang_up(now + Duration::from_secs(1));
        let (_, bye) = only(sent(&mut i), "BYE");
        assert!(bye.header("Authorization").is_none());
        let ch2 = [(
            "WWW-Authenticate",
            "Digest realm=\"lab\", nonce=\"n2\", qop=\"auth\"",
        )];
        input(
            &mut i,
            now + Duration::from_secs(1),
            &reply(&bye, 401, "bt", &ch2, false),
        );
        let (_, bye2) = only(sent(&mut i), "BYE");
        let cred = bye2.header("Authorization").unwrap();
        assert!(
            cred.contains("nonce=\"n2\"") && cred.contains("uri=\"sip:bob@192.0.2.10:5062\""),
            "{cred}"
        );
        input(
            &mut i,
            now + Duration::from_secs(1),
            &reply(&bye2, 200, "bt", &[], false),
        );
        assert_eq!(i.outcome().hangup, Some((HangupBy::Us, Some(200))));
    }
}
