#!/usr/bin/env bash
# viopay-check diff against what it replaces: `run` plus `fuzz --cases N` against one embedded
# simulator, timed in the same run as `diff --cases N` (the scenario suite and the same N fuzz
# sequences against two embedded simulators, exchanges normalised and compared), and as the same
# diff with a second baseline for noise (`--noise-pass`, three simulators). Goal: the diff under
# 3x the time of run + fuzz against one.
# Usage: bench/diff.sh [CASES]
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=${1:-200}
cargo build --release -q --bin viopay-check -p viopay-check
BIN=./target/release/viopay-check
timed() { # output-file command... : runs the command into the file, prints the wall seconds
  local out=$1 start end; shift
  start=$(date +%s.%N)
  "$@" > "$out" 2>&1 || true
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
mkdir -p bench/out
for api in viopay kustom; do
  run=$(timed bench/out/diff-run-$api.txt $BIN run --api $api)
  fuzz=$(timed bench/out/diff-fuzz-$api.txt $BIN fuzz --api $api --cases "$CASES" --seed 42 --persist none)
  diff=$(timed bench/out/diff-diff-$api.txt $BIN diff --api $api --baseline embedded --candidate embedded --cases "$CASES" --seed 42)
  noise=$(timed bench/out/diff-noise-$api.txt $BIN diff --api $api --baseline embedded --candidate embedded --noise-pass --cases "$CASES" --seed 42)
  one=$(echo "$run + $fuzz" | bc -l)
  echo "$api: $(grep -E '^  compared' bench/out/diff-diff-$api.txt | sed 's/^ *//')"
  echo "$api: $(grep -E '^No difference|difference group' bench/out/diff-diff-$api.txt | head -1)"
  printf '%s: run %.1f s + fuzz --cases %s %.1f s = %.1f s against one; diff %.1f s (%.2fx), diff --noise-pass %.1f s (%.2fx) (goal: under 3x)\n' \
    "$api" "$run" "$CASES" "$fuzz" "$one" "$diff" "$(echo "$diff / $one" | bc -l)" "$noise" "$(echo "$noise / $one" | bc -l)"
done
