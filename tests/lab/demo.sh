#!/usr/bin/env bash
# Runs `voipdiag nat-probe` on real input: a real Linux NAT (nftables) between a client
# namespace and an 'internet' namespace running coturn (RFC 5780). Needs root for the
# namespaces: run as root, or as a user with sudo (it builds as you, then runs itself
# through sudo).
#
#   tests/lab/demo.sh               one verdict line per topology
#   tests/lab/demo.sh TOPOLOGY      the full report for one (see nat-lab.sh topologies)
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "demo: needs root (network namespaces); run it as root" >&2; exit 1; }
  tests/setup.sh demo
  echo "demo: building voipdiag (cargo build; a few minutes the first time)" >&2
  cargo build --quiet
  exec sudo VOIPDIAG_DEMO_BUILT=1 "$0" "$@"
fi
tests/setup.sh demo
if [ -z "${VOIPDIAG_DEMO_BUILT:-}" ]; then
  echo "demo: building voipdiag (cargo build; a few minutes the first time)" >&2
  cargo build --quiet
fi
prefix="vdemo$$"
prefix=${prefix:0:10}
trap 'tests/lab/nat-lab.sh down "$prefix"' EXIT
if [ $# -ge 1 ]; then
  tests/lab/nat-lab.sh up "$prefix" "$1"
  ip netns exec "${prefix}c" target/debug/voipdiag nat-probe --server 203.0.113.10 -v "${@:2}" || true
else
  for t in $(tests/lab/nat-lab.sh topologies); do
    tests/lab/nat-lab.sh up "$prefix" "$t"
    printf '%-16s ' "$t"
    ip netns exec "${prefix}c" target/debug/voipdiag nat-probe --server 203.0.113.10 --color never \
      | head -n 1 || true
  done
fi
