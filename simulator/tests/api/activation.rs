//! Steps 5–8: attest, keys, config, terminal parameters and activate (§5), through the router,
//! with the device's secrets read from the control API as a firmware test would.

use axum::body::Body;
use axum::http::Method;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use std::io::Read;
use viopay_sim::crypto::envelope;
use viopay_sim::crypto::kcv::kcv;
use viopay_sim::crypto::signature::{sign, signing_string};
use viopay_sim::crypto::tr31;

use crate::common::*;

fn b64_key(v: &Value) -> [u8; 32] {
    STANDARD.decode(v.as_str().expect("base64")).expect("base64").try_into().expect("32 bytes")
}

/// A device walking the flow: its id, identity key and the last token.
pub struct Pos<'a> {
    pub sim: &'a TestSim,
    pub id: &'a str,
    pub key_id: String,
    pub secret: [u8; 32],
    pub zmk: [u8; 32],
    pub nonce: u32,
}

impl<'a> Pos<'a> {
    pub async fn new(sim: &'a TestSim, id: &'a str) -> Pos<'a> {
        let state = sim.device_state(id).await;
        let key = &state["identity_keys"][0];
        Pos {
            sim,
            id,
            key_id: key["key_id"].as_str().expect("key id").to_owned(),
            secret: b64_key(&key["secret"]),
            zmk: b64_key(&state["zmk"]),
            nonce: 0,
        }
    }

    fn nonce(&mut self) -> String {
        self.nonce += 1;
        format!("nonce{:08}abc", self.nonce)
    }

    /// The signature headers for an attest at `timestamp` with `nonce`.
    pub fn signed(&self, timestamp: &str, nonce: &str) -> Vec<(&'static str, String)> {
        let sig = sign(&self.secret, &signing_string(self.id, &self.key_id, timestamp, nonce));
        vec![("X-Key-Id", self.key_id.clone()), ("X-Timestamp", timestamp.to_owned()), ("X-Nonce", nonce.to_owned()), ("X-Signature", sig)]
    }

    pub async fn attest_with(&self, extra: &[(&'static str, String)]) -> Reply {
        let mut headers: Vec<(&str, &str)> = vec![("X-Device-Id", self.id), ("User-Agent", UA), ("X-Client-Type", "pos")];
        headers.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
        self.sim.request(Method::POST, "/pos/attest", &headers, Body::empty()).await
    }

    pub async fn attest_at(&mut self, timestamp: &str) -> Reply {
        let nonce = self.nonce();
        let headers = self.signed(timestamp, &nonce);
        self.attest_with(&headers).await
    }

    pub async fn token(&mut self) -> String {
        let now = self.sim.request(Method::GET, "/_sim/clock", &[], Body::empty()).await.body["now"].as_str().expect("now").to_owned();
        let r = self.attest_at(&now).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["attestation_token"].as_str().expect("token").to_owned()
    }

    pub async fn call(&self, path: &str, token: &str, body: impl Into<Body>) -> Reply {
        let auth = format!("Attestation {token}");
        self.sim.request(Method::POST, path, &[("Authorization", &auth), ("X-Device-Id", self.id)], body).await
    }
}

/// A device claimed by its merchant (steps 1–4).
pub async fn claimed(sim: &TestSim, id: &str) {
    let code = sim.code(id).await;
    let token = sim.acme().await;
    assert_eq!(sim.claim(&token, &json!({ "pairing_code": code })).await.status, 200);
}

/// A claimed device of the built-in merchant, attested: the state steps 6–8 start from.
pub async fn attested(sim: &TestSim) -> (Pos<'_>, String) {
    claimed(sim, ACME_DEVICE).await;
    let mut pos = Pos::new(sim, ACME_DEVICE).await;
    let token = pos.token().await;
    (pos, token)
}

pub fn unwrap_keys(body: &Value, zmk: &[u8; 32]) -> Vec<[u8; 32]> {
    let block = |name: &str| {
        String::from_utf8(STANDARD.decode(body["keys"][name]["key_block"].as_str().expect("block")).expect("b64")).expect("ascii")
    };
    let open = |kbpk: &[u8; 32], name: &str| -> [u8; 32] {
        let (_, key) = tr31::unwrap(kbpk, &block(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        key.try_into().expect("AES-256")
    };
    let tmk = open(zmk, "tmk");
    let kek = open(&tmk, "kek");
    let mut keys = vec![tmk, kek];
    keys.extend(["msk", "tpk", "tdk", "mac"].iter().map(|n| open(&kek, n)));
    keys
}

fn open_single(msk: &[u8; 32], e: &Value) -> Vec<u8> {
    let iv: [u8; 16] = hex::decode(e["initialization_vector"].as_str().expect("iv")).expect("hex").try_into().expect("16");
    envelope::decrypt(msk, &iv, &hex::decode(e["ciphertext"].as_str().expect("ct")).expect("hex")).expect("PKCS7")
}

pub fn flags(msk: &[u8; 32], e: bool, k: bool, n: bool) -> String {
    envelope::single(msk, &[9; 16], json!({ "emv_ready": e, "keys_installed": k, "network_ok": n }).to_string().as_bytes()).to_string()
}

/// FLOW-01, FLOW-03, DEV-03: steps 5–8 in order on a claimed device, which ends activated. ATT-01, ATT-02, ATT-06, ATT-07, ATT-08,
/// ATT-17; IDK-01 (one active key), IDK-02, IDK-03 (the Base64 secret's bytes are the HMAC key);
/// KEYS-01, KEYS-02, KEYS-03, KEYS-05, KEYS-06, KEYS-07, KEYS-08, KEYS-09, KEYS-10, KEYS-11,
/// KEYS-13; CFG-01, CFG-02, CFG-04, CFG-05, CFG-06, CFG-07; TPAR-01, TPAR-02, TPAR-03, TPAR-05,
/// TPAR-06, TPAR-07; ACT-01, ACT-02, ACT-03, ACT-08, ACT-09; MSK-01, MSK-02, MSK-03, MSK-05,
/// MSK-06, MSK-07.
#[tokio::test]
async fn flow_03_keys_11_cfg_05_tpar_02_act_08_a_claimed_device_walks_steps_5_to_8() {
    let sim = TestSim::new();
    claimed(&sim, ACME_DEVICE).await;
    let mut pos = Pos::new(&sim, ACME_DEVICE).await;
    assert_eq!(pos.key_id, "idk-8f3a2c91", "IDK-02");
    assert_eq!(sim.device_state(ACME_DEVICE).await["identity_keys"].as_array().map(Vec::len), Some(1), "IDK-01");

    // Step 5 (ATT-07, ATT-17).
    let r = pos.attest_at("2025-12-13T14:25:30Z").await;
    assert_eq!((r.status, &r.body["status"], &r.body["expires_in_sec"]), (200, &json!("attested"), &json!(300)), "{}", r.body);
    let token = r.body["attestation_token"].as_str().expect("token").to_owned();
    assert!(token.starts_with("att_") && token.len() == 28);

    // Step 6: every block unwraps under its parent, KCVs match (KEYS-03, KEYS-05…KEYS-11).
    let keys = pos.call("/pos/keys", &token, Body::empty()).await;
    assert_eq!(keys.status, 200, "{}", keys.body);
    assert_eq!(keys.body["transport"], json!({ "format": "TR31", "encryption": "AES-256", "wrapped_under": "kek" }));
    assert_eq!(keys.body["key_set"]["key_set_id"], "ks-2025-01");
    assert_eq!(keys.body["key_set"]["issued_at"], "2025-12-13T14:25:30Z");
    assert_eq!(keys.body["key_set"]["expires_at"], "2026-12-13T14:25:30Z");
    let clear = unwrap_keys(&keys.body, &pos.zmk);
    for (name, key) in ["tmk", "kek", "msk", "tpk", "tdk", "mac"].iter().zip(&clear) {
        assert_eq!(keys.body["keys"][name]["kcv"], kcv(key).as_str(), "KEYS-07 {name}");
        assert_eq!(keys.body["keys"][name]["key_id"], format!("{name}-2025-01"), "KEYS-13");
        let block =
            String::from_utf8(STANDARD.decode(keys.body["keys"][name]["key_block"].as_str().expect("b64")).expect("b64")).expect("ascii");
        assert_eq!(block.len(), 144, "KEYS-10");
        assert!(block.starts_with("D0144") && &block[7..8] == "A", "KEYS-08: version D, AES: {block}");
    }
    assert_eq!(
        ["tmk", "kek", "msk", "tpk", "tdk", "mac"].map(|n| keys.body["keys"][n]["usage"].as_str().unwrap_or_default().to_owned()),
        ["key-encryption", "key-encryption", "data-encryption", "pin-encryption", "data-encryption", "mac"].map(String::from),
        "KEYS-06"
    );
    let msk = clear[2];

    // Step 7a: config under the MSK (CFG-04, CFG-05, CFG-06, CFG-07 defaults, MSK-05…MSK-07).
    let cfg = pos.call("/pos/config", &token, Body::empty()).await;
    assert_eq!((cfg.status, &cfg.body["format"], &cfg.body["key_kcv"]), (200, &json!("TR31-DATA"), &json!(kcv(&msk))), "{}", cfg.body);
    assert!(cfg.body.get("content_encoding").is_none(), "CFG-04");
    let doc: Value = serde_json::from_slice(&open_single(&msk, &cfg.body)).expect("JSON");
    assert_schema("config-plaintext.json", &doc);
    let mut members: Vec<&str> = doc.as_object().expect("object").keys().map(String::as_str).collect();
    members.sort_unstable();
    assert_eq!(
        members,
        ["branding", "device_id", "emv", "intervals", "location", "merchant", "security", "terminal_id"],
        "CFG-05, exactly"
    );
    assert!(doc["terminal_id"].as_str().is_some_and(|t| t.starts_with("TERM-") && t.len() >= 11), "{doc}");
    assert_eq!(doc["merchant"]["merchant_key"], "mk-550e8400-e29b-41d4-a716-446655440000");
    assert_eq!(doc["emv"]["aids"][0], json!({ "aid": "A0000000031010", "label": "VISA CREDIT" }));
    assert_eq!(doc["intervals"], json!({ "heartbeat_sec": 60, "update_check_sec": 3600 }));

    // Step 7b: chunked, gzipped terminal parameters (TPAR-02, TPAR-05…TPAR-07, MSK-03).
    let tp = pos.call("/pos/terminal-parameters", &token, Body::empty()).await;
    assert_eq!(
        (tp.status, &tp.body["format"], &tp.body["content_encoding"]),
        (200, &json!("TR31-DATA-CHUNKED"), &json!("gzip")),
        "{}",
        tp.body
    );
    let chunks = tp.body["chunks"].as_array().expect("chunks");
    assert!(chunks.len() >= 2, "TPAR-07");
    let ivs: std::collections::HashSet<&str> = chunks.iter().filter_map(|c| c["initialization_vector"].as_str()).collect();
    assert_eq!(ivs.len(), chunks.len(), "MSK-06: an IV per chunk");
    let gz: Vec<u8> = chunks.iter().flat_map(|c| open_single(&msk, c)).collect();
    let mut text = String::new();
    flate2::read::GzDecoder::new(gz.as_slice()).read_to_string(&mut text).expect("gzip");
    let params: Value = serde_json::from_str(&text).expect("JSON");
    assert_schema("terminal-parameters-plaintext.json", &params);
    for member in ["emv_kernel", "acquirers", "ca_public_keys", "contact", "contactless"] {
        assert!(params.get(member).is_some(), "TPAR-05: {member}");
    }

    // Step 8 (ACT-08, ACT-03, ACT-09).
    let act = pos.call("/pos/activate", &token, flags(&msk, true, true, true)).await;
    assert_eq!(act.status, 200, "{}", act.body);
    let plain = String::from_utf8(open_single(&msk, &act.body)).expect("utf-8");
    assert_schema("activate-response-plaintext.json", &serde_json::from_str(&plain).expect("JSON"));
    assert_schema("activate-request-plaintext.json", &json!({ "emv_ready": true, "keys_installed": true, "network_ok": true }));
    assert_eq!(plain, r#"{"status":"activated","activated_at":"2025-12-13T14:25:30Z"}"#);
    assert_eq!(sim.status_triple(ACME_DEVICE).await, ("activated".into(), true, "used".into()));
    sim.advance(60).await;
    let again = pos.call("/pos/activate", &token, flags(&msk, true, true, true)).await;
    assert_eq!(String::from_utf8(open_single(&msk, &again.body)).expect("utf-8"), plain, "ACT-09: the original time");
    assert_eq!(sim.device_state(ACME_DEVICE).await["activated_at"], "2025-12-13T14:25:30Z");
}

/// ATT-02, ATT-05 (nonce format), ATT-14, ATT-21…ATT-29.
#[tokio::test]
async fn att_21_to_att_29_header_checks_in_att_14_order() {
    let sim = TestSim::new();
    claimed(&sim, ACME_DEVICE).await;
    let pos = Pos::new(&sim, ACME_DEVICE).await;
    let full = pos.signed("2025-12-13T14:25:30Z", "nonce0000000001");
    let without = |name: &str| full.iter().filter(|(k, _)| *k != name).cloned().collect::<Vec<_>>();
    let with = |name: &'static str, value: &str| {
        let mut h = without(name);
        h.push((name, value.to_owned()));
        h
    };
    pos.attest_with(&without("X-Key-Id")).await.assert_error(400, "4000", "X-Key-Id header is required");
    pos.attest_with(&with("X-Key-Id", "")).await.assert_error(400, "4000", "X-Key-Id header is invalid");
    pos.attest_with(&with("X-Key-Id", "has space")).await.assert_error(400, "4000", "X-Key-Id header is invalid");
    pos.attest_with(&without("X-Timestamp")).await.assert_error(400, "4000", "X-Timestamp header is required");
    pos.attest_with(&with("X-Timestamp", "13/12/2025 14:25")).await.assert_error(400, "4000", "X-Timestamp header is invalid");
    pos.attest_with(&without("X-Nonce")).await.assert_error(400, "4000", "X-Nonce header is required");
    pos.attest_with(&with("X-Nonce", "short")).await.assert_error(400, "4000", "X-Nonce header is invalid");
    pos.attest_with(&with("X-Nonce", "has-a-dash-0001")).await.assert_error(400, "4000", "X-Nonce header is invalid");
    pos.attest_with(&without("X-Signature")).await.assert_error(400, "4000", "X-Signature header is required");
    pos.attest_with(&with("X-Signature", "v2=AAAA")).await.assert_error(400, "4000", "X-Signature header is invalid");
    pos.attest_with(&with("X-Signature", "v1=SGVsbG8gV29ybGQ=")).await.assert_error(401, "4010", "Invalid signature");
    // ATT-14: the POS headers and the device lookup come first.
    let unknown = Pos { id: UNKNOWN_DEVICE, ..Pos::new(&sim, ACME_DEVICE).await };
    let r = unknown.attest_with(&[]).await;
    r.assert_error(404, "4004", "Device not found");
    assert_eq!(r.details(), &json!({ "device_id": UNKNOWN_DEVICE }), "ATT-21");
    let r = sim.request(Method::POST, "/pos/attest", &[("X-Device-Id", ACME_DEVICE), ("User-Agent", "curl/8")], Body::empty()).await;
    r.assert_error(400, "4000", "User-Agent header must start with Viopay-POS/");
}

/// ATT-03 (an active key of the device), ATT-04, ATT-05 (fresh nonces), ATT-15, ATT-16, ATT-19,
/// ATT-30…ATT-34, IDK-06.
#[tokio::test]
async fn att_30_to_att_34_refusals_and_the_nonce_memory() {
    let sim = TestSim::new();
    claimed(&sim, ACME_DEVICE).await;
    let mut pos = Pos::new(&sim, ACME_DEVICE).await;
    let other_key = Pos { key_id: "idk-00000000".into(), ..Pos::new(&sim, ACME_DEVICE).await };
    other_key.attest_with(&other_key.signed("2025-12-13T14:25:30Z", "nonce0000000001")).await.assert_error(
        401,
        "4010",
        "Invalid device key",
    );

    // ATT-15, ATT-31: −300 s and +60 s are inside, one second more is not.
    assert_eq!(pos.attest_at("2025-12-13T14:20:30Z").await.status, 200);
    assert_eq!(pos.attest_at("2025-12-13T14:26:30Z").await.status, 200);
    assert_eq!(pos.attest_at("2025-12-13T15:25:30+01:00").await.status, 200, "a numeric offset is an instant like any other");
    let late = pos.attest_at("2025-12-13T14:26:31Z").await;
    late.assert_error(401, "4010", "Timestamp outside the accepted window");
    assert_eq!(late.details(), &json!({ "server_time": "2025-12-13T14:25:30Z" }));
    pos.attest_at("2025-12-13T14:20:29Z").await.assert_error(401, "4010", "Timestamp outside the accepted window");

    // ATT-32, ATT-16: a nonce is refused up to 360 s after, then accepted again.
    let replay = pos.signed("2025-12-13T14:25:30Z", "replayednonce01");
    assert_eq!(pos.attest_with(&replay).await.status, 200);
    pos.attest_with(&replay).await.assert_error(401, "4010", "Nonce already used");
    sim.advance(360).await;
    let at_360 = pos.signed("2025-12-13T14:31:30Z", "replayednonce01");
    pos.attest_with(&at_360).await.assert_error(401, "4010", "Nonce already used");
    sim.advance(1).await;
    let after = pos.signed("2025-12-13T14:31:31Z", "replayednonce01");
    assert_eq!(pos.attest_with(&after).await.status, 200, "forgotten after 360 s");

    // ATT-33: the trailing-newline signature of §5.2.3.
    let mut bad = pos.signed("2025-12-13T14:31:31Z", "nonce0000009999");
    let sig = sign(&pos.secret, &format!("{}\n", signing_string(ACME_DEVICE, &pos.key_id, "2025-12-13T14:31:31Z", "nonce0000009999")));
    bad.retain(|(k, _)| *k != "X-Signature");
    bad.push(("X-Signature", sig));
    pos.attest_with(&bad).await.assert_error(401, "4010", "Invalid signature");

    // IDK-06, ATT-30: a revoked key; a new key works, and ATT-19 older tokens stay valid.
    let token = pos.token().await;
    let added = sim
        .json(Method::POST, &format!("/_sim/devices/{ACME_DEVICE}/identity-keys"), &[], &json!({ "key_id": "device-id-key-2025-01" }))
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    let revoked = sim.request(Method::DELETE, &format!("/_sim/devices/{ACME_DEVICE}/identity-keys/idk-8f3a2c91"), &[], Body::empty()).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    pos.attest_at("2025-12-13T14:31:31Z").await.assert_error(401, "4010", "Invalid device key");
    let mut new_key =
        Pos { key_id: "device-id-key-2025-01".into(), secret: b64_key(&added.body["secret"]), ..Pos::new(&sim, ACME_DEVICE).await };
    assert_eq!(new_key.attest_at("2025-12-13T14:31:31Z").await.status, 200);
    assert_eq!(pos.call("/pos/keys", &token, Body::empty()).await.status, 200, "ATT-19: a revoked key does not end its tokens");

    // ATT-34: an inactive device, nothing changes.
    let mut idle = Pos::new(&sim, ACME_DEVICE_2).await;
    let r = idle.attest_at("2025-12-13T14:31:31Z").await;
    r.assert_error(400, "4220", "Device is not claimed");
    assert_eq!(r.details(), &json!({ "device_id": ACME_DEVICE_2 }));
    assert_eq!(sim.status_triple(ACME_DEVICE_2).await, ("inactive".into(), false, "none".into()));
}

/// ATT-08 and TIME-05 (5 minutes, bound to the device), ATT-18, ATT-35, ATT-36, ATT-38…ATT-41, KEYS-01.
#[tokio::test]
async fn att_35_to_att_41_attestation_auth() {
    let sim = TestSim::new();
    let (_pos, token) = attested(&sim).await;
    let keys = |headers: Vec<(&'static str, String)>| {
        let sim = &sim;
        async move {
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            sim.request(Method::POST, "/pos/keys", &h, Body::empty()).await
        }
    };
    let dev = ("X-Device-Id", ACME_DEVICE.to_owned());
    keys(vec![dev.clone()]).await.assert_error(401, "4010", "Unauthorized");
    keys(vec![("Authorization", format!("Bearer {token}")), dev.clone()]).await.assert_error(401, "4010", "Unauthorized");
    keys(vec![("Authorization", "Attestation ".into()), dev.clone()]).await.assert_error(401, "4010", "Unauthorized");
    keys(vec![("Authorization", "Attestation att_neverissued000000000000".into()), dev.clone()]).await.assert_error(
        401,
        "4010",
        "Unauthorized",
    );
    assert_eq!(keys(vec![("Authorization", format!("aTTESTATION {token}")), dev.clone()]).await.status, 200, "ATT-36");
    let auth = ("Authorization", format!("Attestation {token}"));
    keys(vec![auth.clone()]).await.assert_error(400, "4000", "X-Device-Id header is required");
    keys(vec![auth.clone(), ("X-Device-Id", "pos-8f3a2c91".into())]).await.assert_error(400, "4000", "X-Device-Id header is invalid");
    let other = keys(vec![auth.clone(), ("X-Device-Id", ACME_DEVICE_2.into())]).await;
    other.assert_error(403, "4003", "Attestation token does not belong to this device");
    assert_eq!(other.details(), &json!({ "device_id": ACME_DEVICE_2 }));
    keys(vec![auth.clone(), ("X-Device-Id", UNKNOWN_DEVICE.into())]).await.assert_error(
        403,
        "4003",
        "Attestation token does not belong to this device",
    );
    // ATT-18: expired from 300 s.
    sim.advance(299).await;
    assert_eq!(keys(vec![auth.clone(), dev.clone()]).await.status, 200);
    sim.advance(1).await;
    keys(vec![auth, dev]).await.assert_error(401, "4010", "Unauthorized");
}

#[tokio::test]
async fn msk_10_keys_12_keys_14_config_needs_keys_and_a_rotation_starts_over() {
    let sim = TestSim::new();
    let (mut pos, token) = attested(&sim).await;
    for path in ["/pos/config", "/pos/terminal-parameters", "/pos/activate"] {
        pos.call(path, &token, Body::empty()).await.assert_error(400, "4220", "Keys have not been issued");
    }
    let first = pos.call("/pos/keys", &token, Body::empty()).await;
    let second_token = pos.token().await;
    let second = pos.call("/pos/keys", &second_token, "ignored body").await;
    assert_eq!(second.body["key_set"], first.body["key_set"], "KEYS-12");
    assert_eq!(unwrap_keys(&second.body, &pos.zmk), unwrap_keys(&first.body, &pos.zmk));
    assert_ne!(second.body["keys"]["msk"]["key_block"], first.body["keys"]["msk"]["key_block"], "random padding");
    let rotated = sim.request(Method::POST, &format!("/_sim/devices/{ACME_DEVICE}/key-set/rotate"), &[], Body::empty()).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    pos.call("/pos/config", &token, Body::empty()).await.assert_error(400, "4220", "Keys have not been issued");
    let third = pos.call("/pos/keys", &token, Body::empty()).await;
    assert_eq!(third.body["key_set"]["key_set_id"], "ks-2025-02", "KEYS-14");
    assert_ne!(unwrap_keys(&third.body, &pos.zmk)[2], unwrap_keys(&first.body, &pos.zmk)[2]);
}

/// ACT-05 (a single envelope, three booleans), ACT-06, ACT-07, MSK-05, MSK-08, MSK-09.
#[tokio::test]
async fn msk_09_act_06_act_07_bad_envelopes_and_false_flags_change_nothing() {
    let sim = TestSim::new();
    let (pos, token) = attested(&sim).await;
    let keys = pos.call("/pos/keys", &token, Body::empty()).await;
    let msk = unwrap_keys(&keys.body, &pos.zmk)[2];
    let invalid = |r: Reply| {
        r.assert_error(400, "4000", "Invalid envelope");
        assert!(r.details()["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.body);
    };
    invalid(pos.call("/pos/activate", &token, "not json").await);
    invalid(pos.call("/pos/activate", &token, flags(&[7; 32], true, true, true)).await);
    let mut wrong_kcv: Value = serde_json::from_str(&flags(&msk, true, true, true)).expect("json");
    wrong_kcv["key_kcv"] = json!("000000");
    invalid(pos.call("/pos/activate", &token, wrong_kcv.to_string()).await);
    let chunked = envelope::chunked(&msk, b"{}", 16, || [1; 16]);
    let mut as_chunked = chunked.clone();
    as_chunked["format"] = json!("TR31-DATA-CHUNKED");
    invalid(pos.call("/pos/activate", &token, as_chunked.to_string()).await);
    let missing = envelope::single(&msk, &[3; 16], br#"{"emv_ready":true,"keys_installed":true}"#).to_string();
    invalid(pos.call("/pos/activate", &token, missing).await);
    let r = pos.call("/pos/activate", &token, flags(&msk, false, true, false)).await;
    r.assert_error(400, "4220", "Device is not ready for activation");
    assert_eq!(r.details(), &json!({ "not_ready": ["emv_ready", "network_ok"] }), "ACT-07");
    assert_eq!(sim.status_triple(ACME_DEVICE).await, ("claimed".into(), true, "used".into()), "nothing changed");
    let mut lower: Value = serde_json::from_str(&flags(&msk, true, true, true)).expect("json");
    for k in ["ciphertext", "initialization_vector", "key_kcv"] {
        lower[k] = json!(lower[k].as_str().unwrap_or_default().to_lowercase());
    }
    assert_eq!(pos.call("/pos/activate", &token, lower.to_string()).await.status, 200, "MSK-05: any hex case in requests");
}

#[tokio::test]
async fn a_reset_device_runs_activation_again() {
    let sim = TestSim::new();
    let (mut pos, token) = attested(&sim).await;
    assert_eq!(pos.call("/pos/keys", &token, Body::empty()).await.status, 200);
    let r = sim.request(Method::POST, &format!("/_sim/devices/{ACME_DEVICE}/reset"), &[], Body::empty()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(sim.status_triple(ACME_DEVICE).await, ("inactive".into(), false, "none".into()));
    pos.call("/pos/keys", &token, Body::empty()).await.assert_error(401, "4010", "Unauthorized");
    let state = sim.device_state(ACME_DEVICE).await;
    assert_eq!((&state["key_set"], &state["attestation_tokens"]), (&Value::Null, &json!([])));
    claimed(&sim, ACME_DEVICE).await;
    assert_eq!(pos.attest_at("2025-12-13T14:25:30Z").await.status, 200);
}

#[tokio::test]
async fn att_13_att_20_attest_ignores_a_body_and_changes_nothing() {
    let sim = TestSim::new();
    claimed(&sim, ACME_DEVICE).await;
    let before = sim.device_state(ACME_DEVICE).await;
    let pos = Pos::new(&sim, ACME_DEVICE).await;
    let mut headers: Vec<(&str, String)> = pos.signed("2025-12-13T14:25:30Z", "bodynonce000001").into_iter().collect();
    headers.extend([("X-Device-Id", ACME_DEVICE.to_owned()), ("User-Agent", UA.to_owned()), ("X-Client-Type", "pos".to_owned())]);
    headers.push(("Content-Type", "text/plain".to_owned()));
    let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = sim.request(Method::POST, "/pos/attest", &h, "an ignored body, not signed").await;
    assert_eq!(r.status, 200, "ATT-13: {}", r.body);
    let after = sim.device_state(ACME_DEVICE).await;
    for field in ["device_status", "is_claimed", "pairing_code_status", "codes", "key_set", "activated_at"] {
        assert_eq!(after[field], before[field], "ATT-20: {field} unchanged");
    }
}

#[tokio::test]
async fn att_37_act_10_the_check_orders() {
    let sim = TestSim::new();
    let (pos, token) = attested(&sim).await;
    // ATT-37: Authorization before X-Device-Id before the token's device.
    sim.request(Method::POST, "/pos/keys", &[], Body::empty()).await.assert_error(401, "4010", "Unauthorized");
    let auth = format!("Attestation {token}");
    sim.request(Method::POST, "/pos/keys", &[("Authorization", &auth)], Body::empty()).await.assert_error(
        400,
        "4000",
        "X-Device-Id header is required",
    );
    // ACT-10: key set (MSK-10) before the envelope (MSK-09); flags present (ACT-06) before true (ACT-07).
    pos.call("/pos/activate", &token, "garbage").await.assert_error(400, "4220", "Keys have not been issued");
    let keys = pos.call("/pos/keys", &token, Body::empty()).await;
    let msk = unwrap_keys(&keys.body, &pos.zmk)[2];
    let partial = envelope::single(&msk, &[5; 16], br#"{"emv_ready":false}"#).to_string();
    pos.call("/pos/activate", &token, partial).await.assert_error(400, "4000", "Invalid envelope");
}

#[tokio::test]
async fn tpar_08_cfg_01_keys_15_bodies_are_ignored_and_parameters_need_no_prior_config() {
    let sim = TestSim::new();
    let (pos, token) = attested(&sim).await;
    assert_eq!(pos.call("/pos/keys", &token, "{\"ignored\": true}").await.status, 200, "KEYS-15");
    assert_eq!(pos.call("/pos/terminal-parameters", &token, "ignored").await.status, 200, "TPAR-08: no config call before");
    assert_eq!(pos.call("/pos/config", &token, "[1, 2, 3]").await.status, 200, "CFG-01, CFG-04: a body is ignored");
}
