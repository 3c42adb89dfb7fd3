#!/usr/bin/env python3
"""Independent "other vendor" reference backend of the Kustom enrollment-first pairing API (/ipp/v1).

Written from the Kustom engineering reference and its seed page only.  Every REQUIRED rule holds; wherever a rule is
SIMULATOR or UNKNOWN this server deliberately makes another allowed choice (see CHOICES.md).
Python 3.11 standard library only.
"""
import argparse
import base64
import binascii
import json
import random
import re
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

API = "/ipp/v1"
REGISTRATION_PATH = API + "/pos/register"          # KREG-04: our own registration path
TWO_HOURS_MS = 7_200_000                            # KEN-03 (REQUIRED)
MAX_LIFETIME_MS = 30 * 24 * 3_600_000               # KEN-07 divergence: up to 30 days
MIN_LIFETIME_MS = 1                                 # KEN-07 divergence: anything positive
TTLS = {"TWO_HOURS": 7_200_000, "TWENTY_FOUR_HOURS": 86_400_000,
        "FORTY_EIGHT_HOURS": 172_800_000, "SEVENTY_TWO_HOURS": 259_200_000}
TOKEN_LIFETIME_MS = 30 * 24 * 3_600_000             # KAUTH-19/KTIME-05 divergence: tokens live 30 days
BODY_LIMIT = 128 * 1024                             # KERR-08 divergence: 128 KiB
HARD_READ_CAP = 16 * 1024 * 1024
OUT_TZ = timezone(timedelta(hours=1))               # KCONV-04 divergence: +01:00 offset, always milliseconds
CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
PLATFORMS = ("IOS", "ANDROID", "TERMINAL")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
PROBLEM_BASE = "https://kustom-ref.invalid/problems/"

BREAKABLE = {
    "KDEV-20": "a deregistered device's token still works on /devices/me",
    "KAUTH-15": "credentials also appear in device list, get, update and /devices/me responses",
    "KREG-13": "a consumed code registers again",
    "KEN-21": "the enrollment list also shows other merchants' enrollments",
    "KEN-22": "CANCELLED and EXPIRED enrollments are listed",
    "KTIME-01": "an expired code still registers a device",
    "KREG-10": "the device does not get the enrollment's metadata",
    "KAUTH-14": "registration credentials lack issuedAt",
    "KEN-03": "the default lifetime is 1 hour instead of 2",
    "KAUTH-10": "any API key / username is accepted (unknown keys act as the first merchant)",
    "KEN-42": "a cancelled code still registers a device",
    "KREG-11": "the device's location differs from the enrollment's",
    "KEN-35": "DELETE of an enrollment answers success but leaves it PENDING",
    "KREG-01": "registration demands merchant authentication",
    "KAUTH-02": "HTTP Basic username:key credentials are refused",
    "KDEV-07": "the metadata filter of the device list is ignored",
    "KDEV-12": "PUT answers 200 but changes nothing",
    "KREG-24": "the simulated device does not get simulated=true",
    "KCONV-05": "the Authorization header is only recognised when spelled exactly 'Authorization'",
}


class Problem(Exception):
    def __init__(self, status, slug, title, detail, invalid=None, headers=None):
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.invalid, self.headers = invalid, headers or {}


def invalid(params, status=422, detail="One or more request values are not acceptable."):
    return Problem(status, "invalid-input", "Request rejected", detail,
                   invalid=[{"name": k, "reason": v} for k, v in params.items()])


def bad_query(params):
    return invalid(params, 400, "One or more query parameters are not acceptable.")


def fmt_ts(ms):
    dt = datetime.fromtimestamp(ms / 1000, OUT_TZ)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d" % (ms % 1000) + dt.strftime("%z")[:3] + ":" + dt.strftime("%z")[3:]


def fmt_utc(ms):
    dt = datetime.fromtimestamp(ms / 1000, timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d" % (ms % 1000) + "Z"


class Clock:
    def __init__(self, mode):
        self.mode = mode
        self.offset_ms = 0
        self.start_ms = int(time.time() * 1000)

    def now_ms(self):
        if self.mode == "frozen":
            return self.start_ms + self.offset_ms
        return int(time.time() * 1000) + (self.offset_ms if self.mode == "running" else 0)

    def hook_mode(self):
        return {"frozen": "virtual", "running": "offset", "real": "system"}[self.mode]


class State:
    def __init__(self, seed, breaks):
        self.seed = seed
        self.breaks = breaks
        self.lock = threading.RLock()
        fx = random.Random("fixtures:" + str(seed))

        def key():
            return "kco_test_inperson_" + "".join(fx.choice("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
                                                  for _ in range(32))

        def loc(name, city):
            return {"id": str(uuid.UUID(int=fx.getrandbits(128), version=4)).upper(), "name": name, "city": city}

        m1, m2 = "KM%07d" % fx.randrange(10**6, 10**7), "KM%07d" % fx.randrange(10**6, 10**7)
        # Merchant order and location order are our own; the location list is sorted by name (KLOC-04 divergence).
        self.merchants = [
            {"id": m1, "name": "Fjordljus Kaffebar AB", "api_key": key(),
             "username": m1 + "-" + "".join(fx.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8)),
             "locations": [loc("Södermalm Kiosk", "Stockholm"), loc("Haga Roastery", "Göteborg")]},
            {"id": m2, "name": "Nordvik Cykel & Sport", "api_key": key(),
             "username": m2 + "-" + "".join(fx.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8)),
             "locations": [loc("Bryggen Workshop", "Bergen")]},
        ]
        self.rng = random.Random(seed) if seed is not None else random.SystemRandom()
        self.reset()

    def reset(self):
        with self.lock:
            self.enrollments = {}        # id -> dict
            self.enrollment_order = []   # creation order
            self.codes = {}              # code -> enrollment id (codes are never reused)
            self.devices = {}
            self.device_order = []
            self.tokens = {}             # token -> device id

    # ---- helpers -------------------------------------------------------------------------------
    def merchant_by_key(self, key):
        for m in self.merchants:
            if m["api_key"] == key:
                return m
        return None

    def location(self, loc_id):
        for m in self.merchants:
            for loc in m["locations"]:
                if loc["id"].lower() == loc_id.lower():
                    return m, loc
        return None, None

    def new_id(self, now_ms):
        """UUIDv7 (time-ordered), lowercase."""
        r = self.rng.getrandbits(74)
        n = (now_ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (r >> 62) << 64 | 0b10 << 62 | (r & ((1 << 62) - 1))
        return str(uuid.UUID(int=n))

    def new_code(self, lifetime_ms):
        while True:
            if lifetime_ms > TWO_HOURS_MS:   # KEN-13: long-lived codes are UUID-shaped (as the plugin reports)
                code = str(uuid.UUID(int=self.rng.getrandbits(128), version=4)).upper()
            else:
                code = "".join(self.rng.choice(CODE_ALPHABET) for _ in range(9))
            if code not in self.codes:
                return code

    def status(self, e, now_ms):
        if e["status"] == "PENDING" and now_ms > e["expires_ms"]:   # inclusive boundary (KTIME-02 divergence)
            return "EXPIRED"
        return e["status"]


STATE = None
CLOCK = None
OPTS = None


def enrollment_view(e, now_ms):
    return {"enrollment_id": e["id"], "enrollment_code": e["code"], "status": STATE.status(e, now_ms),
            "expires_at": fmt_ts(e["expires_ms"]), "created_at": fmt_ts(e["created_ms"]),
            "metadata": dict(e["metadata"]), "location_id": e["location_id"], "merchant_id": e["merchant_id"]}


def device_view(d, with_credentials=False):
    v = {"id": d["id"], "device_id": d["id"], "hardware_id": d["hardware_id"], "merchant_id": d["merchant_id"],
         "location_id": d["location_id"], "name": d["name"], "platform": d["platform"],
         "metadata": dict(d["metadata"]), "created_at": fmt_ts(d["created_ms"]),
         "updated_at": fmt_ts(d["updated_ms"])}
    if d["open_cash_register_id"] is not None:       # KDEV-05: omitted rather than null
        v["open_cash_register_id"] = d["open_cash_register_id"]
    if with_credentials or "KAUTH-15" in STATE.breaks:
        creds = {"bearer_token": d["token"], "issuedAt": fmt_ts(d["created_ms"]),
                 "expires_at": fmt_ts(d["created_ms"] + TOKEN_LIFETIME_MS), "token_type": "Bearer"}
        if "KAUTH-14" in STATE.breaks:
            del creds["issuedAt"]
        v["credentials"] = creds
    return v


def page(items, query, max_size):
    pn, ps = 0, 20
    errs = {}
    if "page_number" in query:
        s = query["page_number"]
        if not re.fullmatch(r"[0-9]{1,4000}", s):
            errs["page_number"] = "must be a whole number of at least 0"
        else:
            pn = int(s)
    if "page_size" in query:
        s = query["page_size"]
        if not re.fullmatch(r"[0-9]{1,4000}", s) or int(s) < 1:
            errs["page_size"] = "must be a whole number of at least 1"
        else:
            ps = min(int(s), max_size)           # KCONV-15 divergence: too large is clamped, not refused
    if errs:
        raise bad_query(errs)
    total = len(items)
    pages = -(-total // ps)
    return {"content": items[pn * ps:(pn + 1) * ps], "total_elements": total, "total_pages": pages,
            "page_number": pn, "page_size": ps, "first": pn == 0, "last": pn + 1 >= pages}


def metadata_filters(multi):
    entries = multi.get("metadata", [])
    errs = []
    pairs = {}
    if len(entries) > 5:
        errs.append("at most 5 metadata filters")
    for ent in entries:
        k, sep, v = ent.partition(":")
        if not sep or not k:
            errs.append("each filter is key:value with a non-empty key")
        elif k in pairs:
            errs.append("a metadata key may be filtered only once")
        else:
            pairs[k] = v
    if errs:
        raise bad_query({"metadata": "; ".join(errs)})
    return pairs


def check_metadata(v, errs, name="metadata"):
    if v is None:
        return {}
    if not isinstance(v, dict):
        errs[name] = "must be an object of strings"
        return None
    if len(v) > 50:
        errs[name] = "at most 50 entries"
        return None
    for k, val in v.items():
        if not (1 <= len(k) <= 128) or not isinstance(val, str) or len(val) > 1024:
            errs[name] = "keys of 1-128 characters, string values up to 1024 characters"
            return None
    return dict(v)


def resolve_location(m, v, errs, name="location_id"):
    """Returns (ok, canonical id or None).  No defaulting: absent/null/empty -> None (KEN-10 divergence)."""
    if v is None or v == "":
        return True, None
    if not isinstance(v, str) or not UUID_RE.match(v.strip()):
        errs[name] = "must be a location id (UUID)"
        return False, None
    owner, loc = STATE.location(v.strip())
    if loc is None or owner is not m:
        errs[name] = "no such location for this merchant"
        return False, None
    return True, loc["id"]


# ---- request handling ----------------------------------------------------------------------------

class Req:
    def __init__(self, handler, method, path, query_pairs, body_bytes):
        self.h, self.method, self.path = handler, method, path
        self.multi = {}
        for k, v in query_pairs:
            self.multi.setdefault(k, []).append(v)
        self.query = {k: v[-1] for k, v in self.multi.items()}    # KCONV-15 divergence: last value wins
        self.raw = body_bytes
        self.merchant = None

    def header(self, name):
        return self.h.headers.get(name)

    def json_body(self):
        ctype = (self.header("Content-Type") or "").split(";")[0].strip().lower()
        if self.raw.strip() == b"":
            return {}
        if ctype and not (ctype == "application/json" or ctype.endswith("+json")):
            raise Problem(415, "unsupported-media-type", "Unsupported media type",
                          "Send the request body as application/json.")
        try:
            def no_const(c):
                raise ValueError(c)
            body = json.loads(self.raw.decode("utf-8"), parse_constant=no_const)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise Problem(400, "malformed-json", "Malformed request body", "The request body is not valid JSON.")
        if not isinstance(body, dict):
            raise Problem(400, "malformed-json", "Malformed request body", "The request body must be a JSON object.")
        return body


def unauthorized(scheme="Basic"):
    hdr = 'Basic realm="kustom-reference", charset="UTF-8"' if scheme == "Basic" else \
        'Bearer realm="kustom-reference", error="invalid_token"'
    return Problem(401, "unauthenticated", "Authentication required",
                   "The credentials are missing, unknown or do not belong together.",
                   headers={"WWW-Authenticate": hdr})


def authenticate_merchant(req):
    auth = req.header("Authorization")
    if "KCONV-05" in STATE.breaks and "Authorization" not in req.h.headers.keys():
        auth = None
    if not auth:
        raise unauthorized()
    scheme, _, cred = auth.strip().partition(" ")
    cred = cred.strip()
    if scheme.lower() != "basic" or not cred:
        raise unauthorized()
    m = STATE.merchant_by_key(cred)
    if m is None:
        # HTTP Basic: base64(username:key), username optional; standard or URL-safe alphabet, padding optional.
        try:
            padded = cred + "=" * (-len(cred) % 4)
            alt = padded.replace("-", "+").replace("_", "/")
            decoded = base64.b64decode(alt, validate=True).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            decoded = None
        if decoded is not None:
            if "KAUTH-02" in STATE.breaks:
                raise unauthorized()
            user, sep, key = decoded.partition(":")
            if not sep:
                user, key = "", decoded
            m = STATE.merchant_by_key(key)
            # KAUTH-02: a given username must be the key's; KAUTH-09 divergence: the bare MID is accepted too.
            if m is not None and user and user not in (m["username"], m["id"]):
                m = None
        if m is None and "KAUTH-10" in STATE.breaks:     # broken copy: any key (and any username) accepted
            m = STATE.merchant_by_key(key) if decoded is not None and STATE.merchant_by_key(key) else STATE.merchants[0]
    if m is None:
        raise unauthorized()
    req.merchant = m
    return m


def check_merchant_header(req):
    """KAUTH-08 divergence: x-merchant-id is optional everywhere; when given it must name the key's merchant
    (compared case-insensitively), else 401."""
    v = (req.header("x-merchant-id") or "").strip()
    if v and v.lower() != req.merchant["id"].lower():
        raise Problem(401, "merchant-mismatch", "Authentication required",
                      "The x-merchant-id header names a different merchant than the API key.",
                      headers={"WWW-Authenticate": 'Basic realm="kustom-reference", charset="UTF-8"'})


def path_uuid(raw, what):
    if not UUID_RE.match(raw):
        raise Problem(400, "malformed-id", "Malformed identifier", "The %s id in the path is not a UUID." % what)
    return raw.lower()


def not_found(what):
    return Problem(404, "not-found", "Resource not found", "No %s with that id exists." % what)


def forbidden(what):
    return Problem(403, "foreign-resource", "Access forbidden", "That %s belongs to another merchant." % what)


# ---- endpoint implementations --------------------------------------------------------------------

def create_enrollment(req):
    m = authenticate_merchant(req)
    check_merchant_header(req)
    body = req.json_body()
    errs = {}
    meta = check_metadata(body.get("metadata"), errs)
    lifetime = TWO_HOURS_MS if "KEN-03" not in STATE.breaks else 3_600_000
    ei, ttl = body.get("expires_in"), body.get("ttl")
    if ei is not None:   # expires_in wins over ttl when both are given (KEN-09 divergence)
        if isinstance(ei, bool) or not isinstance(ei, (int, float)) or not (MIN_LIFETIME_MS <= ei <= MAX_LIFETIME_MS) \
                or int(ei) != ei:
            errs["expires_in"] = "milliseconds, a whole number from %d to %d" % (MIN_LIFETIME_MS, MAX_LIFETIME_MS)
        else:
            lifetime = int(ei)
    elif ttl is not None:
        if not isinstance(ttl, str) or ttl.strip().upper() not in TTLS:
            errs["ttl"] = "one of " + ", ".join(TTLS)
        else:
            lifetime = TTLS[ttl.strip().upper()]
    ok, loc_id = resolve_location(m, body.get("location_id"), errs)
    if errs:
        raise invalid(errs)
    with STATE.lock:
        now = CLOCK.now_ms()
        e = {"id": STATE.new_id(now), "code": STATE.new_code(lifetime), "merchant_id": m["id"],
             "location_id": loc_id, "metadata": meta, "status": "PENDING", "created_ms": now,
             "expires_ms": now + lifetime, "device_id": None, "hidden": False}
        STATE.enrollments[e["id"]] = e
        STATE.enrollment_order.append(e["id"])
        STATE.codes[e["code"]] = e["id"]
        return 201, enrollment_view(e, now), {"Location": API + "/enrollments/" + e["id"]}


def list_enrollments(req):
    m = authenticate_merchant(req)
    filters = metadata_filters(req.multi)
    inc = req.query.get("include_consumed", "true").strip().lower()
    if inc not in ("true", "false", "1", "0", "yes", "no"):
        raise bad_query({"include_consumed": "true or false"})
    include_consumed = inc in ("true", "1", "yes")
    loc = req.query.get("location_id")
    check_merchant_header(req)     # after query validation (KERR-11 divergence)
    with STATE.lock:
        now = CLOCK.now_ms()
        out = []
        for eid in STATE.enrollment_order:   # oldest first (KEN-28 divergence)
            e = STATE.enrollments[eid]
            if e["hidden"] or (e["merchant_id"] != m["id"] and "KEN-21" not in STATE.breaks):
                continue
            st = STATE.status(e, now)
            if st in ("CANCELLED", "EXPIRED") and "KEN-22" not in STATE.breaks:
                continue
            if st == "CONSUMED" and not include_consumed:
                continue
            if loc is not None and (e["location_id"] is None or e["location_id"].lower() != loc.strip().lower()):
                continue
            if any(e["metadata"].get(k) != v for k, v in filters.items()):
                continue
            out.append(enrollment_view(e, now))
        return 200, page(out, req.query, 100), None


def find_enrollment(req, raw_id):
    m = authenticate_merchant(req)
    check_merchant_header(req)
    eid = path_uuid(raw_id, "enrollment")
    e = STATE.enrollments.get(eid)
    if e is None or e["hidden"]:
        raise not_found("enrollment")
    if e["merchant_id"] != m["id"]:
        raise forbidden("enrollment")
    return e


def get_enrollment(req, raw_id):
    with STATE.lock:
        e = find_enrollment(req, raw_id)
        return 200, enrollment_view(e, CLOCK.now_ms()), None


def cancel_enrollment(req, raw_id):
    with STATE.lock:
        e = find_enrollment(req, raw_id)
        now = CLOCK.now_ms()
        st = STATE.status(e, now)
        if st == "CONSUMED":
            raise Problem(409, "enrollment-consumed", "Enrollment not cancellable",
                          "This enrollment already paired a device.")
        if st == "EXPIRED":
            raise Problem(410, "enrollment-expired", "Enrollment not cancellable", "This enrollment has expired.")
        if st == "PENDING" and "KEN-35" not in STATE.breaks:
            e["status"] = "CANCELLED"
            e["cancelled_ms"] = now
        # KEN-37 divergence: 200 with the enrollment; cancelling a CANCELLED one again is idempotent.
        return 200, enrollment_view(e, now), None


def register_device(req):
    if "KREG-01" in STATE.breaks:
        authenticate_merchant(req)
    body = req.json_body()
    code = body.get("enrollment_code")
    if not isinstance(code, str) or not code.strip():
        raise invalid({"enrollment_code": "required, the pairing code"})
    with STATE.lock:            # one lock: a code registers at most one device, even concurrently (KREG-13)
        now = CLOCK.now_ms()
        eid = STATE.codes.get(code.strip())        # exact match, no case folding (KREG-07 divergence)
        e = STATE.enrollments.get(eid) if eid else None
        if e is None or e["hidden"]:
            raise Problem(422, "unknown-code", "Unknown pairing code", "No enrollment has this pairing code.")
        st = STATE.status(e, now)
        gone = {"EXPIRED": "KTIME-01", "CANCELLED": "KEN-42", "CONSUMED": "KREG-13"}
        if st in gone and gone[st] not in STATE.breaks:
            raise Problem(410, "code-unusable", "Pairing code no longer usable",
                          "This pairing code is %s and cannot pair a device." % st.lower())
        errs = {}
        hw, platform, name = body.get("hardware_id"), body.get("platform"), body.get("name")
        if not isinstance(hw, str) or not hw.strip() or len(hw) > 255:
            errs["hardware_id"] = "required, 1-255 characters"
        if not isinstance(platform, str) or platform.strip().upper() not in PLATFORMS:
            errs["platform"] = "one of IOS, ANDROID, TERMINAL"
        if name is not None and (not isinstance(name, str) or not name.strip() or len(name) > 200):
            errs["name"] = "1-200 characters"
        if errs:
            raise invalid(errs)
        m = next(x for x in STATE.merchants if x["id"] == e["merchant_id"])
        d = make_device(m, e, hw, platform.strip().upper(), name, now)
        return 200, device_view(d, with_credentials=True), None    # KREG-04 divergence: 200, not 201


def make_device(m, e, hw, platform, name, now):
    loc = e["location_id"]
    if "KREG-11" in STATE.breaks:
        loc = None if loc is not None else m["locations"][0]["id"]
    meta = {} if "KREG-10" in STATE.breaks else dict(e["metadata"])
    d = {"id": STATE.new_id(now), "hardware_id": hw, "merchant_id": m["id"], "location_id": loc,
         "name": name if name is not None else hw, "platform": platform, "metadata": meta,
         "created_ms": now, "updated_ms": now, "open_cash_register_id": None, "registered": True,
         "enrollment_id": e["id"],
         "token": "kdt_" + "".join(STATE.rng.choice(CODE_ALPHABET + "abcdefghijklmnopqrstuvwxyz") for _ in range(48))}
    STATE.devices[d["id"]] = d
    STATE.device_order.append(d["id"])
    STATE.tokens[d["token"]] = d["id"]
    if e["status"] == "PENDING":
        e["status"] = "CONSUMED"
    e["device_id"] = d["id"]
    return d


def simulated_device(req):
    m = authenticate_merchant(req)
    check_merchant_header(req)
    body = req.json_body()
    errs = {}
    name = body.get("name")
    if not isinstance(name, str) or not name or len(name) > 200:     # KREG-25: any non-empty string
        errs["name"] = "required, 1-200 characters"
    meta = check_metadata(body.get("metadata"), errs)
    ok, loc_id = resolve_location(m, body.get("location_id"), errs)
    if errs:
        raise invalid(errs)
    if "KREG-24" not in STATE.breaks:
        meta["simulated"] = "true"
    with STATE.lock:
        now = CLOCK.now_ms()
        # KREG-29 divergence: the generated enrollment is internal and never listed.
        e = {"id": STATE.new_id(now), "code": STATE.new_code(TWO_HOURS_MS), "merchant_id": m["id"],
             "location_id": loc_id, "metadata": meta, "status": "PENDING", "created_ms": now,
             "expires_ms": now + TWO_HOURS_MS, "device_id": None, "hidden": True}
        STATE.enrollments[e["id"]] = e
        STATE.enrollment_order.append(e["id"])
        STATE.codes[e["code"]] = e["id"]
        hw = "SIMDEV-" + "".join(STATE.rng.choice("0123456789abcdef") for _ in range(16))
        d = make_device(m, e, hw, "ANDROID", name, now)
        return 200, device_view(d, with_credentials=True), None


def list_devices(req):
    m = authenticate_merchant(req)
    filters = metadata_filters(req.multi)
    loc = req.query.get("location_id")
    check_merchant_header(req)
    if "KDEV-07" in STATE.breaks:
        filters = {}
    with STATE.lock:
        out = []
        for did in STATE.device_order:    # oldest first (KDEV-10 divergence)
            d = STATE.devices[did]
            if d["merchant_id"] != m["id"] or not d["registered"]:
                continue
            if loc is not None and (d["location_id"] is None or d["location_id"].lower() != loc.strip().lower()):
                continue
            if any(d["metadata"].get(k) != v for k, v in filters.items()):
                continue
            out.append(device_view(d))
        return 200, page(out, req.query, 100), None


def find_device(req, raw_id):
    m = authenticate_merchant(req)
    check_merchant_header(req)
    did = path_uuid(raw_id, "device")
    d = STATE.devices.get(did)
    if d is None:
        raise not_found("device")
    if d["merchant_id"] != m["id"]:
        raise forbidden("device")
    if not d["registered"]:
        raise Problem(410, "device-deregistered", "Device deregistered",
                      "This device was deregistered; enroll it again to use it.")
    return d


def get_device(req, raw_id):
    with STATE.lock:
        return 200, device_view(find_device(req, raw_id)), None


def update_device(req, raw_id):
    with STATE.lock:
        d = find_device(req, raw_id)        # lookup before body validation (KERR-12 divergence)
        m = req.merchant
        body = req.json_body()
        errs = {}
        changes = {}
        # KDEV-13 divergence: patch semantics.  Omitted members stay; explicit null location_id detaches.
        if "name" in body and body["name"] is not None:
            n = body["name"]
            if not isinstance(n, str) or not n.strip() or len(n) > 200:
                errs["name"] = "1-200 characters"
            else:
                changes["name"] = n
        if "metadata" in body and body["metadata"] is not None:
            meta = check_metadata(body["metadata"], errs)
            if meta is not None:
                changes["metadata"] = meta
        if "location_id" in body:
            if body["location_id"] is None:
                changes["location_id"] = None
            else:
                ok, loc_id = resolve_location(m, body["location_id"], errs)
                if ok:
                    changes["location_id"] = loc_id
        if errs:
            raise invalid(errs)
        if "KDEV-12" not in STATE.breaks:
            d.update(changes)
            d["updated_ms"] = CLOCK.now_ms()
        return 200, device_view(d), None


def deregister_device(req, raw_id):
    with STATE.lock:
        d = find_device(req, raw_id)
        d["registered"] = False
        if "KDEV-20" not in STATE.breaks:
            STATE.tokens.pop(d["token"], None)     # revoked at once
        d["updated_ms"] = CLOCK.now_ms()
        v = device_view(d)
        v["deregistered"] = True
        return 200, v, None                       # KDEV-24 divergence: 200 with the record


def device_me(req):
    auth = req.header("Authorization") or ""
    scheme, _, tok = auth.strip().partition(" ")
    with STATE.lock:
        if scheme.lower() != "bearer" or not tok.strip():
            raise unauthorized("Bearer")
        did = STATE.tokens.get(tok.strip())
        d = STATE.devices.get(did) if did else None
        if d is None or (not d["registered"] and "KDEV-20" not in STATE.breaks) \
                or CLOCK.now_ms() >= d["created_ms"] + TOKEN_LIFETIME_MS:
            raise unauthorized("Bearer")
        return 200, device_view(d), None


def list_locations(req):
    m = authenticate_merchant(req)
    check_merchant_header(req)
    items = sorted((dict(loc) for loc in m["locations"]), key=lambda l: l["name"])
    return 200, page(items, req.query, 1000), None


def get_location(req, raw_id):
    m = authenticate_merchant(req)
    check_merchant_header(req)
    lid = path_uuid(raw_id, "location")
    owner, loc = STATE.location(lid)
    if loc is None:
        raise not_found("location")
    if owner is not m:
        raise forbidden("location")
    return 200, dict(loc), None


# ---- test hooks ----------------------------------------------------------------------------------

def hook_clock(req):
    return 200, {"now": fmt_utc(CLOCK.now_ms()), "mode": CLOCK.hook_mode()}, None


def hook_advance(req):
    if CLOCK.mode == "real":
        raise Problem(409, "real-clock", "Clock not adjustable", "The server runs on the real clock.")
    body = req.json_body()
    s = body.get("seconds")
    if isinstance(s, bool) or not isinstance(s, (int, float)) or s != s or s < 0 or s > 10**10:
        raise invalid({"seconds": "a non-negative number"}, 400)
    with STATE.lock:
        CLOCK.offset_ms += int(round(s * 1000))
        return 200, {"now": fmt_utc(CLOCK.now_ms()), "mode": CLOCK.hook_mode()}, None


def hook_reset(req):
    STATE.reset()
    return 200, {"status": "reset"}, None


def hook_merchants(req):
    out = []
    for m in STATE.merchants:
        out.append({"id": m["id"], "name": m["name"], "api_key": m["api_key"], "username": m["username"],
                    "basic_credentials": m["username"] + ":" + m["api_key"],
                    "locations": [dict(l) for l in m["locations"]]})
    # The harness's contract for a resettable target names the POS app's registration too (KREG-04).
    return 200, {"merchants": out, "registration_path": REGISTRATION_PATH}, None


# ---- routing -------------------------------------------------------------------------------------

def routes():
    r = [
        ((API, "enrollments"), {"GET": list_enrollments, "POST": create_enrollment}),
        ((API, "enrollments", None), {"GET": get_enrollment, "DELETE": cancel_enrollment}),
        (tuple([API] + REGISTRATION_PATH[len(API) + 1:].split("/")), {"POST": register_device}),
        ((API, "devices"), {"GET": list_devices}),
        ((API, "devices", "me"), {"GET": device_me}),
        ((API, "devices", None), {"GET": get_device, "PUT": update_device, "PATCH": update_device,
                                  "DELETE": deregister_device}),
        ((API, "locations"), {"GET": list_locations}),
        ((API, "locations", None), {"GET": get_location}),
        ((API, "dev", "devices"), {"POST": simulated_device}),
    ]
    if OPTS.hooks in ("all", "clock"):
        r += [(("/_sim", "clock"), {"GET": hook_clock}), (("/_sim", "clock", "advance"), {"POST": hook_advance})]
    if OPTS.hooks == "all":
        r += [(("/_sim", "reset"), {"POST": hook_reset}), (("/_sim", "kustom", "merchants"), {"GET": hook_merchants})]
    return r


def match(path):
    """Returns (methods dict, path args) for the best route; literal segments beat {id}."""
    p = path.rstrip("/") or "/"
    for prefix in (API, "/_sim"):
        if p == prefix or p.startswith(prefix + "/"):
            segs = [prefix] + [unquote(s) for s in p[len(prefix) + 1:].split("/")] if p != prefix else [prefix]
            break
    else:
        return None, None
    best = None
    for pattern, methods in ROUTES:
        if len(pattern) != len(segs):
            continue
        args, score, ok = [], 0, True
        for want, got in zip(pattern, segs):
            if want is None:
                args.append(got)
            elif want == got:
                score += 1
            else:
                ok = False
                break
        if ok and (best is None or score > best[0]):
            best = (score, methods, args)
    return (best[1], best[2]) if best else (None, None)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "KustomReference/1.0"
    sys_version = ""

    def log_message(self, fmt, *args):
        if OPTS.verbose:
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self.dispatch
        raise AttributeError(name)

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data = self.rfile.read(size)
                self.rfile.readline(8)
                total += size
                if total <= HARD_READ_CAP:
                    chunks.append(data)
            return b"".join(chunks), total
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = 0
        if n > HARD_READ_CAP:
            self.close_connection = True
            return b"", n
        return (self.rfile.read(n) if n > 0 else b""), n

    def dispatch(self):
        method = self.command.upper()
        try:
            body, size = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            body, size = b"", 0
        if OPTS.latency:
            time.sleep(random.uniform(*OPTS.latency) / 1000.0)
        split = urlsplit(self.path)
        path = split.path
        extra = {}
        try:
            methods, args = match(path)
            if methods is None:
                raise Problem(404, "no-route", "Resource not found", "Nothing is served at %s." % path)
            if method == "HEAD" and "GET" in methods:
                method = "GET"
            if method not in methods:
                raise Problem(405, "method-not-allowed", "Method not allowed",
                              "%s is not available on this resource." % method,
                              headers={"Allow": ", ".join(sorted(methods))})
            req = Req(self, method, path, parse_qsl(split.query, keep_blank_values=True), body)
            handler = methods[method]
            if size > BODY_LIMIT:
                # KERR-12 divergence: authentication is checked before the size limit.
                if handler not in (register_device, device_me) and not path.startswith("/_sim"):
                    authenticate_merchant(req)
                raise Problem(413, "too-large", "Payload too large", "Request bodies are limited to 128 KiB.")
            status, payload, extra = handler(req, *args)
            extra = extra or {}
            self.respond(status, payload, "application/json", extra)
        except Problem as p:
            doc = {"type": PROBLEM_BASE + p.slug, "title": p.title, "status": p.status, "detail": p.detail,
                   "instance": path}
            if p.invalid:
                doc["invalid_params"] = p.invalid
            self.respond(p.status, doc, "application/problem+json", p.headers)
        except Exception as exc:  # never expected; kept visible
            sys.stderr.write("internal error: %r\n" % (exc,))
            doc = {"type": PROBLEM_BASE + "internal", "title": "Internal error", "status": 500,
                   "detail": "Unexpected server error.", "instance": path}
            self.respond(500, doc, "application/problem+json", {})

    def respond(self, status, payload, ctype, headers):
        data = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        if payload is not None:
            self.send_header("Content-Type", ctype + "; charset=utf-8" if ctype == "application/json" else ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in headers.items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command.upper() != "HEAD":
            self.wfile.write(data)


def write_profile(path, port):
    lines = ['api = "kustom"', 'base_url = "http://127.0.0.1:%d"' % port, "playground = true",
             'registration_path = "%s"' % REGISTRATION_PATH]
    for m in STATE.merchants:
        lines += ["", "[[merchants]]", 'id = "%s"' % m["id"], 'api_key = "%s"' % m["api_key"],
                  'username = "%s"' % m["username"],
                  "locations = [%s]" % ", ".join('"%s"' % l["id"] for l in m["locations"])]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def main(argv=None):
    global STATE, CLOCK, OPTS, ROUTES
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--clock", choices=("real", "running", "frozen"), default="running")
    ap.add_argument("--hooks", choices=("all", "clock", "none"), default="all")
    ap.add_argument("--profile-out")
    ap.add_argument("--latency")
    ap.add_argument("--break", dest="breaks", action="append", default=[])
    ap.add_argument("--seed")
    ap.add_argument("--verbose", action="store_true")
    OPTS = ap.parse_args(argv)
    if "list" in OPTS.breaks:
        for k, v in BREAKABLE.items():
            print("%-9s %s" % (k, v))
        return 0
    for b in OPTS.breaks:
        if b not in BREAKABLE:
            sys.stderr.write("unsupported --break %s (try --break list)\n" % b)
            return 2
    if OPTS.latency:
        lo, _, hi = OPTS.latency.partition("-")
        OPTS.latency = (float(lo), float(hi or lo))
    CLOCK = Clock(OPTS.clock)
    STATE = State(OPTS.seed if OPTS.seed is not None else "kustom-reference", set(OPTS.breaks))
    if OPTS.seed is None:
        STATE.rng = random.SystemRandom()
    ROUTES = routes()
    ThreadingHTTPServer.request_queue_size = 256
    server = ThreadingHTTPServer(("127.0.0.1", OPTS.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if OPTS.profile_out:
        write_profile(OPTS.profile_out, port)
    print("LISTENING http://127.0.0.1:%d" % port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


ROUTES = []
if __name__ == "__main__":
    sys.exit(main())
