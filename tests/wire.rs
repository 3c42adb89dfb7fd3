//! Wire equality of the simulator: a seeded, scripted session over every endpoint of both APIs,
//! the control API and the portal (good and bad input, clock moves, faults armed and fired),
//! whose every exchange, request and response, is committed in `tests/wire/corpus.jsonl`. The
//! test runs the same script against a fresh simulator with the same seed and compares each
//! exchange byte for byte (trace ids, codes and tokens included), so a restructuring that changes
//! anything on the wire is caught at the first exchange that differs.
//!
//! Only what no seed fixes is masked: the `date` header, the portal's session cookie (from the
//! operating system's generator on purpose) and a transport error's wording. The script reads
//! what the simulator answered (codes, tokens, secrets, key blocks) exactly as a client would, so
//! its later requests are the same only if the earlier answers were.
//!
//! `WIRE_RECORD=1 cargo nextest run --test wire` writes the corpus anew: do that only for a change
//! meant to alter the wire, and say which in the commit.

use std::fmt::Write as _;
use std::path::PathBuf;

use base64::Engine as _;
use serde_json::{Value, json};
use viopay_check::pos::attest::signature;
use viopay_check::pos::envelope::seal_with_iv;
use viopay_check::pos::verify::Terminal;
use viopay_check::pos::{DeviceSecrets, Key32};

/// A fixed seed and a virtual clock: every generated value is reproducible.
const SEED: u64 = 20_261_206;
const PUBLIC: &str = "http://sim.test";
const UA: &str = "Viopay-POS/1.4.2 (Android 12; PAX-A920)";

fn corpus_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/wire/corpus.jsonl")
}

/// One recorded exchange, as a line of the corpus.
fn line(n: usize, method: &str, path: &str, headers: &[(String, String)], body: &str, response: &Value) -> String {
    let req = json!({ "method": method, "path": path, "headers": headers, "body": body });
    json!({ "n": n, "request": req, "response": response }).to_string()
}

struct Wire {
    http: reqwest::Client,
    base: String,
    lines: Vec<String>,
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    }
}

impl Wire {
    async fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(m, format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if !body.is_empty() {
            req = req.body(body.to_owned());
        }
        let sent: Vec<(String, String)> = headers.iter().map(|(k, v)| ((*k).to_owned(), mask_cookie(v))).collect();
        let n = self.lines.len();
        let answer = match req.send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                let headers = res.headers().clone();
                match res.bytes().await {
                    Ok(b) => Ok(Answer { status, headers, body: String::from_utf8_lossy(&b).into_owned() }),
                    Err(_) => Err("the body was cut short"),
                }
            }
            Err(e) if e.is_timeout() => Err("no answer in time"),
            Err(_) => Err("the connection ended without an answer"),
        };
        match answer {
            Ok(a) => {
                let mut hs: Vec<(String, String)> = a
                    .headers
                    .iter()
                    .filter(|(k, _)| k.as_str() != "date")
                    .map(|(k, v)| (k.as_str().to_owned(), mask_cookie(&String::from_utf8_lossy(v.as_bytes()))))
                    .collect();
                hs.sort();
                let response = json!({ "status": a.status, "headers": hs, "body": body_of(&a.body) });
                self.lines.push(line(n, method, path, &sent, body, &response));
                a
            }
            Err(why) => {
                self.lines.push(line(n, method, path, &sent, body, &json!({ "transport": why })));
                Answer { status: 0, headers: reqwest::header::HeaderMap::new(), body: String::new() }
            }
        }
    }

    async fn get(&mut self, path: &str) -> Answer {
        self.send("GET", path, &[], "").await
    }

    async fn control(&mut self, method: &str, path: &str, body: Value) -> Answer {
        let body = if body.is_null() { String::new() } else { body.to_string() };
        self.send(method, path, &[("content-type", "application/json")], &body).await
    }

    async fn pos(&mut self, method: &str, path: &str, device: &str, body: &str) -> Answer {
        let mut h = vec![("x-device-id", device), ("user-agent", UA), ("x-client-type", "pos")];
        if method == "POST" {
            h.push(("content-type", "application/json"));
        }
        self.send(method, path, &h, body).await
    }
}

/// Bodies above 2 KiB (terminal parameters' chunks, verdicts, journals) are kept as their length
/// and SHA-256: still byte for byte, at a tenth of the corpus's size.
fn body_of(body: &str) -> Value {
    use sha2::Digest as _;
    if body.len() <= 2048 {
        return json!(body);
    }
    json!({ "len": body.len(), "sha256": hex::encode(sha2::Sha256::digest(body.as_bytes())) })
}

/// The portal's session id comes from the operating system's generator (a seeded run must not
/// make sessions guessable), so it is the one value masked on both sides.
fn mask_cookie(v: &str) -> String {
    match v.find("viopay_portal=") {
        Some(i) => {
            let start = i + "viopay_portal=".len();
            let end = v[start..].find(';').map_or(v.len(), |e| start + e);
            if end > start { format!("{}<session>{}", &v[..start], &v[end..]) } else { v.to_owned() }
        }
        None => v.to_owned(),
    }
}

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap_or_default()
}

/// A nonce that is fresh within the run and the same on every run.
fn nonce(k: usize) -> String {
    format!("wire{k:020}")
}

/// A merchant's sign-in (AUTH-04) and session initiate (AUTH-10); returns the token.
async fn sign_in(w: &mut Wire, m: &Value) -> String {
    let creds = json!({ "client_id": m["client_id"], "client_secret": m["client_secret"] }).to_string();
    let t = w.send("POST", "/client/session", &[("content-type", "application/json")], &creds).await.json();
    let token = t["access_token"].as_str().unwrap_or_default().to_owned();
    let auth = format!("Bearer {token}");
    let body = json!({ "host": "merchant.viopay.io" }).to_string();
    w.send("POST", "/session/initiate", &[("authorization", &auth), ("content-type", "application/json")], &body).await;
    token
}

/// A signed attest (ATT-02…ATT-06).
async fn attest(w: &mut Wire, dev: &str, ts: &str, n: &str, secret: &[u8], key_id: &str) -> Answer {
    let sig = signature(secret, dev, key_id, ts, n);
    let h = [
        ("x-device-id", dev),
        ("user-agent", UA),
        ("x-client-type", "pos"),
        ("x-key-id", key_id),
        ("x-timestamp", ts),
        ("x-nonce", n),
        ("x-signature", sig.as_str()),
    ];
    w.send("POST", "/pos/attest", &h, "").await
}

/// Steps 1–8 for one device, with the bad inputs of each step around the good ones.
async fn journey(w: &mut Wire, dev: &str, merchant_token: &str, other_token: &str, k: usize) {
    let auth = format!("Bearer {merchant_token}");
    let other = format!("Bearer {other_token}");
    w.pos("POST", "/pos/bootstrap", dev, "").await;
    w.pos("GET", "/pos/status", dev, "").await;
    let first = w.pos("POST", "/pos/pairing-code", dev, "").await.json();
    let code = w.pos("POST", "/pos/pairing-code", dev, "").await.json()["pairing_code"].as_str().unwrap_or_default().to_owned();
    w.pos("GET", "/pos/status", dev, "").await;
    let claim = |c: &str| json!({ "pairing_code": c }).to_string();
    let json_ct = ("content-type", "application/json");
    // The superseded code, another merchant, a malformed body, then the right claim.
    let old = first["pairing_code"].as_str().unwrap_or_default().to_owned();
    w.send("POST", "/pos/claim", &[("authorization", &auth), json_ct], &claim(&old)).await;
    w.send("POST", "/pos/claim", &[("authorization", &other), json_ct], &claim(&code)).await;
    let malformed = ["{}", r#"{"pairing_code": ""}"#, r#"{"pairing_code": 123456}"#, r#"{"pairing_code":"#, r#"["K7M3NP"]"#];
    w.send("POST", "/pos/claim", &[("authorization", &auth), json_ct], malformed[k % malformed.len()]).await;
    w.send("POST", "/pos/claim", &[("authorization", &auth), ("content-type", "text/plain")], &claim(&code)).await;
    w.send("POST", "/pos/claim", &[json_ct], &claim(&code)).await;
    w.send("POST", "/pos/claim", &[("authorization", &auth), json_ct], &claim(&format!(" {} ", code.to_lowercase()))).await;
    w.send("POST", "/pos/claim", &[("authorization", &auth), json_ct], &claim(&code)).await;
    w.pos("GET", "/pos/status", dev, "").await;
    w.pos("POST", "/pos/pairing-code", dev, "").await;

    // Steps 5–8 as the terminal: its secrets from the control API, as the harness reads them.
    let inspect = w.get(&format!("/_sim/devices/{dev}")).await.json();
    let key = &inspect["identity_keys"][0];
    let key_id = key["key_id"].as_str().unwrap_or_default().to_owned();
    let secret_b64 = key["secret"].as_str().unwrap_or_default().to_owned();
    let zmk = inspect["zmk"].as_str().map(str::to_owned);
    let secrets = DeviceSecrets::parse(&key_id, &secret_b64, zmk.as_deref()).ok();
    let secret = b64(&secret_b64);
    let now = w.get("/_sim/clock").await.json()["now"].as_str().unwrap_or_default().to_owned();
    let bad_secret: Vec<u8> = secret.iter().map(|b| b ^ 0x5A).collect();
    attest(w, dev, &now, &nonce(k * 10), &bad_secret, &key_id).await;
    attest(w, dev, "2025-01-01T00:00:00Z", &nonce(k * 10 + 1), &secret, &key_id).await;
    attest(w, dev, &now, &nonce(k * 10 + 2), &secret, "idk-unknown").await;
    let token = attest(w, dev, &now, &nonce(k * 10 + 3), &secret, &key_id).await.json()["attestation_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    attest(w, dev, &now, &nonce(k * 10 + 3), &secret, &key_id).await;
    let bearer = format!("Attestation {token}");
    w.send("POST", "/pos/keys", &[("x-device-id", dev), ("user-agent", UA), ("x-client-type", "pos")], "").await;
    let never = [("x-device-id", dev), ("user-agent", UA), ("x-client-type", "pos"), ("authorization", "Attestation att_never")];
    w.send("POST", "/pos/keys", &never, "").await;
    let h = [("x-device-id", dev), ("user-agent", UA), ("x-client-type", "pos"), ("authorization", bearer.as_str())];
    let keys = w.send("POST", "/pos/keys", &h, "").await.json();
    let mut terminal = Terminal::new(dev, secrets);
    let _ = terminal.keys_answered(&keys, None);
    let msk: Key32 = terminal.keys.as_ref().and_then(|k| k.msk()).copied().unwrap_or([0; 32]);
    w.send("POST", "/pos/config", &h, "").await;
    w.send("POST", "/pos/terminal-parameters", &h, "").await;
    let iv: [u8; 16] = std::array::from_fn(|i| u8::try_from((i + k) % 251).unwrap_or(0));
    let ready = br#"{"emv_ready":true,"keys_installed":true,"network_ok":true}"#;
    let ha = [("x-device-id", dev), ("user-agent", UA), ("x-client-type", "pos"), ("authorization", bearer.as_str()), json_ct];
    let mut wrong_kcv = seal_with_iv(&msk, &iv, ready);
    wrong_kcv["key_kcv"] = json!("000000");
    w.send("POST", "/pos/activate", &ha, &wrong_kcv.to_string()).await;
    w.send("POST", "/pos/activate", &ha, r#"{"hello":"world"}"#).await;
    let not_ready = seal_with_iv(&msk, &iv, br#"{"emv_ready":false,"keys_installed":true,"network_ok":true}"#);
    w.send("POST", "/pos/activate", &ha, &not_ready.to_string()).await;
    w.send("POST", "/pos/activate", &ha, &seal_with_iv(&msk, &iv, ready).to_string()).await;
    w.send("POST", "/pos/activate", &ha, &seal_with_iv(&msk, &iv, ready).to_string()).await;
    w.pos("GET", "/pos/status", dev, "").await;
}

/// The whole script. Returns the corpus lines.
async fn script(base: String) -> Vec<String> {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let mut w = Wire { http, base, lines: Vec::new() };

    // Public and generic answers.
    for path in [
        "/health/live",
        "/realms/viopay/protocol/openid-connect/certs",
        "/realms/viopay/.well-known/openid-configuration",
        "/realms/other/protocol/openid-connect/certs",
        "/nowhere",
        "/pos/status",
    ] {
        w.get(path).await;
    }
    w.send("DELETE", "/pos/bootstrap", &[], "").await;
    w.send("POST", "/pos/bootstrap", &[("content-type", "application/json")], &"x".repeat(70_000)).await;

    // The control API: reads, merchants and devices of the script's own.
    for path in ["/_sim/clock", "/_sim/merchants", "/_sim/devices?per_page=5", "/_sim/faults", "/_sim/kustom/merchants", "/_sim/verdict"] {
        w.get(path).await;
    }
    w.control("POST", "/_sim/clock/advance", json!({ "seconds": 30 })).await;
    w.control("POST", "/_sim/clock/advance", json!({ "seconds": -5 })).await;
    w.control("POST", "/_sim/clock/set", json!({ "now": "2020-01-01T00:00:00Z" })).await;
    w.control("POST", "/_sim/clock/set", json!({ "now": "not a time" })).await;
    let mut merchants = Vec::new();
    for i in 0..2 {
        let m = w.control("POST", "/_sim/merchants", json!({ "name": format!("Wire {i}") })).await.json();
        merchants.push(m);
    }
    w.control("POST", "/_sim/merchants", json!({ "name": 7 })).await;
    let mut devices = Vec::new();
    for m in &merchants {
        let d = w.control("POST", "/_sim/devices", json!({ "merchant_id": m["id"], "count": 40 })).await.json();
        devices.push(d["device_ids"].as_array().cloned().unwrap_or_default());
    }
    w.control("POST", "/_sim/devices", json!({ "merchant_id": "nobody" })).await;

    // Merchant sign-in (AUTH-04…AUTH-10), good and bad.
    let mut tokens = Vec::new();
    for m in &merchants {
        tokens.push(sign_in(&mut w, m).await);
    }
    w.send("POST", "/client/session", &[("content-type", "application/json")], r#"{"client_id":"x","client_secret":"y"}"#).await;
    w.send("POST", "/client/session", &[("content-type", "application/json")], "{").await;
    w.send("POST", "/auth/token", &[("content-type", "application/json")], r#"{"client_id":"x"}"#).await;
    w.send("POST", "/session/initiate", &[("authorization", "Bearer nope")], "").await;
    let form = "grant_type=password&client_id=viopay-portal&username=owner%40globex.example&password=globex-portal";
    w.send("POST", "/realms/viopay/protocol/openid-connect/token", &[("content-type", "application/x-www-form-urlencoded")], form).await;
    w.send(
        "POST",
        "/realms/viopay/protocol/openid-connect/token",
        &[("content-type", "application/x-www-form-urlencoded")],
        "grant_type=nope",
    )
    .await;

    // POS headers wrong, one at a time, on each endpoint of steps 1–3.
    let d0 = devices[0][0].as_str().unwrap_or_default().to_owned();
    for path in ["/pos/bootstrap", "/pos/pairing-code", "/pos/status"] {
        let method = if path == "/pos/status" { "GET" } else { "POST" };
        w.send(method, path, &[("user-agent", UA), ("x-client-type", "pos")], "").await;
        w.send(method, path, &[("x-device-id", "POS-XYZ"), ("user-agent", UA), ("x-client-type", "pos")], "").await;
        w.send(method, path, &[("x-device-id", &d0), ("user-agent", "curl/8.5.0"), ("x-client-type", "pos")], "").await;
        w.send(method, path, &[("x-device-id", &d0), ("user-agent", UA)], "").await;
        w.send(method, path, &[("x-device-id", "POS-0000FFFF"), ("user-agent", UA), ("x-client-type", "pos")], "").await;
        w.send(method, path, &[("x-device-id", "pos-8f3a2c91"), ("user-agent", "Viopay-POS/1.0.0"), ("x-client-type", "pos")], "").await;
    }

    // The journey, device after device, for both merchants; the clock moves between devices.
    let mut k = 0;
    for round in 0..32 {
        for (m, ids) in devices.iter().enumerate() {
            let dev = ids[round].as_str().unwrap_or_default().to_owned();
            let (own, other) = (&tokens[m], &tokens[1 - m]);
            journey(&mut w, &dev, own, other, k).await;
            k += 1;
        }
        w.control("POST", "/_sim/clock/advance", json!({ "seconds": 17 + round * 13 })).await;
        // Merchant tokens live 300 s (AUTH-14) and the clock just moved: sign in again, as a
        // merchant backend renews its token.
        for (m, t) in merchants.iter().zip(tokens.iter_mut()) {
            *t = sign_in(&mut w, m).await;
        }
    }

    // Expiry: a code left pending past 300 s, read, claimed late, and a token past its life.
    let late = devices[0][35].as_str().unwrap_or_default().to_owned();
    w.pos("POST", "/pos/bootstrap", &late, "").await;
    let code = w.pos("POST", "/pos/pairing-code", &late, "").await.json()["pairing_code"].as_str().unwrap_or_default().to_owned();
    for seconds in [299, 1, 1] {
        w.control("POST", "/_sim/clock/advance", json!({ "seconds": seconds })).await;
        w.pos("GET", "/pos/status", &late, "").await;
    }
    let auth = format!("Bearer {}", sign_in(&mut w, &merchants[0]).await);
    // Claimed just expired, then an hour later with the same (by then expired) token.
    for later in [0, 3600] {
        if later > 0 {
            w.control("POST", "/_sim/clock/advance", json!({ "seconds": later })).await;
        }
        let body = json!({ "pairing_code": code }).to_string();
        w.send("POST", "/pos/claim", &[("authorization", &auth), ("content-type", "application/json")], &body).await;
    }

    // The device controls: claim for the merchant, auto-claim, keys, rotation, reset, verdicts.
    let d = devices[1][35].as_str().unwrap_or_default().to_owned();
    w.pos("POST", "/pos/bootstrap", &d, "").await;
    w.control("POST", &format!("/_sim/devices/{d}/claim"), Value::Null).await;
    w.pos("POST", "/pos/pairing-code", &d, "").await;
    w.control("POST", &format!("/_sim/devices/{d}/claim"), Value::Null).await;
    w.control("POST", &format!("/_sim/devices/{d}/claim"), Value::Null).await;
    let d2 = devices[1][36].as_str().unwrap_or_default().to_owned();
    w.control("POST", &format!("/_sim/devices/{d2}/auto-claim"), json!({ "after_sec": 5 })).await;
    w.pos("POST", "/pos/pairing-code", &d2, "").await;
    w.control("POST", "/_sim/clock/advance", json!({ "seconds": 6 })).await;
    w.pos("GET", "/pos/status", &d2, "").await;
    w.control("POST", &format!("/_sim/devices/{d2}/auto-claim"), json!({ "after_sec": null })).await;
    w.control("POST", &format!("/_sim/devices/{d2}/auto-claim"), json!({ "after_sec": "soon" })).await;
    let added = w.control("POST", &format!("/_sim/devices/{d2}/identity-keys"), json!({})).await.json();
    let added_id = added["key_id"].as_str().unwrap_or("idk-none").to_owned();
    w.control("DELETE", &format!("/_sim/devices/{d2}/identity-keys/{added_id}"), Value::Null).await;
    w.control("DELETE", &format!("/_sim/devices/{d2}/identity-keys/idk-nope"), Value::Null).await;
    w.control("POST", &format!("/_sim/devices/{d2}/key-set/rotate"), Value::Null).await;
    w.control("POST", &format!("/_sim/devices/{d2}/reset"), Value::Null).await;
    w.get(&format!("/_sim/devices/{d2}")).await;
    w.get("/_sim/devices/POS-0000FFFF").await;
    w.get(&format!("/_sim/devices/{d}/verdict")).await;
    w.get("/_sim/devices/POS-0000FFFF/verdict").await;
    w.get(&format!("/_sim/devices?merchant={}&status=activated&per_page=3", merchants[0]["id"].as_str().unwrap_or_default())).await;
    w.get("/_sim/devices?status=sleeping").await;
    w.get("/_sim/verdict").await;

    // Faults: armed, listed, fired (documented errors, statuses, latency, damaged and cut
    // answers) and cleared.
    let f = devices[0][37].as_str().unwrap_or_default().to_owned();
    w.pos("POST", "/pos/bootstrap", &f, "").await;
    w.control("POST", "/_sim/faults", json!({ "endpoint": "/pos/pairing-code", "rule": "PAIR-08", "count": 1 })).await;
    w.pos("POST", "/pos/pairing-code", &f, "").await;
    w.pos("POST", "/pos/pairing-code", &f, "").await;
    let armed = w
        .control(
            "POST",
            "/_sim/faults",
            json!({ "kind": "status", "endpoint": "/pos/status", "status": 503, "headers": { "Retry-After": "2" } }),
        )
        .await
        .json();
    w.get("/_sim/faults").await;
    w.pos("GET", "/pos/status", &f, "").await;
    w.control("DELETE", &format!("/_sim/faults/{}", armed["id"].as_u64().unwrap_or(0)), Value::Null).await;
    w.control("DELETE", "/_sim/faults/999999", Value::Null).await;
    for fault in [
        json!({ "kind": "latency", "endpoint": "/pos/status", "latency_ms": 5, "count": 1 }),
        json!({ "kind": "dribble", "endpoint": "/pos/status", "over_ms": 40, "count": 1 }),
        json!({ "kind": "malformed", "endpoint": "/pos/status", "count": 1 }),
        json!({ "kind": "truncate", "endpoint": "/pos/status", "count": 1 }),
        json!({ "kind": "reset", "endpoint": "/pos/status", "count": 1 }),
        json!({ "kind": "hang", "endpoint": "/pos/status", "max_ms": 50, "count": 1 }),
        json!({ "kind": "error", "endpoint": "/pos/status" }),
        json!({ "kind": "teleport" }),
        json!({ "kind": "status", "step": 9 }),
    ] {
        w.control("POST", "/_sim/faults", fault).await;
        w.pos("GET", "/pos/status", &f, "").await;
    }
    w.control("POST", "/_sim/faults/profiles/flaky-3g", Value::Null).await;
    w.control("POST", "/_sim/faults/profiles/nope", Value::Null).await;
    w.get("/_sim/faults").await;
    w.control("DELETE", "/_sim/faults", Value::Null).await;
    w.get(&format!("/_sim/journal?device={f}&limit=20")).await;

    // Kustom: enrollments, registration, devices, locations, the playground, refusals.
    let km = w.get("/_sim/kustom/merchants").await.json();
    let kms = km["merchants"].as_array().cloned().unwrap_or_default();
    let key_of = |i: usize| format!("Basic {}", kms.get(i).and_then(|m| m["basic_credentials"].as_str()).unwrap_or_default());
    let mid_of = |i: usize| kms.get(i).and_then(|m| m["id"].as_str()).unwrap_or_default().to_owned();
    let json_ct = ("content-type", "application/json");
    let mut hardware = 0;
    for i in 0..kms.len().min(2) {
        let (key, mid) = (key_of(i), mid_of(i));
        let h = [("authorization", key.as_str()), json_ct];
        let hm = [("authorization", key.as_str()), ("x-merchant-id", mid.as_str())];
        w.send("GET", "/ipp/v1/locations", &hm, "").await;
        let loc = w.send("GET", "/ipp/v1/locations", &hm, "").await.json()["content"][0]["id"].as_str().unwrap_or_default().to_owned();
        w.send("GET", &format!("/ipp/v1/locations/{loc}"), &hm, "").await;
        w.send("GET", "/ipp/v1/locations/00000000-0000-4000-8000-000000000000", &hm, "").await;
        for r in 0..14 {
            let body = json!({ "location_id": loc, "metadata": { "wire": format!("r{r}") }, "expires_in": 600_000 }).to_string();
            let e = w.send("POST", "/ipp/v1/enrollments", &h, &body).await.json();
            let id = e["enrollment_id"].as_str().unwrap_or_default().to_owned();
            let code = e["enrollment_code"].as_str().unwrap_or_default().to_owned();
            w.send("GET", &format!("/ipp/v1/enrollments/{id}"), &h, "").await;
            hardware += 1;
            let reg = json!({ "enrollment_code": code, "hardware_id": format!("HW-{hardware:05}"), "platform": "TERMINAL", "name": format!("Till {r}") })
                .to_string();
            match r % 4 {
                0 => {
                    w.send("DELETE", &format!("/ipp/v1/enrollments/{id}"), &h, "").await;
                    w.send("POST", "/ipp/v1/devices/register", &[json_ct], &reg).await;
                }
                1 => {
                    w.control("POST", "/_sim/clock/advance", json!({ "seconds": 601 })).await;
                    w.send("POST", "/ipp/v1/devices/register", &[json_ct], &reg).await;
                }
                _ => {
                    let dev = w.send("POST", "/ipp/v1/devices/register", &[json_ct], &reg).await.json();
                    w.send("POST", "/ipp/v1/devices/register", &[json_ct], &reg).await;
                    let did = dev["id"].as_str().unwrap_or_default().to_owned();
                    let bearer = format!("Bearer {}", dev["credentials"]["bearer_token"].as_str().unwrap_or_default());
                    w.send("GET", "/ipp/v1/devices/me", &[("authorization", &bearer)], "").await;
                    let upd = json!({ "name": format!("Renamed {r}"), "metadata": { "wire": "updated" } }).to_string();
                    w.send("PUT", &format!("/ipp/v1/devices/{did}"), &h, &upd).await;
                    w.send("PUT", &format!("/ipp/v1/devices/{did}"), &h, r#"{"name": 5}"#).await;
                    if r % 4 == 3 {
                        w.send("DELETE", &format!("/ipp/v1/devices/{did}"), &h, "").await;
                        w.send("GET", "/ipp/v1/devices/me", &[("authorization", &bearer)], "").await;
                    }
                }
            }
        }
        w.send("GET", "/ipp/v1/enrollments?page_size=5", &hm, "").await;
        w.send("GET", "/ipp/v1/enrollments?include_consumed=true&metadata=wire:r2", &hm, "").await;
        w.send("GET", "/ipp/v1/devices?page_size=3&page=1", &hm, "").await;
        w.send("GET", &format!("/ipp/v1/devices?location_id={loc}"), &hm, "").await;
        w.send("POST", "/ipp/v1/enrollments", &h, r#"{"metadata": "no"}"#).await;
        w.send("POST", "/ipp/v1/enrollments", &h, "{").await;
        w.send("POST", "/ipp/v1/enrollments", &[("authorization", "Basic kco_test_ipp_wrongwrongwrongwrong"), json_ct], "{}").await;
        w.send("POST", "/ipp/v1/enrollments", &[json_ct], "{}").await;
        w.send("POST", "/ipp/v1/dev/devices", &h, r#"{"name":"Sim till"}"#).await;
        w.send("PATCH", "/ipp/v1/enrollments", &h, "").await;
        w.send("GET", "/ipp/v1/nothing", &h, "").await;
    }
    w.send("POST", "/ipp/v1/devices/register", &[json_ct], r#"{"enrollment_code": 5, "platform": "TOASTER"}"#).await;
    w.send("GET", "/ipp/v1/devices/me", &[("authorization", "Bearer nope")], "").await;
    for path in ["/_sim/kustom/enrollments", "/_sim/kustom/devices"] {
        w.get(path).await;
    }

    // The portal: sign-in, fleet, a claim typed by a person, the simulator panel, Kustom's tab.
    // The portal compares `Origin` with `Host`: the socket's address, named PUBLIC in the corpus.
    let base = w.base.clone();
    let origin = ("origin", base.as_str());
    let form_ct = ("content-type", "application/x-www-form-urlencoded");
    w.get("/portal/sign-in").await;
    w.send("POST", "/portal/sign-in", &[form_ct, origin], "username=owner%40globex.example&password=wrong").await;
    let signed = w.send("POST", "/portal/sign-in", &[form_ct, origin], "username=owner%40globex.example&password=globex-portal").await;
    let cookie = signed.header("set-cookie").split(';').next().unwrap_or_default().to_owned();
    let c = ("cookie", cookie.as_str());
    for path in ["/portal/fleet", "/portal/fleet/rows", "/portal/claim", "/portal/simulator", "/portal/kustom", "/portal/nowhere"] {
        w.send("GET", path, &[c], "").await;
    }
    let globex = w.get("/_sim/devices?per_page=1000").await.json();
    let own = globex["devices"]
        .as_array()
        .and_then(|ds| {
            ds.iter().find(|d| d["device_status"] == "inactive" && d["device_id"].as_str().is_some_and(|i| i.starts_with("POS-8")))
        })
        .and_then(|d| d["device_id"].as_str())
        .unwrap_or("POS-8F3A2C91")
        .to_owned();
    w.pos("POST", "/pos/bootstrap", &own, "").await;
    let code = w.pos("POST", "/pos/pairing-code", &own, "").await.json()["pairing_code"].as_str().unwrap_or_default().to_owned();
    w.send("POST", "/portal/claim", &[c, form_ct, origin], &format!("pairing_code={code}")).await;
    w.send("POST", "/portal/claim", &[c, form_ct, origin], "pairing_code=ZZZZZZ").await;
    w.send("POST", "/portal/claim", &[c, form_ct], &format!("pairing_code={code}")).await;
    w.send("POST", "/portal/simulator/clock/advance", &[c, form_ct, origin], "seconds=60").await;
    w.send("POST", "/portal/simulator/faults", &[c, form_ct, origin], "kind=latency&endpoint=%2Fpos%2Fstatus&latency_ms=1").await;
    w.send("POST", "/portal/simulator/faults/clear", &[c, form_ct, origin], "").await;
    w.send("POST", "/portal/simulator/devices/reset", &[c, form_ct, origin], &format!("device_id={own}")).await;
    w.send("GET", &format!("/portal/simulator?device={own}"), &[c], "").await;
    w.send("POST", "/portal/kustom/enrollments", &[c, form_ct, origin], "ttl=600&location_id=").await;
    w.send("POST", "/portal/claim", &[c, form_ct, ("origin", "https://evil.example")], "pairing_code=ZZZZZZ").await;
    w.send("POST", "/portal/sign-out", &[c, form_ct, origin], "").await;
    w.send("GET", "/portal/fleet", &[c], "").await;

    // Back to the start, and the first requests again.
    w.control("POST", "/_sim/reset", Value::Null).await;
    w.get("/_sim/clock").await;
    w.pos("POST", "/pos/bootstrap", "POS-8F3A2C91", "").await;
    w.get("/_sim/journal?limit=5").await;
    w.lines
}

async fn record() -> Vec<String> {
    let mut config = viopay_sim::SimConfig::new(viopay_sim::Fixtures::builtin().expect("fixtures"));
    config.clock = viopay_sim::ClockMode::Virtual;
    config.seed = Some(SEED);
    // The token issuer (inside every JWT) and the portal's origin name this, not the random port.
    config.public_url = Some(PUBLIC.to_owned());
    let sim = viopay_sim::spawn(config, "127.0.0.1:0".parse().expect("addr")).await.expect("simulator");
    let base = sim.base_url.clone();
    let lines = script(base.clone()).await;
    // The socket's port differs between runs on purpose; nothing on the wire should name it.
    lines.into_iter().map(|l| l.replace(&base, PUBLIC)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_answers_the_committed_corpus_byte_for_byte() {
    let lines = record().await;
    let path = corpus_path();
    if std::env::var_os("WIRE_RECORD").is_some() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        std::fs::write(&path, lines.join("\n") + "\n").expect("write the corpus");
        return;
    }
    assert!(lines.len() >= 2_000, "the script covers at least 2,000 exchanges; it made {}", lines.len());
    let committed = std::fs::read_to_string(&path).expect("tests/wire/corpus.jsonl (WIRE_RECORD=1 writes it)");
    let committed: Vec<&str> = committed.lines().collect();
    for (i, (got, want)) in lines.iter().zip(&committed).enumerate() {
        if got != want {
            let mut msg = format!("exchange {i} differs from the committed corpus\n");
            let (g, w): (Value, Value) = (serde_json::from_str(got).unwrap_or_default(), serde_json::from_str(want).unwrap_or_default());
            let _ = writeln!(msg, "request:  {}", g["request"]);
            let _ = writeln!(msg, "expected: {}", w["response"]);
            let _ = writeln!(msg, "actual:   {}", g["response"]);
            panic!("{msg}");
        }
    }
    assert_eq!(lines.len(), committed.len(), "the script made {} exchanges; the corpus holds {}", lines.len(), committed.len());
}

/// The corpus reaches every endpoint of both APIs, the control API and the portal, with refusals
/// and faults among the answers: a corpus that lost a part of the surface would prove nothing
/// about it.
#[test]
fn the_corpus_covers_every_endpoint() {
    let text = std::fs::read_to_string(corpus_path()).expect("corpus");
    let mut paths = std::collections::BTreeSet::new();
    let mut statuses = std::collections::BTreeSet::new();
    let mut transport = 0;
    for l in text.lines() {
        let v: Value = serde_json::from_str(l).expect("a JSON line");
        let path = v["request"]["path"].as_str().unwrap_or_default();
        paths.insert(path.split('?').next().unwrap_or_default().to_owned());
        match v["response"]["status"].as_u64() {
            Some(s) => {
                statuses.insert(s);
            }
            None => transport += 1,
        }
    }
    let has = |p: &str| paths.iter().any(|x| x == p || (p.ends_with('*') && x.starts_with(p.trim_end_matches('*'))));
    for p in [
        "/pos/bootstrap",
        "/pos/pairing-code",
        "/pos/status",
        "/pos/claim",
        "/pos/attest",
        "/pos/keys",
        "/pos/config",
        "/pos/terminal-parameters",
        "/pos/activate",
        "/client/session",
        "/auth/token",
        "/session/initiate",
        "/health/live",
        "/realms/viopay/protocol/openid-connect/token",
        "/ipp/v1/enrollments",
        "/ipp/v1/enrollments/*",
        "/ipp/v1/devices/register",
        "/ipp/v1/devices/me",
        "/ipp/v1/devices",
        "/ipp/v1/locations",
        "/ipp/v1/dev/devices",
        "/_sim/clock/advance",
        "/_sim/faults",
        "/_sim/reset",
        "/_sim/journal",
        "/_sim/verdict",
        "/portal/sign-in",
        "/portal/claim",
        "/portal/simulator/*",
    ] {
        assert!(has(p), "the corpus never calls {p}");
    }
    for s in [200, 201, 204, 400, 401, 403, 404, 405, 409, 410, 413, 500, 503] {
        assert!(statuses.contains(&s), "no {s} in the corpus: {statuses:?}");
    }
    assert!(transport > 0, "no fault that ends a connection fired");
    assert!(text.lines().count() >= 2_000);
}
