#!/usr/bin/env bash
# SIP lab: kamailio as registrar with digest authentication and nathelper in a 'public'
# namespace, reached by a client on the public side, a client behind a Linux NAT, and a client
# behind the same NAT with the kernel's SIP helper (nf_conntrack_sip + nf_nat_sip) switched
# on, so a real SIP ALG rewrites messages. Used by tests/lab_sip.rs and benches/sip.py.
#
#   sip-lab.sh up PREFIX       build it; prints nothing on success
#   sip-lab.sh down PREFIX     remove everything with PREFIX (idempotent)
#
# Namespaces and addresses (documentation ranges for public addresses):
#   ${PREFIX}s  server: 198.51.100.10 (loopback alias)
#               kamailio "md5"    udp+tcp :5060, tls :5061  MD5, qop=auth; 407 for user bob;
#                                 min_expires 60 with 423 Interval Too Brief; 302 for user
#                                 moved; stale=true on carol's first credentials; OPTIONS
#                                 without a user → 200 with Allow/Supported/Accept, else 404;
#                                 INVITE to "echo": 407, then relayed (Record-Route) to
#                                 198.51.100.20:5060, where tests/lab_call.rs answers;
#                                 INVITE to a registered user: to its binding
#               kamailio "sha256" udp+tcp :5080             SHA-256, qop=auth (kamailio 5.6
#                                 offers auth-int but cannot verify it: its auth_check_response
#                                 hashes an uninitialised H(entity-body))
#               port 5070 silently dropped (udp and tcp)
#               knotd on 198.51.100.53:53 (when installed), zone voipdiag.test for RFC 3263:
#                 voipdiag.test         NAPTR SIP+D2T (order 10) and SIP+D2U (order 20)
#                 _sip._tcp             SRV 10 60 5060 sip / SRV 20 0 5080 sip
#                 _sip._udp             SRV 10 0 5060 sip
#                 _sip._udp.srvonly     SRV 0 0 5080 sip (no NAPTR at srvonly)
#                 sip                   A 198.51.100.10
#   ${PREFIX}d  direct client 203.0.113.2 (server side 203.0.113.1)
#   ${PREFIX}r  NAT router, WAN 192.0.2.2 (masquerade), LAN 10.77.0.1
#   ${PREFIX}n  client behind NAT 10.77.0.2
#   ${PREFIX}a  NAT router with SIP ALG, WAN 192.0.2.130, LAN 10.78.0.1
#   ${PREFIX}b  client behind the ALG 10.78.0.2
# Accounts (db_text subscriber): alice / lab-Secret-1, bob / lab-Secret-2,
#   carol / lab-Secret-3; realm "lab".
# TLS: a lab CA signs the server certificate (IP 198.51.100.10, DNS sip.voipdiag.test);
#   the CA is /tmp/sip-lab-PREFIX/ca.pem.
set -euo pipefail

die() { echo "sip-lab: $*" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"

down() {
  local p=$1
  for f in /tmp/sip-lab-"$p"/*.pid; do
    [ -f "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
  done
  del_namespaces "$p"
  rm -rf "/tmp/sip-lab-$p"
}


kamailio_cfg() { # NAME UDP/TCP-PORT TLS-PORT(or -) ALGORITHM QOP-FLAG
  local name=$1 port=$2 tls=$3 alg=$4 qop=$5 dir=$D
  cat <<EOF
#!KAMAILIO
debug=1
log_stderror=yes
fork=yes
children=2
tcp_children=2
auto_aliases=no
listen=udp:198.51.100.10:$port
listen=tcp:198.51.100.10:$port
alias="198.51.100.10"
alias="sip.voipdiag.test"
server_header="Server: kamailio-lab-$name"
$( [ "$tls" = - ] || echo "enable_tls=yes
listen=tls:198.51.100.10:$tls" )
loadpath "/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "rr.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "db_text.so"
loadmodule "auth.so"
loadmodule "auth_db.so"
loadmodule "nathelper.so"
$( [ "$tls" = - ] || echo 'loadmodule "tls.so"' )
$( [ "$tls" = - ] || echo "modparam(\"tls\", \"config\", \"$dir/tls.cfg\")" )
modparam("auth", "algorithm", "$alg")
modparam("auth", "secret", "voipdiag-lab-secret")
modparam("auth_db", "db_url", "text://$dir/db")
modparam("auth_db", "calculate_ha1", yes)
modparam("auth_db", "password_column", "password")
modparam("auth_db", "load_credentials", "")
modparam("auth_db", "use_domain", 0)
modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 60)
modparam("registrar", "min_expires_mode", 1)
modparam("registrar", "max_expires", 7200)
modparam("nathelper", "received_avp", "\$avp(RECEIVED)")
modparam("registrar", "received_avp", "\$avp(RECEIVED)")

request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  force_rport();
  if (is_method("OPTIONS") && \$rU == \$null) {
    append_to_reply("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER\r\nSupported: path, outbound\r\nAccept: application/sdp\r\n");
    sl_send_reply("200", "OK");
    exit;
  }
  if (is_method("REGISTER")) {
    if (\$tU == "moved") {
      append_to_reply("Contact: <sip:moved@192.0.2.99:5060>\r\n");
      sl_send_reply("302", "Moved Temporarily");
      exit;
    }
    # carol's first credentials always get a fresh challenge with stale=true (RFC 7616 §3.3).
    if (\$tU == "carol" && is_present_hf("Authorization") && \$cs == 2) {
      www_challenge("lab", "17");
      exit;
    }
    if (nat_uac_test("19")) { fix_nated_register(); }
    if (\$tU == "bob") {
      if (!proxy_authenticate("lab", "subscriber")) { proxy_challenge("lab", "$qop"); exit; }
    } else {
      if (!www_authenticate("lab", "subscriber")) { www_challenge("lab", "$qop"); exit; }
    }
    consume_credentials();
    if (!save("location")) { sl_reply_error(); }
    exit;
  }
  # Calls (tests/lab_call.rs): an INVITE to "echo" needs proxy authentication (407) and
  # is relayed, record-routed, to the voipdiag answerer at 198.51.100.20:5060; requests in
  # its dialog follow the route.
  if (has_totag()) {
    if (loose_route()) { t_relay(); exit; }
    if (is_method("ACK") && t_check_trans()) { t_relay(); }
    exit;
  }
  if (is_method("CANCEL")) {
    if (t_check_trans()) { t_relay(); }
    exit;
  }
  if (is_method("INVITE") && \$rU == "echo") {
    if (!proxy_authenticate("lab", "subscriber")) { proxy_challenge("lab", "$qop"); exit; }
    consume_credentials();
    record_route();
    \$du = "sip:198.51.100.20:5060";
    t_relay();
    exit;
  }
  # Calls to a registered user go to its binding (the received address behind a NAT).
  if (is_method("INVITE") && lookup("location")) {
    record_route();
    t_on_reply("NATED_CONTACT");
    t_relay();
    exit;
  }
  sl_send_reply("404", "Not Here");
  exit;
}

# A callee behind a NAT answers with its private Contact: requests in the dialog (ACK, BYE)
# must go to where its answer came from.
onreply_route[NATED_CONTACT] {
  if (nat_uac_test("1")) { fix_nated_contact(); }
}
EOF
}

up() {
  local p=$1
  [ ${#p} -le 10 ] || die "prefix too long"
  command -v kamailio >/dev/null || die "kamailio is not installed"
  command -v openssl >/dev/null || die "openssl is not installed"
  down "$p"
  D=/tmp/sip-lab-$p
  mkdir -p "$D/db"
  for ns in s d r n a b; do
    ip netns add "${p}$ns"
    ip -n "${p}$ns" link set lo up
  done
  ip -n "${p}s" addr add 198.51.100.10/32 dev lo
  ip -n "${p}s" addr add 198.51.100.53/32 dev lo
  link "${p}s" sd0 203.0.113.1/24  "${p}d" sd1 203.0.113.2/24
  link "${p}s" sr0 192.0.2.1/25    "${p}r" sr1 192.0.2.2/25
  link "${p}s" sa0 192.0.2.129/25  "${p}a" sa1 192.0.2.130/25
  link "${p}r" rn0 10.77.0.1/24    "${p}n" rn1 10.77.0.2/24
  link "${p}a" ab0 10.78.0.1/24    "${p}b" ab1 10.78.0.2/24
  ip -n "${p}d" route add default via 203.0.113.1
  ip -n "${p}r" route add default via 192.0.2.1
  ip -n "${p}a" route add default via 192.0.2.129
  ip -n "${p}n" route add default via 10.77.0.1
  ip -n "${p}b" route add default via 10.78.0.1
  for r in r a; do nsx "${p}$r" sysctl -qw net.ipv4.ip_forward=1; done
  nsx "${p}r" nft -f - <<EOF
table ip nat {
  chain post {
    type nat hook postrouting priority srcnat;
    oifname "sr1" masquerade
  }
}
EOF
  # The ALG: the kernel SIP helper on UDP and TCP 5060 plus the same masquerade.
  nsx "${p}a" nft -f - <<EOF
table inet alg {
  ct helper sip-udp {
    type "sip" protocol udp;
  }
  ct helper sip-tcp {
    type "sip" protocol tcp;
  }
  chain pre {
    type filter hook prerouting priority filter;
    iifname "ab0" udp dport 5060 ct helper set "sip-udp"
    iifname "ab0" tcp dport 5060 ct helper set "sip-tcp"
  }
}
table ip nat {
  chain post {
    type nat hook postrouting priority srcnat;
    oifname "sa1" masquerade
  }
}
EOF
  nsx "${p}s" nft -f - <<EOF
table inet silent {
  chain input {
    type filter hook input priority filter;
    udp dport 5070 drop
    tcp dport 5070 drop
  }
}
EOF
  # Accounts.
  cat > "$D/db/version" <<EOF
id(int,auto) table_name(string) table_version(int) 
0:location:9
0:location_attrs:1
0:subscriber:7
EOF
  cat > "$D/db/subscriber" <<EOF
id(int,auto) username(string) domain(string) password(string) ha1(string) ha1b(string) 
1:alice:lab:lab-Secret-1:unused:unused
2:bob:lab:lab-Secret-2:unused:unused
3:carol:lab:lab-Secret-3:unused:unused
EOF
  # TLS: a lab CA and a server certificate for the address and a name.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=voipdiag lab CA" -keyout "$D/ca.key" -out "$D/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=sip.voipdiag.test" -keyout "$D/server.key" -out "$D/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:198.51.100.10,DNS:sip.voipdiag.test\nbasicConstraints=CA:FALSE\n' > "$D/ext.cnf"
  openssl x509 -req -in "$D/server.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" -CAcreateserial \
    -days 2 -extfile "$D/ext.cnf" -out "$D/server.pem" 2>/dev/null
  cat > "$D/tls.cfg" <<EOF
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = $D/server.key
certificate = $D/server.pem
EOF
  kamailio_cfg md5 5060 5061 MD5 1 > "$D/md5.cfg"
  kamailio_cfg sha256 5080 - SHA-256 1 > "$D/sha256.cfg"
  for k in md5 sha256; do
    mkdir -p "$D/run-$k"
    nsx "${p}s" kamailio -f "$D/$k.cfg" -P "$D/$k.pid" -Y "$D/run-$k" -m 32 -M 8 \
      >"$D/$k.log" 2>&1 || { cat "$D/$k.log" >&2; die "kamailio $k did not start"; }
  done
  if command -v knotd >/dev/null; then
    cat > "$D/voipdiag.test.zone" <<'EOF'
$ORIGIN voipdiag.test.
$TTL 60
@            SOA   ns hostmaster 1 3600 600 86400 60
@            NS    ns
ns           A     198.51.100.53
@            NAPTR 20 50 "s" "SIP+D2U" "" _sip._udp.voipdiag.test.
@            NAPTR 10 50 "s" "SIP+D2T" "" _sip._tcp.voipdiag.test.
_sip._tcp    SRV   10 60 5060 sip.voipdiag.test.
_sip._tcp    SRV   20 0 5080 sip.voipdiag.test.
_sip._udp    SRV   10 0 5060 sip.voipdiag.test.
_sip._udp.srvonly SRV 0 0 5080 sip.voipdiag.test.
srvonly      A     198.51.100.10
sip          A     198.51.100.10
EOF
    cat > "$D/knot.conf" <<EOF
server:
    rundir: "$D"
    listen: 198.51.100.53@53
database:
    storage: "$D/knotdb"
zone:
  - domain: voipdiag.test
    storage: "$D"
    file: "voipdiag.test.zone"
EOF
    nsx "${p}s" knotd -c "$D/knot.conf" -d >"$D/knot.log" 2>&1 || { cat "$D/knot.log" >&2; die "knotd did not start"; }
  fi
  # Wait until both answer (bounded).
  for port in 5060 5080; do
    local ok=
    for _ in $(seq 50); do
      if nsx "${p}s" ss -Hlun "sport = :$port" | grep -q .; then ok=1; break; fi
      sleep 0.1
    done
    [ -n "$ok" ] || { cat "$D"/*.log >&2; die "kamailio not listening on $port"; }
  done
}

case "${1:-}" in
  up) [ $# -eq 2 ] || die "usage: $0 up PREFIX"; up "$2" ;;
  down) [ $# -eq 2 ] || die "usage: $0 down PREFIX"; down "$2" ;;
  *) die "usage: $0 up|down PREFIX" ;;
esac
