"""An independent POS client for the VioPay activation API, written from the API reference alone:
Python's standard library for HTTP, HMAC-SHA256, Base64 and gzip, and `psec` for TR-31 and AES.
It walks steps 1-8 on a fresh device of a running simulator, tries the refusals of section 5, and
exits non-zero with the first check that failed.

Usage: walk.py BASE_URL DEVICE_ID CLIENT_ID CLIENT_SECRET
"""

import base64
import datetime
import gzip
import hashlib
import hmac
import json
import os
import sys
import urllib.error
import urllib.request

import psec.aes
import psec.tr31

BASE, DEVICE, CLIENT_ID, CLIENT_SECRET = sys.argv[1:5]
POS = {"X-Device-Id": DEVICE, "User-Agent": "Viopay-POS/1.4.2 (Android 12; PAX-A920)", "X-Client-Type": "pos"}


def call(method, path, headers=None, body=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def expect(cond, what, got=None):
    if not cond:
        sys.exit(f"FAILED: {what}; got {got}")


def expect_error(result, status, code, message, what):
    s, body = result
    err = (body or {}).get("error", {})
    expect((s, err.get("code"), err.get("message")) == (status, code, message), what, (s, body))


def server_now():
    return datetime.datetime.fromisoformat(call("GET", "/_sim/clock")[1]["now"].replace("Z", "+00:00"))


def rfc3339(t):
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def attest_headers(key_id, secret, timestamp, nonce):
    string = "\n".join([DEVICE, key_id, timestamp, nonce]).encode()
    mac = hmac.new(secret, string, hashlib.sha256).digest()
    return dict(POS, **{"X-Key-Id": key_id, "X-Timestamp": timestamp, "X-Nonce": nonce,
                        "X-Signature": "v1=" + base64.b64encode(mac).decode()})


def nonce():
    return os.urandom(9).hex()


def unpad(data):
    n = data[-1]
    expect(1 <= n <= 16 and data[-n:] == bytes([n]) * n, "PKCS7 padding")
    return data[:-n]


def open_envelope(msk, e):
    iv = bytes.fromhex(e["initialization_vector"])
    return unpad(psec.aes.decrypt_aes_cbc(msk, iv, bytes.fromhex(e["ciphertext"])))


def seal(msk, plaintext):
    iv = os.urandom(16)
    n = 16 - len(plaintext) % 16
    ct = psec.aes.encrypt_aes_cbc(msk, iv, plaintext + bytes([n]) * n)
    return {"format": "TR31-DATA", "ciphertext": ct.hex().upper(), "initialization_vector": iv.hex().upper(), "mode": "CBC"}


def kcv(key):
    return psec.aes.encrypt_aes_ecb(key, bytes(16))[:3].hex().upper()


# Steps 1-4 -------------------------------------------------------------------------------
s, boot = call("POST", "/pos/bootstrap", POS)
expect(s == 200 and boot["status"] == "ok", "bootstrap", boot)
s, code = call("POST", "/pos/pairing-code", POS)
expect(s == 200 and code["expires_in_sec"] == 300, "pairing code", code)
expect(call("GET", "/pos/status", POS)[1]["pairing_code_status"] == "pending", "status pending")
s, session = call("POST", "/client/session", {"Content-Type": "application/json"},
                  {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
expect(s == 200, "client session", session)
bearer = {"Authorization": "Bearer " + session["access_token"], "Content-Type": "application/json"}
expect(call("POST", "/session/initiate", bearer, {"host": "merchant.viopay.io"})[0] == 200, "session initiate")
s, claimed = call("POST", "/pos/claim", bearer, {"pairing_code": code["pairing_code"]})
expect(s == 200 and claimed == {"status": "claimed", "device_id": DEVICE}, "claim", claimed)
expect(call("GET", "/pos/status", POS)[1]["is_claimed"] is True, "status claimed")

# The device's secrets, as a firmware test gets them from the simulator.
state = call("GET", "/_sim/devices/" + DEVICE)[1]
key_id = state["identity_keys"][0]["key_id"]
secret = base64.b64decode(state["identity_keys"][0]["secret"])
zmk = base64.b64decode(state["zmk"])

# Step 5: refusals first, then a good attest --------------------------------------------------
now = server_now()
ts = rfc3339(now)
bad = attest_headers(key_id, secret, ts, nonce())
bad["X-Signature"] = "v1=" + base64.b64encode(hmac.new(secret, b"wrong", hashlib.sha256).digest()).decode()
expect_error(call("POST", "/pos/attest", bad), 401, "4010", "Invalid signature", "a wrong signature")
stale = rfc3339(now - datetime.timedelta(seconds=301))
expect_error(call("POST", "/pos/attest", attest_headers(key_id, secret, stale, nonce())), 401, "4010",
             "Timestamp outside the accepted window", "a stale timestamp")
future = rfc3339(now + datetime.timedelta(seconds=61))
expect_error(call("POST", "/pos/attest", attest_headers(key_id, secret, future, nonce())), 401, "4010",
             "Timestamp outside the accepted window", "a future timestamp")
expect_error(call("POST", "/pos/attest", attest_headers("no-such-key", secret, ts, nonce())), 401, "4010",
             "Invalid device key", "an unknown key")
good = attest_headers(key_id, secret, ts, nonce())
s, attested = call("POST", "/pos/attest", good)
expect(s == 200 and attested["status"] == "attested" and attested["expires_in_sec"] == 300
       and attested["attestation_token"].startswith("att_"), "attest", attested)
expect_error(call("POST", "/pos/attest", good), 401, "4010", "Nonce already used", "a reused nonce")
token = attested["attestation_token"]
auth = {"Authorization": "Attestation " + token, "X-Device-Id": DEVICE}

# Step 6: keys, unwrapped from the ZMK down ---------------------------------------------------
expect_error(call("POST", "/pos/config", auth), 400, "4220", "Keys have not been issued", "config before keys")
expect_error(call("POST", "/pos/keys", {"Authorization": "Bearer " + token, "X-Device-Id": DEVICE}), 401, "4010",
             "Unauthorized", "Bearer instead of Attestation")
s, keys = call("POST", "/pos/keys", auth)
expect(s == 200 and keys["transport"]["format"] == "TR31", "keys", keys)
clear = {}
parents = {"tmk": "zmk", "kek": "tmk", "msk": "kek", "tpk": "kek", "tdk": "kek", "mac": "kek"}
clear["zmk"] = zmk
for name in ["tmk", "kek", "msk", "tpk", "tdk", "mac"]:
    block = base64.b64decode(keys["keys"][name]["key_block"]).decode("ascii")
    header, key = psec.tr31.unwrap(clear[parents[name]], block)
    expect(header.version_id == "D" and header.algorithm == "A" and len(key) == 32, "TR-31 header of " + name, str(header))
    expect(kcv(key) == keys["keys"][name]["kcv"], "KCV of " + name, keys["keys"][name])
    clear[name] = key
msk = clear["msk"]

# Step 7: config and terminal parameters ------------------------------------------------------
s, config = call("POST", "/pos/config", auth)
expect(s == 200 and config["format"] == "TR31-DATA" and config["key_kcv"] == kcv(msk), "config envelope", config)
doc = json.loads(open_envelope(msk, config))
expect(doc["device_id"] == DEVICE and doc["terminal_id"].startswith("TERM-") and "terminal_parameters" not in doc, "config", doc)
s, params = call("POST", "/pos/terminal-parameters", auth)
expect(s == 200 and params["content_encoding"] == "gzip", "terminal-parameters envelope", params)
chunks = params["chunks"] if params["format"] == "TR31-DATA-CHUNKED" else [params]
parameters = json.loads(gzip.decompress(b"".join(open_envelope(msk, c) for c in chunks)))
expect(set(parameters) >= {"emv_kernel", "acquirers", "ca_public_keys", "contact", "contactless"}, "parameters", list(parameters))

# Step 8: refusals, then activate -------------------------------------------------------------
flags = json.dumps({"emv_ready": True, "keys_installed": True, "network_ok": True}).encode()
json_auth = dict(auth, **{"Content-Type": "application/json"})
expect_error(call("POST", "/pos/activate", json_auth, b"garbage"), 400, "4000", "Invalid envelope", "a garbage body")
expect_error(call("POST", "/pos/activate", json_auth, seal(os.urandom(32), flags)), 400, "4000", "Invalid envelope",
             "an envelope under another key")
s, not_ready = call("POST", "/pos/activate", json_auth,
                    seal(msk, json.dumps({"emv_ready": True, "keys_installed": False, "network_ok": True}).encode()))
expect(s == 400 and not_ready["error"]["details"] == {"not_ready": ["keys_installed"]}, "a false flag", not_ready)
expect(call("GET", "/pos/status", POS)[1]["device_status"] == "claimed", "nothing changed")
s, activated = call("POST", "/pos/activate", json_auth, seal(msk, flags))
expect(s == 200, "activate", activated)
result = json.loads(open_envelope(msk, activated))
expect(result["status"] == "activated" and result["activated_at"].endswith("Z"), "activation", result)
final = call("GET", "/pos/status", POS)[1]
expect(final == {"device_status": "activated", "is_claimed": True, "pairing_code_status": "used"}, "status activated", final)
print("OK: steps 1-8 walked, activated at " + result["activated_at"])
