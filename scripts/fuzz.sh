#!/usr/bin/env bash
# Builds every fuzz target in fuzz/ and runs each for SECONDS (default 20), starting from
# its committed seed corpus in fuzz/corpus/<target>/. Fails on the first crash, leak or
# timeout, leaving the input in fuzz/artifacts/<target>/. `scripts/test.sh` (CI) runs it.
#
# It drives libFuzzer through libfuzzer-sys with the flags `cargo fuzz` uses (without
# AddressSanitizer; FUZZ_SANITIZER=address turns it on), so CI needs only the nightly
# toolchain, not `cargo install cargo-fuzz`. With cargo-fuzz installed, `cargo fuzz run
# <target> fuzz/corpus/<target>` in fuzz/ works as well. Usage:
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# FUZZ_SEED (default 1) fixes libFuzzer's random seed, so CI's short runs walk the same
# mutations every time and a red CI is something a run here reproduces; long runs for
# discovery set FUZZ_SEED=0 (a new random seed each run).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-20}"
seed="${FUZZ_SEED:-1}"
shift || true
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
triple="$(rustc +"$toolchain" -vV | sed -n 's/^host: //p')"

flags=(
  -Cpasses=sancov-module
  -Cllvm-args=-sanitizer-coverage-level=4
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters
  -Cllvm-args=-sanitizer-coverage-pc-table
  -Cllvm-args=-sanitizer-coverage-trace-compares
  -Cllvm-args=-simplifycfg-branch-fold-threshold=0
  --cfg fuzzing
  -Cdebug-assertions
  -Coverflow-checks
)
if [ "${FUZZ_SANITIZER:-none}" = address ]; then
  flags+=(-Zsanitizer=address)
fi

# --target keeps the instrumentation off build scripts and proc macros, as cargo-fuzz does.
RUSTFLAGS="${flags[*]}" cargo +"$toolchain" build --locked --release --target "$triple" --bins
bin_dir="target/$triple/release"

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | tail -n +2)
fi

# New inputs go to a scratch corpus; the committed seeds are only read.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
  mkdir -p "$scratch/$target" "artifacts/$target" "corpus/$target"
  echo "== fuzz $target for ${seconds}s (seed $seed)"
  if ! "$bin_dir/$target" "$scratch/$target" "corpus/$target" \
      -max_total_time="$seconds" -seed="$seed" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
      -artifact_prefix="artifacts/$target/" -print_final_stats=1 >"$scratch/$target.log" 2>&1; then
    tail -n 60 "$scratch/$target.log" >&2
    echo "fuzz target $target failed: the input is in fuzz/artifacts/$target/ (add it to fuzz/corpus/$target/ and a unit test)" >&2
    exit 1
  fi
  # The last status line: runs, coverage (edges), features, corpus size.
  grep -E '^#[0-9]+' "$scratch/$target.log" | tail -n 1
  grep -E 'stat::number_of_executed_units' "$scratch/$target.log" || true
done
