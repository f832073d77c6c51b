#!/usr/bin/env bash
# DNS lab for enum-lookup: in one network namespace, on loopback addresses,
#   127.0.53.1  knotd, authoritative for
#                 e164.arpa            (DNSSEC-signed by knot) the public ENUM tree
#                 e164.voipdiag.test   a private ENUM tree (unsigned)
#                 voipdiag.test        chain targets and SIP domains (unsigned)
#                 broken.voipdiag.test configured, zone file missing: knot answers SERVFAIL
#   127.0.53.2  unbound, a validating resolver (trust anchor: the e164.arpa KSK) forwarding
#               to knot, with rrset-roundrobin: it hands RRsets out in rotating order
#   127.0.53.9  a nameserver that never answers (nft drops everything arriving for it, so
#               sending succeeds and the answer never comes)
# and /etc/netns/NS/resolv.conf naming unbound, so programs run there find it as "the
# system's" nameserver. Used by tests/lab_dns.rs and benches/enum_lookup.py.
#
#   dns-lab.sh up PREFIX       build it; prints nothing on success
#   dns-lab.sh down PREFIX     remove everything with PREFIX (idempotent)
#
# The namespace is ${PREFIX}d; files are in /tmp/dns-lab-PREFIX.
set -euo pipefail

die() { echo "dns-lab: $*" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"

down() {
  local p=$1 ns="${1}d"
  for f in /tmp/dns-lab-"$p"/*.pid; do
    [ -f "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
  done
  del_namespaces "$p"
  rm -rf "/tmp/dns-lab-$p" "/etc/netns/$ns"
}

up() {
  local p=$1 ns="${1}d"
  D=/tmp/dns-lab-$p
  down "$p"
  trap 'echo "dns-lab: failed at line $LINENO" >&2; down "$p"' ERR
  mkdir -p "$D/knotdb"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  nsx "$ns" nft -f - <<'EOF'
table inet dnslab {
  chain input {
    type filter hook input priority 0;
    ip daddr 127.0.53.9 drop
  }
}
EOF

  # --- zones -------------------------------------------------------------------------------
  cat > "$D/e164.arpa.zone" <<'EOF'
$ORIGIN e164.arpa.
$TTL 60
@   SOA ns.voipdiag.test. hostmaster.voipdiag.test. 1 3600 600 86400 60
@   NS  ns.voipdiag.test.
; +43 1 979 3321: terminal records of two orders, three services, a back-reference, a
; malformed regexp and a non-ENUM service.
$ORIGIN 1.2.3.3.9.7.9.1.3.4.e164.arpa.
@   NAPTR 100 10 "u" "E2U+sip"    "!^.*$!sip:info@example.com!" .
@   NAPTR 100 20 "u" "E2U+sip"    "!^\\+43(.*)$!sip:\\1@backup.example.com!" .
@   NAPTR 100 15 "u" "E2U+tel"    "!^(.*)$!tel:\\1!" .
@   NAPTR 100  5 "u" "E2U+sip"    "!^(.*$!sip:broken@example.com!" .
@   NAPTR 100 30 "u" "SIP+D2U"    "!^.*$!sip:wrong@example.com!" .
@   NAPTR 200 10 "u" "E2U+mailto" "!^.*$!mailto:info@example.com!i" .
; +43 1 555 0001: a non-terminal chain, by replacement then by regexp.
$ORIGIN 1.0.0.0.5.5.5.1.3.4.e164.arpa.
@   NAPTR 10 10 "" "" "" chain1.voipdiag.test.
; +43 1 555 0002: a loop through voipdiag.test and back.
$ORIGIN 2.0.0.0.5.5.5.1.3.4.e164.arpa.
@   NAPTR 10 10 "" "" "" loop1.voipdiag.test.
; +43 1 555 0003: only a malformed regexp.
$ORIGIN 3.0.0.0.5.5.5.1.3.4.e164.arpa.
@   NAPTR 10 10 "u" "E2U+sip" "!^.*$!sip:x@example.com" .
; +43 1 555 0005: the name exists, without NAPTR.
$ORIGIN 5.0.0.0.5.5.5.1.3.4.e164.arpa.
@   TXT "no NAPTR here"
; +43 1 555 0004 has no records here (only in the private tree).
EOF
  cat > "$D/e164.voipdiag.test.zone" <<'EOF'
$ORIGIN e164.voipdiag.test.
$TTL 60
@   SOA ns.voipdiag.test. hostmaster.voipdiag.test. 1 3600 600 86400 60
@   NS  ns.voipdiag.test.
1.2.3.3.9.7.9.1.3.4 NAPTR 10 10 "u" "E2U+sip" "!^.*$!sip:private@pbx.voipdiag.test!" .
4.0.0.0.5.5.5.1.3.4 NAPTR 10 10 "u" "E2U+sip" "!^\\+(.*)$!sip:\\1@pbx.voipdiag.test!" .
EOF
  cat > "$D/voipdiag.test.zone" <<'EOF'
$ORIGIN voipdiag.test.
$TTL 60
@            SOA   ns hostmaster 1 3600 600 86400 60
@            NS    ns
ns           A     127.0.53.1
e164         NS    ns
broken       NS    ns
; ENUM chain targets
chain1       NAPTR 10 10 "" "E2U+sip" "!^\\+43(.*)$!\\1.chain2.voipdiag.test!" .
15550001.chain2 NAPTR 10 10 "u" "E2U+sip" "!^.*$!sip:chained@example.com!" .
loop1        NAPTR 10 10 "" "" "" 2.0.0.0.5.5.5.1.3.4.e164.arpa.
; SIP domain with NAPTR (TLS, TCP, UDP, WebSocket), SRV of several priorities and weights,
; A and AAAA.
example      NAPTR 10 50 "s" "SIPS+D2T" "" _sips._tcp.example.voipdiag.test.
example      NAPTR 20 50 "s" "SIP+D2T"  "" _sip._tcp.example.voipdiag.test.
example      NAPTR 30 50 "s" "SIP+D2U"  "" _sip._udp.example.voipdiag.test.
example      NAPTR 40 50 "s" "SIP+D2W"  "" _sip._ws.example.voipdiag.test.
_sips._tcp.example SRV 10 0 5061 tls.example.voipdiag.test.
_sip._tcp.example  SRV 10 60 5060 a.example.voipdiag.test.
_sip._tcp.example  SRV 10 40 5060 b.example.voipdiag.test.
_sip._tcp.example  SRV 20 0 5060 c.example.voipdiag.test.
_sip._udp.example  SRV 10 0 5060 a.example.voipdiag.test.
_sip._ws.example   SRV 10 0 8080 ws.example.voipdiag.test.
a.example    A     192.0.2.10
a.example    AAAA  2001:db8::10
b.example    A     192.0.2.11
c.example    A     192.0.2.12
tls.example  A     192.0.2.13
ws.example   A     192.0.2.14
; SRV without NAPTR
_sip._udp.srvonly SRV 0 0 5070 a.example.voipdiag.test.
; only address records
aonly        A     192.0.2.20
aonly        AAAA  2001:db8::20
; NAPTR with no usable service: clients fall back to the SRV names
badnaptr     NAPTR 10 10 "s" "SIP+D2X" "" _sip._x.badnaptr.voipdiag.test.
_sip._tcp.badnaptr SRV 0 0 5060 c.example.voipdiag.test.
EOF
  cat > "$D/knot.conf" <<EOF
server:
    rundir: "$D"
    listen: [ 127.0.53.1@53 ]
log:
  - target: "$D/knot.log"
    any: warning
database:
    storage: "$D/knotdb"
policy:
  - id: lab
    algorithm: ecdsap256sha256
template:
  - id: default
    storage: "$D"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: e164.arpa
    file: "e164.arpa.zone"
    dnssec-signing: on
    dnssec-policy: lab
  - domain: e164.voipdiag.test
    file: "e164.voipdiag.test.zone"
  - domain: voipdiag.test
    file: "voipdiag.test.zone"
  - domain: broken.voipdiag.test
    file: "missing.zone"
EOF
  nsx "$ns" knotd -c "$D/knot.conf" -d >"$D/knot.log" 2>&1 || { cat "$D/knot.log" >&2; die "knotd did not start"; }
  # knot signs e164.arpa at load; wait for its KSK (bounded), the resolver's trust anchor.
  local ksk=
  for _ in $(seq 100); do
    ksk=$(nsx "$ns" kdig +short +time=1 +retry=0 @127.0.53.1 e164.arpa DNSKEY 2>/dev/null | awk '$1 == 257' | head -1) || true
    [ -n "$ksk" ] && break
    sleep 0.1
  done
  [ -n "$ksk" ] || { cat "$D/knot.log" >&2; die "knot did not sign e164.arpa"; }

  cat > "$D/unbound.conf" <<EOF
server:
    interface: 127.0.53.2
    port: 53
    do-ip6: no
    do-daemonize: yes
    username: ""
    chroot: ""
    directory: "$D"
    pidfile: "$D/unbound.pid"
    logfile: "$D/unbound.log"
    use-syslog: no
    verbosity: 1
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    qname-minimisation: no
    module-config: "validator iterator"
    trust-anchor: "e164.arpa. DNSKEY $ksk"
    rrset-roundrobin: yes
    local-zone: "test." nodefault
stub-zone:
    name: "e164.arpa"
    stub-addr: 127.0.53.1
stub-zone:
    name: "voipdiag.test"
    stub-addr: 127.0.53.1
remote-control:
    control-enable: no
EOF
  nsx "$ns" unbound -c "$D/unbound.conf" >"$D/unbound.out" 2>&1 || { cat "$D"/unbound.* >&2; die "unbound did not start"; }
  local ok=
  for _ in $(seq 50); do
    if nsx "$ns" kdig +short +time=1 +retry=0 @127.0.53.2 example.voipdiag.test A >/dev/null 2>&1 \
      && nsx "$ns" ss -Hlun "sport = :53" | grep -q 127.0.53.2; then ok=1; break; fi
    sleep 0.1
  done
  [ -n "$ok" ] || { cat "$D"/unbound.* >&2; die "unbound not answering"; }
  mkdir -p "/etc/netns/$ns"
  echo "nameserver 127.0.53.2" > "/etc/netns/$ns/resolv.conf"
  trap - ERR
}

case "${1:-}" in
  up) [ $# -eq 2 ] || die "usage: $0 up PREFIX"; up "$2" ;;
  down) [ $# -eq 2 ] || die "usage: $0 down PREFIX"; down "$2" ;;
  *) die "usage: $0 up|down PREFIX" ;;
esac
