#!/usr/bin/env python3
"""Independent "other vendor" reference backend of the VioPay POS activation API.

Written from the VioPay engineering reference and its seed pages only. Every REQUIRED rule holds; where the spec
leaves a choice (SIMULATOR / UNKNOWN / silent) this server deliberately chooses differently from the
project's simulator. See CHOICES.md. Python 3.11 stdlib + cryptography + psec==1.3.0.
"""
from __future__ import annotations

import argparse
import base64
import copy
import datetime as dt
import gzip
import hashlib
import hmac
import json
import os
import random
import re
import secrets
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psec
from cryptography.hazmat.primitives import cmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# ----------------------------------------------------------------------------------------------
# constants and choices
# ----------------------------------------------------------------------------------------------
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_RE = re.compile(r"^[A-HJ-NP-Z2-9]{6}$")
DEVICE_RE = re.compile(r"^POS-[0-9A-Fa-f]{8}$")       # lowercase hex is well-formed here (HDR-05 differs)
NONCE_RE = re.compile(r"^[A-Za-z0-9]{12,}$")
KEYID_RE = re.compile(r"^[\x21-\x7e]{1,256}$")
TS_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
CODE_TTL = 300.0            # TIME-01
CODE_RETENTION = 900.0      # used / expired / superseded codes forgotten 900 s after they end
ATT_TTL = 300.0             # TIME-05
NONCE_MEMORY = 600.0
BEARER_TTL = 600            # real seconds (AUTH-14: judged by the issuer's wall clock)
MIN_VERSION = "1.2.0"
BODY_LIMIT = 100_000
CHUNK_SIZE = 5000
KEYSET_DAYS = 730

BREAKS = {
    "CLAIM-03": "claim without Authorization header accepted (merchant = device owner)",
    "CLAIM-06": "missing pairing_code gets a different details.message",
    "CLAIM-12": "unknown pairing code answered 404 instead of 400",
    "CLAIM-16": "no ownership check on claim",
    "CLAIM-17": "a claim refused for ownership consumes the code",
    "CLAIM-18": "a used code can be claimed again",
    "CLAIM-19": "expired codes can still be claimed",
    "CLAIM-20": "claim success body has status \"ok\"",
    "CLAIM-21": "non-atomic claim: concurrent claims can all win",
    "STAT-04": "activated device reports is_claimed false",
    "STAT-06": "status keeps reading pending until 600 s",
    "STAT-12": "status of an unprovisioned device answers 200",
    "BOOT-03": "server_time uses +00:00 instead of Z",
    "BOOT-07": "bootstrap of an unprovisioned device answers 200",
    "PAIR-02": "expires_in_sec is the string \"300\"",
    "PAIR-03": "pairing codes have 7 characters",
    "PAIR-09": "pairing-code issues a code for an unprovisioned device",
    "CODE-04": "a new code does not supersede the pending one (also breaks PAIR-04)",
    "HDR-02": "missing X-Device-Id gets a different message",
    "HDR-12": "X-Device-Id header name matched case-sensitively",
    "ERR-02": "error.code is a JSON number",
    "ERR-04": "error bodies carry no trace_id",
    "ATT-03": "revoked identity keys are still accepted",
    "ATT-04": "X-Timestamp window not enforced",
    "ATT-05": "reused nonces accepted",
    "ATT-06": "signature not verified",
    "TIME-05": "attestation tokens live 900 s",
    "KEYS-01": "attestation token accepted for any device",
    "KEYS-03": "MSK wrapped under the TMK instead of the KEK",
    "MSK-02": "response envelopes encrypted under the TDK instead of the MSK",
    "TPAR-02": "terminal-parameters plaintext not gzipped although content_encoding says gzip",
    "ACT-02": "activate plaintext lacks activated_at",
    "DEV-03": "activate answers 200 but the device stays claimed",
    "LIVE-01": "GET /health/live missing",
    "AUTH-05": "POST /auth/token missing",
}
BROKEN = ""


def brk(rule: str) -> bool:
    return BROKEN == rule


# ----------------------------------------------------------------------------------------------
# clock and formatting
# ----------------------------------------------------------------------------------------------
class Clock:
    def __init__(self, mode: str):
        self.mode = mode
        self.start = time.time()
        self.offset = 0.0
        self.lock = threading.Lock()

    def now(self) -> float:
        with self.lock:
            if self.mode == "frozen":
                return self.start + self.offset
            if self.mode == "running":
                return time.time() + self.offset
            return time.time()

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.offset += seconds

    def hook_mode(self) -> str:
        return {"frozen": "virtual", "running": "offset", "real": "system"}[self.mode]


def rfc3339(t: float) -> str:
    d = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    if brk("BOOT-03"):
        return d.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+00:00"
    return d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rfc3339_any(t: float) -> str:      # hooks and other fields: always Z
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(v: str):
    """RFC 3339 date-time in UTC only (Z, +00:00 or -00:00). Returns epoch float or None."""
    m = TS_RE.match(v)
    if not m:
        return None
    if m.group(8) not in ("Z", "z", "+00:00", "-00:00"):
        return None
    try:
        base = dt.datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)),
                           int(m.group(5)), min(int(m.group(6)), 59), tzinfo=dt.timezone.utc)
    except ValueError:
        return None
    if int(m.group(6)) > 60:
        return None
    frac = float("0" + m.group(7)) if m.group(7) else 0.0
    return base.timestamp() + frac


# ----------------------------------------------------------------------------------------------
# crypto
# ----------------------------------------------------------------------------------------------
def kcv_cmac(key: bytes) -> str:
    c = cmac.CMAC(algorithms.AES(key))
    c.update(bytes(16))
    return c.finalize()[:5].hex()


def kcv_legacy(key: bytes) -> str:        # KEYS-07 method, used only by smoke checks
    e = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return (e.update(bytes(16)) + e.finalize())[:3].hex().upper()


def aes_cbc_encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    p = padding.PKCS7(128).padder()
    padded = p.update(data) + p.finalize()
    e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return e.update(padded) + e.finalize()


def aes_cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = d.update(data) + d.finalize()
    u = padding.PKCS7(128).unpadder()
    return u.update(padded) + u.finalize()


def attest_signature(secret: bytes, device_id: str, key_id: str, ts: str, nonce: str) -> str:
    msg = "\n".join([device_id, key_id, ts, nonce]).encode("latin-1")
    return "v1=" + base64.b64encode(hmac.new(secret, msg, hashlib.sha256).digest()).decode()


def envelope(key: bytes, plaintext: bytes, with_kcv: bool = False) -> dict:
    iv = os.urandom(16)
    env = {"format": "TR31-DATA", "ciphertext": aes_cbc_encrypt(key, iv, plaintext).hex(),
           "initialization_vector": iv.hex(), "mode": "CBC"}
    if with_kcv:
        env["key_kcv"] = kcv_cmac(key)[:6]
    return env


KEY_SPECS = [  # name, usage, TR-31 key usage, mode of use, parent
    ("tmk", "key-encryption", "K1", "B", "zmk"),
    ("kek", "key-encryption", "K1", "B", "tmk"),
    ("msk", "data-encryption", "D0", "B", "kek"),
    ("tpk", "pin-encryption", "P0", "B", "kek"),
    ("tdk", "data-encryption", "D0", "B", "kek"),
    ("mac", "mac", "M6", "C", "kek"),
]


def tr31_block(kbpk: bytes, usage: str, mode: str, version: int, key: bytes, issued: float) -> str:
    h = psec.tr31.Header("D", usage, "A", mode, "%02d" % (version % 100), "N")
    h.blocks["KP"] = "01" + kcv_cmac(key).upper()
    h.blocks["TS"] = "00" + dt.datetime.fromtimestamp(issued, dt.timezone.utc).strftime("%Y%m%d%H%M%SZ")
    return base64.b64encode(psec.tr31.wrap(kbpk, h, key).encode("ascii")).decode()


# ----------------------------------------------------------------------------------------------
# state
# ----------------------------------------------------------------------------------------------
class Code:
    __slots__ = ("value", "device_id", "issued", "state", "ended")

    def __init__(self, value, device_id, issued):
        self.value, self.device_id, self.issued = value, device_id, issued
        self.state, self.ended = "pending", None

    def expired(self, now: float) -> bool:
        return self.state == "pending" and now - self.issued > CODE_TTL   # pending through t+300 inclusive

    def forget_at(self) -> float:
        if self.state == "pending":
            return self.issued + CODE_TTL + CODE_RETENTION
        return self.ended + CODE_RETENTION


class State:
    def __init__(self, fixture: dict, rng: random.Random):
        self.rng = rng
        self.merchants = {}     # id -> {id, name, client_id, client_secret}
        self.clients = {}       # client_id -> merchant id
        self.devices = {}       # device_id -> dict
        self.codes = {}         # value -> Code
        self.att_tokens = {}    # token -> {device_id, issued}
        self.term_seq = 0
        for m in fixture["merchants"]:
            self.add_merchant(dict(id=m["id"], name=m["name"], client_id=m["client_id"],
                                   client_secret=m["client_secret"]))
            for d in m["devices"]:
                self.add_device(m["id"], d["id"], d["identity_key_id"], base64.b64decode(d["identity_secret"]),
                                base64.b64decode(d["zmk"]))

    def add_merchant(self, m):
        self.merchants[m["id"]] = m
        self.clients[m["client_id"]] = m["id"]

    def add_device(self, merchant_id, device_id, key_id, secret, zmk):
        self.term_seq += 1
        self.devices[device_id] = dict(
            id=device_id, merchant_id=merchant_id, status="inactive", latest=None, claimed_by=None,
            keys={key_id: {"secret": secret, "revoked": False}}, zmk=zmk, terminal_id="VT%08d" % self.term_seq,
            keyset=None, keyset_seq=0, activated_at=None, nonces={}, cfg_done=False, tpar_done=False)

    def sweep_codes(self, now):
        for v in [v for v, c in self.codes.items() if c.state != "pending" or c.expired(now)]:
            if now > self.codes[v].forget_at():
                del self.codes[v]


def new_hex(rng, n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def new_device_id(rng, taken):
    while True:
        d = "POS-" + "".join(rng.choice("0123456789ABCDEF") for _ in range(8))
        if d not in taken:
            return d


def device_material(seed, rng, device_id):
    if seed is not None:
        secret = hmac.new(seed.encode(), b"identity|" + device_id.encode(), hashlib.sha256).digest()
        zmk = hmac.new(seed.encode(), b"zmk|" + device_id.encode(), hashlib.sha256).digest()
    else:
        secret, zmk = os.urandom(32), os.urandom(32)
    return secret, zmk


def build_fixture(n_devices, seed):
    rng = random.Random(seed) if seed is not None else random.Random(os.urandom(16))
    taken = set()
    merchants = []
    for name in ("Harbor Lane Bakery Ltd", "Quillfeather Books GmbH"):
        mid = "mrc_" + new_hex(rng, 20)
        m = dict(id=mid, name=name, client_id="cli_" + new_hex(rng, 16), client_secret="sec_" + new_hex(rng, 32),
                 devices=[])
        for _ in range(n_devices):
            did = new_device_id(rng, taken)
            taken.add(did)
            secret, zmk = device_material(seed, rng, did)
            m["devices"].append(dict(id=did, identity_key_id="dk_" + new_hex(rng, 10) + "_1",
                                     identity_secret=base64.b64encode(secret).decode(),
                                     zmk=base64.b64encode(zmk).decode()))
        merchants.append(m)
    unknown = new_device_id(rng, taken)
    return dict(merchants=merchants, unknown_device=unknown), rng


def tpar_document() -> bytes:
    r = random.Random(20261205)
    doc = {"VIPAY": {
        "param_version": "7.3.1",
        "layers": ["vendor-default", "catalog_device.emv_defaults", "merchant-overrides"],
        "emv_kernel": {"kernel_version": "EMV4.3k", "terminal_country_code": "0840", "tac_default": "DC4000A800",
                       "tac_denial": "0010000000", "tac_online": "DC4004F800", "floor_limit": 0},
        "acquirer_list": [{"acquirer_id": "%06d" % r.randrange(10**6), "name": "ACQ %d" % i,
                           "host": "acq%d.example.net" % i, "port": 7000 + i} for i in range(12)],
        "ca_public_keys": [{"rid": "A0000000%02d" % (3 + i % 5), "index": "%02X" % i, "exponent": "03",
                            "modulus": r.randbytes(248).hex().upper(), "expiry": "20301231"} for i in range(44)],
        "contact_settings": {"app_selection": "cardholder", "pin_bypass": False, "default_ddol": "9F3704"},
        "contactless_settings": {"cvm_limit": 5000, "transaction_limit": 25000, "floor_limit": 0,
                                 "kernels": ["K2", "K3", "K4", "K6"]},
    }}
    return json.dumps(doc).encode()


# ----------------------------------------------------------------------------------------------
# server
# ----------------------------------------------------------------------------------------------
class HttpError(Exception):
    def __init__(self, status, code, message, details=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.details, self.headers = status, code, message, details, headers


class App:
    def __init__(self, args):
        self.args = args
        self.clock = Clock(args.clock)
        self.lock = threading.RLock()
        self.fixture, self.rng = build_fixture(args.devices, args.seed)
        self.state = State(self.fixture, self.rng)
        self.bearer_secret = os.urandom(32)
        self.bearer = {}        # jti -> {merchant_id, exp, initiated}  (identity provider: survives /_sim/reset)
        self.tpar_gz = gzip.compress(tpar_document(), mtime=0)
        self.tpar_raw = tpar_document()
        self.port = 0


APP: App = None  # type: ignore


def trace_id() -> str:
    return "ovr-%x-%s" % (int(time.time() * 1000), secrets.token_hex(6))


class Handler(BaseHTTPRequestHandler):
    server_version = "OtherVendorPOS/1.0"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        if APP.args.verbose:
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % a))

    # ---- plumbing ----
    def hdr(self, name):
        if brk("HDR-12") and name == "X-Device-Id":
            for k, v in self.headers.items():
                if k == name:
                    return v
            return None
        return self.headers.get(name)

    def read_body(self) -> bytes:
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline(8)
                if len(out) > 8 * 1024 * 1024:
                    return bytes(out)
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = 0
        if n <= 0:
            return b""
        return self.rfile.read(min(n, 8 * 1024 * 1024))

    def send(self, status, obj, extra_headers=None, tid=None):
        lat = APP.args.latency
        if lat:
            time.sleep(random.uniform(lat[0], lat[1]) / 1000.0)
        body = b"" if obj is None else (json.dumps(obj) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Request-Id", tid or trace_id())
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def send_error_env(self, e: HttpError):
        tid = trace_id()
        err = {"code": int(e.code) if brk("ERR-02") else e.code, "message": e.message,
               "details": e.details if e.details is not None else {}}
        if not brk("ERR-04"):
            err["trace_id"] = tid
        self.send(e.status, {"error": err}, e.headers, tid)

    def dispatch(self):
        try:
            path = self.path.split("?", 1)[0]
            route = ROUTER.match(path)
            if route is None:
                self.read_body()
                raise HttpError(404, "4040", "Unknown path: " + path[:100])
            methods, params = route
            if self.command not in methods:
                self.read_body()
                raise HttpError(405, "4005", "Method %s is not supported here" % self.command,
                                headers={"Allow": ", ".join(sorted(methods))})
            body = self.read_body()
            if len(body) > BODY_LIMIT:
                raise HttpError(413, "4013", "Payload too large", {"limit_bytes": BODY_LIMIT})
            status, obj = methods[self.command](self, body, **params)
            self.send(status, obj)
        except HttpError as e:
            self.send_error_env(e)
        except Exception:  # pragma: no cover
            traceback.print_exc()
            self.send_error_env(HttpError(500, "5099", "Unexpected server failure"))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = dispatch

    # ---- POS activation headers ----
    def pos_device(self, unknown_status, unknown_code, unknown_msg, allow_unknown=False):
        ct = self.headers.get("X-Client-Type")
        if ct is None or ct != "pos":
            raise HttpError(400, "4000", "X-Client-Type must be 'pos'")
        ua = self.headers.get("User-Agent")
        if ua is None or not ua.startswith("Viopay-POS/"):
            raise HttpError(400, "4000", "Unsupported User-Agent (expected Viopay-POS/<version>)")
        did = self.hdr("X-Device-Id")
        if did is None or did == "":
            raise HttpError(400, "4000", "X-Device-ID header missing" if brk("HDR-02") else "X-Device-Id header is required")
        if not DEVICE_RE.match(did):
            raise HttpError(400, "4000", "X-Device-Id must look like POS-XXXXXXXX")
        dev = APP.state.devices.get(did)
        if dev is None and not allow_unknown:
            raise HttpError(unknown_status, unknown_code, unknown_msg, {"device_id": did})
        return did, dev


# ---- handlers: POS steps 1-3 ----
def h_bootstrap(req, body):
    with APP.lock:
        req.pos_device(404, "4004", "Device not found", allow_unknown=brk("BOOT-07"))
        return 200, {"status": "ok", "server_time": rfc3339(APP.clock.now()), "min_supported_version": MIN_VERSION}


def gen_code(st):
    n = 7 if brk("PAIR-03") else 6
    for _ in range(25):
        c = "".join(secrets.choice(ALPHABET) for _ in range(n))
        if c not in st.codes:
            return c
    return None


def h_pairing_code(req, body):
    with APP.lock:
        st, now = APP.state, APP.clock.now()
        did, dev = req.pos_device(403, "4003", "Device is not provisioned", allow_unknown=brk("PAIR-09"))
        if dev is None:
            return 200, {"pairing_code": gen_code(st), "expires_in_sec": 300}
        if dev["status"] != "inactive":
            raise HttpError(409, "4090", "Device is already paired with a merchant", {"device_status": dev["status"]})
        st.sweep_codes(now)
        value = gen_code(st)
        if value is None:
            raise HttpError(500, "5000", "Failed to create pairing code")
        old = dev["latest"]
        if old is not None and old.state == "pending" and not old.expired(now) and not brk("CODE-04"):
            old.state, old.ended = "superseded", now
        code = Code(value, did, now)
        st.codes[value] = code
        dev["latest"] = code
        return 200, {"pairing_code": value, "expires_in_sec": "300" if brk("PAIR-02") else 300}


def h_status(req, body):
    with APP.lock:
        now = APP.clock.now()
        did, dev = req.pos_device(404, "4004", "Device not found", allow_unknown=brk("STAT-12"))
        if dev is None:
            return 200, {"device_status": "inactive", "is_claimed": False, "pairing_code_status": "none"}
        c = dev["latest"]
        if c is None:
            pcs = "none"
        elif c.state == "used":
            pcs = "used"
        elif c.state == "pending":
            limit = 600 if brk("STAT-06") else CODE_TTL
            pcs = "expired" if now - c.issued > limit else "pending"
        else:
            pcs = "expired"
        claimed = dev["status"] in ("claimed", "activated")
        if brk("STAT-04") and dev["status"] == "activated":
            claimed = False
        return 200, {"device_status": dev["status"], "is_claimed": claimed, "pairing_code_status": pcs}


# ---- merchant auth ----
def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def parse_json_object(body: bytes):
    try:
        obj = json.loads(body.decode("utf-8"))
    except Exception as e:
        raise HttpError(400, "4000", "Invalid request body", {"message": "body is not valid JSON: %s" % e})
    if not isinstance(obj, dict):
        raise HttpError(400, "4000", "Malformed claim request", {"message": "the JSON body must be an object"})
    return obj


def h_client_session(req, body):
    try:
        obj = json.loads(body.decode("utf-8"))
        assert isinstance(obj, dict)
    except Exception:
        raise HttpError(400, "4000", "Invalid request body", {"message": "expected {client_id, client_secret}"})
    cid, csec = obj.get("client_id"), obj.get("client_secret")
    if not isinstance(cid, str) or not isinstance(csec, str) or not cid or not csec:
        raise HttpError(400, "4000", "Invalid request body", {"message": "client_id and client_secret are required"})
    with APP.lock:
        mid = APP.state.clients.get(cid)
        m = APP.state.merchants.get(mid) if mid else None
        if m is None or not hmac.compare_digest(m["client_secret"].encode(), csec.encode()):
            raise HttpError(401, "4011", "Client authentication failed", headers={"WWW-Authenticate": 'Bearer realm="ov"'})
        iat = int(time.time())
        jti = secrets.token_hex(12)
        header = {"alg": "HS256", "typ": "JWT", "kid": "ov-hs-1"}
        payload = {"iss": "http://127.0.0.1:%d/realms/other-vendor" % APP.port, "sub": cid, "azp": cid,
                   "org_id": mid, "iat": iat, "exp": iat + BEARER_TTL, "jti": jti, "typ": "Bearer",
                   "scope": "pos-claim"}
        si = b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(payload).encode())
        tok = si + "." + b64u(hmac.new(APP.bearer_secret, si.encode(), hashlib.sha256).digest())
        APP.bearer[jti] = {"merchant_id": mid, "exp": iat + BEARER_TTL, "initiated": False}
        return 200, {"access_token": tok, "token_type": "bearer", "expires_in": BEARER_TTL,
                     "refresh_expires_in": 0, "scope": "pos-claim"}


def bearer_session(req, optional=False):
    """Returns the bearer session dict, or None when optional and absent."""
    auth = req.headers.get("Authorization")
    www = {"WWW-Authenticate": 'Bearer realm="ov"'}
    if auth is None or auth.strip() == "":
        if optional:
            return None
        raise HttpError(401, "4010", "Authentication required", headers=www)
    parts = auth.strip().split(None, 1)
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise HttpError(401, "4010", "Invalid access token", headers=www)
    tok = parts[1].strip()
    segs = tok.split(".")
    if len(segs) != 3:
        raise HttpError(401, "4010", "Invalid access token", headers=www)
    try:
        hdr = json.loads(base64.urlsafe_b64decode(segs[0] + "=" * (-len(segs[0]) % 4)))
        payload = json.loads(base64.urlsafe_b64decode(segs[1] + "=" * (-len(segs[1]) % 4)))
        sig = base64.urlsafe_b64decode(segs[2] + "=" * (-len(segs[2]) % 4))
    except Exception:
        raise HttpError(401, "4010", "Invalid access token", headers=www)
    good = hmac.new(APP.bearer_secret, (segs[0] + "." + segs[1]).encode(), hashlib.sha256).digest()
    if not isinstance(hdr, dict) or hdr.get("alg") != "HS256" or not hmac.compare_digest(sig, good) \
            or not isinstance(payload, dict):
        raise HttpError(401, "4010", "Invalid access token", headers=www)
    sess = APP.bearer.get(payload.get("jti"))
    if sess is None or sess["merchant_id"] not in APP.state.merchants:
        raise HttpError(401, "4010", "Invalid access token", headers=www)
    if time.time() >= sess["exp"]:
        raise HttpError(403, "4030", "Access token expired")
    return sess


def h_session_initiate(req, body):
    with APP.lock:
        sess = bearer_session(req)
        try:
            obj = json.loads(body.decode("utf-8"))
            assert isinstance(obj, dict) and isinstance(obj.get("host"), str) and obj["host"].strip()
        except Exception:
            raise HttpError(400, "4000", "Invalid request body", {"message": "expected {\"host\": \"<portal host>\"}"})
        sess["initiated"] = True
        m = APP.state.merchants[sess["merchant_id"]]
        return 200, {"session": {"id": "ses_" + secrets.token_hex(8), "host": obj["host"],
                                 "merchant": {"id": m["id"], "name": m["name"]}, "channel": "api",
                                 "initiated_at": rfc3339_any(time.time())}}


# ---- claim ----
def h_claim(req, body):
    # 1. body (Content-Type is not consulted)
    obj = parse_json_object(body)
    if "pairing_code" not in obj:
        msg = "pairing_code is required" if brk("CLAIM-06") else \
            "Key: 'ClaimDeviceRequest.PairingCode' Error:Field validation for 'PairingCode' failed on the 'required' tag"
        raise HttpError(400, "4000", "Invalid request body", {"message": msg})
    pc = obj["pairing_code"]
    if pc is None:
        raise HttpError(400, "4000", "Invalid request body", {"message": "pairing_code must not be null"})
    if not isinstance(pc, str):
        raise HttpError(400, "4000", "Malformed claim request", {"message": "pairing_code must be a JSON string"})
    if pc == "":
        raise HttpError(400, "4000", "Invalid request body", {"message": "pairing_code must not be empty"})
    code_re = re.compile(r"^[A-HJ-NP-Z2-9]{6,7}$") if brk("PAIR-03") else CODE_RE
    if not code_re.match(pc):
        raise HttpError(400, "4000", "Invalid request body",
                        {"message": "pairing_code must be exactly 6 characters from " + ALPHABET})
    want_dev = obj.get("device_id")
    if want_dev is not None and not isinstance(want_dev, str):
        raise HttpError(400, "4000", "Malformed claim request", {"message": "device_id must be a string"})
    # 2. token, 3. session
    with APP.lock:
        sess = bearer_session(req, optional=brk("CLAIM-03"))
        if sess is not None and not sess["initiated"]:
            raise HttpError(403, "4031", "Session has not been initiated (POST /session/initiate first)")
        st, now = APP.state, APP.clock.now()
        st.sweep_codes(now)
        code = st.codes.get(pc)
        if code is None:
            raise HttpError(404 if brk("CLAIM-12") else 400, "4004", "Pairing code not found", {"pairing_code": pc})
        if code.state == "superseded":
            raise HttpError(400, "4220", "Pairing code was replaced by a newer code", {"pairing_code": pc})
        if code.state == "used" and not brk("CLAIM-18"):
            raise HttpError(400, "4220", "Pairing code has already been used", {"pairing_code": pc})
        if code.expired(now) and not brk("CLAIM-19"):
            raise HttpError(400, "4220", "Pairing code has expired", {"pairing_code": pc})
        dev = st.devices[code.device_id]
        if want_dev is not None and want_dev != dev["id"]:
            raise HttpError(400, "4220", "Pairing code was issued to a different device",
                            {"pairing_code": pc, "device_id": want_dev})
        merchant_id = sess["merchant_id"] if sess is not None else dev["merchant_id"]
        if dev["merchant_id"] != merchant_id and not brk("CLAIM-16"):
            if brk("CLAIM-17"):
                code.state, code.ended = "used", now
            raise HttpError(403, "4003", "Device does not belong to your merchant account", {"device_id": dev["id"]})
        if not brk("CLAIM-21"):
            return finish_claim(code, dev, merchant_id, now)
    time.sleep(0.15)            # CLAIM-21 broken: the check and the update are not atomic
    with APP.lock:
        return finish_claim(code, dev, merchant_id, now)


def finish_claim(code, dev, merchant_id, now):
    if code.state != "used":
        code.state, code.ended = "used", now
    if dev["status"] == "inactive":
        dev["status"] = "claimed"
    dev["claimed_by"] = merchant_id
    return 200, {"status": "ok" if brk("CLAIM-20") else "claimed", "device_id": dev["id"]}


# ---- step 5: attest ----
def h_attest(req, body):
    with APP.lock:
        st, now = APP.state, APP.clock.now()
        did, dev = req.pos_device(404, "4004", "No such device")
        sig = req.headers.get("X-Signature")
        nonce = req.headers.get("X-Nonce")
        ts = req.headers.get("X-Timestamp")
        kid = req.headers.get("X-Key-Id")
        if sig is None:
            raise HttpError(400, "4000", "Missing X-Signature")
        if not sig.startswith("v1=") or len(sig) <= 3:
            raise HttpError(400, "4000", "X-Signature must be v1=<base64>")
        mac = None
        for dec in (lambda s: base64.b64decode(s, validate=True),
                    lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))):
            try:
                mac = dec(sig[3:])
                break
            except Exception:
                pass
        if mac is None:
            raise HttpError(400, "4000", "X-Signature must be v1=<base64>")
        if nonce is None:
            raise HttpError(400, "4000", "Missing X-Nonce")
        if not NONCE_RE.match(nonce):
            raise HttpError(400, "4000", "X-Nonce must be at least 12 ASCII letters or digits")
        if ts is None:
            raise HttpError(400, "4000", "Missing X-Timestamp")
        t = parse_ts(ts)
        if t is None:
            raise HttpError(400, "4000", "X-Timestamp must be an RFC 3339 UTC date-time")
        if kid is None:
            raise HttpError(400, "4000", "Missing X-Key-Id")
        if not KEYID_RE.match(kid):
            raise HttpError(400, "4000", "X-Key-Id is malformed")
        if dev["status"] == "inactive":
            raise HttpError(409, "4092", "Device has not been claimed yet", {"device_id": did})
        if not (now - 300.0 <= t <= now + 60.0) and not brk("ATT-04"):
            raise HttpError(401, "4012", "X-Timestamp outside the allowed skew", {"server_time": rfc3339_any(now)})
        key = dev["keys"].get(kid)
        if key is None or (key["revoked"] and not brk("ATT-03")):
            raise HttpError(401, "4011", "Unknown or revoked identity key", {"key_id": kid})
        want = base64.b64decode(attest_signature(key["secret"], did, kid, ts, nonce)[3:])
        if not hmac.compare_digest(want, mac) and not brk("ATT-06"):
            raise HttpError(401, "4014", "Signature mismatch")
        nonces = dev["nonces"]
        for n in [n for n, seen in nonces.items() if now - seen > NONCE_MEMORY]:
            del nonces[n]
        if nonce in nonces and not brk("ATT-05"):
            raise HttpError(401, "4013", "Nonce replay detected")
        nonces[nonce] = now
        if len(st.att_tokens) > 20000:
            lim = 900 if brk("TIME-05") else ATT_TTL
            for k in [k for k, v in st.att_tokens.items() if now - v["issued"] > lim]:
                del st.att_tokens[k]
        token = "att_" + secrets.token_urlsafe(30)
        st.att_tokens[token] = {"device_id": did, "issued": now}
        return 200, {"status": "attested", "attestation_token": token, "expires_in_sec": 300,
                     "expires_at": rfc3339_any(now + ATT_TTL)}


def att_auth(req):
    did = req.hdr("X-Device-Id")
    if did is None or did == "":
        raise HttpError(400, "4000", "X-Device-Id header is required")
    if not DEVICE_RE.match(did):
        raise HttpError(400, "4000", "X-Device-Id must look like POS-XXXXXXXX")
    ct = req.headers.get("X-Client-Type")     # optional here, but checked when sent; User-Agent is not checked
    if ct is not None and ct != "pos":
        raise HttpError(400, "4000", "X-Client-Type must be 'pos'")
    auth = req.headers.get("Authorization")
    if auth is None or not auth.strip():
        raise HttpError(401, "4010", "Attestation token required", headers={"WWW-Authenticate": "Attestation"})
    parts = auth.strip().split(None, 1)
    if len(parts) != 2 or parts[0].lower() != "attestation":
        raise HttpError(401, "4010", "Attestation token required", headers={"WWW-Authenticate": "Attestation"})
    st, now = APP.state, APP.clock.now()
    rec = st.att_tokens.get(parts[1].strip())
    if rec is None:
        raise HttpError(401, "4010", "Invalid attestation token", headers={"WWW-Authenticate": "Attestation"})
    if now - rec["issued"] > (900 if brk("TIME-05") else ATT_TTL):
        raise HttpError(401, "4016", "Attestation token expired", headers={"WWW-Authenticate": "Attestation"})
    if rec["device_id"] != did and not brk("KEYS-01"):
        raise HttpError(403, "4003", "Attestation token was issued to a different device", {"device_id": did})
    dev = st.devices.get(did) or st.devices.get(rec["device_id"])
    return dev, now


def msk_of(dev):
    ks = dev["keyset"]
    if ks is None:
        raise HttpError(409, "4093", "Key exchange not completed for this device")
    return ks["keys"]["tdk" if brk("MSK-02") else "msk"]


# ---- step 6: keys ----
def h_keys(req, body):
    with APP.lock:
        dev, now = att_auth(req)
        dev["keyset_seq"] += 1
        seq = dev["keyset_seq"]
        suffix = "%s%02d" % (secrets.token_hex(3), seq)
        keys = {name: os.urandom(32) for name, *_ in KEY_SPECS}
        dev["keyset"] = {"id": "KS-" + dev["id"][4:] + "-" + suffix, "seq": seq, "issued": now, "keys": keys}
        out = {}
        for name, usage, ku, mode, parent in KEY_SPECS:
            if brk("KEYS-03") and name == "msk":
                parent = "tmk"
            kbpk = dev["zmk"] if parent == "zmk" else keys[parent]
            out[name] = {"key_id": "%s-%s" % (name.upper(), suffix), "usage": usage,
                         "key_block": tr31_block(kbpk, ku, mode, seq, keys[name], now),
                         "check_value": kcv_cmac(keys[name]), "check_value_method": "CMAC",
                         "algorithm": "AES-256"}
        return 200, {"key_set": {"key_set_id": dev["keyset"]["id"], "issued_at": rfc3339_any(now),
                                 "expires_at": rfc3339_any(now + KEYSET_DAYS * 86400), "version": seq},
                     "transport": {"format": "TR31", "encryption": "AES-256", "wrapped_under": "kek"},
                     "keys": out}


# ---- step 7: config, 7b: terminal-parameters ----
def h_config(req, body):
    with APP.lock:
        dev, now = att_auth(req)
        msk = msk_of(dev)
        m = APP.state.merchants[dev["merchant_id"]]
        cfg = {
            "terminal_id": dev["terminal_id"], "device_id": dev["id"], "config_version": 3,
            "generated_at": rfc3339_any(now),
            "merchant": {"id": m["id"], "name": m["name"], "merchant_key": "mkey_" + m["id"][4:],
                         "tip_info": {"enabled": True, "presets_percent": [10, 15, 20]},
                         "tax_info": {"enabled": True, "rate_bp": 725, "inclusive": False},
                         "surcharge_info": {"enabled": False, "rate_bp": 0}},
            "location": {"id": "site-" + m["id"][4:12], "name": "Front counter", "address": "1 Example Street",
                         "timezone": "America/Chicago"},
            "emv": {"aids": [{"aid": "A0000000031010", "label": "VISA"}, {"aid": "A0000000041010", "label": "MASTERCARD"},
                             {"aid": "A0000000651010", "label": "JCB"}],
                    "terminal_capabilities": "E0B8C8", "terminal_type": "22"},
            "security": {"pin_required_above": 2500, "contactless_limit": 20000, "fallback_allowed": True,
                         "max_pin_tries": 3},
            "branding": {"theme": "dark", "logo_url": "https://cdn.example.net/logo.png"},
            "intervals": {"heartbeat_sec": 120, "update_check_sec": 21600},
        }
        dev["cfg_done"] = True
        return 200, envelope(msk, json.dumps(cfg).encode())


def h_terminal_parameters(req, body):
    with APP.lock:
        dev, now = att_auth(req)
        msk = msk_of(dev)
        if not dev["cfg_done"]:
            raise HttpError(409, "4094", "Configuration must be fetched before terminal parameters")
        data = APP.tpar_raw if brk("TPAR-02") else APP.tpar_gz
        chunks = []
        for i in range(0, len(data), CHUNK_SIZE):
            iv = os.urandom(16)
            chunks.append({"seq": len(chunks), "ciphertext": aes_cbc_encrypt(msk, iv, data[i:i + CHUNK_SIZE]).hex(),
                           "initialization_vector": iv.hex(), "mode": "CBC"})
        dev["tpar_done"] = True
        return 200, {"format": "TR31-DATA-CHUNKED", "content_encoding": "gzip", "mode": "CBC",
                     "key_kcv": kcv_cmac(msk)[:6], "chunk_count": len(chunks), "chunks": chunks}


# ---- step 8: activate ----
def bad_env(reason):
    return HttpError(400, "4000", "Malformed encrypted payload", {"reason": reason})


def h_activate(req, body):
    with APP.lock:
        dev, now = att_auth(req)
        if dev["status"] == "activated":
            raise HttpError(409, "4091", "Device already activated", {"activated_at": rfc3339_any(dev["activated_at"])})
        msk = msk_of(dev)
        if not (dev["cfg_done"] and dev["tpar_done"]):
            raise HttpError(409, "4095", "Configuration and terminal parameters must be fetched before activation")
        try:
            env = json.loads(body.decode("utf-8"))
        except Exception:
            raise bad_env("body is not JSON")
        if not isinstance(env, dict) or env.get("format") != "TR31-DATA":
            raise bad_env("expected a TR31-DATA envelope")
        if not isinstance(env.get("mode"), str) or env["mode"].upper() != "CBC":
            raise bad_env("mode must be CBC")
        iv, ct = env.get("initialization_vector"), env.get("ciphertext")
        if not isinstance(iv, str) or not re.fullmatch(r"[0-9A-Fa-f]{32}", iv):
            raise bad_env("initialization_vector must be 32 hex characters")
        if not isinstance(ct, str) or not ct or len(ct) % 32 or not re.fullmatch(r"[0-9A-Fa-f]+", ct):
            raise bad_env("ciphertext must be whole AES blocks in hex")
        try:
            plain = json.loads(aes_cbc_decrypt(msk, bytes.fromhex(iv), bytes.fromhex(ct)).decode("utf-8"))
        except Exception:
            raise bad_env("decryption failed")
        if not isinstance(plain, dict):
            raise bad_env("plaintext must be a JSON object")
        flags = {}
        for f in ("emv_ready", "keys_installed", "network_ok"):
            v = plain.get(f, True if f == "network_ok" else None)
            if not isinstance(v, bool):
                raise bad_env("%s must be a boolean" % f)
            flags[f] = v
        failed = [f for f, v in flags.items() if not v]
        if failed:
            raise HttpError(409, "4090", "Terminal reported failed readiness checks", {"failed": failed})
        if not brk("DEV-03"):
            dev["status"] = "activated"
        dev["activated_at"] = now
        out = {"status": "active", "device_id": dev["id"], "terminal_id": dev["terminal_id"],
               "key_set_id": dev["keyset"]["id"]}
        if not brk("ACT-02"):
            out["activated_at"] = rfc3339_any(now)
        return 200, envelope(msk, json.dumps(out).encode())


def h_live(req, body):
    return 200, {"status": "UP", "checks": [{"name": "state", "status": "UP"}]}


# ---- /_sim hooks ----
def hook_body(body):
    if not body.strip():
        return {}
    try:
        obj = json.loads(body.decode("utf-8"))
    except Exception:
        raise HttpError(400, "4000", "Invalid JSON")
    if not isinstance(obj, dict):
        raise HttpError(400, "4000", "Expected a JSON object")
    return obj


def s_clock(req, body):
    # tokens_follow: merchant tokens expire on the identity provider's real clock, not this one.
    return 200, {"now": rfc3339_any(APP.clock.now()), "mode": APP.clock.hook_mode(), "tokens_follow": False}


def s_clock_advance(req, body):
    if APP.clock.mode == "real":
        raise HttpError(409, "4090", "Clock is the real wall clock and cannot be advanced")
    obj = hook_body(body)
    s = obj.get("seconds")
    if isinstance(s, bool) or not isinstance(s, (int, float)) or s < 0:
        raise HttpError(400, "4000", "seconds must be a non-negative number")
    APP.clock.advance(float(s))
    return 200, {"now": rfc3339_any(APP.clock.now())}


def s_reset(req, body):
    with APP.lock:
        APP.state = State(APP.fixture, APP.rng)
    return 200, {"status": "reset"}


def s_merchants(req, body):
    obj = hook_body(body)
    name = obj.get("name")
    if not isinstance(name, str) or not name:
        raise HttpError(400, "4000", "name is required")
    with APP.lock:
        r = APP.rng
        m = dict(id="mrc_" + new_hex(r, 20), name=name, client_id="cli_" + new_hex(r, 16),
                 client_secret="sec_" + new_hex(r, 32))
        APP.state.add_merchant(m)
        return 201, dict(m)


def s_devices(req, body):
    obj = hook_body(body)
    with APP.lock:
        mid = obj.get("merchant_id")
        if mid not in APP.state.merchants:
            raise HttpError(404, "4004", "Merchant not found", {"merchant_id": mid})
        taken = set(APP.state.devices) | {APP.fixture["unknown_device"]}
        did = new_device_id(APP.rng, taken)
        secret, zmk = device_material(APP.args.seed, APP.rng, did)
        APP.state.add_device(mid, did, "dk_" + new_hex(APP.rng, 10) + "_1", secret, zmk)
        return 201, {"merchant_id": mid, "device_ids": [did]}


def sim_dev(did):
    dev = APP.state.devices.get(did)
    if dev is None:
        raise HttpError(404, "4004", "Device not found", {"device_id": did})
    return dev


def s_device_get(req, body, did):
    with APP.lock:
        dev = sim_dev(did)
        return 200, {"device_id": did, "merchant_id": dev["merchant_id"], "device_status": dev["status"],
                     "terminal_id": dev["terminal_id"],
                     "identity_keys": [{"key_id": k, "secret": base64.b64encode(v["secret"]).decode(),
                                        "revoked": v["revoked"]} for k, v in dev["keys"].items()],
                     "zmk": base64.b64encode(dev["zmk"]).decode()}


def s_idk_add(req, body, did):
    with APP.lock:
        dev = sim_dev(did)
        kid = "dk_" + new_hex(APP.rng, 10) + "_%d" % (len(dev["keys"]) + 1)
        secret = os.urandom(32)
        dev["keys"][kid] = {"secret": secret, "revoked": False}
        return 201, {"device_id": did, "key_id": kid, "secret": base64.b64encode(secret).decode(), "revoked": False}


def s_idk_revoke(req, body, did, kid):
    with APP.lock:
        dev = sim_dev(did)
        if kid not in dev["keys"]:
            raise HttpError(404, "4004", "Identity key not found", {"key_id": kid})
        dev["keys"][kid]["revoked"] = True
        return 200, {"device_id": did, "key_id": kid, "revoked": True}


def s_rotate(req, body, did):
    with APP.lock:
        dev = sim_dev(did)
        dev["keyset"] = None
        return 200, {"device_id": did, "rotated": True}


# ----------------------------------------------------------------------------------------------
class Router:
    def __init__(self):
        self.static, self.dynamic = {}, []

    def add(self, path, method, fn):
        if "{" in path:
            rx = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")
            for r, ms in self.dynamic:
                if r.pattern == rx.pattern:
                    ms[method] = fn
                    return
            self.dynamic.append((rx, {method: fn}))
        else:
            self.static.setdefault(path, {})[method] = fn

    def match(self, path):
        if path in self.static:
            return self.static[path], {}
        for rx, ms in self.dynamic:
            m = rx.match(path)
            if m:
                return ms, m.groupdict()
        return None


ROUTER = Router()


def build_routes(hooks):
    R = ROUTER
    R.add("/pos/bootstrap", "POST", h_bootstrap)
    R.add("/pos/pairing-code", "POST", h_pairing_code)
    R.add("/pos/status", "GET", h_status)
    R.add("/pos/claim", "POST", h_claim)
    R.add("/pos/attest", "POST", h_attest)
    R.add("/pos/keys", "POST", h_keys)
    R.add("/pos/config", "POST", h_config)
    R.add("/pos/terminal-parameters", "POST", h_terminal_parameters)
    R.add("/pos/activate", "POST", h_activate)
    R.add("/client/session", "POST", h_client_session)
    if not brk("AUTH-05"):
        R.add("/auth/token", "POST", h_client_session)
    R.add("/session/initiate", "POST", h_session_initiate)
    if not brk("LIVE-01"):
        R.add("/health/live", "GET", h_live)
    if hooks in ("all", "clock"):
        R.add("/_sim/clock", "GET", s_clock)
        R.add("/_sim/clock/advance", "POST", s_clock_advance)
    if hooks == "all":
        R.add("/_sim/reset", "POST", s_reset)
        R.add("/_sim/merchants", "POST", s_merchants)
        R.add("/_sim/devices", "POST", s_devices)
        R.add("/_sim/devices/{did}", "GET", s_device_get)
        R.add("/_sim/devices/{did}/identity-keys", "POST", s_idk_add)
        R.add("/_sim/devices/{did}/identity-keys/{kid}", "DELETE", s_idk_revoke)
        R.add("/_sim/devices/{did}/key-set/rotate", "POST", s_rotate)


def toml_str(s):
    return json.dumps(s)


def write_profile(path, app):
    f = app.fixture
    lines = ['base_url = %s' % toml_str("http://127.0.0.1:%d" % app.port),
             'unknown_device = %s' % toml_str(f["unknown_device"]),
             'min_supported_version = %s' % toml_str(MIN_VERSION), "",
             "[clock]", 'mode = "%s"' % ("real" if app.args.clock == "real" else "control"),
             "frozen = %s" % ("true" if app.args.clock == "frozen" else "false"), ""]
    for m in f["merchants"]:
        lines += ["[[merchants]]", "name = %s" % toml_str(m["name"]), "client_id = %s" % toml_str(m["client_id"]),
                  "client_secret = %s" % toml_str(m["client_secret"]), "devices = ["]
        for d in m["devices"]:
            lines.append("  { id = %s, identity_key_id = %s, identity_secret = %s, zmk = %s }," % (
                toml_str(d["id"]), toml_str(d["identity_key_id"]), toml_str(d["identity_secret"]), toml_str(d["zmk"])))
        lines += ["]", ""]
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        fh.write("\n".join(lines))
    os.replace(tmp, path)


def main():
    global APP, BROKEN
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--clock", choices=["real", "running", "frozen"], default="running")
    ap.add_argument("--hooks", choices=["all", "clock", "none"], default="all")
    ap.add_argument("--devices", type=int, default=400)
    ap.add_argument("--profile-out")
    ap.add_argument("--latency")
    ap.add_argument("--break", dest="brk")
    ap.add_argument("--seed")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if args.brk == "list":
        for k, v in BREAKS.items():
            print("%-9s %s" % (k, v))
        return 0
    if args.brk:
        if args.brk not in BREAKS:
            sys.stderr.write("unsupported --break %s (try --break list)\n" % args.brk)
            return 2
        BROKEN = args.brk
    if args.latency:
        lo, _, hi = args.latency.partition("-")
        args.latency = (float(lo), float(hi or lo))
    APP = App(args)
    build_routes(args.hooks)
    # The backlog is fixed when the constructor listens: set it before (a harness opens dozens of
    # connections at once, and this server closes each after one answer).
    ThreadingHTTPServer.request_queue_size = 256
    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    httpd.daemon_threads = True
    APP.port = httpd.server_address[1]
    if args.profile_out:
        write_profile(args.profile_out, APP)
    if BROKEN:
        sys.stderr.write("BROKEN build: %s (%s)\n" % (BROKEN, BREAKS[BROKEN]))
    print("LISTENING http://127.0.0.1:%d" % APP.port, flush=True)
    try:
        httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
