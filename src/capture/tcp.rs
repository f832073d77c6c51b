//! TCP stream reassembly for one direction of a connection: in-order delivery of payload
//! bytes across out-of-order segments and retransmissions, with bounded memory.

use std::collections::BTreeMap;

/// Bytes buffered for out-of-order segments before we give up waiting for a lost one.
const MAX_OUT_OF_ORDER: usize = 1 << 20;
/// Contiguous bytes kept without the consumer taking any (e.g. a non-SIP stream).
const MAX_BUFFERED: usize = 4 << 20;

/// What a segment did to the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// New in-order bytes were appended (and perhaps buffered ones after them).
    Data,
    /// All of its bytes had been seen: a retransmission.
    Retransmission,
    /// It lies beyond a gap and is held.
    OutOfOrder,
    /// No payload.
    Empty,
}

/// One direction of a TCP connection.
#[derive(Debug, Default)]
pub struct Stream {
    next_seq: Option<u32>,
    data: Vec<u8>,
    pending: BTreeMap<u32, Vec<u8>>,
    pending_bytes: usize,
    /// Times a gap was skipped (a segment never arrived) or the buffer overflowed.
    pub gaps: u32,
}

fn seq_diff(a: u32, b: u32) -> i64 {
    i64::from(a.wrapping_sub(b) as i32)
}

impl Stream {
    /// Adds a segment with sequence number `seq` (the SYN's own number when `syn` is set).
    pub fn add(&mut self, seq: u32, syn: bool, payload: &[u8]) -> Segment {
        let seq = if syn { seq.wrapping_add(1) } else { seq };
        let next = *self.next_seq.get_or_insert(seq);
        if payload.is_empty() {
            return Segment::Empty;
        }
        let d = seq_diff(seq, next);
        if d > 0 {
            if self.pending_bytes + payload.len() > MAX_OUT_OF_ORDER {
                // The missing segment is not coming: skip the gap to the earliest held byte.
                self.gaps += 1;
                self.data.clear();
                self.pending_bytes += payload.len();
                self.pending.insert(seq, payload.to_vec());
                self.next_seq = self
                    .pending
                    .keys()
                    .copied()
                    .min_by_key(|k| seq_diff(*k, next));
                self.drain();
                return Segment::Data;
            }
            let e = self.pending.entry(seq).or_default();
            if e.len() < payload.len() {
                self.pending_bytes += payload.len() - e.len();
                *e = payload.to_vec();
            }
            return Segment::OutOfOrder;
        }
        let skip = usize::try_from(-d).unwrap_or(usize::MAX);
        if skip >= payload.len() {
            return Segment::Retransmission;
        }
        self.append(&payload[skip..]);
        self.drain();
        Segment::Data
    }

    fn append(&mut self, bytes: &[u8]) {
        if self.data.len() + bytes.len() > MAX_BUFFERED {
            self.gaps += 1;
            self.data.clear();
        }
        self.data.extend_from_slice(bytes);
        let next = self.next_seq.unwrap_or(0);
        self.next_seq = Some(next.wrapping_add(bytes.len() as u32));
    }

    fn drain(&mut self) {
        while let Some(next) = self.next_seq {
            let Some((&seq, _)) = self.pending.iter().find(|(s, _)| seq_diff(**s, next) <= 0)
            else {
                break;
            };
            let Some(seg) = self.pending.remove(&seq) else {
                break;
            };
            self.pending_bytes -= seg.len();
            let skip = usize::try_from(seq_diff(next, seq)).unwrap_or(0);
            if skip < seg.len() {
                self.append(&seg[skip..]);
            }
        }
    }

    /// Bytes of memory this direction holds (its buffer's capacity and the segments held
    /// beyond a gap).
    pub fn held_bytes(&self) -> usize {
        self.data.capacity() + self.pending_bytes
    }

    /// The contiguous bytes not yet consumed.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Removes `n` bytes from the front of [`Stream::data`].
    pub fn consume(&mut self, n: usize) {
        self.data.drain(..n.min(self.data.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_out_of_order_and_retransmitted() {
        let mut s = Stream::default();
        assert_eq!(s.add(999, true, b""), Segment::Empty);
        assert_eq!(s.add(1000, false, b"abc"), Segment::Data);
        assert_eq!(s.add(1006, false, b"ghi"), Segment::OutOfOrder);
        assert_eq!(s.add(1000, false, b"abc"), Segment::Retransmission);
        assert_eq!(s.data(), b"abc");
        assert_eq!(
            s.add(1002, false, b"cdef"),
            Segment::Data,
            "overlapping retransmission"
        );
        assert_eq!(s.data(), b"abcdefghi");
        s.consume(4);
        assert_eq!(s.data(), b"efghi");
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut s = Stream::default();
        s.add(u32::MAX - 1, false, b"ab");
        s.add(0, false, b"cd");
        assert_eq!(s.data(), b"abcd");
    }

    #[test]
    fn a_lost_segment_is_skipped_once_too_much_is_waiting() {
        let mut s = Stream::default();
        s.add(0, false, b"x");
        let big = vec![b'y'; 600 * 1024];
        assert_eq!(s.add(100, false, &big), Segment::OutOfOrder);
        assert_eq!(s.add(100 + big.len() as u32, false, &big), Segment::Data);
        assert_eq!(s.gaps, 1);
        assert_eq!(s.data().len(), 2 * big.len());
    }
}
