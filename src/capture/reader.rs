//! Streaming pcap and pcapng reading (pcap-parser): one frame at a time, memory bounded by
//! the read buffer, whatever the file size.

use std::io::Read;

use pcap_parser::pcapng::Block;
use pcap_parser::{PcapBlockOwned, PcapError, create_reader};

/// Initial read buffer; grown (up to [`MAX_BUFFER`], and never beyond what the file has
/// left) only for a single larger record.
const BUFFER: usize = 1 << 20;
/// Largest record we accept: Wireshark's largest frame is 256 KiB for most link types and
/// 128 MiB for none we decode; a pcapng block with options is not much more. Anything beyond
/// is corruption, and must not make us allocate it.
const MAX_BUFFER: usize = 1 << 24;

/// One captured frame.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// 1-based frame number, as Wireshark numbers them.
    pub number: u64,
    /// Capture time in nanoseconds since the Unix epoch.
    pub time_ns: i64,
    /// Link type of the interface (LINKTYPE_* value, e.g. 1 = Ethernet, 113 = Linux SLL).
    pub linktype: i32,
    /// The captured bytes (possibly cut short by the snap length).
    pub data: &'a [u8],
    /// The frame's length on the wire.
    pub orig_len: u32,
}

/// How reading ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The whole file was read.
    Complete,
    /// The file ends inside a record or a record is corrupt; frames before it were delivered.
    Truncated(String),
    /// `stop` returned true (e.g. on Ctrl-C); frames before were delivered.
    Interrupted,
}

/// Why a capture cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// Neither a pcap nor a pcapng header.
    #[error("not a pcap or pcapng file (unknown header)")]
    NotACapture,
    /// Nothing to read.
    #[error("the capture is empty")]
    Empty,
    /// The file could not be read.
    #[error("cannot read the capture: {0}")]
    Read(String),
}

struct Interface {
    linktype: i32,
    /// Timestamp units per second.
    resolution: u64,
    offset: i64,
}

/// Reads every frame of a pcap or pcapng stream, calling `on_frame` for each and
/// `on_progress` with the bytes consumed so far every few thousand frames; `stop` is asked
/// as often and ends reading with [`End::Interrupted`].
///
/// Errors: [`CaptureError`] when the header is not recognised or the input is empty; a
/// truncated or corrupt tail is not an error but [`End::Truncated`].
///
/// `size` is the input's length in bytes when known (a file): no record is believed to be
/// longer than what the file has left, so a corrupt length costs no memory.
pub fn read_frames<R: Read + Send>(
    input: R,
    size: Option<u64>,
    mut on_frame: impl FnMut(&Frame<'_>),
    mut on_progress: impl FnMut(u64),
    stop: impl Fn() -> bool,
) -> Result<End, CaptureError> {
    // A small file gets a small buffer (it is grown for a larger record if need be).
    let initial = size.map_or(BUFFER, |s| {
        usize::try_from(s).map_or(BUFFER, |s| s.clamp(64 * 1024, BUFFER))
    });
    let mut reader = match create_reader(initial, input) {
        Ok(r) => r,
        Err(PcapError::Eof) => return Err(CaptureError::Empty),
        Err(PcapError::ReadError) => return Err(CaptureError::Read("read failed".into())),
        Err(_) => return Err(CaptureError::NotACapture),
    };
    let mut legacy = Interface {
        linktype: 1,
        resolution: 1_000_000,
        offset: 0,
    };
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut number = 0u64;
    let mut capacity = initial;
    let mut stalled = false;
    // The next buffer size for a record that does not fit, or None when it cannot: the
    // buffer already holds all the file has left, or the largest record we accept.
    let next_capacity = |capacity: usize, consumed: usize| -> Option<usize> {
        let left = size.map_or(u64::MAX, |s| s.saturating_sub(consumed as u64));
        if capacity >= MAX_BUFFER || capacity as u64 >= left {
            return None;
        }
        let left = usize::try_from(left).unwrap_or(MAX_BUFFER);
        Some((capacity * 4).min(MAX_BUFFER).min(left))
    };
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                stalled = false;
                match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        legacy.linktype = h.network.0;
                        legacy.resolution = if h.is_nanosecond_precision() {
                            1_000_000_000
                        } else {
                            1_000_000
                        };
                    }
                    PcapBlockOwned::Legacy(b) => {
                        number += 1;
                        let len = (b.caplen as usize).min(b.data.len());
                        let frac =
                            i64::from(b.ts_usec) * (1_000_000_000 / legacy.resolution as i64);
                        on_frame(&Frame {
                            number,
                            time_ns: i64::from(b.ts_sec) * 1_000_000_000 + frac,
                            linktype: legacy.linktype,
                            data: &b.data[..len],
                            orig_len: b.origlen,
                        });
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => interfaces.clear(),
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interfaces.push(Interface {
                            linktype: idb.linktype.0,
                            resolution: idb.ts_resolution().unwrap_or(1_000_000).max(1),
                            offset: idb.ts_offset(),
                        });
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        number += 1;
                        let (linktype, time_ns) = match interfaces.get(epb.if_id as usize) {
                            Some(i) => {
                                let units = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                                let secs = (units / i.resolution) as i64 + i.offset;
                                let frac = (units % i.resolution) as i128 * 1_000_000_000
                                    / i128::from(i.resolution);
                                (i.linktype, secs * 1_000_000_000 + frac as i64)
                            }
                            None => (-1, 0),
                        };
                        let len = (epb.caplen as usize).min(epb.data.len());
                        on_frame(&Frame {
                            number,
                            time_ns,
                            linktype,
                            data: &epb.data[..len],
                            orig_len: epb.origlen,
                        });
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        number += 1;
                        let linktype = interfaces.first().map_or(-1, |i| i.linktype);
                        let len = (spb.origlen as usize).min(spb.data.len());
                        on_frame(&Frame {
                            number,
                            time_ns: 0,
                            linktype,
                            data: &spb.data[..len],
                            orig_len: spb.origlen,
                        });
                    }
                    PcapBlockOwned::NG(_) => {}
                }
                reader.consume(offset);
                if number.is_multiple_of(4096) {
                    on_progress(reader.consumed() as u64);
                    if stop() {
                        return Ok(End::Interrupted);
                    }
                }
            }
            Err(PcapError::Eof) => {
                on_progress(reader.consumed() as u64);
                return Ok(End::Complete);
            }
            Err(PcapError::Incomplete(_)) => {
                if reader.reader_exhausted() {
                    return Ok(End::Truncated(format!(
                        "the file ends inside a record after frame {number}"
                    )));
                }
                let before = reader.data().len();
                if reader.refill().is_err() {
                    return Ok(End::Truncated(format!("read error after frame {number}")));
                }
                if reader.data().len() == before && !reader.reader_exhausted() {
                    // The buffer is full and holds part of one record: make room.
                    match next_capacity(capacity, reader.consumed()).filter(|_| !stalled) {
                        Some(c) => {
                            capacity = c;
                            reader.grow(capacity);
                            stalled = true;
                        }
                        None => {
                            return Ok(End::Truncated(format!(
                                "record after frame {number} is larger than {capacity} bytes"
                            )));
                        }
                    }
                }
            }
            Err(PcapError::UnexpectedEof) => {
                return Ok(End::Truncated(format!(
                    "the file ends inside a record after frame {number}"
                )));
            }
            Err(PcapError::BufferTooSmall) => match next_capacity(capacity, reader.consumed()) {
                Some(c) => {
                    capacity = c;
                    reader.grow(capacity);
                }
                None => {
                    let left = size.map(|s| s.saturating_sub(reader.consumed() as u64));
                    return Ok(End::Truncated(match left {
                        Some(left) if left <= capacity as u64 => format!(
                            "record after frame {number} claims more than the {left} bytes the file has left"
                        ),
                        _ => format!(
                            "record after frame {number} is larger than any frame ({MAX_BUFFER} bytes)"
                        ),
                    }));
                }
            },
            Err(e) => {
                let what = match e {
                    PcapError::NomError(_, kind) => format!("{kind:?}"),
                    PcapError::OwnedNomError(_, kind) => format!("{kind:?}"),
                    PcapError::ReadError => "read error".into(),
                    _ => "unreadable block".into(),
                };
                return Ok(End::Truncated(format!(
                    "corrupt record after frame {number} ({what})"
                )));
            }
        }
    }
}

/// Bytes of frame data per batch handed from the reading thread to the analysing one.
const BATCH_BYTES: usize = 256 * 1024;
/// Batches in flight between the two threads (with the recycled ones, memory stays at about
/// `2 × BATCHES × BATCH_BYTES` whatever the file size).
const BATCHES: usize = 4;

/// Where one frame of a [`Batch`] is.
#[derive(Debug, Clone, Copy)]
struct FrameAt {
    number: u64,
    time_ns: i64,
    linktype: i32,
    orig_len: u32,
    start: usize,
    end: usize,
}

/// Frames copied out of the reader's buffer, in capture order.
#[derive(Debug, Default)]
struct Batch {
    data: Vec<u8>,
    frames: Vec<FrameAt>,
    /// Bytes of the input consumed after the batch's last frame (for progress).
    position: u64,
}

/// [`read_frames`] on two threads: a second thread reads and parses the records
/// (pcap-parser, and the kernel's copy out of the page cache) and hands the frames over in
/// batches; the calling thread runs `on_frame`. Frames reach `on_frame` in capture order,
/// with the same numbers, times and bytes, and reading ends the same way (the same
/// [`End`], truncation messages included), so whatever `on_frame` computes is what it
/// computes with [`read_frames`]; only the wall time differs. Memory is bounded by a few
/// batches of `BATCH_BYTES` (256 KiB), whatever the file size.
///
/// Errors: as [`read_frames`].
pub fn read_frames_threaded<R: Read + Send>(
    input: R,
    size: Option<u64>,
    mut on_frame: impl FnMut(&Frame<'_>),
    mut on_progress: impl FnMut(u64),
    stop: impl Fn() -> bool + Sync,
) -> Result<End, CaptureError> {
    use std::sync::mpsc::sync_channel;
    let (full_tx, full_rx) = sync_channel::<Batch>(BATCHES);
    let (empty_tx, empty_rx) = sync_channel::<Batch>(BATCHES + 2);
    std::thread::scope(|scope| {
        let stop = &stop;
        let reading = scope.spawn(move || {
            use std::cell::Cell;
            let mut batch = Batch::default();
            let last_position = Cell::new(0u64);
            let receiver_gone = Cell::new(false);
            // Hands a batch over and starts a recycled (or new) one; false when the
            // analysing side is gone.
            let send = |batch: &mut Batch, position: u64| -> bool {
                let fresh = empty_rx.try_recv().unwrap_or_default();
                let mut full = std::mem::replace(batch, fresh);
                full.position = position;
                full_tx.send(full).is_ok()
            };
            let end = read_frames(
                input,
                size,
                |f| {
                    if receiver_gone.get() {
                        return;
                    }
                    let start = batch.data.len();
                    batch.data.extend_from_slice(f.data);
                    batch.frames.push(FrameAt {
                        number: f.number,
                        time_ns: f.time_ns,
                        linktype: f.linktype,
                        orig_len: f.orig_len,
                        start,
                        end: batch.data.len(),
                    });
                    if batch.data.len() >= BATCH_BYTES {
                        receiver_gone.set(!send(&mut batch, last_position.get()));
                    }
                },
                |pos| last_position.set(pos),
                || receiver_gone.get() || stop(),
            );
            let _ = send(&mut batch, last_position.get());
            end
        });
        for mut batch in full_rx {
            for at in &batch.frames {
                on_frame(&Frame {
                    number: at.number,
                    time_ns: at.time_ns,
                    linktype: at.linktype,
                    data: &batch.data[at.start..at.end],
                    orig_len: at.orig_len,
                });
            }
            on_progress(batch.position);
            batch.data.clear();
            batch.frames.clear();
            let _ = empty_tx.try_send(batch);
        }
        reading
            .join()
            .unwrap_or_else(|_| Err(CaptureError::Read("the reading thread failed".into())))
    })
}
