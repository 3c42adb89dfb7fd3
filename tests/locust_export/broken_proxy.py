#!/usr/bin/env python3
"""A deliberately broken HTTP proxy in front of a VioPay backend, to prove the Locust checks bite.

    python3 broken_proxy.py --upstream http://127.0.0.1:8080 --break claim-21 [--listen 127.0.0.1:0]
    python3 broken_proxy.py --upstream http://127.0.0.1:8080 --break err-12 [--every 3]

It prints `LISTENING http://127.0.0.1:PORT` on its first line of stdout, then forwards every request
unchanged except for its break:

- `claim-21`: both concurrent claims of one code answer 200. The upstream lets one win and refuses the
  other with 400 "4220" (already used); the proxy replaces that refusal, when the same code won a
  moment ago, with a copy of the winner's 200.
- `err-12`: every Nth `GET /pos/status` (--every, default 3) answers 500 "5000" without reaching the
  upstream (a status poll changes nothing, so the journey still completes).

Standard library only; 127.0.0.1 only.
"""

import argparse
import http.client
import http.server
import json
import signal
import sys
import threading
import time
import urllib.parse
import uuid

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
    "host",
}


class Breaks:
    def __init__(self, kind, every):
        self.kind, self.every = kind, every
        self.lock = threading.Condition()
        self.won = {}  # pairing code → (time, status, headers, body) of its 200 claim
        self.polls = 0
        self.counts = {"claims turned into 200": 0, "status turned into 500": 0}

    def status_should_fail(self):
        with self.lock:
            self.polls += 1
            return self.kind == "err-12" and self.polls % self.every == 0

    def after_claim(self, code, answer):
        """Given the upstream's answer to a claim of `code`, the answer to send instead (or the same)."""
        status, headers, body = answer
        if self.kind != "claim-21" or not code:
            return answer
        with self.lock:
            if status == 200:
                self.won[code] = (time.monotonic(), status, headers, body)
                self.lock.notify_all()
                return answer
            try:
                refused_used = status == 400 and json.loads(body)["error"]["code"] == "4220"
            except (ValueError, KeyError, TypeError):
                refused_used = False
            if not refused_used:
                return answer
            # The winner's answer may still be on its way through another thread: wait for it a little.
            deadline = time.monotonic() + 2
            while code not in self.won and time.monotonic() < deadline:
                self.lock.wait(timeout=deadline - time.monotonic())
            won = self.won.get(code)
            if won and time.monotonic() - won[0] < 10:
                self.counts["claims turned into 200"] += 1
                return won[1], won[2], won[3]
            return answer


def make_handler(upstream, breaks):
    up = urllib.parse.urlsplit(upstream)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Locust's FastHttpUser expects

        def log_message(self, *args):
            pass

        def forward(self, body):
            conn = http.client.HTTPConnection(up.hostname, up.port or 80, timeout=30)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                conn.request(self.command, self.path, body=body, headers=headers)
                r = conn.getresponse()
                return r.status, [(k, v) for k, v in r.getheaders() if k.lower() not in HOP_BY_HOP], r.read()
            finally:
                conn.close()

        def reply(self, status, headers, body):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def handle_any(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else None
            path = urllib.parse.urlsplit(self.path).path
            if self.command == "GET" and path == "/pos/status" and breaks.status_should_fail():
                with breaks.lock:
                    breaks.counts["status turned into 500"] += 1
                trace = uuid.uuid4().hex
                err = {"error": {"code": "5000", "message": "Internal server error", "trace_id": trace}}
                self.reply(500, [("Content-Type", "application/json"), ("X-Trace-Id", trace)], json.dumps(err).encode())
                return
            try:
                answer = self.forward(body)
            except OSError as e:
                self.reply(502, [("Content-Type", "text/plain")], f"upstream: {e}".encode())
                return
            if self.command == "POST" and path == "/pos/claim":
                try:
                    code = json.loads(body or b"{}").get("pairing_code")
                except (ValueError, AttributeError):
                    code = None
                answer = breaks.after_claim(code, answer)
            self.reply(*answer)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:8080")
    ap.add_argument("--break", dest="kind", required=True, choices=["claim-21", "err-12"])
    ap.add_argument("--every", type=int, default=3, help="err-12: fail every Nth status poll")
    ap.add_argument("--listen", default="127.0.0.1:0")
    args = ap.parse_args()
    host, port = args.listen.rsplit(":", 1)
    if host not in ("127.0.0.1", "localhost"):
        sys.exit("broken_proxy listens on 127.0.0.1 only")
    breaks = Breaks(args.kind, max(1, args.every))
    server = http.server.ThreadingHTTPServer((host, int(port)), make_handler(args.upstream, breaks))
    server.daemon_threads = True
    print(f"LISTENING http://127.0.0.1:{server.server_address[1]}", flush=True)

    def on_term(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)  # so a terminated proxy still reports what it broke
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        print(json.dumps(breaks.counts), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
