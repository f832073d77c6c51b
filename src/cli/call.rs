//! `call`'s arguments: the caller and answerer options, media, expectations.

use super::*;

pub(crate) const CALL_HELP: &str = "\
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
