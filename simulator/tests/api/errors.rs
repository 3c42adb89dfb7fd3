//! The error envelope, generic errors and robustness (ERR-*, CONV-02, LIVE-*).

use std::collections::HashSet;

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn err_09_unknown_route_is_404_route_not_found() {
    let sim = TestSim::new();
    for path in ["/", "/pos", "/pos/unknown", "/pos/status/", "/v1/pos/status", "/POS/STATUS"] {
        sim.request(Method::GET, path, &[], "").await.assert_error(404, "4004", "Route not found");
    }
}

#[tokio::test]
async fn err_10_wrong_method_is_405_method_not_allowed() {
    let sim = TestSim::new();
    for (method, path) in [
        (Method::POST, "/pos/status"),
        (Method::GET, "/pos/bootstrap"),
        (Method::GET, "/pos/pairing-code"),
        (Method::GET, "/pos/claim"),
        (Method::DELETE, "/pos/claim"),
        (Method::PUT, "/client/session"),
        (Method::POST, "/health/live"),
        (Method::PATCH, "/_sim/clock"),
    ] {
        sim.request(method.clone(), path, &[], "").await.assert_error(405, "4050", "Method not allowed");
    }
}

#[tokio::test]
async fn err_11_bodies_over_64_kib_are_413_on_any_route() {
    let sim = TestSim::new();
    let big = vec![b' '; 65_537];
    let exact = vec![b' '; 65_536];
    for (method, path) in [
        (Method::POST, "/pos/bootstrap"),
        (Method::POST, "/pos/claim"),
        (Method::GET, "/pos/status"),
        (Method::GET, "/health/live"),
        (Method::POST, "/_sim/reset"),
    ] {
        let r = sim
            .request(method.clone(), path, &[("X-Device-Id", ACME_DEVICE), ("User-Agent", UA), ("X-Client-Type", "pos")], big.clone())
            .await;
        r.assert_error(413, "4130", "Request body too large");
        // Without Content-Length (a streamed body), the limit still holds.
        let stream = futures::stream::iter(big.chunks(4096).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>());
        let req = Request::builder().method(method.clone()).uri(path).body(Body::from_stream(stream)).expect("request");
        sim.send(req).await.assert_error(413, "4130", "Request body too large");
    }
    // 64 KiB exactly is within the limit.
    let r = sim
        .request(Method::POST, "/pos/bootstrap", &[("X-Device-Id", ACME_DEVICE), ("User-Agent", UA), ("X-Client-Type", "pos")], exact)
        .await;
    assert_eq!(r.status, 200);
    // §1.9: 404 and 405 come first.
    sim.request(Method::POST, "/nowhere", &[], big.clone()).await.assert_error(404, "4004", "Route not found");
    sim.request(Method::POST, "/pos/status", &[], big).await.assert_error(405, "4050", "Method not allowed");
}

#[tokio::test]
async fn err_07_err_08_trace_ids_are_unique_and_on_every_response() {
    let sim = TestSim::new();
    let mut seen = HashSet::new();
    for _ in 0..50 {
        let ok = sim.status(ACME_DEVICE).await;
        let err = sim.status(UNKNOWN_DEVICE).await;
        // `send` already checked that the header is present and equals error.trace_id.
        assert!(seen.insert(ok.trace_id().to_owned()));
        assert!(seen.insert(err.trace_id().to_owned()));
    }
}

#[tokio::test]
async fn err_01_err_02_err_06_envelope_shape_and_string_codes() {
    let sim = TestSim::new();
    let r = sim.status(UNKNOWN_DEVICE).await;
    let error = r.body["error"].as_object().cloned().unwrap_or_default();
    assert!(error["code"].is_string());
    let keys: Vec<&str> = error.keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 4, "code, message, details, trace_id: {keys:?}");
    let r = sim.request(Method::GET, "/pos/status", &[], "").await;
    assert!(r.body["error"].get("details").is_none(), "ERR-06: no details where the rule lists none");
    // CONV-02: the wire form has the documented member order too.
    let text = String::from_utf8_lossy(&r.raw).into_owned();
    assert!(text.starts_with(r#"{"error":{"code":"4000","message":"#), "{text}");
}

#[tokio::test]
async fn err_12_malformed_input_never_gets_a_5xx() {
    let sim = TestSim::new();
    let token = sim.acme().await;
    let auth = format!("Bearer {token}");
    let bodies: Vec<Vec<u8>> = vec![
        vec![],
        b"\xff\xfe\x00".to_vec(),
        b"{\"pairing_code\":\"\xff\xfe\"}".to_vec(),
        b"{\"pairing_code\":\"\\ud800\"}".to_vec(),
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[".repeat(4),
        br#"{"pairing_code":"K7M3NP","pairing_code":"AAAAAA"}"#.to_vec(),
        format!("{{\"pairing_code\":\"{}\"}}", "Ä".repeat(1000)).into_bytes(),
        br#"{"pairing_code":1e999}"#.to_vec(),
        b"null".to_vec(),
    ];
    let paths = [
        "/pos/claim",
        "/client/session",
        "/auth/token",
        "/session/initiate",
        "/pos/bootstrap",
        "/pos/pairing-code",
        "/_sim/devices",
        "/_sim/merchants",
        "/_sim/faults",
        "/_sim/clock/advance",
        "/_sim/clock/set",
    ];
    for path in paths {
        for body in &bodies {
            for ct in ["application/json", "text/plain"] {
                let r = sim
                    .request(
                        Method::POST,
                        path,
                        &[("Authorization", &auth), ("Content-Type", ct), ("X-Device-Id", "POS-%00 \t")],
                        body.clone(),
                    )
                    .await;
                assert!(r.status < 500, "{path} {:?}: {}", String::from_utf8_lossy(body), r.body);
            }
        }
    }
    // Header values that are not text.
    let req = Request::builder()
        .method(Method::GET)
        .uri("/pos/status")
        .header("X-Device-Id", &b"POS-\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8"[..])
        .header("User-Agent", &b"Viopay-POS/\xff"[..])
        .header("X-Client-Type", "pos")
        .body(Body::empty())
        .expect("request");
    sim.send(req).await.assert_error(400, "4000", "X-Device-Id header is invalid");
    let req = Request::builder()
        .method(Method::POST)
        .uri("/pos/claim")
        .header("Authorization", &b"Bearer \xff\xff"[..])
        .header("Content-Type", "application/json")
        .body(Body::from(json!({"pairing_code": "K7M3NP"}).to_string()))
        .expect("request");
    sim.send(req).await.assert_error(401, "4010", "Unauthorized");
}

#[tokio::test]
async fn live_01_live_02_live_03_health_needs_no_auth() {
    let sim = TestSim::new();
    let r = sim.request(Method::GET, "/health/live", &[], "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"status": "ok"}));
}
