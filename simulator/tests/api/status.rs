//! `GET /pos/status` (STAT-*) and the state machines it shows (DEV-*, CODE-*).

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn stat_01_stat_02_three_headers_alone_and_dev_01_starts_inactive_with_no_code() {
    let sim = TestSim::new();
    let r = sim.status(ACME_DEVICE).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"device_status": "inactive", "is_claimed": false, "pairing_code_status": "none"}));
}

#[tokio::test]
async fn stat_06_pending_at_299_s_and_expired_at_301_s() {
    let sim = TestSim::new();
    sim.code(ACME_DEVICE).await;
    sim.advance(299).await;
    assert_eq!(sim.status_triple(ACME_DEVICE).await.2, "pending");
    sim.advance(2).await;
    assert_eq!(sim.status_triple(ACME_DEVICE).await.2, "expired");
}

#[tokio::test]
async fn stat_07_code_03_expired_exactly_from_300_s_by_time_alone() {
    let sim = TestSim::new();
    sim.code(ACME_DEVICE).await;
    sim.advance(300).await;
    assert_eq!(sim.status_triple(ACME_DEVICE).await, ("inactive".into(), false, "expired".into()));
}

#[tokio::test]
async fn stat_08_stat_09_after_claim_used_stays_used_past_300_s() {
    let sim = TestSim::new();
    let code = sim.code(ACME_DEVICE).await;
    let token = sim.acme().await;
    assert_eq!(sim.claim(&token, &json!({"pairing_code": code})).await.status, 200);
    assert_eq!(sim.status(ACME_DEVICE).await.body, json!({"device_status": "claimed", "is_claimed": true, "pairing_code_status": "used"}));
    sim.advance(3600).await;
    assert_eq!(sim.status_triple(ACME_DEVICE).await, ("claimed".into(), true, "used".into()));
}

#[tokio::test]
async fn stat_10_after_supersede_status_shows_the_new_pending_code() {
    let sim = TestSim::new();
    sim.code(ACME_DEVICE).await;
    sim.advance(200).await;
    sim.code(ACME_DEVICE).await;
    sim.advance(200).await;
    assert_eq!(sim.status_triple(ACME_DEVICE).await.2, "pending", "the new code has 100 s left");
}

#[tokio::test]
async fn stat_11_status_changes_no_state() {
    let sim = TestSim::new();
    sim.code(ACME_DEVICE).await;
    let before = sim.device_state(ACME_DEVICE).await;
    for _ in 0..5 {
        sim.status(ACME_DEVICE).await;
    }
    assert_eq!(sim.device_state(ACME_DEVICE).await, before);
}

#[tokio::test]
async fn stat_12_unprovisioned_device_is_404_with_device_id() {
    let sim = TestSim::new();
    let r = sim.status(UNKNOWN_DEVICE).await;
    r.assert_error(404, "4004", "Device not found");
    assert_eq!(r.details(), &json!({"device_id": UNKNOWN_DEVICE}));
}
