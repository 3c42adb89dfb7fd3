//! Bad `Authorization` headers for CLAIM-03/CLAIM-04 and AUTH-13. They are built from a valid
//! token of the target, treated as opaque where it is not a JWT.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::forge::tamper;
use crate::world::{CheckWorld, harness_error};

/// The `Authorization` header value for a named variant, or `None` for "no Authorization header".
pub async fn authorization(w: &mut CheckWorld, variant: &str) -> Option<String> {
    if variant == "no Authorization header" {
        return None;
    }
    let valid = w.token("A").await;
    Some(match variant {
        "a garbage token" => "Bearer not-a-token".to_owned(),
        "an empty Bearer token" => "Bearer ".to_owned(),
        "the Basic scheme" => format!("Basic {valid}"),
        "an alg none token" => {
            let payload = valid.split('.').nth(1).unwrap_or("e30").to_owned();
            format!("Bearer {}.{payload}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#))
        }
        "a tampered token" => format!("Bearer {}", tamper(&valid)),
        "a token signed by another key" => {
            let payload = valid
                .split('.')
                .nth(1)
                .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
            let claims = payload.unwrap_or_else(|| serde_json::json!({ "sub": "attacker", "exp": 4_102_444_800_i64 }));
            match jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(b"an attacker's key")) {
                Ok(t) => format!("Bearer {t}"),
                Err(e) => harness_error!("cannot build the forged token: {e}"),
            }
        }
        other => harness_error!("unknown token variant `{other}`"),
    })
}
