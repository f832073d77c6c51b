//! One module per subcommand: arguments in, protocol machines driven over `net`, report out.
//!
//! Commands, `net/` and `main.rs` are the only places that read clocks, draw ambient
//! randomness or spawn tasks (`clippy.toml`); everything else gets time and an RNG passed in.
#![allow(clippy::disallowed_methods)]

pub mod call;
pub mod call_answer;
pub mod call_files;
pub mod call_media;
pub mod enum_lookup;
pub mod generate;
pub mod nat_probe;
pub mod nat_probe_turn;
pub mod pcap_decode;
pub mod register;
pub mod sip_common;
pub mod sip_options;
pub mod upnp_map;

use std::cell::Cell;
use std::time::{Instant, SystemTime};

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::cli::GlobalArgs;
use crate::net::driver;
use crate::net::signal::Interrupt;
use crate::report::{Finding, Report, Status};

/// Why a command could not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Bad input found after parsing (exit 2).
    #[error("{0}")]
    Usage(String),
    /// A bug or an environment failure (exit 4).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What every command starts from: its start time, the RNG seed (`--seed`), and Ctrl-C.
#[derive(Debug)]
pub struct Env {
    /// Wall-clock start, for the report's `started_at`.
    pub started_at: SystemTime,
    /// Start on the driver's clock, for `duration_ms` and offsets.
    pub t0: Instant,
    /// Ctrl-C.
    pub interrupt: Interrupt,
    seed: Option<u64>,
    rngs: Cell<u64>,
    /// `-v` count.
    pub verbose: u8,
}

impl Env {
    /// The environment of a command starting now. Must be called inside the runtime.
    pub fn new(global: &GlobalArgs) -> Env {
        Env {
            started_at: SystemTime::now(),
            t0: driver::now(),
            interrupt: Interrupt::ctrl_c(),
            seed: global.seed,
            rngs: Cell::new(0),
            verbose: global.verbose,
        }
    }

    /// A fresh RNG: from `--seed` (each call a different, reproducible stream), else from
    /// the operating system.
    pub fn rng(&self) -> StdRng {
        let n = self.rngs.get();
        self.rngs.set(n + 1);
        match self.seed {
            Some(seed) => StdRng::seed_from_u64(seed.wrapping_add(n.wrapping_mul(0x9E37_79B9))),
            None => StdRng::from_rng(&mut rand::rng()),
        }
    }

    /// The driver's clock now.
    pub fn now(&self) -> Instant {
        driver::now()
    }

    /// Driver options without a trace hook.
    pub fn options(&self) -> driver::Options<'_> {
        self.options_traced(None)
    }

    /// Driver options with `tracer` (the `-v` hook) when given.
    pub fn options_traced<'a>(
        &'a self,
        tracer: Option<crate::net::Tracer<'a>>,
    ) -> driver::Options<'a> {
        driver::Options {
            tracer,
            interrupt: &self.interrupt,
            precise: false,
        }
    }

    /// The report of `command`, timed from the start.
    pub fn report<T>(
        &self,
        command: &'static str,
        status: Status,
        findings: Vec<Finding>,
        result: T,
    ) -> Report<T> {
        Report::new(
            command,
            self.started_at,
            driver::now().saturating_duration_since(self.t0),
            status,
            findings,
            result,
        )
    }
}

/// Largest password or secret file read (bytes): only its first line is used.
const MAX_SECRET_FILE: u64 = 64 * 1024;

/// A secret (password, shared secret) from the environment variable `env`, the first line of
/// `file`, or the visible `flag`, in that order; `None` when none is given. `what` names it in
/// errors ("password", "TURN secret").
///
/// # Errors
/// A file that cannot be read or is larger than 64 KiB (usage).
pub fn given_secret(
    env: &str,
    file: Option<&std::path::Path>,
    flag: Option<&String>,
    what: &str,
) -> Result<Option<String>, CommandError> {
    if let Ok(p) = std::env::var(env) {
        return Ok(Some(p));
    }
    if let Some(path) = file {
        use std::io::Read;
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_SECRET_FILE + 1).read_to_string(&mut text))
            .map_err(|e| {
                CommandError::Usage(format!(
                    "cannot read the {what} file {}: {e}",
                    path.display()
                ))
            })?;
        if text.len() as u64 > MAX_SECRET_FILE {
            return Err(CommandError::Usage(format!(
                "the {what} file {} is larger than {} KiB",
                path.display(),
                MAX_SECRET_FILE / 1024
            )));
        }
        return Ok(Some(text.lines().next().unwrap_or("").to_string()));
    }
    Ok(flag.cloned())
}
