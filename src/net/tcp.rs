//! One request/response exchange over TCP, framed by the protocol's own length (e.g. STUN
//! over TCP, RFC 8489 §6.2.2), with a total timeout.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use super::{Direction, Tracer};

/// Why a TCP exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TcpError {
    /// The connection was refused (RST): nothing listens there.
    #[error("connection refused")]
    Refused,
    /// No answer within the timeout (SYN or response lost, or filtered).
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The peer closed the connection before a whole message arrived.
    #[error("connection closed before a complete response")]
    Closed,
    /// Any other socket error.
    #[error("{0}")]
    Io(String),
}

/// What a successful exchange returned.
#[derive(Debug, Clone)]
pub struct TcpExchange {
    /// Our local address of the connection.
    pub local: SocketAddr,
    /// Time to connect (one round trip: SYN, SYN-ACK).
    pub connect_time: Duration,
    /// Time from sending the request to the whole response.
    pub rtt: Duration,
    /// The response message.
    pub response: Vec<u8>,
}

/// Connects to `server` (from `local` if given), sends `request`, and reads one message
/// whose total length `frame_len` computes from the bytes so far (`None`: need more).
pub async fn exchange(
    server: SocketAddr,
    local: Option<SocketAddr>,
    request: &[u8],
    frame_len: fn(&[u8]) -> Option<usize>,
    timeout: Duration,
    tracer: Option<Tracer<'_>>,
) -> Result<TcpExchange, TcpError> {
    let fut = async {
        let t0 = Instant::now();
        let socket = if server.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(|e| TcpError::Io(e.to_string()))?;
        if let Some(l) = local {
            socket
                .bind(l)
                .map_err(|e| TcpError::Io(format!("bind {l}: {e}")))?;
        }
        let mut stream: TcpStream = socket.connect(server).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::ConnectionRefused => TcpError::Refused,
            _ => TcpError::Io(e.to_string()),
        })?;
        let connect_time = t0.elapsed();
        let local = stream
            .local_addr()
            .map_err(|e| TcpError::Io(e.to_string()))?;
        if let Some(t) = tracer {
            t(Direction::Sent, local, server, request);
        }
        let t1 = Instant::now();
        stream
            .write_all(request)
            .await
            .map_err(|e| TcpError::Io(e.to_string()))?;
        let mut buf = Vec::with_capacity(256);
        let mut chunk = [0u8; 2048];
        loop {
            if let Some(n) = frame_len(&buf)
                && buf.len() >= n
            {
                buf.truncate(n);
                break;
            }
            let n = stream
                .read(&mut chunk)
                .await
                .map_err(|e| TcpError::Io(e.to_string()))?;
            if n == 0 {
                return Err(TcpError::Closed);
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.len() > 65_600 {
                return Err(TcpError::Io("response larger than 64 KiB".into()));
            }
        }
        if let Some(t) = tracer {
            t(Direction::Received, local, server, &buf);
        }
        Ok(TcpExchange {
            local,
            connect_time,
            rtt: t1.elapsed(),
            response: buf,
        })
    };
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(TcpError::Timeout(timeout)),
    }
}
