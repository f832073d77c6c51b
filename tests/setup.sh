#!/usr/bin/env bash
# Installs, with apt-get on Debian/Ubuntu, what a run needs — and only that:
#
#   tests/setup.sh demo     the nat-probe demo: iproute2, nftables, coturn, procps
#   tests/setup.sh test     the whole test suite (default): the demo's, plus the lab servers
#                           (kamailio, knot, unbound, miniupnpd, sipp, baresip) and the
#                           oracles (tshark, conntrack, openssl, ...)
#   tests/setup.sh bench    the tests', plus the tools the benchmarks compare against
#                           (stun-client, sipsak, sngrep, miniupnpc, natpmpc, sipmon)
#
# Idempotent: installs nothing when everything is present. Needs root to install: as a user
# it runs apt-get through sudo when sudo exists. Says what it installs.
set -euo pipefail
profile=${1:-test}
# Tools such as nft and kamailio live in sbin, which a user's PATH may lack.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
need=()
want() { # want COMMAND-OR-PATH PACKAGE
  if [[ $1 == /* ]]; then [ -e "$1" ] && return; else command -v "$1" >/dev/null && return; fi
  [[ " ${need[*]} " == *" $2 "* ]] || need+=("$2")
}
case "$profile" in
  demo | test | bench) ;;
  *)
    echo "usage: tests/setup.sh [demo|test|bench]" >&2
    exit 2
    ;;
esac
# The nat-probe demo: a NAT in network namespaces, coturn in RFC 5780 mode.
want ip iproute2
want ss iproute2
want nft nftables
want turnserver coturn
want sysctl procps
if [ "$profile" != demo ]; then
  want python3 python3
  want conntrack conntrack
  want openssl openssl
  want kamailio kamailio
  want /usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so kamailio-tls-modules
  want knotd knot
  want kdig knot-dnsutils
  want unbound unbound
  want miniupnpd miniupnpd-iptables
  want iptables-legacy iptables
  want sipp sip-tester
  want tshark tshark
  want dumpcap tshark
  want baresip baresip
  want /usr/bin/time time
fi
if [ "$profile" = bench ]; then
  want turnutils_uclient coturn
  want stun stun-client
  want sipsak sipsak
  want sngrep sngrep
  want upnpc miniupnpc
  want natpmpc natpmpc
  want /usr/include/pcap/pcap.h libpcap-dev # sipmon links libpcap
fi
as_root=()
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then
      as_root=(sudo)
    else
      echo "setup: installing ${need[*]} needs root (run as root, or install sudo)" >&2
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null; then
    echo "setup: no apt-get here; install these packages (Debian names) yourself: ${need[*]}" >&2
    exit 1
  fi
  echo "setup ($profile): installing ${need[*]} with apt-get (a minute or two)" >&2
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  echo "setup ($profile): installed" >&2
  # Debian starts some of these as services on install; the labs run their own.
  if command -v systemctl >/dev/null; then
    for svc in coturn kamailio unbound miniupnpd; do
      if systemctl is-active --quiet "$svc" 2>/dev/null; then
        "${as_root[@]}" systemctl stop "$svc" || true
      fi
    done
  fi
fi
# sipmon, the fastest peer of pcap-decode, is a Rust tool: built with cargo, as the caller.
if [ "$profile" = bench ] && ! command -v sipmon >/dev/null; then
  echo "setup (bench): cargo install --locked sipmon (a few minutes)" >&2
  cargo install --locked --quiet sipmon
fi
