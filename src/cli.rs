//! Command-line definitions (clap derive): global options shared by every subcommand and one
//! `Args` struct per subcommand, parsed into domain types so bad input fails before any I/O.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

pub use crate::addr::{BindAddr, Family, HostPort, NameServer};

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

const PCAP_DECODE_HELP: &str = "\
Examples:
  voipdiag pcap-decode customer.pcap
  voipdiag pcap-decode customer.pcapng --view messages
  voipdiag pcap-decode customer.pcap --view ladder --call-id 3c26f9a1@10.0.0.5
  tcpdump -i eth0 -w - udp | voipdiag pcap-decode - --rtp-heuristics --json

Every frame is counted: packets.total = decoded + ignored + malformed. RTP is found on the
ports SDP announced; --rtp-heuristics also finds unsignalled streams. MOS is an estimate
(simplified ITU-T G.107 E-model).

JSON result keys: packets, malformed_reasons, truncated, capture, sip, calls, streams,
rtcp_packets, stun, stun_messages, messages.";

const ENUM_LOOKUP_HELP: &str = "\
Examples:
  voipdiag enum-lookup +43 1 979 3321
  voipdiag enum-lookup 0043-1-9793321 --service E2U+sip --json
  voipdiag enum-lookup +43 1 979 3321 --suffix e164.example.net --suffix e164.arpa
  voipdiag enum-lookup sip:example.com
  voipdiag enum-lookup --sip-domain example.com --server 192.0.2.53 --tcp

A number may have any spacing, dashes, a leading + or 00, or be a tel: URI. Its NAPTR
records are sorted by order then preference; terminal (\"u\") records give URIs through their
regexp, non-terminal ones are followed (at most 5 hops). Once an order gives a URI, higher
orders are not considered (RFC 3403 §4.1). Every query is listed with its rcode, time and
whether the nameserver DNSSEC-validated it (AD).

Exit codes: 0 URIs (or servers) found; 1 no ENUM entry, or records without a usable URI;
3 SERVFAIL or no answer.

JSON result keys: number, aus, suffixes, uris (uri, service, enumservices, order, preference,
domain, record), records, queries (name, type, rcode, answers, ms, ad); for a SIP domain:
sip_domain, targets (transport, host, port, address, priority, weight, source), naptr, srv,
queries.";

const UPNP_MAP_HELP: &str = "\
Examples:
  voipdiag upnp-map                       (status: which protocols answer, external address)
  voipdiag upnp-map list
  voipdiag upnp-map add udp 5060 --lease 3600 --description softphone
  voipdiag upnp-map delete udp 5060
  voipdiag upnp-map --protocol natpmp --gateway 192.168.1.1 --stun stun.example.net

With --protocol auto (the default) UPnP, NAT-PMP and PCP are asked at the same time; add and
delete then use the first that answered, in that order. An external address that is
private or in 100.64.0.0/10, or that differs from the address a STUN server sees (--stun),
means double NAT: a mapping on this router will not make you reachable from the Internet.

Exit codes: 0 ok; 1 the action failed or double NAT; 3 no gateway answered.

JSON result keys: action, protocol, answered, probes, gateway (friendly_name, manufacturer,
model_name, model_number, udn, igd_version, description_url, control_url, service_type),
external_address, connection, mappings (protocol, external_port, internal_client,
internal_port, lease_s, description, enabled), double_nat, stun_address.";

const NAT_PROBE_HELP: &str = "\
Examples:
  voipdiag nat-probe
  voipdiag nat-probe --server stun.example.net --server 192.0.2.10:3478 --json
  voipdiag nat-probe --lifetime --lifetime-max 60s
  voipdiag nat-probe --turn turn:turn.example.com --turn-user alice
  voipdiag nat-probe --turn-only --turn turns:turn.example.com --turn-secret-file /etc/turn.secret
  voipdiag nat-probe --turn-only --ice-servers ice.json --turn-peer-policy

--turn makes an allocation (RFC 8656), sends RTP-sized packets through the relay both ways
(Send/Data indications, then a channel) and deletes the allocation at the end, also on
Ctrl-C. The TURN password comes from $VOIPDIAG_TURN_PASSWORD, --turn-password-file or a
prompt on a terminal; a shared secret (--turn-secret-file or $VOIPDIAG_TURN_SECRET) mints
TURN REST credentials (EXPIRY:USER, HMAC-SHA1) locally.

Exit codes: 0 the NAT allows calls and every TURN URI carried media both ways; 1 a critical
finding; 2 usage; 3 nothing answered.

JSON result keys: mapping, filtering, nat_detected, local_address, mapped_address,
classic_type, hairpinning, port_preservation, binding_lifetime_s, servers, tests, turn,
relay_verdict.";

const SIP_OPTIONS_HELP: &str = "\
Examples:
  voipdiag sip-options sip.example.com
  voipdiag sip-options sips:pbx.example.com --count 10 --interval 500ms
  voipdiag sip-options 192.0.2.10:5060 198.51.100.7 --json

TARGET is a SIP URI (sip:host;transport=tcp, sips:host), HOST[:PORT] or [IPv6]:PORT; names
are located per RFC 3263 (NAPTR, SRV, A/AAAA).

JSON result keys: targets[] with status_code, reason, rtt_ms, server, user_agent, allow,
supported, accept, address, transport, received, rport, nat_detected, public_address,
sip_alg_detected, probes, stats, resolution.";

const REGISTER_HELP: &str = "\
Examples:
  VOIPDIAG_PASSWORD=secret voipdiag register sip:alice@example.com
  voipdiag register sip:alice@example.com --password-file ~/.sip-pass --transport tcp
  voipdiag register sip:alice@example.com --unregister

The password comes from $VOIPDIAG_PASSWORD, --password-file, or a prompt on a terminal.
Avoid --password: other users of the machine can read it from the process list.

JSON result keys: registered, final_status, reason, expires_s, bindings, path,
service_route, p_associated_uri, nat_detected, received, rport, public_address, auth,
ladder, resolution.";

const CALL_HELP: &str = "\
Examples:
  voipdiag call sip:echo@pbx.example.com --duration 10s --echo
  VOIPDIAG_PASSWORD=secret voipdiag call sip:600@pbx.example.com --user alice
  voipdiag call 1000@192.0.2.10 --expect-status 486 --duration 0
  voipdiag call sip:bob@example.com --media-address 203.0.113.7 --max-loss 1 --json
  voipdiag call --answer --listen 192.0.2.7 --wait 2m     (the far end of a two-ended test)

Each direction gets a verdict: ok, poor, dead, not-expected or unknown. Inbound is judged
from the RTP that arrived; outbound only from evidence — the far end's RTCP report about
our stream, an echo (--echo), ICMP, or an answer address no one outside its network can
reach. Without evidence outbound is unknown, never ok.

The password comes from $VOIPDIAG_PASSWORD, --password-file, or a prompt on a terminal.
Exit codes: 0 every expectation met; 1 busy/rejected/auth failure (unless expected), one-way
or no audio, a threshold missed; 3 no SIP response or unreachable; 2 usage; 4 internal.

JSON result keys: mode, target, call_id, transport, local_address, server, outcome,
final_status, reason, timing_ms, auth, ladder, early_media, sdp, nat, media, hangup,
expectations, offer_seen, resolution. sdp.offer is always our description and sdp.answer the
far end's (with --answer: the caller's offer).";

/// A codec `call` offers (G.711, RFC 3551).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CallCodec {
    /// G.711 µ-law (payload type 0).
    Pcmu,
    /// G.711 A-law (payload type 8).
    Pcma,
}

/// Which directions of audio `call` expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExpectMedia {
    /// From the negotiated direction (sendrecv: both).
    Auto,
    /// Both ways.
    Both,
    /// Only from the far end.
    Inbound,
    /// Only to the far end (proven by its RTCP or an echo).
    Outbound,
    /// None (a signalling-only test).
    None,
}

/// A port or an inclusive port range, `N` or `LO-HI`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    /// Lowest port.
    pub low: u16,
    /// Highest port.
    pub high: u16,
}

impl std::str::FromStr for PortRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let port = |p: &str| {
            p.trim()
                .parse::<u16>()
                .ok()
                .filter(|&p| p > 0)
                .ok_or_else(|| format!("{p:?} is not a port (1-65535)"))
        };
        let (low, high) = match s.split_once('-') {
            Some((a, b)) => (port(a)?, port(b)?),
            None => (port(s)?, port(s)?),
        };
        if low > high {
            return Err(format!("{low}-{high}: the range is empty"));
        }
        Ok(PortRange { low, high })
    }
}

/// Arguments of `call`.
#[derive(Debug, Clone, Args)]
pub struct CallArgs {
    /// Whom to call: a sip:/sips: URI, USER@HOST[:PORT] or HOST[:PORT].
    #[arg(value_name = "TARGET", required_unless_present = "answer")]
    pub target: Option<crate::sip::target::Target>,

    /// Answer one call instead of placing one (UDP): ring, answer, run the same media, and
    /// report; the 200 tells the caller how its offer arrived (X-Voipdiag-Offer-Seen).
    #[arg(long, conflicts_with = "target")]
    pub answer: bool,

    /// With --answer: where to listen for the INVITE, ADDR[:PORT] (port 5060 by default).
    #[arg(long, value_name = "ADDR[:PORT]", requires = "answer")]
    pub listen: Option<BindAddr>,

    /// With --answer: register this AOR from the listening socket first (REGISTER with
    /// the same password sources), answer the call the registrar routes to it, and remove
    /// the binding at the end — the far end of a test through a PBX or behind a NAT.
    #[arg(long, value_name = "AOR", requires = "answer")]
    pub register: Option<crate::sip::target::Target>,

    /// With --answer: how long to ring (180) before answering.
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_interval, requires = "answer")]
    pub ring: Duration,

    /// With --answer: the final response to give (e.g. 486 to play a busy callee).
    #[arg(long, value_name = "CODE", default_value_t = 200, value_parser = clap::value_parser!(u16).range(200..=699), requires = "answer")]
    pub answer_code: u16,

    /// With --answer: the longest the whole run takes (no INVITE by then: no call; a call
    /// still up then is ended with BYE).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration, requires = "answer")]
    pub wait: Duration,

    /// Our From URI (default: sip:USER@ the target's domain, or sip:voipdiag@ our address).
    #[arg(long, value_name = "URI")]
    pub from: Option<String>,

    /// Authentication user name (default: the user part of --from).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Read the password from the first line of this file.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// The password (visible to other users in the process list: prefer
    /// $VOIPDIAG_PASSWORD or --password-file).
    #[arg(long, value_name = "PASSWORD", hide_default_value = true)]
    pub password: Option<String>,

    /// How long the call stays up after the answer (0: hang up at once). Default 5s; with
    /// --answer, until the caller hangs up (bounded by --wait).
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    pub duration: Option<Duration>,

    /// CANCEL this long after the INVITE (after a provisional response, RFC 3261 §9.1).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub cancel_after: Option<Duration>,

    /// Codecs to offer, in order.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "pcmu,pcma")]
    pub codec: Vec<CallCodec>,

    /// Packet time, ms.
    #[arg(long, value_name = "MS", default_value_t = 20, value_parser = clap::value_parser!(u32).range(10..=100))]
    pub ptime: u32,

    /// Local RTP port or range, N or LO-HI (RTCP on the next port unless --rtcp-mux).
    #[arg(long, value_name = "N|LO-HI")]
    pub rtp_port: Option<PortRange>,

    /// Offer RTCP on the RTP port (RFC 5761).
    #[arg(long)]
    pub rtcp_mux: bool,

    /// Learn the public address of our RTP socket from this STUN server (HOST[:PORT], from
    /// the RTP socket itself) and offer it in our SDP, so a far end behind no ALG and
    /// without latching can reach us through our NAT.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub stun: Option<HostPort>,

    /// The address to put in our SDP (e.g. the NAT's public address); default: the RTP
    /// socket's.
    #[arg(long, value_name = "IP")]
    pub media_address: Option<std::net::IpAddr>,

    /// Do not send to where the far end's RTP comes from when it differs from its SDP
    /// (behave like a strict phone).
    #[arg(long)]
    pub no_latch: bool,

    /// The target echoes RTP (sipp -rtp_echo, an echo test): match returned packets to ours.
    #[arg(long)]
    pub echo: bool,

    /// Send these DTMF digits (RFC 4733) once media starts: 0-9 * # A-D.
    #[arg(long, value_name = "DIGITS")]
    pub dtmf: Option<String>,

    /// Frequency of the tone we send, Hz.
    #[arg(long, value_name = "HZ", default_value_t = 1000.0)]
    pub tone: f64,

    /// Send silence instead of a tone.
    #[arg(long, conflicts_with = "play")]
    pub silence: bool,

    /// Send this WAV file (PCM, any rate: mono or the first channel, resampled to 8 kHz),
    /// repeated for the whole call.
    #[arg(long, value_name = "FILE.wav")]
    pub play: Option<PathBuf>,

    /// Write what arrived (the main G.711 stream, decoded; lost packets as silence) to this
    /// WAV file, 8 kHz 16-bit mono.
    #[arg(long, value_name = "FILE.wav")]
    pub record: Option<PathBuf>,

    /// The DTMF digits the far end must send us (RFC 4733), e.g. in --answer mode.
    #[arg(long, value_name = "DIGITS")]
    pub expect_dtmf: Option<String>,

    /// Before the call (UDP), check for a SIP ALG on the path the way sip-options does: an
    /// OPTIONS, then one whose Via names a host an ALG leaves alone (two round trips).
    #[arg(long)]
    pub alg_check: bool,

    /// Write every SIP and RTP/RTCP packet we sent and received to this pcap file
    /// (pcap-decode and Wireshark read it; SIP over TLS is written decrypted, as TCP).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,

    /// Final status codes that count as success (default: any 2xx).
    #[arg(long, value_name = "CODE[,CODE]", value_delimiter = ',', value_parser = clap::value_parser!(u16).range(100..=699))]
    pub expect_status: Vec<u16>,

    /// Which directions must carry audio.
    #[arg(long, value_enum, default_value_t = ExpectMedia::Auto)]
    pub expect_media: ExpectMedia,

    /// Highest acceptable loss in either direction, percent.
    #[arg(long, value_name = "PCT")]
    pub max_loss: Option<f64>,

    /// Highest acceptable mean inbound jitter, ms.
    #[arg(long, value_name = "MS")]
    pub max_jitter: Option<f64>,

    /// Lowest acceptable estimated MOS in either direction.
    #[arg(long, value_name = "X")]
    pub min_mos: Option<f64>,

    /// Highest acceptable post-dial delay (INVITE to ringing), ms.
    #[arg(long, value_name = "MS")]
    pub max_pdd: Option<f64>,

    /// Highest acceptable round-trip time, ms.
    #[arg(long, value_name = "MS")]
    pub max_rtt: Option<f64>,

    /// Transport, routing, DNS, TLS and timer options.
    #[command(flatten)]
    pub sip: SipArgs,
}

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

/// Arguments of `nat-probe`.
#[derive(Debug, Clone, Args)]
pub struct NatProbeArgs {
    /// STUN server HOST[:PORT] (default port 3478; repeatable). The first one that supports
    /// RFC 5780 runs the behaviour tests. Default: a built-in list of public servers.
    #[arg(long = "server", value_name = "HOST[:PORT]")]
    pub servers: Vec<HostPort>,

    /// Transport to STUN over. With udp, TCP is tried as well to tell "UDP blocked" from
    /// "server down"; tcp only learns the public address.
    #[arg(long, value_enum, default_value_t = StunTransport::Udp)]
    pub transport: StunTransport,

    /// Local address to bind, ADDR[:PORT] (the port applies to the main socket).
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub local: Option<BindAddr>,

    /// Also measure how long a UDP binding lives without traffic (RFC 5780 §4.6); takes up to
    /// --lifetime-max.
    #[arg(long)]
    pub lifetime: bool,

    /// Upper bound of the lifetime measurement.
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_duration)]
    pub lifetime_max: Duration,

    /// Skip the hairpinning test.
    #[arg(long)]
    pub no_hairpinning: bool,

    /// TURN options.
    #[command(flatten)]
    pub turn: TurnArgs,
}

/// `--turn` and its options (nat-probe): test a TURN relay (RFC 8656).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "TURN relay test (RFC 8656)")]
pub struct TurnArgs {
    /// Test this TURN server: turn:HOST[:PORT][?transport=udp|tcp] or turns:HOST[:PORT]
    /// (TLS; RFC 7065, default ports 3478/5349). Repeatable. Without --server the TURN host
    /// is also the STUN server.
    #[arg(long = "turn", value_name = "URI")]
    pub uris: Vec<crate::stun::turn::uri::TurnUri>,

    /// Only the TURN test: skip the RFC 5780 NAT behaviour tests (e.g. monitoring from cron).
    #[arg(long)]
    pub turn_only: bool,

    /// Read TURN servers and credentials from a WebRTC iceServers list or a TURN REST
    /// response ({username, password, ttl, uris}) in FILE ("-": stdin).
    #[arg(long, value_name = "FILE")]
    pub ice_servers: Option<PathBuf>,

    /// TURN user name (long-term credential, RFC 8489 §9.2); with a shared secret, the USER
    /// part of the TURN REST user name EXPIRY:USER.
    #[arg(long, value_name = "USER")]
    pub turn_user: Option<String>,

    /// Read the TURN password from the first line of this file.
    #[arg(long, value_name = "FILE")]
    pub turn_password_file: Option<PathBuf>,

    /// The TURN password. Visible to other users of this machine (process list, shell
    /// history): prefer $VOIPDIAG_TURN_PASSWORD, --turn-password-file or the prompt.
    #[arg(long, value_name = "PASSWORD", hide_default_value = true)]
    pub turn_password: Option<String>,

    /// Mint TURN REST credentials from the shared secret in the first line of this file
    /// (coturn --static-auth-secret); also $VOIPDIAG_TURN_SECRET.
    #[arg(long, value_name = "FILE")]
    pub turn_secret_file: Option<PathBuf>,

    /// Validity of minted TURN REST credentials.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    pub turn_ttl: Duration,

    /// Who plays the peer: auto (self, then two), self (a second local socket), two (two
    /// allocations relay to each other), or a UDP echo server HOST:PORT.
    #[arg(long, value_name = "auto|self|two|HOST:PORT", default_value = "auto")]
    pub turn_peer: TurnPeer,

    /// Packets sent each way per mechanism (indication, channel), 20 ms apart.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub turn_count: u32,

    /// Audit which internal peer addresses the server accepts (CreatePermission only, no
    /// data sent): loopback, RFC 1918, CGNAT, link-local, 169.254.169.254, ULA.
    #[arg(long)]
    pub turn_peer_policy: bool,

    /// Hold the allocation this long with refreshes, then send media again (6 min or more
    /// also proves the 300 s permission and 600 s channel refresh).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub turn_hold: Option<Duration>,

    /// Relayed address family (REQUESTED-ADDRESS-FAMILY, RFC 8656 §18.1); dual tests both.
    #[arg(long, value_enum, default_value_t = TurnFamily::Ipv4)]
    pub turn_family: TurnFamily,

    /// PEM file of CA certificates to trust for turns: (default: the system's).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Do not verify the turns: certificate (the connection is then open to interception).
    #[arg(long)]
    pub insecure: bool,
}

/// `--turn-peer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TurnPeer {
    /// Self, then two allocations.
    Auto,
    /// A second local socket.
    SelfPeer,
    /// Two allocations.
    Two,
    /// A UDP echo server.
    Peer(HostPort),
}

impl std::str::FromStr for TurnPeer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(TurnPeer::Auto),
            "self" => Ok(TurnPeer::SelfPeer),
            "two" => Ok(TurnPeer::Two),
            other => match other.parse::<HostPort>() {
                Ok(hp) if hp.port.is_some() => Ok(TurnPeer::Peer(hp)),
                _ => Err(format!(
                    "'{other}': write auto, self, two, or the echo server as HOST:PORT"
                )),
            },
        }
    }
}

/// `--turn-family`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TurnFamily {
    /// An IPv4 relayed address.
    Ipv4,
    /// An IPv6 relayed address.
    Ipv6,
    /// One of each.
    Dual,
}

/// STUN transport (`--transport` of nat-probe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StunTransport {
    /// STUN over UDP (RFC 8489 §6.2.1).
    Udp,
    /// STUN over TCP (RFC 8489 §6.2.2).
    Tcp,
}

impl From<StunTransport> for crate::stun::StunTransport {
    fn from(t: StunTransport) -> Self {
        match t {
            StunTransport::Udp => Self::Udp,
            StunTransport::Tcp => Self::Tcp,
        }
    }
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

/// Arguments of the hidden `generate` subcommand.
#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// Directory that receives completions/ and man/.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out_dir: PathBuf,
}

/// Arguments of `enum-lookup`.
#[derive(Debug, Clone, Args)]
pub struct EnumLookupArgs {
    /// An E.164 number (+43 1 979 3321, 0043-1-9793321, tel:+4319793321; spaces allowed
    /// without quotes) or a SIP domain as sip:DOMAIN / sips:DOMAIN.
    #[arg(value_name = "NUMBER|sip:DOMAIN", num_args = 1.., required_unless_present = "sip_domain", conflicts_with = "sip_domain")]
    pub input: Vec<String>,

    /// Locate the SIP servers of this domain (RFC 3263), like sip:DOMAIN.
    #[arg(long, value_name = "DOMAIN")]
    pub sip_domain: Option<String>,

    /// ENUM tree to look in, tried in the order given (default e164.arpa; give it as well to
    /// try it after a private tree).
    #[arg(long, value_name = "DOMAIN")]
    pub suffix: Vec<String>,

    /// Only this enumservice, e.g. E2U+sip, sip, E2U+voice:tel (default: all).
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<crate::dns::r#enum::ServiceFilter>,

    /// Ask this nameserver, ADDR[:PORT], instead of the system's (/etc/resolv.conf).
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub server: Option<NameServer>,

    /// Query over TCP only.
    #[arg(long)]
    pub tcp: bool,
}

/// What `upnp-map` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UpnpAction {
    /// Which protocols answer, the gateway, its external address and connection.
    Status,
    /// The gateway's port mappings (UPnP only: NAT-PMP and PCP cannot list).
    List,
    /// Open a port: PROTO EXTERNAL_PORT.
    Add,
    /// Close a port: PROTO EXTERNAL_PORT.
    Delete,
}

impl From<UpnpAction> for crate::upnp::Action {
    fn from(a: UpnpAction) -> Self {
        match a {
            UpnpAction::Status => Self::Status,
            UpnpAction::List => Self::List,
            UpnpAction::Add => Self::Add,
            UpnpAction::Delete => Self::Delete,
        }
    }
}

/// The gateway protocol(s) to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GatewayProtocol {
    /// All three at once.
    Auto,
    /// UPnP IGD v1/v2.
    Upnp,
    /// NAT-PMP (RFC 6886).
    Natpmp,
    /// PCP (RFC 6887).
    Pcp,
}

/// Arguments of `upnp-map`.
#[derive(Debug, Clone, Args)]
pub struct UpnpMapArgs {
    /// status, list, add or delete.
    #[arg(value_enum, default_value_t = UpnpAction::Status)]
    pub action: UpnpAction,

    /// For add/delete: udp or tcp.
    #[arg(value_enum, value_name = "PROTO", required_if_eq_any = [("action", "add"), ("action", "delete")])]
    pub map_protocol: Option<MapProtocol>,

    /// For add/delete: the external port.
    #[arg(value_name = "EXTERNAL_PORT", value_parser = clap::value_parser!(u16).range(1..), required_if_eq_any = [("action", "add"), ("action", "delete")])]
    pub external_port: Option<u16>,

    /// Which gateway protocol to speak.
    #[arg(long, value_enum, default_value_t = GatewayProtocol::Auto)]
    pub protocol: GatewayProtocol,

    /// The gateway: an address (NAT-PMP/PCP, and the only UPnP device accepted) or the URL
    /// of its UPnP description (skips SSDP discovery). Default: the default route's gateway.
    #[arg(long, value_name = "ADDR|URL")]
    pub gateway: Option<crate::upnp::GatewayAddr>,

    /// Search from this local address (default: the one routing to the gateway).
    #[arg(long, value_name = "ADDR", conflicts_with = "interface")]
    pub local: Option<std::net::IpAddr>,

    /// Search on this interface (its IPv4 address).
    #[arg(long, value_name = "NAME")]
    pub interface: Option<String>,

    /// For add: the LAN address to forward to (default: our own).
    #[arg(long, value_name = "ADDR")]
    pub internal_client: Option<std::net::IpAddr>,

    /// For add/delete: the internal port (default: the external port).
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub internal_port: Option<u16>,

    /// For add: lease in seconds (0 = permanent, if the gateway allows it).
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub lease: u32,

    /// For add: the mapping's description (UPnP).
    #[arg(long, value_name = "TEXT", default_value = "voipdiag")]
    pub description: String,

    /// Compare the gateway's external address with the one this STUN server sees
    /// (HOST[:PORT]).
    #[arg(long, value_name = "HOST[:PORT]")]
    pub stun: Option<HostPort>,
}

/// A port mapping's protocol (`PROTO` of upnp-map).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MapProtocol {
    /// UDP (SIP, RTP).
    Udp,
    /// TCP (SIP over TCP/TLS).
    Tcp,
}

impl From<MapProtocol> for crate::upnp::MapProtocol {
    fn from(p: MapProtocol) -> Self {
        match p {
            MapProtocol::Udp => Self::Udp,
            MapProtocol::Tcp => Self::Tcp,
        }
    }
}

impl UpnpMapArgs {
    /// The mapping that `add`/`delete` act on, `(protocol, external port)`; `None` for
    /// `status`/`list`. (clap already requires both for add and delete.)
    ///
    /// # Errors
    /// PROTO or EXTERNAL_PORT given to `status` or `list`.
    pub fn target(&self) -> Result<Option<(crate::upnp::MapProtocol, u16)>, String> {
        match (self.action, self.map_protocol, self.external_port) {
            (UpnpAction::Add | UpnpAction::Delete, Some(p), Some(port)) => {
                Ok(Some((p.into(), port)))
            }
            (UpnpAction::Status | UpnpAction::List, None, None) => Ok(None),
            (UpnpAction::Status | UpnpAction::List, _, _) => {
                Err("PROTO and EXTERNAL_PORT are only for add and delete".into())
            }
            _ => Err("add and delete need PROTO and EXTERNAL_PORT, e.g. add udp 5060".into()),
        }
    }
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

/// Arguments of `pcap-decode`.
#[derive(Debug, Clone, Args)]
pub struct PcapDecodeArgs {
    /// Capture file (pcap or pcapng), or - for stdin.
    #[arg(value_name = "FILE")]
    pub file: String,

    /// What the human output shows (--json always carries everything).
    #[arg(long, value_enum, default_value_t = PcapView::Summary)]
    pub view: PcapView,

    /// The dialog for --view ladder (default: the first call).
    #[arg(long, value_name = "ID")]
    pub call_id: Option<String>,

    /// Also decode RTP/RTCP on UDP flows no SDP announced (like Wireshark's rtp.heuristic_rtp).
    #[arg(long)]
    pub rtp_heuristics: bool,

    // The network options mean nothing for a capture: these hidden twins keep them out of
    // pcap-decode's --help and completions (clap does not propagate a global option to a
    // subcommand that defines its own), and the command refuses them with a sentence.
    #[doc(hidden)]
    #[arg(long, hide = true, value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    #[doc(hidden)]
    #[arg(short = '4', long = "ipv4", hide = true)]
    pub ipv4: bool,
    #[doc(hidden)]
    #[arg(short = '6', long = "ipv6", hide = true)]
    pub ipv6: bool,
}

impl PcapDecodeArgs {
    /// A network option given to pcap-decode, which reads a file: the sentence to refuse it
    /// with.
    pub fn network_option_given(&self) -> Option<String> {
        let given = [
            (self.timeout.is_some(), "--timeout"),
            (self.ipv4, "-4/--ipv4"),
            (self.ipv6, "-6/--ipv6"),
        ];
        let names: Vec<&str> = given.iter().filter(|(g, _)| *g).map(|(_, n)| *n).collect();
        (!names.is_empty()).then(|| {
            format!(
                "{} means nothing to pcap-decode: it reads a capture file and sends nothing",
                names.join(", ")
            )
        })
    }
}

/// What pcap-decode's human output shows (`--view`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum PcapView {
    /// Calls, RTP streams and findings.
    #[default]
    Summary,
    /// Every SIP message: time, source → destination, method or status, Call-ID.
    Messages,
    /// A sequence diagram of one dialog (`--call-id`, default the first call).
    Ladder,
    /// All RTP stream statistics.
    Streams,
}
