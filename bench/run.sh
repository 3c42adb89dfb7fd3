#!/usr/bin/env bash
# Simulator benchmark: GET /pos/status throughput and latency of viopay-sim against a bare axum
# server answering the same JSON, in one run; the p99 of both at half of the simulator's peak
# rate; the simulator's RSS with a million provisioned devices; and the crypto endpoints of steps
# 5-8 (attest: HMAC check and token; keys: six TR-31 blocks) beside status, rate and CPU per request.
#
# Usage: bench/run.sh [seconds per measurement, default 10]  (CONNS=N for connections, default 32)
# Installs what it needs (oha from crates.io). Talks to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
CONNS=${CONNS:-32}
OUT=bench/out
mkdir -p "$OUT"

command -v oha >/dev/null || cargo install oha --locked
cargo build --release -q -p viopay-sim --bin viopay-sim --example bare_status --example attest_load

python3 - "$OUT/million.toml" <<'PY'
import sys
open(sys.argv[1], "w").write("""[[merchants]]
id = "550e8400-e29b-41d4-a716-446655440000"
name = "Acme Coffee"
client_id = "acme"
client_secret = "acme-secret"
[[device_ranges]]
merchant_id = "550e8400-e29b-41d4-a716-446655440000"
first = "POS-A0000000"
count = 1000000
""")
PY

SIM_PORT=18181 BARE_PORT=18182
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

./target/release/viopay-sim --listen 127.0.0.1:$SIM_PORT --fixtures "$OUT/million.toml" > "$OUT/sim.log" 2>&1 &
pids+=($!); SIM_PID=$!
./target/release/examples/bare_status 127.0.0.1:$BARE_PORT > "$OUT/bare.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q "listening" "$OUT/sim.log" && grep -q "listening" "$OUT/bare.log" && break; sleep 0.2; done
RSS_KB=$(awk '/VmRSS/ {print $2}' /proc/$SIM_PID/status)

H=(-H "X-Device-Id: POS-A0000000" -H "User-Agent: Viopay-POS/1.4.2 (Android 12; PAX-A920)" -H "X-Client-Type: pos")
measure() { # name url [rate]
  local rate=() ; [ -n "${3:-}" ] && rate=(-q "$3")
  oha -z "${SECS}s" -c "$CONNS" --no-tui --output-format json "${rate[@]}" "${H[@]}" "$2" > "$OUT/$1.json"
}
oha -z 2s -c "$CONNS" --no-tui --output-format quiet "${H[@]}" http://127.0.0.1:$SIM_PORT/pos/status   # warm-up
oha -z 2s -c "$CONNS" --no-tui --output-format quiet "${H[@]}" http://127.0.0.1:$BARE_PORT/pos/status
# Peak throughput: three interleaved rounds (this machine is shared and noisy); the median counts.
for round in 1 2 3; do
  measure sim_peak_$round http://127.0.0.1:$SIM_PORT/pos/status
  measure bare_peak_$round http://127.0.0.1:$BARE_PORT/pos/status
done
python3 - "$OUT" <<'PY'
import json, shutil, statistics, sys
out = sys.argv[1]
for name in ["sim_peak", "bare_peak"]:
    runs = sorted((json.load(open(f"{out}/{name}_{r}.json"))["summary"]["requestsPerSec"], r) for r in (1, 2, 3))
    print(f"{name} rounds: " + ", ".join(f"{v:.0f}" for v, _ in runs) + " req/s")
    shutil.copy(f"{out}/{name}_{runs[1][1]}.json", f"{out}/{name}.json")
PY
HALF=$(python3 -c "import json;print(int(json.load(open('$OUT/sim_peak.json'))['summary']['requestsPerSec']/2))")
measure sim_half http://127.0.0.1:$SIM_PORT/pos/status "$HALF"
measure bare_half http://127.0.0.1:$BARE_PORT/pos/status "$HALF"
RSS_AFTER_KB=$(awk '/VmRSS/ {print $2}' /proc/$SIM_PID/status)

# CPU time each server spends per request (utime+stime from /proc, 200 000 requests, three
# interleaved rounds): less sensitive than req/s to what else the shared machine is doing.
TICK=$(getconf CLK_TCK)
cpu_per_request() { # pid port
  local c0 c1
  c0=$(awk '{print $14+$15}' "/proc/$1/stat")
  oha -n 200000 -c "$CONNS" --no-tui --output-format quiet "${H[@]}" "http://127.0.0.1:$2/pos/status"
  c1=$(awk '{print $14+$15}' "/proc/$1/stat")
  python3 -c "print(($c1 - $c0) / $TICK / 200000 * 1e6)"
}
BARE_PID=${pids[1]}
SIM_CPU=() BARE_CPU=()
for round in 1 2 3; do
  SIM_CPU+=("$(cpu_per_request "$SIM_PID" $SIM_PORT)")
  BARE_CPU+=("$(cpu_per_request "$BARE_PID" $BARE_PORT)")
done
echo "${SIM_CPU[*]}" > "$OUT/sim_cpu.txt"

# Steps 5-8: claim a device, read its identity key, attest once for a token.
python3 - "http://127.0.0.1:$SIM_PORT" > "$OUT/flow.txt" <<'FLOW'
import base64, datetime, hashlib, hmac, json, sys, urllib.request
base, dev = sys.argv[1], "POS-A0000001"
def call(m, p, h={}, b=None):
    return json.loads(urllib.request.urlopen(urllib.request.Request(base + p, data=b, method=m, headers=h)).read())
pos = {"X-Device-Id": dev, "User-Agent": "Viopay-POS/1.4.2 (Android 12; PAX-A920)", "X-Client-Type": "pos"}
code = call("POST", "/pos/pairing-code", pos)["pairing_code"]
tok = call("POST", "/client/session", {"Content-Type": "application/json"}, b'{"client_id":"acme","client_secret":"acme-secret"}')["access_token"]
call("POST", "/pos/claim", {"Authorization": "Bearer " + tok, "Content-Type": "application/json"}, json.dumps({"pairing_code": code}).encode())
key = call("GET", "/_sim/devices/" + dev)["identity_keys"][0]
secret = base64.b64decode(key["secret"])
ts = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
sig = hmac.new(secret, "\n".join([dev, key["key_id"], ts, "benchnonce000001"]).encode(), hashlib.sha256).digest()
att = call("POST", "/pos/attest", dict(pos, **{"X-Key-Id": key["key_id"], "X-Timestamp": ts, "X-Nonce": "benchnonce000001",
           "X-Signature": "v1=" + base64.b64encode(sig).decode()}))["attestation_token"]
print(key["key_id"], key["secret"], att)
FLOW
read -r KEY_ID SECRET TOKEN < "$OUT/flow.txt"
KH=(-H "Authorization: Attestation $TOKEN" -H "X-Device-Id: POS-A0000001")
oha -z "${SECS}s" -c "$CONNS" --no-tui --output-format json -m POST "${KH[@]}" "http://127.0.0.1:$SIM_PORT/pos/keys" > "$OUT/keys_peak.json"
c0=$(awk '{print $14+$15}' "/proc/$SIM_PID/stat")
oha -n 50000 -c "$CONNS" --no-tui --output-format quiet -m POST "${KH[@]}" "http://127.0.0.1:$SIM_PORT/pos/keys"
c1=$(awk '{print $14+$15}' "/proc/$SIM_PID/stat")
python3 -c "print(($c1 - $c0) / $TICK / 50000 * 1e6)" > "$OUT/keys_cpu.txt"
c0=$(awk '{print $14+$15}' "/proc/$SIM_PID/stat")
./target/release/examples/attest_load "http://127.0.0.1:$SIM_PORT" POS-A0000001 "$KEY_ID" "$SECRET" 50000 "$CONNS" > "$OUT/attest.txt"
c1=$(awk '{print $14+$15}' "/proc/$SIM_PID/stat")
python3 -c "print(($c1 - $c0) / $TICK / 50000 * 1e6)" > "$OUT/attest_cpu.txt"
echo "${BARE_CPU[*]}" > "$OUT/bare_cpu.txt"

python3 - "$OUT" "$RSS_KB" "$RSS_AFTER_KB" "$HALF" "$CONNS" "$SECS" <<'PY'
import json, sys
out, rss, rss_after, half, conns, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
def load(n): return json.load(open(f"{out}/{n}.json"))
def ok(d): return d["statusCodeDistribution"].get("200", 0)
rows = []
for name in ["sim_peak", "bare_peak", "sim_half", "bare_half"]:
    d = load(name); p = d["latencyPercentiles"]; s = d["summary"]
    rows.append((name, s["requestsPerSec"], p["p50"] * 1e3, p["p99"] * 1e3, ok(d), s["successRate"]))
print(f"GET /pos/status, {conns} connections, {secs} s per measurement (oha)")
print(f"{'run':<10} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'200s':>9} {'success':>8}")
for r in rows:
    print(f"{r[0]:<10} {r[1]:>10.0f} {r[2]:>8.3f} {r[3]:>8.3f} {r[4]:>9} {r[5]:>8.3f}")
ratio = rows[0][1] / rows[1][1]
print(f"throughput ratio simulator / bare server (medians of 3 interleaved rounds): {ratio:.2f}  (goal >= 0.90)")
print(f"simulator p99 at half its peak rate ({half} req/s): {rows[2][3]:.3f} ms  (goal < 2 ms)")
import statistics
sim_cpu = [float(x) for x in open(f"{out}/sim_cpu.txt").read().split()]
bare_cpu = [float(x) for x in open(f"{out}/bare_cpu.txt").read().split()]
ms, mb = statistics.median(sim_cpu), statistics.median(bare_cpu)
print(f"CPU per request (median of 3 rounds of 200 000): simulator {ms:.2f} us, bare server {mb:.2f} us -> efficiency ratio {mb/ms:.2f}  (goal >= 0.90)")
print(f"simulator RSS with 1,000,000 devices: {rss/1024:.0f} MiB after start, {rss_after/1024:.0f} MiB after the load  (goal < 256 MiB)")
keys = load("keys_peak")
keys_ok = keys["statusCodeDistribution"].get("200", 0)
keys_rate, keys_cpu = keys["summary"]["requestsPerSec"], float(open(f"{out}/keys_cpu.txt").read())
attest_rate, attest_failed = open(f"{out}/attest.txt").read().split()
attest_cpu = float(open(f"{out}/attest_cpu.txt").read())
print(f"POST /pos/keys: {keys_rate:.0f} req/s ({keys_ok} answered 200), {keys_cpu:.2f} us CPU per request; "
      f"{keys_rate / rows[0][1]:.2f} x status's throughput  (goal >= 0.50)")
print(f"POST /pos/attest (fresh nonce and signature each, signed by the load tool on the same machine): "
      f"{float(attest_rate):.0f} req/s ({attest_failed} not 200), {attest_cpu:.2f} us CPU per request")
PY
