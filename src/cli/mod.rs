//! Command-line definitions (clap derive): global options shared by every subcommand and one
//! `Args` struct per subcommand, parsed into domain types so bad input fails before any I/O.
//!
//! The doc comments here are `--help` text (clap derive), written in usage notation:
//! `[HOST]:PORT` is an optional host, not a rustdoc link.
#![allow(rustdoc::broken_intra_doc_links)]

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

pub use crate::addr::{BindAddr, Family, HostPort, NameServer};

mod call;
mod capture;
mod lookup;
mod nat_probe;
mod sip;

pub use call::*;
pub use capture::*;
pub use lookup::*;
pub use nat_probe::*;
pub use sip::*;

const AFTER_HELP: &str = "\
Exit codes (every subcommand):
  0  ok: no critical finding and every expectation held (warnings are shown, not counted;
     --fail-on warning counts them)
  1  problem: a critical finding (e.g. symmetric NAT, UDP blocked) or a failed expectation
  2  usage or input error
  3  no answer (timeout, unreachable)
  4  internal error";

/// voipdiag: VoIP/NAT diagnostics — NAT behaviour, SIP reachability, registration, calls,
/// ENUM, UPnP and captures — with findings that say what a result means for calls.
#[derive(Debug, Parser)]
#[command(name = "voipdiag", version, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// Options every subcommand shares.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand shares.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Print one JSON document (the report) instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// Bound on each network wait, e.g. 2s, 500ms [default: 3s].
    // No clap default: a default would be copied into pcap-decode's hidden twin (see
    // PcapDecodeArgs) as if given; [`GlobalArgs::timeout`] holds the bound in force.
    #[arg(
        long = "timeout",
        id = "timeout",
        global = true,
        value_name = "DURATION",
        value_parser = parse_duration
    )]
    pub timeout_given: Option<Duration>,

    /// The bound on each network wait in force: `--timeout`, else [`DEFAULT_TIMEOUT`] (set by
    /// [`Cli::parse_args`]).
    #[arg(skip = DEFAULT_TIMEOUT)]
    pub timeout: Duration,

    /// Show decoded messages on stderr (-vv adds hex dumps).
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// Print nothing on stdout: the exit code alone says how it went (for scripts).
    #[arg(short, long, global = true, conflicts_with = "json")]
    pub quiet: bool,

    /// When to colour the human output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Which findings make the exit code 1: critical ones (default), or warnings too.
    #[arg(long, global = true, value_enum, default_value_t = FailOn::Critical, value_name = "SEVERITY")]
    pub fail_on: FailOn,

    /// Use IPv4 only.
    #[arg(short = '4', long = "ipv4", global = true, conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// Use IPv6 only.
    #[arg(short = '6', long = "ipv6", global = true)]
    pub ipv6: bool,

    /// Seed for every random choice (Call-IDs, tags, branches, STUN transaction IDs), so a
    /// run's identifiers can be reproduced in tests. Default: from the operating system.
    #[arg(
        long,
        global = true,
        hide = true,
        env = "VOIPDIAG_SEED",
        value_name = "N"
    )]
    pub seed: Option<u64>,
}

/// The bound on each network wait without `--timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

impl Cli {
    /// Parses the process's arguments ([`clap::Parser::try_parse`]) and settles what clap
    /// leaves open (the timeout in force).
    ///
    /// # Errors
    /// clap's usage errors, and `--help`/`--version` (which clap reports as errors).
    pub fn parse_args() -> Result<Self, clap::Error> {
        let mut cli = Self::try_parse()?;
        cli.global.timeout = cli.global.timeout_given.unwrap_or(DEFAULT_TIMEOUT);
        Ok(cli)
    }

    /// The subcommand names, as typed.
    pub fn command_names() -> Vec<&'static str> {
        vec![
            "nat-probe",
            "sip-options",
            "register",
            "call",
            "pcap-decode",
            "enum-lookup",
            "upnp-map",
        ]
    }
}

impl GlobalArgs {
    /// The address family chosen with -4/-6.
    pub fn family(&self) -> Family {
        match (self.ipv4, self.ipv6) {
            (true, _) => Family::V4,
            (_, true) => Family::V6,
            _ => Family::Any,
        }
    }
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When stdout is a terminal.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The lowest finding severity that makes the exit code 1 (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Critical findings and failed expectations only.
    Critical,
    /// Warnings too, as linters do.
    Warning,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Discover how the NAT/firewall behaves (RFC 4787 terms, RFC 5780 tests) and what that
    /// means for calls.
    #[command(after_help = NAT_PROBE_HELP)]
    NatProbe(NatProbeArgs),
    /// Is the SIP server alive, how fast, what is it, and does it see us behind NAT or a SIP
    /// ALG? Sends OPTIONS (RFC 3261 §11).
    #[command(after_help = SIP_OPTIONS_HELP)]
    SipOptions(SipOptionsArgs),
    /// Can this account register? REGISTER with digest authentication (RFC 3261 §10,
    /// RFC 7616/8760); shows the bindings and expiry the registrar kept.
    #[command(after_help = REGISTER_HELP)]
    Register(RegisterArgs),
    /// Does a call set up and carry audio both ways — and if not, why? Places a test call
    /// (INVITE with SDP, RFC 3261/3264), sends and receives RTP (RFC 3550) and judges each
    /// direction from evidence.
    #[command(after_help = CALL_HELP)]
    Call(Box<CallArgs>),
    /// What happened in this capture: SIP calls, RTP quality each way, STUN, and NAT trouble
    /// in signalling and media (pcap/pcapng; RFC 3550 loss and jitter).
    #[command(after_help = PCAP_DECODE_HELP)]
    PcapDecode(PcapDecodeArgs),
    /// Where does this number route, which servers take calls for this domain? ENUM
    /// (RFC 6116: NAPTR rules applied, URIs in try order) and RFC 3263 for SIP domains.
    #[command(after_help = ENUM_LOOKUP_HELP)]
    EnumLookup(EnumLookupArgs),
    /// Can the gateway open a port for us, and would it help? UPnP IGD, NAT-PMP (RFC 6886)
    /// and PCP (RFC 6887): external address, list/add/delete mappings, double-NAT check.
    #[command(after_help = UPNP_MAP_HELP)]
    UpnpMap(UpnpMapArgs),
    /// Write shell completions and man pages generated from these definitions.
    #[command(hide = true)]
    Generate(GenerateArgs),
}

/// Arguments of the hidden `generate` subcommand.
#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// Directory that receives completions/ and man/.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out_dir: PathBuf,
}

/// Parses an interval: a duration, or `0`.
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    if s.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    parse_duration(s)
}

/// The longest duration any option takes: a day. Longer ones are typos (or attacks on the
/// clock arithmetic: `300000000000y` overflows an `Instant`).
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// Parses durations like `2s`, `500ms`, `1m30s`: more than zero, at most [`MAX_DURATION`].
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 2s, 500ms)"))?;
    if d.is_zero() {
        return Err("duration must be greater than zero".into());
    }
    if d > MAX_DURATION {
        return Err("duration must be at most 24h".into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_duration("24h").unwrap(), MAX_DURATION);
        for absurd in ["300000000000y", "25h", "1000000000000000000000s"] {
            assert!(parse_duration(absurd).is_err(), "{absurd}");
            assert!(parse_interval(absurd).is_err(), "{absurd}");
        }
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
