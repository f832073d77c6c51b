//! The machine contract (DESIGN.md, "Architecture"): how a sans-IO protocol machine and the one
//! driver in `net::driver` talk. It lives here, below both, so that protocol modules implement
//! [`Machine`] directly and the driver runs any of them.
//!
//! A machine owns no socket, reads no clock and spawns nothing. The driver holds its sockets
//! (UDP sockets and TCP/TLS streams, indexed by [`SocketId`] in the order the command gave
//! them) and loops:
//! 1. [`Machine::poll_transmit`] until `None`, sending each payload from the named socket;
//! 2. [`Machine::poll_event`] until `None`, handing each event to the command;
//! 3. stops when [`Machine::is_done`];
//! 4. waits for the earliest of [`Machine::poll_timeout`], an input, or Ctrl-C, and feeds it
//!    back with the current time: [`Machine::handle_timeout`], [`Machine::handle_input`] or
//!    [`Machine::interrupt`].
//!
//! Tests drive machines the same way with a simulated clock (jump to the earliest wakeup) and
//! scripted peers, as quinn-proto's `Pair::step` does.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Index of one of a machine's sockets in the driver (0-based, in the order given).
pub type SocketId = usize;

/// A payload the machine wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The socket to send from.
    pub socket: SocketId,
    /// Destination; for a stream, its peer (the value is only traced).
    pub destination: SocketAddr,
    /// The bytes: one datagram, or one message written to a stream.
    pub payload: Vec<u8>,
}

/// Why a stream failed (TCP, or TLS over TCP).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// The connection was refused (TCP RST): nothing listens there.
    #[error("connection refused")]
    Refused,
    /// The TLS handshake or the certificate check failed.
    #[error("TLS failed: {0}")]
    Tls(String),
    /// The peer closed the stream.
    #[error("connection closed")]
    Closed,
    /// The peer sent bytes the protocol cannot frame (or a message over the size bound).
    #[error("cannot frame the stream: {0}")]
    Framing(String),
    /// Any other socket error.
    #[error("{0}")]
    Io(String),
}

/// Something that happened on one of the machine's sockets.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A UDP datagram, or one message framed out of a stream by its [`Framer`].
    Message {
        /// The socket it arrived on.
        socket: SocketId,
        /// Its source (a stream's peer).
        from: SocketAddr,
        /// The bytes.
        data: &'a [u8],
    },
    /// An ICMP error (or a failed send) about datagrams from `socket` to `destination`.
    Unreachable {
        /// The socket that sent.
        socket: SocketId,
        /// Where the datagram went.
        destination: SocketAddr,
        /// In words, e.g. "ICMP port unreachable from 192.0.2.1".
        reason: &'a str,
    },
    /// A stream the driver was asked to open is connected (and, for TLS, the handshake done).
    Connected {
        /// The stream.
        socket: SocketId,
        /// Our end of the connection.
        local: SocketAddr,
    },
    /// A stream failed or was closed; nothing more arrives on it.
    StreamFailed {
        /// The stream.
        socket: SocketId,
        /// Why.
        error: &'a StreamError,
    },
}

/// How a stream's bytes are cut into messages (RFC 3261 §18.3 Content-Length for SIP, the
/// length field for STUN, RFC 8489 §6.2.2). Given the bytes buffered so far, a framer says how
/// long the first message is, that leading bytes are to be dropped (SIP keep-alive CRLFs), or
/// that more bytes are needed. `Err` when the bytes can never frame.
pub type Framer = fn(&[u8]) -> Result<Frame, String>;

/// A framer's verdict on the start of a stream buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// More bytes are needed.
    Incomplete,
    /// The first message is this many bytes long.
    Message(usize),
    /// Drop this many bytes (e.g. a keep-alive) and look again.
    Skip(usize),
}

/// Which way a traced datagram went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Direction {
    /// Sent by us.
    Sent,
    /// Received by us.
    Received,
}

/// One datagram or stream message, as the trace hook sees it.
#[derive(Debug, Clone, Copy)]
pub struct Traced<'a> {
    /// Sent or received.
    pub direction: Direction,
    /// Our address.
    pub local: std::net::SocketAddr,
    /// The other end.
    pub remote: std::net::SocketAddr,
    /// Whether it went over a stream (TCP/TLS) rather than UDP.
    pub stream: bool,
    /// The bytes.
    pub bytes: &'a [u8],
}

/// A sans-IO protocol machine (see the module documentation for the loop that drives it).
pub trait Machine {
    /// What the machine tells the command while it runs (e.g. "a probe finished").
    type Event;

    /// Feeds one input at `now`.
    fn handle_input(&mut self, now: Instant, input: Input<'_>);
    /// Fires the timers due at `now` (called at or after [`Machine::poll_timeout`]).
    fn handle_timeout(&mut self, now: Instant);
    /// The next payload to send, if any.
    fn poll_transmit(&mut self) -> Option<Transmit>;
    /// The next event for the command, if any.
    fn poll_event(&mut self) -> Option<Self::Event>;
    /// When [`Machine::handle_timeout`] is due; `None` when no timer runs.
    fn poll_timeout(&self) -> Option<Instant>;
    /// Whether the machine has finished (the driver then stops).
    fn is_done(&self) -> bool;
    /// Ctrl-C at `now`: stop soon, keep what was learned. The machine may still send (e.g. to
    /// release what it holds) before it reports [`Machine::is_done`].
    fn interrupt(&mut self, now: Instant);
}

/// Runs a machine in simulated time for tests: `peer` sees every transmit at the time it is
/// sent and returns the inputs it causes with their delays; the clock jumps to the earliest
/// wakeup. Stops when the machine is done or after `max_steps`. Returns the final time.
///
/// The peer's answers are `(delay, socket, from, bytes)`.
pub fn simulate<M: Machine>(
    machine: &mut M,
    start: Instant,
    max_steps: usize,
    mut peer: impl FnMut(Instant, &Transmit) -> Vec<(Duration, SocketId, SocketAddr, Vec<u8>)>,
    mut on_event: impl FnMut(&mut M, Instant, M::Event),
) -> Instant {
    let mut now = start;
    let mut queue: Vec<(Instant, u64, SocketId, SocketAddr, Vec<u8>)> = Vec::new();
    let mut seq = 0u64;
    for _ in 0..max_steps {
        loop {
            let mut progressed = false;
            while let Some(t) = machine.poll_transmit() {
                progressed = true;
                for (delay, socket, from, bytes) in peer(now, &t) {
                    seq += 1;
                    queue.push((now + delay, seq, socket, from, bytes));
                }
            }
            while let Some(e) = machine.poll_event() {
                progressed = true;
                on_event(machine, now, e);
            }
            if !progressed {
                break;
            }
        }
        if machine.is_done() {
            return now;
        }
        queue.sort_by_key(|q| (q.0, q.1));
        let next_input = queue.first().map(|q| q.0);
        let next_timer = machine.poll_timeout();
        let Some(next) = [next_input, next_timer].into_iter().flatten().min() else {
            return now;
        };
        now = now.max(next);
        if next_input == Some(next) {
            let (_, _, socket, from, bytes) = queue.remove(0);
            machine.handle_input(
                now,
                Input::Message {
                    socket,
                    from,
                    data: &bytes,
                },
            );
        } else {
            machine.handle_timeout(now);
        }
    }
    now
}
