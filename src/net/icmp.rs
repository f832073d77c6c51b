//! ICMP errors on unconnected UDP sockets (Linux `IP_RECVERR` / `IPV6_RECVERR`).
//!
//! Without these options Linux reports ICMP errors only on connected sockets; the STUN probe
//! must stay unconnected because RFC 5780 answers come from other addresses. With them, a
//! failed `recv_from` is followed by reading the socket's error queue, which names the
//! original destination and the ICMP type/code.
//!
//! Linux only: elsewhere [`enable_recv_err`] fails with `ENOPROTOOPT`, the error queue is
//! always empty, and waits end on their timeout instead of early on ICMP errors.

use std::net::{IpAddr, SocketAddr};
#[cfg(target_os = "linux")]
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsFd, AsRawFd};

#[cfg(target_os = "linux")]
use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, SockaddrLike, SockaddrStorage, recvmsg, setsockopt, sockopt,
};

/// One ICMP error read from a socket's error queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpError {
    /// Destination of the datagram that provoked the error.
    pub destination: Option<SocketAddr>,
    /// The router or host that sent the ICMP message.
    pub offender: Option<IpAddr>,
    /// Human description, e.g. "ICMP port unreachable from 192.0.2.10".
    pub description: String,
}

/// Turns on extended error reporting for a UDP socket. Failure is not fatal: the probe then
/// only sees timeouts.
#[cfg(target_os = "linux")]
pub fn enable_recv_err<F: AsFd>(fd: &F, ipv6: bool) -> nix::Result<()> {
    if ipv6 {
        setsockopt(fd, sockopt::Ipv6RecvErr, &true)
    } else {
        setsockopt(fd, sockopt::Ipv4RecvErr, &true)
    }
}

/// Not Linux: no error queue (`ENOPROTOOPT`); waits end on their timeout.
#[cfg(not(target_os = "linux"))]
pub fn enable_recv_err<F: AsFd>(_fd: &F, _ipv6: bool) -> nix::Result<()> {
    Err(nix::errno::Errno::ENOPROTOOPT)
}

/// Not Linux: nothing is ever queued.
#[cfg(not(target_os = "linux"))]
pub fn drain_error_queue<F: AsRawFd>(_fd: &F) -> Vec<IcmpError> {
    Vec::new()
}

/// Drains the socket's error queue (non-blocking) and returns what it held.
#[cfg(target_os = "linux")]
pub fn drain_error_queue<F: AsRawFd>(fd: &F) -> Vec<IcmpError> {
    let mut out = Vec::new();
    for _ in 0..64 {
        let mut buf = [0u8; 1500];
        let mut iov = [std::io::IoSliceMut::new(&mut buf)];
        let mut cmsg = nix::cmsg_space!(nix::libc::sock_extended_err, nix::libc::sockaddr_in6);
        let Ok(msg) = recvmsg::<SockaddrStorage>(
            fd.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT,
        ) else {
            break;
        };
        let destination = msg.address.as_ref().and_then(storage_to_std);
        let Ok(cmsgs) = msg.cmsgs() else { break };
        for c in cmsgs {
            let (err, offender) = match c {
                ControlMessageOwned::Ipv4RecvErr(e, off) => (
                    e,
                    off.map(|a| IpAddr::V4(Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)))),
                ),
                ControlMessageOwned::Ipv6RecvErr(e, off) => (
                    e,
                    off.map(|a| IpAddr::V6(Ipv6Addr::from(a.sin6_addr.s6_addr))),
                ),
                _ => continue,
            };
            out.push(IcmpError {
                destination,
                offender,
                description: describe(err.ee_origin, err.ee_type, err.ee_code, offender),
            });
        }
    }
    out
}

#[cfg(target_os = "linux")]
fn storage_to_std(s: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = s.as_sockaddr_in() {
        return Some(SocketAddr::from((v4.ip(), v4.port())));
    }
    if let Some(v6) = s.as_sockaddr_in6() {
        return Some(SocketAddr::from((v6.ip(), v6.port())));
    }
    let _ = s.family();
    None
}

#[cfg(target_os = "linux")]
fn describe(origin: u8, kind: u8, code: u8, offender: Option<IpAddr>) -> String {
    const SO_EE_ORIGIN_ICMP: u8 = 2;
    let from = offender.map(|o| format!(" from {o}")).unwrap_or_default();
    let what = if origin == SO_EE_ORIGIN_ICMP {
        match (kind, code) {
            (3, 0) => "ICMP network unreachable".to_string(),
            (3, 1) => "ICMP host unreachable".to_string(),
            (3, 3) => "ICMP port unreachable".to_string(),
            (3, 9 | 10 | 13) => "ICMP administratively prohibited".to_string(),
            (3, c) => format!("ICMP destination unreachable (code {c})"),
            (11, _) => "ICMP time exceeded".to_string(),
            (t, c) => format!("ICMP type {t} code {c}"),
        }
    } else {
        // ICMPv6 (origin 3): type 1 = destination unreachable, code 4 = port unreachable.
        match (kind, code) {
            (1, 4) => "ICMPv6 port unreachable".to_string(),
            (1, 0) => "ICMPv6 no route to destination".to_string(),
            (1, 1) => "ICMPv6 administratively prohibited".to_string(),
            (1, 3) => "ICMPv6 address unreachable".to_string(),
            (t, c) => format!("ICMPv6 type {t} code {c}"),
        }
    };
    format!("{what}{from}")
}
