#!/usr/bin/env bash
# Harness benchmarks (figures, not pass/fail):
#  1. the full scenario suite against the embedded simulator (goal: under 5 s wall);
#  2. fuzz: 10 000 operations across 8 devices and 2 merchants against the embedded simulator
#     (goal: under 30 s).
# Usage: bench/harness.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q --bin viopay-check
BIN=./target/release/viopay-check

echo "== viopay-check run (embedded simulator, every scenario)"
for i in 1 2 3; do
  start=$(date +%s.%N)
  "$BIN" run > bench/out-run.txt || true
  end=$(date +%s.%N)
  printf 'round %d: %.2f s wall; %s\n' "$i" "$(echo "$end - $start" | bc)" "$(grep -E '^Scenarios:' bench/out-run.txt)"
done
tail -1 bench/out-run.txt

echo "== viopay-check fuzz (embedded simulator, 8 devices, 2 merchants, 200 cases of up to 100 steps, about 10 000 operations)"
start=$(date +%s.%N)
"$BIN" fuzz --cases 200 --max-steps 100 --devices 8 --merchants 2 --seed 42 --persist none > bench/out-fuzz.txt || true
end=$(date +%s.%N)
cat bench/out-fuzz.txt
printf 'fuzz wall time: %.2f s\n' "$(echo "$end - $start" | bc)"
rm -f bench/out-run.txt bench/out-fuzz.txt
