//! `POST /pos/claim` (CLAIM-*).

use std::sync::Arc;

use axum::http::Method;
use serde_json::{Value, json};

use crate::common::*;

const CLAIM_06: &str = "Key: 'ClaimDeviceRequest.PairingCode' Error:Field validation for 'PairingCode' failed on the 'required' tag";

#[tokio::test]
async fn claim_01_claim_20_documented_claim_binds_the_device() {
    let sim = TestSim::new();
    let code = sim.code(ACME_DEVICE).await;
    let token = sim.acme().await;
    let r = sim.claim(&token, &json!({"pairing_code": code})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"status": "claimed", "device_id": ACME_DEVICE}));
    let state = sim.device_state(ACME_DEVICE).await;
    assert_eq!(state["device_status"], "claimed");
    assert_eq!(state["claimed_by"], "550e8400-e29b-41d4-a716-446655440000");
    assert_eq!(state["codes"][0]["state"], "used");
}

#[tokio::test]
async fn claim_05_to_claim_08_body_validation() {
    let sim = TestSim::new();
    let token = sim.acme().await;
    let auth = format!("Bearer {token}");
    let send = |ct: Option<&'static str>, body: &'static str| {
        let auth = auth.clone();
        let sim = &sim;
        async move {
            let mut headers = vec![("Authorization", auth.as_str())];
            if let Some(ct) = ct {
                headers.push(("Content-Type", ct));
            }
            sim.request(Method::POST, "/pos/claim", &headers, body).await
        }
    };
    let json_ct = Some("application/json");
    // CLAIM-06/CLAIM-07: missing, empty and null give the documented validator message.
    for body in [r#"{}"#, r#"{"pairing_code":""}"#, r#"{"pairing_code":null}"#, r#"{"device_id":"POS-8F3A2C91"}"#] {
        let r = send(json_ct, body).await;
        r.assert_error(400, "4000", "Invalid request body");
        assert_eq!(r.details(), &json!({"message": CLAIM_06}), "{body}");
    }
    // CLAIM-05/CLAIM-08: other body faults, with a free-text details.message.
    let cases: [(Option<&'static str>, &'static str); 10] = [
        (None, r#"{"pairing_code":"K7M3NP"}"#),
        (Some("text/plain"), r#"{"pairing_code":"K7M3NP"}"#),
        (Some("application/x-www-form-urlencoded"), "pairing_code=K7M3NP"),
        (json_ct, r#"{"pairing_code":"#),
        (json_ct, ""),
        (json_ct, r#"["K7M3NP"]"#),
        (json_ct, r#""K7M3NP""#),
        (json_ct, r#"{"pairing_code":123456}"#),
        (json_ct, r#"{"pairing_code":true}"#),
        (json_ct, r#"{"pairing_code":{"v":"K7M3NP"}}"#),
    ];
    for (ct, body) in cases {
        let r = send(ct, body).await;
        r.assert_error(400, "4000", "Invalid request body");
        let message = r.details()["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty() && message != CLAIM_06, "{ct:?} {body}: {message}");
    }
}

#[tokio::test]
async fn claim_09_claim_10_claim_11_media_type_parameters_unknown_fields_and_normalisation() {
    let sim = TestSim::new();
    let code = sim.code(ACME_DEVICE).await;
    let token = sim.acme().await;
    let body = json!({"pairing_code": format!("  {}\t", code.to_lowercase()), "note": "typed by hand", "n": 1});
    let auth = format!("Bearer {token}");
    let r = sim
        .request(
            Method::POST,
            "/pos/claim",
            &[("Authorization", &auth), ("Content-Type", "application/json; charset=utf-8")],
            body.to_string(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn claim_12_claim_13_unknown_or_malformed_codes_are_not_found() {
    let sim = TestSim::new();
    sim.code(ACME_DEVICE).await;
    let token = sim.acme().await;
    for code in ["ZZZZZZ", "K7M3N0", "TOOLONGCODE", "12", "!!!!!!"] {
        let r = sim.claim(&token, &json!({"pairing_code": code})).await;
        r.assert_error(400, "4004", "Pairing code not found");
        assert_eq!(r.details(), &json!({"pairing_code": code}));
    }
}

#[tokio::test]
async fn claim_14_device_id_mismatch_is_not_found_and_a_match_succeeds() {
    let sim = TestSim::new();
    let code = sim.code(ACME_DEVICE).await;
    let token = sim.acme().await;
    let r = sim.claim(&token, &json!({"pairing_code": code, "device_id": ACME_DEVICE_2})).await;
    r.assert_error(400, "4004", "Pairing code not found");
    assert_eq!(r.details(), &json!({"pairing_code": code}));
    assert_eq!(sim.claim(&token, &json!({"pairing_code": code, "device_id": ACME_DEVICE})).await.status, 200);
}

#[tokio::test]
async fn claim_16_claim_02_other_merchants_device_is_403_whatever_the_body_says() {
    let sim = TestSim::new();
    let code = sim.code(GLOBEX_DEVICE).await;
    let token = sim.acme().await;
    let r = sim.claim(&token, &json!({"pairing_code": code, "merchant_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7"})).await;
    r.assert_error(403, "4003", "Device does not belong to your merchant account");
    assert_eq!(r.details(), &json!({"device_id": GLOBEX_DEVICE}));
}

#[tokio::test]
async fn claim_15_ownership_before_used_before_expired() {
    let sim = TestSim::new();
    let code = sim.code(ACME_DEVICE).await;
    let acme = sim.acme().await;
    assert_eq!(sim.claim(&acme, &json!({"pairing_code": code})).await.status, 200);
    // Past 300 s the used code is also "old"; tokens are fetched anew because they expire too.
    sim.advance(301).await;
    let globex = sim.globex().await;
    sim.claim(&globex, &json!({"pairing_code": code})).await.assert_error(403, "4003", "Device does not belong to your merchant account");
    let acme = sim.acme().await;
    sim.claim(&acme, &json!({"pairing_code": code})).await.assert_error(400, "4220", "Pairing code has already been used");
}

#[tokio::test]
async fn claim_17_refused_claims_change_nothing() {
    let sim = TestSim::new();
    let code = sim.code(ACME_DEVICE).await;
    let (acme, globex) = (sim.acme().await, sim.globex().await);
    let before = sim.device_state(ACME_DEVICE).await;
    let refusals: Vec<(String, Value)> = vec![
        (globex.clone(), json!({"pairing_code": code})),
        (acme.clone(), json!({"pairing_code": code, "device_id": ACME_DEVICE_2})),
        (acme.clone(), json!({"pairing_code": 5})),
        (acme.clone(), json!({})),
        ("garbage".into(), json!({"pairing_code": code})),
    ];
    for (token, body) in refusals {
        let r = sim.claim(&token, &body).await;
        assert!(r.status >= 400, "{body} should be refused");
        assert_eq!(sim.device_state(ACME_DEVICE).await, before, "after refused {body}");
    }
    assert_eq!(sim.claim(&acme, &json!({"pairing_code": code})).await.status, 200, "the pending code stays claimable by its owner");
}

#[tokio::test]
async fn claim_18_used_code_is_4220() {
    let sim = TestSim::new();
    let code = sim.code(ACME_DEVICE).await;
    let token = sim.acme().await;
    assert_eq!(sim.claim(&token, &json!({"pairing_code": code})).await.status, 200);
    let r = sim.claim(&token, &json!({"pairing_code": code})).await;
    r.assert_error(400, "4220", "Pairing code has already been used");
    assert_eq!(r.details(), &json!({"pairing_code": code}));
}

#[tokio::test]
async fn claim_19_code_03_expired_at_301_s_claimable_at_299_s() {
    let sim = TestSim::new();
    let code = sim.code(ACME_DEVICE).await;
    sim.advance(301).await;
    let token = sim.acme().await;
    let r = sim.claim(&token, &json!({"pairing_code": code})).await;
    r.assert_error(400, "4220", "Pairing code has expired");
    assert_eq!(r.details(), &json!({"pairing_code": code}));
    assert_eq!(sim.status_triple(ACME_DEVICE).await, ("inactive".into(), false, "expired".into()), "CLAIM-17");

    let code = sim.code(ACME_DEVICE).await;
    sim.advance(299).await;
    let token = sim.acme().await;
    assert_eq!(sim.claim(&token, &json!({"pairing_code": code})).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_21_of_64_concurrent_claims_exactly_one_wins() {
    let sim = Arc::new(TestSim::new());
    let code = sim.code(ACME_DEVICE).await;
    let token = sim.acme().await;
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (sim, token, code) = (sim.clone(), token.clone(), code.clone());
            tokio::spawn(async move { sim.claim(&token, &json!({"pairing_code": code})).await })
        })
        .collect();
    let mut replies = Vec::new();
    for t in tasks {
        replies.push(t.await.expect("task"));
    }
    assert_eq!(replies.iter().filter(|r| r.status == 200).count(), 1);
    for r in replies.iter().filter(|r| r.status != 200) {
        r.assert_error(400, "4220", "Pairing code has already been used");
    }
}
