//! SIP transports (RFC 3261 §18): UDP, TCP and TLS (rustls) with Content-Length stream
//! framing, and the driver that runs a [`ClientTransaction`] over them with real time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, UdpSocket};
use tokio_rustls::rustls;

use super::{Direction, Tracer};
use crate::sip::message::{self, Message};
use crate::sip::target::Transport;
use crate::sip::transaction::{Action, ClientTransaction, Outcome};

/// Largest message we accept on a stream before giving up on framing (bytes).
const MAX_STREAM_MESSAGE: usize = 256 * 1024;

/// Transport failures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// TCP RST or ICMP port unreachable.
    #[error("connection refused by {0}")]
    Refused(SocketAddr),
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

/// TLS settings (`--ca-file`, `--insecure`).
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// PEM file of trusted CAs; the system's roots when `None`.
    pub ca_file: Option<std::path::PathBuf>,
    /// Skip certificate verification (the user said `--insecure`).
    pub insecure: bool,
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

enum Conn {
    Udp(UdpSocket),
    Stream { io: Box<dyn Stream>, buf: Vec<u8> },
}

/// A flow to one SIP server.
pub struct SipFlow {
    conn: Conn,
    /// Our address of the flow.
    pub local: SocketAddr,
    /// The server.
    pub peer: SocketAddr,
    /// Transport.
    pub transport: Transport,
    /// Time to set up the connection (TCP handshake, plus TLS), if any.
    pub connect_time: Option<Duration>,
    /// TLS: the negotiated protocol version and the certificate subject names checked.
    pub tls_version: Option<String>,
}

impl std::fmt::Debug for SipFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SipFlow({} {} → {})",
            self.transport, self.local, self.peer
        )
    }
}

fn tls_config(opts: &TlsOptions) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    if opts.insecure {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
            .with_no_client_auth());
    }
    let mut roots = rustls::RootCertStore::empty();
    match &opts.ca_file {
        Some(path) => {
            use rustls_pki_types::pem::PemObject;
            let certs = rustls_pki_types::CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            for c in certs {
                let c = c.map_err(|e| format!("bad PEM in {}: {e}", path.display()))?;
                roots
                    .add(c)
                    .map_err(|e| format!("bad certificate in {}: {e}", path.display()))?;
            }
        }
        None => {
            for c in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(c);
            }
        }
    }
    if roots.is_empty() {
        return Err("no trusted CA certificates (use --ca-file)".into());
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// Accepts any certificate: only with `--insecure`. Signatures are still checked so the
/// handshake itself is sound.
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls_pki_types::CertificateDer<'_>,
        _intermediates: &[rustls_pki_types::CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

impl SipFlow {
    /// Opens a flow: binds UDP (unconnected, so answers from any address are seen) or
    /// connects TCP and, for TLS, does the handshake checking the certificate against
    /// `server_name` (a host name or an IP literal). `local` binds our end.
    ///
    /// # Errors
    /// [`TransportError`]: refused, timed out, TLS failure.
    pub async fn open(
        transport: Transport,
        peer: SocketAddr,
        local: Option<SocketAddr>,
        server_name: &str,
        tls: &TlsOptions,
        timeout: Duration,
    ) -> Result<SipFlow, TransportError> {
        let io = |e: std::io::Error| TransportError::Io(e.to_string());
        if transport == Transport::Udp {
            let bind = local.unwrap_or_else(|| {
                SocketAddr::new(
                    if peer.is_ipv4() {
                        std::net::Ipv4Addr::UNSPECIFIED.into()
                    } else {
                        std::net::Ipv6Addr::UNSPECIFIED.into()
                    },
                    0,
                )
            });
            let socket = UdpSocket::bind(bind)
                .await
                .map_err(|e| TransportError::Io(format!("bind {bind}: {e}")))?;
            let mut local = socket.local_addr().map_err(io)?;
            if local.ip().is_unspecified() {
                local.set_ip(super::udp::route_source(peer).map_err(io)?);
            }
            return Ok(SipFlow {
                conn: Conn::Udp(socket),
                local,
                peer,
                transport,
                connect_time: None,
                tls_version: None,
            });
        }
        let started = Instant::now();
        let connect = async {
            let socket = if peer.is_ipv4() {
                TcpSocket::new_v4()
            } else {
                TcpSocket::new_v6()
            }
            .map_err(io)?;
            if let Some(l) = local {
                socket
                    .bind(l)
                    .map_err(|e| TransportError::Io(format!("bind {l}: {e}")))?;
            }
            let stream = socket.connect(peer).await.map_err(|e| match e.kind() {
                std::io::ErrorKind::ConnectionRefused => TransportError::Refused(peer),
                _ => TransportError::Io(format!("connect {peer}: {e}")),
            })?;
            stream.set_nodelay(true).map_err(io)?;
            let local = stream.local_addr().map_err(io)?;
            if transport == Transport::Tcp {
                return Ok::<_, TransportError>((Box::new(stream) as Box<dyn Stream>, local, None));
            }
            let config = tls_config(tls).map_err(|e| TransportError::Tls(peer, e))?;
            let name = rustls_pki_types::ServerName::try_from(
                server_name
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string(),
            )
            .map_err(|e| TransportError::Tls(peer, format!("bad server name: {e}")))?;
            let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
            let tls_stream = connector
                .connect(name, stream)
                .await
                .map_err(|e| TransportError::Tls(peer, e.to_string()))?;
            let version = tls_stream
                .get_ref()
                .1
                .protocol_version()
                .map(|v| format!("{v:?}"));
            Ok((Box::new(tls_stream) as Box<dyn Stream>, local, version))
        };
        let (io_stream, local, tls_version) = tokio::time::timeout(timeout, connect)
            .await
            .map_err(|_| TransportError::ConnectTimeout(peer, timeout))??;
        Ok(SipFlow {
            conn: Conn::Stream {
                io: io_stream,
                buf: Vec::new(),
            },
            local,
            peer,
            transport,
            connect_time: Some(started.elapsed()),
            tls_version,
        })
    }

    /// Sends one message.
    ///
    /// # Errors
    /// Socket errors.
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        match &mut self.conn {
            Conn::Udp(s) => {
                s.send_to(bytes, self.peer)
                    .await
                    .map(|_| ())
                    .map_err(|e| match e.kind() {
                        std::io::ErrorKind::ConnectionRefused => TransportError::Refused(self.peer),
                        _ => TransportError::Io(e.to_string()),
                    })
            }
            Conn::Stream { io, .. } => {
                io.write_all(bytes)
                    .await
                    .map_err(|e| TransportError::Io(e.to_string()))?;
                io.flush()
                    .await
                    .map_err(|e| TransportError::Io(e.to_string()))
            }
        }
    }

    /// Receives one whole message (a datagram, or one Content-Length-framed stream message)
    /// and where it came from. Waits forever: the caller bounds it.
    ///
    /// # Errors
    /// Socket errors, a closed stream, a stream that cannot be framed.
    pub async fn recv(&mut self) -> Result<(Vec<u8>, SocketAddr), TransportError> {
        match &mut self.conn {
            Conn::Udp(s) => {
                let mut buf = vec![0u8; 65_535];
                match s.recv_from(&mut buf).await {
                    Ok((n, from)) => Ok((buf[..n].to_vec(), from)),
                    // A late ICMP error from an earlier send: Linux reports it here.
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                        Err(TransportError::Refused(self.peer))
                    }
                    Err(e) => Err(TransportError::Io(e.to_string())),
                }
            }
            Conn::Stream { io, buf } => loop {
                // Drop keep-alive CRLFs between messages.
                while buf.starts_with(b"\r\n") {
                    buf.drain(..2);
                }
                match message::stream_frame_len(buf) {
                    Ok(Some(n)) => {
                        let msg: Vec<u8> = buf.drain(..n).collect();
                        return Ok((msg, self.peer));
                    }
                    Ok(None) if buf.len() > MAX_STREAM_MESSAGE => {
                        return Err(TransportError::Framing(
                            self.peer,
                            format!("no complete message in {} bytes", buf.len()),
                        ));
                    }
                    Ok(None) => {}
                    Err(e) => return Err(TransportError::Framing(self.peer, e.to_string())),
                }
                let mut chunk = [0u8; 16 * 1024];
                let n = io
                    .read(&mut chunk)
                    .await
                    .map_err(|e| TransportError::Io(e.to_string()))?;
                if n == 0 {
                    return Err(TransportError::Closed(self.peer));
                }
                buf.extend_from_slice(&chunk[..n]);
            },
        }
    }
}

/// One response as received, with its time since the first transmission.
#[derive(Debug, Clone)]
pub struct Received {
    /// Time since the request was first sent.
    pub at: Duration,
    /// The parsed response.
    pub message: Message,
    /// Raw size, bytes.
    pub bytes: usize,
}

/// What a transaction produced.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Provisional responses in order.
    pub provisional: Vec<Received>,
    /// The final response; `None` when Timer B/F fired.
    pub final_response: Option<Received>,
    /// Requests sent (1 + retransmissions).
    pub transmissions: u32,
    /// Messages received that did not match the transaction or did not parse.
    pub stray: u32,
}

/// Sends `request` and runs `tx` until a final response or its timeout, over `flow`.
/// `tracer` sees every message sent and received.
///
/// # Errors
/// Transport errors (refused, closed, …); a timeout is not an error but an [`Exchange`]
/// without a final response.
pub async fn transact(
    flow: &mut SipFlow,
    request: &[u8],
    mut tx: ClientTransaction,
    tracer: Option<Tracer<'_>>,
) -> Result<Exchange, TransportError> {
    let t0 = Instant::now();
    let trace = |dir, remote, bytes: &[u8], local| {
        if let Some(t) = tracer {
            t(dir, local, remote, bytes);
        }
    };
    trace(Direction::Sent, flow.peer, request, flow.local);
    flow.send(request).await?;
    let mut exchange = Exchange {
        provisional: Vec::new(),
        final_response: None,
        transmissions: 1,
        stray: 0,
    };
    while let Some(deadline) = tx.poll_timeout() {
        let received = tokio::select! {
            r = flow.recv() => Some(r?),
            () = tokio::time::sleep_until(deadline.into()) => None,
        };
        let now = Instant::now();
        match received {
            None => match tx.handle_timeout(now) {
                Some(Action::Retransmit) => {
                    trace(Direction::Sent, flow.peer, request, flow.local);
                    flow.send(request).await?;
                    exchange.transmissions += 1;
                }
                Some(Action::Timeout) | None => {}
            },
            Some((bytes, from)) => {
                trace(Direction::Received, from, &bytes, flow.local);
                let Ok(message) = Message::parse(&bytes) else {
                    exchange.stray += 1;
                    continue;
                };
                if !tx.matches(&message) {
                    exchange.stray += 1;
                    continue;
                }
                let status = message.status().unwrap_or(0);
                let rec = Received {
                    at: now - t0,
                    message,
                    bytes: bytes.len(),
                };
                match tx.handle_response(status) {
                    Outcome::Provisional(_) => exchange.provisional.push(rec),
                    Outcome::Final(_) => exchange.final_response = Some(rec),
                    Outcome::Duplicate => {}
                }
            }
        }
    }
    exchange.transmissions = exchange.transmissions.max(tx.transmissions);
    Ok(exchange)
}
