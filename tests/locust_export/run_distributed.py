#!/usr/bin/env python3
"""Runs an exported Locust project (`viopay-check load --export locust DIR`) as 1 master + K workers on
127.0.0.1 and prints ONE line of JSON summarising the run:

    {"users": N, "activated": A, "requests": R, "rps": X,
     "failures": [{"method", "name", "error", "occurrences"}],
     "journeys": {"journey: claimed": C, "journey: activated": A, ...}, "exceptions": [{"count", "message"}]}

`activated` counts the JOURNEY events `journey: activated`; `journeys` counts every JOURNEY event (also
`journey: claimed`, and `journey: no device` for a user left without a device). `requests` counts HTTP
requests only (not those events); `rps` is Locust's aggregated Requests/s (requests over the span from
the start to the last request) scaled to the HTTP requests. `exceptions` are errors in the locustfile.
Exit 0 when Locust ran, whatever the failures; non-zero when it could not (venv, install, start,
timeout, no CSV). The CSVs and the processes' logs stay in --out (default: a new temporary directory).

    python3 run_distributed.py --project DIR --users 20 --spawn-rate 10 --duration 60 \\
        [--workers 2] [--venv PATH] [--out DIR]

Standard library only: it creates (or reuses) the venv at --venv and installs DIR/requirements.txt there.
"""

import argparse
import csv
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time


def log(msg):
    print(f"run_distributed: {msg}", file=sys.stderr, flush=True)


def ensure_venv(venv, requirements):
    """Creates the venv if needed and installs the requirements, unless the same file was installed last."""
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        log(f"creating venv {venv}")
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    with open(requirements, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    stamp = os.path.join(venv, ".viopay-requirements.sha256")
    installed = None
    if os.path.exists(stamp):
        with open(stamp) as fh:
            installed = fh.read().strip()
    if installed != digest:
        log(f"pip install -r {requirements}")
        subprocess.run(
            [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", requirements],
            check=True,
            stdout=sys.stderr,
        )
        with open(stamp, "w") as fh:
            fh.write(digest + "\n")
    return os.path.join(venv, "bin", "locust")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def summarise(prefix, users):
    stats = read_csv(prefix + "_stats.csv")
    failures = read_csv(prefix + "_failures.csv")
    exceptions = read_csv(prefix + "_exceptions.csv") if os.path.exists(prefix + "_exceptions.csv") else []
    journeys = {r["Name"]: int(r["Request Count"]) for r in stats if r["Type"] == "JOURNEY"}
    http = [r for r in stats if r["Type"] not in ("JOURNEY", "") and r["Name"] != "Aggregated"]
    requests = sum(int(r["Request Count"]) for r in http)
    total = next((r for r in stats if r["Name"] == "Aggregated"), None)
    rps = 0.0
    if total and int(total["Request Count"]):
        # The aggregated rate is over the whole run; scale it to the HTTP share of the events.
        rps = float(total["Requests/s"]) * requests / int(total["Request Count"])
    return {
        "users": users,
        "activated": journeys.get("journey: activated", 0),
        "journeys": journeys,
        "requests": requests,
        "rps": round(rps, 2),
        "failures": [
            {"method": f["Method"], "name": f["Name"], "error": f["Error"], "occurrences": int(f["Occurrences"])}
            for f in failures
        ],
        "exceptions": [{"count": int(e["Count"]), "message": e["Message"]} for e in exceptions],
    }


def stop(procs):
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--project", required=True, help="exported directory: locustfile.py, requirements.txt, profile.json"
    )
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--spawn-rate", type=float, required=True)
    ap.add_argument("--duration", type=int, required=True, help="seconds")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--venv", default=os.path.join(tempfile.gettempdir(), "viopay-locust-venv"))
    ap.add_argument("--out", help="where the CSVs and logs go (default: a new temporary directory)")
    args = ap.parse_args()

    project = os.path.abspath(args.project)
    locustfile = os.path.join(project, "locustfile.py")
    for f in ("locustfile.py", "requirements.txt", "profile.json"):
        if not os.path.exists(os.path.join(project, f)):
            log(f"{project} has no {f}")
            return 2
    try:
        locust = ensure_venv(os.path.abspath(args.venv), os.path.join(project, "requirements.txt"))
    except (subprocess.CalledProcessError, OSError) as e:
        log(f"venv: {e}")
        return 3
    out = os.path.abspath(args.out) if args.out else tempfile.mkdtemp(prefix="viopay-locust-")
    os.makedirs(out, exist_ok=True)
    prefix = os.path.join(out, "out")
    for stale in ("_stats.csv", "_failures.csv", "_exceptions.csv", "_stats_history.csv"):
        if os.path.exists(prefix + stale):
            os.remove(prefix + stale)
    port = free_port()
    common = ["-f", locustfile, "--loglevel", "INFO"]
    master_cmd = [
        locust,
        *common,
        "--master",
        "--headless",
        "--master-bind-host",
        "127.0.0.1",
        "--master-bind-port",
        str(port),
        "--expect-workers",
        str(args.workers),
        "--expect-workers-max-wait",
        "60",
        "-u",
        str(args.users),
        "-r",
        str(args.spawn_rate),
        "-t",
        f"{args.duration}s",
        "--csv",
        prefix,
        "--only-summary",
        "--exit-code-on-error",
        "0",
    ]
    # No __pycache__ in the exported directory.
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    procs = []
    try:
        with open(os.path.join(out, "master.log"), "w") as mlog:
            master = subprocess.Popen(master_cmd, cwd=project, stdout=mlog, stderr=subprocess.STDOUT, env=env)
        procs.append(master)
        for i in range(args.workers):
            with open(os.path.join(out, f"worker{i}.log"), "w") as wlog:
                procs.append(
                    subprocess.Popen(
                        [locust, *common, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
                        cwd=project,
                        stdout=wlog,
                        stderr=subprocess.STDOUT,
                        env=env,
                    )
                )
        log(f"master on 127.0.0.1:{port}, {args.workers} worker(s), logs and CSVs in {out}")
        # Workers connecting, spawning, the run, and the final stats report: allow generous slack.
        deadline = time.monotonic() + 60 + args.users / max(args.spawn_rate, 0.1) + args.duration + 60
        while master.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        if master.poll() is None:
            log("the master did not finish in time")
            return 4
        # The master tells its workers to quit; give them a moment before stopping them.
        for p in procs[1:]:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
    finally:
        stop(procs)
    if master.returncode != 0 or not os.path.exists(prefix + "_stats.csv"):
        log(f"locust exited {master.returncode}; the master's log ends:")
        with open(os.path.join(out, "master.log")) as fh:
            sys.stderr.write("".join(fh.readlines()[-30:]))
        return 5
    print(json.dumps(summarise(prefix, args.users)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
