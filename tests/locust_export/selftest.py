#!/usr/bin/env python3
"""End-to-end check of the Locust export against a live simulator, 1 master + K workers on 127.0.0.1:

1. clean: every user reaches `journey: activated` (steps 1-8) with no failure and no locustfile error;
2. broken_proxy.py --break claim-21 (every claim a double click): the failures name CLAIM-21;
3. broken_proxy.py --break err-12 (every 3rd status poll a 500): the failures name STAT-02, the
   REQUIRED rule of a status answer (ERR-12 itself is only the simulator's choice).

    python3 tests/locust_export/selftest.py [--sim target/debug/viopay-sim] [--project src/load/locust]
        [--venv target/py-locust] [--users 20] [--duration 60] [--workers 2]

--project is a folder with locustfile.py and requirements.txt (the sources, or a `viopay-check load
--export locust` output); each run copies it and writes its own profile.json. Prints each run's JSON
line, then `N passed, N failed`; exit 0 when all three runs behave.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def start(cmd, ready, what):
    """Starts a process that prints `ready` (a substring) on its first stdout line; returns it and that line."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    if ready not in line:
        p.kill()
        sys.exit(f"selftest: {what} did not start: {line!r}")
    threading.Thread(target=p.stdout.read, daemon=True).start()  # drain the rest: a full pipe would block it
    return p, line.strip()


def run(args, workdir, name, host, double_share):
    project = os.path.join(workdir, name)
    shutil.copytree(args.project, project, ignore=shutil.ignore_patterns("__pycache__", "profile.json", "out_*"))
    profile = {
        "host": host,
        "control": True,
        "steps": "1-8",
        "poll_min_s": 1,
        "poll_max_s": 2,
        "claim_after_min_s": 1,
        "claim_after_max_s": 3,
        "never_claim_share": 0.0,
        "double_claim_share": double_share,
        "devices_file": None,
        "merchants": [],
    }
    with open(os.path.join(project, "profile.json"), "w") as fh:
        json.dump(profile, fh, indent=2)
    cmd = [
        sys.executable,
        os.path.join(HERE, "run_distributed.py"),
        "--project",
        project,
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.users),
        "--duration",
        str(args.duration),
        "--workers",
        str(args.workers),
        "--venv",
        args.venv,
        "--out",
        os.path.join(workdir, name + "-out"),
    ]
    r = subprocess.run(cmd, check=False, stdout=subprocess.PIPE, text=True)
    print(f"{name}: {r.stdout.strip()}", flush=True)
    if r.returncode != 0:
        return None
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sim", default=os.path.join(ROOT, "target", "debug", "viopay-sim"))
    ap.add_argument("--project", default=os.path.join(ROOT, "src", "load", "locust"))
    ap.add_argument("--venv", default=os.path.join(ROOT, "target", "py-locust"))
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    if not os.access(args.sim, os.X_OK):
        sys.exit(f"selftest: no simulator binary at {args.sim} (build it first)")

    procs = []
    passed = failed = 0

    def verdict(ok, what):
        nonlocal passed, failed
        print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
        passed, failed = passed + ok, failed + (not ok)

    workdir = tempfile.mkdtemp(prefix="viopay-locust-selftest-")
    try:
        sim, line = start([args.sim, "--listen", "127.0.0.1:0", "--clock", "system"], "listening on", "viopay-sim")
        procs.append(sim)
        upstream = line.rsplit(" ", 1)[1]

        def proxy(kind):
            p, first = start(
                [sys.executable, os.path.join(HERE, "broken_proxy.py"), "--upstream", upstream, "--break", kind],
                "LISTENING",
                "broken_proxy",
            )
            procs.append(p)
            return first.split()[1]

        def rules(summary):
            return {f["error"].split(":")[0] for f in summary["failures"]}

        clean = run(args, workdir, "clean", upstream, 0.2)
        verdict(
            clean is not None
            and clean["activated"] == args.users
            and not clean["failures"]
            and not clean["exceptions"],
            f"clean: {args.users} activated, no failure",
        )

        started = time.monotonic()
        c21 = run(args, workdir, "claim-21", proxy("claim-21"), 1.0)
        verdict(
            c21 is not None and rules(c21) == {"CLAIM-21"} and not c21["exceptions"],
            "claim-21 proxy: failures name CLAIM-21 only",
        )

        e12 = run(args, workdir, "err-12", proxy("err-12"), 0.2)
        verdict(
            e12 is not None
            and rules(e12) == {"STAT-02"}
            and not e12["exceptions"]
            and all(f["name"] == "/pos/status" for f in e12["failures"]),
            "err-12 proxy: failures name STAT-02 on /pos/status only",
        )
        print(f"selftest: proxies took {time.monotonic() - started:.0f} s", file=sys.stderr)
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
