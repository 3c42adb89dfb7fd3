//! One test helper for the whole API suite: a simulator driven without a socket (axum's
//! `examples/testing` pattern), whose every response is checked against `schemas/` (by endpoint
//! and status) and for the trace-id rules, whatever the test itself asserts.

use std::sync::{Arc, OnceLock};

use crate::schemas::{key_matches, schemas};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use tower::ServiceExt;
use viopay_sim::{ClockMode, Fixtures, KeySource, SigningKey, SimConfig, Simulator};

pub const T0: OffsetDateTime = datetime!(2025-12-13 14:25:30 UTC);
pub const ACME_DEVICE: &str = "POS-8F3A2C91";
pub const ACME_DEVICE_2: &str = "POS-A0000001";
pub const GLOBEX_DEVICE: &str = "POS-B0000001";
pub const UNKNOWN_DEVICE: &str = "POS-DEADBEEF";
pub const UA: &str = "Viopay-POS/1.4.2 (Android 12; PAX-A920)";

/// One RSA key for every simulator of the test process: generating one costs far more than a test.
pub fn shared_key() -> Arc<SigningKey> {
    static KEY: OnceLock<Arc<SigningKey>> = OnceLock::new();
    KEY.get_or_init(|| Arc::new(SigningKey::generate(Some(42)).expect("key generation"))).clone()
}

pub fn config() -> SimConfig {
    let mut c = SimConfig::new(Fixtures::builtin().expect("built-in fixtures")).with_virtual_clock(T0);
    c.seed = Some(7);
    c.signing_key = KeySource::Shared(shared_key());
    c
}

/// The catalogue key (`METHOD /path/{param}`) a request matches.
fn route_key(method: &Method, path: &str) -> Option<String> {
    let responses = schemas().catalog["responses"].as_object()?;
    responses.keys().find(|key| key_matches(key, method.as_str(), path)).cloned()
}

/// Validates `instance` against a schema file, panicking with every violation.
pub fn assert_schema(schema: &str, instance: &Value) {
    let v = schemas().validator(schema).unwrap_or_else(|| panic!("no schema {schema}"));
    let errors: Vec<String> = v.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "response violates {schema}: {errors:?}\nbody: {instance}");
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
    pub fn details(&self) -> &Value {
        &self.body["error"]["details"]
    }
    pub fn trace_id(&self) -> &str {
        self.headers.get("x-trace-id").and_then(|v| v.to_str().ok()).unwrap_or("")
    }
    /// Status, code and message together identify an error case (§0.4).
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, message: &str) {
        assert_eq!((self.status, self.code(), self.message()), (status, code, message), "body: {}", self.body);
    }
}

pub struct TestSim {
    pub app: Router,
}

impl TestSim {
    pub fn new() -> Self {
        Self::with(config())
    }

    pub fn with(config: SimConfig) -> Self {
        let sim = Simulator::new(config, "http://sim.test").expect("simulator");
        TestSim { app: sim.router() }
    }

    pub fn system_clock() -> Self {
        let mut c = config();
        c.clock = ClockMode::System;
        c.start_time = None;
        Self::with(c)
    }

    /// Sends a request; checks ERR-08 and the schema of the response for its endpoint and status.
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let res = self.app.clone().oneshot(req).await.expect("infallible");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let raw = res.into_body().collect().await.expect("body").to_bytes().to_vec();
        let body: Value = serde_json::from_slice(&raw)
            .unwrap_or_else(|e| panic!("{method} {path}: body is not JSON ({e}): {:?}", String::from_utf8_lossy(&raw)));
        let reply = Reply { status, headers, body, raw };
        // ERR-08: every response has X-Trace-Id; on errors it equals error.trace_id.
        assert!(!reply.trace_id().is_empty(), "{method} {path}: no X-Trace-Id");
        if status >= 400 {
            assert_schema("error.json", &reply.body);
            assert_eq!(reply.body["error"]["trace_id"].as_str(), Some(reply.trace_id()), "ERR-08");
            // ERR-12: the only 5xx is PAIR-08's.
            if status >= 500 {
                reply.assert_error(500, "5000", "Failed to create pairing code");
            }
        } else {
            let key = route_key(&method, &path).unwrap_or_else(|| panic!("no catalogue entry for {method} {path}"));
            let schema = schemas().catalog["responses"][&key][status.to_string()]
                .as_str()
                .unwrap_or_else(|| panic!("{key}: no schema for status {status}"));
            assert_schema(schema, &reply.body);
        }
        reply
    }

    pub async fn request(&self, method: Method, path: &str, headers: &[(&str, &str)], body: impl Into<Body>) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req.body(body.into()).expect("request")).await
    }

    /// A POS request with the three documented headers.
    pub async fn pos(&self, method: Method, path: &str, device: &str) -> Reply {
        self.request(
            method,
            path,
            &[("X-Device-Id", device), ("User-Agent", UA), ("X-Client-Type", "pos"), ("Content-Type", "application/json")],
            Body::empty(),
        )
        .await
    }

    pub async fn bootstrap(&self, device: &str) -> Reply {
        self.pos(Method::POST, "/pos/bootstrap", device).await
    }

    pub async fn pair(&self, device: &str) -> Reply {
        self.pos(Method::POST, "/pos/pairing-code", device).await
    }

    /// A fresh code, asserting success.
    pub async fn code(&self, device: &str) -> String {
        let r = self.pair(device).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["pairing_code"].as_str().expect("code").to_owned()
    }

    pub async fn status(&self, device: &str) -> Reply {
        self.request(Method::GET, "/pos/status", &[("X-Device-Id", device), ("User-Agent", UA), ("X-Client-Type", "pos")], Body::empty())
            .await
    }

    /// `(device_status, is_claimed, pairing_code_status)`.
    pub async fn status_triple(&self, device: &str) -> (String, bool, String) {
        let r = self.status(device).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let s = |k: &str| r.body[k].as_str().unwrap_or_default().to_owned();
        (s("device_status"), r.body["is_claimed"].as_bool().unwrap_or_default(), s("pairing_code_status"))
    }

    pub async fn json(&self, method: Method, path: &str, headers: &[(&str, &str)], body: &Value) -> Reply {
        let mut h = vec![("Content-Type", "application/json")];
        h.extend_from_slice(headers);
        self.request(method, path, &h, body.to_string()).await
    }

    pub async fn token(&self, client_id: &str, secret: &str) -> String {
        let r = self.json(Method::POST, "/client/session", &[], &json!({"client_id": client_id, "client_secret": secret})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["access_token"].as_str().expect("token").to_owned()
    }

    pub async fn acme(&self) -> String {
        self.token("acme", "acme-secret").await
    }

    pub async fn globex(&self) -> String {
        self.token("globex", "globex-secret").await
    }

    pub async fn claim(&self, token: &str, body: &Value) -> Reply {
        let auth = format!("Bearer {token}");
        self.json(Method::POST, "/pos/claim", &[("Authorization", &auth)], body).await
    }

    pub async fn advance(&self, seconds: u32) {
        let r = self.json(Method::POST, "/_sim/clock/advance", &[], &json!({ "seconds": seconds })).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// The control API's full view of a device, to prove that refused requests changed nothing.
    pub async fn device_state(&self, device: &str) -> Value {
        let r = self.request(Method::GET, &format!("/_sim/devices/{device}"), &[], Body::empty()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    }
}
