#!/usr/bin/env bash
# RTP lab for pcap-decode: a caller and a callee with a router between them that drops
# exactly every tenth RTP packet towards the callee (nft numgen), so a capture on the
# callee's interface shows a known loss. Used by tests/lab_pcap.rs with sipp calls.
#
#   rtp-lab.sh up PREFIX      build it; prints nothing on success
#   rtp-lab.sh down PREFIX    remove it (idempotent)
#
#   ${PREFIX}a  caller 10.79.1.2 ── ${PREFIX}r router (10.79.1.1 | 10.79.2.1)
#               ── ${PREFIX}b callee 10.79.2.2 (interface ${PREFIX}b0, where captures are taken)
#
# The drop is in the router's forward path on purpose: dropped in the caller's own output
# path, sendto() fails with EPERM and sipp stops playing the RTP pcap at the first loss.
set -euo pipefail

die() { echo "rtp-lab: $*" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"

down() { del_namespaces "$1"; }

up() {
  local p=$1 n
  down "$p"
  trap 'echo "rtp-lab: failed at line $LINENO" >&2; down "$p"' ERR
  for n in a r b; do
    ip netns add "${p}$n"
    ip -n "${p}$n" link set lo up
  done
  link "${p}a" "${p}a0" 10.79.1.2/24 "${p}r" "${p}ra" 10.79.1.1/24
  link "${p}b" "${p}b0" 10.79.2.2/24 "${p}r" "${p}rb" 10.79.2.1/24
  ip -n "${p}a" route add default via 10.79.1.1
  ip -n "${p}b" route add default via 10.79.2.1
  nsx "${p}r" sysctl -qw net.ipv4.ip_forward=1
  nsx "${p}r" nft -f - <<NFT
table inet loss {
  chain forward {
    type filter hook forward priority 0;
    ip daddr 10.79.2.2 udp dport 6000 numgen inc mod 10 == 9 counter drop
  }
}
NFT
  trap - ERR
}

case "${1:-}" in
  up) [ $# -eq 2 ] || die "usage: $0 up PREFIX"; up "$2" ;;
  down) [ $# -eq 2 ] || die "usage: $0 down PREFIX"; down "$2" ;;
  *) die "usage: $0 up|down PREFIX" ;;
esac
