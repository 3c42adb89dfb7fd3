//! §4 timing and §5 the flow, with the worked example of §5.2 step by step.

use axum::http::Method;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::common::*;

#[tokio::test]
async fn ktime_01_ktime_02_ken_41_one_second_either_side_of_expires_at() {
    let k = Kustom::new();
    let (before, _) = k.code(r#"{"expires_in": 10000}"#).await;
    let (after, after_id) = k.code(r#"{"expires_in": 10000}"#).await;
    k.advance(9).await;
    let listed = k.list("/ipp/v1/enrollments", KEY1).await;
    assert_eq!(listed.body["total_elements"], 2, "at expires_at − 1 s: listed");
    assert_eq!(k.register(&before, "HW-1").await.status, 201, "at expires_at − 1 s: registers");
    k.advance(1).await;
    // KTIME-02: EXPIRED from expires_at on, no request needed.
    assert_eq!(k.merchant(Method::GET, &format!("/ipp/v1/enrollments/{after_id}"), KEY1, "").await.str("/status"), "EXPIRED");
    k.advance(1).await;
    let listed = k.list("/ipp/v1/enrollments", KEY1).await;
    assert_eq!(listed.body["total_elements"], 1, "at expires_at + 1 s: only the consumed one");
    k.register(&after, "HW-2").await.problem(410, "Enrollment code has expired");
}

#[tokio::test]
async fn ktime_03_ktime_04_ktime_05_one_clock_whole_seconds_tokens_never_expire() {
    let k = Kustom::new();
    k.send(Method::POST, "/_sim/clock/set", &[], r#"{"now": "2026-11-22T11:00:00Z"}"#).await;
    let (code, _) = k.code(r#"{"expires_in": 2500}"#).await;
    let r = k.list("/ipp/v1/enrollments", KEY1).await;
    assert_eq!(
        (r.body["content"][0]["created_at"].as_str(), r.body["content"][0]["expires_at"].as_str()),
        (Some("2026-11-22T11:00:00Z"), Some("2026-11-22T11:00:02.500Z")),
        "KTIME-03, KTIME-04"
    );
    let reg = k.register(&code, "HW").await;
    let token = reg.str("/credentials/bearer_token");
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap_or_default()).expect("b64")).expect("json");
    assert_eq!(claims["iat"], json!(1_795_345_200), "KTIME-03: iat from the simulator clock");
    k.advance(86_400 * 365).await;
    assert_eq!(k.me(&token).await.status, 200, "KTIME-05");
}

/// KFLOW-01…KFLOW-03 and KFLOW-05: the worked example of §5.2, request by request.
#[tokio::test]
async fn kflow_01_kflow_02_kflow_03_kflow_05_the_worked_example() {
    let k = Kustom::new();
    // 1. Locations.
    let loc = k.list("/ipp/v1/locations", KEY1).await;
    assert_eq!(
        loc.body,
        json!({"content": [{"id": L1, "name": "Downtown Store", "city": "Stockholm"}], "total_elements": 1, "total_pages": 1, "page_number": 0, "page_size": 20, "first": true, "last": true})
    );
    // 2. Enrollment through HTTP Basic with the username.
    let auth = "Basic bWVyY2hhbnRfMTIzNDUtazN2OXFhOmtjb190ZXN0X2lwcF91anpkZThneGQ2bmNmMTBlcGY5MWRob2Q=";
    let e = k
        .send(
            Method::POST,
            "/ipp/v1/enrollments",
            &[("authorization", auth), ("content-type", "application/json")],
            r#"{"metadata": {"store_id": "123", "terminal_type": "checkout"}}"#,
        )
        .await;
    assert_eq!((e.status, e.str("/expires_at"), e.str("/location_id")), (201, "2026-11-22T12:00:00Z".into(), L1.into()));
    let (code, enrollment) = (e.str("/enrollment_code"), e.str("/enrollment_id"));
    // 3. At 10:05 the clerk types the code in lowercase.
    k.advance(300).await;
    let reg = k
        .send(
            Method::POST,
            "/ipp/v1/devices/register",
            &[],
            json!({"enrollment_code": code.to_lowercase(), "hardware_id": "R58N90ABCDE", "platform": "ANDROID"}).to_string(),
        )
        .await;
    assert_eq!(reg.status, 201);
    let (id, token) = (reg.str("/id"), reg.str("/credentials/bearer_token"));
    // The claims in this order, as §5.2 writes them.
    let claims = format!(r#"{{"sub":"{id}","merchant_id":"{MID1}","iat":1795341900}}"#);
    assert_eq!(token.split('.').nth(1), Some(URL_SAFE_NO_PAD.encode(claims).as_str()), "the payload of §5.2, byte for byte");
    // 4. Consumed.
    assert_eq!(k.merchant(Method::GET, &format!("/ipp/v1/enrollments/{enrollment}"), KEY1, "").await.str("/status"), "CONSUMED");
    // 5. Found by metadata.
    let found = k.list("/ipp/v1/devices?metadata=store_id:123", KEY1).await;
    assert_eq!(found.body["content"][0]["id"], json!(id));
    // 6. The app's own record.
    assert_eq!(k.me(&token).await.str("/name"), "ANDROID BCDE");
    // 7. Renamed, metadata and location sent back.
    let put = k
        .merchant(
            Method::PUT,
            &format!("/ipp/v1/devices/{id}"),
            KEY1,
            &json!({"name": "Counter 1", "metadata": {"store_id": "123", "terminal_type": "checkout"}, "location_id": L1}).to_string(),
        )
        .await;
    assert_eq!((put.str("/name"), put.str("/location_id")), ("Counter 1".into(), L1.into()));
    // 8, 9. Deregistered; the token is refused at once.
    assert_eq!(k.merchant(Method::DELETE, &format!("/ipp/v1/devices/{id}"), KEY1, "").await.status, 204);
    let me = k.me(&token).await;
    assert_eq!(me.body, json!({"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": "Access Denied"}));
    // 10. The old code cannot pair again; a new enrollment can (KFLOW-05: state rules only).
    k.register(&code, "R58N90ABCDE").await.problem(409, "Enrollment code has already been used");
    let (fresh, _) = k.code("{}").await;
    assert_eq!(k.register(&fresh, "R58N90ABCDE").await.status, 201);
}

/// KFLOW-04 is the harness's (it registers through a profile or the testing endpoint); the
/// simulator serves both ways a harness can register, and `/_sim/reset` forgets Kustom's state.
#[tokio::test]
async fn kflow_04_both_registration_paths_and_reset() {
    let k = Kustom::new();
    k.device("HW", "{}").await;
    assert_eq!(k.merchant(Method::POST, "/ipp/v1/dev/devices", KEY1, r#"{"name": "t"}"#).await.status, 201);
    assert_eq!(k.list("/ipp/v1/devices", KEY1).await.body["total_elements"], 2);
    assert_eq!(k.send(Method::POST, "/_sim/reset", &[], "").await.status, 200);
    assert_eq!(k.list("/ipp/v1/devices", KEY1).await.body["total_elements"], 0);
    assert_eq!(k.list("/ipp/v1/enrollments", KEY1).await.body["total_elements"], 0);
}

/// Faults reach Kustom's endpoints like VioPay's (same registry, same journal), templated paths
/// included; a documented VioPay error cannot be armed on them.
#[tokio::test]
async fn kflow_05_faults_and_the_journal_cover_ipp_v1() {
    let k = Kustom::new();
    let k = &k;
    let arm = |body: &'static str| async move { k.send(Method::POST, "/_sim/faults", &[], body).await };
    assert_eq!(arm(r#"{"kind": "status", "status": 503, "endpoint": "/ipp/v1/devices/register", "count": 1}"#).await.status, 201);
    let (code, _) = k.code("{}").await;
    let first = k.register(&code, "HW-F").await;
    assert_eq!((first.status, first.header("content-type")), (503, "text/plain; charset=utf-8"), "a gateway's answer, not a problem");
    assert_eq!(k.register(&code, "HW-F").await.status, 201, "the fault fired once; the refused attempt changed nothing");
    assert_eq!(arm(r#"{"kind": "status", "status": 502, "endpoint": "/ipp/v1/enrollments/{id}", "count": 1}"#).await.status, 201);
    assert_eq!(k.merchant(Method::GET, "/ipp/v1/enrollments/0cb1e29c-658c-4a14-95e6-0af593bd04cf", KEY1, "").await.status, 502);
    assert_eq!(arm(r#"{"kind": "error", "rule": "PAIR-08", "endpoint": "/ipp/v1/enrollments"}"#).await.status, 400);
    let journal = k.send(Method::GET, "/_sim/journal", &[], "").await;
    let entries = journal.body["entries"].as_array().cloned().unwrap_or_default();
    let register: Vec<_> = entries.iter().filter(|e| e["path"] == "/ipp/v1/devices/register").collect();
    assert_eq!(register.len(), 2);
    assert_eq!((register[0]["status"].as_u64(), register[0]["faults"][0]["kind"].as_str()), (Some(503), Some("status")));
    let refused = entries.iter().find(|e| e["status"] == 404 && e["path"].as_str().is_some_and(|p| p.starts_with("/ipp/v1/enrollments/")));
    assert!(refused.is_none(), "the faulted get never reached the handler");
}
