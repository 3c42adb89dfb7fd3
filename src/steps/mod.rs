//! Step definitions: the vocabulary of `features/*.feature`. Every `Then` step names the rule it
//! checks in brackets (`Then the status is 200 [BOOT-01]`); the rule's level in `rules.toml`
//! decides whether a difference fails the scenario or is an advisory.
//!
//! Devices are named by the step: `the device` is `""` (cucumber passes an unmatched optional
//! group as an empty string), `device "D2"` is `D2`.

mod given;
mod then;
mod tokens;
mod when;

use crate::client::ApiRequest;
use crate::world::{CheckWorld, ERROR};

/// `bootstrap`, `pairing-code`, `status` → method and path.
pub fn endpoint(name: &str) -> (&'static str, &'static str) {
    match name {
        "bootstrap" => ("POST", "/pos/bootstrap"),
        "pairing-code" => ("POST", "/pos/pairing-code"),
        "status" => ("GET", "/pos/status"),
        other => panic!("{ERROR}unknown endpoint `{other}`: use bootstrap, pairing-code or status"),
    }
}

/// An optional `N times` count: absent means once.
pub fn count(times: &str) -> usize {
    times.parse().unwrap_or(1)
}

/// Requests a pairing code for the named device; returns the code if one was issued.
pub async fn request_code(w: &mut CheckWorld, name: &str) -> Option<String> {
    let device = w.device(name);
    let req = w.pos_request("POST", "/pos/pairing-code", &device);
    let ex = w.send(req).await;
    let code = ex.json().and_then(|v| v["pairing_code"].as_str().map(str::to_owned)).filter(|_| ex.status == Some(200));
    if let Some(code) = &code {
        w.codes.push((name.to_owned(), code.clone()));
    }
    code
}

/// `POST /pos/claim` with an `Authorization` header value (or none) and a raw body.
pub async fn claim_raw(w: &mut CheckWorld, auth: Option<String>, content_type: Option<&str>, body: impl Into<Vec<u8>>) {
    let mut req = ApiRequest::new("POST", "/pos/claim");
    if let Some(auth) = auth {
        req = req.header("Authorization", &auth);
    }
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    w.send(req.body(body)).await;
}

/// A claim of `code` by merchant `label` with a valid token.
pub async fn claim_code(w: &mut CheckWorld, label: &str, code: &str) {
    let token = w.token(label).await;
    let body = serde_json::json!({ "pairing_code": code }).to_string();
    claim_raw(w, Some(format!("Bearer {token}")), Some("application/json"), body).await;
}
