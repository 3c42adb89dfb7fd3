//! One API session, shared by the Gherkin steps and the fuzzer: how requests are built (POS
//! headers, claims, sign-in) and when a merchant's Bearer token must be renewed. Sending stays
//! with the caller, which checks every exchange its own way (a scenario's World, a fuzz case).

use std::collections::HashMap;
use std::time::Instant;

use serde_json::json;

use crate::client::ApiRequest;
use crate::model::ContentType;
use crate::spec;
use crate::targets::Merchant;

/// A token is renewed this long before it would expire, so a request never races its expiry.
const RENEW_MARGIN_SECS: f64 = 60.0;
/// Tokens are renewed at least this often, whatever lifetime the target announces.
const MAX_TOKEN_AGE_SECS: f64 = 240.0;

#[derive(Debug, Clone)]
struct Token {
    value: String,
    /// Model seconds (the target's moved clock) at issue.
    issued_model: f64,
    issued_at: Instant,
    expires_in: f64,
}

#[derive(Debug, Clone, Default)]
pub struct Session {
    tokens: HashMap<String, Token>,
}

impl Session {
    pub fn new() -> Self {
        Session::default()
    }

    /// The three POS headers of `device` (§1.8), and `Content-Type` on POST as the docs show.
    pub fn pos(method: &str, path: &str, device: &str) -> ApiRequest {
        let req = ApiRequest::new(method, path)
            .header("X-Device-Id", device)
            .header("User-Agent", spec::USER_AGENT)
            .header("X-Client-Type", "pos");
        if method == "POST" { req.header("Content-Type", "application/json") } else { req }
    }

    /// `POST /pos/claim` with an `Authorization` value (or none), a `Content-Type` and a raw body.
    pub fn claim(authorization: Option<&str>, content_type: &ContentType, body: impl Into<Vec<u8>>) -> ApiRequest {
        let mut req = ApiRequest::new("POST", "/pos/claim");
        if let Some(auth) = authorization {
            req = req.header("Authorization", auth);
        }
        if let Some(ct) = content_type.header() {
            req = req.header("Content-Type", ct);
        }
        req.body(body)
    }

    /// The documented claim of `code` with a Bearer token (CLAIM-01).
    pub fn bearer_claim(token: &str, code: &str) -> ApiRequest {
        Self::claim(Some(&format!("Bearer {token}")), &ContentType::Json, json!({ "pairing_code": code }).to_string())
    }

    /// `POST /client/session` (or its alias) with the merchant's client credentials (AUTH-04).
    pub fn sign_in(path: &str, merchant: &Merchant) -> ApiRequest {
        ApiRequest::new("POST", path).json(&json!({ "client_id": merchant.client_id, "client_secret": merchant.client_secret }))
    }

    /// `POST /session/initiate`, which a client calls before merchant-scoped requests (AUTH-10).
    pub fn initiate(token: &str, host: &str) -> ApiRequest {
        ApiRequest::new("POST", "/session/initiate").header("Authorization", &format!("Bearer {token}")).json(&json!({ "host": host }))
    }

    /// The cached token of merchant `label`, unless it is due for renewal at model time `now`. A
    /// token ages on both clocks, the moved one and the real one: whichever clock the identity
    /// provider keeps (AUTH-14), a renewed token is valid, so renewal never needs to know.
    pub fn token(&self, label: &str, now: f64) -> Option<&str> {
        let t = self.tokens.get(label)?;
        let age = (now - t.issued_model).max(t.issued_at.elapsed().as_secs_f64());
        let renew_at = (t.expires_in - RENEW_MARGIN_SECS).clamp(0.0, MAX_TOKEN_AGE_SECS);
        (age < renew_at).then_some(t.value.as_str())
    }

    /// The last token issued to `label`, whatever its age (for "the old token" checks).
    pub fn last_token(&self, label: &str) -> Option<&str> {
        self.tokens.get(label).map(|t| t.value.as_str())
    }

    pub fn remember(&mut self, label: &str, value: String, expires_in: Option<u64>, now: f64) {
        let expires_in = expires_in.map_or(MAX_TOKEN_AGE_SECS + RENEW_MARGIN_SECS, |s| s as f64);
        self.tokens.insert(label.to_owned(), Token { value, issued_model: now, issued_at: Instant::now(), expires_in });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_a_minute_before_either_clock_expires_them() {
        let mut s = Session::new();
        s.remember("A", "t".into(), Some(300), 0.0);
        assert_eq!(s.token("A", 200.0), Some("t"));
        assert_eq!(s.token("A", 240.0), None, "renewed a minute before the moved clock expires it");
        s.remember("A", "u".into(), Some(30), 0.0);
        assert_eq!(s.token("A", 0.0), None, "a lifetime under the margin is renewed every time");
        assert_eq!(s.last_token("A"), Some("u"));
    }
}
