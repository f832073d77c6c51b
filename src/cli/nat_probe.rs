//! `nat-probe`'s arguments, with the TURN relay test (`--turn`).

use super::*;

pub(crate) const NAT_PROBE_HELP: &str = "\
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
