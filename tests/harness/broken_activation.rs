//! Broken targets for steps 5–8: each breaks one REQUIRED or SIMULATOR rule of attest,
//! attestation auth, keys, config, terminal parameters or activate. The proxy reaches the
//! simulator's control API and crypto (`viopay_sim::crypto`) to forge what a broken backend would
//! send: these are fixtures, not judges. The harness under test sees only HTTP.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use parking_lot::Mutex;
use serde_json::{Value, json};
use viopay_sim::crypto::{Key32, envelope, signature, tr31};

use crate::common::*;

fn header(req: &ProxyRequest, name: &str) -> Option<String> {
    req.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn set_header(req: &mut ProxyRequest, name: &'static str, value: &str) {
    if let Ok(v) = axum::http::HeaderValue::from_str(value) {
        req.headers.insert(name, v);
    }
}

fn get(next: Next<'_>, path: &str) -> Value {
    next(ProxyRequest { method: axum::http::Method::GET, path: path.to_owned(), headers: Default::default(), body: Vec::new() }).json()
}

fn key32(b64: &str) -> Option<Key32> {
    STANDARD.decode(b64).ok()?.try_into().ok()
}

/// The device's identity secret for `key_id` and its ZMK, from the control API.
fn secrets(next: Next<'_>, device: &str, key_id: &str) -> Option<(Key32, Key32)> {
    let v = get(next, &format!("/_sim/devices/{device}"));
    let key = v["identity_keys"].as_array()?.iter().find(|k| k["key_id"] == key_id)?;
    Some((key32(key["secret"].as_str()?)?, key32(v["zmk"].as_str()?)?))
}

/// Is the attest in `req` correctly signed? A breakage that rewrites a signed header re-signs only
/// those, so that it breaks its one rule and not the signature check (ATT-06) as well.
fn signed(next: Next<'_>, req: &ProxyRequest) -> bool {
    let mut check = req.clone();
    resign(next, &mut check);
    header(req, "x-signature").is_some() && header(&check, "x-signature") == header(req, "x-signature")
}

/// Signs the attest in `req` afresh with the device's real secret.
fn resign(next: Next<'_>, req: &mut ProxyRequest) {
    let (Some(device), Some(key_id), Some(ts), Some(nonce)) =
        (header(req, "x-device-id"), header(req, "x-key-id"), header(req, "x-timestamp"), header(req, "x-nonce"))
    else {
        return;
    };
    if let Some((secret, _)) = secrets(next, &device, &key_id) {
        let sig = signature::sign(&secret, &signature::signing_string(&device, &key_id, &ts, &nonce));
        set_header(req, "x-signature", &sig);
    }
}

fn fresh_nonce() -> String {
    (0..20).map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rand::random_range(0..36)])).collect()
}

fn is_step(path: &str) -> bool {
    ["/pos/keys", "/pos/config", "/pos/terminal-parameters", "/pos/activate"].contains(&path)
}

fn token_of(req: &ProxyRequest) -> Option<String> {
    header(req, "authorization")?.split_once(' ').map(|(_, t)| t.to_owned())
}

/// A fresh attestation token for `device`, minted through the simulator with its own key.
fn mint(next: Next<'_>, device: &str) -> Option<String> {
    let v = get(next, &format!("/_sim/devices/{device}"));
    let key = v["identity_keys"].as_array()?.iter().find(|k| k["revoked"] != true)?;
    let key_id = key["key_id"].as_str()?.to_owned();
    let secret = key32(key["secret"].as_str()?)?;
    let now = get(next, "/_sim/clock")["now"].as_str()?.to_owned();
    let nonce = fresh_nonce();
    let sig = signature::sign(&secret, &signature::signing_string(device, &key_id, &now, &nonce));
    let mut req =
        ProxyRequest { method: axum::http::Method::POST, path: "/pos/attest".into(), headers: Default::default(), body: Vec::new() };
    for (k, v) in [
        ("x-device-id", device.to_owned()),
        ("user-agent", "Viopay-POS/1.4.2 (Android 11; PAX A920)".to_owned()),
        ("x-client-type", "pos".to_owned()),
        ("x-key-id", key_id),
        ("x-timestamp", now),
        ("x-nonce", nonce),
        ("x-signature", sig),
    ] {
        set_header(&mut req, k, &v);
    }
    next(req).json()["attestation_token"].as_str().map(str::to_owned)
}

/// The device's clear keys, unwrapped from a keys answer with the simulator's TR-31.
fn clear_keys(keys: &Value, zmk: &Key32) -> Option<HashMap<String, Key32>> {
    let mut out = HashMap::new();
    let block = |name: &str| String::from_utf8(STANDARD.decode(keys["keys"][name]["key_block"].as_str()?).ok()?).ok();
    let tmk: Key32 = tr31::unwrap(zmk, &block("tmk")?).ok()?.1.try_into().ok()?;
    let kek: Key32 = tr31::unwrap(&tmk, &block("kek")?).ok()?.1.try_into().ok()?;
    let msk: Key32 = tr31::unwrap(&kek, &block("msk")?).ok()?.1.try_into().ok()?;
    out.insert("tmk".into(), tmk);
    out.insert("msk".into(), msk);
    Some(out)
}

pub fn catalogue() -> Vec<Broken> {
    let mut list = vec![
        Broken {
            name: "attest signatures not checked",
            rule: "ATT-06",
            breakage: Breakage::around(|mut req, next| {
                if req.path == "/pos/attest" && header(&req, "x-signature").is_some() {
                    resign(next, &mut req);
                }
                next(req)
            }),
        },
        Broken {
            name: "a reused nonce accepted",
            rule: "ATT-05",
            breakage: Breakage::around(|mut req, next| {
                let good = header(&req, "x-nonce").is_some_and(|n| n.len() >= 12 && n.chars().all(|c| c.is_ascii_alphanumeric()));
                // Only a correctly signed attest gets a fresh nonce: everything else stays checked.
                if req.path == "/pos/attest" && good && signed(next, &req) {
                    set_header(&mut req, "x-nonce", &fresh_nonce());
                    resign(next, &mut req);
                }
                next(req)
            }),
        },
        Broken {
            name: "the timestamp window off by a minute",
            rule: "ATT-04",
            breakage: Breakage::around(|mut req, next| {
                let shifted = header(&req, "x-timestamp")
                    .and_then(|t| time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).ok())
                    .map(|t| viopay_sim::time_fmt::rfc3339(t + time::Duration::seconds(60)));
                if req.path == "/pos/attest"
                    && signed(next, &req)
                    && let Some(ts) = shifted
                {
                    set_header(&mut req, "x-timestamp", &ts);
                    resign(next, &mut req);
                }
                next(req)
            }),
        },
        Broken {
            name: "wrong KCV for the MSK",
            rule: "KEYS-11",
            breakage: Breakage::after(|req, res| {
                if req.path == "/pos/keys" && res.status == 200 {
                    let mut v = res.json();
                    let kcv = v["keys"]["msk"]["kcv"].as_str().unwrap_or_default().to_owned();
                    v["keys"]["msk"]["kcv"] = json!(if kcv == "000000" { "FFFFFF" } else { "000000" });
                    res.set_json(&v);
                }
            }),
        },
        Broken {
            name: "the TMK wrapped under the wrong key",
            rule: "KEYS-03",
            breakage: Breakage::around(|req, next| {
                let device = header(&req, "x-device-id").unwrap_or_default();
                let mut res = next(req.clone());
                if req.path == "/pos/keys" && res.status == 200 {
                    let mut v = res.json();
                    let zmk = key32(get(next, &format!("/_sim/devices/{device}"))["zmk"].as_str().unwrap_or_default());
                    let block = STANDARD.decode(v["keys"]["tmk"]["key_block"].as_str().unwrap_or_default()).unwrap_or_default();
                    let rewrapped = zmk.and_then(|zmk| {
                        let (h, key) = tr31::unwrap(&zmk, std::str::from_utf8(&block).ok()?).ok()?;
                        let other: Key32 = std::array::from_fn(|i| zmk[i] ^ 0xFF);
                        tr31::wrap(&other, &h, &key, &[0x5A; 16]).ok()
                    });
                    if let Some(b) = rewrapped {
                        v["keys"]["tmk"]["key_block"] = json!(STANDARD.encode(b));
                        res.set_json(&v);
                    }
                }
                res
            }),
        },
        Broken {
            name: "config under a key other than the MSK",
            rule: "MSK-02",
            breakage: Breakage::after(|req, res| {
                if req.path == "/pos/config" && res.status == 200 {
                    let other: Key32 = rand::random();
                    let plaintext = br#"{"terminal_id":"TERM-000001","merchant":{"name":"under another key"}}"#;
                    res.set_json(&envelope::single(&other, &rand::random(), plaintext));
                }
            }),
        },
        Broken {
            name: "terminal-parameter chunks out of order",
            rule: "TPAR-02",
            breakage: Breakage::after(|req, res| {
                if req.path == "/pos/terminal-parameters" && res.status == 200 {
                    let mut v = res.json();
                    if let Some(chunks) = v["chunks"].as_array_mut() {
                        chunks.reverse();
                        res.set_json(&v);
                    }
                }
            }),
        },
        Broken {
            name: "activate does not change the status",
            rule: "DEV-03",
            breakage: Breakage::after(|req, res| {
                if req.path == "/pos/status" && res.status == 200 {
                    let mut v = res.json();
                    if v["device_status"] == "activated" {
                        v["device_status"] = json!("claimed");
                        res.set_json(&v);
                    }
                }
            }),
        },
        Broken {
            name: "a false activate flag accepted",
            rule: "ACT-07",
            breakage: Breakage::around(|req, next| {
                let res = next(req.clone());
                let refused = res.json()["error"]["message"] == "Device is not ready for activation";
                if req.path != "/pos/activate" || !refused {
                    return res;
                }
                // Activate for real with the three flags true, under the device's MSK.
                let device = header(&req, "x-device-id").unwrap_or_default();
                let zmk = key32(get(next, &format!("/_sim/devices/{device}"))["zmk"].as_str().unwrap_or_default());
                let keys = next(ProxyRequest { path: "/pos/keys".into(), body: Vec::new(), ..req.clone() }).json();
                let Some(msk) = zmk.and_then(|z| clear_keys(&keys, &z)).and_then(|k| k.get("msk").copied()) else { return res };
                let body = envelope::single(&msk, &rand::random(), br#"{"emv_ready":true,"keys_installed":true,"network_ok":true}"#);
                next(ProxyRequest { body: body.to_string().into_bytes(), ..req })
            }),
        },
    ];

    // Tokens that never expire (ATT-08): a token the simulator refuses is replaced by a fresh one
    // minted for its device, and the request replayed.
    let issued: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let seen = issued.clone();
    list.push(Broken {
        name: "attestation tokens never expire",
        rule: "ATT-08",
        breakage: Breakage::around(move |req, next| {
            let res = next(req.clone());
            if req.path == "/pos/attest" && res.status == 200 {
                let token = res.json()["attestation_token"].as_str().unwrap_or_default().to_owned();
                seen.lock().insert(token, header(&req, "x-device-id").unwrap_or_default());
            }
            let known = token_of(&req).and_then(|t| seen.lock().get(&t).cloned());
            if is_step(&req.path) && res.status == 401 && known.is_some() {
                let device = known.unwrap_or_default();
                if let Some(fresh) = mint(next, &device) {
                    let mut again = req;
                    set_header(&mut again, "authorization", &format!("Attestation {fresh}"));
                    return next(again);
                }
            }
            res
        }),
    });
    drop(issued);

    // Tokens not bound to their device (ATT-08): the token's own device is served instead.
    let owners: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let learn = owners.clone();
    list.push(Broken {
        name: "attestation tokens not bound to their device",
        rule: "ATT-08",
        breakage: Breakage::around(move |mut req, next| {
            if is_step(&req.path)
                && let Some(owner) = token_of(&req).and_then(|t| learn.lock().get(&t).cloned())
                && header(&req, "x-device-id").is_some_and(|d| d.len() == 12 && d != owner)
            {
                set_header(&mut req, "x-device-id", &owner);
            }
            let res = next(req.clone());
            if req.path == "/pos/attest" && res.status == 200 {
                let token = res.json()["attestation_token"].as_str().unwrap_or_default().to_owned();
                learn.lock().insert(token, header(&req, "x-device-id").unwrap_or_default());
            }
            res
        }),
    });
    drop(owners);
    list
}
