#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit tests, CLI tests and the lab tests against
# coturn, kamailio, sipp, baresip, knot, unbound and miniupnpd through real NATs in network
# namespaces (they must run, not skip). Paste as root, or as a user with sudo: the build
# runs as you, and only apt-get (tests/setup.sh) and the test binaries run through sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { echo "run.sh: $*" >&2; }
if [ "$(id -u)" = 0 ]; then
  tests/setup.sh test
  export VOIPDIAG_LAB_REQUIRED=1
elif command -v sudo >/dev/null; then
  step "the lab tests need root: installing with sudo, and running the test binaries with sudo -E"
  tests/setup.sh test
  export VOIPDIAG_LAB_REQUIRED=1
  host=$(rustc -vV | sed -n 's/^host: //p' | tr 'a-z-' 'A-Z_')
  export "CARGO_TARGET_${host}_RUNNER=sudo -E --"
else
  step "not root and no sudo: the lab tests will skip and say why"
fi
step "cargo fmt --check"
cargo fmt --check
step "cargo clippy (builds everything once; a few minutes on a fresh machine)"
cargo clippy --all-targets --quiet -- -D warnings
step "cargo doc (broken links in the API docs fail)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
step "cargo test --all-targets"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The closing line is printed also when tests fail (set -e would stop before it).
status=0
cargo test --all-targets --no-fail-fast 2>&1 | tee "$log" || status=$?
# One closing line with the totals of every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
     END { printf "voipdiag: %d passed, %d failed\n", p, f; if (p == 0) exit 1 }' "$log" || status=1
exit "$status"
