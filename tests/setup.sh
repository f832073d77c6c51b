#!/usr/bin/env bash
# Installs what the lab tests and benchmarks need on a fresh Debian machine (root).
# Idempotent: does nothing when everything is present.
set -euo pipefail
need=()
command -v ip >/dev/null || need+=(iproute2)
command -v nft >/dev/null || need+=(nftables)
command -v turnserver >/dev/null || need+=(coturn)
command -v turnutils_natdiscovery >/dev/null || need+=(coturn)
command -v conntrack >/dev/null || need+=(conntrack)
command -v stun >/dev/null || need+=(stun-client)
command -v python3 >/dev/null || need+=(python3)
command -v ss >/dev/null || need+=(iproute2)
command -v sysctl >/dev/null || need+=(procps)
command -v kamailio >/dev/null || need+=(kamailio)
[ -e /usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so ] || need+=(kamailio-tls-modules)
command -v openssl >/dev/null || need+=(openssl)
command -v knotd >/dev/null || need+=(knot)
command -v kdig >/dev/null || need+=(knot-dnsutils)
command -v unbound >/dev/null || need+=(unbound)
command -v miniupnpd >/dev/null || need+=(miniupnpd-iptables)
command -v iptables-legacy >/dev/null || need+=(iptables)
command -v upnpc >/dev/null || need+=(miniupnpc)
command -v natpmpc >/dev/null || need+=(natpmpc)
command -v sipsak >/dev/null || need+=(sipsak)
command -v sipp >/dev/null || need+=(sip-tester)
command -v tshark >/dev/null || need+=(tshark)
command -v dumpcap >/dev/null || need+=(tshark)
command -v sngrep >/dev/null || need+=(sngrep)
command -v baresip >/dev/null || need+=(baresip)
command -v /usr/bin/time >/dev/null || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "setup: need root to apt-get install ${need[*]}" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian starts coturn (and kamailio) as services on install on some systems; the labs run
# their own.
if command -v systemctl >/dev/null && systemctl is-active --quiet kamailio 2>/dev/null; then
  systemctl stop kamailio || true
fi
# Debian starts coturn and unbound as services on install on some systems; the labs run
# their own.
for svc in unbound miniupnpd; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done
if command -v systemctl >/dev/null && systemctl is-active --quiet coturn 2>/dev/null; then
  systemctl stop coturn || true
fi
