#!/usr/bin/env bash
# UPnP lab for upnp-map: a client behind a home router running miniupnpd (UPnP IGD v2,
# NAT-PMP and PCP) that NATs to a WAN with a documentation address and a WAN host.
#
#   upnp-lab.sh up PREFIX VARIANT    build it; prints nothing on success
#   upnp-lab.sh down PREFIX          remove everything with PREFIX (idempotent)
#
# Variants:
#   single  ${P}c client 192.168.80.2 ── ${P}r router LAN 192.168.80.1, WAN 203.0.113.1
#           (masquerade, miniupnpd) ── ${P}w WAN host 203.0.113.2 (+ .3), coturn -n (RFC 5780)
#           on both. miniupnpd treats 203.0.113.0/24 as reserved, so it learns its external
#           address with ext_perform_stun against the coturn (it then sees its own WAN
#           address, not filtered: port forwarding works).
#   double  as single, but the router's WAN is 100.64.0.2 (carrier-grade NAT space) behind a
#           second NAT ${P}o (100.64.0.1 ── 203.0.113.1, masquerade) before the WAN host.
#           miniupnpd runs without STUN, as an ISP router behind carrier-grade NAT does: it
#           reports no external address and refuses mappings (501). (With STUN it would
#           report 203.0.113.1, refuse mappings all the same, and take 9 s to start.)
#   none    client and router; the router serves nothing and drops NAT-PMP/PCP and SSDP
#           without an ICMP error: a LAN where no gateway answers.
#
# miniupnpd 2.3.1 (Debian miniupnpd-iptables) needs the iptables-legacy chains MINIUPNPD
# (nat and filter) and MINIUPNPD-POSTROUTING; the NAT itself is iptables-legacy too.
set -euo pipefail

die() { echo "upnp-lab: $*" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"

down() {
  local p=$1
  for f in /tmp/upnp-lab-"$p"/*.pid; do
    [ -f "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
  done
  del_namespaces "$p"
  rm -rf "/tmp/upnp-lab-$p"
}


ipt() { local ns=$1; shift; nsx "$ns" iptables-legacy "$@"; }

masquerade() { # NS OUT-IF
  nsx "$1" sysctl -qw net.ipv4.ip_forward=1
  ipt "$1" -t nat -A POSTROUTING -o "$2" -j MASQUERADE
}

up() {
  local p=$1 variant=$2
  D=/tmp/upnp-lab-$p
  down "$p"
  trap 'echo "upnp-lab: failed at line $LINENO" >&2; down "$p"' ERR
  mkdir -p "$D"
  local ns
  for ns in c r w o; do
    if [ "$ns" = o ] && [ "$variant" != double ]; then continue; fi
    if [ "$variant" = none ] && [ "$ns" = w ]; then continue; fi
    ip netns add "$p$ns"
    ip -n "$p$ns" link set lo up
  done
  link "${p}c" c0 192.168.80.2/24 "${p}r" r0 192.168.80.1/24
  ip -n "${p}c" route add default via 192.168.80.1
  # Multicast (SSDP) leaves by the default route; make it explicit for the client.
  ip -n "${p}c" route add 239.0.0.0/8 dev c0
  if [ "$variant" = none ]; then
    # A router that drops what it does not serve (no ICMP either): clients must time out.
    ipt "${p}r" -A INPUT -i r0 -p udp --dport 5351 -j DROP
    ipt "${p}r" -A INPUT -i r0 -p udp --dport 1900 -j DROP
    trap - ERR
    return 0
  fi
  case "$variant" in
    single)
      link "${p}r" r1 203.0.113.1/24 "${p}w" w0 203.0.113.2/24
      ;;
    double)
      link "${p}r" r1 100.64.0.2/24 "${p}o" o0 100.64.0.1/24
      link "${p}o" o1 203.0.113.1/24 "${p}w" w0 203.0.113.2/24
      ip -n "${p}r" route add default via 100.64.0.1
      masquerade "${p}o" o1
      ;;
    *) die "unknown variant $variant (single, double, none)" ;;
  esac
  ip -n "${p}w" addr add 203.0.113.3/24 dev w0
  masquerade "${p}r" r1

  # coturn on the WAN host: RFC 5780 (two addresses), for miniupnpd's STUN and --stun.
  nsx "${p}w" turnserver -n --listening-ip=203.0.113.2 --listening-ip=203.0.113.3 \
    --listening-port=3478 --alt-listening-port=3479 --no-tls --no-dtls --no-cli \
    --log-file="$D/turnserver.log" --simple-log --pidfile="$D/turnserver.pid" >/dev/null 2>&1 &
  local ok=
  for _ in $(seq 100); do
    if nsx "${p}w" ss -Hlun | grep -q '203.0.113.3:3479'; then ok=1; break; fi
    sleep 0.05
  done
  [ -n "$ok" ] || die "coturn did not start"

  # The chains miniupnpd 2.3.1 expects (iptables-legacy).
  ipt "${p}r" -t nat -N MINIUPNPD
  ipt "${p}r" -t nat -A PREROUTING -i r1 -j MINIUPNPD
  ipt "${p}r" -t nat -N MINIUPNPD-POSTROUTING
  ipt "${p}r" -t nat -I POSTROUTING -o r1 -j MINIUPNPD-POSTROUTING
  ipt "${p}r" -t filter -N MINIUPNPD
  ipt "${p}r" -t filter -A FORWARD -i r1 ! -o r1 -j MINIUPNPD
  cat > "$D/miniupnpd.conf" <<EOF
ext_ifname=r1
listening_ip=r0
http_port=5000
enable_natpmp=yes
enable_upnp=yes
$( [ "$variant" = single ] && printf 'ext_perform_stun=yes\next_stun_host=203.0.113.2\next_stun_port=3478' )
secure_mode=yes
system_uptime=yes
lease_file=$D/leases
friendly_name=voipdiag lab router
manufacturer_name=voipdiag lab
model_name=miniupnpd lab
model_number=2.3.1
serial=LAB-0001
uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b
min_lifetime=60
max_lifetime=86400
allow 1024-65535 192.168.80.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
  nsx "${p}r" miniupnpd -d -f "$D/miniupnpd.conf" -P "$D/miniupnpd.pid" >"$D/miniupnpd.log" 2>&1 &
  ok=
  for _ in $(seq 100); do
    if nsx "${p}r" ss -Hltn | grep -q ':5000' && nsx "${p}r" ss -Hlun | grep -q ':5351'; then
      ok=1; break
    fi
    sleep 0.05
  done
  [ -n "$ok" ] || { cat "$D/miniupnpd.log" >&2; die "miniupnpd did not start"; }
  trap - ERR
}

case "${1:-}" in
  up) [ $# -eq 3 ] || die "usage: $0 up PREFIX single|double|none"; up "$2" "$3" ;;
  down) [ $# -eq 2 ] || die "usage: $0 down PREFIX"; down "$2" ;;
  *) die "usage: $0 up PREFIX VARIANT | down PREFIX" ;;
esac
