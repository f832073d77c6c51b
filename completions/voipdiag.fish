# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_voipdiag_global_optspecs
    string join \n json timeout= v/verbose color= 4/ipv4 6/ipv6 h/help V/version
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

complete -c voipdiag -n "__fish_voipdiag_needs_command" -l timeout -d 'Bound on each network wait, e.g. 2s, 500ms' -r
complete -c voipdiag -n "__fish_voipdiag_needs_command" -l color -d 'When to colour the human output' -r -f -a "auto\t'When stdout is a terminal'
always\t'Always'
never\t'Never'"
complete -c voipdiag -n "__fish_voipdiag_needs_command" -l json -d 'Print one JSON document (the report) instead of text'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -s v -l verbose -d 'Show decoded messages on stderr (-vv adds hex dumps)'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -s 4 -l ipv4 -d 'Use IPv4 only'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -s 6 -l ipv6 -d 'Use IPv6 only'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -s V -l version -d 'Print version'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -f -a "nat-probe" -d 'Discover how the NAT/firewall behaves (RFC 4787 terms, RFC 5780 tests) and what that means for calls'
complete -c voipdiag -n "__fish_voipdiag_needs_command" -f -a "generate" -d 'Write shell completions and man pages generated from these definitions'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l server -d 'STUN server HOST[:PORT] (default port 3478; repeatable). The first one that supports RFC 5780 runs the behaviour tests. Default: a built-in list of public servers' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l transport -d 'Transport to STUN over. With udp, TCP is tried as well to tell "UDP blocked" from "server down"; tcp only learns the public address' -r -f -a "udp\t'STUN over UDP (RFC 8489 §6.2.1)'
tcp\t'STUN over TCP (RFC 8489 §6.2.2)'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l local -d 'Local address to bind, ADDR[:PORT] (the port applies to the main socket)' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l lifetime-max -d 'Upper bound of the lifetime measurement' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l timeout -d 'Bound on each network wait, e.g. 2s, 500ms' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l color -d 'When to colour the human output' -r -f -a "auto\t'When stdout is a terminal'
always\t'Always'
never\t'Never'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l lifetime -d 'Also measure how long a UDP binding lives without traffic (RFC 5780 §4.6); takes up to --lifetime-max'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l no-hairpinning -d 'Skip the hairpinning test'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -l json -d 'Print one JSON document (the report) instead of text'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -s v -l verbose -d 'Show decoded messages on stderr (-vv adds hex dumps)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -s 4 -l ipv4 -d 'Use IPv4 only'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -s 6 -l ipv6 -d 'Use IPv6 only'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand nat-probe" -s V -l version -d 'Print version'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand generate" -l out-dir -d 'Directory that receives completions/ and man/' -r -F
complete -c voipdiag -n "__fish_voipdiag_using_subcommand generate" -l timeout -d 'Bound on each network wait, e.g. 2s, 500ms' -r
complete -c voipdiag -n "__fish_voipdiag_using_subcommand generate" -l color -d 'When to colour the human output' -r -f -a "auto\t'When stdout is a terminal'
always\t'Always'
never\t'Never'"
complete -c voipdiag -n "__fish_voipdiag_using_subcommand generate" -l json -d 'Print one JSON document (the report) instead of text'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand generate" -s v -l verbose -d 'Show decoded messages on stderr (-vv adds hex dumps)'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand generate" -s 4 -l ipv4 -d 'Use IPv4 only'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand generate" -s 6 -l ipv6 -d 'Use IPv6 only'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c voipdiag -n "__fish_voipdiag_using_subcommand generate" -s V -l version -d 'Print version'
