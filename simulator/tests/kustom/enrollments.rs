//! §2.1–§2.4 and §3.1: enrollments.

use axum::http::Method;
use serde_json::json;

use super::common::*;

#[tokio::test]
async fn ken_01_ken_02_ken_03_ken_04_ken_05_ken_39_create_with_defaults() {
    let k = Kustom::new();
    let r = k.enroll(KEY1, "{}").await;
    assert_eq!(r.status, 201, "KEN-01, KEN-02: every member optional");
    let obj = r.body.as_object().expect("object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["created_at", "enrollment_code", "enrollment_id", "expires_at", "location_id", "metadata", "status"], "KEN-05");
    assert_eq!(
        (r.str("/status"), r.body["metadata"].clone(), r.str("/location_id")),
        ("PENDING".into(), json!({}), L1.into()),
        "KEN-04, KEN-39"
    );
    assert_eq!((r.str("/created_at"), r.str("/expires_at")), (START.into(), "2026-11-22T12:00:00Z".into()), "KEN-03: 2 h");
    let with = k
        .enroll(KEY1, r#"{"metadata": {"store_id": "123"}, "expires_in": 360000, "location_id": "46910CC3-AB41-4B80-B4A7-94DAB9F1B795"}"#)
        .await;
    assert_eq!(
        (with.body["metadata"].clone(), with.str("/expires_at"), with.str("/location_id")),
        (json!({"store_id": "123"}), "2026-11-22T10:06:00Z".into(), L1.into())
    );
}

#[tokio::test]
async fn ken_06_ken_17_metadata_limits() {
    let k = Kustom::new();
    let many: serde_json::Map<String, serde_json::Value> = (0..21).map(|i| (format!("k{i}"), json!("v"))).collect();
    for bad in [
        json!([]),
        json!({"": "v"}),
        json!({"k": 1}),
        json!({"k".repeat(65): "v"}),
        json!({"k": "v".repeat(257)}),
        serde_json::Value::Object(many),
    ] {
        k.enroll(KEY1, &json!({"metadata": bad}).to_string()).await.invalid(&["metadata"]);
    }
    let twenty: serde_json::Map<String, serde_json::Value> = (0..20).map(|i| (format!("k{i}"), json!("é".repeat(256)))).collect();
    assert_eq!(k.enroll(KEY1, &json!({"metadata": twenty, "x": 1}).to_string()).await.status, 201, "at the limits");
}

#[tokio::test]
async fn ken_07_ken_08_ken_09_ken_18_ken_19_lifetimes() {
    let k = Kustom::new();
    for (ms, expires) in [(1000, "2026-11-22T10:00:01Z"), (36000, "2026-11-22T10:00:36Z"), (259_200_000, "2026-11-25T10:00:00Z")] {
        assert_eq!(k.enroll(KEY1, &json!({"expires_in": ms}).to_string()).await.str("/expires_at"), expires, "KEN-07 {ms}");
    }
    for bad in [json!(999), json!(259_200_001), json!(1000.0), json!(1e4), json!("1000"), json!(-5)] {
        k.enroll(KEY1, &json!({"expires_in": bad}).to_string()).await.invalid(&["expires_in"]);
    }
    k.enroll(KEY1, "{\"expires_in\": 1E4}").await.invalid(&["expires_in"]);
    for (ttl, expires) in [
        ("TWO_HOURS", "2026-11-22T12:00:00Z"),
        ("TWENTY_FOUR_HOURS", "2026-11-23T10:00:00Z"),
        ("FORTY_EIGHT_HOURS", "2026-11-24T10:00:00Z"),
        ("SEVENTY_TWO_HOURS", "2026-11-25T10:00:00Z"),
    ] {
        assert_eq!(k.enroll(KEY1, &json!({"ttl": ttl}).to_string()).await.str("/expires_at"), expires, "KEN-08 {ttl}");
    }
    k.enroll(KEY1, r#"{"ttl": "two_hours"}"#).await.invalid(&["ttl"]);
    k.enroll(KEY1, r#"{"ttl": 7200000}"#).await.invalid(&["ttl"]);
    k.enroll(KEY1, r#"{"ttl": "TWO_HOURS", "expires_in": 7200000}"#).await.invalid(&["ttl"]);
}

#[tokio::test]
async fn ken_10_ken_20_locations() {
    let k = Kustom::new();
    k.enroll(KEY2, "{}").await.invalid(&["location_id"]);
    assert_eq!(k.enroll(KEY2, &json!({"location_id": L2B}).to_string()).await.str("/location_id"), L2B);
    for bad in [json!(""), json!("  "), json!(5), json!("nope"), json!(L1), json!("0cb1e29c-658c-4a14-95e6-0af593bd04cf")] {
        k.enroll(KEY2, &json!({"location_id": bad}).to_string()).await.invalid(&["location_id"]);
    }
}

#[tokio::test]
async fn ken_11_ken_12_codes() {
    let k = Kustom::new();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        let (code, _) = k.code("{}").await;
        assert!(code.len() == 8 && code.bytes().all(|b| b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789".contains(&b)), "KEN-11 {code}");
        assert!(seen.insert(code), "KEN-12: unique among PENDING enrollments");
    }
}

#[tokio::test]
async fn ken_21_ken_22_ken_29_ken_40_ken_41_ken_42_the_list_shows_pending_and_consumed_only() {
    let k = Kustom::new();
    let (pending, pending_id) = k.code("{}").await;
    let (consumed, consumed_id) = k.code("{}").await;
    let (_, cancelled_id) = k.code("{}").await;
    let (_, expired_id) = k.code(r#"{"expires_in": 1000}"#).await;
    k.enroll(KEY2, &json!({"location_id": L2A}).to_string()).await;
    assert_eq!(k.register(&consumed, "HW-C").await.status, 201);
    assert_eq!(k.merchant(Method::DELETE, &format!("/ipp/v1/enrollments/{cancelled_id}"), KEY1, "").await.status, 204);
    k.advance(1).await;
    let list = k.list("/ipp/v1/enrollments", KEY1).await;
    let ids: Vec<String> = list.body["content"]
        .as_array()
        .expect("content")
        .iter()
        .map(|e| e["enrollment_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "KEN-21, KEN-29: only merchant 1's; {ids:?}");
    assert!(
        ids.contains(&pending_id) && ids.contains(&consumed_id) && !ids.contains(&cancelled_id) && !ids.contains(&expired_id),
        "KEN-22"
    );
    let status =
        |id: &str| list.body["content"].as_array().and_then(|c| c.iter().find(|e| e["enrollment_id"] == id)).map(|e| e["status"].clone());
    assert_eq!((status(&pending_id), status(&consumed_id)), (Some(json!("PENDING")), Some(json!("CONSUMED"))), "KEN-40");
    // KEN-41 and KEN-42 by registration too.
    let _ = pending;
    let k = &k;
    let get = |id: String| async move { k.merchant(Method::GET, &format!("/ipp/v1/enrollments/{id}"), KEY1, "").await.str("/status") };
    assert_eq!((get(expired_id).await, get(cancelled_id).await), ("EXPIRED".to_owned(), "CANCELLED".to_owned()), "KEN-32: any status");
}

#[tokio::test]
async fn ken_24_ken_25_ken_26_ken_27_ken_28_ken_30_ken_31_list_parameters() {
    let k = Kustom::new();
    let (_, a) = k.code(r#"{"metadata": {"store_id": "123", "url": "http://x:1", "empty": ""}}"#).await;
    k.advance(1).await;
    let (code_b, b) = k.code(r#"{"metadata": {"store_id": "456"}}"#).await;
    let (_, c) = k.code(r#"{"metadata": {"store_id": "123"}}"#).await;
    assert_eq!(k.register(&code_b, "HW-B").await.status, 201);
    let k = &k;
    let ids = |path: String| async move {
        let r = k.list(&path, KEY1).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.body["content"]
            .as_array()
            .expect("content")
            .iter()
            .map(|e| e["enrollment_id"].as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids("/ipp/v1/enrollments".into()).await,
        vec![c.clone(), b.clone(), a.clone()],
        "KEN-28: newest first, equal times in reverse creation order"
    );
    assert_eq!(ids("/ipp/v1/enrollments?metadata=store_id:123".into()).await, vec![c.clone(), a.clone()], "KEN-25");
    assert_eq!(
        ids("/ipp/v1/enrollments?metadata=store_id:123&metadata=url:http://x:1".into()).await,
        vec![a.clone()],
        "AND; value with a colon"
    );
    assert_eq!(ids("/ipp/v1/enrollments?metadata=empty:".into()).await, vec![a.clone()], "an empty value");
    assert!(ids("/ipp/v1/enrollments?metadata=STORE_ID:123".into()).await.is_empty(), "case-sensitive");
    assert_eq!(ids("/ipp/v1/enrollments?include_consumed=FALSE".into()).await, vec![c.clone(), a.clone()], "KEN-26");
    assert_eq!(ids(format!("/ipp/v1/enrollments?location_id={L1}")).await.len(), 3);
    assert!(ids("/ipp/v1/enrollments?location_id=0cb1e29c-658c-4a14-95e6-0af593bd04cf".into()).await.is_empty(), "KEN-27");
    for bad in [
        "metadata=nocolon",
        "metadata=:v",
        "metadata=a:1&metadata=a:2",
        "metadata=a:1&metadata=b:1&metadata=c:1&metadata=d:1&metadata=e:1&metadata=f:1",
    ] {
        k.list(&format!("/ipp/v1/enrollments?{bad}"), KEY1).await.invalid(&["metadata"]);
    }
    for (bad, key) in [
        ("location_id=x", "location_id"),
        (&format!("location_id={L1}&location_id={L1}") as &str, "location_id"),
        ("include_consumed=yes", "include_consumed"),
        ("include_consumed=true&include_consumed=true", "include_consumed"),
    ] {
        k.list(&format!("/ipp/v1/enrollments?{bad}"), KEY1).await.invalid(&[key]);
    }
}

#[tokio::test]
async fn ken_32_ken_34_get_one_of_the_merchants_own() {
    let k = Kustom::new();
    let (_, id) = k.code("{}").await;
    assert_eq!(k.merchant(Method::GET, &format!("/ipp/v1/enrollments/{id}"), KEY1, "").await.str("/status"), "PENDING");
    k.merchant(Method::GET, &format!("/ipp/v1/enrollments/{id}"), KEY2, "").await.problem(404, "Enrollment not found");
    k.merchant(Method::GET, "/ipp/v1/enrollments/0cb1e29c-658c-4a14-95e6-0af593bd04cf", KEY1, "")
        .await
        .problem(404, "Enrollment not found");
}

#[tokio::test]
async fn ken_35_ken_36_ken_38_ken_42_ken_43_cancel_only_pending() {
    let k = Kustom::new();
    let (code, id) = k.code("{}").await;
    let path = format!("/ipp/v1/enrollments/{id}");
    k.merchant(Method::DELETE, &path, KEY2, "").await.problem(404, "Enrollment not found");
    let r = k.merchant(Method::DELETE, &path, KEY1, "").await;
    assert_eq!((r.status, r.raw.len()), (204, 0), "KEN-36");
    assert_eq!(k.merchant(Method::GET, &path, KEY1, "").await.str("/status"), "CANCELLED", "KEN-35");
    k.merchant(Method::DELETE, &path, KEY1, "").await.problem(409, "Enrollment is CANCELLED");
    k.register(&code, "HW").await.problem(410, "Enrollment code has been cancelled");
    let (used, used_id) = k.code("{}").await;
    k.register(&used, "HW2").await;
    k.merchant(Method::DELETE, &format!("/ipp/v1/enrollments/{used_id}"), KEY1, "").await.problem(409, "Enrollment is CONSUMED");
    let (_, short) = k.code(r#"{"expires_in": 1000}"#).await;
    k.advance(1).await;
    k.merchant(Method::DELETE, &format!("/ipp/v1/enrollments/{short}"), KEY1, "").await.problem(409, "Enrollment is EXPIRED");
    k.advance(86_400 * 30).await;
    assert_eq!(
        k.merchant(Method::GET, &format!("/ipp/v1/enrollments/{used_id}"), KEY1, "").await.str("/status"),
        "CONSUMED",
        "KEN-43: never EXPIRED"
    );
}
