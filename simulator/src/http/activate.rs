//! `POST /pos/activate`, step 8 (ACT-*): an MSK envelope of three readiness flags in, an MSK
//! envelope of the activation out.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use rand::RngExt;
use serde::Serialize;
use serde_json::{Value, json};

use super::attestation::authorize_with_msk;
use super::error::ApiError;
use super::note::JournalNote;
use crate::clock::Clock;
use crate::crypto::envelope;
use crate::domain::{ActivateError, Readiness};
use crate::errors::{ACT_06, ACT_07, ATT_21, MSK_09, MSK_10};
use crate::store::{Store, ViopayStore};
use crate::time_fmt::rfc3339;

/// ACT-08: exactly these two members, in this order.
#[derive(Serialize)]
struct Activation {
    status: &'static str,
    activated_at: String,
}

/// ACT-05/ACT-06: the plaintext is an object with three boolean flags; other members ignored.
fn readiness(plaintext: &Value) -> Result<Readiness, String> {
    let object = plaintext.as_object().ok_or("the plaintext is not a JSON object")?;
    let flag = |name: &str| object.get(name).and_then(Value::as_bool).ok_or(format!("`{name}` must be a boolean"));
    Ok(Readiness { emv_ready: flag("emv_ready")?, keys_installed: flag("keys_installed")?, network_ok: flag("network_ok")? })
}

/// ACT-10: attestation auth (ATT-37) → key set issued (MSK-10) → envelope (MSK-08, MSK-09) →
/// flags (ACT-06) → flags true (ACT-07) → ACT-08 or ACT-09. `Content-Type` is not checked.
pub(crate) async fn activate(
    State(clock): State<Arc<Clock>>,
    State(store): State<Arc<ViopayStore>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let now = clock.now();
    let mut store = store.write();
    let Store { state, rng, .. } = &mut *store;
    let (id, msk) = authorize_with_msk(&headers, state, now)?;
    let note = JournalNote::device(id);
    let plaintext = envelope::open(&msk, &body)
        .map_err(|e| ApiError { details: Some(json!({ "message": e.to_string() })), ..ApiError::of(&MSK_09) })?;
    let flags = readiness(&plaintext).map_err(|m| ApiError { details: Some(json!({ "message": m })), ..ApiError::of(&ACT_06) })?;
    let outcome = state.activate(id, flags, now);
    let iv: [u8; 16] = rng.random();
    drop(store);
    match outcome {
        Ok(at) => {
            let plain = serde_json::to_vec(&Activation { status: "activated", activated_at: rfc3339(at) }).unwrap_or_default();
            Ok(note.attach(Json(envelope::single(&msk, &iv, &plain)).into_response()))
        }
        Err(ActivateError::NotReady(flags)) => Err(ApiError { details: Some(json!({ "not_ready": flags })), ..ApiError::of(&ACT_07) }),
        Err(ActivateError::NoKeySet) => Err(ApiError::of(&MSK_10)),
        Err(ActivateError::DeviceNotFound(d)) => Err(ApiError::with_device(&ATT_21, d)),
    }
}
