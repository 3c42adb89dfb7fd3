//! The conformant-variant matrix for steps 5–8: backends that keep every REQUIRED rule of attest,
//! attestation auth, keys, config, terminal parameters and activate, but answer differently where
//! a SIMULATOR or UNKNOWN rule leaves room. Each must pass `run` and `fuzz --cases 300` with exit 0
//! and exactly the advisories listed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{Value, json};

use crate::common::*;
use crate::variants::{Variant, passes};

fn header(req: &ProxyRequest, name: &str) -> String {
    req.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

fn refuse(res: &mut ProxyResponse, status: u16, code: &str, message: &str) {
    // ERR-08: the body's trace id is the X-Trace-Id header's.
    let trace = res.headers.get("x-trace-id").and_then(|v| v.to_str().ok()).unwrap_or("variant-trace").to_owned();
    res.status = status;
    res.set_json(&json!({ "error": { "code": code, "message": message, "trace_id": trace } }));
}

/// ATT-09: a real server's attest refusals are its own. This one answers every refusal after the
/// POS headers with one generic 401.
#[test]
fn attest_refusals_in_one_generic_answer() {
    passes(
        "attest refusals in one generic answer",
        Variant::new(
            Breakage::after(|req, res| {
                let message = res.json()["error"]["message"].as_str().unwrap_or_default().to_owned();
                let ours = message.starts_with("X-Key-Id")
                    || message.starts_with("X-Timestamp")
                    || message.starts_with("X-Nonce")
                    || message.starts_with("X-Signature")
                    || res.status == 401
                    || message == "Device is not claimed";
                if req.path == "/pos/attest" && res.status >= 400 && ours {
                    refuse(res, 401, "4010", "Unauthorized");
                }
            }),
            &[
                "ATT-22", "ATT-23", "ATT-24", "ATT-25", "ATT-26", "ATT-27", "ATT-28", "ATT-29", "ATT-30", "ATT-31", "ATT-32", "ATT-33",
                "ATT-34",
            ],
            &["ATT-22", "ATT-24", "ATT-26", "ATT-28", "ATT-30", "ATT-31", "ATT-32", "ATT-33", "ATT-34"],
        ),
    );
}

fn lowercase_hex(v: &mut Value) {
    for field in ["ciphertext", "initialization_vector"] {
        if let Some(s) = v[field].as_str() {
            v[field] = json!(s.to_lowercase());
        }
    }
    if let Some(chunks) = v["chunks"].as_array_mut() {
        chunks.iter_mut().for_each(lowercase_hex);
    }
}

/// MSK-04, MSK-05: hex case in responses is the simulator's choice (uppercase).
#[test]
fn lowercase_hex_in_response_envelopes() {
    passes(
        "lowercase hex in response envelopes",
        Variant::new(
            Breakage::after(|req, res| {
                if ["/pos/config", "/pos/terminal-parameters", "/pos/activate"].contains(&req.path.as_str()) && res.status == 200 {
                    let mut v = res.json();
                    lowercase_hex(&mut v);
                    res.set_json(&v);
                }
            }),
            &["MSK-05"],
            &["MSK-05"],
        ),
    );
}

/// ACT-04: what a real server does with a false flag is its own; this one activates anyway.
#[test]
fn false_flags_accepted() {
    let breakage = crate::broken_activation::catalogue().into_iter().find(|b| b.rule == "ACT-07").expect("the ACT-07 target").breakage;
    passes("false activate flags accepted", Variant::new(breakage, &["ACT-07"], &["ACT-07"]));
}

/// ATT-10: how long nonces are remembered is a real server's own; this one never forgets.
#[test]
fn nonces_remembered_for_good() {
    let seen: Arc<Mutex<HashMap<String, HashSet<String>>>> = Arc::default();
    passes(
        "nonces remembered for good",
        Variant::new(
            Breakage::after(move |req, res| {
                if req.path != "/pos/attest" {
                    return;
                }
                let (device, nonce) = (header(req, "x-device-id"), header(req, "x-nonce"));
                if res.status == 200 && !seen.lock().entry(device.clone()).or_default().insert(nonce) {
                    refuse(res, 401, "4010", "Nonce already used");
                }
            }),
            &[],
            &[],
        ),
    );
}
