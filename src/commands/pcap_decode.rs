//! `pcap-decode`: read a capture file (or stdin), run the VoIP analysis over every frame,
//! report calls, streams, STUN and findings. Reading runs on a blocking thread; Ctrl-C stops
//! it and the report covers what was read.

use std::fs::File;
use std::io::{IsTerminal, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::anyhow;

use super::{CommandError, Env};
use crate::capture::analysis::{Analysis, Options};
use crate::capture::reader::{CaptureError, End, read_frames};
use crate::cli::{GlobalArgs, PcapDecodeArgs, PcapView};
use crate::report::Report;
use crate::report::pcap_decode::{PcapDecodeResult, View, findings, status};

/// Runs the command.
///
/// Errors: [`CommandError::Usage`] for a missing file, a file that is not a capture, or an
/// unknown `--call-id`.
pub async fn run(
    global: &GlobalArgs,
    args: &PcapDecodeArgs,
) -> Result<Report<PcapDecodeResult>, CommandError> {
    let env = Env::new(global);
    let (input, size): (Box<dyn Read + Send>, Option<u64>) = if args.file == "-" {
        (Box::new(std::io::stdin()), None)
    } else {
        let f = File::open(&args.file)
            .map_err(|e| CommandError::Usage(format!("cannot open {}: {e}", args.file)))?;
        let size = f.metadata().ok().map(|m| m.len());
        // No BufReader: pcap-parser reads into its own 1 MiB buffer.
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
    let worker = {
        let stop = Arc::clone(&stop);
        let pb = progress.clone();
        tokio::task::spawn_blocking(move || {
            let mut analysis = Analysis::new(opts);
            let end = read_frames(
                input,
                size,
                |frame| analysis.frame(frame),
                |pos| {
                    if let Some(pb) = &pb {
                        pb.set_position(pos);
                    }
                },
                || stop.load(Ordering::Relaxed),
            );
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
    let result =
        PcapDecodeResult::from_analysis(args.file.clone(), &analysis, view, args.call_id.clone());
    let found = findings(&crate::capture::findings::diagnose(&analysis), &result);
    let st = status(&found);
    Ok(env.report("pcap-decode", st, found, result))
}
