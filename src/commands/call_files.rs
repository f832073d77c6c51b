//! The files a `call` run reads and writes besides its report: the `-v` trace (SIP only),
//! the `--pcap` capture of every packet (`capture::writer`), the `--play` WAV it sends and
//! the `--record` WAV of what arrived (hound).

use super::CommandError;
use super::sip_common::{trace_sip, trace_sip_hex};
use crate::capture::writer::PcapWriter;
use crate::machine::Traced;

/// The `-v` trace of a call: SIP only (RTP and RTCP would drown it); `verbose` > 1 adds
/// hex dumps.
pub fn trace_call(t: &Traced<'_>, verbose: u8) {
    if t.bytes.first().is_some_and(u8::is_ascii_alphabetic) {
        if verbose > 1 {
            trace_sip_hex(t);
        } else {
            trace_sip(t);
        }
    }
}

/// What a run records besides its report: the `-v` trace (SIP only) and the `--pcap` file
/// of every packet sent and received.
#[derive(Debug)]
pub struct Recorder {
    verbose: u8,
    pcap: Option<std::sync::Mutex<PcapState>>,
}

#[derive(Debug)]
struct PcapState {
    path: std::path::PathBuf,
    writer: Option<PcapWriter<std::io::BufWriter<std::fs::File>>>,
    packets: u64,
    error: Option<String>,
}

impl Recorder {
    /// A recorder for `-v` and `--pcap FILE` (created now, so a bad path fails before any
    /// traffic).
    ///
    /// # Errors
    /// The file cannot be created: a usage error.
    pub fn new(verbose: u8, pcap: Option<&std::path::Path>) -> Result<Recorder, CommandError> {
        let pcap = match pcap {
            None => None,
            Some(path) => {
                let file = std::fs::File::create(path).map_err(|e| {
                    CommandError::Usage(format!("cannot create {}: {e}", path.display()))
                })?;
                let writer = PcapWriter::new(std::io::BufWriter::new(file)).map_err(|e| {
                    CommandError::Usage(format!("cannot write {}: {e}", path.display()))
                })?;
                Some(std::sync::Mutex::new(PcapState {
                    path: path.to_path_buf(),
                    writer: Some(writer),
                    packets: 0,
                    error: None,
                }))
            }
        };
        Ok(Recorder { verbose, pcap })
    }

    /// Whether the driver needs the hook at all.
    pub fn active(&self) -> bool {
        self.verbose > 0 || self.pcap.is_some()
    }

    /// The driver's trace hook.
    pub fn record(&self, t: &Traced<'_>) {
        if self.verbose > 0 {
            trace_call(t, self.verbose);
        }
        let Some(state) = &self.pcap else { return };
        let Ok(mut s) = state.lock() else { return };
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let (src, dst) = match t.direction {
            crate::machine::Direction::Sent => (t.local, t.remote),
            crate::machine::Direction::Received => (t.remote, t.local),
        };
        let Some(w) = s.writer.as_mut() else { return };
        let written = if t.stream {
            w.write_tcp(at, src, dst, t.bytes)
        } else {
            w.write_udp(at, src, dst, t.bytes)
        };
        match written {
            Ok(()) => s.packets += 1,
            Err(e) => {
                s.error = Some(e.to_string());
                s.writer = None;
            }
        }
    }

    /// Flushes the capture: (file, packets written, error if writing failed).
    pub fn finish(&self) -> Option<(std::path::PathBuf, u64, Option<String>)> {
        let state = self.pcap.as_ref()?;
        let mut s = state.lock().ok()?;
        if let Some(w) = s.writer.as_mut()
            && let Err(e) = w.flush()
        {
            s.error = Some(e.to_string());
        }
        Some((s.path.clone(), s.packets, s.error.clone()))
    }
}

/// Largest WAV file `--play` reads.
const MAX_WAV: u64 = 64 * 1024 * 1024;

/// Reads `--play`: PCM of any rate and width (float too), the first channel, resampled to
/// 8 kHz (linear interpolation, enough for a test signal).
///
/// # Errors
/// Unreadable, not a WAV, too large, or empty: a usage error.
pub fn load_wav(path: &std::path::Path) -> Result<Vec<i16>, CommandError> {
    let bad = |e: String| CommandError::Usage(format!("--play {}: {e}", path.display()));
    let size = std::fs::metadata(path)
        .map_err(|e| bad(e.to_string()))?
        .len();
    if size > MAX_WAV {
        return Err(bad(format!("larger than {} MiB", MAX_WAV >> 20)));
    }
    let mut reader = hound::WavReader::open(path).map_err(|e| bad(e.to_string()))?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let all: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(|e| bad(e.to_string()))?,
        hound::SampleFormat::Int => {
            let scale = 2f32.powi(i32::from(spec.bits_per_sample.clamp(1, 32)) - 1);
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 / scale))
                .collect::<Result<_, _>>()
                .map_err(|e| bad(e.to_string()))?
        }
    };
    let mono: Vec<f32> = all.iter().step_by(channels).copied().collect();
    if mono.is_empty() || spec.sample_rate == 0 {
        return Err(bad("no samples".into()));
    }
    let step = f64::from(spec.sample_rate) / f64::from(crate::rtp::sender::CLOCK_RATE);
    let out_len = ((mono.len() as f64) / step).floor().max(1.0) as usize;
    Ok((0..out_len)
        .map(|i| {
            let x = i as f64 * step;
            let k = x as usize;
            let frac = (x - k as f64) as f32;
            let a = mono.get(k).copied().unwrap_or(0.0);
            let b = mono.get(k + 1).copied().unwrap_or(a);
            ((a + (b - a) * frac).clamp(-1.0, 1.0) * 32767.0) as i16
        })
        .collect())
}

/// The `--record` WAV being written from the call's audio events.
#[derive(Default)]
pub struct WavRecording {
    path: Option<std::path::PathBuf>,
    writer: Option<hound::WavWriter<std::io::BufWriter<std::fs::File>>>,
    samples: u64,
    error: Option<String>,
}

impl std::fmt::Debug for WavRecording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavRecording")
            .field("path", &self.path)
            .field("samples", &self.samples)
            .finish_non_exhaustive()
    }
}

impl WavRecording {
    /// Creates the file now (a bad path fails before any traffic).
    ///
    /// # Errors
    /// The file cannot be created: a usage error.
    pub fn new(path: Option<&std::path::Path>) -> Result<WavRecording, CommandError> {
        let Some(path) = path else {
            return Ok(WavRecording::default());
        };
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: crate::rtp::sender::CLOCK_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(path, spec)
            .map_err(|e| CommandError::Usage(format!("--record {}: {e}", path.display())))?;
        Ok(WavRecording {
            path: Some(path.to_path_buf()),
            writer: Some(writer),
            samples: 0,
            error: None,
        })
    }

    /// Appends samples; a write error stops the recording and is kept.
    pub fn write(&mut self, samples: &[i16]) {
        let Some(w) = self.writer.as_mut() else {
            return;
        };
        for &s in samples {
            if let Err(e) = w.write_sample(s) {
                self.error = Some(e.to_string());
                self.writer = None;
                return;
            }
        }
        self.samples += samples.len() as u64;
    }

    /// Finishes the file: (path, seconds written, error).
    pub fn finish(&mut self) -> Option<(std::path::PathBuf, f64, Option<String>)> {
        let path = self.path.clone()?;
        if let Some(w) = self.writer.take()
            && let Err(e) = w.finalize()
        {
            self.error = Some(e.to_string());
        }
        let seconds = self.samples as f64 / f64::from(crate::rtp::sender::CLOCK_RATE);
        Some((path, crate::rtp::stats::round3(seconds), self.error.clone()))
    }
}
