//! The UAS side of a test call (`call --answer`), sans-IO on the [`Endpoint`]: wait for one
//! INVITE, ring (180) for `ring`, then answer with `code` — 200 with our SDP answer
//! (RFC 3264 §6) or a failure such as 486 — retransmit the 2xx until its ACK (RFC 3261
//! §13.3.1.4: T1 doubling to T2, given up after 64·T1 with a BYE), answer a CANCEL (200, then
//! 487 to the INVITE, §9.2), a BYE (the call ends, hung up by the far end), OPTIONS and INFO;
//! refuse a second INVITE while busy (486). Our 200 carries the offer as it arrived in
//! `X-Voipdiag-Offer-Seen` (its `c=` address, `m=` port and the INVITE's source), so a caller
//! that is voipdiag proves an SDP rewrite in the path (a SIP ALG) instead of guessing.
//! Everything is bounded by `wait`: no INVITE by then ends the run; a call still up is ended
//! with BYE.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;

use super::dialog::{
    ALLOW, CLOSE_WAIT, CallOutcome, HangupBy, InviteEvent, InviteOutcome, LadderStep, Sender,
};
use super::endpoint::{ClientId, Endpoint, EndpointEvent, ServerId};
use super::message::{Message, NameAddr};
use super::request::{Method, RequestSpec, ViaSpec, new_branch};
use crate::machine::{Input, Machine, Transmit};
use crate::sdp::offer::{AudioCodec, LocalMedia, answer_direction, negotiate, write};

/// The header our 2xx carries with the offer as it arrived.
pub const OFFER_SEEN_HEADER: &str = "X-Voipdiag-Offer-Seen";

/// How to answer.
#[derive(Debug, Clone)]
pub struct AnswerConfig {
    /// Our media (address, port, codecs, ptime, RTCP).
    pub local: LocalMedia,
    /// How long to ring (180) before the final response.
    pub ring: Duration,
    /// The final response: 200, or e.g. 486 to test a busy callee.
    pub code: u16,
    /// Our Contact URI.
    pub contact: String,
    /// Bound on the whole run, from `start`.
    pub wait: Duration,
    /// Where ladder times count from.
    pub start: Instant,
}

/// What arrived about the offer, as the far end may compare it with what it sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct OfferSeen {
    /// The offer's `c=` address.
    pub address: Option<std::net::IpAddr>,
    /// The offer's audio `m=` port.
    pub port: Option<u16>,
    /// Where the INVITE came from.
    pub source: Option<SocketAddr>,
}

impl OfferSeen {
    /// The header value: `c=ADDR m=PORT src=IP:PORT` (`-` for unknown).
    pub fn header_value(&self) -> String {
        let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        format!(
            "c={} m={} src={}",
            or_dash(self.address.map(|a| a.to_string())),
            or_dash(self.port.map(|p| p.to_string())),
            or_dash(self.source.map(|s| s.to_string()))
        )
    }

    /// Parses [`OfferSeen::header_value`]; unknown or malformed parts are `None`.
    pub fn parse(value: &str) -> OfferSeen {
        let mut seen = OfferSeen {
            address: None,
            port: None,
            source: None,
        };
        for part in value.split_whitespace() {
            match part.split_once('=') {
                Some(("c", v)) => seen.address = v.parse().ok(),
                Some(("m", v)) => seen.port = v.parse().ok(),
                Some(("src", v)) => seen.source = v.parse().ok(),
                _ => {}
            }
        }
        seen
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No INVITE yet.
    Waiting,
    /// 180 sent; the final response is due at `answer_at`.
    Ringing,
    /// 2xx sent, waiting for its ACK.
    Answered,
    /// ACKed: the call is up.
    Confirmed,
    /// Our BYE sent.
    Closing,
    /// Done.
    Ended,
}

struct Call {
    arrived: Instant,
    server: ServerId,
    invite: Message,
    from: SocketAddr,
    flow: usize,
    ok: Option<Vec<u8>>,
    retransmit_at: Option<Instant>,
    interval: Duration,
    give_up_at: Option<Instant>,
}

/// The UAS machine (see the module documentation).
pub struct Answerer {
    config: AnswerConfig,
    endpoint: Endpoint,
    rng: StdRng,
    codecs: Vec<AudioCodec>,
    state: State,
    call: Option<Call>,
    answer_at: Option<Instant>,
    deadline: Instant,
    close_at: Option<Instant>,
    bye: Option<ClientId>,
    cseq: u32,
    outcome: InviteOutcome,
    offer_seen: Option<OfferSeen>,
    events: VecDeque<InviteEvent>,
}

impl std::fmt::Debug for Answerer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answerer")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

use crate::rtp::stats::round_ms as ms;

impl Answerer {
    /// Waits for an INVITE on the endpoint's flows from `now`.
    pub fn new(config: AnswerConfig, endpoint: Endpoint, rng: StdRng, now: Instant) -> Self {
        let codecs = config.local.codecs.clone();
        Answerer {
            deadline: now + config.wait,
            config,
            endpoint,
            rng,
            codecs,
            state: State::Waiting,
            call: None,
            answer_at: None,
            close_at: None,
            bye: None,
            cseq: 0,
            outcome: InviteOutcome::default(),
            offer_seen: None,
            events: VecDeque::new(),
        }
    }

    /// What the call came to (so far).
    pub fn outcome(&self) -> &InviteOutcome {
        &self.outcome
    }

    /// The offer as it arrived, once an INVITE came.
    pub fn offer_seen(&self) -> Option<OfferSeen> {
        self.offer_seen
    }

    /// The Call-ID of the call we answered.
    pub fn call_id(&self) -> Option<&str> {
        self.call.as_ref().and_then(|c| c.invite.header("Call-ID"))
    }

    /// Where the INVITE came from.
    pub fn caller(&self) -> Option<SocketAddr> {
        self.call.as_ref().map(|c| c.from)
    }

    /// Ends the call at `now`: BYE when it is up, 480 while ringing, nothing while waiting.
    pub fn hang_up(&mut self, now: Instant) {
        match self.state {
            State::Confirmed | State::Answered => self.send_bye(now),
            State::Ringing => {
                if let Some(c) = &self.call {
                    let id = c.server;
                    self.respond(now, id, 480, "Temporarily Unavailable", None);
                }
                self.end(CallOutcome::Cancelled);
            }
            State::Waiting => self.end(CallOutcome::NoAnswer),
            State::Closing | State::Ended => {}
        }
    }

    fn log(&mut self, now: Instant, by: Sender, message: String, cseq: u64, sdp: bool) {
        self.outcome.ladder.push(LadderStep {
            at_ms: ms(now.saturating_duration_since(self.config.start)),
            by,
            message: crate::text::clip(message).0,
            cseq,
            authenticated: false,
            sdp,
        });
    }

    fn end(&mut self, outcome: CallOutcome) {
        if self.state != State::Ended {
            self.state = State::Ended;
            self.outcome.outcome.get_or_insert(outcome);
            self.events.push_back(InviteEvent::Ended);
        }
    }

    /// The INVITE's Record-Route, copied into our responses that establish the dialog
    /// (RFC 3261 §12.1.1), so the caller's ACK and BYE take the proxies' route.
    fn record_route(&self) -> Vec<(String, String)> {
        self.call.as_ref().map_or_else(Vec::new, |c| {
            c.invite
                .headers_named("Record-Route")
                .map(|r| ("Record-Route".to_string(), r.to_string()))
                .collect()
        })
    }

    fn respond(
        &mut self,
        now: Instant,
        id: ServerId,
        status: u16,
        reason: &str,
        body: Option<&[u8]>,
    ) {
        let mut extra = self.record_route();
        extra.push(("Contact".to_string(), format!("<{}>", self.config.contact)));
        extra.push(("Allow".to_string(), ALLOW.to_string()));
        self.endpoint.respond_with_body(
            now,
            id,
            status,
            reason,
            &extra,
            body.map(|b| ("application/sdp", b)),
        );
    }

    fn on_invite(&mut self, now: Instant, id: ServerId, flow: usize, from: SocketAddr, m: Message) {
        let cseq = m.cseq().map_or(0, |c| c.0);
        if let Some(c) = &self.call {
            let same =
                c.invite.header("Call-ID") == m.header("Call-ID") && c.invite.cseq() == m.cseq();
            if same {
                // A retransmission after our 2xx ended the transaction: the 2xx again.
                if let Some(ok) = c.ok.clone() {
                    self.endpoint.send_stateless(c.flow, c.from, ok);
                }
                return;
            }
            // A re-INVITE in our dialog, or a second call: we take one call only.
            self.log(now, Sender::Them, "INVITE".into(), cseq, !m.body.is_empty());
            self.respond(now, id, 486, "Busy Here", None);
            self.log(now, Sender::Us, "486 Busy Here".into(), cseq, false);
            return;
        }
        self.log(now, Sender::Them, "INVITE".into(), cseq, !m.body.is_empty());
        let session = crate::sdp::parse(&m.body).ok();
        let audio = session.as_ref().and_then(|s| s.first_rtp());
        self.offer_seen = Some(OfferSeen {
            address: audio.and_then(|a| a.address),
            port: audio.map(|a| a.port),
            source: Some(from),
        });
        self.call = Some(Call {
            arrived: now,
            server: id,
            invite: m.clone(),
            from,
            flow,
            ok: None,
            retransmit_at: None,
            interval: Duration::ZERO,
            give_up_at: None,
        });
        if !m.body.is_empty() {
            self.events.push_back(InviteEvent::Answer {
                sdp: m.body.clone(),
                early: false,
            });
        }
        self.respond(now, id, 180, "Ringing", None);
        self.log(now, Sender::Us, "180 Ringing".into(), cseq, false);
        self.state = State::Ringing;
        self.answer_at = Some(now + self.config.ring);
    }

    fn answer(&mut self, now: Instant) {
        self.answer_at = None;
        let Some(c) = &self.call else { return };
        let (id, cseq) = (c.server, c.invite.cseq().map_or(0, |c| c.0));
        let code = self.config.code;
        if code >= 300 {
            let reason = match code {
                486 => "Busy Here",
                480 => "Temporarily Unavailable",
                603 => "Decline",
                _ => "Refused",
            };
            self.respond(now, id, code, reason, None);
            self.log(now, Sender::Us, format!("{code} {reason}"), cseq, false);
            self.outcome.final_status = Some((code, reason.to_string()));
            self.end(if code == 486 || code == 600 {
                CallOutcome::Busy
            } else {
                CallOutcome::Rejected
            });
            return;
        }
        let offer = crate::sdp::parse(&c.invite.body).ok();
        let negotiated = offer.as_ref().map(|s| negotiate(s, &self.codecs));
        let body = match negotiated {
            Some(Ok(n)) => {
                let local = LocalMedia {
                    direction: answer_direction(n.remote_direction, self.config.local.direction),
                    ..self.config.local.clone()
                };
                write(&local, Some(n.codec), n.telephone_event)
            }
            Some(Err(_)) => {
                self.respond(now, id, 488, "Not Acceptable Here", None);
                self.log(
                    now,
                    Sender::Us,
                    "488 Not Acceptable Here".into(),
                    cseq,
                    false,
                );
                self.outcome.final_status = Some((488, "Not Acceptable Here".into()));
                self.end(CallOutcome::Rejected);
                return;
            }
            // An INVITE without an offer: ours goes in the 2xx (RFC 3261 §13.3.1.1).
            None => write(
                &self.config.local,
                None,
                Some(crate::sdp::offer::TELEPHONE_EVENT_PT),
            ),
        };
        let seen = self
            .offer_seen
            .map(|s| s.header_value())
            .unwrap_or_default();
        let mut extra = self.record_route();
        extra.push(("Contact".to_string(), format!("<{}>", self.config.contact)));
        extra.push(("Allow".to_string(), ALLOW.to_string()));
        extra.push((OFFER_SEEN_HEADER.to_string(), seen));
        let Some(c) = self.call.as_mut() else { return };
        let ok = super::response::build(
            &c.invite,
            200,
            "OK",
            Some(self.endpoint.to_tag()),
            &extra,
            Some(("application/sdp", body.as_bytes())),
        );
        c.ok = Some(ok.clone());
        let t1 = crate::sip::transaction::Timers::default().t1;
        let reliable = self.endpoint.flow(c.flow).transport.is_reliable();
        c.interval = t1;
        c.retransmit_at = (!reliable).then_some(now + t1);
        c.give_up_at = Some(now + t1 * 64);
        // The transaction ends with the 2xx (§17.2.1); its retransmissions are ours.
        self.endpoint.respond_raw(now, id, 200, ok);
        self.log(now, Sender::Us, "200 OK".into(), cseq, true);
        self.outcome.final_status = Some((200, "OK".into()));
        self.outcome.outcome = Some(CallOutcome::Answered);
        self.outcome.answer = self
            .call
            .as_ref()
            .map(|c| now.saturating_duration_since(c.arrived));
        self.outcome.answered_at = Some(now.saturating_duration_since(self.config.start));
        self.state = State::Answered;
        // Media may flow once the 2xx is sent (RFC 3264 §6): tell the owner now.
        self.events.push_back(InviteEvent::Confirmed);
    }

    fn send_bye(&mut self, now: Instant) {
        let Some(c) = &self.call else { return };
        let invite = &c.invite;
        let flow = *self.endpoint.flow(c.flow);
        let their_tag = invite
            .header("From")
            .and_then(|f| NameAddr::parse(f).ok())
            .and_then(|n| n.tag().map(str::to_string))
            .unwrap_or_default();
        let from_uri = invite
            .header("To")
            .and_then(|t| NameAddr::parse(t).ok())
            .map_or_else(|| self.config.contact.clone(), |n| n.uri);
        let to_uri = invite
            .header("From")
            .and_then(|t| NameAddr::parse(t).ok())
            .map_or_else(String::new, |n| n.uri);
        let target = invite
            .header("Contact")
            .and_then(|t| NameAddr::parse(t).ok())
            .map_or_else(|| to_uri.clone(), |n| n.uri);
        // §12.1.1: the UAS's route set is the Record-Route of the INVITE, in order.
        let route: Vec<String> = invite
            .headers_named("Record-Route")
            .filter_map(|r| NameAddr::parse(r).ok())
            .map(|r| r.uri)
            .collect();
        self.cseq += 1;
        let spec = RequestSpec {
            method: Method::Bye,
            uri: target,
            via: ViaSpec {
                transport: flow.transport.via_token(),
                sent_by: flow.sent_by_host(),
                port: Some(flow.local.port()),
                branch: new_branch(&mut self.rng),
            },
            from: (from_uri, self.endpoint.to_tag().to_string()),
            to: (to_uri, Some(their_tag)),
            call_id: invite.header("Call-ID").unwrap_or("").to_string(),
            cseq: self.cseq,
            contact: None,
            expires: None,
            route,
            extra: Vec::new(),
            body: None,
        };
        let (flow_index, dest) = (c.flow, c.from);
        self.log(now, Sender::Us, "BYE".into(), u64::from(self.cseq), false);
        match self.endpoint.send_request_to(now, flow_index, dest, spec) {
            Ok(id) => {
                self.bye = Some(id);
                self.state = State::Closing;
                self.close_at = Some(now + CLOSE_WAIT);
            }
            Err(e) => {
                self.outcome.error = Some(e.to_string());
                self.outcome.hangup = Some((HangupBy::Us, None));
                self.end(CallOutcome::Answered);
            }
        }
    }

    fn on_request(
        &mut self,
        now: Instant,
        id: ServerId,
        flow: usize,
        from: SocketAddr,
        m: Message,
    ) {
        let method = m.method().unwrap_or("").to_ascii_uppercase();
        if method == "INVITE" {
            self.on_invite(now, id, flow, from, m);
            return;
        }
        let cseq = m.cseq().map_or(0, |c| c.0);
        self.log(now, Sender::Them, method.clone(), cseq, false);
        let ours = self
            .call
            .as_ref()
            .is_some_and(|c| c.invite.header("Call-ID") == m.header("Call-ID"));
        let (status, reason) = match method.as_str() {
            "CANCEL" if ours && self.state == State::Ringing => {
                if let Some(c) = &self.call {
                    let invite = c.server;
                    self.respond(now, id, 200, "OK", None);
                    self.log(now, Sender::Us, "200 OK".into(), cseq, false);
                    self.respond(now, invite, 487, "Request Terminated", None);
                    self.log(
                        now,
                        Sender::Us,
                        "487 Request Terminated".into(),
                        cseq,
                        false,
                    );
                }
                self.outcome.final_status = Some((487, "Request Terminated".into()));
                self.end(CallOutcome::Cancelled);
                return;
            }
            "BYE"
                if ours
                    && matches!(
                        self.state,
                        State::Answered | State::Confirmed | State::Closing
                    ) =>
            {
                self.outcome.hangup = Some((HangupBy::FarEnd, None));
                self.events.push_back(InviteEvent::RemoteBye);
                (200, "OK")
            }
            "OPTIONS" | "INFO" if ours || method == "OPTIONS" => (200, "OK"),
            _ if !ours => (481, "Call/Transaction Does Not Exist"),
            _ => (501, "Not Implemented"),
        };
        self.respond(now, id, status, reason, None);
        self.log(now, Sender::Us, format!("{status} {reason}"), cseq, false);
        if method == "BYE" && status == 200 {
            self.end(CallOutcome::Answered);
        }
    }

    fn drain(&mut self, now: Instant) {
        while let Some(e) = self.endpoint.poll_event() {
            match e {
                EndpointEvent::Request {
                    id,
                    flow,
                    from,
                    request,
                } => self.on_request(now, id, flow, from, request),
                EndpointEvent::Ack { request, .. } => {
                    let ours = self
                        .call
                        .as_ref()
                        .is_some_and(|c| c.invite.header("Call-ID") == request.header("Call-ID"));
                    if ours && self.state == State::Answered {
                        self.log(
                            now,
                            Sender::Them,
                            "ACK".into(),
                            request.cseq().map_or(0, |c| c.0),
                            false,
                        );
                        self.state = State::Confirmed;
                        if let Some(c) = self.call.as_mut() {
                            c.retransmit_at = None;
                            c.give_up_at = None;
                        }
                    }
                }
                EndpointEvent::Completed { id, result } if Some(id) == self.bye => {
                    let code = result
                        .final_response
                        .as_ref()
                        .and_then(|r| r.message.status());
                    if let Some(r) = &result.final_response {
                        let text = format!(
                            "{} {}",
                            r.message.status().unwrap_or(0),
                            r.message.reason().unwrap_or("")
                        );
                        self.log(now, Sender::Them, text, u64::from(self.cseq), false);
                    }
                    self.outcome.hangup = Some((HangupBy::Us, code));
                    self.end(CallOutcome::Answered);
                }
                EndpointEvent::Failed { id, error } if Some(id) == self.bye => {
                    self.outcome.error = Some(error.to_string());
                    self.outcome.hangup = Some((HangupBy::Us, None));
                    self.end(CallOutcome::Answered);
                }
                _ => {}
            }
        }
    }
}

impl Machine for Answerer {
    type Event = InviteEvent;

    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        self.endpoint.handle_input(now, input);
        self.drain(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.endpoint.handle_timeout(now);
        self.drain(now);
        if self.answer_at.is_some_and(|t| now >= t) && self.state == State::Ringing {
            self.answer(now);
        }
        if self.state == State::Answered
            && let Some(c) = self.call.as_mut()
        {
            if c.give_up_at.is_some_and(|t| now >= t) {
                // §13.3.1.4: no ACK within 64·T1: the call ends with a BYE.
                c.retransmit_at = None;
                c.give_up_at = None;
                self.outcome.error = Some("no ACK for our 2xx within 64·T1".into());
                self.send_bye(now);
            } else if c.retransmit_at.is_some_and(|t| now >= t) {
                if let Some(ok) = c.ok.clone() {
                    self.endpoint.send_stateless(c.flow, c.from, ok);
                }
                c.interval = (c.interval * 2).min(crate::sip::transaction::Timers::default().t2);
                c.retransmit_at = Some(now + c.interval);
            }
        }
        if self.close_at.is_some_and(|t| now >= t) && self.state == State::Closing {
            self.outcome.hangup = Some((HangupBy::Us, None));
            self.end(CallOutcome::Answered);
        }
        if now >= self.deadline && !matches!(self.state, State::Closing | State::Ended) {
            self.hang_up(now);
        }
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.endpoint.poll_transmit()
    }

    fn poll_event(&mut self) -> Option<InviteEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let retransmit = self
            .call
            .as_ref()
            .filter(|_| self.state == State::Answered)
            .and_then(|c| [c.retransmit_at, c.give_up_at].into_iter().flatten().min());
        let deadline =
            (!matches!(self.state, State::Closing | State::Ended)).then_some(self.deadline);
        [
            self.endpoint.poll_timeout(),
            self.answer_at,
            retransmit,
            self.close_at.filter(|_| self.state == State::Closing),
            deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn is_done(&self) -> bool {
        self.state == State::Ended
    }

    fn interrupt(&mut self, now: Instant) {
        self.outcome.outcome = Some(CallOutcome::Interrupted);
        self.hang_up(now);
    }
}

#[cfg(test)]
mod tests {
    //! The answering side against a scripted caller, in simulated time.
    use super::*;
    use crate::sip::endpoint::Flow;
    use crate::sip::target::Transport;
    use crate::sip::transaction::Timers;
    use rand::SeedableRng;

    const CALLER: &str = "198.51.100.7:5060";

    fn t0() -> Instant {
        #[allow(clippy::disallowed_methods)]
        Instant::now()
    }

    fn answerer(now: Instant, code: u16) -> Answerer {
        let flow = Flow {
            socket: 0,
            transport: Transport::Udp,
            local: "192.0.2.10:5060".parse().unwrap(),
            peer: "192.0.2.10:0".parse().unwrap(),
        };
        let endpoint = Endpoint::new(vec![flow], Timers::default(), None, "ans".into());
        let local = LocalMedia {
            session_id: 1,
            address: "192.0.2.10".parse().unwrap(),
            port: 4000,
            codecs: vec![AudioCodec::Pcmu],
            telephone_event: true,
            ptime_ms: 20,
            direction: crate::sdp::Direction::SendRecv,
            rtcp_mux: false,
            rtcp_port: None,
        };
        let config = AnswerConfig {
            local,
            ring: Duration::from_millis(500),
            code,
            contact: "sip:voipdiag@192.0.2.10:5060".into(),
            wait: Duration::from_secs(10),
            start: now,
        };
        Answerer::new(config, endpoint, StdRng::seed_from_u64(1), now)
    }

    fn request(method: &str, cseq: u32, branch: &str, body: &str) -> Vec<u8> {
        let ctype = if body.is_empty() {
            ""
        } else {
            "Content-Type: application/sdp\r\n"
        };
        format!(
            "{method} sip:x@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch={branch}\r\n\
             From: <sip:a@example.com>;tag=ct\r\nTo: <sip:x@192.0.2.10>{}\r\nCall-ID: c1\r\n\
             CSeq: {cseq} {method}\r\nContact: <sip:a@10.0.0.2:5060>\r\n{ctype}Content-Length: {}\r\n\r\n{body}",
            if method == "INVITE" || method == "CANCEL" { "" } else { ";tag=ans" },
            body.len()
        )
        .into_bytes()
    }

    const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 40000 RTP/AVP 8 0\r\n";

    fn input(a: &mut Answerer, now: Instant, data: &[u8]) {
        a.handle_input(
            now,
            Input::Message {
                socket: 0,
                from: CALLER.parse().unwrap(),
                data,
            },
        );
    }

    fn sent(a: &mut Answerer) -> Vec<(SocketAddr, Message)> {
        std::iter::from_fn(|| a.poll_transmit())
            .map(|t| (t.destination, Message::parse(&t.payload).unwrap()))
            .collect()
    }

    /// INVITE → 180 at once, 200 with our answer after the ring time (PCMU: the only codec
    /// we share, in the caller's order) and the offer as it arrived; the 2xx again at T1 and
    /// 2·T1 until the ACK; then the caller's BYE ends the call.
    #[test]
    fn rings_answers_retransmits_until_ack_then_bye() {
        let now = t0();
        let mut a = answerer(now, 200);
        input(&mut a, now, &request("INVITE", 1, "z9hG4bKi", OFFER));
        let out = sent(&mut a);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].0,
            CALLER.parse().unwrap(),
            "to the source, not the Via"
        );
        assert_eq!(out[0].1.status(), Some(180));
        assert_eq!(a.poll_timeout(), Some(now + Duration::from_millis(500)));
        a.handle_timeout(now + Duration::from_millis(500));
        let out = sent(&mut a);
        assert_eq!(out.len(), 1);
        let ok = &out[0].1;
        assert_eq!(ok.status(), Some(200));
        let body = String::from_utf8_lossy(&ok.body);
        assert!(body.contains("m=audio 4000 RTP/AVP 0\r\n"), "{body}");
        assert_eq!(
            ok.header(OFFER_SEEN_HEADER),
            Some("c=10.0.0.2 m=40000 src=198.51.100.7:5060")
        );
        let events: Vec<_> = std::iter::from_fn(|| a.poll_event()).collect();
        assert!(matches!(events[0], InviteEvent::Answer { .. }));
        assert_eq!(events[1], InviteEvent::Confirmed);
        // No ACK: the same 2xx at +T1, then +2·T1 later.
        let t = now + Duration::from_millis(1000);
        a.handle_timeout(t);
        assert_eq!(sent(&mut a)[0].1.status(), Some(200));
        a.handle_timeout(t + Duration::from_millis(1000));
        assert_eq!(sent(&mut a)[0].1.status(), Some(200));
        input(
            &mut a,
            t + Duration::from_millis(1100),
            &request("ACK", 1, "z9hG4bKa", ""),
        );
        a.handle_timeout(t + Duration::from_millis(3000));
        assert!(sent(&mut a).is_empty(), "no retransmission after the ACK");
        input(
            &mut a,
            t + Duration::from_secs(4),
            &request("BYE", 2, "z9hG4bKb", ""),
        );
        assert_eq!(sent(&mut a)[0].1.status(), Some(200));
        assert!(a.is_done());
        assert_eq!(a.outcome().hangup, Some((HangupBy::FarEnd, None)));
        assert_eq!(a.outcome().outcome, Some(CallOutcome::Answered));
    }

    /// CANCEL while ringing: 200 to the CANCEL, 487 to the INVITE; a busy answerer gives
    /// its code.
    #[test]
    fn cancel_while_ringing_and_busy() {
        let now = t0();
        let mut a = answerer(now, 200);
        input(&mut a, now, &request("INVITE", 1, "z9hG4bKi", OFFER));
        sent(&mut a);
        input(
            &mut a,
            now + Duration::from_millis(100),
            &request("CANCEL", 1, "z9hG4bKi", ""),
        );
        let codes: Vec<_> = sent(&mut a).iter().map(|(_, m)| m.status()).collect();
        assert_eq!(codes, [Some(200), Some(487)]);
        assert_eq!(a.outcome().outcome, Some(CallOutcome::Cancelled));
        let mut b = answerer(now, 486);
        input(&mut b, now, &request("INVITE", 1, "z9hG4bKi", OFFER));
        b.handle_timeout(now + Duration::from_millis(500));
        let codes: Vec<_> = sent(&mut b).iter().map(|(_, m)| m.status()).collect();
        assert_eq!(codes, [Some(180), Some(486)]);
        assert_eq!(b.outcome().outcome, Some(CallOutcome::Busy));
        // Nobody calls: the wait ends the run.
        let mut c = answerer(now, 200);
        assert_eq!(c.poll_timeout(), Some(now + Duration::from_secs(10)));
        c.handle_timeout(now + Duration::from_secs(10));
        assert!(c.is_done());
        assert_eq!(c.outcome().outcome, Some(CallOutcome::NoAnswer));
    }
}
