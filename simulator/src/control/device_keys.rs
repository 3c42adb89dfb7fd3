//! Per-device provisioning for steps 5–8: identity keys (IDK-06), key-set rotation
//! (KEYS-14) and a device reset.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State, rejection::PathRejection};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::{CONFLICT, body};
use crate::auto_claim::AutoClaims;
use crate::domain::KeyAdminError;
use crate::http::error::ApiError;
use crate::ids::DeviceId;
use crate::store::{Store, ViopayStore};

fn device_from(raw: &str) -> Result<DeviceId, ApiError> {
    DeviceId::parse(raw).map_err(|_| ApiError::control(StatusCode::NOT_FOUND, "4004", format!("Device not found: {raw}")))
}

fn admin_error(e: KeyAdminError) -> ApiError {
    match e {
        KeyAdminError::Device(d) => ApiError::control(StatusCode::NOT_FOUND, "4004", format!("Device not found: {}", d.0)),
        KeyAdminError::Unknown { .. } => ApiError::control(StatusCode::NOT_FOUND, "4004", e.to_string()),
        KeyAdminError::Duplicate { .. } => ApiError::control(StatusCode::CONFLICT, CONFLICT, e.to_string()),
        KeyAdminError::InvalidKeyId(_) => ApiError::invalid_body(e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewKey {
    key_id: Option<String>,
    /// Standard Base64 of 32 bytes.
    secret: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct KeyView {
    device_id: String,
    key_id: String,
    secret: String,
    revoked: bool,
}

/// `POST /_sim/devices/{id}/identity-keys` `{"key_id"?, "secret"?}`: 201 with the key, the id
/// and secret generated where absent (IDK-06).
pub(crate) async fn add_key(
    State(store): State<Arc<ViopayStore>>,
    id: Result<Path<String>, PathRejection>,
    raw: Bytes,
) -> Result<(StatusCode, Json<KeyView>), ApiError> {
    let device = device_from(&id.map(|Path(p)| p).unwrap_or_default())?;
    let req: NewKey = body::parse(&raw)?;
    let secret = match &req.secret {
        Some(b64) => Some(
            STANDARD
                .decode(b64)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| ApiError::invalid_body("secret must be standard Base64 of 32 bytes"))?,
        ),
        None => None,
    };
    let mut store = store.write();
    let Store { state, rng, .. } = &mut *store;
    let secret = secret.unwrap_or_else(|| rng.random());
    let key_id = req.key_id.unwrap_or_else(|| format!("idk-{:08x}-{}", device.as_u32(), state.identity_keys(device).len() + 1));
    let key = state.add_identity_key(device, key_id, secret).map_err(admin_error)?;
    Ok((
        StatusCode::CREATED,
        Json(KeyView { device_id: device.to_string(), key_id: key.key_id, secret: STANDARD.encode(key.secret), revoked: false }),
    ))
}

/// `DELETE /_sim/devices/{id}/identity-keys/{key_id}`: revokes the key (IDK-06).
pub(crate) async fn revoke_key(
    State(store): State<Arc<ViopayStore>>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<KeyView>, ApiError> {
    let (raw, key_id) = path.map(|Path(p)| p).unwrap_or_default();
    let device = device_from(&raw)?;
    let mut store = store.write();
    store.state.revoke_identity_key(device, &key_id).map_err(admin_error)?;
    let key = store.state.identity_keys(device).into_iter().find(|k| k.key_id == key_id);
    let secret = key.map(|k| STANDARD.encode(k.secret)).unwrap_or_default();
    Ok(Json(KeyView { device_id: device.to_string(), key_id, secret, revoked: true }))
}

#[derive(Serialize)]
pub(crate) struct Done {
    device_id: String,
    done: &'static str,
}

/// `POST /_sim/devices/{id}/key-set/rotate` (KEYS-14).
pub(crate) async fn rotate(State(store): State<Arc<ViopayStore>>, id: Result<Path<String>, PathRejection>) -> Result<Json<Done>, ApiError> {
    let device = device_from(&id.map(|Path(p)| p).unwrap_or_default())?;
    store.write().state.rotate_key_set(device).map_err(|e| admin_error(e.into()))?;
    Ok(Json(Done { device_id: device.to_string(), done: "rotated" }))
}

/// `POST /_sim/devices/{id}/reset`: the device can run activation again.
pub(crate) async fn reset(
    State(store): State<Arc<ViopayStore>>,
    State(auto_claims): State<Arc<AutoClaims>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Done>, ApiError> {
    let device = device_from(&id.map(|Path(p)| p).unwrap_or_default())?;
    store.write().state.reset_device(device).map_err(|e| admin_error(e.into()))?;
    auto_claims.forget(device);
    Ok(Json(Done { device_id: device.to_string(), done: "reset" }))
}
