//! Merchant auth: tokens, JWKS, sessions (AUTH-*), and the token attacks of CLAIM-03/CLAIM-04.

use axum::http::Method;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};
use time::Duration;
use viopay_sim::Merchant;
use viopay_sim::SigningKey;
use viopay_sim::{AccessClaims, TokenIssuer};

use crate::common::*;

const ISSUER: &str = "http://sim.test/realms/viopay";

fn acme() -> Merchant {
    Merchant {
        id: "550e8400-e29b-41d4-a716-446655440000".into(),
        name: "Acme Coffee".into(),
        client_id: "acme".into(),
        client_secret: "acme-secret".into(),
    }
}

fn decode_part(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

#[tokio::test]
async fn auth_02_auth_03_tokens_are_rs256_with_merchant_id_and_verify_against_the_jwks() {
    let sim = TestSim::new();
    let token = sim.acme().await;
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header = decode_part(parts[0]);
    assert_eq!(header["alg"], "RS256");
    let jwks = sim.request(Method::GET, "/realms/viopay/protocol/openid-connect/certs", &[], "").await;
    assert_eq!(jwks.status, 200);
    let jwk = &jwks.body["keys"][0];
    assert_eq!(header["kid"], jwk["kid"]);
    let key = DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap_or_default(), jwk["e"].as_str().unwrap_or_default()).expect("jwk");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_issuer(&[ISSUER]);
    let claims = jsonwebtoken::decode::<AccessClaims>(&token, &key, &validation).expect("verifies with the JWKS").claims;
    assert_eq!(claims.merchant_id, "550e8400-e29b-41d4-a716-446655440000");
    assert_eq!(claims.exp - claims.iat, 300);

    let conf = sim.request(Method::GET, "/realms/viopay/.well-known/openid-configuration", &[], "").await;
    assert_eq!(conf.body["issuer"], ISSUER);
    assert_eq!(conf.body["jwks_uri"], format!("{ISSUER}/protocol/openid-connect/certs"));
    let other = sim.request(Method::GET, "/realms/master/protocol/openid-connect/certs", &[], "").await;
    assert_eq!(other.status, 404);
}

#[tokio::test]
async fn auth_04_auth_05_auth_06_client_session_and_its_legacy_alias() {
    let sim = TestSim::new();
    let code = sim.code(ACME_DEVICE).await;
    for path in ["/client/session", "/auth/token"] {
        let r = sim.json(Method::POST, path, &[], &json!({"client_id": "acme", "client_secret": "acme-secret"})).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.body["token_type"], "Bearer");
        assert_eq!(r.body["expires_in"], 300);
    }
    let legacy = sim.json(Method::POST, "/auth/token", &[], &json!({"client_id": "acme", "client_secret": "acme-secret"})).await;
    let token = legacy.body["access_token"].as_str().unwrap_or_default();
    assert_eq!(sim.claim(token, &json!({"pairing_code": code})).await.status, 200, "AUTH-04: usable as the claim Bearer token");
}

#[tokio::test]
async fn auth_07_bad_credentials_are_401_4010() {
    let sim = TestSim::new();
    for path in ["/client/session", "/auth/token"] {
        for body in [json!({"client_id": "acme", "client_secret": "wrong"}), json!({"client_id": "nobody", "client_secret": "acme-secret"})]
        {
            sim.json(Method::POST, path, &[], &body).await.assert_error(401, "4010", "Invalid client credentials");
        }
        for body in [json!({"client_id": "acme"}), json!({"client_secret": "x"}), json!({"client_id": 5, "client_secret": "x"})] {
            sim.json(Method::POST, path, &[], &body).await.assert_error(400, "4000", "Invalid request body");
        }
    }
}

#[tokio::test]
async fn auth_08_auth_09_auth_13_session_initiate() {
    let sim = TestSim::new();
    let token = sim.acme().await;
    let auth = format!("Bearer {token}");
    let r = sim.json(Method::POST, "/session/initiate", &[("Authorization", &auth)], &json!({"host": "merchant.viopay.io"})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["merchant_id"], "550e8400-e29b-41d4-a716-446655440000");
    assert_eq!(r.body["host"], "merchant.viopay.io");
    sim.json(Method::POST, "/session/initiate", &[("Authorization", "Bearer nope")], &json!({"host": "x"})).await.assert_error(
        401,
        "4010",
        "Unauthorized",
    );
    sim.json(Method::POST, "/session/initiate", &[], &json!({"host": "x"})).await.assert_error(401, "4010", "Unauthorized");
    sim.json(Method::POST, "/session/initiate", &[("Authorization", &auth)], &json!({})).await.assert_error(
        400,
        "4000",
        "Invalid request body",
    );
}

#[tokio::test]
async fn auth_11_claim_does_not_need_an_initiated_session() {
    let sim = TestSim::new();
    let code = sim.code(ACME_DEVICE).await;
    let token = sim.acme().await;
    assert_eq!(sim.claim(&token, &json!({"pairing_code": code})).await.status, 200);
}

/// Tokens that must all be refused with 401 "4010" "Unauthorized" (CLAIM-03/CLAIM-04).
fn attacks(valid: &str) -> Vec<(&'static str, String)> {
    let parts: Vec<&str> = valid.split('.').collect();
    let payload = decode_part(parts[1]);

    let alg_none = format!("{}.{}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#), parts[1]);

    let mut tampered_claims = payload.clone();
    tampered_claims["merchant_id"] = json!("7c9e6679-7425-40de-944b-e07fc1f90ae7");
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(tampered_claims.to_string()), parts[2]);

    let other_key = std::sync::Arc::new(SigningKey::generate(Some(99)).expect("key"));
    let wrong_key = TokenIssuer::new(other_key, ISSUER.into(), Duration::seconds(300)).issue(&acme(), T0, "jti".into()).expect("token");
    let wrong_issuer = TokenIssuer::new(shared_key(), "http://evil.test/realms/viopay".into(), Duration::seconds(300))
        .issue(&acme(), T0, "jti".into())
        .expect("token");
    let hs256 = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &payload, &EncodingKey::from_secret(b"secret")).expect("hs256");
    let mut ghost = acme();
    ghost.id = "00000000-0000-4000-8000-000000000000".into();
    let unknown_merchant =
        TokenIssuer::new(shared_key(), ISSUER.into(), Duration::seconds(300)).issue(&ghost, T0, "jti".into()).expect("token");
    let no_signature = format!("{}.{}.", parts[0], parts[1]);

    vec![
        ("alg none", format!("Bearer {alg_none}")),
        ("tampered payload", format!("Bearer {tampered}")),
        ("wrong key", format!("Bearer {wrong_key}")),
        ("wrong issuer", format!("Bearer {wrong_issuer}")),
        ("HS256", format!("Bearer {hs256}")),
        ("unknown merchant", format!("Bearer {unknown_merchant}")),
        ("signature stripped", format!("Bearer {no_signature}")),
        ("garbage", "Bearer not.a.jwt".into()),
        ("empty bearer", "Bearer ".into()),
        ("basic scheme", format!("Basic {valid}")),
        ("no scheme", valid.to_owned()),
    ]
}

#[tokio::test]
async fn claim_03_claim_04_token_attacks_are_401_4010_and_change_nothing() {
    let sim = TestSim::new();
    let code = sim.code(ACME_DEVICE).await;
    let valid = sim.acme().await;
    let before = sim.device_state(ACME_DEVICE).await;
    for (case, auth) in attacks(&valid) {
        let r = sim.json(Method::POST, "/pos/claim", &[("Authorization", &auth)], &json!({"pairing_code": code})).await;
        assert_eq!((r.status, r.code(), r.message()), (401, "4010", "Unauthorized"), "{case}");
    }
    let r = sim.json(Method::POST, "/pos/claim", &[], &json!({"pairing_code": code})).await;
    r.assert_error(401, "4010", "Unauthorized");
    assert_eq!(sim.device_state(ACME_DEVICE).await, before);
    let journal = sim.request(Method::GET, "/_sim/journal", &[], "").await;
    let warned = journal.body["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["warning"].as_str().is_some_and(|w| w.starts_with("token refused")))
        .count();
    assert_eq!(warned, 12, "each refusal says why in the journal");
}

#[tokio::test]
async fn time_03_tokens_expire_on_the_simulator_clock() {
    let sim = TestSim::new();
    let token = sim.acme().await;
    sim.advance(299).await;
    let code = sim.code(ACME_DEVICE).await;
    let auth = format!("Bearer {token}");
    let r = sim.json(Method::POST, "/session/initiate", &[("Authorization", &auth)], &json!({"host": "h"})).await;
    assert_eq!(r.status, 200);
    sim.advance(1).await;
    sim.claim(&token, &json!({"pairing_code": code})).await.assert_error(401, "4010", "Unauthorized");
    let fresh = sim.acme().await;
    assert_eq!(sim.claim(&fresh, &json!({"pairing_code": code})).await.status, 200);
}
