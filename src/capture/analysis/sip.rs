//! SIP in a capture: every message recorded for the message list and the ladder, INVITE
//! dialogs with their timing, outcome and SDP (codecs, media endpoints, payload types), and
//! the NAT trouble signalling shows — private addresses sent from public ones, and the
//! fingerprints of a SIP ALG.

use std::net::{IpAddr, SocketAddr};

use super::{Analysis, Class, MAX_CALLS, MAX_MESSAGES};
use crate::addr::is_private_or_cgnat;
use crate::capture::reader::Frame;
use crate::diagnose::capture::{AlgSign, PrivateAddress, SignallingField};
use crate::rtp::codec::Codec;
use crate::sdp;
use crate::sip::message::{Message, NameAddr, StartLine};
use crate::sip::target::{Host, Target};

/// One SIP message, for the message list and the ladder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipRecord {
    /// Frame number of the (last) frame carrying it.
    pub frame: u64,
    /// Capture time (ns since the epoch).
    pub time_ns: i64,
    /// Source.
    pub src: SocketAddr,
    /// Destination.
    pub dst: SocketAddr,
    /// Transport name: UDP, TCP, WS, SCTP.
    pub transport: &'static str,
    /// `INVITE sip:bob@…` or `200 OK`.
    pub summary: String,
    /// Method (requests) or CSeq method (responses).
    pub method: String,
    /// Status code of responses.
    pub status: Option<u16>,
    /// Call-ID.
    pub call_id: String,
    /// Whether the message carried SDP.
    pub sdp: bool,
}

/// A dialog started by INVITE.
#[derive(Debug, Clone, Default)]
pub struct Call {
    /// Call-ID.
    pub call_id: String,
    /// From URI.
    pub from: String,
    /// To URI.
    pub to: String,
    /// Transport of the INVITE.
    pub transport: &'static str,
    /// Time of the first INVITE (ns).
    pub invite_ns: i64,
    /// Who sent the INVITE / who received it.
    pub caller: Option<SocketAddr>,
    /// See `caller`.
    pub callee: Option<SocketAddr>,
    /// First 180/183.
    pub ringing_ns: Option<i64>,
    /// First 2xx to INVITE.
    pub answer_ns: Option<i64>,
    /// BYE time and sender.
    pub bye_ns: Option<i64>,
    /// Sender of the BYE (or CANCEL).
    pub ended_from: Option<SocketAddr>,
    /// Whether CANCEL was sent.
    pub cancelled: bool,
    /// Last final status to an INVITE.
    pub final_status: Option<u16>,
    /// Codecs of the answer (else the offer), in order.
    pub codecs: Vec<String>,
    /// Media endpoint (RTP address:port) each side announced in SDP.
    pub caller_media: Option<SocketAddr>,
    /// See `caller_media`.
    pub callee_media: Option<SocketAddr>,
    /// Payload-type map from SDP.
    pub payloads: Vec<(u8, Codec)>,
    /// SIP messages in this dialog.
    pub messages: u64,
    /// Private/CGNAT addresses found in signalling from public sources.
    pub private_addresses: Vec<PrivateAddress>,
    /// Signs of a SIP ALG.
    pub alg_signs: Vec<AlgSign>,
    /// Media arriving from somewhere other than SDP said: (expected, actual).
    pub media_mismatch: Vec<(SocketAddr, SocketAddr)>,
}

impl Call {
    /// Who ended the call (sent BYE or CANCEL): `caller` when it came from the INVITE's
    /// sender (or its host, from another port), else `callee`; `None` when nobody did.
    pub fn ended_by(&self) -> Option<&'static str> {
        let from = self.ended_from?;
        if Some(from) == self.caller
            || (Some(from) != self.callee && self.caller.is_some_and(|a| a.ip() == from.ip()))
        {
            Some("caller")
        } else {
            Some("callee")
        }
    }
}

/// What SDP said an address:port receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MediaKind {
    Rtp,
    Rtcp,
    /// Not RTP (e.g. T.38 over UDPTL after a re-INVITE to fax).
    Other,
}

/// A media endpoint learned from SDP.
#[derive(Debug, Clone)]
pub(super) struct MediaEndpoint {
    pub(super) call: Option<usize>,
    pub(super) kind: MediaKind,
}

/// Entries kept per call in each list of signs (private addresses, ALG signs, media from
/// unexpected sources): enough to show the pattern.
const MAX_PER_CALL: usize = 16;

/// A peer's text cut to [`crate::text::MAX_TEXT`] characters.
fn clip(text: String) -> String {
    crate::text::clip(text).0
}

fn uri_of(v: Option<&str>) -> String {
    v.and_then(|v| NameAddr::parse(v).ok())
        .map(|n| n.uri)
        .unwrap_or_default()
}

/// The IP literal of a Via sent-by or a (Contact) URI, through the SIP target parser;
/// `None` for host names.
fn host_ip(uri_or_host: &str) -> Option<IpAddr> {
    let s = uri_or_host
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    match s.parse::<Target>().ok()?.host {
        Host::Ip(ip) => Some(ip),
        Host::Name(_) => None,
    }
}

impl Analysis {
    pub(super) fn sip(
        &mut self,
        f: &Frame<'_>,
        src: SocketAddr,
        dst: SocketAddr,
        transport: &'static str,
        bytes: &[u8],
    ) -> Class {
        let m = match Message::parse(bytes) {
            Ok(m) => m,
            Err(e) => return self.malformed(format!("SIP: {e}")),
        };
        self.sip_messages += 1;
        let call_id = m.header("Call-ID").unwrap_or("").to_string();
        let cseq_method = m.cseq().map(|(_, meth)| meth).unwrap_or_default();
        let is_sdp = !m.body.is_empty()
            && m.header("Content-Type")
                .is_none_or(|t| t.to_ascii_lowercase().contains("sdp"))
            && m.body.starts_with(b"v=");
        let (summary, method, status) = match &m.start {
            StartLine::Request { method, uri } => {
                *self.sip_requests.entry(method.clone()).or_default() += 1;
                (format!("{method} {uri}"), method.clone(), None)
            }
            StartLine::Response { code, reason } => {
                *self.sip_responses.entry(*code).or_default() += 1;
                (format!("{code} {reason}"), cseq_method.clone(), Some(*code))
            }
        };
        if self.messages.len() < MAX_MESSAGES {
            self.messages.push(SipRecord {
                frame: f.number,
                time_ns: f.time_ns,
                src,
                dst,
                transport,
                summary: clip(summary),
                method: clip(method.clone()),
                status,
                call_id: clip(call_id.clone()),
                sdp: is_sdp,
            });
        }
        // Dialog tracking for INVITE dialogs.
        let idx = match self.call_index.get(&call_id) {
            Some(i) => *i,
            None if status.is_none() && method == "INVITE" && self.calls.len() >= MAX_CALLS => {
                self.not_kept.call_invites += 1;
                return Class::Decoded;
            }
            None if status.is_none() && method == "INVITE" => {
                self.calls.push(Call {
                    call_id: clip(call_id.clone()),
                    from: clip(uri_of(m.header("From"))),
                    to: clip(uri_of(m.header("To"))),
                    transport,
                    invite_ns: f.time_ns,
                    caller: Some(src),
                    callee: Some(dst),
                    ..Call::default()
                });
                self.call_index.insert(call_id, self.calls.len() - 1);
                self.calls.len() - 1
            }
            None => return Class::Decoded,
        };
        self.signalling_addresses(idx, src, &m);
        let from_caller = self.calls[idx].caller.is_some_and(|c| c.ip() == src.ip())
            && self.calls[idx].caller != Some(dst);
        let call = &mut self.calls[idx];
        call.messages += 1;
        match (status, method.as_str()) {
            (None, "BYE") if call.bye_ns.is_none() => {
                call.bye_ns = Some(f.time_ns);
                call.ended_from = Some(src);
            }
            (None, "CANCEL") => {
                call.cancelled = true;
                call.ended_from.get_or_insert(src);
            }
            (Some(code), "INVITE") => {
                if (180..=183).contains(&code) && call.ringing_ns.is_none() {
                    call.ringing_ns = Some(f.time_ns);
                }
                if (200..300).contains(&code) && call.answer_ns.is_none() {
                    call.answer_ns = Some(f.time_ns);
                }
                if code >= 200 {
                    call.final_status = Some(code);
                }
            }
            _ => {}
        }
        if is_sdp && let Ok(session) = sdp::parse(&m.body) {
            self.learn_sdp(idx, from_caller, &session);
        }
        Class::Decoded
    }

    fn learn_sdp(&mut self, idx: usize, from_caller: bool, s: &sdp::Session) {
        self.register_media(Some(idx), s);
        let Some(media) = s.first_rtp() else { return };
        let call = &mut self.calls[idx];
        for (pt, c) in &media.formats {
            if let Some(c) = c
                && !call.payloads.iter().any(|(p, _)| p == pt)
            {
                call.payloads.push((*pt, c.clone()));
            }
        }
        let names = media.format_names();
        if !from_caller || call.codecs.is_empty() {
            call.codecs = names;
        }
        for m in s
            .media
            .iter()
            .filter(|m| m.port != 0 && m.proto.contains("RTP") && m.media == media.media)
        {
            if let Some(ip) = m.address {
                if from_caller {
                    call.caller_media = Some(SocketAddr::new(ip, m.port));
                } else {
                    call.callee_media = Some(SocketAddr::new(ip, m.port));
                }
            }
        }
    }

    /// Remembers which address:port receives RTP, RTCP or something else (T.38) per SDP.
    pub(super) fn register_media(&mut self, call: Option<usize>, s: &sdp::Session) {
        for m in s.media.iter().filter(|m| m.port != 0) {
            let Some(ip) = m.address else { continue };
            let rtp = SocketAddr::new(ip, m.port);
            if !m.proto.contains("RTP") {
                self.endpoints.insert(
                    rtp,
                    MediaEndpoint {
                        call,
                        kind: MediaKind::Other,
                    },
                );
                continue;
            }
            let rtcp = SocketAddr::new(ip, m.rtcp_port);
            self.endpoints.insert(
                rtp,
                MediaEndpoint {
                    call,
                    kind: MediaKind::Rtp,
                },
            );
            if rtcp != rtp {
                self.endpoints.insert(
                    rtcp,
                    MediaEndpoint {
                        call,
                        kind: MediaKind::Rtcp,
                    },
                );
            }
        }
    }

    /// PRIVATE_ADDRESS_IN_SIGNALLING and ALG signs for one message from `src`.
    fn signalling_addresses(&mut self, idx: usize, src: SocketAddr, m: &Message) {
        if is_private_or_cgnat(src.ip()) || src.ip().is_loopback() {
            return;
        }
        let mut found: Vec<(SignallingField, IpAddr)> = Vec::new();
        if let Some(v) = m.top_via()
            && let Some(ip) = host_ip(&v.host)
        {
            found.push((SignallingField::Via, ip));
        }
        if let Some(c) = m.header("Contact")
            && let Some(ip) = NameAddr::parse(c).ok().and_then(|n| host_ip(&n.uri))
        {
            found.push((SignallingField::Contact, ip));
        }
        let is_request = matches!(m.start, StartLine::Request { .. });
        let mut sdp_o = None;
        let mut sdp_c = None;
        if m.body.starts_with(b"v=")
            && let Ok(s) = sdp::parse(&m.body)
        {
            sdp_o = s
                .origin_address
                .as_deref()
                .and_then(|a| a.parse::<IpAddr>().ok());
            sdp_c = s.first_rtp().and_then(|m| m.address);
            if let Some(ip) = sdp_c {
                found.push((SignallingField::SdpConnection, ip));
            }
        }
        let call = &mut self.calls[idx];
        for &(field, address) in &found {
            // A Via in a response was written by the request's sender: only requests count.
            if field == SignallingField::Via && !is_request {
                continue;
            }
            if is_private_or_cgnat(address)
                && call.private_addresses.len() < MAX_PER_CALL
                && !call
                    .private_addresses
                    .iter()
                    .any(|p| p.field == field && p.address == address)
            {
                call.private_addresses.push(PrivateAddress {
                    field,
                    address,
                    sent_from: src.ip(),
                });
            }
        }
        // An ALG rewrites c= to the public address and often leaves o= untouched.
        if let (Some(o), Some(c)) = (sdp_o, sdp_c)
            && is_private_or_cgnat(o)
            && c == src.ip()
        {
            let sign = AlgSign::SdpRewritten {
                from: src.ip(),
                connection: c,
                origin: o,
            };
            if call.alg_signs.len() < MAX_PER_CALL && !call.alg_signs.contains(&sign) {
                call.alg_signs.push(sign);
            }
        }
        if is_request
            && let Some(v) = m.top_via()
            && let Some(via_ip) = host_ip(&v.host)
            && via_ip == src.ip()
            && let Some(&(_, cip)) = found.iter().find(|(w, _)| *w == SignallingField::Contact)
            && is_private_or_cgnat(cip)
        {
            let sign = AlgSign::ViaRewritten {
                from: src.ip(),
                via: via_ip,
                contact: cip,
            };
            if call.alg_signs.len() < MAX_PER_CALL && !call.alg_signs.contains(&sign) {
                call.alg_signs.push(sign);
            }
        }
    }

    /// MEDIA_SOURCE_MISMATCH: RTP to one side's SDP endpoint from somewhere other than the
    /// other side's SDP endpoint.
    pub(super) fn check_media_source(&mut self, c: usize, src: SocketAddr, dst: SocketAddr) {
        let call = &mut self.calls[c];
        let expected = if Some(dst) == call.caller_media {
            call.callee_media
        } else if Some(dst) == call.callee_media {
            call.caller_media
        } else {
            None
        };
        if let Some(exp) = expected
            && exp != src
            && !exp.ip().is_unspecified()
            && call.media_mismatch.len() < MAX_PER_CALL
            && !call.media_mismatch.iter().any(|(_, a)| *a == src)
        {
            call.media_mismatch.push((exp, src));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_ip_reads_via_and_uris() {
        assert_eq!(host_ip("10.0.0.1:5060"), "10.0.0.1".parse().ok());
        assert_eq!(
            host_ip("sip:alice@192.168.1.2:5062;transport=udp"),
            "192.168.1.2".parse().ok()
        );
        assert_eq!(
            host_ip("<sip:bob@[2001:db8::1]:5060>"),
            "2001:db8::1".parse().ok()
        );
        assert_eq!(host_ip("sip:example.com"), None);
    }
}
