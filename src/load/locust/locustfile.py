"""VioPay POS activation under load: one Locust user is one POS terminal plus the merchant who claims it.

Each user walks the activation journey as terminal firmware does: bootstrap, pairing code, status polls
every `poll_min_s`..`poll_max_s` seconds (a new code whenever the status reads expired), while the
merchant, in a greenlet of the same user, signs in, thinks, and claims the code shown on the terminal.
Once the status reads claimed, steps 5-8 (attest, keys, config, terminal parameters, activate) follow
when `steps` is "1-8". Every response is checked against the few REQUIRED rules that hold under load;
a violation is a Locust failure whose message starts with the rule ID (`out_failures.csv`). Two custom
events of request type JOURNEY count the terminals: `journey: claimed` and `journey: activated`, each
with the milliseconds from the user's start as its response time (`out_stats.csv`).

profile.json
============
Read from $VIOPAY_LOAD_PROFILE, else `profile.json` beside this file. One JSON object (plain JSON;
the comments here only annotate it):

    {
      "host": "http://127.0.0.1:8080",   # str, required: base URL of the target (Locust's --host overrides it)
      "control": true,                   # bool, required: true = a viopay-sim with its control API (/_sim/);
                                         #   each user provisions its own device there
      "steps": "1-8",                    # "1-4" (stop once claimed) or "1-8" (go on to activation), required
      "poll_min_s": 3, "poll_max_s": 5,  # numbers, 0 < min <= max: status polling cadence, uniform jitter
                                         #   (firmware polls every 3-5 s: TIME-02)
      "claim_after_min_s": 10,           # numbers, 0 <= min <= max: the merchant's think time, uniform,
      "claim_after_max_s": 90,           #   from the code appearing on the terminal to the claim
      "never_claim_share": 0.1,          # number in [0, 1]: share of terminals never claimed (they poll
                                         #   until the run ends)
      "double_claim_share": 0.2,         # number in [0, 1]: share of claims sent twice at once (CLAIM-21)
      "devices_file": null,              # null, or a JSONL file (relative to profile.json's folder):
                                         #   required when control is false; ignored when control is true
      "merchants": [                     # list (may be empty when control is true); "id" is optional and
        {"client_id": "acme", "client_secret": "acme-secret"}   # only used to create a merchant that a
      ],                                 #   simulator lacks
      "claim_expired_codes": true        # optional bool, default true: when a never-claimed terminal's code
                                         #   expires, its merchant tries that stale code once (must be refused)
    }

Unknown keys are an error, so a typo does not pass silently.

With "control": true, the merchants listed are looked up by client_id (or created) through
`/_sim/merchants`, and users take them in turn; with none listed, each worker process creates one.
Each user then creates one device of its merchant (`POST /_sim/devices {"merchant_id", "count": 1}`)
and reads its identity key and ZMK (`GET /_sim/devices/{id}`). $VIOPAY_SIM_CONTROL_TOKEN, when set,
is sent on /_sim/ requests only.

With "control": false, each line of `devices_file` is one provisioned, inactive device:

    {"id": "POS-A0000001", "merchant": 0, "identity_key_id": "idk-a0000001",
     "identity_secret": "<Base64 of 32 bytes>", "zmk": "<Base64 of 32 bytes>"}

`merchant` indexes `merchants`; the three secrets may be null for "steps": "1-4". Each user takes the
next unused line of its worker's share: line i belongs to worker i % W (W = --expect-workers, which
the master hands to its workers; a single process takes every line), so no device is used twice in
one run. Give a few spare lines: Locust may put one user more on some workers.

A request that got no answer, or a 5xx, is a failure named by the REQUIRED rule of that endpoint's
answer (e.g. STAT-02; ERR-12 itself is the simulator's choice) and is retried; a refusal that such a
lost request explains (its claim had won, so the code is "already used"; a repeated activate) is not.

Time: attest timestamps follow the server's clock (the offset read from bootstrap's server_time, or
`GET /_sim/clock` on a simulator with a virtual clock). The checks that compare elapsed time with the
300 s code lifetime (STAT-06, the claim of a fresh or an expired code) run only on a real clock.
"""

import base64
import collections
import datetime as dt
import gzip
import hashlib
import hmac
import itertools
import json
import logging
import math
import os
import random
import re
import secrets
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

import gevent
import gevent.event
import gevent.lock
import gevent.queue
import psec.tr31
from cryptography.hazmat.primitives import cmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from locust import FastHttpUser, constant, task
from locust.runners import WorkerRunner

log = logging.getLogger("viopay-load")

USER_AGENT = "Viopay-POS/1.4.2 (Android 12; PAX-A920)"
MERCHANT_HOST = "merchant.viopay.io"
CODE_LIFETIME_S = 300
TOKEN_REUSE_S = 240  # re-attest once a 300 s attestation token is this old (CLI-14)
# Slack, in seconds, on every comparison of client-measured time with the server's 300 s (the server
# counts whole seconds, and its clock may be a little off the client's).
CLOCK_SLACK_S = 2.0


# --------------------------------------------------------------------------------------------------
# profile.json

PROFILE_KEYS = {
    "host",
    "control",
    "steps",
    "poll_min_s",
    "poll_max_s",
    "claim_after_min_s",
    "claim_after_max_s",
    "never_claim_share",
    "double_claim_share",
    "devices_file",
    "merchants",
    "claim_expired_codes",
}


class ProfileError(Exception):
    pass


def _number(p, key, low, high=math.inf):
    v = p.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not low <= v <= high:
        raise ProfileError(f"`{key}` must be a number in [{low}, {high}], not {v!r}")
    return float(v)


class Profile:
    def __init__(self, path):
        self.path = path
        try:
            with open(path, encoding="utf-8") as fh:
                p = json.load(fh)
        except (OSError, ValueError) as e:
            raise ProfileError(f"cannot read {path}: {e}") from e
        if not isinstance(p, dict):
            raise ProfileError(f"{path}: the profile must be a JSON object")
        unknown = sorted(set(p) - PROFILE_KEYS)
        if unknown:
            raise ProfileError(f"{path}: unknown key(s) {unknown}")
        missing = sorted(PROFILE_KEYS - {"claim_expired_codes", "devices_file"} - set(p))
        if missing:
            raise ProfileError(f"{path}: missing key(s) {missing}")
        self.host = p["host"]
        try:
            url = urllib.parse.urlsplit(self.host) if isinstance(self.host, str) else None
            ok = url and url.scheme in ("http", "https") and url.hostname and (url.port or True)
        except ValueError:  # a bad port
            ok = False
        if not ok or url.netloc.endswith(":") or url.path not in ("", "/") or url.query or url.fragment:
            raise ProfileError(f"`host` must be a base URL like http://127.0.0.1:8080, not {self.host!r}")
        self.host = self.host.rstrip("/")
        self.control = p["control"]
        if not isinstance(self.control, bool):
            raise ProfileError("`control` must be true or false")
        if p["steps"] not in ("1-4", "1-8"):
            raise ProfileError(f'`steps` must be "1-4" or "1-8", not {p["steps"]!r}')
        self.full = p["steps"] == "1-8"
        self.poll = (_number(p, "poll_min_s", 0.001), _number(p, "poll_max_s", 0.001))
        self.claim_after = (_number(p, "claim_after_min_s", 0), _number(p, "claim_after_max_s", 0))
        for lo, hi, name in ((*self.poll, "poll"), (*self.claim_after, "claim_after")):
            if lo > hi:
                raise ProfileError(f"`{name}_min_s` must not exceed `{name}_max_s`")
        self.never_claim_share = _number(p, "never_claim_share", 0, 1)
        self.double_claim_share = _number(p, "double_claim_share", 0, 1)
        self.claim_expired_codes = p.get("claim_expired_codes", True)
        if not isinstance(self.claim_expired_codes, bool):
            raise ProfileError("`claim_expired_codes` must be true or false")
        merchants = p["merchants"]
        if not isinstance(merchants, list) or not all(
            isinstance(m, dict)
            and isinstance(m.get("client_id"), str)
            and isinstance(m.get("client_secret"), str)
            and set(m) <= {"id", "client_id", "client_secret"}
            for m in merchants
        ):
            raise ProfileError('`merchants` must be a list of {"client_id": str, "client_secret": str}')
        self.merchants = [dict(m) for m in merchants]
        self.devices_file = p.get("devices_file")
        if self.devices_file is not None and not isinstance(self.devices_file, str):
            raise ProfileError("`devices_file` must be null or a path")
        self.devices = None
        if not self.control:
            if not self.devices_file:
                raise ProfileError("`devices_file` is required when `control` is false")
            if not self.merchants:
                raise ProfileError("`merchants` must not be empty when `control` is false")
            self.devices = self._read_devices(os.path.join(os.path.dirname(path), self.devices_file))

    def _read_devices(self, path):
        devices = []
        try:
            with open(path, encoding="utf-8") as fh:
                lines = fh.read().splitlines()
        except OSError as e:
            raise ProfileError(f"cannot read devices file {path}: {e}") from e
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except ValueError as e:
                raise ProfileError(f"{path}:{n}: not JSON: {e}") from e
            if not isinstance(d, dict) or not re.fullmatch(r"POS-[0-9A-F]{8}", str(d.get("id"))):
                raise ProfileError(f"{path}:{n}: `id` must be a device id like POS-8F3A2C91")
            m = d.get("merchant")
            if isinstance(m, bool) or not isinstance(m, int) or not 0 <= m < len(self.merchants):
                raise ProfileError(f"{path}:{n}: `merchant` must index `merchants` (0..{len(self.merchants) - 1})")
            dev = {
                "id": d["id"],
                "merchant": self.merchants[m],
                "key_id": d.get("identity_key_id"),
                "secret": None,
                "zmk": None,
            }
            for field, out in (("identity_secret", "secret"), ("zmk", "zmk")):
                if d.get(field) is not None:
                    try:
                        dev[out] = base64.b64decode(d[field], validate=True)
                    except ValueError as e:
                        raise ProfileError(f"{path}:{n}: `{field}` is not Base64") from e
                    if len(dev[out]) != 32:
                        raise ProfileError(f"{path}:{n}: `{field}` must be 32 bytes")
            if self.full and not (dev["key_id"] and dev["secret"] and dev["zmk"]):
                raise ProfileError(f'{path}:{n}: steps "1-8" need identity_key_id, identity_secret and zmk')
            devices.append(dev)
        if not devices:
            raise ProfileError(f"{path}: no devices")
        return devices


PROFILE = Profile(
    os.environ.get("VIOPAY_LOAD_PROFILE") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "profile.json")
)


# --------------------------------------------------------------------------------------------------
# Crypto: the terminal's side of steps 5-8 (the approach of tests/reference/viopay/smoke.py)


def attest_signature(secret, device_id, key_id, timestamp, nonce):
    """ATT-06: `v1=` + Base64 of HMAC-SHA256 over the four header values joined by newlines."""
    message = "\n".join([device_id, key_id, timestamp, nonce]).encode()
    return "v1=" + base64.b64encode(hmac.new(secret, message, hashlib.sha256).digest()).decode()


def kcv_candidates(key):
    """Hex of the two usual check values: AES-ECB of a zero block, and AES-CMAC of one. The rules leave
    the method and the length to the backend (KEYS-04, MSK-04); a KCV is a prefix of either."""
    e = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    ecb = e.update(bytes(16)) + e.finalize()
    c = cmac.CMAC(algorithms.AES(key))
    c.update(bytes(16))
    return ecb.hex().upper(), c.finalize().hex().upper()


def kcv_matches(key, declared):
    declared = str(declared).strip().upper()
    return len(declared) >= 4 and any(full.startswith(declared) for full in kcv_candidates(key))


def cbc_encrypt(key, iv, plaintext):
    p = padding.PKCS7(128).padder()
    e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return e.update(p.update(plaintext) + p.finalize()) + e.finalize()


def cbc_decrypt(key, iv, ciphertext):
    d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    u = padding.PKCS7(128).unpadder()
    return u.update(d.update(ciphertext) + d.finalize()) + u.finalize()


def open_envelope(msk, env):
    """MSK-01/MSK-02: one TR31-DATA envelope (or chunk) → plaintext bytes; ValueError when it is not one."""
    if not isinstance(env, dict):
        raise ValueError("not an object")
    iv = bytes.fromhex(str(env.get("initialization_vector")))
    if len(iv) != 16:
        raise ValueError("initialization_vector is not 16 bytes")
    return cbc_decrypt(msk, iv, bytes.fromhex(str(env.get("ciphertext"))))


# --------------------------------------------------------------------------------------------------
# Verdicts


class RuleViolation(Exception):
    """A failure named by its rule. Locust writes repr() of a failure's exception into the failures CSV
    (and sends it from workers to the master), so repr() is the bare message: the Error column starts
    with the rule ID. The message carries no device ids or codes, so equal failures group into one row."""

    def __init__(self, rule, expected, got):
        super().__init__(f"{rule}: {expected}; got {got}")
        self.rule = rule

    def __str__(self):
        return self.args[0]

    __repr__ = __str__


RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
CODE_RE = re.compile(r"^[A-HJ-NP-Z2-9]{6}$")


class Reply:
    """One exchange, detached from Locust's response object, with the client's send and receipt times."""

    def __init__(self, resp, sent, received):
        self.sent, self.received = sent, received
        self.status = resp.status_code or 0
        exc = resp.request_meta.get("exception") if hasattr(resp, "request_meta") else None
        # A transport error (refused, reset, timeout) leaves no status, or a body that could not be read.
        self.transport_error = getattr(resp, "error", None) if self.status == 0 else None
        if self.status and exc is not None and type(exc).__name__ != "LocustBadStatusCode":
            self.transport_error = exc
        self.headers = resp.headers or {}
        self.body = None
        try:
            raw = resp.content if self.transport_error is None else None
            self.body = json.loads(raw) if raw else None
        except (ValueError, UnicodeDecodeError):
            self.body = None

    @property
    def unanswered(self):
        """No answer, or a 5xx: whatever was asked may or may not have been done."""
        return self.status == 0 or self.status >= 500 or self.transport_error is not None

    @property
    def error(self):
        e = self.body.get("error") if isinstance(self.body, dict) else None
        return e if isinstance(e, dict) else {}

    @property
    def trace_id(self):
        return self.error.get("trace_id") or self.headers.get("X-Trace-Id") or self.headers.get("X-Request-Id")

    def brief(self):
        """What came, in a few stable words: `no answer (TimeoutError)`, `200`, `400 "4220" Pairing code …`."""
        if self.status == 0 or self.transport_error is not None:
            return f"no answer ({type(self.transport_error).__name__})"
        if self.status >= 400 and self.error:
            return f'{self.status} "{self.error.get("code")}" {str(self.error.get("message"))[:80]}'
        return str(self.status)


# The REQUIRED rule that makes each endpoint's success answer an obligation: a request that got no
# answer or a 5xx breaks it. (ERR-12, "no 5xx", is only the simulator's choice in rules.toml, so a
# failure is named by the REQUIRED rule the missing answer breaks; the message says it was a 5xx.)
_ANSWER_RULE = {
    "/pos/bootstrap": "BOOT-09",
    "/pos/pairing-code": "PAIR-02",
    "/pos/status": "STAT-02",
    "/pos/claim": "CLAIM-20",
    "/client/session": "AUTH-04",
    "/session/initiate": "AUTH-10",
    "/pos/attest": "ATT-01",
    "/pos/keys": "KEYS-01",
    "/pos/config": "CFG-01",
    "/pos/terminal-parameters": "TPAR-01",
    "/pos/activate": "ACT-01",
}


def baseline_violation(reply, path):
    """The checks every response gets: an answer, no 5xx but PAIR-08's, the error envelope, JSON bodies."""
    rule = _ANSWER_RULE.get(path, "CONV-02")
    if reply.status == 0 or reply.transport_error is not None:
        # A terminal sees a dropped connection or a timeout as the server failing, like a 5xx.
        return RuleViolation(rule, "an HTTP answer", reply.brief())
    if reply.status >= 500:
        if path == "/pos/pairing-code" and reply.status == 500 and reply.error.get("code") == "5000":
            return None  # PAIR-08: a creation failure may be 500 "5000"; the terminal retries
        return RuleViolation(
            rule, 'an answer, not a 5xx (ERR-12: the only one is PAIR-08\'s 500 "5000" on /pos/pairing-code)', reply.brief()
        )
    if reply.status >= 400:
        body = reply.body
        if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
            return RuleViolation(
                "ERR-01", 'an error body {"error": {code, message, trace_id}}', f"{reply.status} without one"
            )
        e = body["error"]
        if not (isinstance(e.get("code"), str) and re.fullmatch(r"\d{4}", e["code"])):
            return RuleViolation(
                "ERR-02", "error.code a 4-digit JSON string", f"{reply.status} with code {e.get('code')!r}"
            )
        if not isinstance(e.get("message"), str):
            return RuleViolation("ERR-03", "error.message a string", f'{reply.status} "{e["code"]}" without one')
        if not isinstance(e.get("trace_id"), str):
            return RuleViolation("ERR-04", "error.trace_id a string", f'{reply.status} "{e["code"]}" without one')
        if "details" in e and not isinstance(e["details"], dict):
            return RuleViolation(
                "ERR-05", "error.details absent or an object", f'{reply.status} "{e["code"]}" with another'
            )
        return None
    if not isinstance(reply.body, dict):
        return RuleViolation("CONV-02", "a JSON object body", f"{reply.status} with another body")
    return None


_FAILURES_SEEN = collections.Counter()


def log_failure(problem, reply, device_id):
    """The CSV rows group failures; the log names the device and trace id of the first few of each rule."""
    _FAILURES_SEEN[problem.rule] += 1
    n = _FAILURES_SEEN[problem.rule]
    if n <= 5 or n % 100 == 0:
        log.warning(
            "%s [device %s, trace id %s, %s #%d in this process]", problem, device_id, reply.trace_id, problem.rule, n
        )


# --------------------------------------------------------------------------------------------------
# Devices: provisioned per user through the simulator's control API, or taken from the devices file


class ProvisionError(Exception):
    pass


class ControlApi:
    """The simulator's own surface (/_sim/), outside Locust's statistics: it is set-up, not load."""

    def __init__(self, host):
        self.host = host
        self.token = os.environ.get("VIOPAY_SIM_CONTROL_TOKEN")
        self.lock = gevent.lock.Semaphore()
        self.merchants = None  # resolved once per process
        self.virtual = None  # is the simulator's clock virtual?

    def call(self, method, path, body=None, host=None):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["X-Sim-Control-Token"] = self.token
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request((host or self.host) + path, data=data, method=method, headers=headers)
        try:
            # Locust monkey-patches sockets: this blocks only the calling greenlet.
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read() or b"null")
        except (urllib.error.URLError, OSError, ValueError) as e:
            detail = e.read()[:200] if isinstance(e, urllib.error.HTTPError) else ""
            raise ProvisionError(f"{method} {path}: {e} {detail!r}") from e

    def merchant_list(self, host):
        with self.lock:
            if self.merchants is None:
                if PROFILE.merchants:
                    known = {m["client_id"]: m for m in self.call("GET", "/_sim/merchants", host=host)["merchants"]}
                    resolved = []
                    for m in PROFILE.merchants:
                        if m["client_id"] not in known:  # a merchant the profile names but the simulator lacks
                            known[m["client_id"]] = self.call("POST", "/_sim/merchants", dict(m), host=host)
                        resolved.append({**known[m["client_id"]], "client_secret": m["client_secret"]})
                    self.merchants = resolved
                else:
                    name = f"locust {socket.gethostname()} {os.getpid()}"
                    self.merchants = [self.call("POST", "/_sim/merchants", {"name": name}, host=host)]
                clock = self.call("GET", "/_sim/clock", host=host)
                self.virtual = clock.get("mode") == "virtual"
                log.info("control API: %d merchant(s), %s clock", len(self.merchants), clock.get("mode"))
            return self.merchants

    def provision(self, user_index, host):
        merchants = self.merchant_list(host)
        merchant = merchants[user_index % len(merchants)]
        created = self.call("POST", "/_sim/devices", {"merchant_id": merchant["id"], "count": 1}, host=host)
        device_id = created["device_ids"][0]
        state = self.call("GET", f"/_sim/devices/{device_id}", host=host)
        key = next((k for k in state.get("identity_keys", []) if not k.get("revoked")), None)
        if key is None:
            raise ProvisionError(f"{device_id} has no active identity key")
        return {
            "id": device_id,
            "merchant": merchant,
            "key_id": key["key_id"],
            "secret": base64.b64decode(key["secret"]),
            "zmk": base64.b64decode(state["zmk"]),
        }


class DeviceFile:
    """This worker's share of the devices file, handed out one line per user."""

    def __init__(self, devices):
        self.devices = devices
        self.lock = gevent.lock.Semaphore()
        self.mine = None

    def _share(self, environment):
        runner = environment.runner
        if not isinstance(runner, WorkerRunner):
            return list(self.devices), "the only process"
        workers = getattr(environment.parsed_options, "expect_workers", None) or int(
            os.environ.get("VIOPAY_LOAD_WORKERS", "1")
        )
        index = getattr(runner, "worker_index", -1)
        if index is None or index < 0:
            # An old master that numbers no workers: fall back on a hash of this worker's id (collisions possible).
            index = int(hashlib.sha256(runner.client_id.encode()).hexdigest(), 16) % workers
            log.warning("no worker index from the master: hashing the worker id to share %d of %d", index, workers)
        if index >= workers:
            log.error(
                "worker index %d but --expect-workers %d: this worker takes no device, so none is used twice",
                index,
                workers,
            )
            return [], f"worker {index} of {workers}"
        return self.devices[index::workers], f"worker {index} of {workers}"

    def take(self, environment):
        with self.lock:
            if self.mine is None:
                share, who = self._share(environment)
                self.mine = collections.deque(share)
                log.info("devices file: %d device(s) for %s", len(self.mine), who)
            return self.mine.popleft() if self.mine else None


CONTROL = ControlApi(PROFILE.host) if PROFILE.control else None
DEVICE_FILE = DeviceFile(PROFILE.devices) if not PROFILE.control else None


def _every(share):
    """Picks an exact share of a sequence 0, 1, 2, … (user i is picked when ⌊(i+1)·share⌋ > ⌊i·share⌋)."""
    counter = itertools.count()

    def pick():
        i = next(counter)
        return math.floor((i + 1) * share) > math.floor(i * share)

    return pick


USER_SEQ = itertools.count()
NEVER_CLAIM = _every(PROFILE.never_claim_share)
DOUBLE_CLAIM = _every(PROFILE.double_claim_share)


# --------------------------------------------------------------------------------------------------
# The user: a terminal (the task greenlet) and its merchant (a helper greenlet)


class PosTerminal(FastHttpUser):
    host = PROFILE.host
    wait_time = constant(0)  # the one task walks the whole journey, then idles
    network_timeout = 30.0
    connection_timeout = 10.0

    # ---- Locust hooks

    def on_start(self):
        self.started = time.monotonic()
        self.index = next(USER_SEQ)
        self.finished = False
        self.helpers = []
        self.device = None
        self.clock_offset = 0.0  # server time − local time, from bootstrap's server_time
        self.code = None  # the code the terminal shows
        self.code_sent = self.code_received = None  # when that code was requested / arrived
        self.first_claim_sent = None  # when the merchant sent its first claim of a live code
        self.claim_won_at = None  # when a 200 claim arrived
        self.claim_lost = False  # a claim went unanswered (or got a 5xx): it may have won all the same
        self.saw_claimed = False  # the terminal's status read claimed
        self.activated_at = None  # when a 200 activate arrived
        self.expired_codes = gevent.queue.Queue()

    def on_stop(self):
        for g in self.helpers:
            g.kill(block=False)

    @task
    def journey(self):
        if self.finished:
            gevent.sleep(60)  # an activated (or stuck) terminal just stays on
            return
        try:
            self.walk()
        finally:
            self.finished = True

    # ---- helpers

    @property
    def real_clock(self):
        return not (PROFILE.control and CONTROL.virtual)

    def event(self, name):
        """A custom request event, counted in out_stats.csv under request type JOURNEY."""
        self.environment.events.request.fire(
            request_type="JOURNEY",
            name=name,
            response_time=(time.monotonic() - self.started) * 1000,
            response_length=0,
            exception=None,
            context={},
        )

    def spawn_helper(self, fn, *args):
        """Runs the merchant beside the terminal; an error in it is reported like one in a task."""

        def guarded():
            try:
                fn(*args)
            except gevent.GreenletExit:
                raise
            except Exception as e:
                self.environment.events.user_error.fire(user_instance=self, exception=e, tb=e.__traceback__)
                log.exception("merchant greenlet of %s", self.device and self.device["id"])

        self.helpers.append(gevent.spawn(guarded))

    def pause(self):
        gevent.sleep(random.uniform(*PROFILE.poll))  # the poll cadence, with uniform jitter

    def retry_pause(self):
        gevent.sleep(max(1.0, random.uniform(*PROFILE.poll)))  # CLI-17: never sooner than 1 s after a failure

    def pos_headers(self, **extra):
        return {"X-Device-Id": self.device["id"], "User-Agent": USER_AGENT, "X-Client-Type": "pos", **extra}

    def exchange(self, method, path, *, name=None, headers=None, body=None, judge=None):
        """Sends one request and judges its answer; returns the Reply (whatever the verdict)."""
        headers = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":"))
            headers["Content-Type"] = "application/json"
        sent = time.monotonic()
        with self.client.request(
            method, path, name=name or path, headers=headers, data=data, catch_response=True
        ) as resp:
            reply = Reply(resp, sent, time.monotonic())
            self.judge(resp, reply, path, judge)
        return reply

    def judge(self, resp, reply, path, judge):
        problem = baseline_violation(reply, path) or (judge(reply) if judge else None)
        if problem is None:
            resp.success()
        else:
            resp.failure(problem)
            log_failure(problem, reply, self.device and self.device["id"])
        return problem

    def server_now(self):
        """The server's clock, as RFC 3339 whole seconds (the attest window is −300/+60 s: ATT-04)."""
        if not self.real_clock:
            return CONTROL.call("GET", "/_sim/clock", host=self.host)["now"]
        t = dt.datetime.fromtimestamp(time.time() + self.clock_offset, dt.timezone.utc)
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")

    # ---- the journey

    def obtain_device(self):
        if DEVICE_FILE is not None:
            return DEVICE_FILE.take(self.environment)
        for attempt in range(3):
            try:
                return CONTROL.provision(self.index, self.host)
            except (ProvisionError, KeyError, IndexError, TypeError, ValueError) as e:
                log.error("control API: could not provision a device (attempt %d): %s", attempt + 1, e)
                gevent.sleep(2)
        return None

    def walk(self):
        self.device = self.obtain_device()
        if self.device is None:
            log.error("user %d has no device: it does nothing", self.index)
            self.event("journey: no device")
            return
        never = NEVER_CLAIM()
        if not never:
            self.spawn_helper(self.merchant_claims, DOUBLE_CLAIM())
        elif PROFILE.claim_expired_codes:
            self.spawn_helper(self.merchant_tries_expired_codes)

        self.until(self.bootstrap)  # step 1
        self.until(self.request_code)  # step 2
        while True:  # step 3: poll until claimed
            self.pause()
            st = self.status()
            if st is None:
                continue
            if st["device_status"] != "inactive":
                self.saw_claimed = True
                break
            if st["pairing_code_status"] in ("expired", "none"):
                if st["pairing_code_status"] == "expired" and never:
                    self.expired_codes.put(self.code)
                self.until(self.request_code)  # CLI-07: a new code once the old one expired
        self.event("journey: claimed")
        if PROFILE.full:
            self.steps_5_to_8()

    def until(self, step):
        while True:
            result = step()
            if result is not None:
                return result
            self.retry_pause()

    def bootstrap(self):
        def judge(r):
            if r.status != 200:
                return RuleViolation("BOOT-09", "200 to every bootstrap of a provisioned device", r.brief())
            b = r.body
            if b.get("status") != "ok":
                return RuleViolation("BOOT-02", 'status "ok"', f"status {b.get('status')!r}")
            if not (isinstance(b.get("server_time"), str) and RFC3339_Z.match(b["server_time"])):
                return RuleViolation("BOOT-03", "server_time RFC 3339 UTC with Z", repr(b.get("server_time"))[:40])
            if not isinstance(b.get("min_supported_version"), str):
                return RuleViolation(
                    "BOOT-05", "min_supported_version a version string", type(b.get("min_supported_version")).__name__
                )
            return None

        r = self.exchange("POST", "/pos/bootstrap", headers=self.pos_headers(), judge=judge)
        if r.status != 200 or not isinstance(r.body, dict):
            return None
        try:
            server = dt.datetime.fromisoformat(r.body["server_time"].replace("Z", "+00:00")).timestamp()
            # The server stamped the time somewhere between send and receipt: take the middle.
            self.clock_offset = server - (time.time() - (r.received - r.sent) / 2)
        except (KeyError, AttributeError, ValueError):
            pass
        return r

    def request_code(self):
        def judge(r):
            if r.status == 500:
                return None  # PAIR-08 (the baseline let only 500 "5000" through): retried after a pause
            if r.status != 200:
                return RuleViolation(
                    "PAIR-06", "200 with a new code for an inactive device with no live code", r.brief()
                )
            b = r.body
            if type(b.get("expires_in_sec")) is not int or b["expires_in_sec"] != CODE_LIFETIME_S:
                return RuleViolation("PAIR-02", "expires_in_sec the integer 300", repr(b.get("expires_in_sec"))[:20])
            if not (isinstance(b.get("pairing_code"), str) and CODE_RE.match(b["pairing_code"])):
                return RuleViolation("PAIR-03", "a code matching ^[A-HJ-NP-Z2-9]{6}$", "another")
            return None

        r = self.exchange("POST", "/pos/pairing-code", headers=self.pos_headers(), judge=judge)
        if r.status != 200 or not isinstance(r.body, dict) or not isinstance(r.body.get("pairing_code"), str):
            return None
        self.code, self.code_sent, self.code_received = r.body["pairing_code"], r.sent, r.received
        return r

    def status(self):
        """One status poll, judged with what the terminal and its merchant knew when it was sent."""

        def judge(r):
            if r.status != 200:
                return RuleViolation("STAT-01", "200 to a status poll with the POS headers alone", r.brief())
            b = r.body
            if not (isinstance(b.get("is_claimed"), bool) and "device_status" in b and "pairing_code_status" in b):
                return RuleViolation(
                    "STAT-02", "device_status, is_claimed (boolean), pairing_code_status", f"members {sorted(b)[:6]}"
                )
            ds, claimed, pcs = b["device_status"], b["is_claimed"], b["pairing_code_status"]
            if ds not in ("inactive", "claimed", "activated"):
                return RuleViolation("STAT-03", "device_status inactive, claimed or activated", repr(ds)[:30])
            if pcs not in ("none", "pending", "used", "expired"):
                return RuleViolation("STAT-05", "pairing_code_status none, pending, used or expired", repr(pcs)[:30])
            if claimed != (ds in ("claimed", "activated")):
                return RuleViolation(
                    "STAT-04", "is_claimed true exactly when claimed or activated", f"{ds} with is_claimed {claimed}"
                )
            seen = f"{ds}/{str(claimed).lower()}/{pcs}"
            if self.activated_at is not None and self.activated_at < r.sent:
                if ds != "activated":
                    return RuleViolation("ACT-03", "activated after a 200 activate", seen)
                return None
            if self.claim_won_at is not None and self.claim_won_at < r.sent:
                if (ds, pcs) != ("claimed", "used") and ds != "activated":
                    return RuleViolation("STAT-08", "claimed/true/used after a 200 claim", seen)
                return None
            if ds != "inactive":
                if self.first_claim_sent is None or self.first_claim_sent > r.received:
                    return RuleViolation("DEV-02", "inactive until a claim succeeds (no claim was sent)", seen)
                return None
            if self.code_received is not None and self.code_received < r.sent:
                if pcs == "none":
                    return RuleViolation("STAT-05", "the latest code's status after a code was issued", seen)
                if self.real_clock:
                    oldest = r.received - self.code_sent  # the code cannot be older than this at the server
                    youngest = r.sent - self.code_received
                    if oldest < CODE_LIFETIME_S - 1 - CLOCK_SLACK_S and pcs != "pending":
                        return RuleViolation("STAT-06", "pending before the code is 299 s old", seen)
                    if youngest > CODE_LIFETIME_S + 1 + CLOCK_SLACK_S and pcs != "expired":
                        return RuleViolation("STAT-06", "expired once the code is 301 s old", seen)
            return None

        r = self.exchange("GET", "/pos/status", headers=self.pos_headers(), judge=judge)
        b = r.body
        if (
            r.status != 200
            or not isinstance(b, dict)
            or b.get("device_status") not in ("inactive", "claimed", "activated")
        ):
            return None
        return b

    # ---- the merchant

    def sign_in(self):
        """POST /client/session then /session/initiate (AUTH-10); returns (headers, refresh-by) or None."""
        m = self.device["merchant"]

        def judge_token(r):
            if r.status != 200:
                return RuleViolation("AUTH-04", "200 with an access token for valid client credentials", r.brief())
            if not (isinstance(r.body.get("access_token"), str) and r.body["access_token"]):
                return RuleViolation("AUTH-04", "an access_token string", "none")
            return None

        r = self.exchange(
            "POST",
            "/client/session",
            body={"client_id": m["client_id"], "client_secret": m["client_secret"]},
            judge=judge_token,
        )
        if r.status != 200 or not isinstance(r.body, dict) or not isinstance(r.body.get("access_token"), str):
            return None
        auth = {"Authorization": "Bearer " + r.body["access_token"]}
        ttl = r.body.get("expires_in")
        ttl = ttl if isinstance(ttl, int) and not isinstance(ttl, bool) and ttl > 0 else 300
        refresh_by = r.received + ttl * 0.8

        def judge_session(r2):
            if r2.status != 200:
                return RuleViolation("AUTH-08", "200 to /session/initiate with a fresh token", r2.brief())
            return None

        r2 = self.exchange("POST", "/session/initiate", headers=auth, body={"host": MERCHANT_HOST}, judge=judge_session)
        if r2.status != 200:
            return None
        return auth, refresh_by

    def session(self, current):
        """A signed-in session, renewed before its token could expire."""
        while current is None or time.monotonic() > current[1]:
            current = self.sign_in()
            if current is None:
                self.retry_pause()
        return current

    def claim_expectation(self, shown, sent_at):
        """What the rules demand of a claim of the code `shown` (code, when requested, when it arrived), sent
        at `sent_at` and answered by now: "accept" (pending for sure: CLAIM-20), "refuse" (expired for sure:
        CLAIM-19) or "either". The terminal replaces a code only once it has expired, so a code young enough
        to be pending is also still the latest."""
        _, code_sent, code_received = shown
        if not self.real_clock:
            return "either"
        if time.monotonic() - code_sent < CODE_LIFETIME_S - 1 - CLOCK_SLACK_S:
            return "accept"
        if sent_at - code_received > CODE_LIFETIME_S + 1 + CLOCK_SLACK_S:
            return "refuse"
        return "either"

    def claim_body_violation(self, r):
        b = r.body
        own = b.get("device_id") == self.device["id"]
        if b.get("status") != "claimed" or not own:
            return RuleViolation(
                "CLAIM-20",
                '200 {"status": "claimed", "device_id": the device}',
                f"status {b.get('status')!r}, device_id {'the device' if own else 'another'}",
            )
        return None

    @staticmethod
    def already_used(r):
        """CLAIM-18's refusal (its message is REQUIRED exactly: ERR-03)."""
        return r.status == 400 and r.error.get("message") == "Pairing code has already been used"

    def refused_expired(self, r):
        """A claim of an expired code: 400 "4220" (CLAIM-19); "4004" too once a newer code superseded it (PAIR-05)."""
        if r.status == 400 and r.error.get("code") in ("4220", "4004"):
            return None
        return RuleViolation("CLAIM-19", 'a claim of an expired code refused with 400 "4220"', r.brief())

    def merchant_claims(self, double):
        """The merchant signs in, reads the terminal's code, thinks, claims (twice at once on a double click)."""
        sess = self.session(None)
        while self.code is None:
            gevent.sleep(0.2)
        # The think time runs from the code appearing on the terminal.
        gevent.sleep(max(0.0, self.code_received + random.uniform(*PROFILE.claim_after) - time.monotonic()))
        misses = 0
        while self.claim_won_at is None and not self.saw_claimed and misses < 3:
            sess = self.session(sess)
            shown = (self.code, self.code_sent, self.code_received)  # read together: no yield in between
            if self.first_claim_sent is None:
                self.first_claim_sent = time.monotonic()
            replies, expectation = (self.claim_twice if double else self.claim_once)(sess[0], shown)
            wins = [r for r in replies if r.status == 200]
            if wins:
                self.claim_won_at = min(r.received for r in wins)
                return
            if self.claim_lost and any(self.already_used(r) for r in replies):
                self.claim_won_at = max(r.received for r in replies)  # an unanswered claim had won
                return
            if (double and len(replies) < 2) or any(r.unanswered for r in replies):
                self.claim_lost = True
                self.retry_pause()  # a network or server failure (reported under the endpoint's rule): try again
                continue
            if expectation == "accept" or not any(r.status == 400 for r in replies):
                misses += 1  # refused although it had to win: reported; try again a few times
                sess = None
                self.retry_pause()
                continue
            # Refused as the code may have expired meanwhile: wait for the terminal's next code, read it, retry.
            while self.code == shown[0]:
                gevent.sleep(0.2)
            self.pause()
        if self.claim_won_at is None:
            log.error("merchant of %s gave up claiming after %d refusals", self.device["id"], misses)

    def claim_once(self, auth, shown):
        sent = time.monotonic()

        def judge(r):
            expectation = self.claim_expectation(shown, sent)
            if r.status == 200:
                if expectation == "refuse":
                    return RuleViolation("CLAIM-19", 'a claim of an expired code refused with 400 "4220"', "200")
                return self.claim_body_violation(r)
            if expectation == "accept" and not (self.claim_lost and self.already_used(r)):
                return RuleViolation("CLAIM-20", "200 to the merchant's claim of its device's pending code", r.brief())
            if expectation == "refuse":
                return self.refused_expired(r)
            return None

        r = self.exchange("POST", "/pos/claim", headers=auth, body={"pairing_code": shown[0]}, judge=judge)
        return [r], self.claim_expectation(shown, sent)

    def claim_twice(self, auth, shown):
        """A double click: two claims of one code at once. CLAIM-21: exactly one answers 200, the other a 4xx.
        Both with-blocks stay open until both answers are in, so each is judged knowing the other."""
        replies = [None, None]
        both_in = gevent.event.Event()
        sent = time.monotonic()

        def pair_violation(i):
            other = replies[1 - i]
            me = replies[i]
            if other is None or other.unanswered:
                # The other's fate is unknown (it may have won): judge this one alone.
                return self.claim_body_violation(me) if me.status == 200 else None
            expectation = self.claim_expectation(shown, sent)
            statuses = f"{replies[0].brief()} and {replies[1].brief()}"
            wins = [j for j in (0, 1) if replies[j].status == 200]
            if len(wins) == 2:
                # Only the second winner is the violation; the first is the claim that should have won.
                return (
                    RuleViolation("CLAIM-21", "exactly one 200 among concurrent claims of one code", "200 and 200")
                    if i == 1
                    else self.claim_body_violation(me)
                )
            if len(wins) == 1:
                if i in wins:
                    if expectation == "refuse":
                        return RuleViolation("CLAIM-19", 'a claim of an expired code refused with 400 "4220"', "200")
                    return self.claim_body_violation(me)
                if not 400 <= me.status < 500:
                    return RuleViolation(
                        "CLAIM-21", "the other concurrent claim of a claimed code refused with a 4xx", me.brief()
                    )
                return None
            if expectation == "accept" and not (self.claim_lost and self.already_used(me)):
                return (
                    RuleViolation("CLAIM-21", "exactly one 200 among concurrent claims of a pending code", statuses)
                    if i == 0
                    else None
                )
            if expectation == "refuse":
                return self.refused_expired(me)
            return None

        def one(i):
            with self.client.request(
                "POST",
                "/pos/claim",
                name="/pos/claim [double]",
                headers={**auth, "Content-Type": "application/json"},
                data=json.dumps({"pairing_code": shown[0]}),
                catch_response=True,
            ) as resp:
                replies[i] = Reply(resp, sent, time.monotonic())
                if all(replies):
                    both_in.set()
                both_in.wait(timeout=self.network_timeout + 5)
                self.judge(resp, replies[i], "/pos/claim", lambda r: pair_violation(i))

        gevent.joinall([gevent.spawn(one, 0), gevent.spawn(one, 1)])
        return [r for r in replies if r is not None], self.claim_expectation(shown, sent)

    def merchant_tries_expired_codes(self):
        """A never-claimed terminal's merchant types a code it noted earlier, after it expired: refused."""
        sess = None
        while True:
            code = self.expired_codes.get()
            sess = self.session(sess)
            if self.first_claim_sent is None:
                self.first_claim_sent = time.monotonic()

            def judge(r):
                if r.status == 200:
                    return RuleViolation("CLAIM-19", 'a claim of an expired code refused with 400 "4220"', "200")
                return self.refused_expired(r)

            self.exchange(
                "POST",
                "/pos/claim",
                name="/pos/claim [expired]",
                headers=sess[0],
                body={"pairing_code": code},
                judge=judge,
            )

    # ---- steps 5-8

    def attest(self):
        d = self.device
        ts, nonce = self.server_now(), secrets.token_hex(8)  # ATT-05: alphanumeric, ≥ 12 characters, fresh
        headers = self.pos_headers(
            **{
                "X-Key-Id": d["key_id"],
                "X-Timestamp": ts,
                "X-Nonce": nonce,
                "X-Signature": attest_signature(d["secret"], d["id"], d["key_id"], ts, nonce),
            }
        )

        def judge(r):
            if r.status != 200:
                return RuleViolation("ATT-07", "200 to a signed attest of a claimed device", r.brief())
            b = r.body
            if (
                b.get("status") != "attested"
                or not str(b.get("attestation_token", "")).startswith("att_")
                or type(b.get("expires_in_sec")) is not int
                or b["expires_in_sec"] != 300
            ):
                return RuleViolation(
                    "ATT-07",
                    '{"status": "attested", "attestation_token": "att_…", "expires_in_sec": 300}',
                    f"status {b.get('status')!r}, expires_in_sec {b.get('expires_in_sec')!r}",
                )
            return None

        r = self.exchange("POST", "/pos/attest", headers=headers, judge=judge)
        if r.status == 200 and isinstance(r.body, dict) and isinstance(r.body.get("attestation_token"), str):
            return r.body["attestation_token"], r.sent
        return None

    def keys(self, auth):
        """Step 6: unwraps the hierarchy from the ZMK down and checks each KCV; returns the MSK or None."""
        unwrapped = {}

        def judge(r):
            if r.status != 200:
                return RuleViolation("KEYS-01", "200 to keys with a fresh attestation token", r.brief())
            b = r.body
            ks, tr, keys = b.get("key_set"), b.get("transport"), b.get("keys")
            if not (isinstance(ks, dict) and {"key_set_id", "issued_at", "expires_at"} <= set(ks)):
                return RuleViolation("KEYS-02", "key_set {key_set_id, issued_at, expires_at}", "another")
            if tr != {"format": "TR31", "encryption": "AES-256", "wrapped_under": "kek"}:
                return RuleViolation(
                    "KEYS-02",
                    'transport {"format": "TR31", "encryption": "AES-256", "wrapped_under": "kek"}',
                    json.dumps(tr)[:80],
                )
            if not isinstance(keys, dict):
                return RuleViolation("KEYS-02", "keys an object", "another")
            parents = {"tmk": "zmk", "kek": "tmk", "msk": "kek", "tpk": "kek", "tdk": "kek", "mac": "kek"}
            clear = {"zmk": self.device["zmk"]}
            for name, parent in parents.items():
                entry = keys.get(name)
                if entry is None and name in ("tpk", "tdk", "mac"):
                    continue  # KEYS-05 (the six entries) is the simulator's; steps 7-8 need only the MSK
                if not (
                    isinstance(entry, dict)
                    and isinstance(entry.get("key_block"), str)
                    and {"key_id", "usage"} <= set(entry)
                ):
                    return RuleViolation(
                        "KEYS-02",
                        "keys.tmk, .kek, .msk each {key_id, key_block, usage}",
                        f"keys.{name} {'missing' if entry is None else 'incomplete'}",
                    )
                try:
                    _, clear[name] = psec.tr31.unwrap(clear[parent], base64.b64decode(entry["key_block"]).decode())
                except Exception as e:  # psec raises its own errors on a bad MAC, header or length
                    return RuleViolation(
                        "KEYS-03",
                        f"keys.{name} a TR-31 block that unwraps under the {parent.upper()}",
                        type(e).__name__,
                    )
                declared = entry.get("kcv", entry.get("check_value"))
                if declared is not None and not kcv_matches(clear[name], declared):
                    return RuleViolation("KEYS-03", f"keys.{name}'s check value that of the key it wraps", "another")
            unwrapped.update(clear)
            return None

        self.exchange("POST", "/pos/keys", headers=auth, judge=judge)
        return unwrapped.get("msk")

    def config(self, auth, msk):
        ok = []

        def judge(r):
            if r.status != 200:
                return RuleViolation("CFG-01", "200 to config with a fresh token after keys", r.brief())
            if r.body.get("format") != "TR31-DATA" or not {"ciphertext", "initialization_vector", "mode"} <= set(
                r.body
            ):
                return RuleViolation(
                    "MSK-01",
                    "a TR31-DATA envelope {format, ciphertext, initialization_vector, mode}",
                    f"format {r.body.get('format')!r}",
                )
            try:
                cfg = json.loads(open_envelope(msk, r.body))
            except ValueError as e:
                return RuleViolation("MSK-02", "AES-256-CBC under the MSK, PKCS7, of a JSON object", type(e).__name__)
            if not isinstance(cfg, dict) or "terminal_parameters" in cfg:
                return RuleViolation("CFG-02", "a config object without terminal parameters", type(cfg).__name__)
            if "device_id" in cfg and cfg["device_id"] != self.device["id"]:
                return RuleViolation("CFG-02", "the device's own config", "another device_id")
            ok.append(cfg)
            return None

        self.exchange("POST", "/pos/config", headers=auth, judge=judge)
        return ok[0] if ok else None

    def terminal_parameters(self, auth, msk):
        ok = []

        def judge(r):
            if r.status != 200:
                return RuleViolation("TPAR-01", "200 to terminal-parameters with a fresh token", r.brief())
            env = r.body
            if env.get("content_encoding") != "gzip":
                return RuleViolation("TPAR-02", 'content_encoding "gzip"', repr(env.get("content_encoding"))[:30])
            try:
                if env.get("format") == "TR31-DATA-CHUNKED":
                    if not isinstance(env.get("chunks"), list) or not env["chunks"]:
                        return RuleViolation("MSK-03", "a TR31-DATA-CHUNKED envelope with chunks", "none")
                    data = b"".join(open_envelope(msk, c) for c in env["chunks"])
                elif env.get("format") == "TR31-DATA":
                    data = open_envelope(msk, env)
                else:
                    return RuleViolation(
                        "MSK-03", "format TR31-DATA-CHUNKED or TR31-DATA", repr(env.get("format"))[:30]
                    )
            except ValueError as e:
                return RuleViolation("MSK-02", "chunks AES-256-CBC under the MSK, PKCS7", type(e).__name__)
            try:
                doc = json.loads(gzip.decompress(data))
            except (OSError, EOFError, ValueError) as e:
                return RuleViolation("TPAR-02", "the chunks joined a gzip stream of JSON", type(e).__name__)
            if not isinstance(doc, dict):
                return RuleViolation("TPAR-03", "a parameters object", type(doc).__name__)
            ok.append(doc)
            return None

        self.exchange("POST", "/pos/terminal-parameters", headers=auth, judge=judge)
        return ok[0] if ok else None

    def activate(self, auth, msk, after_lost=False):
        """Step 8; returns (the decrypted answer or None, the Reply). `after_lost`: an earlier activate went
        unanswered and may have activated the device, so a refusal now proves nothing (ACT-09 lets a
        backend refuse a repeat)."""
        flags = json.dumps({"emv_ready": True, "keys_installed": True, "network_ok": True}, separators=(",", ":"))
        iv = os.urandom(16)
        body = {
            "format": "TR31-DATA",
            "ciphertext": cbc_encrypt(msk, iv, flags.encode()).hex().upper(),
            "initialization_vector": iv.hex().upper(),
            "mode": "CBC",
        }
        ok = []

        def judge(r):
            if r.status != 200:
                if after_lost and 400 <= r.status < 500:
                    return None
                return RuleViolation("ACT-03", "200 to activate with the three flags true", r.brief())
            try:
                answer = json.loads(open_envelope(msk, r.body))
            except ValueError as e:
                return RuleViolation("ACT-02", "an MSK envelope answer", type(e).__name__)
            if not isinstance(answer, dict) or not {"status", "activated_at"} <= set(answer):
                return RuleViolation("ACT-02", "status and activated_at in the answer", "another")
            ok.append(answer)
            return None

        r = self.exchange("POST", "/pos/activate", headers=auth, body=body, judge=judge)
        if ok:
            self.activated_at = r.received
        return (ok[0] if ok else None), r

    def steps_5_to_8(self):
        token = token_at = msk = cfg = params = None
        activate_lost = False
        while True:
            if token is None or time.monotonic() - token_at > TOKEN_REUSE_S:
                got = self.attest()  # step 5
                if got is None:
                    self.retry_pause()
                    continue
                token, token_at = got
            auth = {"Authorization": f"Attestation {token}", "X-Device-Id": self.device["id"]}
            if msk is None:
                msk = done = self.keys(auth)  # step 6
            elif cfg is None:
                cfg = done = self.config(auth, msk)  # step 7
            elif params is None:
                params = done = self.terminal_parameters(auth, msk)  # step 7, terminal parameters
            else:
                done, r = self.activate(auth, msk, activate_lost)  # step 8
                if done is not None:
                    break
                if r.unanswered:
                    activate_lost = True
                elif activate_lost:
                    # Refused after an unanswered activate: did that one activate the device? If not, the
                    # next refusal is judged strictly.
                    activate_lost = False
                    st = self.status()
                    if st is not None and st["device_status"] == "activated":
                        break
            if done is None:
                token = None  # a refused step: attest again (fresh nonce and token) before the retry
                self.retry_pause()
        # ACT-03: the status now reads activated (judged in status()); read until one answer is valid.
        while (st := self.status()) is None:
            self.retry_pause()
        if st["device_status"] == "activated":
            self.event("journey: activated")
