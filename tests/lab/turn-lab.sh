#!/usr/bin/env bash
# TURN lab: the NAT lab's namespaces (nat-lab.sh, any topology) with coturn instances on the
# 'internet' side, one per behaviour under test. Used by tests/lab_turn.rs and
# benches/turn.py. coturn runs in the namespaces, never on 127.0.0.1 (it refuses loopback
# peers).
#
#   turn-lab.sh up PREFIX TOPOLOGY   build it (prints nothing on success)
#   turn-lab.sh down PREFIX          remove everything with PREFIX (idempotent)
#
# Servers (all realm "lab", user alice / secret-pw unless said otherwise; UDP and TCP on
# 3478, TLS on 5349 where a certificate is named):
#   203.0.113.10  long-term credentials; TLS with a certificate for turn.lab / 203.0.113.10
#                 signed by the lab CA (/tmp/turn-lab-PREFIX/ca.pem)
#   203.0.113.11  TURN REST (--use-auth-secret, secret "north"); TLS with a certificate for
#                 other.lab only (wrong name for 203.0.113.11)
#   203.0.113.12  no authentication (an open relay)
#   203.0.113.13  --denied-peer-ip=203.0.113.1 (the client's public address)
#   203.0.113.14  --user-quota=1
#   203.0.113.15  --stale-nonce=2 (a nonce lives 2 s)
#   203.0.113.16  one relay port (508 for a second allocation)
#   203.0.113.17  relays from 10.99.0.1 (a private relayed address)
#   203.0.113.18  nothing listens (a server that is down)
#   203.0.113.19  --max-allocate-lifetime=6 (refreshes every 3 s, for the rebinding test)
#   203.0.113.20  a UDP echo server on port 7 (the --turn-peer HOST:PORT strategy)
set -euo pipefail

die() { echo "turn-lab: $*" >&2; exit 1; }
here=$(dirname "$0")
. "$here/lib.sh"

down() {
  local p=$1 f
  for f in /run/turn-lab-"$p"-*.pid; do
    [ -f "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
  "$here/nat-lab.sh" down "$p"
  rm -rf "/tmp/turn-lab-$p"
}

certs() {
  local d=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=voipdiag lab CA" \
    -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
  local name san cn
  for name in good wrong; do
    case $name in
      good) san="DNS:turn.lab,IP:203.0.113.10"; cn=turn.lab;;
      wrong) san="DNS:other.lab"; cn=other.lab;;
    esac
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" -keyout "$d/$name.key" \
      -out "$d/$name.csr" 2>/dev/null
    printf 'subjectAltName=%s\n' "$san" > "$d/$name.ext"
    openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
      -days 2 -extfile "$d/$name.ext" -out "$d/$name.pem" 2>/dev/null
  done
}

# turn NS DIR NAME IP MINPORT MAXPORT [coturn flags…]: one coturn instance.
turn() {
  local ns=$1 d=$2 name=$3 ip=$4 lo=$5 hi=$6; shift 6
  nsx "$ns" turnserver -n --listening-ip="$ip" --relay-ip="$ip" --listening-port=3478 \
    --min-port="$lo" --max-port="$hi" --no-dtls --no-cli --realm=lab \
    --log-file="$d/$name.log" --simple-log --pidfile="$d/$name.pid" "$@" >/dev/null 2>&1 &
  echo $! > "/run/turn-lab-$P-$name.pid"
}

up() {
  P=$1
  local topo=$2
  [ ${#P} -le 10 ] || die "prefix too long"
  down "$P"
  NAT_LAB_NO_STUN=1 "$here/nat-lab.sh" up "$P" "$topo"
  local s=${P}s d=/tmp/turn-lab-$P a
  mkdir -p "$d"
  certs "$d"
  for a in 14 15 16 17 18 19 20; do ip -n "$s" addr add "203.0.113.$a/24" dev eth0; done
  ip -n "$s" addr add 10.99.0.1/32 dev lo
  local lt=(--lt-cred-mech --user=alice:secret-pw)
  turn "$s" "$d" longterm 203.0.113.10 50000 50999 "${lt[@]}" \
    --cert="$d/good.pem" --pkey="$d/good.key" --tls-listening-port=5349
  turn "$s" "$d" rest 203.0.113.11 51000 51999 --use-auth-secret --static-auth-secret=north \
    --cert="$d/wrong.pem" --pkey="$d/wrong.key" --tls-listening-port=5349
  turn "$s" "$d" open 203.0.113.12 52000 52999 --no-auth --no-tls
  turn "$s" "$d" denied 203.0.113.13 53000 53999 "${lt[@]}" --no-tls \
    --denied-peer-ip=203.0.113.1
  turn "$s" "$d" quota 203.0.113.14 54000 54999 "${lt[@]}" --no-tls --user-quota=1
  turn "$s" "$d" stale 203.0.113.15 55000 55999 "${lt[@]}" --no-tls --stale-nonce=2
  turn "$s" "$d" oneport 203.0.113.16 56000 56000 "${lt[@]}" --no-tls
  nsx "$s" turnserver -n --listening-ip=203.0.113.17 --relay-ip=10.99.0.1 --listening-port=3478 \
    --min-port=57000 --max-port=57999 --no-dtls --no-cli --no-tls --realm=lab "${lt[@]}" \
    --log-file="$d/private.log" --simple-log --pidfile="$d/private.pid" >/dev/null 2>&1 &
  echo $! > "/run/turn-lab-$P-private.pid"
  nsx "$s" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("203.0.113.20", 7))
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(data, peer)
' >/dev/null 2>&1 &
  echo $! > "/run/turn-lab-$P-echo.pid"
  turn "$s" "$d" short 203.0.113.19 59000 59999 "${lt[@]}" --no-tls --max-allocate-lifetime=6
  local i ip ok
  for i in $(seq 1 100); do
    ok=1
    for ip in 10 11 12 13 14 15 16 17 19; do
      nsx "$s" ss -lnu 2>/dev/null | grep -q "203.0.113.$ip:3478" || ok=
    done
    nsx "$s" ss -lnt 2>/dev/null | grep -q '203.0.113.10:5349' || ok=
    nsx "$s" ss -lnt 2>/dev/null | grep -q '203.0.113.11:5349' || ok=
    nsx "$s" ss -lnu 2>/dev/null | grep -q '203.0.113.20:7' || ok=
    [ -n "$ok" ] && return 0
    sleep 0.05
  done
  die "coturn did not start (see $d/*.log)"
}

case "${1:-}" in
  up) [ $# -eq 3 ] || die "usage: turn-lab.sh up PREFIX TOPOLOGY"; up "$2" "$3" ;;
  down) [ $# -eq 2 ] || die "usage: turn-lab.sh down PREFIX"; down "$2" ;;
  *) die "usage: turn-lab.sh up PREFIX TOPOLOGY | down PREFIX" ;;
esac
