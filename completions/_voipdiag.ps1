
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'voipdiag' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'voipdiag'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'voipdiag' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Bound on each network wait, e.g. 2s, 500ms [default: 3s]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the human output')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Which findings make the exit code 1: critical ones (default), or warnings too')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (the report) instead of text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stdout: the exit code alone says how it went (for scripts)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stdout: the exit code alone says how it went (for scripts)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('nat-probe', 'nat-probe', [CompletionResultType]::ParameterValue, 'Discover how the NAT/firewall behaves (RFC 4787 terms, RFC 5780 tests) and what that means for calls')
            [CompletionResult]::new('sip-options', 'sip-options', [CompletionResultType]::ParameterValue, 'Is the SIP server alive, how fast, what is it, and does it see us behind NAT or a SIP ALG? Sends OPTIONS (RFC 3261 §11)')
            [CompletionResult]::new('register', 'register', [CompletionResultType]::ParameterValue, 'Can this account register? REGISTER with digest authentication (RFC 3261 §10, RFC 7616/8760); shows the bindings and expiry the registrar kept')
            [CompletionResult]::new('call', 'call', [CompletionResultType]::ParameterValue, 'Does a call set up and carry audio both ways — and if not, why? Places a test call (INVITE with SDP, RFC 3261/3264), sends and receives RTP (RFC 3550) and judges each direction from evidence')
            [CompletionResult]::new('pcap-decode', 'pcap-decode', [CompletionResultType]::ParameterValue, 'What happened in this capture: SIP calls, RTP quality each way, STUN, and NAT trouble in signalling and media (pcap/pcapng; RFC 3550 loss and jitter)')
            [CompletionResult]::new('enum-lookup', 'enum-lookup', [CompletionResultType]::ParameterValue, 'Where does this number route, which servers take calls for this domain? ENUM (RFC 6116: NAPTR rules applied, URIs in try order) and RFC 3263 for SIP domains')
            [CompletionResult]::new('upnp-map', 'upnp-map', [CompletionResultType]::ParameterValue, 'Can the gateway open a port for us, and would it help? UPnP IGD, NAT-PMP (RFC 6886) and PCP (RFC 6887): external address, list/add/delete mappings, double-NAT check')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'voipdiag;nat-probe' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'STUN server HOST[:PORT] (default port 3478; repeatable). The first one that supports RFC 5780 runs the behaviour tests. Default: a built-in list of public servers')
            [CompletionResult]::new('--transport', '--transport', [CompletionResultType]::ParameterName, 'Transport to STUN over. With udp, TCP is tried as well to tell "UDP blocked" from "server down"; tcp only learns the public address')
            [CompletionResult]::new('--local', '--local', [CompletionResultType]::ParameterName, 'Local address to bind, ADDR[:PORT] (the port applies to the main socket)')
            [CompletionResult]::new('--lifetime-max', '--lifetime-max', [CompletionResultType]::ParameterName, 'Upper bound of the lifetime measurement')
            [CompletionResult]::new('--turn', '--turn', [CompletionResultType]::ParameterName, 'Test this TURN server: turn:HOST[:PORT][?transport=udp|tcp] or turns:HOST[:PORT] (TLS; RFC 7065, default ports 3478/5349). Repeatable. Without --server the TURN host is also the STUN server')
            [CompletionResult]::new('--ice-servers', '--ice-servers', [CompletionResultType]::ParameterName, 'Read TURN servers and credentials from a WebRTC iceServers list or a TURN REST response ({username, password, ttl, uris}) in FILE ("-": stdin)')
            [CompletionResult]::new('--turn-user', '--turn-user', [CompletionResultType]::ParameterName, 'TURN user name (long-term credential, RFC 8489 §9.2); with a shared secret, the USER part of the TURN REST user name EXPIRY:USER')
            [CompletionResult]::new('--turn-password-file', '--turn-password-file', [CompletionResultType]::ParameterName, 'Read the TURN password from the first line of this file')
            [CompletionResult]::new('--turn-password', '--turn-password', [CompletionResultType]::ParameterName, 'The TURN password. Visible to other users of this machine (process list, shell history): prefer $VOIPDIAG_TURN_PASSWORD, --turn-password-file or the prompt')
            [CompletionResult]::new('--turn-secret-file', '--turn-secret-file', [CompletionResultType]::ParameterName, 'Mint TURN REST credentials from the shared secret in the first line of this file (coturn --static-auth-secret); also $VOIPDIAG_TURN_SECRET')
            [CompletionResult]::new('--turn-ttl', '--turn-ttl', [CompletionResultType]::ParameterName, 'Validity of minted TURN REST credentials')
            [CompletionResult]::new('--turn-peer', '--turn-peer', [CompletionResultType]::ParameterName, 'Who plays the peer: auto (self, then two), self (a second local socket), two (two allocations relay to each other), or a UDP echo server HOST:PORT')
            [CompletionResult]::new('--turn-count', '--turn-count', [CompletionResultType]::ParameterName, 'Packets sent each way per mechanism (indication, channel), 20 ms apart')
            [CompletionResult]::new('--turn-hold', '--turn-hold', [CompletionResultType]::ParameterName, 'Hold the allocation this long with refreshes, then send media again (6 min or more also proves the 300 s permission and 600 s channel refresh)')
            [CompletionResult]::new('--turn-family', '--turn-family', [CompletionResultType]::ParameterName, 'Relayed address family (REQUESTED-ADDRESS-FAMILY, RFC 8656 §18.1); dual tests both')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for turns: (default: the system''s)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Bound on each network wait, e.g. 2s, 500ms [default: 3s]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the human output')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Which findings make the exit code 1: critical ones (default), or warnings too')
            [CompletionResult]::new('--lifetime', '--lifetime', [CompletionResultType]::ParameterName, 'Also measure how long a UDP binding lives without traffic (RFC 5780 §4.6); takes up to --lifetime-max')
            [CompletionResult]::new('--no-hairpinning', '--no-hairpinning', [CompletionResultType]::ParameterName, 'Skip the hairpinning test')
            [CompletionResult]::new('--turn-only', '--turn-only', [CompletionResultType]::ParameterName, 'Only the TURN test: skip the RFC 5780 NAT behaviour tests (e.g. monitoring from cron)')
            [CompletionResult]::new('--turn-peer-policy', '--turn-peer-policy', [CompletionResultType]::ParameterName, 'Audit which internal peer addresses the server accepts (CreatePermission only, no data sent): loopback, RFC 1918, CGNAT, link-local, 169.254.169.254, ULA')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the turns: certificate (the connection is then open to interception)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (the report) instead of text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stdout: the exit code alone says how it went (for scripts)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stdout: the exit code alone says how it went (for scripts)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'voipdiag;sip-options' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Probes per target, like ping -c (0 = until Ctrl-C)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Probes per target, like ping -c (0 = until Ctrl-C)')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Time between the starts of probes of one target; 0 sends the next as soon as the previous one is answered (flood, for load tests)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between the starts of probes of one target; 0 sends the next as soon as the previous one is answered (flood, for load tests)')
            [CompletionResult]::new('--parallel', '--parallel', [CompletionResultType]::ParameterName, 'Flows per target, each with one probe in flight (load tests with --interval 0)')
            [CompletionResult]::new('--transport', '--transport', [CompletionResultType]::ParameterName, 'Transport; default from the URI (`transport=`, `sips:`) or RFC 3263 DNS, else udp')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Send through this outbound proxy (a SIP URI or HOST[:PORT]); it is located with RFC 3263 instead of the target')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'Ask this nameserver, ADDR[:PORT], instead of the system''s')
            [CompletionResult]::new('--local', '--local', [CompletionResultType]::ParameterName, 'Local address to send from, ADDR[:PORT]')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for TLS (default: the system''s)')
            [CompletionResult]::new('--t1', '--t1', [CompletionResultType]::ParameterName, 'SIP timer T1, the RTT estimate retransmissions start from (RFC 3261 §17.1.1.1)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Bound on each network wait, e.g. 2s, 500ms [default: 3s]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the human output')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Which findings make the exit code 1: critical ones (default), or warnings too')
            [CompletionResult]::new('--json-lines', '--json-lines', [CompletionResultType]::ParameterName, 'Print one JSON object per probe as it completes (then the report)')
            [CompletionResult]::new('--no-alg-check', '--no-alg-check', [CompletionResultType]::ParameterName, 'Skip the second OPTIONS that detects a SIP ALG')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the TLS certificate (the connection is then open to interception)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (the report) instead of text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stdout: the exit code alone says how it went (for scripts)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stdout: the exit code alone says how it went (for scripts)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'voipdiag;register' {
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Authentication user name when it differs from the AOR''s user part')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of this file')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'The password. Visible to other users of this machine (process list, shell history): prefer $VOIPDIAG_PASSWORD, --password-file or the prompt')
            [CompletionResult]::new('--expires', '--expires', [CompletionResultType]::ParameterName, 'Requested binding lifetime in seconds')
            [CompletionResult]::new('--contact', '--contact', [CompletionResultType]::ParameterName, 'Contact URI to register (default: sip:USER@our-address:port)')
            [CompletionResult]::new('--transport', '--transport', [CompletionResultType]::ParameterName, 'Transport; default from the URI (`transport=`, `sips:`) or RFC 3263 DNS, else udp')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Send through this outbound proxy (a SIP URI or HOST[:PORT]); it is located with RFC 3263 instead of the target')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'Ask this nameserver, ADDR[:PORT], instead of the system''s')
            [CompletionResult]::new('--local', '--local', [CompletionResultType]::ParameterName, 'Local address to send from, ADDR[:PORT]')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for TLS (default: the system''s)')
            [CompletionResult]::new('--t1', '--t1', [CompletionResultType]::ParameterName, 'SIP timer T1, the RTT estimate retransmissions start from (RFC 3261 §17.1.1.1)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Bound on each network wait, e.g. 2s, 500ms [default: 3s]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the human output')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Which findings make the exit code 1: critical ones (default), or warnings too')
            [CompletionResult]::new('--unregister', '--unregister', [CompletionResultType]::ParameterName, 'Remove our binding (Expires: 0)')
            [CompletionResult]::new('--auth-int', '--auth-int', [CompletionResultType]::ParameterName, 'Prefer qop=auth-int when the registrar offers it')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the TLS certificate (the connection is then open to interception)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (the report) instead of text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stdout: the exit code alone says how it went (for scripts)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stdout: the exit code alone says how it went (for scripts)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'voipdiag;call' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'With --answer: where to listen for the INVITE, ADDR[:PORT] (port 5060 by default)')
            [CompletionResult]::new('--register', '--register', [CompletionResultType]::ParameterName, 'With --answer: register this AOR from the listening socket first (REGISTER with the same password sources), answer the call the registrar routes to it, and remove the binding at the end — the far end of a test through a PBX or behind a NAT')
            [CompletionResult]::new('--ring', '--ring', [CompletionResultType]::ParameterName, 'With --answer: how long to ring (180) before answering')
            [CompletionResult]::new('--answer-code', '--answer-code', [CompletionResultType]::ParameterName, 'With --answer: the final response to give (e.g. 486 to play a busy callee)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'With --answer: the longest the whole run takes (no INVITE by then: no call; a call still up then is ended with BYE)')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Our From URI (default: sip:USER@ the target''s domain, or sip:voipdiag@ our address)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Authentication user name (default: the user part of --from)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of this file')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'The password (visible to other users in the process list: prefer $VOIPDIAG_PASSWORD or --password-file)')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'How long the call stays up after the answer (0: hang up at once). Default 5s; with --answer, until the caller hangs up (bounded by --wait)')
            [CompletionResult]::new('--cancel-after', '--cancel-after', [CompletionResultType]::ParameterName, 'CANCEL this long after the INVITE (after a provisional response, RFC 3261 §9.1)')
            [CompletionResult]::new('--codec', '--codec', [CompletionResultType]::ParameterName, 'Codecs to offer, in order')
            [CompletionResult]::new('--ptime', '--ptime', [CompletionResultType]::ParameterName, 'Packet time, ms')
            [CompletionResult]::new('--rtp-port', '--rtp-port', [CompletionResultType]::ParameterName, 'Local RTP port or range, N or LO-HI (RTCP on the next port unless --rtcp-mux)')
            [CompletionResult]::new('--stun', '--stun', [CompletionResultType]::ParameterName, 'Learn the public address of our RTP socket from this STUN server (HOST[:PORT], from the RTP socket itself) and offer it in our SDP, so a far end behind no ALG and without latching can reach us through our NAT')
            [CompletionResult]::new('--media-address', '--media-address', [CompletionResultType]::ParameterName, 'The address to put in our SDP (e.g. the NAT''s public address); default: the RTP socket''s')
            [CompletionResult]::new('--dtmf', '--dtmf', [CompletionResultType]::ParameterName, 'Send these DTMF digits (RFC 4733) once media starts: 0-9 * # A-D')
            [CompletionResult]::new('--tone', '--tone', [CompletionResultType]::ParameterName, 'Frequency of the tone we send, Hz')
            [CompletionResult]::new('--play', '--play', [CompletionResultType]::ParameterName, 'Send this WAV file (PCM, any rate: mono or the first channel, resampled to 8 kHz), repeated for the whole call')
            [CompletionResult]::new('--record', '--record', [CompletionResultType]::ParameterName, 'Write what arrived (the main G.711 stream, decoded; lost packets as silence) to this WAV file, 8 kHz 16-bit mono')
            [CompletionResult]::new('--expect-dtmf', '--expect-dtmf', [CompletionResultType]::ParameterName, 'The DTMF digits the far end must send us (RFC 4733), e.g. in --answer mode')
            [CompletionResult]::new('--pcap', '--pcap', [CompletionResultType]::ParameterName, 'Write every SIP and RTP/RTCP packet we sent and received to this pcap file (pcap-decode and Wireshark read it; SIP over TLS is written decrypted, as TCP)')
            [CompletionResult]::new('--expect-status', '--expect-status', [CompletionResultType]::ParameterName, 'Final status codes that count as success (default: any 2xx)')
            [CompletionResult]::new('--expect-media', '--expect-media', [CompletionResultType]::ParameterName, 'Which directions must carry audio')
            [CompletionResult]::new('--max-loss', '--max-loss', [CompletionResultType]::ParameterName, 'Highest acceptable loss in either direction, percent')
            [CompletionResult]::new('--max-jitter', '--max-jitter', [CompletionResultType]::ParameterName, 'Highest acceptable mean inbound jitter, ms')
            [CompletionResult]::new('--min-mos', '--min-mos', [CompletionResultType]::ParameterName, 'Lowest acceptable estimated MOS in either direction')
            [CompletionResult]::new('--max-pdd', '--max-pdd', [CompletionResultType]::ParameterName, 'Highest acceptable post-dial delay (INVITE to ringing), ms')
            [CompletionResult]::new('--max-rtt', '--max-rtt', [CompletionResultType]::ParameterName, 'Highest acceptable round-trip time, ms')
            [CompletionResult]::new('--transport', '--transport', [CompletionResultType]::ParameterName, 'Transport; default from the URI (`transport=`, `sips:`) or RFC 3263 DNS, else udp')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Send through this outbound proxy (a SIP URI or HOST[:PORT]); it is located with RFC 3263 instead of the target')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'Ask this nameserver, ADDR[:PORT], instead of the system''s')
            [CompletionResult]::new('--local', '--local', [CompletionResultType]::ParameterName, 'Local address to send from, ADDR[:PORT]')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for TLS (default: the system''s)')
            [CompletionResult]::new('--t1', '--t1', [CompletionResultType]::ParameterName, 'SIP timer T1, the RTT estimate retransmissions start from (RFC 3261 §17.1.1.1)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Bound on each network wait, e.g. 2s, 500ms [default: 3s]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the human output')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Which findings make the exit code 1: critical ones (default), or warnings too')
            [CompletionResult]::new('--answer', '--answer', [CompletionResultType]::ParameterName, 'Answer one call instead of placing one (UDP): ring, answer, run the same media, and report; the 200 tells the caller how its offer arrived (X-Voipdiag-Offer-Seen)')
            [CompletionResult]::new('--rtcp-mux', '--rtcp-mux', [CompletionResultType]::ParameterName, 'Offer RTCP on the RTP port (RFC 5761)')
            [CompletionResult]::new('--no-latch', '--no-latch', [CompletionResultType]::ParameterName, 'Do not send to where the far end''s RTP comes from when it differs from its SDP (behave like a strict phone)')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'The target echoes RTP (sipp -rtp_echo, an echo test): match returned packets to ours')
            [CompletionResult]::new('--silence', '--silence', [CompletionResultType]::ParameterName, 'Send silence instead of a tone')
            [CompletionResult]::new('--alg-check', '--alg-check', [CompletionResultType]::ParameterName, 'Before the call (UDP), check for a SIP ALG on the path the way sip-options does: an OPTIONS, then one whose Via names a host an ALG leaves alone (two round trips)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the TLS certificate (the connection is then open to interception)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (the report) instead of text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stdout: the exit code alone says how it went (for scripts)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stdout: the exit code alone says how it went (for scripts)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'voipdiag;pcap-decode' {
            [CompletionResult]::new('--view', '--view', [CompletionResultType]::ParameterName, 'What the human output shows (--json always carries everything)')
            [CompletionResult]::new('--call-id', '--call-id', [CompletionResultType]::ParameterName, 'The dialog for --view ladder (default: the first call)')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Threads: 1 reads and analyses on one; 2 or more read the file on a second thread while the first analyses (the report is the same). Default: 2 for a regular file of 64 MiB or more on a machine with two cores or more, else 1 (stdin, pipes, small files)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the human output')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Which findings make the exit code 1: critical ones (default), or warnings too')
            [CompletionResult]::new('--rtp-heuristics', '--rtp-heuristics', [CompletionResultType]::ParameterName, 'Also decode RTP/RTCP on UDP flows no SDP announced (like Wireshark''s rtp.heuristic_rtp)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (the report) instead of text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stdout: the exit code alone says how it went (for scripts)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stdout: the exit code alone says how it went (for scripts)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'voipdiag;enum-lookup' {
            [CompletionResult]::new('--sip-domain', '--sip-domain', [CompletionResultType]::ParameterName, 'Locate the SIP servers of this domain (RFC 3263), like sip:DOMAIN')
            [CompletionResult]::new('--suffix', '--suffix', [CompletionResultType]::ParameterName, 'ENUM tree to look in, tried in the order given (default e164.arpa; give it as well to try it after a private tree)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Only this enumservice, e.g. E2U+sip, sip, E2U+voice:tel (default: all)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Ask this nameserver, ADDR[:PORT], instead of the system''s (/etc/resolv.conf)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Bound on each network wait, e.g. 2s, 500ms [default: 3s]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the human output')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Which findings make the exit code 1: critical ones (default), or warnings too')
            [CompletionResult]::new('--tcp', '--tcp', [CompletionResultType]::ParameterName, 'Query over TCP only')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (the report) instead of text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stdout: the exit code alone says how it went (for scripts)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stdout: the exit code alone says how it went (for scripts)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'voipdiag;upnp-map' {
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'Which gateway protocol to speak')
            [CompletionResult]::new('--gateway', '--gateway', [CompletionResultType]::ParameterName, 'The gateway: an address (NAT-PMP/PCP, and the only UPnP device accepted) or the URL of its UPnP description (skips SSDP discovery). Default: the default route''s gateway')
            [CompletionResult]::new('--local', '--local', [CompletionResultType]::ParameterName, 'Search from this local address (default: the one routing to the gateway)')
            [CompletionResult]::new('--interface', '--interface', [CompletionResultType]::ParameterName, 'Search on this interface (its IPv4 address)')
            [CompletionResult]::new('--internal-client', '--internal-client', [CompletionResultType]::ParameterName, 'For add: the LAN address to forward to (default: our own)')
            [CompletionResult]::new('--internal-port', '--internal-port', [CompletionResultType]::ParameterName, 'For add/delete: the internal port (default: the external port)')
            [CompletionResult]::new('--lease', '--lease', [CompletionResultType]::ParameterName, 'For add: lease in seconds (0 = permanent, if the gateway allows it)')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'For add: the mapping''s description (UPnP)')
            [CompletionResult]::new('--stun', '--stun', [CompletionResultType]::ParameterName, 'Compare the gateway''s external address with the one this STUN server sees (HOST[:PORT])')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Bound on each network wait, e.g. 2s, 500ms [default: 3s]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the human output')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Which findings make the exit code 1: critical ones (default), or warnings too')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (the report) instead of text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stdout: the exit code alone says how it went (for scripts)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stdout: the exit code alone says how it went (for scripts)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'voipdiag;help' {
            [CompletionResult]::new('nat-probe', 'nat-probe', [CompletionResultType]::ParameterValue, 'Discover how the NAT/firewall behaves (RFC 4787 terms, RFC 5780 tests) and what that means for calls')
            [CompletionResult]::new('sip-options', 'sip-options', [CompletionResultType]::ParameterValue, 'Is the SIP server alive, how fast, what is it, and does it see us behind NAT or a SIP ALG? Sends OPTIONS (RFC 3261 §11)')
            [CompletionResult]::new('register', 'register', [CompletionResultType]::ParameterValue, 'Can this account register? REGISTER with digest authentication (RFC 3261 §10, RFC 7616/8760); shows the bindings and expiry the registrar kept')
            [CompletionResult]::new('call', 'call', [CompletionResultType]::ParameterValue, 'Does a call set up and carry audio both ways — and if not, why? Places a test call (INVITE with SDP, RFC 3261/3264), sends and receives RTP (RFC 3550) and judges each direction from evidence')
            [CompletionResult]::new('pcap-decode', 'pcap-decode', [CompletionResultType]::ParameterValue, 'What happened in this capture: SIP calls, RTP quality each way, STUN, and NAT trouble in signalling and media (pcap/pcapng; RFC 3550 loss and jitter)')
            [CompletionResult]::new('enum-lookup', 'enum-lookup', [CompletionResultType]::ParameterValue, 'Where does this number route, which servers take calls for this domain? ENUM (RFC 6116: NAPTR rules applied, URIs in try order) and RFC 3263 for SIP domains')
            [CompletionResult]::new('upnp-map', 'upnp-map', [CompletionResultType]::ParameterValue, 'Can the gateway open a port for us, and would it help? UPnP IGD, NAT-PMP (RFC 6886) and PCP (RFC 6887): external address, list/add/delete mappings, double-NAT check')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'voipdiag;help;nat-probe' {
            break
        }
        'voipdiag;help;sip-options' {
            break
        }
        'voipdiag;help;register' {
            break
        }
        'voipdiag;help;call' {
            break
        }
        'voipdiag;help;pcap-decode' {
            break
        }
        'voipdiag;help;enum-lookup' {
            break
        }
        'voipdiag;help;upnp-map' {
            break
        }
        'voipdiag;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
