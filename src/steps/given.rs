//! `Given` steps: devices, codes, tokens, forced faults.

use cucumber::given;

use super::{claim_code, request_code};
use crate::client::ApiRequest;
use crate::world::{CheckWorld, harness_error};

#[given(regex = r#"^a fresh device(?: "(\w+)")? of merchant ([A-Z])$"#)]
async fn fresh_device(w: &mut CheckWorld, name: String, merchant: String) {
    w.take_device(&name, &merchant).await;
}

#[given("an unprovisioned device")]
async fn unprovisioned(w: &mut CheckWorld) {
    let id = w.target().unknown_device.clone();
    w.devices.insert(String::new(), (id, None));
}

#[given(regex = r#"^(?:the device|device "(\w+)") has a pairing code$"#)]
async fn has_code(w: &mut CheckWorld, name: String) {
    let code = request_code(w, &name).await;
    w.require("PAIR-02", code.is_some(), || "a provisioned, unclaimed device did not get a pairing code".into());
}

#[given(regex = r"^merchant ([A-Z]) has claimed the code$")]
async fn has_claimed(w: &mut CheckWorld, merchant: String) {
    let code = w.latest_code("");
    let status = claim_code(w, &merchant, &code).await.status;
    w.require("CLAIM-20", status == Some(200), || format!("the owner's claim of a pending code answered {}", status.unwrap_or_default()));
}

#[given(regex = r"^merchant ([A-Z]) is signed in$")]
async fn signed_in(w: &mut CheckWorld, merchant: String) {
    w.sign_in(&merchant).await;
}

#[given("the target will fail the device's next pairing code request")]
async fn fail_next_code(w: &mut CheckWorld) {
    let device = w.device("");
    let body = serde_json::json!({ "endpoint": "/pos/pairing-code", "rule": "PAIR-08", "count": 1, "device_id": device });
    let ex = w.client().send(&ApiRequest::new("POST", "/_sim/faults").json(&body)).await;
    if ex.status != Some(201) {
        harness_error!("cannot arm a fault: {}", ex.excerpt());
    }
    w.fault_armed = Some(device);
}
