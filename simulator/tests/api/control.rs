//! The `/_sim/` control API.

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::json;
use tower::ServiceExt;

use crate::common::*;

#[tokio::test]
async fn clock_reads_advances_and_sets_only_forward() {
    let sim = TestSim::new();
    let r = sim.request(Method::GET, "/_sim/clock", &[], "").await;
    assert_eq!(r.body, json!({"now": "2025-12-13T14:25:30Z", "mode": "virtual"}));
    let r = sim.json(Method::POST, "/_sim/clock/advance", &[], &json!({"seconds": 90})).await;
    assert_eq!(r.body["now"], "2025-12-13T14:27:00Z");
    let r = sim.json(Method::POST, "/_sim/clock/set", &[], &json!({"now": "2026-01-01T00:00:00+01:00"})).await;
    assert_eq!(r.body["now"], "2025-12-31T23:00:00Z");
    let r = sim.json(Method::POST, "/_sim/clock/set", &[], &json!({"now": "2025-01-01T00:00:00Z"})).await;
    assert_eq!((r.status, r.code()), (409, "4090"));
    for bad in [json!({"seconds": -5}), json!({"seconds": "10"}), json!({}), json!({"secs": 1})] {
        sim.json(Method::POST, "/_sim/clock/advance", &[], &bad).await.assert_error(400, "4000", "Invalid request body");
    }
    sim.json(Method::POST, "/_sim/clock/set", &[], &json!({"now": "yesterday"})).await.assert_error(400, "4000", "Invalid request body");
    // `curl -d` sends a form content type: the control API reads JSON anyway.
    let r = sim
        .request(Method::POST, "/_sim/clock/advance", &[("Content-Type", "application/x-www-form-urlencoded")], r#"{"seconds":1}"#)
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn clock_cannot_move_in_system_mode() {
    let sim = TestSim::system_clock();
    let r = sim.request(Method::GET, "/_sim/clock", &[], "").await;
    assert_eq!(r.body["mode"], "system");
    let r = sim.json(Method::POST, "/_sim/clock/advance", &[], &json!({"seconds": 1})).await;
    assert_eq!((r.status, r.code()), (409, "4090"), "{}", r.body);
    let r = sim.json(Method::POST, "/_sim/clock/set", &[], &json!({"now": "2030-01-01T00:00:00Z"})).await;
    assert_eq!((r.status, r.code()), (409, "4090"));
}

#[tokio::test]
async fn merchants_and_devices_can_be_provisioned_and_used() {
    let sim = TestSim::new();
    let m = sim.json(Method::POST, "/_sim/merchants", &[], &json!({})).await;
    assert_eq!(m.status, 201, "{}", m.body);
    let (merchant_id, client_id, secret) = (
        m.body["id"].as_str().unwrap_or_default().to_owned(),
        m.body["client_id"].as_str().unwrap_or_default().to_owned(),
        m.body["client_secret"].as_str().unwrap_or_default().to_owned(),
    );
    assert!(!m.body["name"].as_str().unwrap_or_default().is_empty());
    let d = sim.json(Method::POST, "/_sim/devices", &[], &json!({"merchant_id": merchant_id, "count": 3})).await;
    assert_eq!(d.status, 201, "{}", d.body);
    let ids: Vec<String> = d.body["device_ids"].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect();
    assert_eq!(ids.len(), 3);
    let code = sim.code(&ids[0]).await;
    let token = sim.token(&client_id, &secret).await;
    let r = sim.claim(&token, &json!({"pairing_code": code})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let listed = sim.request(Method::GET, "/_sim/merchants", &[], "").await;
    assert_eq!(listed.body["merchants"].as_array().map(Vec::len), Some(3));

    let explicit =
        sim.json(Method::POST, "/_sim/devices", &[], &json!({"merchant_id": merchant_id, "id": "POS-0000C1A1", "status": "claimed"})).await;
    assert_eq!(explicit.body["device_ids"], json!(["POS-0000C1A1"]));
    assert_eq!(sim.status_triple("POS-0000C1A1").await, ("claimed".into(), true, "none".into()));
    let dup = sim.json(Method::POST, "/_sim/devices", &[], &json!({"merchant_id": merchant_id, "id": "POS-0000C1A1"})).await;
    assert_eq!((dup.status, dup.code()), (409, "4090"));
    let unknown = sim.json(Method::POST, "/_sim/devices", &[], &json!({"merchant_id": "nobody"})).await;
    assert_eq!((unknown.status, unknown.code()), (404, "4004"));
    let bad = sim.json(Method::POST, "/_sim/devices", &[], &json!({"merchant_id": merchant_id, "id": "POS-lower000"})).await;
    assert_eq!((bad.status, bad.code()), (400, "4000"));
    let dup_m = sim.json(Method::POST, "/_sim/merchants", &[], &json!({"client_id": "acme"})).await;
    assert_eq!((dup_m.status, dup_m.code()), (409, "4090"));
}

#[tokio::test]
async fn device_inspection_shows_the_code_history() {
    let sim = TestSim::new();
    let a = sim.code(ACME_DEVICE).await;
    sim.advance(10).await;
    let b = sim.code(ACME_DEVICE).await;
    let state = sim.device_state(ACME_DEVICE).await;
    assert_eq!(state["codes"][0]["pairing_code"].as_str(), Some(a.as_str()));
    assert_eq!(state["codes"][0]["state"], "superseded");
    assert_eq!(state["codes"][1]["pairing_code"].as_str(), Some(b.as_str()));
    assert_eq!(state["codes"][1]["issued_at"], "2025-12-13T14:25:40Z");
    assert_eq!(state["codes"][1]["expires_at"], "2025-12-13T14:30:40Z");
    for id in [UNKNOWN_DEVICE, "garbage"] {
        let r = sim.request(Method::GET, &format!("/_sim/devices/{id}"), &[], "").await;
        assert_eq!((r.status, r.code()), (404, "4004"));
    }
}

#[tokio::test]
async fn reset_restores_fixtures_clock_and_seed() {
    let sim = TestSim::new();
    let first = sim.code(ACME_DEVICE).await;
    sim.json(Method::POST, "/_sim/merchants", &[], &json!({"id": "extra", "client_id": "extra"})).await;
    sim.advance(1000).await;
    let r = sim.request(Method::POST, "/_sim/reset", &[], "").await;
    assert_eq!(r.body, json!({"status": "reset", "merchants": 2, "devices": 7, "now": "2025-12-13T14:25:30Z"}));
    assert_eq!(sim.status_triple(ACME_DEVICE).await.2, "none");
    assert_eq!(sim.code(ACME_DEVICE).await, first, "the seeded sequence starts over");
    let journal = sim.request(Method::GET, "/_sim/journal", &[], "").await;
    assert_eq!(journal.body["total"], 2, "journal restarted: {}", journal.body);
}

#[tokio::test]
async fn journal_filters_by_device_and_is_bounded() {
    let mut c = config();
    c.journal_capacity = 5;
    let sim = TestSim::with(c);
    for _ in 0..4 {
        sim.status(ACME_DEVICE).await;
        sim.status(GLOBEX_DEVICE).await;
    }
    let code = sim.code(ACME_DEVICE_2).await;
    let token = sim.acme().await;
    sim.claim(&token, &json!({"pairing_code": code})).await;
    let all = sim.request(Method::GET, "/_sim/journal", &[], "").await;
    assert_eq!(all.body["capacity"], 5);
    assert_eq!(all.body["total"], 11);
    assert_eq!(all.body["entries"].as_array().map(Vec::len), Some(5));
    let dev = sim.request(Method::GET, &format!("/_sim/journal?device={ACME_DEVICE_2}"), &[], "").await;
    let paths: Vec<&str> = dev.body["entries"].as_array().into_iter().flatten().filter_map(|e| e["path"].as_str()).collect();
    assert_eq!(paths, vec!["/pos/pairing-code", "/pos/claim"], "a claim is journaled under the device behind the code");
    let last = sim.request(Method::GET, "/_sim/journal?limit=1", &[], "").await;
    assert_eq!(last.body["entries"][0]["path"], "/pos/claim");
    assert_eq!(last.body["entries"][0]["status"], 200);
    let bad = sim.request(Method::GET, "/_sim/journal?limit=many", &[], "").await;
    assert_eq!((bad.status, bad.code()), (400, "4000"));
}

#[tokio::test]
async fn faults_are_listed_validated_and_cleared() {
    let sim = TestSim::new();
    let r = sim.json(Method::POST, "/_sim/faults", &[], &json!({"endpoint": "/pos/status", "rule": "PAIR-08"})).await;
    r.assert_error(400, "4000", "Invalid request body");
    assert!(r.details()["message"].as_str().unwrap_or_default().contains("STAT-12"), "lists the choices: {}", r.body);
    sim.json(Method::POST, "/_sim/faults", &[], &json!({"endpoint": "/pos/status", "rule": "STAT-12", "count": 5})).await;
    let listed = sim.request(Method::GET, "/_sim/faults", &[], "").await;
    assert_eq!(
        listed.body["faults"],
        json!([{"id": 1, "kind": "error", "endpoint": "/pos/status", "rule": "STAT-12", "remaining": 5, "fired": 0}])
    );
    assert_eq!(listed.body["profiles"], json!(["flaky-3g", "gateway-502", "retry-twice", "slow-and-broken"]));
    let r = sim.json(Method::POST, "/_sim/faults", &[], &json!({"kind": "reset", "status": 503})).await;
    r.assert_error(400, "4000", "Invalid request body");
    assert_eq!(r.details()["message"], "`status` does not apply to kind `reset`");
    let r = sim.status(ACME_DEVICE).await;
    r.assert_error(404, "4004", "Device not found");
    assert_eq!(r.details(), &json!({"device_id": ACME_DEVICE}));
    let fired = sim.request(Method::GET, "/_sim/faults", &[], "").await;
    assert_eq!((fired.body["faults"][0]["fired"].as_u64(), fired.body["faults"][0]["remaining"].as_u64()), (Some(1), Some(4)));
    let journal = sim.request(Method::GET, "/_sim/journal", &[], "").await;
    let last = journal.body["entries"].as_array().and_then(|e| e.last()).cloned().unwrap_or_default();
    assert_eq!((last["rule"].as_str(), last["faults"][0]["kind"].as_str()), (Some("STAT-12"), Some("error")), "{last}");
    assert_eq!(sim.request(Method::DELETE, "/_sim/faults/1", &[], "").await.body["faults"], json!([]));
    assert_eq!(sim.request(Method::DELETE, "/_sim/faults/1", &[], "").await.status, 404);
    assert_eq!(sim.status(ACME_DEVICE).await.status, 200);
    let armed = sim.request(Method::POST, "/_sim/faults/profiles/retry-twice", &[], "").await;
    assert_eq!((armed.status, armed.body["faults"].as_array().map(Vec::len)), (201, Some(7)));
    assert_eq!(sim.request(Method::POST, "/_sim/faults/profiles/nope", &[], "").await.status, 404);
    sim.request(Method::DELETE, "/_sim/faults", &[], "").await;
    assert_eq!(sim.status(ACME_DEVICE).await.status, 200);
}

#[tokio::test]
async fn no_control_hides_the_control_api() {
    let mut c = config();
    c.control = false;
    let sim = TestSim::with(c);
    sim.request(Method::GET, "/_sim/clock", &[], "").await.assert_error(404, "4004", "Route not found");
    assert_eq!(sim.bootstrap(ACME_DEVICE).await.status, 200);
}

/// A `/_sim/reset` racing merchant requests: the token's merchant is resolved and used under one
/// lock, so a merchant that a reset removed is "Unauthorized", never a 5xx or a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_racing_merchant_requests_never_gives_a_5xx() {
    let sim = TestSim::new();
    for round in 0..20 {
        let created = sim.json(Method::POST, "/_sim/merchants", &[], &json!({ "name": format!("racer {round}") })).await;
        assert_eq!(created.status, 201, "{}", created.body);
        let token = sim
            .token(created.body["client_id"].as_str().unwrap_or_default(), created.body["client_secret"].as_str().unwrap_or_default())
            .await;
        let auth = format!("Bearer {token}");
        let mut tasks = Vec::new();
        for i in 0..8 {
            let app = sim.app.clone();
            let auth = auth.clone();
            tasks.push(tokio::spawn(async move {
                let (path, body) = if i % 2 == 0 {
                    ("/session/initiate", r#"{"host":"merchant.viopay.io"}"#)
                } else {
                    ("/pos/claim", r#"{"pairing_code":"K7M3NP"}"#)
                };
                let req = Request::builder()
                    .method(Method::POST)
                    .uri(path)
                    .header("Authorization", &auth)
                    .header("Content-Type", "application/json")
                    .body(Body::from(body))
                    .expect("request");
                app.oneshot(req).await.expect("infallible").status().as_u16()
            }));
        }
        let app = sim.app.clone();
        tasks.push(tokio::spawn(async move {
            app.oneshot(Request::builder().method(Method::POST).uri("/_sim/reset").body(Body::empty()).expect("request"))
                .await
                .expect("infallible")
                .status()
                .as_u16()
        }));
        for task in tasks {
            let status = task.await.expect("no handler panicked");
            assert!(status < 500, "round {round}: {status}");
        }
    }
}
