//! `POST /ipp/v1/devices/register` (KREG-01…KREG-23), the POS app's unauthenticated registration
//! with the code the clerk typed, and `POST /ipp/v1/dev/devices` (KREG-24…KREG-30), the
//! playground's simulated device.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use time::Duration;

use super::auth;
use super::body;
use super::problem::Problem;
use super::query::Invalid;
use super::request::{self, Write};
use crate::auth::SigningKey;
use crate::clock::Clock;
use crate::kustom::KustomStore;
use crate::kustom::domain::metadata::{self, Metadata};
use crate::kustom::domain::{DEFAULT_LIFETIME_MS, DeviceView, NewEnrollment, Platform, RegisterError, Registration};
use crate::kustom::store::Store;
use crate::time_fmt::rfc3339_millis;

/// KAUTH-14: `credentials.issuedAt` is camelCase, as the docs spell it (KCONV-02).
#[derive(Serialize)]
struct Credentials {
    bearer_token: String,
    #[serde(rename = "issuedAt")]
    issued_at: String,
}

/// KREG-12: the device record plus `credentials` (only here, KAUTH-15).
#[derive(Serialize)]
struct Registered {
    #[serde(flatten)]
    device: DeviceView,
    credentials: Credentials,
}

/// The 201 of both endpoints, with a fresh device token (KAUTH-16, `iat` = `issuedAt`).
fn registered(key: &SigningKey, store: &Store, device: usize) -> Response {
    let k = &store.state;
    let d = &k.devices[device];
    let view = k.device_view(d);
    match auth::device_token(key, &d.id, &view.merchant_id, d.created_at.unix_timestamp()) {
        Ok(token) => {
            let credentials = Credentials { bearer_token: token, issued_at: rfc3339_millis(d.created_at) };
            (StatusCode::CREATED, Json(Registered { device: view, credentials })).into_response()
        }
        // Signing with a key that loaded cannot fail on input.
        Err(e) => {
            tracing::error!(error = %e, "device token signing failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "cannot sign the device token").into_response()
        }
    }
}

/// KREG-06, KREG-07, KREG-18: every member checked, every invalid one reported.
fn registration(obj: &serde_json::Map<String, serde_json::Value>) -> Result<Registration, Problem> {
    let mut invalid = Invalid::default();
    fn missing<T>() -> Result<T, String> {
        Err("is required".to_owned())
    }
    let code = match obj.get("enrollment_code") {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_uppercase()),
        Some(serde_json::Value::String(_)) => Err("must not be blank".to_owned()),
        Some(_) => Err("must be a string".to_owned()),
        None => missing(),
    };
    let code = invalid.check("enrollment_code", code, "KREG-18");
    let hardware_id = invalid.check("hardware_id", obj.get("hardware_id").map_or_else(missing, |v| body::text(v, 128, false)), "KREG-18");
    let platform = match obj.get("platform") {
        Some(serde_json::Value::String(s)) => Platform::parse(s).ok_or_else(|| "must be IOS, ANDROID or TERMINAL".to_owned()),
        Some(_) => Err("must be a string".to_owned()),
        None => missing(),
    };
    let platform = invalid.check("platform", platform, "KREG-18");
    let name = match obj.get("name") {
        Some(v) => invalid.check("name", body::text(v, 128, true), "KREG-18").map(Some),
        None => Some(None),
    };
    invalid.finish()?;
    match (code, hardware_id, platform, name) {
        (Some(code), Some(hardware_id), Some(platform), Some(name)) => Ok(Registration { code, hardware_id, platform, name }),
        _ => Err(Problem::unreadable()),
    }
}

/// `POST /ipp/v1/devices/register`: no authentication (KREG-01); `Authorization` is ignored
/// (KREG-05).
pub(crate) async fn register(
    State(clock): State<Arc<Clock>>,
    State(kustom): State<Arc<KustomStore>>,
    State(key): State<Arc<SigningKey>>,
    body: Bytes,
) -> Result<Response, Problem> {
    let obj = body::object(&body)?;
    let reg = registration(&obj)?;
    let now = clock.now();
    let mut store = kustom.write();
    let store = &mut *store;
    let device = store.state.register(reg, now, &mut store.rng).map_err(|e| match e {
        RegisterError::NotFound => Problem::code_not_found(),
        RegisterError::Expired => Problem::code_expired(),
        RegisterError::Cancelled => Problem::code_cancelled(),
        RegisterError::Used => Problem::code_used(),
        RegisterError::HardwareRegistered => Problem::hardware_registered(),
    })?;
    Ok(registered(&key, store, device))
}

/// `POST /ipp/v1/dev/devices` (KREG-27: always served, with the API key).
pub(crate) async fn simulated(
    State(clock): State<Arc<Clock>>,
    State(kustom): State<Arc<KustomStore>>,
    State(key): State<Arc<SigningKey>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    request::merchant_write(&clock, &kustom, &headers, &body, |Write { store, merchant, obj, now }| {
        let mut invalid = Invalid::default();
        let name = obj.get("name").map_or_else(|| Err("is required".to_owned()), |v| body::text(v, 128, true));
        let name = invalid.check("name", name, "KREG-30");
        // KREG-24, KREG-28: `simulated` = "true" replaces any value sent; KEN-06 applies to the result.
        let mut sent = obj.get("metadata").cloned().unwrap_or_else(|| serde_json::json!({}));
        if let Some(m) = sent.as_object_mut() {
            m.insert("simulated".into(), "true".into());
        }
        let metadata: Option<Metadata> = invalid.check("metadata", metadata::parse(&sent), "KEN-17");
        let location = invalid.check("location_id", store.state.resolve_location(merchant, obj.get("location_id"), true), "KEN-20");
        invalid.finish()?;
        let (Some(name), Some(metadata), Some(Some(location_id))) = (name, metadata, location) else { return Err(Problem::unreadable()) };
        let new = NewEnrollment { metadata, lifetime: Duration::milliseconds(DEFAULT_LIFETIME_MS), location_id };
        let device = store.state.simulated_device(merchant, name, new, now, &mut store.rng);
        Ok(registered(&key, store, device))
    })
}
