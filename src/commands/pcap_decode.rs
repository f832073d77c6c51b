//! `pcap-decode`: read a capture file (or stdin), run the VoIP analysis over every frame,
//! report calls, streams, STUN and findings. Reading runs on a blocking thread; Ctrl-C stops
//! it and the report covers what was read.

use std::fs::File;
use std::io::{IsTerminal, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::anyhow;

use super::{CommandError, Env};
use crate::capture::analysis::{Analysis, Options, RtpStream};
use crate::capture::reader::{CaptureError, End, Frame, read_frames, read_frames_threaded};
use crate::cli::{GlobalArgs, PcapDecodeArgs, PcapView};
use crate::report::Report;
use crate::report::pcap_decode::{
    CallReport, MalformedReason, MessageReport, PcapDecodeResult, SipCounts, Span, Ssrc,
    StreamReport, Time, View, findings, status,
};
use crate::rtp::stats::round3;

/// Regular files from this size up are read on a second thread by default (`--threads`):
/// below it the thread's start costs more than it saves.
const TWO_THREADS_FROM: u64 = 64 << 20;

/// Whether to read on a second thread: as `--threads` says, else for a regular file of
/// [`TWO_THREADS_FROM`] bytes or more (`size`; `None` for stdin and pipes) on a machine with
/// two cores or more.
fn two_threads(threads: Option<u16>, size: Option<u64>, cores: usize) -> bool {
    match threads {
        Some(n) => n > 1,
        None => size.is_some_and(|s| s >= TWO_THREADS_FROM) && cores > 1,
    }
}

/// Runs the command.
///
/// Errors: [`CommandError::Usage`] for a missing file, a file that is not a capture, or an
/// unknown `--call-id`.
pub async fn run(
    global: &GlobalArgs,
    args: &PcapDecodeArgs,
) -> Result<Report<PcapDecodeResult>, CommandError> {
    if let Some(msg) = args.network_option_given() {
        return Err(CommandError::Usage(msg));
    }
    let env = Env::new(global);
    let (input, size): (Box<dyn Read + Send>, Option<u64>) = if args.file == "-" {
        (Box::new(std::io::stdin()), None)
    } else {
        let f = File::open(&args.file)
            .map_err(|e| CommandError::Usage(format!("cannot open {}: {e}", args.file)))?;
        let meta = f.metadata().ok();
        if meta.as_ref().is_some_and(std::fs::Metadata::is_dir) {
            return Err(CommandError::Usage(format!(
                "{} is a directory; pcap-decode reads one capture file (pcap or pcapng)",
                args.file
            )));
        }
        let size = meta.map(|m| m.len());
        // No BufReader: pcap-parser reads into its own 1 MiB buffer. (A mapped file would
        // save the kernel's copy, a third of the single-threaded time, but its pages count as
        // resident memory: 520 MB on the benchmark capture instead of 11 MiB.)
        (Box::new(f), size)
    };
    let show_progress = !global.json && std::io::stderr().is_terminal();
    let progress = show_progress.then(|| {
        let pb = match size {
            Some(n) => indicatif::ProgressBar::new(n).with_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} decoding {bytes}/{total_bytes} {wide_bar} {bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            ),
            None => indicatif::ProgressBar::new_spinner().with_message("decoding stdin…"),
        };
        pb.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(8));
        pb
    });

    let stop = Arc::new(AtomicBool::new(false));
    let opts = Options {
        rtp_heuristics: args.rtp_heuristics,
    };
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let two_threads = two_threads(args.threads, size, cores);
    let worker = {
        let stop = Arc::clone(&stop);
        let pb = progress.clone();
        tokio::task::spawn_blocking(move || {
            let mut analysis = Analysis::new(opts);
            let on_progress = |pos| {
                if let Some(pb) = &pb {
                    pb.set_position(pos);
                }
            };
            let stopped = || stop.load(Ordering::Relaxed);
            let on_frame = |f: &Frame<'_>| analysis.frame(f);
            let end = if two_threads {
                read_frames_threaded(input, size, on_frame, on_progress, stopped)
            } else {
                read_frames(input, size, on_frame, on_progress, stopped)
            };
            (analysis, end)
        })
    };
    tokio::pin!(worker);
    let mut interrupt = env.interrupt.clone();
    let joined = tokio::select! {
        r = &mut worker => r,
        () = interrupt.pressed() => {
            stop.store(true, Ordering::Relaxed);
            worker.await
        }
    };
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    let (mut analysis, end) =
        joined.map_err(|e| CommandError::Internal(anyhow!("decoder thread: {e}")))?;
    match end {
        Ok(End::Complete) => {}
        Ok(End::Truncated(why)) => analysis.set_truncated(why),
        Ok(End::Interrupted) => {
            analysis.truncated = Some("interrupted (Ctrl-C) before the end of the file".into())
        }
        Err(CaptureError::Read(e)) => {
            return Err(CommandError::Usage(format!("{}: {e}", args.file)));
        }
        Err(e) => return Err(CommandError::Usage(format!("{}: {e}", args.file))),
    }
    analysis.finish();

    let view = match args.view {
        PcapView::Summary => View::Summary,
        PcapView::Messages => View::Messages,
        PcapView::Ladder => View::Ladder,
        PcapView::Streams => View::Streams,
    };
    if view == View::Ladder
        && let Some(id) = &args.call_id
        && !analysis.messages.iter().any(|m| &m.call_id == id)
    {
        let known: Vec<&str> = analysis
            .calls
            .iter()
            .map(|c| c.call_id.as_str())
            .take(10)
            .collect();
        return Err(CommandError::Usage(format!(
            "no SIP message with Call-ID {id} in {}; calls in it: {}",
            args.file,
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    }
    let mut result = result(args.file.clone(), &analysis, view, args.call_id.clone());
    result.heuristics = args.rtp_heuristics;
    let found = findings(&crate::capture::findings::diagnose(&analysis), &result);
    let st = status(&found);
    Ok(env.report("pcap-decode", st, found, result))
}

/// The typed result of a finished analysis: calls, streams (with their RTP quality), SIP
/// and STUN messages, counts. Values move as they are; the report renders them.
fn result(
    file: String,
    a: &Analysis,
    view: View,
    ladder_call_id: Option<String>,
) -> PcapDecodeResult {
    let first_ns = a.first_ns.unwrap_or(0);
    let ms_between = |from: i64, to: i64| round3((to - from) as f64 / 1e6);
    let streams: Vec<StreamReport> = a.streams.iter().map(|s| stream(a, s)).collect();
    let calls = a
        .calls
        .iter()
        .enumerate()
        .map(|(i, c)| CallReport {
            call_id: c.call_id.clone(),
            from: c.from.clone(),
            to: c.to.clone(),
            start: Time(c.invite_ns),
            post_dial_delay_ms: c.ringing_ns.map(|t| ms_between(c.invite_ns, t)),
            answer_ms: c.answer_ns.map(|t| ms_between(c.invite_ns, t)),
            duration_s: match (c.answer_ns, c.bye_ns) {
                (Some(a), Some(b)) => Some(round3((b - a) as f64 / 1e9)),
                _ => None,
            },
            final_status: c.final_status,
            ended_by: c.ended_by(),
            codecs: c.codecs.clone(),
            transport: c.transport,
            caller: c.caller,
            callee: c.callee,
            caller_media: c.caller_media,
            callee_media: c.callee_media,
            messages: c.messages,
            streams: a
                .streams
                .iter()
                .enumerate()
                .filter(|(_, s)| s.call == Some(i))
                .map(|(j, _)| j)
                .collect(),
        })
        .collect();
    PcapDecodeResult {
        file,
        packets: a.packets,
        malformed_reasons: a
            .malformed_reasons
            .iter()
            .map(|(r, n)| MalformedReason {
                reason: r.clone(),
                count: *n,
            })
            .collect(),
        truncated: a.truncated.clone(),
        evicted: a.evicted(),
        capture: Span {
            first: a.first_ns.map(Time),
            last: a.first_ns.map(|_| Time(a.last_ns)),
            duration_s: round3((a.last_ns - first_ns) as f64 / 1e9),
        },
        sip: SipCounts {
            messages: a.sip_messages,
            requests: a.sip_requests.clone(),
            responses: a
                .sip_responses
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
        },
        calls,
        streams,
        rtcp_packets: a.rtcp_packets,
        stun: a.stun.clone(),
        stun_messages: a.stun_messages,
        messages: a
            .messages
            .iter()
            .map(|m| MessageReport {
                frame: m.frame,
                time: Time(m.time_ns),
                src: m.src,
                dst: m.dst,
                transport: m.transport,
                message: m.summary.clone(),
                call_id: m.call_id.clone(),
                sdp: m.sdp,
                status: m.status,
            })
            .collect(),
        view,
        ladder_call_id,
        heuristics: false,
    }
}

/// One RTP stream with its RFC 3550 quality.
fn stream(a: &Analysis, s: &RtpStream) -> StreamReport {
    let rx = &s.receiver;
    let q = rx.quality();
    let sum = q.summary;
    StreamReport {
        ssrc: Ssrc(rx.ssrc),
        src: s.src,
        dst: s.dst,
        call_id: s.call.map(|c| a.calls[c].call_id.clone()),
        payload_type: q.payload_type,
        codec: q.codec.map(|c| c.name),
        payload_types: rx.payload_types.iter().map(|(p, _)| *p).collect(),
        start: Time(sum.first_ns),
        duration_s: round3((sum.last_ns - sum.first_ns) as f64 / 1e9),
        packets: sum.packets,
        expected: sum.expected,
        lost: sum.lost,
        loss_percent: round3(sum.loss_percent),
        duplicates: sum.duplicates,
        out_of_order: sum.out_of_order,
        sequence_errors: sum.sequence_errors,
        max_delta_ms: round3(sum.max_delta_ms),
        jitter_mean_ms: round3(sum.jitter_mean_ms),
        jitter_max_ms: round3(sum.jitter_max_ms),
        mos: q.mos,
        dtmf: rx.dtmf.clone(),
        rtcp_fraction_lost_percent: rx
            .rtcp_report
            .map(|(f, _)| round3(f64::from(f) * 100.0 / 256.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small captures, stdin and one-core machines stay on one thread; large files take
    /// two; `--threads` decides when given.
    #[test]
    fn two_threads_only_where_they_pay() {
        let big = Some(TWO_THREADS_FROM);
        assert!(two_threads(None, big, 2));
        assert!(
            !two_threads(None, Some(TWO_THREADS_FROM - 1), 2),
            "small file"
        );
        assert!(!two_threads(None, None, 2), "stdin or a pipe");
        assert!(!two_threads(None, big, 1), "one core");
        assert!(!two_threads(Some(1), big, 2));
        assert!(two_threads(Some(2), Some(1000), 1));
    }
}
