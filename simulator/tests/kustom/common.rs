//! A Kustom client of the simulator, driven in-process. Every answer is checked against the
//! rules that hold for all of them: problem details on errors (KERR-01…KERR-04), JSON on success
//! and an empty 204 (KCONV-07).

use crate::schemas::{key_matches, schemas};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use viopay_sim::{Fixtures, SimConfig, Simulator};

pub const KEY1: &str = "kco_test_ipp_ujzde8gxd6ncf10epf91dhod";
pub const MID1: &str = "merchant_12345";
pub const USER1: &str = "merchant_12345-k3v9qa";
pub const L1: &str = "46910cc3-ab41-4b80-b4a7-94dab9f1b795";
pub const KEY2: &str = "kco_test_ipp_7hq2mv9xk4c8w1rz5tb3n6pd";
pub const MID2: &str = "merchant_67890";
pub const L2A: &str = "660e8400-e29b-41d4-a716-446655440001";
pub const L2B: &str = "660e8400-e29b-41d4-a716-446655440002";
pub const START: &str = "2026-11-22T10:00:00Z";

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    /// Status, title and detail (§0.4: an error case is status and title, plus `errors` keys).
    #[track_caller]
    pub fn problem(&self, status: u16, detail: &str) {
        assert_eq!((self.status, self.body["detail"].as_str()), (status, Some(detail)), "{}", self.body);
    }

    /// A 400 `Validation Failed` naming exactly these `errors` keys.
    #[track_caller]
    pub fn invalid(&self, keys: &[&str]) {
        self.problem(400, "Invalid request content.");
        let mut got: Vec<&str> = self.body["errors"].as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
        got.sort_unstable();
        let mut want = keys.to_vec();
        want.sort_unstable();
        assert_eq!(got, want, "{}", self.body);
    }

    pub fn str(&self, pointer: &str) -> String {
        self.body.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_owned()
    }
}

pub struct Kustom {
    pub app: Router,
}

impl Kustom {
    pub fn new() -> Self {
        Self::with_fixtures(Fixtures::builtin().expect("fixtures"))
    }

    pub fn with_fixtures(fixtures: Fixtures) -> Self {
        let mut c = SimConfig::new(fixtures).with_virtual_clock(time::macros::datetime!(2026-11-22 10:00:00 UTC));
        c.seed = Some(12345);
        c.signing_key = viopay_sim::KeySource::Shared(shared_key());
        Kustom { app: Simulator::new(c, "http://sim.test").expect("simulator").router() }
    }

    pub async fn send(&self, method: Method, path: &str, headers: &[(&str, &str)], body: impl Into<Body>) -> Reply {
        let mut req = Request::builder().method(method.clone()).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = self.app.clone().oneshot(req.body(body.into()).expect("request")).await.expect("infallible");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let raw = res.into_body().collect().await.expect("body").to_bytes().to_vec();
        let body: Value = if raw.is_empty() { Value::Null } else { serde_json::from_slice(&raw).unwrap_or(Value::Null) };
        let reply = Reply { status, headers, body, raw };
        check_shape(&method, path, &reply);
        reply
    }

    pub async fn merchant(&self, method: Method, path: &str, key: &str, body: &str) -> Reply {
        self.merchant_with(method, path, key, &[], body).await
    }

    /// A merchant's request with more headers than its key.
    pub async fn merchant_with(&self, method: Method, path: &str, key: &str, more: &[(&str, &str)], body: &str) -> Reply {
        let auth = format!("Basic {key}");
        let headers: Vec<(&str, &str)> = std::iter::once(("authorization", auth.as_str())).chain(more.iter().copied()).collect();
        self.send(method, path, &headers, body.to_owned()).await
    }

    /// A list or get-location request with `x-merchant-id` (KAUTH-06).
    pub async fn list(&self, path: &str, key: &str) -> Reply {
        let auth = format!("Basic {key}");
        let mid = if key == KEY1 { MID1 } else { MID2 };
        self.send(Method::GET, path, &[("authorization", &auth), ("x-merchant-id", mid)], "").await
    }

    pub async fn enroll(&self, key: &str, body: &str) -> Reply {
        self.merchant(Method::POST, "/ipp/v1/enrollments", key, body).await
    }

    /// A PENDING enrollment's code (merchant 1, its only location).
    pub async fn code(&self, body: &str) -> (String, String) {
        let r = self.enroll(KEY1, body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        (r.str("/enrollment_code"), r.str("/enrollment_id"))
    }

    pub async fn register(&self, code: &str, hardware_id: &str) -> Reply {
        let body = serde_json::json!({"enrollment_code": code, "hardware_id": hardware_id, "platform": "ANDROID"}).to_string();
        self.send(Method::POST, "/ipp/v1/devices/register", &[], body).await
    }

    /// Enrolls and registers: the device id and its token.
    pub async fn device(&self, hardware_id: &str, body: &str) -> (String, String) {
        let (code, _) = self.code(body).await;
        let r = self.register(&code, hardware_id).await;
        assert_eq!(r.status, 201, "{}", r.body);
        (r.str("/id"), r.str("/credentials/bearer_token"))
    }

    pub async fn me(&self, token: &str) -> Reply {
        let auth = format!("Bearer {token}");
        self.send(Method::GET, "/ipp/v1/devices/me", &[("authorization", &auth)], "").await
    }

    pub async fn advance(&self, seconds: u64) {
        let r = self.send(Method::POST, "/_sim/clock/advance", &[], format!("{{\"seconds\": {seconds}}}")).await;
        assert_eq!(r.status, 200);
    }
}

fn shared_key() -> std::sync::Arc<viopay_sim::SigningKey> {
    static KEY: std::sync::OnceLock<std::sync::Arc<viopay_sim::SigningKey>> = std::sync::OnceLock::new();
    KEY.get_or_init(|| std::sync::Arc::new(viopay_sim::SigningKey::generate(Some(7)).expect("key"))).clone()
}

/// The schema the catalogue names for an answer: the route's own for a success, its error schema
/// for an error.
fn schema_for(method: &Method, path: &str, status: u16) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    let matches = |key: &str| key_matches(key, method.as_str(), path);
    let c = &schemas().catalog;
    if status >= 400 {
        return c["errors"].as_object()?.iter().find(|(k, _)| matches(k)).and_then(|(_, v)| v.as_str()).map(str::to_owned);
    }
    let (_, statuses) = c["responses"].as_object()?.iter().find(|(k, _)| matches(k))?;
    statuses[status.to_string()].as_str().map(str::to_owned)
}

/// KERR-01…KERR-04 and KCONV-07, on every `/ipp/v1` answer; the catalogue's schema on every
/// Kustom answer (control API included).
fn check_shape(method: &Method, path: &str, r: &Reply) {
    // An armed `status` fault answers as a gateway would, not as the API (no X-Trace-Id).
    if r.header("x-trace-id").is_empty() {
        return;
    }
    if path.starts_with("/ipp/v1/") || path.starts_with("/_sim/kustom/") {
        if let Some(schema) = schema_for(method, path, r.status) {
            let v = schemas().validator(&schema).unwrap_or_else(|| panic!("no schema {schema}"));
            let errors: Vec<String> = v.iter_errors(&r.body).map(|e| format!("{e} at {}", e.instance_path())).collect();
            assert!(errors.is_empty(), "{method} {path} {}: violates {schema}: {errors:?}\n{}", r.status, r.body);
        } else if r.status != 204 && path.starts_with("/ipp/v1/") && r.status != 404 && r.status != 405 && r.status != 413 {
            panic!("{method} {path}: no catalogue schema for status {}", r.status);
        }
    }
    if !path.starts_with("/ipp/v1") {
        return;
    }
    if r.status >= 400 {
        assert_eq!(r.header("content-type"), "application/problem+json", "KERR-01 {method} {path}");
        let obj = r.body.as_object().unwrap_or_else(|| panic!("KERR-01 {method} {path}: {:?}", String::from_utf8_lossy(&r.raw)));
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let want: &[&str] = if r.status == 400 && obj.contains_key("errors") {
            &["detail", "errors", "status", "title", "type"]
        } else {
            &["detail", "status", "title", "type"]
        };
        assert_eq!(keys, want, "KERR-01 {method} {path}: {}", r.body);
        assert_eq!((r.body["type"].as_str(), r.body["status"].as_u64()), (Some("about:blank"), Some(u64::from(r.status))), "KERR-01");
        let title = match r.status {
            400 => "Validation Failed",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            409 => "Conflict",
            410 => "Gone",
            413 => "Content Too Large",
            other => panic!("KERR-10: no other status ({other}) on {method} {path}"),
        };
        assert_eq!(r.body["title"].as_str(), Some(title), "KERR-02 {method} {path}");
        if obj.contains_key("errors") {
            assert_eq!(r.status, 400, "KERR-03: errors only on 400");
            assert!(r.body["errors"].as_object().is_some_and(|e| !e.is_empty() && e.values().all(Value::is_string)), "KERR-03");
        }
    } else if r.status == 204 {
        assert!(r.raw.is_empty(), "KCONV-07: 204 has no body");
    } else {
        assert_eq!(r.header("content-type"), "application/json", "KCONV-07 {method} {path}");
        assert!(r.body.is_object(), "KCONV-02 {method} {path}");
    }
}
