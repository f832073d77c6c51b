#!/usr/bin/env bash
# NAT lab: network namespaces with a client behind a real Linux NAT and an 'internet' side
# running coturn (RFC 5780, two public addresses). Used by tests/lab_nat.rs and
# benches/nat_probe.sh.
#
#   nat-lab.sh up PREFIX TOPOLOGY   build it; prints nothing on success
#   nat-lab.sh down PREFIX          remove everything with PREFIX (idempotent)
#   nat-lab.sh topologies           list the topologies
#
# Namespaces: ${PREFIX}c (client), ${PREFIX}r (router), ${PREFIX}o (outer router, double
# NAT only), ${PREFIX}s (STUN server). Addresses are documentation ranges:
#   server   203.0.113.10 and 203.0.113.11 (coturn primary 3478, alternate port 3479);
#            plain STUN servers without RFC 5780 (one address each): 203.0.113.12:3478,
#            203.0.113.12:3480, 203.0.113.13:3478
#   router   WAN 203.0.113.1/24; LAN 10.77.0.1/24 (NAT) or 198.51.100.1/24 (no NAT)
#   client   10.77.0.2 (NAT) or 198.51.100.2 (no NAT)
#   double   client 10.77.0.2 - inner router WAN 100.64.0.2 - outer router 100.64.0.1 / 203.0.113.1
#
# Topologies (RFC 4787 mapping / filtering):
#   open              no NAT, no filter                      (open internet)
#   firewall          no NAT, stateful UDP firewall          (symmetric UDP firewall)
#   full-cone         EIM / EIF, hairpinning                 (masquerade + DNAT of all inbound UDP)
#   restricted-cone   EIM / ADF                              (as full cone, inbound only from contacted IPs)
#   port-restricted   EIM / APDF                             (plain masquerade)
#   symmetric         APDM / APDF                            (masquerade random-fully)
#   udp-blocked       NAT, all UDP dropped, TCP allowed
#   server-down       port-restricted, coturn not running
#   double-nat        port-restricted behind port-restricted, outer NAT on 100.64.0.0/10
set -euo pipefail

TOPOLOGIES="open firewall full-cone restricted-cone port-restricted symmetric udp-blocked server-down double-nat"

die() { echo "nat-lab: $*" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"

down() {
  local p=$1
  for f in /run/nat-lab-"$p"*.pid; do
    [ -f "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
  del_namespaces "$p"
  rm -rf "/tmp/nat-lab-$p"
}


up() {
  local p=$1 topo=$2
  case " $TOPOLOGIES " in *" $topo "*) ;; *) die "unknown topology '$topo' (one of: $TOPOLOGIES)";; esac
  [ ${#p} -le 10 ] || die "prefix too long"
  down "$p"
  local c=${p}c r=${p}r s=${p}s o=${p}o
  mkdir -p "/tmp/nat-lab-$p"
  for ns in $c $r $s; do ip netns add "$ns"; ip -n "$ns" link set lo up; done

  local lan_net=10.77.0 nat=1
  case $topo in open|firewall) lan_net=198.51.100; nat=0;; esac

  link "$c" eth0 - "$r" lan -
  ip -n "$c" addr add "$lan_net.2/24" dev eth0
  ip -n "$r" addr add "$lan_net.1/24" dev lan
  ip -n "$c" route add default via "$lan_net.1"
  nsx "$r" sysctl -qw net.ipv4.ip_forward=1

  if [ "$topo" = double-nat ]; then
    ip netns add "$o"; ip -n "$o" link set lo up
    link "$r" wan - "$o" lan -
    ip -n "$r" addr add 100.64.0.2/24 dev wan
    ip -n "$o" addr add 100.64.0.1/24 dev lan
    ip -n "$r" route add default via 100.64.0.1
    nsx "$o" sysctl -qw net.ipv4.ip_forward=1
    link "$o" wan - "$s" eth0 -
    ip -n "$o" addr add 203.0.113.1/24 dev wan
    nsx "$o" nft -f - <<NFT
table ip nat {
  chain post { type nat hook postrouting priority srcnat;
    oifname "wan" masquerade
  }
}
NFT
  else
    link "$r" wan - "$s" eth0 -
    ip -n "$r" addr add 203.0.113.1/24 dev wan
  fi
  ip -n "$s" addr add 203.0.113.10/24 dev eth0
  ip -n "$s" addr add 203.0.113.11/24 dev eth0
  ip -n "$s" addr add 203.0.113.12/24 dev eth0
  ip -n "$s" addr add 203.0.113.13/24 dev eth0
  ip -n "$s" route add 198.51.100.0/24 via 203.0.113.1

  case $topo in
    open) ;;
    firewall)
      nsx "$r" nft -f - <<'NFT'
table inet fw {
  chain forward_filter { type filter hook forward priority filter; policy accept;
    iifname "wan" ct state established,related accept
    iifname "wan" meta l4proto udp drop
  }
}
NFT
      ;;
    port-restricted|server-down|double-nat)
      nsx "$r" nft -f - <<'NFT'
table ip nat {
  chain post { type nat hook postrouting priority srcnat;
    oifname "wan" masquerade
  }
}
NFT
      ;;
    symmetric)
      nsx "$r" nft -f - <<'NFT'
table ip nat {
  chain post { type nat hook postrouting priority srcnat;
    oifname "wan" masquerade random,fully-random
  }
}
NFT
      ;;
    full-cone|restricted-cone)
      # Endpoint-independent: keep the source port (masquerade does when free) and send every
      # new inbound UDP datagram to the client on the same port. Hairpinning: datagrams from
      # the LAN to the public address are sent back in, with the public address as source.
      nsx "$r" nft -f - <<'NFT'
table ip nat {
  chain pre { type nat hook prerouting priority dstnat;
    ip daddr 203.0.113.1 meta l4proto udp dnat to 10.77.0.2
  }
  chain post { type nat hook postrouting priority srcnat;
    oifname "wan" masquerade
    iifname "lan" oifname "lan" snat to 203.0.113.1
  }
}
NFT
      if [ "$topo" = restricted-cone ]; then
        # Address-dependent filtering: inbound only from IP addresses the client's port sent to.
        nsx "$r" nft -f - <<'NFT'
table ip fw {
  set contacted { type ipv4_addr . inet_service; flags dynamic, timeout; timeout 5m; }
  chain forward_filter { type filter hook forward priority filter; policy accept;
    iifname "lan" oifname "wan" meta l4proto udp update @contacted { ip daddr . udp sport }
    iifname "wan" ct state established,related accept
    iifname "wan" meta l4proto udp ip saddr . udp dport @contacted accept
    iifname "wan" meta l4proto udp drop
  }
}
NFT
      fi
      ;;
    udp-blocked)
      nsx "$r" nft -f - <<'NFT'
table ip nat {
  chain post { type nat hook postrouting priority srcnat;
    oifname "wan" masquerade
  }
}
table inet fw {
  chain forward_filter { type filter hook forward priority filter; policy accept;
    meta l4proto udp drop
  }
}
NFT
      ;;
  esac

  # NAT_LAB_NO_STUN=1: no STUN servers (turn-lab.sh starts its own TURN servers).
  ip -n "$s" route add 10.99.0.0/24 dev lo 2>/dev/null || true
  if [ "$topo" != server-down ] && [ -z "${NAT_LAB_NO_STUN:-}" ]; then
    nsx "$s" turnserver -n --listening-ip=203.0.113.10 --listening-ip=203.0.113.11 \
      --listening-port=3478 --alt-listening-port=3479 --no-tls --no-dtls --no-cli \
      --log-file=/tmp/nat-lab-$p/turnserver.log --simple-log --pidfile=/tmp/nat-lab-$p/turnserver.pid \
      >/dev/null 2>&1 &
    echo $! > "/run/nat-lab-$p-turn.pid"
    local n=0 spec
    for spec in 203.0.113.12:3478 203.0.113.12:3480 203.0.113.13:3478; do
      n=$((n + 1))
      nsx "$s" turnserver -n --listening-ip="${spec%:*}" --listening-port="${spec#*:}" \
        --no-tls --no-dtls --no-cli --log-file=/tmp/nat-lab-$p/plain$n.log --simple-log \
        --pidfile=/tmp/nat-lab-$p/plain$n.pid >/dev/null 2>&1 &
      echo $! > "/run/nat-lab-$p-plain$n.pid"
    done
    local i
    for i in $(seq 1 100); do
      if nsx "$s" ss -lnu 2>/dev/null | grep -q '203.0.113.11:3479' \
         && nsx "$s" ss -lnt 2>/dev/null | grep -q '203.0.113.10:3478' \
         && nsx "$s" ss -lnu 2>/dev/null | grep -q '203.0.113.12:3480' \
         && nsx "$s" ss -lnu 2>/dev/null | grep -q '203.0.113.13:3478'; then
        return 0
      fi
      sleep 0.05
    done
    die "coturn did not start (see /tmp/nat-lab-$p/turnserver.log)"
  fi
}

case "${1:-}" in
  up) [ $# -eq 3 ] || die "usage: nat-lab.sh up PREFIX TOPOLOGY"; up "$2" "$3" ;;
  down) [ $# -eq 2 ] || die "usage: nat-lab.sh down PREFIX"; down "$2" ;;
  topologies) echo "$TOPOLOGIES" ;;
  *) die "usage: nat-lab.sh up PREFIX TOPOLOGY | down PREFIX | topologies" ;;
esac
