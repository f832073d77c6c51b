#!/usr/bin/env bash
# Builds every cargo-fuzz target in fuzz/ (nightly, installed here if missing) and runs each
# for a few seconds on libFuzzer's own inputs: a crash or broken invariant fails the run and
# leaves the input in fuzz/artifacts/. FUZZ_SECONDS sets the time per target (default 10).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
rustc +nightly --version >/dev/null 2>&1 || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo +nightly fuzz build -O
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in $(cargo +nightly fuzz list); do
  if ! cargo +nightly fuzz run -O "$target" -- -max_total_time="${FUZZ_SECONDS:-10}" \
      -rss_limit_mb=1024 >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz: $target failed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  echo "fuzz: $target: $(grep -E '^Done' "$log" | tail -1)"
done
echo "fuzz: all targets built and ran"
