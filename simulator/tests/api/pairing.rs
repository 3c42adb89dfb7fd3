//! `POST /pos/pairing-code` (PAIR-*, CODE-01, CODE-04, CODE-06).

use std::collections::HashSet;

use axum::http::Method;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn pair_01_pair_02_pair_03_documented_request_gets_a_code_of_the_alphabet() {
    let sim = TestSim::new();
    let r = sim.pair(ACME_DEVICE).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["expires_in_sec"], json!(300));
    assert!(r.body["expires_in_sec"].is_i64());
    let mut seen = HashSet::new();
    for _ in 0..300 {
        let code = sim.code(ACME_DEVICE).await;
        assert_eq!(code.len(), 6);
        assert!(code.bytes().all(|b| b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789".contains(&b)), "{code}");
        seen.extend(code.bytes());
    }
    assert!(!seen.iter().any(|b| b"0O1I".contains(b)));
    assert!(seen.len() > 25, "codes should use the whole alphabet, saw {} symbols", seen.len());
}

#[tokio::test]
async fn pair_04_pair_05_code_04_new_code_supersedes_the_pending_one() {
    let sim = TestSim::new();
    let old = sim.code(ACME_DEVICE).await;
    let new = sim.code(ACME_DEVICE).await;
    assert_ne!(old, new);
    let token = sim.acme().await;
    let r = sim.claim(&token, &json!({"pairing_code": old})).await;
    r.assert_error(400, "4004", "Pairing code not found");
    assert_eq!(r.details(), &json!({"pairing_code": old}));
    // STAT-10: status describes the new code; the new one is claimable.
    assert_eq!(sim.status_triple(ACME_DEVICE).await, ("inactive".into(), false, "pending".into()));
    assert_eq!(sim.claim(&token, &json!({"pairing_code": new})).await.status, 200);
    let codes = sim.device_state(ACME_DEVICE).await["codes"].clone();
    assert_eq!(codes[0]["state"], "superseded");
    assert_eq!(codes[1]["state"], "used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pair_04_concurrent_requests_leave_exactly_one_pending_code() {
    let sim = std::sync::Arc::new(TestSim::new());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let sim = sim.clone();
            tokio::spawn(async move { sim.code(ACME_DEVICE).await })
        })
        .collect();
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.expect("task"));
    }
    let state = sim.device_state(ACME_DEVICE).await;
    let pending: Vec<_> = state["codes"].as_array().into_iter().flatten().filter(|c| c["state"] == "pending").collect();
    assert_eq!(pending.len(), 1, "{state}");
    let token = sim.acme().await;
    let mut wins = 0;
    for code in &codes {
        if sim.claim(&token, &json!({"pairing_code": code})).await.status == 200 {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
}

#[tokio::test]
async fn pair_06_code_06_after_expiry_a_request_issues_a_new_pending_code() {
    let sim = TestSim::new();
    assert_eq!(sim.status_triple(ACME_DEVICE).await.2, "none");
    let first = sim.code(ACME_DEVICE).await;
    sim.advance(300).await;
    assert_eq!(sim.status_triple(ACME_DEVICE).await.2, "expired");
    let second = sim.code(ACME_DEVICE).await;
    assert_eq!(sim.status_triple(ACME_DEVICE).await.2, "pending");
    let token = sim.acme().await;
    // CODE-06: the expired code stays expired (not superseded) when a new one is issued.
    sim.claim(&token, &json!({"pairing_code": first})).await.assert_error(400, "4220", "Pairing code has expired");
    assert_eq!(sim.claim(&token, &json!({"pairing_code": second})).await.status, 200);
}

#[tokio::test]
async fn pair_07_live_codes_are_unique_across_devices() {
    let mut c = config();
    c.fixtures = viopay_sim::Fixtures::parse(
        "[[merchants]]\nid = \"m\"\nname = \"M\"\nclient_id = \"c\"\nclient_secret = \"s\"\n[[device_ranges]]\nmerchant_id = \"m\"\nfirst = \"POS-10000000\"\ncount = 400\n",
        "inline",
    )
    .expect("fixtures");
    let sim = TestSim::with(c);
    let mut codes = HashSet::new();
    for i in 0..400u32 {
        let device = format!("POS-{:08X}", 0x1000_0000 + i);
        assert!(codes.insert(sim.code(&device).await), "duplicate live code");
    }
}

#[tokio::test]
async fn pair_08_forced_creation_failure_is_500_5000_and_changes_nothing() {
    let sim = TestSim::new();
    let fault = sim.json(Method::POST, "/_sim/faults", &[], &json!({"endpoint": "/pos/pairing-code", "rule": "PAIR-08", "count": 2})).await;
    assert_eq!(fault.status, 201, "{}", fault.body);
    for _ in 0..2 {
        let r = sim.pair(ACME_DEVICE).await;
        r.assert_error(500, "5000", "Failed to create pairing code");
        assert!(r.body["error"].get("details").is_none());
    }
    assert_eq!(sim.status_triple(ACME_DEVICE).await.2, "none");
    assert_eq!(sim.pair(ACME_DEVICE).await.status, 200, "the fault fires only N times");
}

#[tokio::test]
async fn pair_09_pair_10_no_code_for_an_unprovisioned_device() {
    let sim = TestSim::new();
    let r = sim.pair(UNKNOWN_DEVICE).await;
    r.assert_error(404, "4004", "Device not found");
    assert_eq!(r.details(), &json!({"device_id": UNKNOWN_DEVICE}));
}

#[tokio::test]
async fn pair_11_claimed_device_gets_4220_and_nothing_changes() {
    let sim = TestSim::new();
    let code = sim.code(ACME_DEVICE).await;
    let token = sim.acme().await;
    assert_eq!(sim.claim(&token, &json!({"pairing_code": code})).await.status, 200);
    let before = sim.device_state(ACME_DEVICE).await;
    let r = sim.pair(ACME_DEVICE).await;
    r.assert_error(400, "4220", "Device is already claimed");
    assert_eq!(r.details(), &json!({"device_id": ACME_DEVICE}));
    assert_eq!(sim.device_state(ACME_DEVICE).await, before);
    assert_eq!(sim.status_triple(ACME_DEVICE).await, ("claimed".into(), true, "used".into()));
}
