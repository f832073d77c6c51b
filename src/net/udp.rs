//! Unconnected UDP sockets and the one driver loop every datagram protocol machine uses.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::icmp;
use super::{Direction, Tracer};

/// A sans-IO machine that exchanges datagrams over several local sockets (indexed from 0).
pub trait DatagramMachine {
    /// Next datagram to send: `(socket index, destination, bytes)`.
    fn poll_transmit(&mut self) -> Option<(usize, SocketAddr, Vec<u8>)>;
    /// When `handle_timeout` is due; `None` when nothing is scheduled.
    fn poll_timeout(&self) -> Option<Instant>;
    /// Timers due at `now`.
    fn handle_timeout(&mut self, now: Instant);
    /// A datagram arrived on `socket` from `from`.
    fn handle_datagram(&mut self, now: Instant, socket: usize, from: SocketAddr, data: &[u8]);
    /// An ICMP or socket error about datagrams from `socket` to `destination`.
    fn handle_unreachable(
        &mut self,
        now: Instant,
        socket: usize,
        destination: SocketAddr,
        reason: &str,
    );
    /// Whether the machine has finished.
    fn is_done(&self) -> bool;
    /// Stop now (Ctrl-C); the machine keeps what it learned.
    fn interrupt(&mut self);
}

/// How a drive ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriveEnd {
    /// The machine finished.
    Done,
    /// Ctrl-C.
    Interrupted,
}

/// The local IP address the kernel would use to reach `target` (no packet is sent: a
/// connected UDP socket only selects a route).
pub fn route_source(target: SocketAddr) -> std::io::Result<IpAddr> {
    let any: SocketAddr = if target.is_ipv4() {
        "0.0.0.0:0".parse().expect("literal")
    } else {
        "[::]:0".parse().expect("literal")
    };
    let s = std::net::UdpSocket::bind(any)?;
    s.connect(target)?;
    Ok(s.local_addr()?.ip())
}

/// Binds `count` unconnected UDP sockets on `ip`; the first on `first_port` (0 = any).
/// ICMP error reporting is enabled on each.
pub fn bind_sockets(
    ip: IpAddr,
    first_port: u16,
    count: usize,
) -> std::io::Result<Vec<Arc<UdpSocket>>> {
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let port = if i == 0 { first_port } else { 0 };
        let std_sock = std::net::UdpSocket::bind(SocketAddr::new(ip, port))?;
        std_sock.set_nonblocking(true)?;
        let _ = icmp::enable_recv_err(&std_sock, ip.is_ipv6());
        out.push(Arc::new(UdpSocket::from_std(std_sock)?));
    }
    Ok(out)
}

enum Event<E> {
    Datagram(usize, SocketAddr, Vec<u8>),
    Unreachable(usize, SocketAddr, String),
    External(E),
}

/// Drives `machine` over `sockets` until it is done or Ctrl-C: sends what it polls, feeds
/// back datagrams, ICMP errors, timer expiries and `external` events (handled by
/// `on_external`, e.g. the result of a concurrent TCP exchange). `tracer` sees every datagram.
pub async fn drive<M, E, F>(
    machine: &mut M,
    sockets: &[Arc<UdpSocket>],
    mut external: mpsc::UnboundedReceiver<E>,
    mut on_external: F,
    tracer: Option<Tracer<'_>>,
) -> DriveEnd
where
    M: DatagramMachine,
    E: Send + 'static,
    F: FnMut(&mut M, Instant, E),
{
    let (tx, mut rx) = mpsc::unbounded_channel::<Event<E>>();
    let mut readers = Vec::new();
    for (idx, sock) in sockets.iter().enumerate() {
        let sock = Arc::clone(sock);
        let tx = tx.clone();
        readers.push(tokio::spawn(async move {
            let mut buf = vec![0u8; 65_536];
            loop {
                match sock.recv_from(&mut buf).await {
                    Ok((n, from)) => {
                        if tx
                            .send(Event::Datagram(idx, from, buf[..n].to_vec()))
                            .is_err()
                        {
                            return;
                        }
                    }
                    Err(e) => {
                        let errors = icmp::drain_error_queue(&*sock);
                        if errors.is_empty() {
                            // A socket error without a queued ICMP message; avoid spinning.
                            tokio::time::sleep(Duration::from_millis(5)).await;
                            let _ = e;
                        }
                        for err in errors {
                            if let Some(dest) = err.destination
                                && tx
                                    .send(Event::Unreachable(idx, dest, err.description))
                                    .is_err()
                            {
                                return;
                            }
                        }
                    }
                }
            }
        }));
    }
    let forward = {
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(e) = external.recv().await {
                if tx.send(Event::External(e)).is_err() {
                    return;
                }
            }
        })
    };
    drop(tx);
    let local: Vec<Option<SocketAddr>> = sockets.iter().map(|s| s.local_addr().ok()).collect();
    let mut end = DriveEnd::Done;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        while let Some((idx, dest, bytes)) = machine.poll_transmit() {
            let Some(sock) = sockets.get(idx) else {
                continue;
            };
            if let (Some(t), Some(l)) = (tracer, local[idx]) {
                t(Direction::Sent, l, dest, &bytes);
            }
            if let Err(e) = sock.send_to(&bytes, dest).await {
                machine.handle_unreachable(Instant::now(), idx, dest, &format!("send failed: {e}"));
            }
        }
        if machine.is_done() {
            break;
        }
        let deadline = machine.poll_timeout();
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            ev = rx.recv() => {
                let now = Instant::now();
                match ev {
                    Some(Event::Datagram(idx, from, data)) => {
                        if let (Some(t), Some(l)) = (tracer, local[idx]) {
                            t(Direction::Received, l, from, &data);
                        }
                        machine.handle_datagram(now, idx, from, &data);
                    }
                    Some(Event::Unreachable(idx, dest, why)) => machine.handle_unreachable(now, idx, dest, &why),
                    Some(Event::External(e)) => on_external(machine, now, e),
                    None => break,
                }
            }
            () = sleep => machine.handle_timeout(Instant::now()),
            _ = &mut ctrl_c => {
                machine.interrupt();
                end = DriveEnd::Interrupted;
                break;
            }
        }
    }
    for r in readers {
        r.abort();
    }
    forward.abort();
    end
}
