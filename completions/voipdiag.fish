# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_voipdiag_global_optspecs
    string join \n json timeout= v/verbose q/quiet color= fail-on= 4/ipv4 6/ipv6 h/help V/version
end

function __fish_voipdiag_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_voipdiag_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_voipdiag_using_subcommand
    set -l cmd (__fish_voipdiag_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c voipdiag -n "__fish_voipdiag_needs_command" -l timeout -d 'Bound on each network wait, e.g. 2s, 500ms [default: 3s]' -r
complete -c voipdiag -n "__fish_voipdiag_needs_command" -l color -d 'When to colour the human output' -r -f -a "auto\t'When stdout is a terminal'
always\t'Always'
never\t'Never'"
complete -c voipdiag -n "__fish_voipdiag_needs_command" -l fail-on -d 'Which findings make the exit code 1: critical ones (default), or warnings too' -r -f -a "critical\t'Critical findings and failed expectations only'
warning\t'Warnings too, as linters do'"
complete -c voipdiag -n "__fish_voipdiag_needs_command" -l json -d 'Print one JSON document (the report) instead of text'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -s v -l verbose -d 'Show decoded messages on stderr (-vv adds hex dumps)'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -s q -l quiet -d 'Print nothing on stdout: the exit code alone says how it went (for scripts)'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -s 4 -l ipv4 -d 'Use IPv4 only'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -s 6 -l ipv6 -d 'Use IPv6 only'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -s V -l version -d 'Print version'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -f -a "nat-probe" -d 'Discover how the NAT/firewall behaves (RFC 4787 terms, RFC 5780 tests) and what that means for calls'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -f -a "sip-options" -d 'Is the SIP server alive, how fast, what is it, and does it see us behind NAT or a SIP ALG? Sends OPTIONS (RFC 3261 §11)'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -f -a "register" -d 'Can this account register? REGISTER with digest authentication (RFC 3261 §10, RFC 7616/8760); shows the bindings and expiry the registrar kept'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -f -a "call" -d 'Does a call set up and carry audio both ways — and if not, why? Places a test call (INVITE with SDP, RFC 3261/3264), sends and receives RTP (RFC 3550) and judges each direction from evidence'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -f -a "pcap-decode" -d 'What happened in this capture: SIP calls, RTP quality each way, STUN, and NAT trouble in signalling and media (pcap/pcapng; RFC 3550 loss and jitter)'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -f -a "enum-lookup" -d 'Where does this number route, which servers take calls for this domain? ENUM (RFC 6116: NAPTR rules applied, URIs in try order) and RFC 3263 for SIP domains'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -f -a "upnp-map" -d 'Can the gateway open a port for us, and would it help? UPnP IGD, NAT-PMP (RFC 6886) and PCP (RFC 6887): external address, list/add/delete mappings, double-NAT check'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l server -d 'STUN server HOST[:PORT] (default port 3478; repeatable). The first one that supports RFC 5780 runs the behaviour tests. Default: a built-in list of public servers' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l transport -d 'Transport to STUN over. With udp, TCP is tried as well to tell "UDP blocked" from "server down"; tcp only learns the public address' -r -f -a "udp\t'STUN over UDP (RFC 8489 §6.2.1)'
tcp\t'STUN over TCP (RFC 8489 §6.2.2)'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l local -d 'Local address to bind, ADDR[:PORT] (the port applies to the main socket)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l lifetime-max -d 'Upper bound of the lifetime measurement' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l turn -d 'Test this TURN server: turn:HOST[:PORT][?transport=udp|tcp] or turns:HOST[:PORT] (TLS; RFC 7065, default ports 3478/5349). Repeatable. Without --server the TURN host is also the STUN server' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l ice-servers -d 'Read TURN servers and credentials from a WebRTC iceServers list or a TURN REST response ({username, password, ttl, uris}) in FILE ("-": stdin)' -r -F
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l turn-user -d 'TURN user name (long-term credential, RFC 8489 §9.2); with a shared secret, the USER part of the TURN REST user name EXPIRY:USER' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l turn-password-file -d 'Read the TURN password from the first line of this file' -r -F
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l turn-password -d 'The TURN password. Visible to other users of this machine (process list, shell history): prefer $VOIPDIAG_TURN_PASSWORD, --turn-password-file or the prompt' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l turn-secret-file -d 'Mint TURN REST credentials from the shared secret in the first line of this file (coturn --static-auth-secret); also $VOIPDIAG_TURN_SECRET' -r -F
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l turn-ttl -d 'Validity of minted TURN REST credentials' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l turn-peer -d 'Who plays the peer: auto (self, then two), self (a second local socket), two (two allocations relay to each other), or a UDP echo server HOST:PORT' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l turn-count -d 'Packets sent each way per mechanism (indication, channel), 20 ms apart' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l turn-hold -d 'Hold the allocation this long with refreshes, then send media again (6 min or more also proves the 300 s permission and 600 s channel refresh)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l turn-family -d 'Relayed address family (REQUESTED-ADDRESS-FAMILY, RFC 8656 §18.1); dual tests both' -r -f -a "ipv4\t'An IPv4 relayed address'
ipv6\t'An IPv6 relayed address'
dual\t'One of each'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l ca-file -d 'PEM file of CA certificates to trust for turns: (default: the system\'s)' -r -F
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l timeout -d 'Bound on each network wait, e.g. 2s, 500ms [default: 3s]' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l color -d 'When to colour the human output' -r -f -a "auto\t'When stdout is a terminal'
always\t'Always'
never\t'Never'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l fail-on -d 'Which findings make the exit code 1: critical ones (default), or warnings too' -r -f -a "critical\t'Critical findings and failed expectations only'
warning\t'Warnings too, as linters do'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l lifetime -d 'Also measure how long a UDP binding lives without traffic (RFC 5780 §4.6); takes up to --lifetime-max'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l no-hairpinning -d 'Skip the hairpinning test'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l turn-only -d 'Only the TURN test: skip the RFC 5780 NAT behaviour tests (e.g. monitoring from cron)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l turn-peer-policy -d 'Audit which internal peer addresses the server accepts (CreatePermission only, no data sent): loopback, RFC 1918, CGNAT, link-local, 169.254.169.254, ULA'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l insecure -d 'Do not verify the turns: certificate (the connection is then open to interception)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l json -d 'Print one JSON document (the report) instead of text'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -s v -l verbose -d 'Show decoded messages on stderr (-vv adds hex dumps)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -s q -l quiet -d 'Print nothing on stdout: the exit code alone says how it went (for scripts)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -s 4 -l ipv4 -d 'Use IPv4 only'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -s 6 -l ipv6 -d 'Use IPv6 only'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -s V -l version -d 'Print version'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -s c -l count -d 'Probes per target, like ping -c (0 = until Ctrl-C)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -s i -l interval -d 'Time between the starts of probes of one target; 0 sends the next as soon as the previous one is answered (flood, for load tests)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -l parallel -d 'Flows per target, each with one probe in flight (load tests with --interval 0)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -l transport -d 'Transport; default from the URI (`transport=`, `sips:`) or RFC 3263 DNS, else udp' -r -f -a "udp\t'UDP, with retransmissions (RFC 3261 §17.1.2.2)'
tcp\t'TCP, messages framed by Content-Length'
tls\t'TLS over TCP (sips:)'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -l proxy -d 'Send through this outbound proxy (a SIP URI or HOST[:PORT]); it is located with RFC 3263 instead of the target' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -l dns-server -d 'Ask this nameserver, ADDR[:PORT], instead of the system\'s' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -l local -d 'Local address to send from, ADDR[:PORT]' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -l ca-file -d 'PEM file of CA certificates to trust for TLS (default: the system\'s)' -r -F
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -l t1 -d 'SIP timer T1, the RTT estimate retransmissions start from (RFC 3261 §17.1.1.1)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -l timeout -d 'Bound on each network wait, e.g. 2s, 500ms [default: 3s]' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -l color -d 'When to colour the human output' -r -f -a "auto\t'When stdout is a terminal'
always\t'Always'
never\t'Never'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -l fail-on -d 'Which findings make the exit code 1: critical ones (default), or warnings too' -r -f -a "critical\t'Critical findings and failed expectations only'
warning\t'Warnings too, as linters do'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -l json-lines -d 'Print one JSON object per probe as it completes (then the report)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -l no-alg-check -d 'Skip the second OPTIONS that detects a SIP ALG'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -l insecure -d 'Do not verify the TLS certificate (the connection is then open to interception)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -l json -d 'Print one JSON document (the report) instead of text'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -s v -l verbose -d 'Show decoded messages on stderr (-vv adds hex dumps)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -s q -l quiet -d 'Print nothing on stdout: the exit code alone says how it went (for scripts)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -s 4 -l ipv4 -d 'Use IPv4 only'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -s 6 -l ipv6 -d 'Use IPv6 only'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand sip-options" -s V -l version -d 'Print version'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -l user -d 'Authentication user name when it differs from the AOR\'s user part' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -l password-file -d 'Read the password from the first line of this file' -r -F
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -l password -d 'The password. Visible to other users of this machine (process list, shell history): prefer $VOIPDIAG_PASSWORD, --password-file or the prompt' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -l expires -d 'Requested binding lifetime in seconds' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -l contact -d 'Contact URI to register (default: sip:USER@our-address:port)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -l transport -d 'Transport; default from the URI (`transport=`, `sips:`) or RFC 3263 DNS, else udp' -r -f -a "udp\t'UDP, with retransmissions (RFC 3261 §17.1.2.2)'
tcp\t'TCP, messages framed by Content-Length'
tls\t'TLS over TCP (sips:)'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -l proxy -d 'Send through this outbound proxy (a SIP URI or HOST[:PORT]); it is located with RFC 3263 instead of the target' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -l dns-server -d 'Ask this nameserver, ADDR[:PORT], instead of the system\'s' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -l local -d 'Local address to send from, ADDR[:PORT]' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -l ca-file -d 'PEM file of CA certificates to trust for TLS (default: the system\'s)' -r -F
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -l t1 -d 'SIP timer T1, the RTT estimate retransmissions start from (RFC 3261 §17.1.1.1)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -l timeout -d 'Bound on each network wait, e.g. 2s, 500ms [default: 3s]' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -l color -d 'When to colour the human output' -r -f -a "auto\t'When stdout is a terminal'
always\t'Always'
never\t'Never'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -l fail-on -d 'Which findings make the exit code 1: critical ones (default), or warnings too' -r -f -a "critical\t'Critical findings and failed expectations only'
warning\t'Warnings too, as linters do'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -l unregister -d 'Remove our binding (Expires: 0)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -l auth-int -d 'Prefer qop=auth-int when the registrar offers it'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -l insecure -d 'Do not verify the TLS certificate (the connection is then open to interception)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -l json -d 'Print one JSON document (the report) instead of text'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -s v -l verbose -d 'Show decoded messages on stderr (-vv adds hex dumps)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -s q -l quiet -d 'Print nothing on stdout: the exit code alone says how it went (for scripts)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -s 4 -l ipv4 -d 'Use IPv4 only'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -s 6 -l ipv6 -d 'Use IPv6 only'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand register" -s V -l version -d 'Print version'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l listen -d 'With --answer: where to listen for the INVITE, ADDR[:PORT] (port 5060 by default)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l register -d 'With --answer: register this AOR from the listening socket first (REGISTER with the same password sources), answer the call the registrar routes to it, and remove the binding at the end — the far end of a test through a PBX or behind a NAT' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l ring -d 'With --answer: how long to ring (180) before answering' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l answer-code -d 'With --answer: the final response to give (e.g. 486 to play a busy callee)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l wait -d 'With --answer: the longest the whole run takes (no INVITE by then: no call; a call still up then is ended with BYE)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l from -d 'Our From URI (default: sip:USER@ the target\'s domain, or sip:voipdiag@ our address)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l user -d 'Authentication user name (default: the user part of --from)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l password-file -d 'Read the password from the first line of this file' -r -F
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l password -d 'The password (visible to other users in the process list: prefer $VOIPDIAG_PASSWORD or --password-file)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l duration -d 'How long the call stays up after the answer (0: hang up at once). Default 5s; with --answer, until the caller hangs up (bounded by --wait)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l cancel-after -d 'CANCEL this long after the INVITE (after a provisional response, RFC 3261 §9.1)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l codec -d 'Codecs to offer, in order' -r -f -a "pcmu\t'G.711 µ-law (payload type 0)'
pcma\t'G.711 A-law (payload type 8)'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l ptime -d 'Packet time, ms' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l rtp-port -d 'Local RTP port or range, N or LO-HI (RTCP on the next port unless --rtcp-mux)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l stun -d 'Learn the public address of our RTP socket from this STUN server (HOST[:PORT], from the RTP socket itself) and offer it in our SDP, so a far end behind no ALG and without latching can reach us through our NAT' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l media-address -d 'The address to put in our SDP (e.g. the NAT\'s public address); default: the RTP socket\'s' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l dtmf -d 'Send these DTMF digits (RFC 4733) once media starts: 0-9 * # A-D' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l tone -d 'Frequency of the tone we send, Hz' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l play -d 'Send this WAV file (PCM, any rate: mono or the first channel, resampled to 8 kHz), repeated for the whole call' -r -F
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l record -d 'Write what arrived (the main G.711 stream, decoded; lost packets as silence) to this WAV file, 8 kHz 16-bit mono' -r -F
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l expect-dtmf -d 'The DTMF digits the far end must send us (RFC 4733), e.g. in --answer mode' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l pcap -d 'Write every SIP and RTP/RTCP packet we sent and received to this pcap file (pcap-decode and Wireshark read it; SIP over TLS is written decrypted, as TCP)' -r -F
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l expect-status -d 'Final status codes that count as success (default: any 2xx)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l expect-media -d 'Which directions must carry audio' -r -f -a "auto\t'From the negotiated direction (sendrecv: both)'
both\t'Both ways'
inbound\t'Only from the far end'
outbound\t'Only to the far end (proven by its RTCP or an echo)'
none\t'None (a signalling-only test)'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l max-loss -d 'Highest acceptable loss in either direction, percent' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l max-jitter -d 'Highest acceptable mean inbound jitter, ms' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l min-mos -d 'Lowest acceptable estimated MOS in either direction' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l max-pdd -d 'Highest acceptable post-dial delay (INVITE to ringing), ms' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l max-rtt -d 'Highest acceptable round-trip time, ms' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l transport -d 'Transport; default from the URI (`transport=`, `sips:`) or RFC 3263 DNS, else udp' -r -f -a "udp\t'UDP, with retransmissions (RFC 3261 §17.1.2.2)'
tcp\t'TCP, messages framed by Content-Length'
tls\t'TLS over TCP (sips:)'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l proxy -d 'Send through this outbound proxy (a SIP URI or HOST[:PORT]); it is located with RFC 3263 instead of the target' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l dns-server -d 'Ask this nameserver, ADDR[:PORT], instead of the system\'s' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l local -d 'Local address to send from, ADDR[:PORT]' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l ca-file -d 'PEM file of CA certificates to trust for TLS (default: the system\'s)' -r -F
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l t1 -d 'SIP timer T1, the RTT estimate retransmissions start from (RFC 3261 §17.1.1.1)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l timeout -d 'Bound on each network wait, e.g. 2s, 500ms [default: 3s]' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l color -d 'When to colour the human output' -r -f -a "auto\t'When stdout is a terminal'
always\t'Always'
never\t'Never'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l fail-on -d 'Which findings make the exit code 1: critical ones (default), or warnings too' -r -f -a "critical\t'Critical findings and failed expectations only'
warning\t'Warnings too, as linters do'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l answer -d 'Answer one call instead of placing one (UDP): ring, answer, run the same media, and report; the 200 tells the caller how its offer arrived (X-Voipdiag-Offer-Seen)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l rtcp-mux -d 'Offer RTCP on the RTP port (RFC 5761)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l no-latch -d 'Do not send to where the far end\'s RTP comes from when it differs from its SDP (behave like a strict phone)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l echo -d 'The target echoes RTP (sipp -rtp_echo, an echo test): match returned packets to ours'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l silence -d 'Send silence instead of a tone'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l alg-check -d 'Before the call (UDP), check for a SIP ALG on the path the way sip-options does: an OPTIONS, then one whose Via names a host an ALG leaves alone (two round trips)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l insecure -d 'Do not verify the TLS certificate (the connection is then open to interception)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -l json -d 'Print one JSON document (the report) instead of text'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -s v -l verbose -d 'Show decoded messages on stderr (-vv adds hex dumps)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -s q -l quiet -d 'Print nothing on stdout: the exit code alone says how it went (for scripts)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -s 4 -l ipv4 -d 'Use IPv4 only'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -s 6 -l ipv6 -d 'Use IPv6 only'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand call" -s V -l version -d 'Print version'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand pcap-decode" -l view -d 'What the human output shows (--json always carries everything)' -r -f -a "summary\t'Calls, RTP streams and findings'
messages\t'Every SIP message: time, source → destination, method or status, Call-ID'
ladder\t'A sequence diagram of one dialog (`--call-id`, default the first call)'
streams\t'All RTP stream statistics'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand pcap-decode" -l call-id -d 'The dialog for --view ladder (default: the first call)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand pcap-decode" -l threads -d 'Threads: 1 reads and analyses on one; 2 or more read the file on a second thread while the first analyses (the report is the same). Default: 2 for a regular file of 64 MiB or more on a machine with two cores or more, else 1 (stdin, pipes, small files)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand pcap-decode" -l color -d 'When to colour the human output' -r -f -a "auto\t'When stdout is a terminal'
always\t'Always'
never\t'Never'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand pcap-decode" -l fail-on -d 'Which findings make the exit code 1: critical ones (default), or warnings too' -r -f -a "critical\t'Critical findings and failed expectations only'
warning\t'Warnings too, as linters do'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand pcap-decode" -l rtp-heuristics -d 'Also decode RTP/RTCP on UDP flows no SDP announced (like Wireshark\'s rtp.heuristic_rtp)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand pcap-decode" -l json -d 'Print one JSON document (the report) instead of text'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand pcap-decode" -s v -l verbose -d 'Show decoded messages on stderr (-vv adds hex dumps)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand pcap-decode" -s q -l quiet -d 'Print nothing on stdout: the exit code alone says how it went (for scripts)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand pcap-decode" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand pcap-decode" -s V -l version -d 'Print version'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand enum-lookup" -l sip-domain -d 'Locate the SIP servers of this domain (RFC 3263), like sip:DOMAIN' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand enum-lookup" -l suffix -d 'ENUM tree to look in, tried in the order given (default e164.arpa; give it as well to try it after a private tree)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand enum-lookup" -l service -d 'Only this enumservice, e.g. E2U+sip, sip, E2U+voice:tel (default: all)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand enum-lookup" -l server -d 'Ask this nameserver, ADDR[:PORT], instead of the system\'s (/etc/resolv.conf)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand enum-lookup" -l timeout -d 'Bound on each network wait, e.g. 2s, 500ms [default: 3s]' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand enum-lookup" -l color -d 'When to colour the human output' -r -f -a "auto\t'When stdout is a terminal'
always\t'Always'
never\t'Never'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand enum-lookup" -l fail-on -d 'Which findings make the exit code 1: critical ones (default), or warnings too' -r -f -a "critical\t'Critical findings and failed expectations only'
warning\t'Warnings too, as linters do'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand enum-lookup" -l tcp -d 'Query over TCP only'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand enum-lookup" -l json -d 'Print one JSON document (the report) instead of text'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand enum-lookup" -s v -l verbose -d 'Show decoded messages on stderr (-vv adds hex dumps)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand enum-lookup" -s q -l quiet -d 'Print nothing on stdout: the exit code alone says how it went (for scripts)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand enum-lookup" -s 4 -l ipv4 -d 'Use IPv4 only'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand enum-lookup" -s 6 -l ipv6 -d 'Use IPv6 only'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand enum-lookup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand enum-lookup" -s V -l version -d 'Print version'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand upnp-map" -l protocol -d 'Which gateway protocol to speak' -r -f -a "auto\t'All three at once'
upnp\t'UPnP IGD v1/v2'
natpmp\t'NAT-PMP (RFC 6886)'
pcp\t'PCP (RFC 6887)'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand upnp-map" -l gateway -d 'The gateway: an address (NAT-PMP/PCP, and the only UPnP device accepted) or the URL of its UPnP description (skips SSDP discovery). Default: the default route\'s gateway' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand upnp-map" -l local -d 'Search from this local address (default: the one routing to the gateway)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand upnp-map" -l interface -d 'Search on this interface (its IPv4 address)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand upnp-map" -l internal-client -d 'For add: the LAN address to forward to (default: our own)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand upnp-map" -l internal-port -d 'For add/delete: the internal port (default: the external port)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand upnp-map" -l lease -d 'For add: lease in seconds (0 = permanent, if the gateway allows it)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand upnp-map" -l description -d 'For add: the mapping\'s description (UPnP)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand upnp-map" -l stun -d 'Compare the gateway\'s external address with the one this STUN server sees (HOST[:PORT])' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand upnp-map" -l timeout -d 'Bound on each network wait, e.g. 2s, 500ms [default: 3s]' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand upnp-map" -l color -d 'When to colour the human output' -r -f -a "auto\t'When stdout is a terminal'
always\t'Always'
never\t'Never'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand upnp-map" -l fail-on -d 'Which findings make the exit code 1: critical ones (default), or warnings too' -r -f -a "critical\t'Critical findings and failed expectations only'
warning\t'Warnings too, as linters do'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand upnp-map" -l json -d 'Print one JSON document (the report) instead of text'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand upnp-map" -s v -l verbose -d 'Show decoded messages on stderr (-vv adds hex dumps)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand upnp-map" -s q -l quiet -d 'Print nothing on stdout: the exit code alone says how it went (for scripts)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand upnp-map" -s 4 -l ipv4 -d 'Use IPv4 only'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand upnp-map" -s 6 -l ipv6 -d 'Use IPv6 only'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand upnp-map" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand upnp-map" -s V -l version -d 'Print version'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand help; and not __fish_seen_subcommand_from nat-probe sip-options register call pcap-decode enum-lookup upnp-map help" -f -a "nat-probe" -d 'Discover how the NAT/firewall behaves (RFC 4787 terms, RFC 5780 tests) and what that means for calls'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand help; and not __fish_seen_subcommand_from nat-probe sip-options register call pcap-decode enum-lookup upnp-map help" -f -a "sip-options" -d 'Is the SIP server alive, how fast, what is it, and does it see us behind NAT or a SIP ALG? Sends OPTIONS (RFC 3261 §11)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand help; and not __fish_seen_subcommand_from nat-probe sip-options register call pcap-decode enum-lookup upnp-map help" -f -a "register" -d 'Can this account register? REGISTER with digest authentication (RFC 3261 §10, RFC 7616/8760); shows the bindings and expiry the registrar kept'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand help; and not __fish_seen_subcommand_from nat-probe sip-options register call pcap-decode enum-lookup upnp-map help" -f -a "call" -d 'Does a call set up and carry audio both ways — and if not, why? Places a test call (INVITE with SDP, RFC 3261/3264), sends and receives RTP (RFC 3550) and judges each direction from evidence'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand help; and not __fish_seen_subcommand_from nat-probe sip-options register call pcap-decode enum-lookup upnp-map help" -f -a "pcap-decode" -d 'What happened in this capture: SIP calls, RTP quality each way, STUN, and NAT trouble in signalling and media (pcap/pcapng; RFC 3550 loss and jitter)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand help; and not __fish_seen_subcommand_from nat-probe sip-options register call pcap-decode enum-lookup upnp-map help" -f -a "enum-lookup" -d 'Where does this number route, which servers take calls for this domain? ENUM (RFC 6116: NAPTR rules applied, URIs in try order) and RFC 3263 for SIP domains'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand help; and not __fish_seen_subcommand_from nat-probe sip-options register call pcap-decode enum-lookup upnp-map help" -f -a "upnp-map" -d 'Can the gateway open a port for us, and would it help? UPnP IGD, NAT-PMP (RFC 6886) and PCP (RFC 6887): external address, list/add/delete mappings, double-NAT check'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand help; and not __fish_seen_subcommand_from nat-probe sip-options register call pcap-decode enum-lookup upnp-map help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
