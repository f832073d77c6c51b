
use builtin;
use str;

set edit:completion:arg-completer[voipdiag] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'voipdiag'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'voipdiag'= {
            cand --timeout 'Bound on each network wait, e.g. 2s, 500ms'
            cand --color 'When to colour the human output'
            cand --json 'Print one JSON document (the report) instead of text'
            cand -v 'Show decoded messages on stderr (-vv adds hex dumps)'
            cand --verbose 'Show decoded messages on stderr (-vv adds hex dumps)'
            cand -4 'Use IPv4 only'
            cand --ipv4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --ipv6 'Use IPv6 only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand nat-probe 'Discover how the NAT/firewall behaves (RFC 4787 terms, RFC 5780 tests) and what that means for calls'
            cand sip-options 'Is the SIP server alive, how fast, what is it, and does it see us behind NAT or a SIP ALG? Sends OPTIONS (RFC 3261 §11)'
            cand register 'Can this account register? REGISTER with digest authentication (RFC 3261 §10, RFC 7616/8760); shows the bindings and expiry the registrar kept'
            cand pcap-decode 'What happened in this capture: SIP calls, RTP quality each way, STUN, and NAT trouble in signalling and media (pcap/pcapng; RFC 3550 loss and jitter)'
            cand generate 'Write shell completions and man pages generated from these definitions'
        }
        &'voipdiag;nat-probe'= {
            cand --server 'STUN server HOST[:PORT] (default port 3478; repeatable). The first one that supports RFC 5780 runs the behaviour tests. Default: a built-in list of public servers'
            cand --transport 'Transport to STUN over. With udp, TCP is tried as well to tell "UDP blocked" from "server down"; tcp only learns the public address'
            cand --local 'Local address to bind, ADDR[:PORT] (the port applies to the main socket)'
            cand --lifetime-max 'Upper bound of the lifetime measurement'
            cand --timeout 'Bound on each network wait, e.g. 2s, 500ms'
            cand --color 'When to colour the human output'
            cand --lifetime 'Also measure how long a UDP binding lives without traffic (RFC 5780 §4.6); takes up to --lifetime-max'
            cand --no-hairpinning 'Skip the hairpinning test'
            cand --json 'Print one JSON document (the report) instead of text'
            cand -v 'Show decoded messages on stderr (-vv adds hex dumps)'
            cand --verbose 'Show decoded messages on stderr (-vv adds hex dumps)'
            cand -4 'Use IPv4 only'
            cand --ipv4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --ipv6 'Use IPv6 only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'voipdiag;sip-options'= {
            cand -c 'Probes per target, like ping -c (0 = until Ctrl-C)'
            cand --count 'Probes per target, like ping -c (0 = until Ctrl-C)'
            cand -i 'Time between the starts of probes of one target; 0 sends the next as soon as the previous one is answered (flood, for load tests)'
            cand --interval 'Time between the starts of probes of one target; 0 sends the next as soon as the previous one is answered (flood, for load tests)'
            cand --parallel 'Flows per target, each with one probe in flight (load tests with --interval 0)'
            cand --transport 'Transport; default from the URI (`transport=`, `sips:`) or RFC 3263 DNS, else udp'
            cand --proxy 'Send through this outbound proxy (a SIP URI or HOST[:PORT]); it is located with RFC 3263 instead of the target'
            cand --dns-server 'Ask this nameserver, ADDR[:PORT], instead of the system''s'
            cand --local 'Local address to send from, ADDR[:PORT]'
            cand --ca-file 'PEM file of CA certificates to trust for TLS (default: the system''s)'
            cand --t1 'SIP timer T1, the RTT estimate retransmissions start from (RFC 3261 §17.1.1.1)'
            cand --timeout 'Bound on each network wait, e.g. 2s, 500ms'
            cand --color 'When to colour the human output'
            cand --json-lines 'Print one JSON object per probe as it completes (then the report)'
            cand --no-alg-check 'Skip the second OPTIONS that detects a SIP ALG'
            cand --insecure 'Do not verify the TLS certificate (the connection is then open to interception)'
            cand --json 'Print one JSON document (the report) instead of text'
            cand -v 'Show decoded messages on stderr (-vv adds hex dumps)'
            cand --verbose 'Show decoded messages on stderr (-vv adds hex dumps)'
            cand -4 'Use IPv4 only'
            cand --ipv4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --ipv6 'Use IPv6 only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'voipdiag;register'= {
            cand --user 'Authentication user name when it differs from the AOR''s user part'
            cand --password-file 'Read the password from the first line of this file'
            cand --password 'The password. Visible to other users of this machine (process list, shell history): prefer $VOIPDIAG_PASSWORD, --password-file or the prompt'
            cand --expires 'Requested binding lifetime in seconds'
            cand --contact 'Contact URI to register (default: sip:USER@our-address:port)'
            cand --transport 'Transport; default from the URI (`transport=`, `sips:`) or RFC 3263 DNS, else udp'
            cand --proxy 'Send through this outbound proxy (a SIP URI or HOST[:PORT]); it is located with RFC 3263 instead of the target'
            cand --dns-server 'Ask this nameserver, ADDR[:PORT], instead of the system''s'
            cand --local 'Local address to send from, ADDR[:PORT]'
            cand --ca-file 'PEM file of CA certificates to trust for TLS (default: the system''s)'
            cand --t1 'SIP timer T1, the RTT estimate retransmissions start from (RFC 3261 §17.1.1.1)'
            cand --timeout 'Bound on each network wait, e.g. 2s, 500ms'
            cand --color 'When to colour the human output'
            cand --unregister 'Remove our binding (Expires: 0)'
            cand --auth-int 'Prefer qop=auth-int when the registrar offers it'
            cand --insecure 'Do not verify the TLS certificate (the connection is then open to interception)'
            cand --json 'Print one JSON document (the report) instead of text'
            cand -v 'Show decoded messages on stderr (-vv adds hex dumps)'
            cand --verbose 'Show decoded messages on stderr (-vv adds hex dumps)'
            cand -4 'Use IPv4 only'
            cand --ipv4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --ipv6 'Use IPv6 only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'voipdiag;pcap-decode'= {
            cand --view 'What the human output shows (--json always carries everything)'
            cand --call-id 'The dialog for --view ladder (default: the first call)'
            cand --timeout 'Bound on each network wait, e.g. 2s, 500ms'
            cand --color 'When to colour the human output'
            cand --rtp-heuristics 'Also decode RTP/RTCP on UDP flows no SDP announced (like Wireshark''s rtp.heuristic_rtp)'
            cand --json 'Print one JSON document (the report) instead of text'
            cand -v 'Show decoded messages on stderr (-vv adds hex dumps)'
            cand --verbose 'Show decoded messages on stderr (-vv adds hex dumps)'
            cand -4 'Use IPv4 only'
            cand --ipv4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --ipv6 'Use IPv6 only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'voipdiag;generate'= {
            cand --out-dir 'Directory that receives completions/ and man/'
            cand --timeout 'Bound on each network wait, e.g. 2s, 500ms'
            cand --color 'When to colour the human output'
            cand --json 'Print one JSON document (the report) instead of text'
            cand -v 'Show decoded messages on stderr (-vv adds hex dumps)'
            cand --verbose 'Show decoded messages on stderr (-vv adds hex dumps)'
            cand -4 'Use IPv4 only'
            cand --ipv4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --ipv6 'Use IPv6 only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
    ]
    $completions[$command]
}
