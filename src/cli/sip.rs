//! The SIP commands' arguments: the options `sip-options`, `register` and `call` share, and their own.

use super::*;

pub(crate) const SIP_OPTIONS_HELP: &str = "\
Examples:
  voipdiag sip-options sip.example.com
  voipdiag sip-options sips:pbx.example.com --count 10 --interval 500ms
  voipdiag sip-options 192.0.2.10:5060 198.51.100.7 --json

TARGET is a SIP URI (sip:host;transport=tcp, sips:host), HOST[:PORT] or [IPv6]:PORT; names
are located per RFC 3263 (NAPTR, SRV, A/AAAA).

JSON result keys: targets[] with status_code, reason, rtt_ms, server, user_agent, allow,
supported, accept, address, transport, received, rport, nat_detected, public_address,
sip_alg_detected, probes, stats, resolution.";

pub(crate) const REGISTER_HELP: &str = "\
Examples:
  VOIPDIAG_PASSWORD=secret voipdiag register sip:alice@example.com
  voipdiag register sip:alice@example.com --password-file ~/.sip-pass --transport tcp
  voipdiag register sip:alice@example.com --unregister

The password comes from $VOIPDIAG_PASSWORD, --password-file, or a prompt on a terminal.
Avoid --password: other users of the machine can read it from the process list.

JSON result keys: registered, final_status, reason, expires_s, bindings, path,
service_route, p_associated_uri, nat_detected, received, rport, public_address, auth,
ladder, resolution.";

/// Options every SIP subcommand shares: transport, routing, DNS, TLS, timers.
#[derive(Debug, Clone, Args)]
pub struct SipArgs {
    /// Transport; default from the URI (`transport=`, `sips:`) or RFC 3263 DNS, else udp.
    #[arg(long, value_enum)]
    pub transport: Option<SipTransport>,

    /// Send through this outbound proxy (a SIP URI or HOST[:PORT]); it is located with
    /// RFC 3263 instead of the target.
    #[arg(long, value_name = "URI")]
    pub proxy: Option<crate::sip::target::Target>,

    /// Ask this nameserver, ADDR[:PORT], instead of the system's.
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub dns_server: Option<NameServer>,

    /// Local address to send from, ADDR[:PORT].
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub local: Option<BindAddr>,

    /// PEM file of CA certificates to trust for TLS (default: the system's).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Do not verify the TLS certificate (the connection is then open to interception).
    #[arg(long)]
    pub insecure: bool,

    /// SIP timer T1, the RTT estimate retransmissions start from (RFC 3261 §17.1.1.1).
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = parse_duration)]
    pub t1: Duration,
}

/// Arguments of `sip-options`.
#[derive(Debug, Clone, Args)]
pub struct SipOptionsArgs {
    /// Servers to probe: sip:/sips: URI, HOST[:PORT] or [IPv6]:PORT (several run concurrently).
    #[arg(value_name = "TARGET", required = true)]
    pub targets: Vec<crate::sip::target::Target>,

    /// Probes per target, like ping -c (0 = until Ctrl-C).
    #[arg(long, short = 'c', default_value_t = 1)]
    pub count: u32,

    /// Time between the starts of probes of one target; 0 sends the next as soon as the
    /// previous one is answered (flood, for load tests).
    #[arg(long, short = 'i', value_name = "DURATION", default_value = "1s", value_parser = parse_interval)]
    pub interval: Duration,

    /// Flows per target, each with one probe in flight (load tests with --interval 0).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub parallel: u32,

    /// Print one JSON object per probe as it completes (then the report).
    #[arg(long)]
    pub json_lines: bool,

    /// Skip the second OPTIONS that detects a SIP ALG.
    #[arg(long)]
    pub no_alg_check: bool,

    /// Transport, routing, DNS, TLS and timer options.
    #[command(flatten)]
    pub sip: SipArgs,
}

/// Arguments of `register`.
#[derive(Debug, Clone, Args)]
pub struct RegisterArgs {
    /// Address-of-record to register, e.g. sip:alice@example.com (the registrar is its host).
    #[arg(value_name = "AOR")]
    pub aor: crate::sip::target::Target,

    /// Authentication user name when it differs from the AOR's user part.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Read the password from the first line of this file.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// The password. Visible to other users of this machine (process list, shell history):
    /// prefer $VOIPDIAG_PASSWORD, --password-file or the prompt.
    #[arg(long, value_name = "PASSWORD", hide_default_value = true)]
    pub password: Option<String>,

    /// Requested binding lifetime in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub expires: u32,

    /// Contact URI to register (default: sip:USER@our-address:port).
    #[arg(long, value_name = "URI")]
    pub contact: Option<String>,

    /// Remove our binding (Expires: 0).
    #[arg(long)]
    pub unregister: bool,

    /// Prefer qop=auth-int when the registrar offers it.
    #[arg(long)]
    pub auth_int: bool,

    /// Transport, routing, DNS, TLS and timer options.
    #[command(flatten)]
    pub sip: SipArgs,
}

/// SIP transport (`--transport` of the SIP commands).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SipTransport {
    /// UDP, with retransmissions (RFC 3261 §17.1.2.2).
    Udp,
    /// TCP, messages framed by Content-Length.
    Tcp,
    /// TLS over TCP (sips:).
    Tls,
}

impl From<SipTransport> for crate::sip::target::Transport {
    fn from(t: SipTransport) -> Self {
        match t {
            SipTransport::Udp => Self::Udp,
            SipTransport::Tcp => Self::Tcp,
            SipTransport::Tls => Self::Tls,
        }
    }
}
