//! `pcap-decode`'s arguments.

use super::*;

pub(crate) const PCAP_DECODE_HELP: &str = "\
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

    /// Threads: 1 reads and analyses on one; 2 or more read the file on a second thread
    /// while the first analyses (the report is the same). Default: 2 for a regular file of
    /// 64 MiB or more on a machine with two cores or more, else 1 (stdin, pipes, small files).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,

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
