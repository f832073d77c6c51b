//! Other signalling that announces RTP endpoints in SDP: MGCP (RFC 3435) and text-encoded
//! MEGACO/H.248.

use std::net::SocketAddr;

use super::streams::find;

/// The SDP body of an MGCP message (RFC 3435 §3.1: commands like CRCX/MDCX and their
/// responses on ports 2427/2727), whose SDP also announces RTP endpoints.
pub(super) fn mgcp_sdp(src: SocketAddr, dst: SocketAddr, p: &[u8]) -> Option<&[u8]> {
    const VERBS: [&[u8]; 9] = [
        b"CRCX ", b"MDCX ", b"DLCX ", b"RQNT ", b"NTFY ", b"AUEP ", b"AUCX ", b"RSIP ", b"EPCF ",
    ];
    let on_port = [2427, 2727].contains(&src.port()) || [2427, 2727].contains(&dst.port());
    let is_mgcp = VERBS.iter().any(|v| p.starts_with(v))
        || (on_port && p.len() > 4 && p[..3].iter().all(u8::is_ascii_digit) && p[3] == b' ');
    if !is_mgcp {
        return None;
    }
    let body = find(p, b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| find(p, b"\n\n").map(|i| i + 2))?;
    p.get(body..).filter(|b| b.starts_with(b"v="))
}

/// The SDP descriptors inside a text-encoded MEGACO/H.248 message (ITU-T H.248.1 Annex B):
/// each `Local { … }` / `Remote { … }` body that starts with `v=`.
pub(super) fn megaco_sdps(p: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = p;
    while let Some(i) = find(rest, b"v=0") {
        let body = &rest[i..];
        let end = body.iter().position(|b| *b == b'}').unwrap_or(body.len());
        out.push(&body[..end]);
        rest = &body[end..];
    }
    out
}
