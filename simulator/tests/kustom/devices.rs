//! §2.6–§2.10 and §3.2: devices.

use axum::http::Method;
use serde_json::json;

use super::common::*;

#[tokio::test]
async fn kdev_01_kdev_02_kdev_03_kdev_04_the_record() {
    let k = Kustom::new();
    let (id, token) = k.device("HW-R", r#"{"metadata": {"a": "b"}}"#).await;
    let me = k.me(&token).await;
    let mut keys: Vec<&str> = me.body.as_object().expect("object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["created_at", "hardware_id", "id", "location_id", "merchant_id", "metadata", "name", "open_cash_register_id", "platform"],
        "KDEV-01, KDEV-02"
    );
    assert_eq!((me.str("/merchant_id"), me.body["open_cash_register_id"].clone()), (MID1.to_owned(), json!(null)), "KDEV-03");
    let updated = k.merchant(Method::PUT, &format!("/ipp/v1/devices/{id}"), KEY1, r#"{"name": "Renamed"}"#).await;
    assert_eq!(updated.str("/id"), id, "KDEV-04: stable");
    assert_eq!(updated.body["location_id"], json!(null), "KDEV-02: null when detached");
}

#[tokio::test]
async fn kdev_06_kdev_07_kdev_08_kdev_09_kdev_10_the_list() {
    let k = Kustom::new();
    let (a, _) = k.device("HW-A", r#"{"metadata": {"store_id": "123"}}"#).await;
    k.advance(1).await;
    let (b, _) = k.device("HW-B", r#"{"metadata": {"store_id": "456"}}"#).await;
    let (c, _) = k.device("HW-C", r#"{"metadata": {"store_id": "123"}}"#).await;
    let (gone, _) = k.device("HW-D", r#"{"metadata": {"store_id": "123"}}"#).await;
    k.merchant(Method::DELETE, &format!("/ipp/v1/devices/{gone}"), KEY1, "").await;
    k.merchant(Method::POST, "/ipp/v1/dev/devices", KEY2, &json!({"name": "other", "location_id": L2A}).to_string()).await;
    let k = &k;
    let ids = |path: String| async move {
        let r = k.list(&path, KEY1).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.body["content"].as_array().expect("content").iter().map(|d| d["id"].as_str().unwrap_or_default().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(ids("/ipp/v1/devices".into()).await, vec![c.clone(), b.clone(), a.clone()], "KDEV-06, KDEV-09, KDEV-10");
    assert_eq!(ids("/ipp/v1/devices?metadata=store_id:123".into()).await, vec![c.clone(), a.clone()], "KDEV-07");
    assert_eq!(ids(format!("/ipp/v1/devices?location_id={L1}&page_size=1&page_number=1")).await, vec![b.clone()], "KDEV-08");
    k.merchant(Method::PUT, &format!("/ipp/v1/devices/{a}"), KEY1, r#"{"metadata": {"store_id": "123"}}"#).await;
    assert_eq!(ids(format!("/ipp/v1/devices?location_id={L1}")).await, vec![c.clone(), b.clone()], "a detached device matches no location");
    k.list("/ipp/v1/devices?metadata=x", KEY1).await.invalid(&["metadata"]);
    k.list("/ipp/v1/devices?location_id=x", KEY1).await.invalid(&["location_id"]);
    assert_eq!(k.list("/ipp/v1/devices?include_consumed=maybe", KEY1).await.status, 200, "not a parameter of this list: ignored");
}

#[tokio::test]
async fn kdev_12_kdev_13_kdev_14_kdev_15_kdev_17_kdev_28_update_replaces() {
    let k = Kustom::new();
    let (id, token) = k.device("R58N90ABCDE", r#"{"metadata": {"store_id": "123"}}"#).await;
    let path = format!("/ipp/v1/devices/{id}");
    let before = k.me(&token).await.body;
    let r = k
        .merchant(
            Method::PUT,
            &path,
            KEY1,
            &json!({"name": "Counter 1", "metadata": {"x": "y"}, "location_id": L1.to_uppercase()}).to_string(),
        )
        .await;
    assert_eq!(
        (r.status, r.str("/name"), r.body["metadata"].clone(), r.str("/location_id")),
        (200, "Counter 1".into(), json!({"x": "y"}), L1.into()),
        "KDEV-12"
    );
    let r = k.merchant(Method::PUT, &path, KEY1, "{}").await;
    assert_eq!(
        (r.str("/name"), r.body["metadata"].clone(), r.body["location_id"].clone()),
        ("ANDROID BCDE".into(), json!({}), json!(null)),
        "KDEV-13"
    );
    for member in ["id", "hardware_id", "merchant_id", "platform", "created_at", "open_cash_register_id"] {
        assert_eq!(r.body[member], before[member], "KDEV-15 {member}");
    }
    assert_eq!(k.me(&token).await.status, 200, "KDEV-15, KDEV-28: the token stays valid");
    k.merchant(Method::PUT, &path, KEY1, &json!({"name": "", "metadata": [], "location_id": L2A}).to_string()).await.invalid(&[
        "location_id",
        "metadata",
        "name",
    ]);
    k.merchant(Method::PUT, &path, KEY1, &json!({"location_id": " "}).to_string()).await.invalid(&["location_id"]);
}

#[tokio::test]
async fn kdev_18_kdev_19_unknown_foreign_and_deregistered_devices() {
    let k = Kustom::new();
    let (id, _) = k.device("HW", "{}").await;
    let path = format!("/ipp/v1/devices/{id}");
    k.merchant(Method::PUT, "/ipp/v1/devices/0cb1e29c-658c-4a14-95e6-0af593bd04cf", KEY1, "{}").await.problem(404, "Device not found");
    k.merchant(Method::PUT, &path, KEY2, "{}").await.problem(404, "Device not found");
    k.merchant(Method::DELETE, &path, KEY2, "").await.problem(404, "Device not found");
    k.merchant(Method::DELETE, &path, KEY1, "").await;
    k.merchant(Method::PUT, &path, KEY1, "{}").await.problem(404, "Device not found");
}

#[tokio::test]
async fn kdev_20_kdev_21_kdev_29_kdev_30_deregistration_revokes_at_once() {
    let k = Kustom::new();
    let (id, token) = k.device("HW", "{}").await;
    assert_eq!(k.me(&token).await.status, 200);
    let path = format!("/ipp/v1/devices/{id}");
    let r = k.merchant(Method::DELETE, &path, KEY1, "").await;
    assert_eq!((r.status, r.raw.len()), (204, 0), "KDEV-21");
    k.me(&token).await.problem(401, "Access Denied");
    assert_eq!(k.list("/ipp/v1/devices", KEY1).await.body["total_elements"], 0);
    k.merchant(Method::DELETE, &path, KEY1, "").await.problem(404, "Device not found");
    k.merchant(Method::PUT, &path, KEY1, "{}").await.problem(404, "Device not found");
    k.advance(86_400).await;
    k.me(&token).await.problem(401, "Access Denied");
}

#[tokio::test]
async fn kdev_25_kdev_27_devices_me() {
    let k = Kustom::new();
    let (code, _) = k.code("{}").await;
    let reg = k.register(&code, "HW").await;
    assert_eq!(reg.status, 201, "KDEV-27");
    let me = k.me(&reg.str("/credentials/bearer_token")).await;
    let mut expected = reg.body.clone();
    expected.as_object_mut().map(|o| o.remove("credentials"));
    assert_eq!(me.body, expected, "KDEV-25: the record without credentials");
}
