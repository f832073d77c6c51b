//! Opening SIP flows (RFC 3261 §18): an unconnected UDP socket (answers from any address are
//! seen), or a TCP connection with, for TLS, the handshake and the certificate checked
//! against the server's name — bounded by the timeout. The flow then belongs to the driver.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::driver::{self, ConnectSpec, Socket, TlsSpec};
use super::tls::TlsOptions;
use crate::machine::SocketId;
use crate::sip::endpoint::{Flow, FlowError};
use crate::sip::message;
use crate::sip::target::Transport;

/// An open flow: the socket for the driver and what the SIP endpoint needs to know of it.
#[derive(Debug)]
pub struct OpenFlow {
    /// The socket.
    pub socket: Socket,
    /// Transport, our address, the peer (with `socket` set by [`OpenFlow::flow`]).
    pub flow: Flow,
    /// Time to set up the connection (TCP handshake, plus TLS), if any.
    pub connect_time: Option<Duration>,
    /// TLS: the protocol version negotiated.
    pub tls_version: Option<String>,
}

impl OpenFlow {
    /// The endpoint's view of this flow as driver socket `socket`.
    pub fn flow(&self, socket: SocketId) -> Flow {
        Flow {
            socket,
            ..self.flow
        }
    }
}

/// Opens a flow to `peer` over `transport`, from `local` if given; for TLS the certificate is
/// checked against `server_name` (a host name or an IP literal). Must be called inside the
/// runtime.
///
/// # Errors
/// [`FlowError`]: refused, no connection within `timeout`, TLS failure, socket errors.
pub async fn open(
    transport: Transport,
    peer: SocketAddr,
    local: Option<SocketAddr>,
    server_name: &str,
    tls: &TlsOptions,
    timeout: Duration,
) -> Result<OpenFlow, FlowError> {
    if transport == Transport::Udp {
        let bind = local.unwrap_or_else(|| {
            SocketAddr::new(crate::addr::Family::of(peer.ip()).unspecified(), 0)
        });
        let socket =
            driver::bind_udp(bind).map_err(|e| FlowError::Io(format!("bind {bind}: {e}")))?;
        let mut local = socket
            .local_addr()
            .map_err(|e| FlowError::Io(e.to_string()))?;
        if local.ip().is_unspecified() {
            local.set_ip(driver::route_source(peer).map_err(|e| FlowError::Io(e.to_string()))?);
        }
        return Ok(OpenFlow {
            socket: Socket::Udp(socket),
            flow: Flow {
                socket: 0,
                transport,
                local,
                peer,
            },
            connect_time: None,
            tls_version: None,
        });
    }
    let spec = ConnectSpec {
        peer,
        local,
        tls: (transport == Transport::Tls).then(|| TlsSpec {
            server_name: server_name.to_string(),
            options: tls.clone(),
        }),
        framer: message::stream_framer,
    };
    let started = Instant::now();
    let (stream, conn) = tokio::time::timeout(timeout, driver::connect(&spec))
        .await
        .map_err(|_| FlowError::ConnectTimeout(peer, timeout))?
        .map_err(|e| FlowError::from_stream(peer, &e))?;
    Ok(OpenFlow {
        socket: Socket::Stream(stream),
        flow: Flow {
            socket: 0,
            transport,
            local: conn.local,
            peer,
        },
        connect_time: Some(started.elapsed()),
        tls_version: conn.tls_version,
    })
}
