"""An independent Kustom client: Python's standard library only, written from the seed page
("Enroll a Device") and the docs' REQUIRED rules, nothing of the simulator's code.

It walks enroll -> register -> list by metadata -> deregister (the token is refused at once) ->
cancel and expiry (both gone from the list). It asserts only what the documentation says: success
and failure by status class, the members the docs name, and the seed's list rule. Two things the
documentation leaves open come from the target: how the POS app registers (KREG-04: the
simulator's `POST /ipp/v1/devices/register`) and which device request shows a revoked token (the
simulator's `GET /ipp/v1/devices/me`); and the clock, which a test target lets us move.

Usage: kustom_walk.py BASE_URL API_KEY MERCHANT_ID
"""
import base64
import json
import sys
import urllib.error
import urllib.request

BASE, KEY, MID = sys.argv[1], sys.argv[2], sys.argv[3]


def call(method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            raw = res.read()
            return res.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw) if raw else None
        except ValueError:
            return e.code, None


def merchant(method, path, body=None, listing=False):
    # "the same API-key authentication as the rest of Kustom's API": Basic with the key.
    headers = {"Authorization": "Basic " + KEY}
    if listing:
        headers["x-merchant-id"] = MID
    return call(method, path, body, headers)


def check(cond, what):
    if not cond:
        print("FAIL: " + what)
        sys.exit(1)
    print("ok   " + what)


def listed_enrollments():
    status, page = merchant("GET", "/ipp/v1/enrollments", listing=True)
    check(status == 200 and isinstance(page.get("content"), list), "list enrollments answers a page")
    return {e["enrollment_id"]: e for e in page["content"]}


# 1. The merchant creates an enrollment with metadata (the seed's one step the backend implements).
status, e = merchant("POST", "/ipp/v1/enrollments", {"metadata": {"store_id": "123", "terminal_type": "checkout"}})
check(status == 201, "create enrollment: 201")
for member in ("enrollment_id", "enrollment_code", "expires_at", "status", "metadata"):
    check(member in e, "the enrollment has " + member)
check(e["status"] == "PENDING", "a new enrollment is PENDING")
code = e["enrollment_code"]

# 2. The clerk types the code; the app registers without authentication and gets credentials.
status, device = call("POST", "/ipp/v1/devices/register",
                      {"enrollment_code": code, "hardware_id": "PY-WALK-0001", "platform": "ANDROID"})
check(status // 100 == 2, "registration without authentication succeeds")
token = device["credentials"]["bearer_token"]
check(bool(token) and "issuedAt" in device["credentials"], "registration returns a bearer token and issuedAt")
for member in ("id", "hardware_id", "merchant_id", "location_id", "name", "platform", "metadata", "created_at"):
    check(member in device, "the device record has " + member)
check(device["metadata"] == {"store_id": "123", "terminal_type": "checkout"}, "the enrollment's metadata is carried to the device")
check(device["location_id"] == e.get("location_id", device["location_id"]), "the device gets the enrollment's location")

# The code is one-time.
status, _ = call("POST", "/ipp/v1/devices/register", {"enrollment_code": code, "hardware_id": "PY-WALK-0002", "platform": "IOS"})
check(status // 100 == 4, "a used code registers no second device")
check(listed_enrollments()[e["enrollment_id"]]["status"] == "CONSUMED", "the enrollment is CONSUMED")

# 3. The merchant finds the device by the metadata it carried over.
status, page = merchant("GET", "/ipp/v1/devices?metadata=store_id:123", listing=True)
check(status == 200 and [d["id"] for d in page["content"]] == [device["id"]], "list devices filtered by metadata finds it")
status, page = merchant("GET", "/ipp/v1/devices?metadata=store_id:999", listing=True)
check(status == 200 and page["content"] == [], "another metadata value finds nothing")

# 4. The app uses its token; the merchant deregisters the device; the token is refused at once.
status, me = call("GET", "/ipp/v1/devices/me", headers={"Authorization": "Bearer " + token})
check(status == 200 and me["id"] == device["id"], "the token works before deregistration")
status, _ = merchant("DELETE", "/ipp/v1/devices/" + device["id"])
check(status // 100 == 2, "deregister the device")
status, _ = call("GET", "/ipp/v1/devices/me", headers={"Authorization": "Bearer " + token})
check(status == 401, "the token is refused immediately after deregistration")
status, page = merchant("GET", "/ipp/v1/devices", listing=True)
check(all(d["id"] != device["id"] for d in page["content"]), "the deregistered device is not listed")

# 5. Cancel: a CANCELLED enrollment leaves the list and its code no longer registers.
status, c = merchant("POST", "/ipp/v1/enrollments", {"metadata": {"store_id": "123"}})
check(status == 201 and c["enrollment_id"] in listed_enrollments(), "a second enrollment is listed")
status, _ = merchant("DELETE", "/ipp/v1/enrollments/" + c["enrollment_id"])
check(status // 100 == 2, "cancel the enrollment")
check(c["enrollment_id"] not in listed_enrollments(), "a CANCELLED enrollment is not listed")
status, _ = call("POST", "/ipp/v1/devices/register", {"enrollment_code": c["enrollment_code"], "hardware_id": "PY-WALK-0003", "platform": "IOS"})
check(status // 100 == 4, "a cancelled code registers nothing")

# 6. Expiry: a code not used before expires_at leaves the list and registers nothing.
status, x = merchant("POST", "/ipp/v1/enrollments", {"expires_in": 36000})
check(status == 201 and x["enrollment_id"] in listed_enrollments(), "a short-lived enrollment is listed")
status, _ = call("POST", "/_sim/clock/advance", {"seconds": 37})
check(status == 200, "(test target) the clock moves past expires_at")
check(x["enrollment_id"] not in listed_enrollments(), "an EXPIRED enrollment is not listed")
status, _ = call("POST", "/ipp/v1/devices/register", {"enrollment_code": x["enrollment_code"], "hardware_id": "PY-WALK-0004", "platform": "IOS"})
check(status // 100 == 4, "an expired code registers nothing")

# Unauthenticated merchant calls are refused (the docs' 401).
status, _ = call("POST", "/ipp/v1/enrollments", {})
check(status == 401, "create enrollment without the key: 401")
status, _ = call("GET", "/ipp/v1/enrollments", headers={"Authorization": "Basic " + base64.b64encode(b"nobody:kco_test_x").decode(), "x-merchant-id": MID})
check(status == 401, "a wrong key: 401")
print("OK: the Kustom flow walked")
