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

# Baseline measured in the same run: the suite of steps 1-4 alone (the features without steps 5-8).
BASE=$(mktemp -d)
trap 'rm -rf "$BASE"' EXIT
for f in features/*.feature; do
  case "$(basename "$f")" in attest*|keys*|config*|activate*) ;; *) cp "$f" "$BASE/" ;; esac
done

echo "== viopay-check run (embedded simulator): every scenario against the steps 1-4 suite (baseline)"
full_best=999; base_best=999
for i in 1 2 3; do
  start=$(date +%s.%N)
  "$BIN" run > bench/out-run.txt || true
  end=$(date +%s.%N)
  full=$(echo "$end - $start" | bc)
  start=$(date +%s.%N)
  "$BIN" run --features "$BASE" > bench/out-base.txt || true
  end=$(date +%s.%N)
  base=$(echo "$end - $start" | bc)
  printf 'round %d: all steps %.2f s wall (%s); steps 1-4 %.2f s wall (%s)\n' "$i" "$full" \
    "$(grep -E '^Scenarios:' bench/out-run.txt | cut -d'(' -f2 | tr -d ')')" "$base" \
    "$(grep -E '^Scenarios:' bench/out-base.txt | cut -d'(' -f2 | tr -d ')')"
  full_best=$(echo "if ($full < $full_best) $full else $full_best" | bc)
  base_best=$(echo "if ($base < $base_best) $base else $base_best" | bc)
done
tail -1 bench/out-run.txt
printf 'best of 3: %.2f s for every scenario (goal: under 5 s), %.2f s for steps 1-4; ratio %.2f\n' \
  "$full_best" "$base_best" "$(echo "$full_best / $base_best" | bc -l)"
rm -f bench/out-base.txt

echo "== viopay-check fuzz (embedded simulator, 8 devices, 2 merchants, 200 cases of up to 100 steps, about 10 000 operations)"
start=$(date +%s.%N)
"$BIN" fuzz --cases 200 --max-steps 100 --devices 8 --merchants 2 --seed 42 --persist none > bench/out-fuzz.txt || true
end=$(date +%s.%N)
cat bench/out-fuzz.txt
printf 'fuzz wall time: %.2f s\n' "$(echo "$end - $start" | bc)"
rm -f bench/out-run.txt bench/out-fuzz.txt
