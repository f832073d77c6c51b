
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
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Bound on each network wait, e.g. 2s, 500ms')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the human output')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for every random choice (Call-IDs, tags, branches, STUN transaction IDs), so a run''s identifiers can be reproduced in tests. Default: from the operating system')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (the report) instead of text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
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
            [CompletionResult]::new('pcap-decode', 'pcap-decode', [CompletionResultType]::ParameterValue, 'What happened in this capture: SIP calls, RTP quality each way, STUN, and NAT trouble in signalling and media (pcap/pcapng; RFC 3550 loss and jitter)')
            [CompletionResult]::new('enum-lookup', 'enum-lookup', [CompletionResultType]::ParameterValue, 'Where does this number route, which servers take calls for this domain? ENUM (RFC 6116: NAPTR rules applied, URIs in try order) and RFC 3263 for SIP domains')
            [CompletionResult]::new('upnp-map', 'upnp-map', [CompletionResultType]::ParameterValue, 'Can the gateway open a port for us, and would it help? UPnP IGD, NAT-PMP (RFC 6886) and PCP (RFC 6887): external address, list/add/delete mappings, double-NAT check')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write shell completions and man pages generated from these definitions')
            break
        }
        'voipdiag;nat-probe' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'STUN server HOST[:PORT] (default port 3478; repeatable). The first one that supports RFC 5780 runs the behaviour tests. Default: a built-in list of public servers')
            [CompletionResult]::new('--transport', '--transport', [CompletionResultType]::ParameterName, 'Transport to STUN over. With udp, TCP is tried as well to tell "UDP blocked" from "server down"; tcp only learns the public address')
            [CompletionResult]::new('--local', '--local', [CompletionResultType]::ParameterName, 'Local address to bind, ADDR[:PORT] (the port applies to the main socket)')
            [CompletionResult]::new('--lifetime-max', '--lifetime-max', [CompletionResultType]::ParameterName, 'Upper bound of the lifetime measurement')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Bound on each network wait, e.g. 2s, 500ms')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the human output')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for every random choice (Call-IDs, tags, branches, STUN transaction IDs), so a run''s identifiers can be reproduced in tests. Default: from the operating system')
            [CompletionResult]::new('--lifetime', '--lifetime', [CompletionResultType]::ParameterName, 'Also measure how long a UDP binding lives without traffic (RFC 5780 §4.6); takes up to --lifetime-max')
            [CompletionResult]::new('--no-hairpinning', '--no-hairpinning', [CompletionResultType]::ParameterName, 'Skip the hairpinning test')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (the report) instead of text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
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
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Bound on each network wait, e.g. 2s, 500ms')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the human output')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for every random choice (Call-IDs, tags, branches, STUN transaction IDs), so a run''s identifiers can be reproduced in tests. Default: from the operating system')
            [CompletionResult]::new('--json-lines', '--json-lines', [CompletionResultType]::ParameterName, 'Print one JSON object per probe as it completes (then the report)')
            [CompletionResult]::new('--no-alg-check', '--no-alg-check', [CompletionResultType]::ParameterName, 'Skip the second OPTIONS that detects a SIP ALG')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the TLS certificate (the connection is then open to interception)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (the report) instead of text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
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
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Bound on each network wait, e.g. 2s, 500ms')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the human output')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for every random choice (Call-IDs, tags, branches, STUN transaction IDs), so a run''s identifiers can be reproduced in tests. Default: from the operating system')
            [CompletionResult]::new('--unregister', '--unregister', [CompletionResultType]::ParameterName, 'Remove our binding (Expires: 0)')
            [CompletionResult]::new('--auth-int', '--auth-int', [CompletionResultType]::ParameterName, 'Prefer qop=auth-int when the registrar offers it')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the TLS certificate (the connection is then open to interception)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (the report) instead of text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
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
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Bound on each network wait, e.g. 2s, 500ms')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the human output')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for every random choice (Call-IDs, tags, branches, STUN transaction IDs), so a run''s identifiers can be reproduced in tests. Default: from the operating system')
            [CompletionResult]::new('--rtp-heuristics', '--rtp-heuristics', [CompletionResultType]::ParameterName, 'Also decode RTP/RTCP on UDP flows no SDP announced (like Wireshark''s rtp.heuristic_rtp)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (the report) instead of text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
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
        'voipdiag;enum-lookup' {
            [CompletionResult]::new('--sip-domain', '--sip-domain', [CompletionResultType]::ParameterName, 'Locate the SIP servers of this domain (RFC 3263), like sip:DOMAIN')
            [CompletionResult]::new('--suffix', '--suffix', [CompletionResultType]::ParameterName, 'ENUM tree to look in, tried in the order given (default e164.arpa; give it as well to try it after a private tree)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Only this enumservice, e.g. E2U+sip, sip, E2U+voice:tel (default: all)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Ask this nameserver, ADDR[:PORT], instead of the system''s (/etc/resolv.conf)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Bound on each network wait, e.g. 2s, 500ms')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the human output')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for every random choice (Call-IDs, tags, branches, STUN transaction IDs), so a run''s identifiers can be reproduced in tests. Default: from the operating system')
            [CompletionResult]::new('--tcp', '--tcp', [CompletionResultType]::ParameterName, 'Query over TCP only')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (the report) instead of text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
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
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Bound on each network wait, e.g. 2s, 500ms')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the human output')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for every random choice (Call-IDs, tags, branches, STUN transaction IDs), so a run''s identifiers can be reproduced in tests. Default: from the operating system')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (the report) instead of text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
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
        'voipdiag;generate' {
            [CompletionResult]::new('--out-dir', '--out-dir', [CompletionResultType]::ParameterName, 'Directory that receives completions/ and man/')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Bound on each network wait, e.g. 2s, 500ms')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the human output')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for every random choice (Call-IDs, tags, branches, STUN transaction IDs), so a run''s identifiers can be reproduced in tests. Default: from the operating system')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (the report) instead of text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show decoded messages on stderr (-vv adds hex dumps)')
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
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
