# Helpers shared by the lab scripts (sourced; defines functions only).

# nsx NS CMD…: run CMD in namespace NS.
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# del_namespaces PREFIX: kill whatever still runs in each namespace named PREFIX plus one
# letter, then delete it (idempotent).
del_namespaces() {
  local ns pid
  for ns in $(ip netns list | awk '{print $1}' | grep "^${1}[a-z]$" || true); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}

# link NS1 IF1 ADDR1 NS2 IF2 ADDR2: a veth pair between two namespaces, both ends up, with
# an address on each end (ADDR "-" for none).
link() {
  ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
  [ "$3" = - ] || ip -n "$1" addr add "$3" dev "$2"
  [ "$6" = - ] || ip -n "$4" addr add "$6" dev "$5"
  ip -n "$1" link set "$2" up
  ip -n "$4" link set "$5" up
}
