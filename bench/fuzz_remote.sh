#!/usr/bin/env bash
# fuzz against a target 20 ms away: 200 cases with the cases run concurrently (--jobs, default 8
# on a target whose clock the harness does not move) against the same 200 cases one after another
# (--jobs 1) in the same run. The target is viopay-sim on the system clock with a latency fault of
# 20 ms armed on every answer. Goal: 200 cases in under 20 s.
# Usage: bench/fuzz_remote.sh [CASES]
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=${1:-200}
cargo build --release -q --bin viopay-check -p viopay-check
cargo build --release -q --bin viopay-sim -p viopay-sim
PORT=$((20000 + RANDOM % 10000))
./target/release/viopay-sim --listen 127.0.0.1:$PORT --clock system --seed 7 > /dev/null 2>&1 &
SIM=$!
trap 'kill $SIM 2>/dev/null || true' EXIT
URL=http://127.0.0.1:$PORT
for _ in $(seq 50); do curl -sf $URL/health/live > /dev/null && break; sleep 0.1; done
curl -sf -X POST $URL/_sim/faults -H 'Content-Type: application/json' \
  -d '{"kind":"latency","latency_ms":20,"probability":1}' > /dev/null
timed() { # output-file command... : runs the command into the file, prints the wall seconds
  local out=$1 start end; shift
  start=$(date +%s.%N)
  "$@" > "$out" || true
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
run() { timed bench/out-fuzz-$1.txt ./target/release/viopay-check fuzz --target $URL --cases "$CASES" --seed 42 --persist none --jobs "$1"; }
one=$(run 1)
eight=$(run 8)
for j in 1 8; do echo "--jobs $j: $(grep -E 'cases passed|^FAIL|CONFORMANT' bench/out-fuzz-$j.txt | head -1)"; done
printf '%s cases, 20 ms per answer: --jobs 1 %.1f s, --jobs 8 %.1f s wall; speed-up %.1fx (goal: under 20 s)\n' \
  "$CASES" "$one" "$eight" "$(echo "$one / $eight" | bc -l)"
rm -f bench/out-fuzz-1.txt bench/out-fuzz-8.txt

# Kustom: the other-vendor reference backend as a real backend (no reset, real clock) answering
# every request 20 ms late; --jobs applies there (each case judges the records it made).
PROFILE=$(mktemp)
python3 tests/reference/kustom/server.py --port 0 --clock real --hooks none --latency 20-20 --profile-out "$PROFILE" > bench/out-kustom-server.txt 2>/dev/null &
REF=$!
trap 'kill $SIM $REF 2>/dev/null || true; rm -f "$PROFILE"' EXIT
for _ in $(seq 50); do grep -q LISTENING bench/out-kustom-server.txt 2>/dev/null && break; sleep 0.1; done
krun() { timed bench/out-kfuzz-$1.txt ./target/release/viopay-check fuzz --api kustom --profile "$PROFILE" --cases "$CASES" --seed 42 --jobs "$1"; }
kone=$(krun 1)
keight=$(krun 8)
for j in 1 8; do echo "kustom --jobs $j: $(grep -E 'cases, |^FAIL|CONFORMANT' bench/out-kfuzz-$j.txt | head -2 | tr '\n' ' ')"; done
printf 'kustom %s cases, 20 ms per answer: --jobs 1 %.1f s, --jobs 8 %.1f s wall; speed-up %.1fx (goal: under 20 s)\n' \
  "$CASES" "$kone" "$keight" "$(echo "$kone / $keight" | bc -l)"
rm -f bench/out-kfuzz-1.txt bench/out-kfuzz-8.txt bench/out-kustom-server.txt
