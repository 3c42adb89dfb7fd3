//! §2.5 registration and §2.12 the testing endpoint.

use axum::http::Method;
use serde_json::json;

use super::common::*;

#[tokio::test]
async fn kreg_01_kreg_02_kreg_03_kreg_05_kreg_09_kreg_10_kreg_11_kreg_12_register_without_auth() {
    let k = Kustom::new();
    let (code, enrollment) = k.code(r#"{"metadata": {"store_id": "123"}}"#).await;
    k.advance(300).await;
    let body = json!({"enrollment_code": code, "hardware_id": "R58N90ABCDE", "platform": "ANDROID"}).to_string();
    // KREG-05: whatever Authorization holds is ignored.
    let r = k.send(Method::POST, "/ipp/v1/devices/register", &[("authorization", "Basic nonsense")], body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["metadata"], json!({"store_id": "123"}), "KREG-10");
    assert_eq!((r.str("/location_id"), r.str("/merchant_id")), (L1.to_owned(), MID1.to_owned()), "KREG-11, KREG-09");
    assert_eq!((r.str("/name"), r.str("/platform")), ("ANDROID BCDE".to_owned(), "ANDROID".to_owned()), "KREG-12");
    assert_eq!(
        (r.str("/created_at"), r.str("/credentials/issuedAt")),
        ("2026-11-22T10:05:00Z".to_owned(), "2026-11-22T10:05:00Z".to_owned())
    );
    assert_eq!(r.body["open_cash_register_id"], json!(null));
    let e = k.merchant(Method::GET, &format!("/ipp/v1/enrollments/{enrollment}"), KEY1, "").await;
    assert_eq!(e.str("/status"), "CONSUMED", "KREG-09");
    let named = k.code("{}").await.0;
    let r = k
        .send(
            Method::POST,
            "/ipp/v1/devices/register",
            &[],
            json!({"enrollment_code": named, "hardware_id": "AB", "platform": "IOS", "name": "Counter 1"}).to_string(),
        )
        .await;
    assert_eq!(r.str("/name"), "Counter 1");
}

#[tokio::test]
async fn kreg_06_kreg_18_every_invalid_member() {
    let k = Kustom::new();
    let k = &k;
    let reg = |body: serde_json::Value| async move { k.send(Method::POST, "/ipp/v1/devices/register", &[], body.to_string()).await };
    reg(json!({})).await.invalid(&["enrollment_code", "hardware_id", "platform"]);
    reg(json!({"enrollment_code": " ", "hardware_id": "x".repeat(129), "platform": "android", "name": ""})).await.invalid(&[
        "enrollment_code",
        "hardware_id",
        "name",
        "platform",
    ]);
    reg(json!({"enrollment_code": 5, "hardware_id": "   ", "platform": 1, "name": "n".repeat(129)})).await.invalid(&[
        "enrollment_code",
        "hardware_id",
        "name",
        "platform",
    ]);
    // Valid members, unknown code: the body passes, the lookup fails.
    reg(json!({"enrollment_code": "ZZZZZZZZ", "hardware_id": "h".repeat(128), "platform": "TERMINAL", "name": "n".repeat(128)}))
        .await
        .problem(404, "Enrollment code not found");
}

#[tokio::test]
async fn kreg_07_kreg_19_codes_are_trimmed_and_uppercased_and_otherwise_unknown() {
    let k = Kustom::new();
    let (code, _) = k.code("{}").await;
    assert_eq!(k.register(&format!("  {}\t", code.to_lowercase()), "HW").await.status, 201);
    k.register("NOT-A-CODE-AT-ALL", "HW2").await.problem(404, "Enrollment code not found");
}

#[tokio::test]
async fn kreg_08_kreg_13_kreg_22_ken_40_one_device_per_code() {
    let k = Kustom::new();
    let (code, _) = k.code("{}").await;
    assert_eq!(k.register(&code, "HW-1").await.status, 201);
    k.register(&code, "HW-2").await.problem(409, "Enrollment code has already been used");
    assert_eq!(k.list("/ipp/v1/devices", KEY1).await.body["total_elements"], 1);
}

#[tokio::test]
async fn kreg_14_concurrent_registrations_one_wins() {
    let k = Kustom::new();
    let (code, _) = k.code("{}").await;
    let attempts = (0..16).map(|i| {
        let app = k.app.clone();
        let code = code.clone();
        tokio::spawn(async move {
            let body = json!({"enrollment_code": code, "hardware_id": format!("HW-{i}"), "platform": "IOS"}).to_string();
            let req = axum::http::Request::post("/ipp/v1/devices/register").body(axum::body::Body::from(body)).expect("request");
            tower::ServiceExt::oneshot(app, req).await.expect("infallible").status().as_u16()
        })
    });
    let mut statuses = Vec::new();
    for a in attempts {
        statuses.push(a.await.expect("task"));
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
}

#[tokio::test]
async fn kreg_15_kreg_23_kdev_22_kdev_23_hardware_registered_once_per_merchant() {
    let k = Kustom::new();
    let (first, _) = k.device("HW-X", "{}").await;
    let (code, pending) = k.code("{}").await;
    k.register(&code, "HW-X").await.problem(409, "A device with this hardware_id is already registered");
    assert_eq!(
        k.merchant(Method::GET, &format!("/ipp/v1/enrollments/{pending}"), KEY1, "").await.str("/status"),
        "PENDING",
        "KREG-16: unchanged"
    );
    assert_eq!(k.register(&code, "hw-x").await.status, 201, "compared exactly");
    // Another merchant's device with the same hardware does not block.
    let other = k.enroll(KEY2, &json!({"location_id": L2A}).to_string()).await;
    assert_eq!(k.register(&other.str("/enrollment_code"), "HW-X").await.status, 201);
    // After deregistration, the hardware needs a new enrollment and gets a new id.
    assert_eq!(k.merchant(Method::DELETE, &format!("/ipp/v1/devices/{first}"), KEY1, "").await.status, 204);
    let (second, _) = k.device("HW-X", "{}").await;
    assert_ne!(first, second, "KDEV-23");
}

#[tokio::test]
async fn kreg_16_kreg_20_kreg_21_check_order_and_refusals_change_nothing() {
    let k = Kustom::new();
    let (expiring, _) = k.code(r#"{"expires_in": 1000}"#).await;
    let (cancelled, cancelled_id) = k.code("{}").await;
    k.merchant(Method::DELETE, &format!("/ipp/v1/enrollments/{cancelled_id}"), KEY1, "").await;
    k.advance(1).await;
    k.register(&expiring, "HW").await.problem(410, "Enrollment code has expired");
    k.register(&cancelled, "HW").await.problem(410, "Enrollment code has been cancelled");
    // The body is checked before the code (KREG-16): a bad platform with an expired code is 400.
    let r = k
        .send(
            Method::POST,
            "/ipp/v1/devices/register",
            &[],
            json!({"enrollment_code": expiring, "hardware_id": "HW", "platform": "X"}).to_string(),
        )
        .await;
    r.invalid(&["platform"]);
}

#[tokio::test]
async fn kreg_24_kreg_25_kreg_26_kreg_27_kreg_28_kreg_30_the_simulated_device() {
    let k = Kustom::new();
    // KREG-26, KREG-27: the simulator is a playground, so it serves the testing endpoint, with the key.
    k.merchant(Method::POST, "/ipp/v1/dev/devices", "kco_test_ipp_000000000000000000000000", r#"{"name": "x"}"#)
        .await
        .problem(401, "Access Denied");
    let r = k
        .merchant(
            Method::POST,
            "/ipp/v1/dev/devices",
            KEY1,
            r#"{"name": "Test device", "metadata": {"store_id": "123", "simulated": "no"}}"#,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["metadata"], json!({"store_id": "123", "simulated": "true"}), "KREG-24");
    let hw = r.str("/hardware_id");
    assert!(
        hw.len() == 16 && hw.starts_with("SIM-") && hw[4..].bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)),
        "KREG-28 {hw}"
    );
    assert_eq!((r.str("/platform"), r.str("/location_id"), r.str("/name")), ("TERMINAL".into(), L1.into(), "Test device".into()));
    assert!(r.str("/credentials/bearer_token").starts_with("eyJ"));
    assert_eq!(k.me(&r.str("/credentials/bearer_token")).await.str("/id"), r.str("/id"));
    let listed = k.list("/ipp/v1/enrollments", KEY1).await;
    assert_eq!(listed.body["content"][0]["status"], "CONSUMED", "KREG-28: its enrollment, consumed at once");
    assert_eq!(k.list("/ipp/v1/enrollments?include_consumed=false", KEY1).await.body["total_elements"], 0);
    for bad in [json!({}), json!({"name": ""}), json!({"name": 5}), json!({"name": "n".repeat(129)})] {
        k.merchant(Method::POST, "/ipp/v1/dev/devices", KEY1, &bad.to_string()).await.invalid(&["name"]);
    }
    k.merchant(Method::POST, "/ipp/v1/dev/devices", KEY2, r#"{"name": "x"}"#).await.invalid(&["location_id"]);
    let twenty: serde_json::Map<String, serde_json::Value> = (0..20).map(|i| (format!("k{i}"), json!("v"))).collect();
    k.merchant(Method::POST, "/ipp/v1/dev/devices", KEY1, &json!({"name": "x", "metadata": twenty}).to_string())
        .await
        .invalid(&["metadata"]);
}
