//! The fleet view (`GET /_sim/devices`) and the scripted claim (`POST /_sim/devices/{id}/claim`).

use axum::http::Method;
use serde_json::{Value, json};

use crate::common::*;

async fn fleet_of(sim: &TestSim, n: u32) -> Vec<String> {
    let r = sim.json(Method::POST, "/_sim/merchants", &[], &json!({"id": "m-fleet", "name": "Fleet"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = sim.json(Method::POST, "/_sim/devices", &[], &json!({"merchant_id": "m-fleet", "count": n})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mut ids: Vec<String> =
        r.body["device_ids"].as_array().expect("ids").iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect();
    ids.sort();
    ids
}

fn ids(body: &Value) -> Vec<String> {
    body["devices"].as_array().expect("devices").iter().map(|d| d["device_id"].as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test]
async fn the_fleet_is_filtered_by_merchant_and_status_and_paged_in_id_order() {
    let sim = TestSim::new();
    let fleet = fleet_of(&sim, 5).await;
    let r = sim.request(Method::GET, "/_sim/devices?merchant=m-fleet", &[], "").await;
    assert_eq!((r.body["total"].as_u64(), r.body["page"].as_u64(), r.body["per_page"].as_u64()), (Some(5), Some(1), Some(100)));
    assert_eq!(ids(&r.body), fleet);
    assert_eq!(r.body["devices"][0]["pairing_code_status"], "none");
    let r = sim.request(Method::GET, "/_sim/devices?merchant=m-fleet&per_page=2&page=2", &[], "").await;
    assert_eq!(ids(&r.body), fleet[2..4].to_vec());
    let r = sim.request(Method::GET, "/_sim/devices?merchant=m-fleet&per_page=2&page=9", &[], "").await;
    assert_eq!((r.body["total"].as_u64(), ids(&r.body).len()), (Some(5), 0), "past the last page: empty, total still told");

    sim.pair(&fleet[1]).await;
    let r = sim.request(Method::POST, &format!("/_sim/devices/{}/claim", fleet[1]), &[], "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = sim.request(Method::GET, "/_sim/devices?merchant=m-fleet&status=claimed", &[], "").await;
    assert_eq!(ids(&r.body), vec![fleet[1].clone()]);
    assert_eq!(r.body["devices"][0]["pairing_code_status"], "used");
    let r = sim.request(Method::GET, "/_sim/devices?status=inactive&merchant=m-fleet", &[], "").await;
    assert_eq!(r.body["total"], 4);
}

#[tokio::test]
async fn a_bad_fleet_query_is_400_never_a_5xx() {
    let sim = TestSim::new();
    let r = sim.request(Method::GET, "/_sim/devices?merchant=nobody", &[], "").await;
    assert_eq!((r.status, r.body["total"].as_u64()), (200, Some(0)), "a merchant nobody has owns no device: {}", r.body);
    for q in ["page=0", "per_page=0", "per_page=1001", "status=lost", "page=-1", "page=x", "sort=id"] {
        let r = sim.request(Method::GET, &format!("/_sim/devices?{q}"), &[], "").await;
        assert_eq!((r.status, r.code()), (400, "4000"), "{q}: {}", r.body);
    }
}

#[tokio::test]
async fn a_scripted_claim_claims_the_latest_code_as_the_devices_merchant() {
    let sim = TestSim::new();
    let fleet = fleet_of(&sim, 1).await;
    let device = &fleet[0];
    let claim = |d: &str| format!("/_sim/devices/{d}/claim");
    let r = sim.request(Method::POST, &claim(device), &[], "").await;
    assert_eq!((r.status, r.code()), (409, "4090"), "no code yet: {}", r.body);
    assert!(r.message().contains("no pairing code"), "{}", r.message());
    sim.pair(device).await;
    let code = sim.code(device).await;
    let r = sim.request(Method::POST, &claim(device), &[], "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"status": "claimed", "device_id": device, "pairing_code": code, "merchant_id": "m-fleet"}));
    assert_eq!(sim.status_triple(device).await, ("claimed".to_owned(), true, "used".to_owned()), "DEV-02 through the claim path");
    let r = sim.request(Method::POST, &claim(device), &[], "").await;
    assert_eq!((r.status, r.code()), (409, "4090"));
    assert!(r.message().contains("already been used"), "{}", r.message());
    let r = sim.request(Method::POST, &claim("POS-DEADBEEF"), &[], "").await;
    assert_eq!((r.status, r.code()), (404, "4004"));
    let r = sim.request(Method::POST, &claim("not-a-device"), &[], "").await;
    assert_eq!((r.status, r.code()), (404, "4004"));
    // The journal records the claim it stands for, and says the simulator made it.
    let j = sim.request(Method::GET, &format!("/_sim/journal?device={device}"), &[], "").await;
    let entries = j.body["entries"].as_array().expect("entries").clone();
    let claimed: Vec<&Value> = entries.iter().filter(|e| e["path"] == "/pos/claim").collect();
    assert_eq!(claimed.len(), 1, "{}", j.body);
    assert_eq!(claimed[0]["status"], 200);
    assert!(claimed[0]["warning"].as_str().is_some_and(|w| w.starts_with("automatic claim")), "{}", claimed[0]);
}

#[tokio::test]
async fn an_expired_code_is_not_claimed_by_script_either() {
    let sim = TestSim::new();
    let fleet = fleet_of(&sim, 1).await;
    sim.pair(&fleet[0]).await;
    sim.advance(300).await;
    let r = sim.request(Method::POST, &format!("/_sim/devices/{}/claim", fleet[0]), &[], "").await;
    assert_eq!((r.status, r.code()), (409, "4090"));
    assert!(r.message().contains("expired"), "{}", r.message());
    assert_eq!(sim.status_triple(&fleet[0]).await, ("inactive".to_owned(), false, "expired".to_owned()), "nothing changed");
}
