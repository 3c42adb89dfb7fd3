//! Unattended claims: `--auto-claim SECS` and `POST /_sim/devices/{id}/auto-claim`. The claim
//! happens SECS seconds after issue on the simulator's clock, through the merchant's claim path,
//! and is journaled as an automatic claim.

use axum::http::Method;
use serde_json::{Value, json};

use crate::common::*;

const DEVICE: &str = "POS-8F3A2C91";

fn auto(secs: u32) -> TestSim {
    let mut c = config();
    c.auto_claim = Some(secs);
    TestSim::with(c)
}

async fn claims_in_journal(sim: &TestSim, device: &str) -> Vec<Value> {
    let j = sim.request(Method::GET, &format!("/_sim/journal?device={device}"), &[], "").await;
    j.body["entries"].as_array().expect("entries").iter().filter(|e| e["path"] == "/pos/claim").cloned().collect()
}

#[tokio::test]
async fn a_code_is_claimed_by_its_merchant_secs_after_issue_with_nobody_calling_claim() {
    let sim = auto(5);
    sim.pair(DEVICE).await;
    let code = sim.code(DEVICE).await;
    sim.advance(4).await;
    assert_eq!(sim.status_triple(DEVICE).await, ("inactive".to_owned(), false, "pending".to_owned()), "4 s: not yet");
    sim.advance(1).await;
    assert_eq!(sim.status_triple(DEVICE).await, ("claimed".to_owned(), true, "used".to_owned()), "5 s: claimed (DEV-02)");
    let claims = claims_in_journal(&sim, DEVICE).await;
    assert_eq!(claims.len(), 1, "{claims:?}");
    assert_eq!(claims[0]["status"], 200);
    assert_eq!(claims[0]["time"], "2025-12-13T14:25:35Z", "dated at its due time");
    let warning = claims[0]["warning"].as_str().unwrap_or_default();
    assert!(warning.starts_with("automatic claim of") && warning.contains(&code), "{warning}");
    let state = sim.device_state(DEVICE).await;
    assert!(state["claimed_by"].is_string(), "bound to the device's own merchant: {state}");
}

#[tokio::test]
async fn a_superseded_or_expired_code_is_not_claimed_but_the_new_one_is() {
    let sim = auto(5);
    sim.pair(DEVICE).await;
    sim.advance(3).await;
    sim.pair(DEVICE).await; // supersedes the first; its own claim is due 5 s after this issue
    sim.advance(2).await;
    assert_eq!(sim.status_triple(DEVICE).await.2, "pending", "the superseded code's due time claims nothing");
    sim.advance(3).await;
    assert_eq!(sim.status_triple(DEVICE).await.0, "claimed");
    assert_eq!(claims_in_journal(&sim, DEVICE).await.len(), 1);

    // Longer than the code's life: it expires first and is never claimed.
    let late = auto(400);
    late.pair(DEVICE).await;
    late.advance(400).await;
    assert_eq!(late.status_triple(DEVICE).await, ("inactive".to_owned(), false, "expired".to_owned()));
    assert!(claims_in_journal(&late, DEVICE).await.is_empty());
}

#[tokio::test]
async fn the_control_api_turns_automatic_claims_on_and_off_per_device() {
    let sim = TestSim::new();
    let set = |d: &str| format!("/_sim/devices/{d}/auto-claim");
    // A pending code is scheduled as soon as the setting is made.
    sim.pair(DEVICE).await;
    let r = sim.json(Method::POST, &set(DEVICE), &[], &json!({"after_sec": 10})).await;
    assert_eq!(r.body, json!({"device_id": DEVICE, "after_sec": 10}));
    sim.advance(10).await;
    assert_eq!(sim.status_triple(DEVICE).await.0, "claimed");

    // Off for one device, whatever --auto-claim says.
    let sim = auto(0);
    let r = sim.json(Method::POST, &set(DEVICE), &[], &json!({"after_sec": null})).await;
    assert_eq!(r.body["after_sec"], Value::Null);
    sim.pair(DEVICE).await;
    sim.advance(60).await;
    assert_eq!(sim.status_triple(DEVICE).await.0, "inactive");

    for bad in [json!({"after_sec": -1}), json!({"after_sec": "5"}), json!({"after": 5}), json!([5])] {
        let r = sim.json(Method::POST, &set(DEVICE), &[], &bad).await;
        assert_eq!((r.status, r.code()), (400, "4000"), "{bad}");
    }
    let r = sim.json(Method::POST, &set("POS-DEADBEEF"), &[], &json!({"after_sec": 1})).await;
    assert_eq!((r.status, r.code()), (404, "4004"));
}

#[tokio::test]
async fn zero_seconds_claims_at_the_next_request_and_reset_forgets_the_schedule() {
    let sim = auto(0);
    let issued = sim.pair(DEVICE).await;
    assert_eq!(issued.status, 200);
    assert_eq!(sim.status_triple(DEVICE).await.0, "claimed", "due at issue: the next request sees it claimed");
    let sim = auto(30);
    sim.pair(DEVICE).await;
    let r = sim.request(Method::POST, "/_sim/reset", &[], "").await;
    assert_eq!(r.status, 200);
    sim.advance(60).await;
    assert_eq!(sim.status_triple(DEVICE).await, ("inactive".to_owned(), false, "none".to_owned()), "the schedule went with the state");
}
