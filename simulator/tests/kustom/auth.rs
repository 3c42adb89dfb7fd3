//! §1.5 merchant authentication and §1.6 device bearer tokens.

use axum::http::Method;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::common::*;

#[tokio::test]
async fn kauth_01_kauth_02_kauth_04_the_key_raw_or_as_basic() {
    let k = Kustom::new();
    let k = &k;
    let with = |v: String| async move {
        let r = k.send(Method::GET, "/ipp/v1/locations", &[("authorization", &v), ("x-merchant-id", MID1)], "").await;
        r.status
    };
    assert_eq!(with(format!("Basic {KEY1}")).await, 200, "KAUTH-01");
    assert_eq!(with(format!("Basic {}", STANDARD.encode(format!("{USER1}:{KEY1}")))).await, 200, "KAUTH-02 with the username");
    assert_eq!(with(format!("Basic {}", STANDARD.encode(format!(":{KEY1}")))).await, 200, "KAUTH-04: an empty username is none");
    assert_eq!(with(format!("BASIC {KEY1}")).await, 200, "KAUTH-04: the scheme word in any case");
}

#[tokio::test]
async fn kauth_03_kauth_10_kauth_11_refusals() {
    let k = Kustom::new();
    let refusals = [
        None,
        Some(format!("Basic kco_test_ipp_{}", "a".repeat(24))),
        Some(format!("Basic {}", STANDARD.encode(format!("{MID1}:{KEY1}")))),
        Some(format!("Basic {}", STANDARD.encode(format!("merchant_67890-p2x7mb:{KEY1}")))),
        Some(format!("Bearer {KEY1}")),
        Some("Basic not*base64".to_owned()),
        Some(format!("Basic {}", STANDARD.encode("no-colon"))),
    ];
    for auth in refusals {
        let headers: Vec<(&str, &str)> = auth.as_deref().map(|a| vec![("authorization", a)]).unwrap_or_default();
        let r = k.send(Method::POST, "/ipp/v1/enrollments", &headers, "{}").await;
        r.problem(401, "Access Denied");
        assert_eq!(r.header("www-authenticate"), "Basic realm=\"ipp\"", "{auth:?}");
    }
}

#[tokio::test]
async fn kauth_05_the_key_alone_names_the_merchant() {
    let k = Kustom::new();
    let r = k
        .merchant_with(Method::POST, "/ipp/v1/enrollments", KEY1, &[("x-merchant-id", MID2)], r#"{"merchant_id": "merchant_67890"}"#)
        .await;
    assert_eq!((r.status, r.str("/location_id")), (201, L1.to_owned()), "merchant 1's enrollment, whatever the header and body say");
    assert_eq!(k.list("/ipp/v1/enrollments", KEY2).await.body["total_elements"], 0);
}

#[tokio::test]
async fn kauth_06_kauth_07_kauth_12_kauth_13_the_merchant_header() {
    let k = Kustom::new();
    let (_, enrollment) = k.code("{}").await;
    let auth = format!("Basic {KEY1}");
    for path in ["/ipp/v1/enrollments", "/ipp/v1/devices", "/ipp/v1/locations", &format!("/ipp/v1/locations/{L1}")] {
        k.send(Method::GET, path, &[("authorization", &auth)], "").await.invalid(&["x-merchant-id"]);
        k.send(Method::GET, path, &[("authorization", &auth), ("x-merchant-id", "")], "").await.invalid(&["x-merchant-id"]);
        k.send(Method::GET, path, &[("authorization", &auth), ("x-merchant-id", MID2)], "")
            .await
            .problem(403, "x-merchant-id does not match the API key");
        k.send(Method::GET, path, &[("authorization", &auth), ("x-merchant-id", "MERCHANT_12345")], "")
            .await
            .problem(403, "x-merchant-id does not match the API key");
        assert_eq!(k.send(Method::GET, path, &[("authorization", &auth), ("x-merchant-id", MID1)], "").await.status, 200, "{path}");
    }
    // KAUTH-07: ignored everywhere else, whatever its value.
    let get = k
        .send(Method::GET, &format!("/ipp/v1/enrollments/{enrollment}"), &[("authorization", &auth), ("x-merchant-id", "anything")], "")
        .await;
    assert_eq!(get.status, 200);
}

#[tokio::test]
async fn kauth_14_kauth_15_kauth_16_credentials_only_at_registration_and_the_token_shape() {
    let k = Kustom::new();
    let (code, _) = k.code(r#"{"metadata": {"a": "b"}}"#).await;
    let r = k.register(&code, "R58N90ABCDE").await;
    let token = r.str("/credentials/bearer_token");
    assert_eq!(r.str("/credentials/issuedAt"), r.str("/created_at"), "KAUTH-14");
    assert!(token.starts_with("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6"), "KAUTH-16 header order: {token}");
    let parts: Vec<&str> = token.split('.').collect();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
    let iat =
        time::OffsetDateTime::parse(&r.str("/created_at"), &time::format_description::well_known::Rfc3339).expect("time").unix_timestamp();
    assert_eq!(claims, json!({"sub": r.str("/id"), "merchant_id": MID1, "iat": iat}), "KAUTH-16: exactly these claims, no exp");
    // KAUTH-15: no other answer carries credentials.
    let id = r.str("/id");
    let listed = k.list("/ipp/v1/devices", KEY1).await;
    let updated = k.merchant(Method::PUT, &format!("/ipp/v1/devices/{id}"), KEY1, "{}").await;
    let me = k.me(&token).await;
    for (what, v) in [("list", &listed.body["content"][0]), ("update", &updated.body), ("me", &me.body)] {
        assert!(v.is_object() && v.get("credentials").is_none(), "{what}: {v}");
    }
}

#[tokio::test]
async fn kauth_17_device_tokens_verify_against_the_realm_jwks() {
    let k = Kustom::new();
    let (_, token) = k.device("HW-JWKS", "{}").await;
    let jwks = k.send(Method::GET, "/realms/viopay/protocol/openid-connect/certs", &[], "").await;
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwks.body["keys"][0].clone()).expect("jwk");
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).expect("key");
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    let data = jsonwebtoken::decode::<Value>(&token, &key, &v).expect("verifies under the JWKS");
    assert_eq!(data.header.kid.as_deref(), jwk.common.key_id.as_deref());
}

#[tokio::test]
async fn kauth_18_kauth_20_the_device_token_on_devices_me() {
    let k = Kustom::new();
    let (id, token) = k.device("HW-ME", "{}").await;
    assert_eq!(k.me(&token).await.str("/id"), id);
    let lower = format!("bearer {token}");
    assert_eq!(k.send(Method::GET, "/ipp/v1/devices/me", &[("authorization", &lower)], "").await.status, 200, "scheme word in any case");
    // A signature with one character changed well inside it (the last one holds padding bits).
    let mut chars: Vec<char> = token.chars().collect();
    let at = chars.len() - 10;
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    let forged: String = chars.into_iter().collect();
    let parts: Vec<&str> = token.split('.').collect();
    let other_merchant =
        format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(json!({"sub": id, "merchant_id": MID2, "iat": 0}).to_string()), parts[2]);
    let none_alg = format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    for bad in [
        None,
        Some(format!("Basic {KEY1}")),
        Some(format!("Bearer {forged}")),
        Some(format!("Bearer {other_merchant}")),
        Some(format!("Bearer {none_alg}")),
        Some("Bearer x.y".to_owned()),
    ] {
        let headers: Vec<(&str, &str)> = bad.as_deref().map(|a| vec![("authorization", a)]).unwrap_or_default();
        let r = k.send(Method::GET, "/ipp/v1/devices/me", &headers, "").await;
        r.problem(401, "Access Denied");
        assert_eq!(r.header("www-authenticate"), "Bearer realm=\"ipp\"", "{bad:?}");
    }
}
