//! insta snapshots (in the top-level `snapshots/`) of Kustom's canonical answers, named by rule ID:
//! status, the headers a rule names, and the body, generated values redacted. A changed wire
//! format fails here first.

use axum::http::Method;
use serde_json::json;

use super::common::*;

fn snapshot(name: &str, r: &Reply) {
    let mut headers = serde_json::Map::new();
    for h in ["content-type", "www-authenticate", "allow"] {
        if !r.header(h).is_empty() {
            headers.insert(h.to_owned(), json!(r.header(h)));
        }
    }
    let value = json!({ "status": r.status, "headers": headers, "body": r.body });
    insta::with_settings!({
        snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_json_snapshot!(name, value, {
            ".body.enrollment_id" => "[uuid]",
            ".body.enrollment_code" => "[code]",
            ".body.id" => "[uuid]",
            ".body.hardware_id" => "[hardware_id]",
            ".body.credentials.bearer_token" => "[jwt]",
            ".body.content[].enrollment_id" => "[uuid]",
            ".body.content[].enrollment_code" => "[code]",
            ".body.content[].id" => "[uuid]",
        });
    });
}

#[tokio::test]
async fn canonical_kustom_answers() {
    let k = Kustom::new();
    let auth = format!("Basic {KEY1}");
    snapshot("KEN-05_enrollment_201", &k.enroll(KEY1, r#"{"metadata": {"store_id": "123"}}"#).await);
    snapshot(
        "KEN-17_KEN-18_KEN-20_enrollment_invalid",
        &k.enroll(KEY1, r#"{"metadata": {"k": 1}, "expires_in": 5, "location_id": "x"}"#).await,
    );
    snapshot("KEN-19_enrollment_both_lifetimes", &k.enroll(KEY1, r#"{"ttl": "TWO_HOURS", "expires_in": 7200000}"#).await);
    snapshot("KEN-21_enrollment_list_200", &k.list("/ipp/v1/enrollments", KEY1).await);
    snapshot("KEN-30_enrollment_list_bad_metadata", &k.list("/ipp/v1/enrollments?metadata=nocolon", KEY1).await);
    snapshot("KEN-31_enrollment_list_bad_include_consumed", &k.list("/ipp/v1/enrollments?include_consumed=maybe", KEY1).await);
    snapshot("KCONV-16_list_bad_page_size", &k.list("/ipp/v1/devices?page_size=101", KEY1).await);
    snapshot(
        "KEN-34_enrollment_not_found",
        &k.merchant(Method::GET, "/ipp/v1/enrollments/0cb1e29c-658c-4a14-95e6-0af593bd04cf", KEY1, "").await,
    );
    let (code, id) = k.code("{}").await;
    snapshot("KEN-36_cancel_204", &k.merchant(Method::DELETE, &format!("/ipp/v1/enrollments/{id}"), KEY1, "").await);
    snapshot("KEN-38_cancel_not_pending", &k.merchant(Method::DELETE, &format!("/ipp/v1/enrollments/{id}"), KEY1, "").await);
    snapshot("KREG-21_register_cancelled", &k.register(&code, "HW").await);
    snapshot("KREG-18_register_invalid", &k.send(Method::POST, "/ipp/v1/devices/register", &[], "{}").await);
    snapshot("KREG-19_register_unknown_code", &k.register("ZZZZZZZZ", "HW").await);
    let (fresh, _) = k.code(r#"{"metadata": {"store_id": "123"}}"#).await;
    let reg = k.register(&fresh, "R58N90ABCDE").await;
    snapshot("KREG-12_register_201", &reg);
    snapshot("KREG-22_register_used", &k.register(&fresh, "R58N90ABCDE").await);
    let (again, _) = k.code("{}").await;
    snapshot("KREG-23_register_hardware_registered", &k.register(&again, "R58N90ABCDE").await);
    let token = reg.str("/credentials/bearer_token");
    snapshot("KDEV-25_me_200", &k.me(&token).await);
    snapshot("KDEV-06_device_list_200", &k.list("/ipp/v1/devices?metadata=store_id:123", KEY1).await);
    let device = reg.str("/id");
    snapshot("KDEV-12_update_200", &k.merchant(Method::PUT, &format!("/ipp/v1/devices/{device}"), KEY1, r#"{"name": "Counter 1"}"#).await);
    snapshot(
        "KDEV-17_update_invalid",
        &k.merchant(Method::PUT, &format!("/ipp/v1/devices/{device}"), KEY1, r#"{"name": "", "metadata": []}"#).await,
    );
    snapshot("KDEV-21_deregister_204", &k.merchant(Method::DELETE, &format!("/ipp/v1/devices/{device}"), KEY1, "").await);
    snapshot("KDEV-19_device_not_found", &k.merchant(Method::DELETE, &format!("/ipp/v1/devices/{device}"), KEY1, "").await);
    snapshot("KAUTH-20_me_revoked", &k.me(&token).await);
    let (short, _) = k.code(r#"{"expires_in": 1000}"#).await;
    k.advance(1).await;
    snapshot("KREG-20_register_expired", &k.register(&short, "HW-2").await);
    snapshot("KAUTH-11_no_key", &k.send(Method::POST, "/ipp/v1/enrollments", &[], "{}").await);
    snapshot("KAUTH-12_no_merchant_header", &k.send(Method::GET, "/ipp/v1/devices", &[("authorization", &auth)], "").await);
    snapshot(
        "KAUTH-13_other_merchant_header",
        &k.send(Method::GET, "/ipp/v1/devices", &[("authorization", &auth), ("x-merchant-id", MID2)], "").await,
    );
    snapshot("KLOC-01_location_list_200", &k.list("/ipp/v1/locations", KEY2).await);
    snapshot("KLOC-02_location_200", &k.list(&format!("/ipp/v1/locations/{L1}"), KEY1).await);
    snapshot("KLOC-07_location_not_found", &k.list(&format!("/ipp/v1/locations/{L2A}"), KEY1).await);
    snapshot("KREG-28_simulated_device_201", &k.merchant(Method::POST, "/ipp/v1/dev/devices", KEY1, r#"{"name": "Test device"}"#).await);
    snapshot("KREG-30_simulated_device_no_name", &k.merchant(Method::POST, "/ipp/v1/dev/devices", KEY1, "{}").await);
    snapshot("KERR-06_no_route", &k.send(Method::GET, "/ipp/v1/foo", &[], "").await);
    snapshot("KERR-07_method_not_allowed", &k.send(Method::PUT, "/ipp/v1/devices/me", &[], "").await);
    snapshot("KERR-08_body_too_large", &k.send(Method::POST, "/ipp/v1/devices/register", &[], "x".repeat(70_000)).await);
    snapshot("KERR-09_body_not_an_object", &k.send(Method::POST, "/ipp/v1/devices/register", &[], "[]").await);
}
