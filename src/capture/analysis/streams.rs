//! Streams in a capture: TCP directions reassembled and cut into SIP (Content-Length), STUN
//! (length field) or WebSocket frames (RFC 6455) carrying SIP; a capture that starts in the
//! middle of a message resynchronises on the next start line.

use std::net::SocketAddr;

use super::{Analysis, Class};
use crate::capture::reader::Frame;
use crate::capture::tcp;
use crate::sip::message::looks_like_start;
use crate::stun::message as stunmsg;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TcpKind {
    Unknown,
    Sip,
    WebSocket { upgraded: bool },
    Stun,
    Other,
}

#[derive(Debug)]
pub(super) struct TcpFlow {
    kind: TcpKind,
    stream: tcp::Stream,
}

impl Analysis {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn tcp_segment(
        &mut self,
        f: &Frame<'_>,
        src: SocketAddr,
        dst: SocketAddr,
        seq: u32,
        syn: bool,
        fin: bool,
        p: &[u8],
    ) -> Class {
        let key = (src, dst);
        if !self.tcp.contains_key(&key) {
            // Room for a new direction: the oldest go (their bytes with them).
            while self.tcp.len() >= super::MAX_TCP_FLOWS {
                let Some((_, old)) = self.tcp.evict_oldest() else {
                    break;
                };
                self.tcp_bytes -= old.stream.held_bytes().min(self.tcp_bytes);
            }
        }
        let flow = self.tcp.get_or_insert_with(key, || TcpFlow {
            kind: TcpKind::Unknown,
            stream: tcp::Stream::default(),
        });
        if flow.kind == TcpKind::Other {
            if fin {
                self.forget_tcp(key);
            }
            return Class::Ignored;
        }
        let before = flow.stream.held_bytes();
        let seg = flow.stream.add(seq, syn, p);
        let had_payload = !p.is_empty();
        let mut class = if had_payload && flow.kind != TcpKind::Unknown {
            Class::Decoded
        } else {
            Class::Ignored
        };
        if seg == tcp::Segment::Data
            && let Some(c) = self.drain_tcp(f, key)
        {
            class = c;
        }
        let after = self.tcp.get(&key).map_or(0, |f| f.stream.held_bytes());
        self.tcp_bytes = (self.tcp_bytes + after).saturating_sub(before);
        if fin {
            self.forget_tcp(key);
        }
        // All directions together stay within the byte budget, oldest dropped first.
        while self.tcp_bytes > super::MAX_TCP_BYTES {
            let Some((_, old)) = self.tcp.evict_oldest() else {
                self.tcp_bytes = 0;
                break;
            };
            self.tcp_bytes -= old.stream.held_bytes().min(self.tcp_bytes);
        }
        class
    }

    /// Drops a TCP direction that ended (FIN), with the bytes it held.
    fn forget_tcp(&mut self, key: (SocketAddr, SocketAddr)) {
        if let Some(old) = self.tcp.remove(&key) {
            self.tcp_bytes -= old.stream.held_bytes().min(self.tcp_bytes);
        }
    }

    /// Takes whole messages out of a TCP direction's buffer. Returns the class of the frame
    /// when something was decided about it.
    fn drain_tcp(&mut self, f: &Frame<'_>, key: (SocketAddr, SocketAddr)) -> Option<Class> {
        let (src, dst) = key;
        let mut class = None;
        for _ in 0..10_000 {
            let flow = self.tcp.get_mut(&key)?;
            let data = flow.stream.data();
            if data.is_empty() {
                break;
            }
            match flow.kind {
                TcpKind::Unknown => {
                    if looks_like_start(data) {
                        flow.kind = TcpKind::Sip;
                    } else if data.starts_with(b"GET ") || data.starts_with(b"HTTP/1.1 101") {
                        let head = String::from_utf8_lossy(&data[..data.len().min(2048)])
                            .to_ascii_lowercase();
                        flow.kind = if head.contains("websocket") {
                            TcpKind::WebSocket { upgraded: false }
                        } else {
                            TcpKind::Other
                        };
                    } else if data.len() >= 20
                        && data[0] < 4
                        && stunmsg::stream_frame_len(data).is_some_and(|n| {
                            n <= data.len() && stunmsg::looks_like_stun(&data[..n])
                        })
                    {
                        flow.kind = TcpKind::Stun;
                    } else if let Some(pos) = find_start(data) {
                        // The capture began inside a message: resynchronise on a start line.
                        flow.stream.consume(pos);
                        flow.kind = TcpKind::Sip;
                    } else {
                        flow.kind = TcpKind::Other;
                        flow.stream.consume(usize::MAX);
                        return Some(Class::Ignored);
                    }
                    class = Some(Class::Decoded);
                }
                TcpKind::Other => {
                    flow.stream.consume(usize::MAX);
                    break;
                }
                TcpKind::Sip => match crate::sip::message::stream_frame_len(data) {
                    Ok(Some(n)) => {
                        let msg = data[..n].to_vec();
                        flow.stream.consume(n);
                        class = Some(self.sip(f, src, dst, "TCP", &msg));
                    }
                    Ok(None) => break,
                    Err(e) => {
                        // Unframeable: drop to the next start line, or everything.
                        let skip = find_start(&data[1..]).map_or(usize::MAX, |p| p + 1);
                        flow.stream.consume(skip);
                        class = Some(self.malformed(format!("SIP over TCP: {e}")));
                    }
                },
                TcpKind::Stun => match stunmsg::stream_frame_len(data) {
                    Some(n) if n <= data.len() => {
                        let msg = data[..n].to_vec();
                        flow.stream.consume(n);
                        class = Some(if stunmsg::looks_like_stun(&msg) {
                            self.stun_message(f, src, dst, "TCP", &msg)
                        } else {
                            self.malformed("STUN over TCP: bad header".into())
                        });
                    }
                    _ => break,
                },
                TcpKind::WebSocket { upgraded: false } => {
                    let Some(end) = find(data, b"\r\n\r\n") else {
                        break;
                    };
                    flow.stream.consume(end + 4);
                    flow.kind = TcpKind::WebSocket { upgraded: true };
                    class = Some(Class::Decoded);
                }
                TcpKind::WebSocket { upgraded: true } => match ws_frame(data) {
                    WsFrame::Need => break,
                    WsFrame::Bad => {
                        flow.stream.consume(usize::MAX);
                        class = Some(self.malformed("WebSocket frame header".into()));
                    }
                    WsFrame::Frame { len, payload } => {
                        flow.stream.consume(len);
                        class = Some(if looks_like_start(&payload) {
                            self.sip(f, src, dst, "WS", &payload)
                        } else {
                            Class::Decoded
                        });
                    }
                },
            }
        }
        class
    }
}

pub(super) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The first line start (after a LF) in `data` where a SIP message begins.
fn find_start(data: &[u8]) -> Option<usize> {
    let window = &data[..data.len().min(64 * 1024)];
    if looks_like_start(window) {
        return Some(0);
    }
    window
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
        .find(|&i| i < window.len() && looks_like_start(&window[i..]))
}

enum WsFrame {
    Need,
    Bad,
    Frame { len: usize, payload: Vec<u8> },
}

/// One WebSocket frame (RFC 6455 §5.2), unmasked.
fn ws_frame(d: &[u8]) -> WsFrame {
    if d.len() < 2 {
        return WsFrame::Need;
    }
    let masked = d[1] & 0x80 != 0;
    let (len, mut off) = match d[1] & 0x7f {
        126 => match d.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return WsFrame::Need,
        },
        127 => match d.get(2..10) {
            Some(b) => (u64::from_be_bytes(b.try_into().unwrap_or([0; 8])), 10),
            None => return WsFrame::Need,
        },
        n => (u64::from(n), 2),
    };
    if len > 1 << 24 {
        return WsFrame::Bad;
    }
    let mask = if masked {
        let Some(k) = d.get(off..off + 4) else {
            return WsFrame::Need;
        };
        off += 4;
        Some([k[0], k[1], k[2], k[3]])
    } else {
        None
    };
    let end = off + len as usize;
    let Some(body) = d.get(off..end) else {
        return WsFrame::Need;
    };
    let payload = match mask {
        Some(k) => body.iter().enumerate().map(|(i, b)| b ^ k[i % 4]).collect(),
        None => body.to_vec(),
    };
    WsFrame::Frame { len: end, payload }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_frames_are_unmasked() {
        let text = b"OPTIONS sip:a SIP/2.0\r\n\r\n";
        let key = [1u8, 2, 3, 4];
        let mut f = vec![0x81, 0x80 | text.len() as u8];
        f.extend_from_slice(&key);
        f.extend(text.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        match ws_frame(&f) {
            WsFrame::Frame { len, payload } => {
                assert_eq!(len, f.len());
                assert_eq!(payload, text);
            }
            _ => panic!("frame expected"),
        }
        assert!(matches!(ws_frame(&f[..5]), WsFrame::Need));
    }

    #[test]
    fn resynchronises_on_a_start_line() {
        let d = b"tail of a body\r\nINVITE sip:x@y SIP/2.0\r\n";
        assert_eq!(find_start(d), Some(16));
        assert_eq!(find_start(b"no sip here\r\n"), None);
    }
}
