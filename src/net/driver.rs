//! The one driver: runs any sans-IO [`Machine`] over UDP sockets and TCP/TLS streams, with
//! its timers, the `-v` trace hook and Ctrl-C. Every network command goes through [`run`];
//! nothing else in the project loops over a socket.
//!
//! UDP sockets are unconnected with ICMP error reporting on (`IP_RECVERR`), so answers from
//! any address are seen and a closed port is reported at once. Streams are cut into messages
//! by the protocol's [`Framer`]; `TCP_NODELAY` is on. A stream may be handed over connected
//! (the command opened it, e.g. to fail over between SIP servers) or opened by the driver
//! while the machine runs ([`Socket::Connect`]), which then sees [`Input::Connected`].
//!
//! Time is tokio's clock, so tests with a paused runtime run the same loop in simulated time.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, UdpSocket};
use tokio::sync::mpsc;
use tokio_rustls::rustls;

use super::signal::Interrupt;
use super::tls::{TlsOptions, client_config};
use super::{Direction, Traced, Tracer, icmp};
use crate::machine::{Frame, Framer, Input, Machine, SocketId, StreamError};

/// Largest message accepted on a stream before giving up on framing it (bytes).
pub const MAX_STREAM_MESSAGE: usize = 256 * 1024;

/// Anything a stream can be: TCP or TLS over TCP.
pub trait AsyncStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> AsyncStream for T {}

/// A connected stream and how to frame it.
pub struct Stream {
    io: Box<dyn AsyncStream>,
    /// Our end.
    pub local: SocketAddr,
    /// The peer.
    pub peer: SocketAddr,
    framer: Framer,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stream({} → {})", self.local, self.peer)
    }
}

/// TLS on top of a stream: the name the certificate must match and the trust settings.
#[derive(Debug, Clone)]
pub struct TlsSpec {
    /// Host name or IP literal the certificate is checked against.
    pub server_name: String,
    /// `--ca-file` / `--insecure`.
    pub options: TlsOptions,
}

/// A stream to open.
#[derive(Debug, Clone)]
pub struct ConnectSpec {
    /// Where to.
    pub peer: SocketAddr,
    /// Our end (`None`: any).
    pub local: Option<SocketAddr>,
    /// TLS on top, or plain TCP.
    pub tls: Option<TlsSpec>,
    /// How the protocol frames its messages.
    pub framer: Framer,
}

/// What an opened stream is.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Our end.
    pub local: SocketAddr,
    /// TLS: the protocol version negotiated, e.g. `TLSv1_3`.
    pub tls_version: Option<String>,
    /// TLS: the server's end-entity certificate (DER).
    pub peer_certificate: Option<Vec<u8>>,
}

/// One of a machine's sockets, as handed to [`run`].
#[derive(Debug)]
pub enum Socket {
    /// A bound UDP socket (see [`bind_udp`]).
    Udp(Arc<UdpSocket>),
    /// A connected stream (see [`connect`]).
    Stream(Stream),
    /// A stream the driver opens when it starts; the machine sees [`Input::Connected`] or
    /// [`Input::StreamFailed`]. Sends to it wait until it is connected.
    Connect(ConnectSpec),
}

impl Socket {
    /// The socket's own address, when known before the run.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match self {
            Socket::Udp(s) => s.local_addr().ok(),
            Socket::Stream(s) => Some(s.local),
            Socket::Connect(_) => None,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The machine finished.
    Done,
    /// Ctrl-C stopped it (the machine kept what it learned).
    Interrupted,
    /// The machine panicked on what a peer sent (a bug, caught so that a peer cannot end the
    /// process): the panic's message. The machine's state is not to be trusted.
    Failed(String),
}

impl End {
    /// The run's failure as a command error message, if it failed.
    pub fn failure(&self) -> Option<String> {
        match self {
            End::Failed(why) => Some(format!(
                "a protocol machine failed on what a peer sent (please report this): {why}"
            )),
            _ => None,
        }
    }
}

/// Aborts the reader tasks when the run ends, however it ends.
struct Tasks(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// The local IP address the kernel would use to reach `target` (no packet is sent: a
/// connected UDP socket only selects a route).
///
/// # Errors
/// No route.
pub fn route_source(target: SocketAddr) -> std::io::Result<IpAddr> {
    let any = SocketAddr::new(unspecified(target.ip()), 0);
    let s = std::net::UdpSocket::bind(any)?;
    s.connect(target)?;
    Ok(s.local_addr()?.ip())
}

fn unspecified(like: IpAddr) -> IpAddr {
    if like.is_ipv4() {
        IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
    }
}

/// Binds an unconnected UDP socket on `addr` (port 0: any) with ICMP error reporting on.
/// Must be called inside the runtime.
///
/// # Errors
/// The bind failed (address not local, port in use).
pub fn bind_udp(addr: SocketAddr) -> std::io::Result<Arc<UdpSocket>> {
    let std_sock = std::net::UdpSocket::bind(addr)?;
    std_sock.set_nonblocking(true)?;
    // Without it only timeouts are seen; not fatal.
    let _ = icmp::enable_recv_err(&std_sock, addr.is_ipv6());
    Ok(Arc::new(UdpSocket::from_std(std_sock)?))
}

/// Binds `count` UDP sockets on `ip`; the first on `first_port` (0 = any).
///
/// # Errors
/// As [`bind_udp`].
pub fn bind_udp_sockets(
    ip: IpAddr,
    first_port: u16,
    count: usize,
) -> std::io::Result<Vec<Arc<UdpSocket>>> {
    (0..count)
        .map(|i| bind_udp(SocketAddr::new(ip, if i == 0 { first_port } else { 0 })))
        .collect()
}

/// Opens a stream: TCP (`TCP_NODELAY` on), then TLS when asked, checking the certificate
/// against the server name. Not bounded in time: the caller bounds it.
///
/// # Errors
/// [`StreamError::Refused`] on RST, [`StreamError::Tls`] for handshake or certificate
/// failures, [`StreamError::Io`] otherwise.
pub async fn connect(spec: &ConnectSpec) -> Result<(Stream, Connection), StreamError> {
    let io_err = |e: std::io::Error| StreamError::Io(e.to_string());
    let peer = spec.peer;
    let socket = if peer.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(io_err)?;
    if let Some(l) = spec.local {
        socket
            .bind(l)
            .map_err(|e| StreamError::Io(format!("bind {l}: {e}")))?;
    }
    let stream = socket.connect(peer).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::ConnectionRefused => StreamError::Refused,
        _ => StreamError::Io(format!("connect {peer}: {e}")),
    })?;
    stream.set_nodelay(true).map_err(io_err)?;
    let local = stream.local_addr().map_err(io_err)?;
    let Some(tls) = &spec.tls else {
        return Ok((
            Stream {
                io: Box::new(stream),
                local,
                peer,
                framer: spec.framer,
            },
            Connection {
                local,
                tls_version: None,
                peer_certificate: None,
            },
        ));
    };
    let config = client_config(&tls.options).map_err(StreamError::Tls)?;
    let name = rustls_pki_types::ServerName::try_from(
        tls.server_name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
    )
    .map_err(|e| StreamError::Tls(format!("bad server name: {e}")))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tls_stream = connector
        .connect(name, stream)
        .await
        .map_err(|e| StreamError::Tls(e.to_string()))?;
    let version = tls_stream
        .get_ref()
        .1
        .protocol_version()
        .map(|v: rustls::ProtocolVersion| format!("{v:?}"));
    let peer_certificate = tls_stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.as_ref().to_vec());
    Ok((
        Stream {
            io: Box::new(tls_stream),
            local,
            peer,
            framer: spec.framer,
        },
        Connection {
            local,
            tls_version: version,
            peer_certificate,
        },
    ))
}

type Writer = tokio::io::WriteHalf<Box<dyn AsyncStream>>;

enum Event {
    Message(SocketId, SocketAddr, Vec<u8>),
    Unreachable(SocketId, SocketAddr, String),
    Connected(SocketId, SocketAddr, SocketAddr, Writer),
    StreamFailed(SocketId, StreamError),
}

/// What [`run`] needs besides the machine and its sockets.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    /// Sees every datagram and stream message sent and received (`-v`).
    pub tracer: Option<Tracer<'a>>,
    /// Ctrl-C.
    pub interrupt: &'a Interrupt,
    /// Wake at each deadline to within tens of microseconds rather than tokio's
    /// millisecond tick (which fires up to 1 ms late): the RTP pacing of `call` needs it.
    /// The last [`PRECISE_WAIT`] before a deadline is slept on the thread. Not for
    /// paused-clock tests (that sleep is real time).
    pub precise: bool,
}

/// How long before a deadline a precise wait leaves tokio's timer for the thread's.
pub const PRECISE_WAIT: Duration = Duration::from_millis(2);

/// The driver's clock: tokio's (so a paused test runtime runs in simulated time). Commands
/// take their start times from it too.
pub fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Reads UDP datagrams (and the ICMP errors queued after a failed read) into `tx`.
async fn read_udp(id: SocketId, sock: Arc<UdpSocket>, tx: mpsc::UnboundedSender<Event>) {
    let mut buf = vec![0u8; 65_536];
    loop {
        match sock.recv_from(&mut buf).await {
            Ok((n, from)) => {
                if tx
                    .send(Event::Message(id, from, buf[..n].to_vec()))
                    .is_err()
                {
                    return;
                }
            }
            Err(_) => {
                let errors = icmp::drain_error_queue(&*sock);
                if errors.is_empty() {
                    // A socket error without a queued ICMP message; avoid spinning.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                for err in errors {
                    if let Some(dest) = err.destination
                        && tx
                            .send(Event::Unreachable(id, dest, err.description))
                            .is_err()
                    {
                        return;
                    }
                }
            }
        }
    }
}

/// Reads a stream, frames it, and sends each message (then the reason it ended) into `tx`.
async fn read_stream(
    id: SocketId,
    peer: SocketAddr,
    mut reader: tokio::io::ReadHalf<Box<dyn AsyncStream>>,
    framer: Framer,
    tx: mpsc::UnboundedSender<Event>,
) {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let error = loop {
        loop {
            match framer(&buf) {
                Ok(Frame::Skip(n)) => {
                    buf.drain(..n.min(buf.len()));
                }
                Ok(Frame::Message(n)) if n <= buf.len() => {
                    let msg: Vec<u8> = buf.drain(..n).collect();
                    if tx.send(Event::Message(id, peer, msg)).is_err() {
                        return;
                    }
                }
                Ok(Frame::Message(n)) if n > MAX_STREAM_MESSAGE => {
                    let _ = tx.send(Event::StreamFailed(
                        id,
                        StreamError::Framing(format!("a message of {n} bytes is too large")),
                    ));
                    return;
                }
                Ok(Frame::Message(_) | Frame::Incomplete) => break,
                Err(e) => {
                    let _ = tx.send(Event::StreamFailed(id, StreamError::Framing(e)));
                    return;
                }
            }
        }
        if buf.len() > MAX_STREAM_MESSAGE {
            break StreamError::Framing(format!("no complete message in {} bytes", buf.len()));
        }
        match reader.read(&mut chunk).await {
            Ok(0) => break StreamError::Closed,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => break StreamError::Io(e.to_string()),
        }
    };
    let _ = tx.send(Event::StreamFailed(id, error));
}

/// Runs `machine` over `sockets` until it is done, or Ctrl-C ends it: sends what it polls,
/// feeds back messages, ICMP errors, stream events and timer expiries with the time they
/// happened, and hands each event to `on_event` (which may act on the machine).
///
/// The first Ctrl-C calls [`Machine::interrupt`] and the run goes on until the machine is
/// done; a second one stops it at once. A panic inside the machine ends the run with
/// [`End::Failed`] instead of the process.
pub async fn run<M: Machine>(
    machine: &mut M,
    sockets: Vec<Socket>,
    options: Options<'_>,
    on_event: impl FnMut(&mut M, M::Event),
) -> End {
    use futures_util::FutureExt;
    let inner = std::panic::AssertUnwindSafe(run_inner(machine, sockets, options, on_event));
    match inner.catch_unwind().await {
        Ok(end) => end,
        Err(panic) => End::Failed(
            panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into()),
        ),
    }
}

async fn run_inner<M: Machine>(
    machine: &mut M,
    sockets: Vec<Socket>,
    options: Options<'_>,
    mut on_event: impl FnMut(&mut M, M::Event),
) -> End {
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let mut tasks = Tasks(Vec::new());
    let mut udp: Vec<Option<Arc<UdpSocket>>> = Vec::with_capacity(sockets.len());
    let mut writers: Vec<Option<Writer>> = Vec::with_capacity(sockets.len());
    let mut local: Vec<Option<SocketAddr>> = Vec::with_capacity(sockets.len());
    let mut pending: Vec<Vec<Vec<u8>>> = Vec::with_capacity(sockets.len());
    for (id, socket) in sockets.into_iter().enumerate() {
        local.push(socket.local_addr());
        pending.push(Vec::new());
        match socket {
            Socket::Udp(s) => {
                tasks
                    .0
                    .push(tokio::spawn(read_udp(id, Arc::clone(&s), tx.clone())));
                udp.push(Some(s));
                writers.push(None);
            }
            Socket::Stream(s) => {
                let (reader, writer) = tokio::io::split(s.io);
                tasks.0.push(tokio::spawn(read_stream(
                    id,
                    s.peer,
                    reader,
                    s.framer,
                    tx.clone(),
                )));
                udp.push(None);
                writers.push(Some(writer));
            }
            Socket::Connect(spec) => {
                let tx = tx.clone();
                tasks.0.push(tokio::spawn(async move {
                    match connect(&spec).await {
                        Ok((s, c)) => {
                            let (reader, writer) = tokio::io::split(s.io);
                            if tx
                                .send(Event::Connected(id, c.local, s.peer, writer))
                                .is_err()
                            {
                                return;
                            }
                            read_stream(id, s.peer, reader, s.framer, tx).await;
                        }
                        Err(e) => {
                            let _ = tx.send(Event::StreamFailed(id, e));
                        }
                    }
                }));
                udp.push(None);
                writers.push(None);
            }
        }
    }
    drop(tx);
    let mut interrupt = options.interrupt.clone();
    let mut interrupted = false;
    let mut end = End::Done;
    loop {
        loop {
            let mut progressed = false;
            while let Some(t) = machine.poll_transmit() {
                progressed = true;
                let id = t.socket;
                if let (Some(trace), Some(Some(l))) = (options.tracer, local.get(id)) {
                    trace(&Traced {
                        direction: Direction::Sent,
                        local: *l,
                        remote: t.destination,
                        stream: udp[id].is_none(),
                        bytes: &t.payload,
                    });
                }
                if let Some(Some(sock)) = udp.get(id) {
                    if let Err(e) = sock.send_to(&t.payload, t.destination).await {
                        let why = format!("send failed: {e}");
                        machine.handle_input(
                            now(),
                            Input::Unreachable {
                                socket: id,
                                destination: t.destination,
                                reason: &why,
                            },
                        );
                    }
                } else if let Some(Some(w)) = writers.get_mut(id) {
                    let written = async {
                        w.write_all(&t.payload).await?;
                        w.flush().await
                    };
                    if let Err(e) = written.await {
                        writers[id] = None;
                        let error = StreamError::Io(e.to_string());
                        machine.handle_input(
                            now(),
                            Input::StreamFailed {
                                socket: id,
                                error: &error,
                            },
                        );
                    }
                } else if let Some(queue) = pending.get_mut(id) {
                    // A stream still connecting: sent once connected.
                    queue.push(t.payload);
                }
            }
            while let Some(e) = machine.poll_event() {
                progressed = true;
                on_event(machine, e);
            }
            if !progressed {
                break;
            }
        }
        if machine.is_done() {
            break;
        }
        let deadline = machine.poll_timeout();
        let precise = options.precise;
        let sleep = async {
            match deadline {
                Some(d) if precise => {
                    let early = d.checked_sub(PRECISE_WAIT).unwrap_or(d);
                    tokio::time::sleep_until(tokio::time::Instant::from_std(early)).await;
                    let left = d.saturating_duration_since(now());
                    if !left.is_zero() && left <= PRECISE_WAIT {
                        std::thread::sleep(left);
                    }
                }
                Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            ev = rx.recv() => {
                let Some(ev) = ev else {
                    // Every socket is gone: only timers can move the machine now.
                    let Some(d) = deadline else { break };
                    tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await;
                    machine.handle_timeout(now());
                    continue;
                };
                let t = now();
                match ev {
                    Event::Message(id, from, data) => {
                        if let (Some(trace), Some(Some(l))) = (options.tracer, local.get(id)) {
                            trace(&Traced {
                                direction: Direction::Received,
                                local: *l,
                                remote: from,
                                stream: udp[id].is_none(),
                                bytes: &data,
                            });
                        }
                        machine.handle_input(t, Input::Message { socket: id, from, data: &data });
                    }
                    Event::Unreachable(id, destination, why) => machine.handle_input(
                        t,
                        Input::Unreachable { socket: id, destination, reason: &why },
                    ),
                    Event::Connected(id, l, peer, mut writer) => {
                        local[id] = Some(l);
                        machine.handle_input(t, Input::Connected { socket: id, local: l });
                        for payload in std::mem::take(&mut pending[id]) {
                            if let Some(trace) = options.tracer {
                                trace(&Traced {
                                    direction: Direction::Sent,
                                    local: l,
                                    remote: peer,
                                    stream: true,
                                    bytes: &payload,
                                });
                            }
                            if writer.write_all(&payload).await.is_err() {
                                break;
                            }
                        }
                        let _ = writer.flush().await;
                        writers[id] = Some(writer);
                    }
                    Event::StreamFailed(id, error) => {
                        writers[id] = None;
                        machine.handle_input(t, Input::StreamFailed { socket: id, error: &error });
                    }
                }
            }
            () = sleep => machine.handle_timeout(now()),
            () = interrupt.pressed() => {
                if interrupted {
                    end = End::Interrupted;
                    break;
                }
                interrupted = true;
                machine.interrupt(now());
            }
        }
    }
    drop(tasks);
    if interrupted && end == End::Done {
        // The machine finished after Ctrl-C: the run was still interrupted.
        end = End::Interrupted;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::Transmit;

    fn lines(buf: &[u8]) -> Result<Frame, String> {
        Ok(match buf.iter().position(|b| *b == b'\n') {
            Some(i) => Frame::Message(i + 1),
            None if buf.starts_with(b"!") => return Err("bang".into()),
            None => Frame::Incomplete,
        })
    }

    /// Sends one payload on each of its sockets once the stream is connected, and records
    /// what comes back, where and from whom.
    struct Echo {
        peer_udp: SocketAddr,
        peer_tcp: SocketAddr,
        out: Vec<Transmit>,
        got: Vec<(SocketId, SocketAddr, Vec<u8>)>,
        connected: Option<SocketAddr>,
        timer: Option<Instant>,
        fired: Option<Instant>,
    }

    impl Machine for Echo {
        type Event = String;
        fn handle_input(&mut self, now: Instant, input: Input<'_>) {
            match input {
                Input::Message { socket, from, data } => {
                    self.got.push((socket, from, data.to_vec()));
                }
                Input::Connected { socket, local } => {
                    assert_eq!(socket, 2);
                    self.connected = Some(local);
                    let t = |socket, destination, payload: &[u8]| Transmit {
                        socket,
                        destination,
                        payload: payload.to_vec(),
                    };
                    self.out.push(t(0, self.peer_udp, b"zero"));
                    self.out.push(t(1, self.peer_udp, b"one"));
                    self.out.push(t(2, self.peer_tcp, b"two\nthree\n"));
                    self.timer = Some(now + Duration::from_secs(30));
                }
                // The echo peer closes after answering.
                Input::StreamFailed {
                    socket: 2,
                    error: StreamError::Closed,
                } => assert_eq!(self.got.iter().filter(|g| g.0 == 2).count(), 2),
                other => panic!("unexpected {other:?}"),
            }
        }
        fn handle_timeout(&mut self, now: Instant) {
            self.fired = Some(now);
            self.timer = None;
        }
        fn poll_transmit(&mut self) -> Option<Transmit> {
            (!self.out.is_empty()).then(|| self.out.remove(0))
        }
        fn poll_event(&mut self) -> Option<String> {
            None
        }
        fn poll_timeout(&self) -> Option<Instant> {
            self.timer
        }
        fn is_done(&self) -> bool {
            self.got.len() == 4 && self.fired.is_some()
        }
        fn interrupt(&mut self, _: Instant) {}
    }

    /// Two UDP sockets and a stream the driver opens, against echo peers on loopback; the
    /// machine's 30 s timer runs in tokio's paused (simulated) time.
    #[tokio::test(start_paused = true)]
    async fn two_sockets_and_a_stream() {
        let udp_peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let peer_udp = udp_peer.local_addr().unwrap();
        let tcp_peer = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let peer_tcp = tcp_peer.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 64];
            for _ in 0..2 {
                let (n, from) = udp_peer.recv_from(&mut buf).await.unwrap();
                udp_peer.send_to(&buf[..n], from).await.unwrap();
            }
        });
        tokio::spawn(async move {
            let (mut s, _) = tcp_peer.accept().await.unwrap();
            let mut buf = [0u8; 64];
            let n = s.read(&mut buf).await.unwrap();
            // Echo in two writes that cut a message in the middle.
            s.write_all(&buf[..3]).await.unwrap();
            s.flush().await.unwrap();
            s.write_all(&buf[3..n]).await.unwrap();
        });
        let sockets = bind_udp_sockets("127.0.0.1".parse().unwrap(), 0, 2).unwrap();
        let locals: Vec<SocketAddr> = sockets.iter().map(|s| s.local_addr().unwrap()).collect();
        let mut machine = Echo {
            peer_udp,
            peer_tcp,
            out: Vec::new(),
            got: Vec::new(),
            connected: None,
            timer: None,
            fired: None,
        };
        let traced = std::sync::Mutex::new(Vec::new());
        let tracer = |t: &Traced<'_>| {
            traced
                .lock()
                .unwrap()
                .push((t.direction, t.local, t.remote, t.bytes.len()));
        };
        let start = now();
        let end = run(
            &mut machine,
            vec![
                Socket::Udp(Arc::clone(&sockets[0])),
                Socket::Udp(Arc::clone(&sockets[1])),
                Socket::Connect(ConnectSpec {
                    peer: peer_tcp,
                    local: None,
                    tls: None,
                    framer: lines,
                }),
            ],
            Options {
                tracer: Some(&tracer),
                interrupt: &Interrupt::never(),
                precise: false,
            },
            |_, _| {},
        )
        .await;
        assert_eq!(end, End::Done);
        let mut got = machine.got.clone();
        got.sort();
        assert_eq!(
            got,
            vec![
                (0, peer_udp, b"zero".to_vec()),
                (1, peer_udp, b"one".to_vec()),
                (2, peer_tcp, b"three\n".to_vec()),
                (2, peer_tcp, b"two\n".to_vec()),
            ]
        );
        // Stream messages arrive in order.
        let stream: Vec<&[u8]> = machine
            .got
            .iter()
            .filter(|g| g.0 == 2)
            .map(|g| g.2.as_slice())
            .collect();
        assert_eq!(stream, [b"two\n".as_slice(), b"three\n".as_slice()]);
        let fired = machine.fired.unwrap() - start;
        assert!(fired >= Duration::from_secs(30), "{fired:?}");
        assert!(fired < Duration::from_secs(31), "{fired:?}");
        let traced = traced.into_inner().unwrap();
        let tcp_local = machine.connected.unwrap();
        // Each payload sent, each datagram and each framed message received.
        assert_eq!(traced.len(), 3 + 4);
        assert!(traced.contains(&(Direction::Sent, locals[0], peer_udp, 4)));
        assert!(traced.contains(&(Direction::Sent, locals[1], peer_udp, 3)));
        assert!(traced.contains(&(Direction::Sent, tcp_local, peer_tcp, 10)));
        assert!(traced.contains(&(Direction::Received, tcp_local, peer_tcp, 6)));
    }

    /// A stream that cannot be framed, and one refused, are reported to the machine.
    #[tokio::test]
    async fn stream_failures_reach_the_machine() {
        struct Fails(Vec<StreamError>, Option<Instant>);
        impl Machine for Fails {
            type Event = ();
            fn handle_input(&mut self, _: Instant, input: Input<'_>) {
                match input {
                    Input::StreamFailed { error, .. } => self.0.push(error.clone()),
                    Input::Connected { .. } => {}
                    other => panic!("{other:?}"),
                }
            }
            fn handle_timeout(&mut self, _: Instant) {}
            fn poll_transmit(&mut self) -> Option<Transmit> {
                None
            }
            fn poll_event(&mut self) -> Option<()> {
                None
            }
            fn poll_timeout(&self) -> Option<Instant> {
                self.1
            }
            fn is_done(&self) -> bool {
                self.0.len() == 2
            }
            fn interrupt(&mut self, _: Instant) {}
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let bad = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(b"!no newline").await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let refused = closed.local_addr().unwrap();
        drop(closed);
        let spec = |peer| ConnectSpec {
            peer,
            local: None,
            tls: None,
            framer: lines,
        };
        let mut m = Fails(Vec::new(), Some(now() + Duration::from_secs(5)));
        run(
            &mut m,
            vec![Socket::Connect(spec(bad)), Socket::Connect(spec(refused))],
            Options {
                tracer: None,
                interrupt: &Interrupt::never(),
                precise: false,
            },
            |_, _| {},
        )
        .await;
        assert!(m.0.contains(&StreamError::Refused), "{:?}", m.0);
        assert!(
            m.0.contains(&StreamError::Framing("bang".into())),
            "{:?}",
            m.0
        );
    }

    /// A machine that panics on what it is fed ends the run with `Failed`, not the process.
    #[tokio::test]
    async fn a_panicking_machine_fails_the_run_not_the_process() {
        struct Panics(Instant);
        impl Machine for Panics {
            type Event = ();
            fn handle_input(&mut self, _: Instant, _: Input<'_>) {}
            fn handle_timeout(&mut self, _: Instant) {
                panic!("boom on a hostile message");
            }
            fn poll_transmit(&mut self) -> Option<Transmit> {
                None
            }
            fn poll_event(&mut self) -> Option<()> {
                None
            }
            fn poll_timeout(&self) -> Option<Instant> {
                Some(self.0)
            }
            fn is_done(&self) -> bool {
                false
            }
            fn interrupt(&mut self, _: Instant) {}
        }
        let end = run(
            &mut Panics(now()),
            vec![],
            Options {
                tracer: None,
                interrupt: &Interrupt::never(),
                precise: false,
            },
            |_, _| {},
        )
        .await;
        assert_eq!(end, End::Failed("boom on a hostile message".into()));
        assert!(end.failure().unwrap().contains("please report"));
    }
}
