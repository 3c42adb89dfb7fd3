//! insta snapshots (in the top-level `snapshots/`) of every canonical success and error response,
//! named by rule ID, volatile fields redacted. A changed wire format fails here first.

use axum::body::Body;
use axum::http::Method;
use serde_json::json;

use crate::common::*;

/// Steps 5–8: every canonical success and error of §5.
#[tokio::test]
async fn canonical_responses_of_steps_5_to_8() {
    use crate::activation::{Pos, claimed, flags, unwrap_keys};
    let sim = TestSim::new();
    let mut idle = Pos::new(&sim, ACME_DEVICE_2).await;
    snapshot("ATT-34_attest_inactive_device", &idle.attest_at("2025-12-13T14:25:30Z").await);
    claimed(&sim, ACME_DEVICE).await;
    let mut pos = Pos::new(&sim, ACME_DEVICE).await;
    let full = pos.signed("2025-12-13T14:25:30Z", "snapshotnonce01");
    let without = |name: &str| full.iter().filter(|(k, _)| *k != name).cloned().collect::<Vec<_>>();
    let with = |name: &'static str, value: &str| {
        let mut h = without(name);
        h.push((name, value.to_owned()));
        h
    };
    for (rule, headers) in [
        ("ATT-22_attest_no_key_id", without("X-Key-Id")),
        ("ATT-23_attest_bad_key_id", with("X-Key-Id", "")),
        ("ATT-24_attest_no_timestamp", without("X-Timestamp")),
        ("ATT-25_attest_bad_timestamp", with("X-Timestamp", "yesterday")),
        ("ATT-26_attest_no_nonce", without("X-Nonce")),
        ("ATT-27_attest_bad_nonce", with("X-Nonce", "short")),
        ("ATT-28_attest_no_signature", without("X-Signature")),
        ("ATT-29_attest_bad_signature_format", with("X-Signature", "v2=abc")),
        ("ATT-30_attest_unknown_key", with("X-Key-Id", "idk-00000000")),
        ("ATT-33_attest_wrong_signature", with("X-Signature", "v1=SGVsbG8gV29ybGQ=")),
    ] {
        snapshot(rule, &pos.attest_with(&headers).await);
    }
    snapshot("ATT-31_attest_outside_window", &pos.attest_at("2025-12-13T14:20:29Z").await);
    snapshot("ATT-07_attest_200", &pos.attest_with(&full).await);
    snapshot("ATT-32_attest_nonce_reused", &pos.attest_with(&full).await);
    let unknown = Pos { id: UNKNOWN_DEVICE, ..Pos::new(&sim, ACME_DEVICE).await };
    snapshot("ATT-21_attest_unknown_device", &unknown.attest_with(&[]).await);

    let token = pos.token().await;
    let auth = format!("Attestation {token}");
    snapshot("ATT-38_keys_no_authorization", &sim.request(Method::POST, "/pos/keys", &[("X-Device-Id", ACME_DEVICE)], Body::empty()).await);
    snapshot("ATT-39_keys_no_device_id", &sim.request(Method::POST, "/pos/keys", &[("Authorization", &auth)], Body::empty()).await);
    snapshot(
        "ATT-40_keys_bad_device_id",
        &sim.request(Method::POST, "/pos/keys", &[("Authorization", &auth), ("X-Device-Id", "POS-XYZ")], Body::empty()).await,
    );
    snapshot(
        "ATT-41_keys_other_device",
        &sim.request(Method::POST, "/pos/keys", &[("Authorization", &auth), ("X-Device-Id", ACME_DEVICE_2)], Body::empty()).await,
    );
    snapshot("MSK-10_config_before_keys", &pos.call("/pos/config", &token, Body::empty()).await);
    let keys = pos.call("/pos/keys", &token, Body::empty()).await;
    snapshot("KEYS-02_keys_200", &keys);
    let msk = unwrap_keys(&keys.body, &pos.zmk)[2];
    snapshot("CFG-04_config_200", &pos.call("/pos/config", &token, Body::empty()).await);
    snapshot("TPAR-06_terminal_parameters_200", &pos.call("/pos/terminal-parameters", &token, Body::empty()).await);
    snapshot("MSK-09_activate_garbage", &pos.call("/pos/activate", &token, "garbage").await);
    let missing = viopay_sim::crypto::envelope::single(&msk, &[1; 16], br#"{"emv_ready":true}"#).to_string();
    snapshot("ACT-06_activate_missing_flag", &pos.call("/pos/activate", &token, missing).await);
    snapshot("ACT-07_activate_not_ready", &pos.call("/pos/activate", &token, flags(&msk, true, false, false)).await);
    snapshot("ACT-08_activate_200", &pos.call("/pos/activate", &token, flags(&msk, true, true, true)).await);
}

fn snapshot(name: &str, reply: &Reply) {
    let value = json!({ "status": reply.status, "body": reply.body });
    insta::with_settings!({
        snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_json_snapshot!(name, value, {
            ".body.error.trace_id" => "[trace_id]",
            ".body.pairing_code" => "[pairing_code]",
            ".body.error.details.pairing_code" => "[pairing_code]",
            ".body.server_time" => "[server_time]",
            ".body.access_token" => "[jwt]",
            ".body.keys[].n" => "[modulus]",
            ".body.keys[].kid" => "[kid]",
            // Steps 5-8: tokens, key blocks, ciphertexts, IVs and KCVs are random.
            ".body.attestation_token" => "[attestation_token]",
            ".body.ciphertext" => "[hex]",
            ".body.initialization_vector" => "[iv]",
            ".body.key_kcv" => "[kcv]",
            ".body.chunks" => "[chunks: ciphertext, initialization_vector, mode]",
            ".body.keys.tmk.key_block" => "[tr31]", ".body.keys.kek.key_block" => "[tr31]", ".body.keys.msk.key_block" => "[tr31]",
            ".body.keys.tpk.key_block" => "[tr31]", ".body.keys.tdk.key_block" => "[tr31]", ".body.keys.mac.key_block" => "[tr31]",
            ".body.keys.tmk.kcv" => "[kcv]", ".body.keys.kek.kcv" => "[kcv]", ".body.keys.msk.kcv" => "[kcv]",
            ".body.keys.tpk.kcv" => "[kcv]", ".body.keys.tdk.kcv" => "[kcv]", ".body.keys.mac.kcv" => "[kcv]",
        });
    });
}

#[tokio::test]
async fn canonical_responses() {
    let sim = TestSim::new();
    let pos_headers = |device: &'static str| vec![("X-Device-Id", device), ("User-Agent", UA), ("X-Client-Type", "pos")];

    snapshot("BOOT-02_bootstrap_200", &sim.bootstrap(ACME_DEVICE).await);
    snapshot("STAT-02_status_none", &sim.status(ACME_DEVICE).await);
    snapshot("PAIR-02_pairing_code_200", &sim.pair(ACME_DEVICE).await);
    snapshot("STAT-05_status_pending", &sim.status(ACME_DEVICE).await);
    let superseded = sim.device_state(ACME_DEVICE).await["codes"][0]["pairing_code"].as_str().unwrap_or_default().to_owned();
    let code = sim.code(ACME_DEVICE).await;

    let session = sim.json(Method::POST, "/client/session", &[], &json!({"client_id": "acme", "client_secret": "acme-secret"})).await;
    snapshot("AUTH-06_client_session_200", &session);
    let token = session.body["access_token"].as_str().unwrap_or_default().to_owned();
    let auth = format!("Bearer {token}");
    snapshot(
        "AUTH-09_session_initiate_200",
        &sim.json(Method::POST, "/session/initiate", &[("Authorization", &auth)], &json!({"host": "merchant.viopay.io"})).await,
    );
    snapshot("PAIR-05_claim_superseded", &sim.claim(&token, &json!({"pairing_code": superseded})).await);
    snapshot("CLAIM-14_claim_device_mismatch", &sim.claim(&token, &json!({"pairing_code": code, "device_id": ACME_DEVICE_2})).await);
    snapshot("CLAIM-20_claim_200", &sim.claim(&token, &json!({"pairing_code": code})).await);
    snapshot("STAT-08_status_claimed", &sim.status(ACME_DEVICE).await);
    snapshot("CLAIM-18_claim_used", &sim.claim(&token, &json!({"pairing_code": code})).await);
    snapshot("PAIR-11_pairing_code_claimed_device", &sim.pair(ACME_DEVICE).await);

    let globex_code = sim.code(GLOBEX_DEVICE).await;
    snapshot("CLAIM-16_claim_other_merchant", &sim.claim(&token, &json!({"pairing_code": globex_code})).await);
    snapshot("CLAIM-12_claim_unknown_code", &sim.claim(&token, &json!({"pairing_code": "ZZZZZZ"})).await);
    snapshot("CLAIM-06_claim_missing_code", &sim.claim(&token, &json!({})).await);
    snapshot("CLAIM-08_claim_code_not_a_string", &sim.claim(&token, &json!({"pairing_code": 42})).await);
    snapshot(
        "CLAIM-05_claim_wrong_content_type",
        &sim.request(Method::POST, "/pos/claim", &[("Authorization", &auth), ("Content-Type", "text/plain")], "{}").await,
    );
    snapshot("CLAIM-04_claim_no_token", &sim.json(Method::POST, "/pos/claim", &[], &json!({"pairing_code": code})).await);
    snapshot(
        "AUTH-13_session_initiate_bad_token",
        &sim.json(Method::POST, "/session/initiate", &[("Authorization", "Bearer x")], &json!({"host": "h"})).await,
    );
    snapshot(
        "AUTH-07_client_session_bad_secret",
        &sim.json(Method::POST, "/client/session", &[], &json!({"client_id": "acme", "client_secret": "no"})).await,
    );

    let expiring = sim.code(ACME_DEVICE_2).await;
    sim.advance(300).await;
    snapshot("STAT-07_status_expired", &sim.status(ACME_DEVICE_2).await);
    let token = sim.acme().await;
    snapshot("CLAIM-19_claim_expired", &sim.claim(&token, &json!({"pairing_code": expiring})).await);

    snapshot(
        "HDR-02_missing_device_id",
        &sim.request(Method::GET, "/pos/status", &[("User-Agent", UA), ("X-Client-Type", "pos")], "").await,
    );
    snapshot(
        "HDR-04_invalid_device_id",
        &sim.request(Method::GET, "/pos/status", &[("X-Device-Id", "POS-8f3a2c91"), ("User-Agent", UA), ("X-Client-Type", "pos")], "")
            .await,
    );
    snapshot(
        "HDR-07_bad_user_agent",
        &sim.request(Method::GET, "/pos/status", &[("X-Device-Id", ACME_DEVICE), ("User-Agent", "curl/8"), ("X-Client-Type", "pos")], "")
            .await,
    );
    snapshot(
        "HDR-10_bad_client_type",
        &sim.request(Method::GET, "/pos/status", &[("X-Device-Id", ACME_DEVICE), ("User-Agent", UA)], "").await,
    );
    snapshot("BOOT-07_bootstrap_unknown_device", &sim.bootstrap(UNKNOWN_DEVICE).await);
    snapshot("PAIR-10_pairing_code_unknown_device", &sim.pair(UNKNOWN_DEVICE).await);
    snapshot("STAT-12_status_unknown_device", &sim.status(UNKNOWN_DEVICE).await);
    sim.json(Method::POST, "/_sim/faults", &[], &json!({"endpoint": "/pos/pairing-code", "rule": "PAIR-08"})).await;
    snapshot("PAIR-08_pairing_code_failed", &sim.pair(GLOBEX_DEVICE).await);
    snapshot("ERR-09_route_not_found", &sim.request(Method::GET, "/pos/nothing", &[], "").await);
    snapshot("ERR-10_method_not_allowed", &sim.request(Method::POST, "/pos/status", &pos_headers(ACME_DEVICE), "").await);
    snapshot("ERR-11_body_too_large", &sim.request(Method::POST, "/pos/bootstrap", &pos_headers(ACME_DEVICE), vec![b'x'; 70_000]).await);
    snapshot("LIVE-02_health_200", &sim.request(Method::GET, "/health/live", &[], "").await);
    snapshot("AUTH-03_jwks_200", &sim.request(Method::GET, "/realms/viopay/protocol/openid-connect/certs", &[], "").await);
}
