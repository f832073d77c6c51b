#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit tests, CLI tests and — as root — the lab
# tests against coturn through real NATs in network namespaces (they must run, not skip).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then
  tests/setup.sh
  export VOIPDIAG_LAB_REQUIRED=1
else
  echo "run.sh: not root: lab tests will skip (run with sudo for the whole suite)" >&2
fi
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The closing line is printed also when tests fail (set -e would stop before it).
status=0
cargo test --all-targets --no-fail-fast 2>&1 | tee "$log" || status=$?
# One closing line with the totals of every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
     END { printf "voipdiag: %d passed, %d failed\n", p, f; if (p == 0) exit 1 }' "$log" || status=1
exit "$status"
