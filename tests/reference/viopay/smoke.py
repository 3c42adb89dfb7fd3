#!/usr/bin/env python3
"""Smoke test for the other-vendor reference backend.

    python smoke.py [server args...]            # e.g. --clock frozen --hooks all
    python smoke.py --expect-break RULE-ID      # starts server with --break RULE-ID; exits 0 iff a check fails
    python smoke.py --all-breaks                # runs the above for every ID of --break list

Starts server.py, walks steps 1-8 for devices created through the hooks, checks the spec's worked examples
and a set of REQUIRED rules. Exit 0 on success.
"""
import base64
import concurrent.futures as cf
import datetime as dt
import gzip
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time

import psec
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

HERE = os.path.dirname(os.path.abspath(__file__))
UA = "Viopay-POS/1.4.2 (Android 12; PAX-A920)"
PORT = None


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def req(method, path, headers=None, body=None):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    h = dict(headers or {})
    if data is not None and "Content-Type" not in h:
        h["Content-Type"] = "application/json"
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    raw = r.read()
    c.close()
    try:
        obj = json.loads(raw) if raw else None
    except ValueError:
        obj = None
    if r.status >= 400:
        e = (obj or {}).get("error") if isinstance(obj, dict) else None
        check(isinstance(e, dict), "ERR-01: error body %r" % raw[:200])
        check(isinstance(e.get("code"), str) and re.fullmatch(r"\d{4}", e["code"]), "ERR-02: code %r" % e.get("code"))
        check(isinstance(e.get("message"), str), "ERR-03")
        check(isinstance(e.get("trace_id"), str), "ERR-04: trace_id missing")
        check("details" not in e or isinstance(e["details"], dict), "ERR-05")
    return r.status, obj, r


def err(obj):
    return obj["error"]["code"], obj["error"]["message"]


def pos_h(did, **extra):
    h = {"X-Device-Id": did, "User-Agent": UA, "X-Client-Type": "pos"}
    h.update(extra)
    return h


# ---- crypto helpers (independent of server.py) ----
def kcv(key):
    e = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return (e.update(bytes(16)) + e.finalize())[:3].hex().upper()


def enc(key, iv, pt):
    p = padding.PKCS7(128).padder()
    e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return e.update(p.update(pt) + p.finalize()) + e.finalize()


def dec(key, iv, ct):
    d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    u = padding.PKCS7(128).unpadder()
    return u.update(d.update(ct) + d.finalize()) + u.finalize()


def sign(secret, did, kid, ts, nonce):
    m = "\n".join([did, kid, ts, nonce]).encode()
    return "v1=" + base64.b64encode(hmac.new(secret, m, hashlib.sha256).digest()).decode()


def worked_examples():
    sec = base64.b64decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
    check(sign(sec, "POS-8F3A2C91", "idk-8f3a2c91", "2025-12-13T14:25:30Z", "a1b2c3d4e5f6")
          == "v1=NWmjGwkd1ev94Yqt0iG6UFJzLFs90wkqiyxFiSIqQlI=", "worked example: signature")
    m = "POS-8F3A2C91\nidk-8f3a2c91\n2025-12-13T14:25:30Z\na1b2c3d4e5f6\n".encode()
    check("v1=" + base64.b64encode(hmac.new(sec, m, hashlib.sha256).digest()).decode()
          == "v1=Npm+5x1wqRg7ues7aY2sdtHZNIxkT8W+u7lmQQa4Wv0=", "worked example: trailing newline variant")
    key = bytes(range(32))
    check(kcv(key) == "F29000", "worked example: KCV")
    ct = enc(key, bytes(range(16)), b'{"emv_ready":true,"keys_installed":true,"network_ok":true}').hex().upper()
    check(ct == "C8FBF8568F20B47BA27456FB44249BFF57D3906F1DF23C5838757D8EA8EE3DAC49489D4634BE46AEB78E63"
               "B039AEC2BECACBF5FE1D2E3880A815DA8C500D45B8", "worked example: envelope")
    # the server's own helpers agree
    sys.path.insert(0, HERE)
    import server as S
    check(S.attest_signature(sec, "POS-8F3A2C91", "idk-8f3a2c91", "2025-12-13T14:25:30Z", "a1b2c3d4e5f6")
          == "v1=NWmjGwkd1ev94Yqt0iG6UFJzLFs90wkqiyxFiSIqQlI=", "server signature helper")
    check(S.aes_cbc_encrypt(key, bytes(range(16)), b'{"emv_ready":true,"keys_installed":true,"network_ok":true}')
          .hex().upper() == ct, "server envelope helper")
    check(S.kcv_legacy(key) == "F29000", "server legacy KCV helper")


# ---- flows ----
def sim_now():
    s, o, _ = req("GET", "/_sim/clock")
    check(s == 200 and o["now"].endswith("Z"), "clock hook")
    return dt.datetime.fromisoformat(o["now"].replace("Z", "+00:00")).timestamp()


def advance(sec):
    s, o, _ = req("POST", "/_sim/clock/advance", body={"seconds": sec})
    check(s == 200, "advance %r" % (o,))


def ts_of(t):
    return dt.datetime.fromtimestamp(int(t), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def merchant(name):
    s, m, _ = req("POST", "/_sim/merchants", body={"name": name})
    check(s == 201, "merchant hook")
    s, tok, _ = req("POST", "/client/session", body={"client_id": m["client_id"], "client_secret": m["client_secret"]})
    check(s == 200 and isinstance(tok.get("access_token"), str), "AUTH-04 client session")
    m["auth"] = {"Authorization": "Bearer " + tok["access_token"]}
    s, _, _ = req("POST", "/session/initiate", m["auth"], {"host": "merchant.viopay.io"})
    check(s == 200, "AUTH-08 session initiate")
    return m


def device(m):
    s, o, _ = req("POST", "/_sim/devices", body={"merchant_id": m["id"]})
    check(s == 201 and len(o["device_ids"]) == 1, "device hook")
    did = o["device_ids"][0]
    s, d, _ = req("GET", "/_sim/devices/" + did)
    check(s == 200 and d["identity_keys"] and d["zmk"], "device get hook")
    return {"id": did, "kid": d["identity_keys"][0]["key_id"],
            "secret": base64.b64decode(d["identity_keys"][0]["secret"]), "zmk": base64.b64decode(d["zmk"])}


def status(did):
    s, o, _ = req("GET", "/pos/status", {"X-Device-Id": did, "User-Agent": UA, "X-Client-Type": "pos"})
    check(s == 200, "status %s %r" % (s, o))
    check(o["is_claimed"] == (o["device_status"] in ("claimed", "activated")), "STAT-04 %r" % o)
    return o


def new_code(did):
    s, o, _ = req("POST", "/pos/pairing-code", pos_h(did))
    check(s == 200, "pairing-code %s %r" % (s, o))
    check(type(o["expires_in_sec"]) is int and o["expires_in_sec"] == 300, "PAIR-02")
    check(re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", o["pairing_code"]), "PAIR-03 %r" % o["pairing_code"])
    return o["pairing_code"]


def claim(m, code, **kw):
    return req("POST", "/pos/claim", m["auth"], dict(pairing_code=code, **kw))


def attest(d, nonce=None, ts=None, kid=None, secret=None):
    ts = ts or ts_of(sim_now())
    nonce = nonce or secrets.token_hex(8)
    kid = kid or d["kid"]
    h = pos_h(d["id"], **{"X-Key-Id": kid, "X-Timestamp": ts, "X-Nonce": nonce,
                         "X-Signature": sign(secret or d["secret"], d["id"], kid, ts, nonce)})
    return req("POST", "/pos/attest", h)


def att_h(d, tok):
    return {"Authorization": "Attestation " + tok, "X-Device-Id": d["id"]}


def run_checks(log):
    worked_examples()
    s, o, _ = req("GET", "/health/live")
    check(s == 200, "LIVE-01")
    A, B = merchant("Smoke A"), merchant("Smoke B")
    s, _, _ = req("POST", "/auth/token", body={"client_id": A["client_id"], "client_secret": A["client_secret"]})
    check(s == 200, "AUTH-05")
    d = device(A)
    did = d["id"]
    # step 1
    s, o, r = req("POST", "/pos/bootstrap", pos_h(did))
    check(s == 200 and o["status"] == "ok" and isinstance(o["min_supported_version"], str), "BOOT-02 %r" % o)
    check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", o["server_time"]), "BOOT-03 %r" % o["server_time"])
    check(r.getheader("Connection") == "close", "Connection: close")
    unknown = "POS-00000000"
    s, o, _ = req("POST", "/pos/bootstrap", pos_h(unknown))
    check(s == 404 and err(o) == ("4004", "Device not found") and o["error"]["details"] == {"device_id": unknown},
          "BOOT-07 %r" % o)
    s, o, _ = req("GET", "/pos/status", pos_h(unknown))
    check(s == 404 and err(o) == ("4004", "Device not found"), "STAT-12")
    s, o, _ = req("POST", "/pos/pairing-code", pos_h(unknown))
    check(s != 200, "PAIR-09")
    s, o, _ = req("POST", "/pos/bootstrap", {"User-Agent": UA, "X-Client-Type": "pos"})
    check(s == 400 and err(o) == ("4000", "X-Device-Id header is required"), "HDR-02 %r" % o)
    for bad in ({"X-Device-Id": "POS-XYZ"}, {"User-Agent": "curl/8"}, {"X-Client-Type": "POS"}):
        h = pos_h(did)
        h.update(bad)
        s, o, _ = req("POST", "/pos/bootstrap", h)
        check(s == 400 and o["error"]["code"] == "4000", "HDR-03/06/09 %r" % bad)
    s, o, _ = req("GET", "/pos/status", {"x-device-id": did, "user-agent": UA, "x-client-type": "pos"})
    check(s == 200, "HDR-12")
    check(status(did) == {"device_status": "inactive", "is_claimed": False, "pairing_code_status": "none"}, "STAT none")
    # step 2/3 + expiry
    c1 = new_code(did)
    advance(299)
    check(status(did)["pairing_code_status"] == "pending", "STAT-06 299")
    advance(2)
    check(status(did)["pairing_code_status"] == "expired", "STAT-06 301")
    s, o, _ = claim(A, c1)
    check(s == 400 and err(o) == ("4220", "Pairing code has expired"), "CLAIM-19 %r" % (o,))
    # supersede
    c2 = new_code(did)
    c3 = new_code(did)
    check(status(did)["pairing_code_status"] == "pending", "STAT-10")
    s, o, _ = claim(A, c2)
    check(s == 400 and o["error"]["code"] in ("4004", "4220"), "CODE-04 %s %r" % (s, o))
    # claim errors
    s, o, _ = req("POST", "/pos/claim", {}, {"pairing_code": c3})
    check(s in (401, 403), "CLAIM-03 %s" % s)
    s, o, _ = req("POST", "/pos/claim", A["auth"], {"x": 1})
    check(s == 400 and err(o) == ("4000", "Invalid request body") and o["error"]["details"]["message"] ==
          "Key: 'ClaimDeviceRequest.PairingCode' Error:Field validation for 'PairingCode' failed on the 'required' tag",
          "CLAIM-06")
    s, o, _ = req("POST", "/pos/claim", A["auth"], b"{not json")
    check(s == 400 and err(o) == ("4000", "Invalid request body"), "CLAIM-05")
    s, o, _ = claim(A, "XXXXXX" if c3 != "XXXXXX" else "YYYYYY")
    check(s == 400 and err(o) == ("4004", "Pairing code not found"), "CLAIM-12 %s %r" % (s, o))
    s, o, _ = claim(B, c3)
    check(s == 403 and err(o) == ("4003", "Device does not belong to your merchant account")
          and o["error"]["details"]["device_id"] == did, "CLAIM-16 %s %r" % (s, o))
    check(status(did)["pairing_code_status"] == "pending", "CLAIM-17 status")
    s, o, _ = claim(A, c3)
    check(s == 200 and o == {"status": "claimed", "device_id": did}, "CLAIM-20 %r" % o)
    check(status(did) == {"device_status": "claimed", "is_claimed": True, "pairing_code_status": "used"}, "STAT-08")
    s, o, _ = claim(A, c3)
    check(s == 400 and err(o) == ("4220", "Pairing code has already been used"), "CLAIM-18 %r" % (o,))
    # race
    d2 = device(A)
    c = new_code(d2["id"])
    with cf.ThreadPoolExecutor(8) as ex:
        res = list(ex.map(lambda _: claim(A, c), range(8)))
    wins = [r for r in res if r[0] == 200]
    check(len(wins) == 1, "CLAIM-21: %d winners" % len(wins))
    check(all(err(r[1]) == ("4220", "Pairing code has already been used") for r in res if r[0] != 200), "CLAIM-21 losers")
    # step 5
    s, o, _ = attest(d, ts=ts_of(sim_now() - 301))
    check(s != 200, "ATT-04 old timestamp accepted")
    s, o, _ = attest(d, ts=ts_of(sim_now() + 70))
    check(s != 200, "ATT-04 future timestamp accepted")
    s, o, _ = attest(d, secret=os.urandom(32))
    check(s != 200, "ATT-06 bad signature accepted")
    nonce = secrets.token_hex(8)
    s, o, _ = attest(d, nonce=nonce, ts=ts_of(sim_now() - 290))
    check(s == 200 and o["status"] == "attested" and o["attestation_token"].startswith("att_")
          and o["expires_in_sec"] == 300, "ATT-07 %r" % o)
    s, _, _ = attest(d, nonce=nonce)
    check(s != 200, "ATT-05 nonce reuse accepted")
    s, k2, _ = req("POST", "/_sim/devices/%s/identity-keys" % did, body={})
    check(s == 201, "idk add")
    s, _, _ = attest(d, kid=k2["key_id"], secret=base64.b64decode(k2["secret"]))
    check(s == 200, "ATT-03 second key")
    s, _, _ = req("DELETE", "/_sim/devices/%s/identity-keys/%s" % (did, k2["key_id"]))
    check(s == 200, "idk revoke")
    s, _, _ = attest(d, kid=k2["key_id"], secret=base64.b64decode(k2["secret"]))
    check(s != 200, "ATT-03 revoked key accepted")
    s, o, _ = attest(d)
    tok = o["attestation_token"]
    # token lifetime
    s, _, _ = req("POST", "/pos/keys", att_h(d, tok))
    check(s == 200, "keys")
    s, _, _ = req("POST", "/pos/keys", att_h(d2, tok))
    check(s in (401, 403), "KEYS-01 token of another device accepted (%s)" % s)
    advance(301)
    s, _, _ = req("POST", "/pos/keys", att_h(d, tok))
    check(s == 401, "TIME-05 expired token accepted (%s)" % s)
    s, o, _ = attest(d)
    tok = o["attestation_token"]
    # step 6
    s, ks, _ = req("POST", "/pos/keys", att_h(d, tok))
    check(s == 200 and ks["transport"] == {"format": "TR31", "encryption": "AES-256", "wrapped_under": "kek"}, "KEYS-02")
    check(set(ks["key_set"]) >= {"key_set_id", "issued_at", "expires_at"}, "KEYS-02 key_set")
    clear = {}
    parents = {"tmk": "zmk", "kek": "tmk", "msk": "kek", "tpk": "kek", "tdk": "kek", "mac": "kek"}
    clear["zmk"] = d["zmk"]
    for name in ("tmk", "kek", "msk", "tpk", "tdk", "mac"):
        e = ks["keys"][name]
        check(set(e) >= {"key_id", "key_block", "usage"}, "KEYS-02 entry")
        try:
            hdr, key = psec.tr31.unwrap(clear[parents[name]], base64.b64decode(e["key_block"]).decode())
        except Exception as ex:
            raise Fail("KEYS-03 %s does not unwrap under its parent: %s" % (name, ex))
        check(len(key) == 32 and hdr.version_id == "D" and hdr.algorithm == "A", "KEYS-03 %s" % name)
        check(dict(hdr.blocks).get("KP", "")[2:] == e["check_value"].upper(), "KP block")
        clear[name] = key
    check(ks["keys"]["tmk"]["usage"] == ks["keys"]["kek"]["usage"] == "key-encryption", "KEYS-02 usage")
    msk = clear["msk"]
    # step 7
    s, env, _ = req("POST", "/pos/config", att_h(d, tok))
    check(s == 200 and env["format"] == "TR31-DATA" and env["mode"] == "CBC"
          and re.fullmatch(r"[0-9A-Fa-f]{32}", env["initialization_vector"]), "CFG-01 / MSK-01")
    try:
        cfg = json.loads(dec(msk, bytes.fromhex(env["initialization_vector"]), bytes.fromhex(env["ciphertext"])))
    except Exception as ex:
        raise Fail("MSK-02 config does not decrypt under the MSK: %s" % ex)
    check(cfg["device_id"] == did and "terminal_parameters" not in cfg and cfg["terminal_id"], "CFG-02")
    # step 7b
    s, env, _ = req("POST", "/pos/terminal-parameters", att_h(d, tok))
    check(s == 200 and env["content_encoding"] == "gzip", "TPAR-02")
    if env["format"] == "TR31-DATA-CHUNKED":
        check(set(env) >= {"format", "content_encoding", "mode", "key_kcv", "chunks"}, "MSK-03")
        data = b"".join(dec(msk, bytes.fromhex(c["initialization_vector"]), bytes.fromhex(c["ciphertext"]))
                        for c in env["chunks"])
    else:
        data = dec(msk, bytes.fromhex(env["initialization_vector"]), bytes.fromhex(env["ciphertext"]))
    try:
        tp = json.loads(gzip.decompress(data))
    except Exception as ex:
        raise Fail("TPAR-02 not gzip JSON: %s" % ex)
    check(isinstance(tp, dict), "TPAR-03")
    # step 8
    iv = os.urandom(16)
    pt = json.dumps({"emv_ready": True, "keys_installed": True, "network_ok": True}).encode()
    body = {"format": "TR31-DATA", "ciphertext": enc(msk, iv, pt).hex().upper(), "initialization_vector": iv.hex().upper(),
            "mode": "CBC", "key_kcv": kcv(msk)}
    s, env, _ = req("POST", "/pos/activate", att_h(d, tok), body)
    check(s == 200 and env["format"] == "TR31-DATA", "ACT-02 envelope %s %r" % (s, env))
    act = json.loads(dec(msk, bytes.fromhex(env["initialization_vector"]), bytes.fromhex(env["ciphertext"])))
    check("status" in act and "activated_at" in act, "ACT-02 plaintext %r" % act)
    check(status(did) == {"device_status": "activated", "is_claimed": True, "pairing_code_status": "used"},
          "ACT-03 / DEV-03")
    s, o, _ = req("POST", "/pos/bootstrap", pos_h(did))
    check(s == 200, "bootstrap after activation")
    # hooks
    s, _, _ = req("POST", "/_sim/devices/%s/key-set/rotate" % did)
    check(s == 200, "rotate")
    s, _, _ = req("GET", "/_sim/faults")
    check(s == 404, "faults")
    s, o, _ = req("GET", "/_sim/devices/POS-00000000")
    check(s == 404, "unknown device hook")
    s, o, _ = req("POST", "/_sim/reset")
    check(s == 200 and o == {"status": "reset"}, "reset")
    s, _, _ = req("GET", "/_sim/devices/" + did)
    check(s == 404, "reset removes hook devices")
    log("walk ok: device %s activated at %s" % (did, act["activated_at"]))


def start(args):
    global PORT
    prof = tempfile.NamedTemporaryFile(suffix=".toml", delete=False).name
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"), "--port", "0", "--devices", "4",
                          "--profile-out", prof] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    if not line.startswith("LISTENING http://127.0.0.1:"):
        p.kill()
        raise SystemExit("server did not start: %r %s" % (line, p.stderr.read()))
    PORT = int(line.rsplit(":", 1)[1])
    import tomllib
    with open(prof, "rb") as fh:
        t = tomllib.load(fh)
    assert t["base_url"].endswith(str(PORT)) and len(t["merchants"]) == 2 and len(t["merchants"][0]["devices"]) == 4
    os.unlink(prof)
    return p


def run(args, quiet=False):
    p = start(args)
    try:
        run_checks((lambda *_: None) if quiet else print)
        return None
    except Fail as e:
        return str(e)
    finally:
        p.terminate()
        p.wait()


def main():
    argv = sys.argv[1:]
    if argv[:1] == ["--all-breaks"]:
        out = subprocess.run([sys.executable, os.path.join(HERE, "server.py"), "--break", "list"],
                             capture_output=True, text=True).stdout.split()
        ids = [w for w in out if re.fullmatch(r"[A-Z]+-\d\d", w)]
        bad = 0
        for rid in ids:
            r = run(["--break", rid] + argv[1:], quiet=True)
            print("%-9s %s" % (rid, "detected: " + r if r else "NOT DETECTED"))
            bad += r is None
        return 1 if bad else 0
    if argv[:1] == ["--expect-break"]:
        r = run(["--break", argv[1]] + argv[2:], quiet=True)
        print("detected: " + r if r else "NOT DETECTED")
        return 0 if r else 1
    r = run(argv)
    if r:
        print("FAIL: " + r)
        return 1
    print("smoke OK", " ".join(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
