
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
