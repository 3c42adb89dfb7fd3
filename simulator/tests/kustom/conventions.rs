//! §1.1 transport and formats, §1.2 paging.

use axum::http::Method;
use serde_json::json;

use super::common::*;

#[tokio::test]
async fn kconv_01_kconv_02_kconv_03_kconv_04_paths_fields_and_timestamps() {
    let k = Kustom::new();
    let r = k.enroll(KEY1, r#"{"expires_in": 1500}"#).await;
    assert_eq!(r.status, 201);
    // KCONV-04: UTC, Z; milliseconds only when the instant is not a whole second.
    assert_eq!((r.str("/created_at"), r.str("/expires_at")), (START.to_owned(), "2026-11-22T10:00:01.500Z".to_owned()));
    for t in [r.str("/created_at"), r.str("/expires_at")] {
        assert!(time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).is_ok(), "KCONV-03: {t}");
    }
    let reg = k.register(&r.str("/enrollment_code"), "HW-1").await;
    // KCONV-02: `credentials.issuedAt` in camelCase, everything else snake_case.
    assert!(reg.body["credentials"].get("issuedAt").is_some() && reg.body.get("hardware_id").is_some(), "{}", reg.body);
}

#[tokio::test]
async fn kconv_05_header_names_in_any_case() {
    let k = Kustom::new();
    let auth = format!("Basic {KEY1}");
    let r = k.send(Method::GET, "/ipp/v1/locations", &[("AUTHORIZATION", &auth), ("X-Merchant-Id", MID1)], "").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn kconv_06_kconv_10_ids_are_lowercase_uuids_and_a_non_uuid_names_nothing() {
    let k = Kustom::new();
    let (_, id) = k.code("{}").await;
    assert_eq!(id, id.to_lowercase());
    assert_eq!((&id[14..15], id.len()), ("4", 36), "version 4");
    let upper = k.merchant(Method::GET, &format!("/ipp/v1/enrollments/{}", id.to_uppercase()), KEY1, "").await;
    assert_eq!((upper.status, upper.str("/enrollment_id")), (200, id.clone()), "parsed in any case, written lowercase");
    k.merchant(Method::GET, "/ipp/v1/enrollments/not-a-uuid", KEY1, "").await.problem(404, "Enrollment not found");
    k.merchant(Method::PUT, "/ipp/v1/devices/not-a-uuid", KEY1, "{}").await.problem(404, "Device not found");
    k.merchant(Method::DELETE, "/ipp/v1/devices/not-a-uuid", KEY1, "").await.problem(404, "Device not found");
    k.list("/ipp/v1/locations/not-a-uuid", KEY1).await.problem(404, "Location not found");
}

#[tokio::test]
async fn kconv_07_kconv_08_lenient_bodies_json_answers_empty_204() {
    let k = Kustom::new();
    // Any Content-Type, an empty body, unknown and null members.
    let r = k
        .merchant_with(
            Method::POST,
            "/ipp/v1/enrollments",
            KEY1,
            &[("content-type", "text/plain")],
            r#"{"colour": "red", "metadata": null}"#,
        )
        .await;
    assert_eq!((r.status, r.body["metadata"].clone()), (201, json!({})), "{}", r.body);
    let r = k.enroll(KEY1, "").await;
    assert_eq!(r.status, 201);
    let cancel = k.merchant(Method::DELETE, &format!("/ipp/v1/enrollments/{}", r.str("/enrollment_id")), KEY1, "ignored body").await;
    assert_eq!(cancel.status, 204, "a DELETE's body is ignored");
}

#[tokio::test]
async fn kconv_12_kconv_13_kconv_14_pages() {
    let k = Kustom::new();
    for _ in 0..45 {
        k.code("{}").await;
    }
    let r = k.list("/ipp/v1/enrollments", KEY1).await;
    assert_eq!(r.status, 200);
    for member in ["content", "total_elements", "total_pages", "page_number", "page_size", "first", "last"] {
        assert!(r.body.get(member).is_some(), "KCONV-12 {member}");
    }
    assert_eq!((r.body["page_number"].as_u64(), r.body["page_size"].as_u64()), (Some(0), Some(20)), "KCONV-13 defaults");
    let last = k.list("/ipp/v1/enrollments?page_number=2&page_size=20", KEY1).await;
    assert_eq!(
        (
            last.body["content"].as_array().map(Vec::len),
            last.body["total_elements"].as_u64(),
            last.body["total_pages"].as_u64(),
            last.body["first"].as_bool(),
            last.body["last"].as_bool()
        ),
        (Some(5), Some(45), Some(3), Some(false), Some(true))
    );
    let past = k.list("/ipp/v1/enrollments?page_number=9", KEY1).await;
    assert_eq!((past.body["content"].as_array().map(Vec::len), past.body["last"].as_bool()), (Some(0), Some(true)));
    let none = k.list("/ipp/v1/devices", KEY1).await;
    assert_eq!(
        (none.body["total_pages"].as_u64(), none.body["first"].as_bool(), none.body["last"].as_bool()),
        (Some(0), Some(true), Some(true))
    );
}

#[tokio::test]
async fn kconv_15_kconv_16_paging_parameters() {
    let k = Kustom::new();
    for (path, key) in [
        ("/ipp/v1/enrollments?page_size=101", "page_size"),
        ("/ipp/v1/devices?page_size=0", "page_size"),
        ("/ipp/v1/enrollments?page_number=-1", "page_number"),
        ("/ipp/v1/enrollments?page_number=1&page_number=2", "page_number"),
        ("/ipp/v1/locations?page_size=x", "page_size"),
        ("/ipp/v1/locations?page_number=2147483648", "page_number"),
    ] {
        k.list(path, KEY1).await.invalid(&[key]);
    }
    assert_eq!(k.list("/ipp/v1/locations?page_size=5000&colour=red", KEY1).await.status, 200, "locations: no cap of 100; unknown ignored");
    k.list("/ipp/v1/devices?page_size=0&page_number=x", KEY1).await.invalid(&["page_number", "page_size"]);
}
