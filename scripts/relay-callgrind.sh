#!/usr/bin/env bash
# Instructions per delivery on the switchboard's relay path (no sockets, no TLS), counted
# by callgrind: repeatable on a busy machine, unlike wall-clock time. Runs the relay
# bench binary twice, relaying N and 11·N messages to R recipients, and divides the
# difference by 10·N·R, so the set-up (runtime, SQLite, room) cancels out.
#
#   scripts/relay-callgrind.sh [RECIPIENTS] [N]        (defaults: 1 and 2000)
#
# Keeps the second run's profile as target/relay-callgrind.out (read it with
# callgrind_annotate --inclusive=yes). Needs valgrind (apt-get install valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
recipients=${1:-1}
n=${2:-2000}
# RELAY_BENCH=path counts another build (say, an older commit's) instead of building.
if [ -z "${RELAY_BENCH:-}" ]; then
  # With the server's packages, so features resolve as in the server's own release build.
  cargo build --release -p mocha-server -p mocha-bench -p mocha-switchboard \
    --features mocha-switchboard/bench-harness --bin relay-bench 2>&1 | tail -n 1 >&2
fi
bin=${RELAY_BENCH:-target/release/relay-bench}
[ -x "$bin" ] || { echo "relay bench binary not found" >&2; exit 1; }
count() {
  local out=$1 runs=$2
  MOCHA_RELAY_COUNT="$recipients $runs" valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" >/dev/null 2>"$out.log"
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out.log"
}
small=$(count target/relay-callgrind-small.out "$n")
large=$(count target/relay-callgrind.out "$((n * 11))")
echo "recipients $recipients: $(( (large - small) / (10 * n * recipients) )) instructions per delivery" \
  "($(( (large - small) / (10 * n) )) per message; runs of $n and $((n * 11)) messages: $small and $large)"
