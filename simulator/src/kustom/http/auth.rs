//! Who is calling: a merchant by its API key (KAUTH-01…KAUTH-13), or a registered device by its
//! bearer token (KAUTH-14…KAUTH-20).

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::Algorithm;
use serde::Deserialize;

use super::problem::Problem;
use crate::auth::SigningKey;
use crate::kustom::domain::KustomState;

/// The `Authorization` value split into its scheme word and credential.
fn scheme<'a>(headers: &'a HeaderMap, want: &str) -> Option<&'a str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (word, credential) = value.split_once(' ')?;
    word.eq_ignore_ascii_case(want).then(|| credential.trim())
}

/// KAUTH-04: `kco_…` is a raw key; anything else is standard Base64 (with padding) of
/// `<username>:<key>`, split at the first `:`; an empty username is none.
fn credentials(credential: &str) -> Option<(Option<String>, String)> {
    if credential.starts_with("kco_") {
        return Some((None, credential.to_owned()));
    }
    let decoded = String::from_utf8(STANDARD.decode(credential).ok()?).ok()?;
    let (username, key) = decoded.split_once(':')?;
    Some(((!username.is_empty()).then(|| username.to_owned()), key.to_owned()))
}

/// KAUTH-01, KAUTH-02, KAUTH-05, KAUTH-10, KAUTH-11: the merchant the key names; a username, when
/// given, must be the one issued with the key.
pub(crate) fn merchant(state: &KustomState, headers: &HeaderMap) -> Result<usize, Problem> {
    let refused = Problem::merchant_unauthorized;
    let credential = scheme(headers, "basic").ok_or_else(refused)?;
    let (username, key) = credentials(credential).ok_or_else(refused)?;
    let idx = state.merchant_by_key(&key).ok_or_else(refused)?;
    match (username, state.merchant(idx)) {
        (None, Some(_)) => Ok(idx),
        (Some(u), Some(m)) if u == m.username => Ok(idx),
        _ => Err(refused()),
    }
}

/// The merchant of a list or get-location request: its key (§1.9 step 4), then `x-merchant-id`
/// (step 5, KAUTH-06).
pub(crate) fn listing(state: &KustomState, headers: &HeaderMap) -> Result<usize, Problem> {
    let merchant = merchant(state, headers)?;
    merchant_header(state, merchant, headers)?;
    Ok(merchant)
}

/// KAUTH-06, KAUTH-12, KAUTH-13: on the lists and get-location, `x-merchant-id` present and equal
/// to the key's merchant id (exactly).
pub(crate) fn merchant_header(state: &KustomState, idx: usize, headers: &HeaderMap) -> Result<(), Problem> {
    let value = headers.get("x-merchant-id").map(|v| v.to_str().unwrap_or("\u{fffd}"));
    match value {
        None | Some("") => Err(Problem::merchant_header_missing()),
        Some(v) if state.merchant(idx).is_some_and(|m| m.id == v) => Ok(()),
        Some(_) => Err(Problem::merchant_header_mismatch()),
    }
}

#[derive(serde::Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: String,
    kid: String,
}

#[derive(serde::Serialize, Deserialize)]
struct Claims {
    sub: String,
    merchant_id: String,
    iat: i64,
}

/// KAUTH-16, KAUTH-17: `{"alg":"RS256","typ":"JWT","kid":…}` (in that order, so every token
/// starts as the docs' example does) over `{"sub","merchant_id","iat"}`, no `exp`, signed with the
/// simulator's key. Written by hand because jsonwebtoken puts `typ` before `alg`.
pub(crate) fn device_token(key: &SigningKey, device_id: &str, merchant_id: &str, iat: i64) -> Result<String, String> {
    let header = serde_json::to_vec(&Header { alg: "RS256".into(), typ: "JWT".into(), kid: key.kid.clone() }).map_err(|e| e.to_string())?;
    let claims =
        serde_json::to_vec(&Claims { sub: device_id.to_owned(), merchant_id: merchant_id.to_owned(), iat }).map_err(|e| e.to_string())?;
    let message = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key.encoding(), Algorithm::RS256).map_err(|e| e.to_string())?;
    Ok(format!("{message}.{signature}"))
}

/// KAUTH-18, KAUTH-20: the registered device a `Bearer` token names.
pub(crate) fn device(state: &KustomState, key: &SigningKey, headers: &HeaderMap) -> Result<usize, Problem> {
    let refused = Problem::device_unauthorized;
    let token = scheme(headers, "bearer").ok_or_else(refused)?;
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else { return Err(refused()) };
    let header: Header = URL_SAFE_NO_PAD.decode(h).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(refused)?;
    if header.alg != "RS256" || header.kid != key.kid {
        return Err(refused());
    }
    let message = format!("{h}.{p}");
    let verified = jsonwebtoken::crypto::verify(sig, message.as_bytes(), key.decoding(), Algorithm::RS256).unwrap_or(false);
    if !verified {
        return Err(refused());
    }
    let claims: Claims = URL_SAFE_NO_PAD.decode(p).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(refused)?;
    state.device_for_token(&claims.sub, &claims.merchant_id).ok_or_else(refused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn state() -> KustomState {
        KustomState {
            merchants: vec![crate::kustom::domain::Merchant {
                id: "merchant_12345".into(),
                name: "M".into(),
                api_key: "kco_test_ipp_ujzde8gxd6ncf10epf91dhod".into(),
                username: "merchant_12345-k3v9qa".into(),
                locations: Vec::new(),
            }],
            ..KustomState::default()
        }
    }

    fn auth(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(value).expect("ascii"));
        h
    }

    #[test]
    fn kauth_01_kauth_02_kauth_04_both_forms_and_their_refusals() {
        let s = state();
        assert_eq!(merchant(&s, &auth("Basic kco_test_ipp_ujzde8gxd6ncf10epf91dhod")).ok(), Some(0));
        assert_eq!(merchant(&s, &auth("basic kco_test_ipp_ujzde8gxd6ncf10epf91dhod")).ok(), Some(0), "scheme word in any case");
        // The spec's own example.
        assert_eq!(
            merchant(&s, &auth("Basic bWVyY2hhbnRfMTIzNDUtazN2OXFhOmtjb190ZXN0X2lwcF91anpkZThneGQ2bmNmMTBlcGY5MWRob2Q=")).ok(),
            Some(0)
        );
        let no_user = STANDARD.encode(":kco_test_ipp_ujzde8gxd6ncf10epf91dhod");
        assert_eq!(merchant(&s, &auth(&format!("Basic {no_user}"))).ok(), Some(0), "an empty username is none");
        for bad in [
            "Bearer kco_test_ipp_ujzde8gxd6ncf10epf91dhod".to_owned(),
            "Basic kco_test_ipp_aaaaaaaaaaaaaaaaaaaaaaaa".to_owned(),
            format!("Basic {}", STANDARD.encode("merchant_12345:kco_test_ipp_ujzde8gxd6ncf10epf91dhod")),
            format!("Basic {}", STANDARD.encode("merchant_12345-zzzzzz:kco_test_ipp_ujzde8gxd6ncf10epf91dhod")),
            "Basic !!!".to_owned(),
            "Basic".to_owned(),
        ] {
            let p = merchant(&s, &auth(&bad)).expect_err(&bad);
            assert_eq!((p.status.as_u16(), p.rule), (401, "KAUTH-11"), "{bad}");
        }
        assert!(merchant(&s, &HeaderMap::new()).is_err());
    }

    #[test]
    fn kauth_12_kauth_13_the_merchant_header() {
        let s = state();
        let mut h = HeaderMap::new();
        assert_eq!(merchant_header(&s, 0, &h).map_err(|p| p.rule), Err("KAUTH-12"));
        h.insert("x-merchant-id", HeaderValue::from_static(""));
        assert_eq!(merchant_header(&s, 0, &h).map_err(|p| p.rule), Err("KAUTH-12"));
        h.insert("x-merchant-id", HeaderValue::from_static("MERCHANT_12345"));
        assert_eq!(merchant_header(&s, 0, &h).map_err(|p| p.rule), Err("KAUTH-13"), "compared exactly");
        h.insert("x-merchant-id", HeaderValue::from_static("merchant_12345"));
        assert!(merchant_header(&s, 0, &h).is_ok());
    }
}
