//! OPTIONS probes (RFC 3261 §11) as a sans-IO machine on the [`Endpoint`]: ping-like repeats
//! on one or more flows ("lanes", each with one probe in flight), spaced by an interval
//! measured from each probe's start; then the SIP ALG check — one more OPTIONS whose Via
//! sent-by is a host name (RFC 6761 `.invalid`) that an ALG leaves alone, so the server's
//! view of us in the two answers differs exactly when an ALG rewrote the first.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;

use super::context::RequestContext;
use super::endpoint::{ClientId, Endpoint, EndpointEvent};
use super::message::Message;
use super::reflexive::ReflexiveAddress;
use super::request::Method;
use crate::machine::{Input, Machine, Transmit};

/// The host name the ALG check puts in Via sent-by (RFC 6761 reserves `.invalid`).
pub const ALG_CHECK_HOST: &str = "voipdiag.invalid";

/// What to probe.
#[derive(Debug, Clone)]
pub struct OptionsConfig {
    /// Probes in all (`u32::MAX`: until Ctrl-C).
    pub count: u32,
    /// Time between the starts of a lane's probes; zero sends the next as soon as the
    /// previous one ends.
    pub interval: Duration,
    /// Run the ALG check after the probes.
    pub alg_check: bool,
}

/// One OPTIONS transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRecord {
    /// 1-based sequence number (its CSeq).
    pub seq: u32,
    /// Final status code, `None` when unanswered.
    pub status_code: Option<u16>,
    /// Reason phrase.
    pub reason: Option<String>,
    /// From the first transmission to the final response.
    pub rtt: Option<Duration>,
    /// Requests sent (1 + retransmissions).
    pub transmissions: u32,
    /// A transport error (or Ctrl-C) that ended the probe.
    pub error: Option<String>,
}

impl ProbeRecord {
    /// A probe that ended without an answer: `error` (a transport failure, Ctrl-C).
    pub fn failed(seq: u32, transmissions: u32, error: String) -> Self {
        ProbeRecord {
            seq,
            status_code: None,
            reason: None,
            rtt: None,
            transmissions,
            error: Some(error),
        }
    }
}

/// The ALG check: the view in the first answer and the one the host-name Via got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgCheck {
    /// The server's view of us in the first answer (possibly rewritten by an ALG).
    pub first: ReflexiveAddress,
    /// What the server saw for the host-name Via: the true view.
    pub seen: Option<SocketAddr>,
}

impl AlgCheck {
    /// Whether an ALG rewrote the first answer's view; `None` when the check saw nothing.
    pub fn alg_detected(&self) -> Option<bool> {
        let seen = self.seen?;
        Some(self.first.seen.is_some_and(|a| a != seen))
    }
}

/// What the probes came to.
#[derive(Debug, Clone, Default)]
pub struct OptionsOutcome {
    /// Every probe, by sequence number.
    pub probes: Vec<ProbeRecord>,
    /// Probes answered only after retransmission.
    pub retransmitted: u32,
    /// The answer with the highest sequence number.
    pub last_answer: Option<Message>,
    /// The ALG check, when it ran and was answered.
    pub alg: Option<AlgCheck>,
    /// Ctrl-C ended the run.
    pub interrupted: bool,
}

/// What the machine tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionsEvent {
    /// A probe ended (for `--json-lines`).
    Probe(ProbeRecord),
}

#[derive(Debug)]
struct Lane {
    flow: usize,
    next_seq: Option<u32>,
    step: u32,
    in_flight: Option<(ClientId, u32, Instant)>,
    wake_at: Option<Instant>,
}

/// The OPTIONS machine (see the module documentation).
#[derive(Debug)]
pub struct OptionsProbe {
    config: OptionsConfig,
    endpoint: Endpoint,
    ctx: RequestContext,
    rng: StdRng,
    lanes: Vec<Lane>,
    first_answer: Option<Message>,
    last_seq: u32,
    alg_probe: Option<ClientId>,
    alg_done: bool,
    outcome: OptionsOutcome,
    events: VecDeque<OptionsEvent>,
}

impl OptionsProbe {
    /// Starts probing at `now`: one lane per flow of `endpoint`, the first probes sent at
    /// once. Requests go to `request_uri` from `sip:voipdiag@voipdiag.invalid`.
    pub fn new(
        config: OptionsConfig,
        endpoint: Endpoint,
        request_uri: String,
        route: Vec<String>,
        mut rng: StdRng,
        now: Instant,
    ) -> Self {
        let ctx = RequestContext::new(
            &mut rng,
            request_uri.clone(),
            format!("sip:voipdiag@{ALG_CHECK_HOST}"),
            request_uri,
            route,
        );
        let n = endpoint.flows().len() as u32;
        let lanes = (0..n)
            .map(|i| Lane {
                flow: i as usize,
                next_seq: (i < config.count).then_some(i + 1),
                step: n,
                in_flight: None,
                wake_at: Some(now),
            })
            .collect();
        let mut p = OptionsProbe {
            config,
            endpoint,
            ctx,
            rng,
            lanes,
            first_answer: None,
            last_seq: 0,
            alg_probe: None,
            alg_done: false,
            outcome: OptionsOutcome::default(),
            events: VecDeque::new(),
        };
        p.wake(now);
        p
    }

    /// The outcome (so far).
    pub fn outcome(&self) -> &OptionsOutcome {
        &self.outcome
    }

    /// The endpoint (its flows).
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn send(
        &mut self,
        now: Instant,
        flow: usize,
        seq: u32,
        cseq: u32,
        sent_by: Option<&str>,
    ) -> Option<ClientId> {
        let f = *self.endpoint.flow(flow);
        let mut spec = self
            .ctx
            .request(&mut self.rng, Method::Options, cseq, &f, sent_by);
        spec.extra.push(("Accept".into(), "application/sdp".into()));
        match self.endpoint.send_request(now, flow, spec) {
            Ok(id) => Some(id),
            Err(e) => {
                self.record(ProbeRecord::failed(seq, 0, e.to_string()));
                None
            }
        }
    }

    fn record(&mut self, p: ProbeRecord) {
        if p.transmissions > 1 && p.status_code.is_some() {
            self.outcome.retransmitted += 1;
        }
        self.events.push_back(OptionsEvent::Probe(p.clone()));
        self.outcome.probes.push(p);
    }

    /// Starts the probes that are due.
    fn wake(&mut self, now: Instant) {
        for i in 0..self.lanes.len() {
            let lane = &self.lanes[i];
            if lane.in_flight.is_some() || lane.wake_at.is_none_or(|t| t > now) {
                continue;
            }
            let Some(seq) = lane.next_seq else {
                self.lanes[i].wake_at = None;
                continue;
            };
            let flow = lane.flow;
            self.lanes[i].wake_at = None;
            match self.send(now, flow, seq, seq, None) {
                Some(id) => self.lanes[i].in_flight = Some((id, seq, now)),
                None => self.lanes[i].next_seq = None,
            }
        }
        self.maybe_alg_check(now);
    }

    fn lanes_done(&self) -> bool {
        self.lanes
            .iter()
            .all(|l| l.in_flight.is_none() && l.next_seq.is_none())
    }

    fn maybe_alg_check(&mut self, now: Instant) {
        if self.alg_done || self.alg_probe.is_some() || !self.lanes_done() {
            return;
        }
        self.outcome.probes.sort_by_key(|p| p.seq);
        if self.first_answer.is_none() || !self.config.alg_check || self.outcome.interrupted {
            self.alg_done = true;
            return;
        }
        let cseq = self.config.count.min(1_000_000) + 2;
        self.alg_probe = self.send(now, 0, 0, cseq, Some(ALG_CHECK_HOST));
        if self.alg_probe.is_none() {
            self.alg_done = true;
        }
    }

    fn lane_ended(&mut self, now: Instant, lane: usize, record: ProbeRecord, started: Instant) {
        let broken = record.error.is_some();
        let seq = record.seq;
        self.record(record);
        let l = &mut self.lanes[lane];
        l.in_flight = None;
        l.next_seq = match seq.checked_add(l.step) {
            Some(next) if !broken && next <= self.config.count => Some(next),
            _ => None,
        };
        if l.next_seq.is_some() {
            l.wake_at = Some(if self.config.interval.is_zero() {
                now
            } else {
                (started + self.config.interval).max(now)
            });
        }
    }

    fn drain(&mut self, now: Instant) {
        while let Some(e) = self.endpoint.poll_event() {
            match e {
                EndpointEvent::Completed { id, result } => {
                    if self.alg_probe == Some(id) {
                        self.alg_probe = None;
                        self.alg_done = true;
                        if let (Some(first), Some(b)) = (&self.first_answer, result.final_response)
                        {
                            self.outcome.alg = Some(AlgCheck {
                                first: ReflexiveAddress::from_response(first),
                                seen: ReflexiveAddress::from_response(&b.message).seen,
                            });
                        }
                        continue;
                    }
                    let Some(lane) = self.lane_of(id) else {
                        continue;
                    };
                    let (_, seq, started) = self.lanes[lane].in_flight.unwrap_or((id, 0, now));
                    let mut record = ProbeRecord {
                        seq,
                        status_code: None,
                        reason: None,
                        rtt: None,
                        transmissions: result.transmissions,
                        error: None,
                    };
                    if let Some(r) = result.final_response {
                        record.status_code = r.message.status();
                        record.reason = r.message.reason().map(str::to_string);
                        record.rtt = Some(r.at);
                        if self.first_answer.is_none() {
                            self.first_answer = Some(r.message.clone());
                        }
                        if seq >= self.last_seq {
                            self.last_seq = seq;
                            self.outcome.last_answer = Some(r.message);
                        }
                    }
                    self.lane_ended(now, lane, record, started);
                }
                EndpointEvent::Failed { id, error } => {
                    if self.alg_probe == Some(id) {
                        self.alg_probe = None;
                        self.alg_done = true;
                        continue;
                    }
                    let Some(lane) = self.lane_of(id) else {
                        continue;
                    };
                    let (_, seq, started) = self.lanes[lane].in_flight.unwrap_or((id, 0, now));
                    let record = ProbeRecord::failed(seq, 1, error.to_string());
                    self.lane_ended(now, lane, record, started);
                }
                EndpointEvent::Request { id, .. } => {
                    self.endpoint
                        .respond(now, id, 481, "Call/Transaction Does Not Exist", &[]);
                }
                EndpointEvent::Invite2xx { .. }
                | EndpointEvent::Provisional { .. }
                | EndpointEvent::Ack { .. } => {}
            }
        }
        self.wake(now);
    }

    fn lane_of(&self, id: ClientId) -> Option<usize> {
        self.lanes
            .iter()
            .position(|l| l.in_flight.is_some_and(|(c, _, _)| c == id))
    }
}

impl Machine for OptionsProbe {
    type Event = OptionsEvent;

    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        self.endpoint.handle_input(now, input);
        self.drain(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.endpoint.handle_timeout(now);
        self.drain(now);
        self.wake(now);
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.endpoint.poll_transmit()
    }

    fn poll_event(&mut self) -> Option<OptionsEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let lanes = self.lanes.iter().filter_map(|l| l.wake_at);
        lanes.chain(self.endpoint.poll_timeout()).min()
    }

    fn is_done(&self) -> bool {
        self.lanes_done() && self.alg_done && self.alg_probe.is_none()
    }

    /// Probes in flight end as "interrupted"; no more start and the ALG check is skipped.
    fn interrupt(&mut self, _now: Instant) {
        self.outcome.interrupted = true;
        self.endpoint.abandon();
        let mut ended = Vec::new();
        for l in &mut self.lanes {
            if let Some((_, seq, _)) = l.in_flight.take() {
                ended.push(seq);
            }
            l.next_seq = None;
            l.wake_at = None;
        }
        for seq in ended {
            self.record(ProbeRecord::failed(seq, 0, "interrupted".into()));
        }
        self.alg_probe = None;
        self.alg_done = true;
        self.outcome.probes.sort_by_key(|p| p.seq);
    }
}
