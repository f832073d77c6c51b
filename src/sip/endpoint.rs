//! The SIP endpoint, sans-IO (the transaction layer of RFC 3261 §17 over one or more flows):
//! it sends requests as client transactions and routes each response to its transaction by
//! the top Via branch and CSeq method (§17.1.3); it hands new requests from the far end (a
//! BYE, re-INVITE, OPTIONS, NOTIFY …) up as events with a server transaction, so they can be
//! answered, and answers their retransmissions itself (§17.2.3). Everything else it receives
//! is counted as stray.
//!
//! It implements [`Machine`]; the REGISTER and OPTIONS machines (and the INVITE dialog next)
//! are built on it.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::message::{Message, StartLine};
use super::request::{self, BuildError, Method, RequestSpec};
use super::target::Transport;
use super::transaction::{Action, ClientTransaction, Kind, Outcome, ServerTransaction, Timers};
use crate::addr::Host;
use crate::machine::{Input, Machine, SocketId, StreamError, Transmit};

/// A flow to the far end: a driver socket, its transport, our address and the peer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    /// The driver's socket.
    pub socket: SocketId,
    /// UDP, TCP or TLS.
    pub transport: Transport,
    /// Our end.
    pub local: SocketAddr,
    /// The server (or peer).
    pub peer: SocketAddr,
}

impl Flow {
    /// Our address as Via sent-by writes it (IPv6 in brackets).
    pub fn sent_by_host(&self) -> String {
        Host::Ip(self.local.ip()).to_string()
    }
}

/// Why a flow failed under a transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    /// TCP RST.
    #[error("connection refused by {0}")]
    Refused(SocketAddr),
    /// An ICMP error about our datagrams to this destination (the reason in words, e.g.
    /// "ICMP port unreachable from 192.0.2.1"): nothing listens there, or it cannot be
    /// reached.
    #[error("{1} (sending to {0})")]
    Unreachable(SocketAddr, String),
    /// No TCP connection (or TLS handshake) within the timeout.
    #[error("no connection to {0} within {1:?}")]
    ConnectTimeout(SocketAddr, Duration),
    /// TLS handshake or certificate failure.
    #[error("TLS with {0} failed: {1}")]
    Tls(SocketAddr, String),
    /// The peer closed the stream.
    #[error("{0} closed the connection")]
    Closed(SocketAddr),
    /// A stream the peer sends that cannot be framed.
    #[error("cannot frame the stream from {0}: {1}")]
    Framing(SocketAddr, String),
    /// Any other socket error.
    #[error("{0}")]
    Io(String),
}

impl FlowError {
    /// The flow error of a stream to `peer` that failed with `e`.
    pub fn from_stream(peer: SocketAddr, e: &StreamError) -> FlowError {
        match e {
            StreamError::Refused => FlowError::Refused(peer),
            StreamError::Tls(t) => FlowError::Tls(peer, t.clone()),
            StreamError::Closed => FlowError::Closed(peer),
            StreamError::Framing(f) => FlowError::Framing(peer, f.clone()),
            StreamError::Io(s) => FlowError::Io(s.clone()),
        }
    }
}

/// A client transaction's handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientId(pub u64);

/// A server transaction's handle, to answer its request with [`Endpoint::respond`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServerId(pub u64);

/// One response as received, with its time since the request was first sent.
#[derive(Debug, Clone)]
pub struct Received {
    /// Time since the request was first sent.
    pub at: Duration,
    /// The parsed response.
    pub message: Message,
    /// Raw size, bytes.
    pub bytes: usize,
}

/// What a client transaction came to.
#[derive(Debug, Clone, Default)]
pub struct TransactionResult {
    /// Provisional responses in order.
    pub provisional: Vec<Received>,
    /// The final response; `None` when Timer B/F fired.
    pub final_response: Option<Received>,
    /// Requests sent (1 + retransmissions).
    pub transmissions: u32,
}

/// What the endpoint tells its owner.
#[derive(Debug, Clone)]
pub enum EndpointEvent {
    /// A client transaction has its result: a final response, or Timer B/F fired.
    Completed {
        /// The transaction.
        id: ClientId,
        /// Its responses and transmissions.
        result: TransactionResult,
    },
    /// The flow failed while a client transaction ran.
    Failed {
        /// The transaction.
        id: ClientId,
        /// Why.
        error: FlowError,
    },
    /// A provisional response (1xx) to a running client transaction, as it arrives (the
    /// INVITE dialog needs its To-tag, SDP and RSeq before the final response).
    Provisional {
        /// The transaction.
        id: ClientId,
        /// The 1xx.
        response: Message,
    },
    /// INVITE: another 2xx after the first (a retransmission, or a fork), for the dialog to
    /// ACK (RFC 6026 §7.2).
    Invite2xx {
        /// The INVITE transaction.
        id: ClientId,
        /// The 2xx.
        response: Message,
    },
    /// An ACK outside any transaction: the ACK of a 2xx, for the dialog (RFC 3261 §13.3.1.4);
    /// owners without a dialog ignore it.
    Ack {
        /// The flow (index) it arrived on.
        flow: usize,
        /// Its source.
        from: SocketAddr,
        /// The ACK.
        request: Message,
    },
    /// A new request from the far end; answer it with [`Endpoint::respond`].
    Request {
        /// Its server transaction.
        id: ServerId,
        /// The flow (index) it arrived on.
        flow: usize,
        /// Its source.
        from: SocketAddr,
        /// The request.
        request: Message,
    },
}

#[derive(Debug)]
struct ClientEntry {
    id: ClientId,
    flow: usize,
    destination: SocketAddr,
    tx: ClientTransaction,
    request: Vec<u8>,
    spec: RequestSpec,
    first_sent: Instant,
    result: TransactionResult,
    reported: bool,
}

#[derive(Debug)]
struct ServerEntry {
    id: ServerId,
    flow: usize,
    from: SocketAddr,
    request: Message,
    tx: ServerTransaction,
}

/// The endpoint (see the module documentation).
#[derive(Debug)]
pub struct Endpoint {
    flows: Vec<Flow>,
    timers: Timers,
    deadline: Option<Duration>,
    clients: Vec<ClientEntry>,
    servers: Vec<ServerEntry>,
    next_id: u64,
    transmits: VecDeque<Transmit>,
    events: VecDeque<EndpointEvent>,
    to_tag: String,
    stray: u32,
}

impl Endpoint {
    /// An endpoint over `flows` with `timers`; `deadline` shortens Timer B/F (the user's
    /// `--timeout`). `to_tag` is the tag it puts in To of its responses.
    pub fn new(
        flows: Vec<Flow>,
        timers: Timers,
        deadline: Option<Duration>,
        to_tag: String,
    ) -> Self {
        Endpoint {
            flows,
            timers,
            deadline,
            clients: Vec::new(),
            servers: Vec::new(),
            next_id: 0,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            to_tag,
            stray: 0,
        }
    }

    /// The flow with index `i`.
    pub fn flow(&self, i: usize) -> &Flow {
        &self.flows[i]
    }

    /// The flows.
    pub fn flows(&self) -> &[Flow] {
        &self.flows
    }

    /// The tag this endpoint puts in To of its responses.
    pub fn to_tag(&self) -> &str {
        &self.to_tag
    }

    /// Messages received that matched no transaction, did not parse, or came to no flow.
    pub fn stray(&self) -> u32 {
        self.stray
    }

    /// Whether a client transaction is still waiting for its result.
    pub fn is_waiting(&self) -> bool {
        self.clients.iter().any(|c| !c.reported)
    }

    /// Sends `spec` on flow `flow` at `now` and starts its client transaction.
    ///
    /// # Errors
    /// [`BuildError`] when the request cannot be built.
    pub fn send_request(
        &mut self,
        now: Instant,
        flow: usize,
        spec: RequestSpec,
    ) -> Result<ClientId, BuildError> {
        let peer = self.flows[flow].peer;
        self.send_request_to(now, flow, peer, spec)
    }

    /// As [`Endpoint::send_request`], to `destination` instead of the flow's peer (a
    /// dialog's remote target over UDP, RFC 3261 §12.2.1.1; over a stream the value is only
    /// traced).
    ///
    /// # Errors
    /// [`BuildError`] when the request cannot be built.
    pub fn send_request_to(
        &mut self,
        now: Instant,
        flow: usize,
        destination: SocketAddr,
        spec: RequestSpec,
    ) -> Result<ClientId, BuildError> {
        let bytes = request::build(&spec)?;
        let f = self.flows[flow];
        let tx = ClientTransaction::new(
            if spec.method == Method::Invite {
                Kind::Invite
            } else {
                Kind::NonInvite
            },
            f.transport.is_reliable(),
            self.timers,
            &spec.via.branch,
            spec.method.as_str(),
            now,
            self.deadline,
        );
        self.next_id += 1;
        let id = ClientId(self.next_id);
        self.transmits.push_back(Transmit {
            socket: f.socket,
            destination,
            payload: bytes.clone(),
        });
        self.clients.push(ClientEntry {
            id,
            flow,
            destination,
            tx,
            request: bytes,
            spec,
            first_sent: now,
            result: TransactionResult {
                transmissions: 1,
                ..TransactionResult::default()
            },
            reported: false,
        });
        Ok(id)
    }

    /// Answers the request of server transaction `id` with `status` and `reason` (and
    /// `extra` headers); a retransmitted request gets the same answer again. Unknown or
    /// finished transactions are ignored.
    pub fn respond(
        &mut self,
        now: Instant,
        id: ServerId,
        status: u16,
        reason: &str,
        extra: &[(String, String)],
    ) {
        self.respond_with_body(now, id, status, reason, extra, None);
    }

    /// As [`Endpoint::respond`], with a body and its Content-Type (an SDP answer).
    pub fn respond_with_body(
        &mut self,
        now: Instant,
        id: ServerId,
        status: u16,
        reason: &str,
        extra: &[(String, String)],
        body: Option<(&str, &[u8])>,
    ) {
        let Some(s) = self.servers.iter_mut().find(|s| s.id == id) else {
            return;
        };
        let bytes =
            super::response::build(&s.request, status, reason, Some(&self.to_tag), extra, body);
        let f = self.flows[s.flow];
        self.transmits.push_back(Transmit {
            socket: f.socket,
            destination: s.from,
            payload: bytes.clone(),
        });
        s.tx.respond(now, status, bytes);
    }

    /// Answers the request of server transaction `id` with a response built by the caller
    /// (`status` and its bytes): a UAS core that keeps the 2xx to retransmit it itself
    /// (RFC 3261 §13.3.1.4). Unknown or finished transactions are ignored.
    pub fn respond_raw(&mut self, now: Instant, id: ServerId, status: u16, bytes: Vec<u8>) {
        let Some(s) = self.servers.iter_mut().find(|s| s.id == id) else {
            return;
        };
        let f = self.flows[s.flow];
        self.transmits.push_back(Transmit {
            socket: f.socket,
            destination: s.from,
            payload: bytes.clone(),
        });
        s.tx.respond(now, status, bytes);
    }

    /// Sends `payload` on flow `flow` to `destination` outside any transaction (the ACK of a
    /// 2xx, RFC 3261 §13.2.2.4, which belongs to the dialog).
    pub fn send_stateless(&mut self, flow: usize, destination: SocketAddr, payload: Vec<u8>) {
        let f = self.flows[flow];
        self.transmits.push_back(Transmit {
            socket: f.socket,
            destination,
            payload,
        });
    }

    /// Ends every running client transaction now (Ctrl-C): they report nothing more.
    pub fn abandon(&mut self) {
        self.clients.clear();
    }

    fn flow_of(&self, socket: SocketId) -> Option<usize> {
        self.flows.iter().position(|f| f.socket == socket)
    }

    fn fail_flow(&mut self, flow: usize, error: &FlowError) {
        for c in &mut self.clients {
            if c.flow == flow && !c.reported {
                c.reported = true;
                self.events.push_back(EndpointEvent::Failed {
                    id: c.id,
                    error: error.clone(),
                });
            }
        }
        self.clients.retain(|c| !(c.flow == flow && c.reported));
    }

    /// ICMP unreachable for datagrams of `flow` to `destination`: the transactions that send
    /// there fail.
    fn fail_destination(&mut self, flow: usize, destination: SocketAddr, reason: &str) {
        let error = FlowError::Unreachable(destination, reason.to_string());
        for c in &mut self.clients {
            if c.flow == flow && c.destination == destination && !c.reported {
                c.reported = true;
                self.events.push_back(EndpointEvent::Failed {
                    id: c.id,
                    error: error.clone(),
                });
            }
        }
        self.clients
            .retain(|c| !(c.flow == flow && c.destination == destination && c.reported));
    }

    fn ack_for(&self, c: &ClientEntry, response: &Message) -> Option<Vec<u8>> {
        // §17.1.1.3: same Request-URI, Call-ID, From, CSeq number, top Via and Route as the
        // INVITE; To from the response.
        let to_tag = response
            .header("To")
            .and_then(|t| super::message::NameAddr::parse(t).ok())
            .and_then(|n| n.tag().map(str::to_string));
        let spec = RequestSpec {
            method: Method::Ack,
            to: (c.spec.to.0.clone(), to_tag),
            contact: None,
            expires: None,
            extra: Vec::new(),
            body: None,
            ..c.spec.clone()
        };
        request::build(&spec).ok()
    }

    fn handle_response(&mut self, now: Instant, flow: usize, message: Message, len: usize) {
        let Some(idx) = self
            .clients
            .iter()
            .position(|c| !c.tx.is_terminated() && c.tx.matches(&message))
        else {
            self.stray += 1;
            return;
        };
        let status = message.status().unwrap_or(0);
        let outcome = self.clients[idx].tx.handle_response(now, status);
        let c = &self.clients[idx];
        let f = self.flows[flow];
        match outcome {
            Outcome::Provisional(_) => {
                let at = now.saturating_duration_since(c.first_sent);
                let id = c.id;
                self.events.push_back(EndpointEvent::Provisional {
                    id,
                    response: message.clone(),
                });
                self.clients[idx].result.provisional.push(Received {
                    at,
                    message,
                    bytes: len,
                });
            }
            Outcome::Final(code) => {
                if c.tx.kind() == Kind::Invite
                    && code >= 300
                    && let Some(ack) = self.ack_for(c, &message)
                {
                    self.transmits.push_back(Transmit {
                        socket: f.socket,
                        destination: c.destination,
                        payload: ack,
                    });
                }
                let c = &mut self.clients[idx];
                c.result.final_response = Some(Received {
                    at: now.saturating_duration_since(c.first_sent),
                    message,
                    bytes: len,
                });
                c.result.transmissions = c.result.transmissions.max(c.tx.transmissions);
                c.reported = true;
                self.events.push_back(EndpointEvent::Completed {
                    id: c.id,
                    result: c.result.clone(),
                });
            }
            Outcome::RepeatAck => {
                if let Some(ack) = self.ack_for(c, &message) {
                    self.transmits.push_back(Transmit {
                        socket: f.socket,
                        destination: c.destination,
                        payload: ack,
                    });
                }
            }
            Outcome::Retransmitted2xx(_) => self.events.push_back(EndpointEvent::Invite2xx {
                id: c.id,
                response: message,
            }),
            Outcome::Duplicate => {}
        }
        self.clients
            .retain(|c| !(c.reported && c.tx.is_terminated()));
    }

    fn handle_request(&mut self, now: Instant, flow: usize, from: SocketAddr, message: Message) {
        let f = self.flows[flow];
        if let Some(s) = self.servers.iter_mut().find(|s| s.tx.matches(&message)) {
            if let Some(again) = s.tx.handle_request(&message) {
                self.transmits.push_back(Transmit {
                    socket: f.socket,
                    destination: from,
                    payload: again.to_vec(),
                });
            }
            return;
        }
        if message.method() == Some("ACK") {
            // An ACK for a 2xx belongs to no transaction (§17.2.1): it is the dialog's.
            self.events.push_back(EndpointEvent::Ack {
                flow,
                from,
                request: message,
            });
            return;
        }
        // Our responses tell the client how we saw it (RFC 3261 §18.2.1, RFC 3581 §4).
        let message = super::response::stamp_via(&message, from);
        self.next_id += 1;
        let id = ServerId(self.next_id);
        let tx = ServerTransaction::new(&message, f.transport.is_reliable(), self.timers);
        self.servers.push(ServerEntry {
            id,
            flow,
            from,
            request: message.clone(),
            tx,
        });
        self.events.push_back(EndpointEvent::Request {
            id,
            flow,
            from,
            request: message,
        });
        let _ = now;
    }
}

impl Machine for Endpoint {
    type Event = EndpointEvent;

    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        match input {
            Input::Message { socket, from, data } => {
                let Some(flow) = self.flow_of(socket) else {
                    self.stray += 1;
                    return;
                };
                let Ok(message) = Message::parse(data) else {
                    self.stray += 1;
                    return;
                };
                match message.start {
                    StartLine::Response { .. } => {
                        self.handle_response(now, flow, message, data.len());
                    }
                    StartLine::Request { .. } => self.handle_request(now, flow, from, message),
                }
            }
            Input::Unreachable {
                socket,
                destination,
                reason,
            } => {
                if let Some(flow) = self.flow_of(socket) {
                    self.fail_destination(flow, destination, reason);
                }
            }
            Input::StreamFailed { socket, error } => {
                if let Some(flow) = self.flow_of(socket) {
                    let e = FlowError::from_stream(self.flows[flow].peer, error);
                    self.fail_flow(flow, &e);
                }
            }
            Input::Connected { .. } => {}
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        for c in &mut self.clients {
            if c.tx.poll_timeout().is_none_or(|t| t > now) {
                continue;
            }
            match c.tx.handle_timeout(now) {
                Some(Action::Retransmit) => {
                    let f = self.flows[c.flow];
                    c.result.transmissions += 1;
                    self.transmits.push_back(Transmit {
                        socket: f.socket,
                        destination: c.destination,
                        payload: c.request.clone(),
                    });
                }
                Some(Action::Timeout) => {
                    c.result.transmissions = c.result.transmissions.max(c.tx.transmissions);
                    c.reported = true;
                    self.events.push_back(EndpointEvent::Completed {
                        id: c.id,
                        result: c.result.clone(),
                    });
                }
                None => {}
            }
        }
        self.clients
            .retain(|c| !(c.reported && c.tx.is_terminated()));
        for s in &mut self.servers {
            s.tx.handle_timeout(now);
        }
        self.servers.retain(|s| !s.tx.is_terminated());
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    fn poll_event(&mut self) -> Option<EndpointEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let c = self.clients.iter().filter_map(|c| c.tx.poll_timeout());
        let s = self.servers.iter().filter_map(|s| s.tx.poll_timeout());
        c.chain(s).min()
    }

    /// An endpoint alone is never done; its owner decides.
    fn is_done(&self) -> bool {
        false
    }

    fn interrupt(&mut self, _now: Instant) {
        self.abandon();
    }
}

#[cfg(test)]
mod tests {
    //! The endpoint against scripted peers, in simulated time.
    use super::*;
    use crate::sip::request::{RequestSpec, ViaSpec};

    const PEER: &str = "192.0.2.10:5060";

    fn t0() -> Instant {
        #[allow(clippy::disallowed_methods)]
        Instant::now()
    }

    fn flow(transport: Transport) -> Flow {
        Flow {
            socket: 0,
            transport,
            local: "10.0.0.2:5060".parse().unwrap(),
            peer: PEER.parse().unwrap(),
        }
    }

    fn endpoint(transport: Transport) -> Endpoint {
        Endpoint::new(vec![flow(transport)], Timers::default(), None, "us".into())
    }

    fn spec(method: Method, branch: &str) -> RequestSpec {
        RequestSpec {
            method,
            uri: "sip:bob@192.0.2.10".into(),
            via: ViaSpec {
                transport: "UDP",
                sent_by: "10.0.0.2".into(),
                port: Some(5060),
                branch: branch.into(),
            },
            from: ("sip:alice@example.com".into(), "ft".into()),
            to: ("sip:bob@example.com".into(), None),
            call_id: "cid@voipdiag".into(),
            cseq: 1,
            contact: None,
            expires: None,
            route: vec!["sip:proxy.example.com;lr".into()],
            extra: vec![],
            body: None,
        }
    }

    /// A response to the request `req` with `status`, To-tag "pt".
    fn answer(req: &[u8], status: u16) -> Vec<u8> {
        let m = Message::parse(req).unwrap();
        crate::sip::response::build(&m, status, "Reason", Some("pt"), &[], None)
    }

    fn input(e: &mut Endpoint, now: Instant, data: &[u8]) {
        e.handle_input(
            now,
            Input::Message {
                socket: 0,
                from: PEER.parse().unwrap(),
                data,
            },
        );
    }

    fn sent(e: &mut Endpoint) -> Vec<Message> {
        std::iter::from_fn(|| e.poll_transmit())
            .map(|t| Message::parse(&t.payload).unwrap())
            .collect()
    }

    /// A BYE from the far end arrives while our OPTIONS waits for its answer: it is handed
    /// up and answered (its retransmission from the server transaction), and the OPTIONS
    /// still completes.
    #[test]
    fn hands_a_request_up_while_a_client_transaction_runs() {
        let now = t0();
        let mut e = endpoint(Transport::Udp);
        let id = e
            .send_request(now, 0, spec(Method::Options, "z9hG4bKopt"))
            .unwrap();
        let options = e.poll_transmit().unwrap().payload;
        let bye = b"BYE sip:alice@10.0.0.2:5060 SIP/2.0\r\n\
            Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKbye\r\n\
            From: <sip:bob@example.com>;tag=pt\r\nTo: <sip:alice@example.com>;tag=ft\r\n\
            Call-ID: cid@voipdiag\r\nCSeq: 9 BYE\r\nContent-Length: 0\r\n\r\n";
        let t1 = now + Duration::from_millis(5);
        input(&mut e, t1, bye);
        let Some(EndpointEvent::Request {
            id: sid,
            request,
            flow,
            ..
        }) = e.poll_event()
        else {
            panic!("the BYE is handed up");
        };
        assert_eq!((request.method(), flow), (Some("BYE"), 0));
        assert!(e.is_waiting(), "the OPTIONS still runs");
        e.respond(t1, sid, 200, "OK", &[]);
        let ok = sent(&mut e);
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].status(), Some(200));
        assert_eq!(ok[0].cseq(), Some((9, "BYE".into())));
        assert_eq!(ok[0].top_via().unwrap().branch(), Some("z9hG4bKbye"));
        // The BYE retransmitted: the same answer again, no second event.
        input(&mut e, t1 + Duration::from_millis(500), bye);
        assert_eq!(sent(&mut e).len(), 1);
        assert!(e.poll_event().is_none());
        // The OPTIONS is answered.
        input(
            &mut e,
            t1 + Duration::from_millis(10),
            &answer(&options, 200),
        );
        match e.poll_event() {
            Some(EndpointEvent::Completed { id: c, result }) => {
                assert_eq!(c, id);
                assert_eq!(result.final_response.unwrap().message.status(), Some(200));
                assert_eq!(result.transmissions, 1);
            }
            other => panic!("{other:?}"),
        }
        assert!(!e.is_waiting());
        assert_eq!(e.stray(), 0);
    }

    /// RFC 3261 §17.1.1: a non-2xx final response to INVITE is ACKed by the transaction
    /// (same branch, To-tag of the response, Route kept), again for each retransmission of
    /// it, until Timer D (32 s over UDP, 0 over TCP).
    #[test]
    fn invite_non_2xx_is_acked_until_timer_d() {
        for (transport, timer_d) in [(Transport::Udp, 32), (Transport::Tcp, 0)] {
            let now = t0();
            let mut e = Endpoint::new(vec![flow(transport)], Timers::default(), None, "us".into());
            let id = e
                .send_request(now, 0, spec(Method::Invite, "z9hG4bKinv"))
                .unwrap();
            let invite = e.poll_transmit().unwrap().payload;
            let t1 = now + Duration::from_millis(20);
            input(&mut e, t1, &answer(&invite, 100));
            assert!(matches!(
                e.poll_event(),
                Some(EndpointEvent::Provisional { id: p, .. }) if p == id
            ));
            input(&mut e, t1, &answer(&invite, 486));
            let acks = sent(&mut e);
            assert_eq!(acks.len(), 1);
            let ack = &acks[0];
            assert_eq!(ack.method(), Some("ACK"));
            assert_eq!(ack.top_via().unwrap().branch(), Some("z9hG4bKinv"));
            assert_eq!(ack.cseq(), Some((1, "ACK".into())));
            assert!(ack.header("To").unwrap().ends_with(";tag=pt"));
            assert_eq!(ack.header("Route"), Some("<sip:proxy.example.com;lr>"));
            match e.poll_event() {
                Some(EndpointEvent::Completed { id: c, result }) => {
                    assert_eq!(c, id);
                    assert_eq!(result.provisional.len(), 1);
                    assert_eq!(result.final_response.unwrap().message.status(), Some(486));
                }
                other => panic!("{other:?}"),
            }
            // The 486 again: another ACK, no new event.
            input(
                &mut e,
                t1 + Duration::from_millis(500),
                &answer(&invite, 486),
            );
            assert_eq!(sent(&mut e).len(), 1);
            assert!(e.poll_event().is_none());
            // Timer D, then nothing more is matched.
            assert_eq!(e.poll_timeout(), Some(t1 + Duration::from_secs(timer_d)));
            e.handle_timeout(t1 + Duration::from_secs(timer_d));
            assert_eq!(e.poll_timeout(), None);
            input(&mut e, t1 + Duration::from_secs(40), &answer(&invite, 486));
            assert!(sent(&mut e).is_empty());
            assert_eq!(e.stray(), 1);
        }
    }

    /// RFC 6026: a 2xx to INVITE completes the transaction; its retransmissions go to the
    /// dialog as events, not as new results.
    #[test]
    fn invite_2xx_retransmissions_go_to_the_dialog() {
        let now = t0();
        let mut e = endpoint(Transport::Udp);
        e.send_request(now, 0, spec(Method::Invite, "z9hG4bKinv"))
            .unwrap();
        let invite = e.poll_transmit().unwrap().payload;
        input(&mut e, now, &answer(&invite, 200));
        assert!(matches!(
            e.poll_event(),
            Some(EndpointEvent::Completed { .. })
        ));
        assert!(
            sent(&mut e).is_empty(),
            "the dialog ACKs a 2xx, not the transaction"
        );
        input(
            &mut e,
            now + Duration::from_millis(500),
            &answer(&invite, 200),
        );
        assert!(matches!(
            e.poll_event(),
            Some(EndpointEvent::Invite2xx { .. })
        ));
    }

    /// ICMP port unreachable for the flow's peer fails the transactions on it.
    #[test]
    fn icmp_fails_the_running_transaction() {
        let now = t0();
        let mut e = endpoint(Transport::Udp);
        let id = e
            .send_request(now, 0, spec(Method::Options, "z9hG4bKopt"))
            .unwrap();
        e.handle_input(
            now,
            Input::Unreachable {
                socket: 0,
                destination: PEER.parse().unwrap(),
                reason: "ICMP port unreachable",
            },
        );
        match e.poll_event() {
            Some(EndpointEvent::Failed { id: f, error }) => {
                assert_eq!(f, id);
                assert_eq!(
                    error,
                    FlowError::Unreachable(PEER.parse().unwrap(), "ICMP port unreachable".into())
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
