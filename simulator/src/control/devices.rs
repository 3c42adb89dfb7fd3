//! `POST /_sim/devices` (provisioning) and `GET /_sim/devices/{id}` (full state, code history).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State, rejection::PathRejection};
use axum::http::StatusCode;
use fake::{Fake, Faker};
use serde::{Deserialize, Serialize};

use super::{CONFLICT, body};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::clock::Clock;
use crate::domain::{DeviceStatus, KEY_NAMES, ProvisionError, TOKEN_TTL};
use crate::http::error::ApiError;
use crate::ids::DeviceId;
use crate::store::ViopayStore;
use crate::time_fmt::rfc3339;

/// The most devices one request may create.
const MAX_BATCH: u32 = 10_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewDevices {
    merchant_id: String,
    id: Option<String>,
    #[serde(default, deserialize_with = "super::body::whole_u32_opt")]
    count: Option<u32>,
    status: Option<DeviceStatus>,
}

#[derive(Serialize)]
pub(crate) struct Created {
    merchant_id: String,
    device_ids: Vec<String>,
}

/// Provisions one device with the given id, or `count` (default 1) devices with random ids.
pub(crate) async fn create(State(store): State<Arc<ViopayStore>>, raw: Bytes) -> Result<(StatusCode, Json<Created>), ApiError> {
    let req: NewDevices = body::parse(&raw)?;
    let count = req.count.unwrap_or(1);
    if !(1..=MAX_BATCH).contains(&count) || (req.id.is_some() && count != 1) {
        return Err(ApiError::invalid_body(format!("count must be 1 to {MAX_BATCH}, and 1 when an id is given")));
    }
    let explicit = req.id.as_deref().map(DeviceId::parse).transpose().map_err(|e| ApiError::invalid_body(e.to_string()))?;
    let status = req.status.unwrap_or(DeviceStatus::Inactive);

    let mut store = store.write();
    let store = &mut *store;
    let owner = store
        .state
        .merchant_by_id(&req.merchant_id)
        .ok_or_else(|| ApiError::control(StatusCode::NOT_FOUND, "4004", format!("Merchant not found: {}", req.merchant_id)))?;
    let mut ids = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let id = match explicit {
            Some(id) => id,
            None => loop {
                let candidate = DeviceId::from_u32(Faker.fake_with_rng(&mut store.rng));
                if !store.state.contains_device(candidate) {
                    break candidate;
                }
            },
        };
        store.state.add_device(id, owner, status).map_err(|e| match e {
            ProvisionError::DuplicateDevice(_) => ApiError::control(StatusCode::CONFLICT, CONFLICT, e.to_string()),
            other => ApiError::invalid_body(other.to_string()),
        })?;
        ids.push(id.to_string());
    }
    Ok((StatusCode::CREATED, Json(Created { merchant_id: req.merchant_id, device_ids: ids })))
}

#[derive(Serialize)]
pub(crate) struct CodeView {
    pairing_code: String,
    state: &'static str,
    issued_at: String,
    expires_at: String,
}

#[derive(Serialize)]
pub(crate) struct IdentityKeyView {
    key_id: String,
    /// IDK-03: standard Base64 with padding.
    secret: String,
    revoked: bool,
}

#[derive(Serialize)]
pub(crate) struct KeySetView {
    key_set_id: String,
    issued_at: String,
    expires_at: String,
    keys: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
pub(crate) struct TokenView {
    token: String,
    issued_at: String,
    expires_at: String,
}

#[derive(Serialize)]
pub(crate) struct DeviceView {
    device_id: String,
    merchant_id: String,
    device_status: DeviceStatus,
    is_claimed: bool,
    claimed_by: Option<String>,
    pairing_code_status: &'static str,
    /// Oldest first; the last one is the latest.
    codes: Vec<CodeView>,
    /// IDK-01…IDK-06: what a firmware test needs to sign attests.
    identity_keys: Vec<IdentityKeyView>,
    /// IDK-04: the key the TMK is wrapped under.
    zmk: String,
    /// CFG-06.
    terminal_id: String,
    /// KEYS-12, KEYS-13: the current key set (KCVs, not keys: unwrap the blocks with the ZMK).
    key_set: Option<KeySetView>,
    /// ACT-08.
    activated_at: Option<String>,
    /// ATT-17, ATT-18: tokens issued and not yet swept, oldest first.
    attestation_tokens: Vec<TokenView>,
}

pub(crate) async fn inspect(
    State(clock): State<Arc<Clock>>,
    State(store): State<Arc<ViopayStore>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<DeviceView>, ApiError> {
    let not_found = |raw: &str| ApiError::control(StatusCode::NOT_FOUND, "4004", format!("Device not found: {raw}"));
    let raw = id.map(|Path(p)| p).unwrap_or_default();
    let device_id = DeviceId::parse(&raw).map_err(|_| not_found(&raw))?;
    let now = clock.now();
    let store = store.read();
    let state = &store.state;
    let device = state.device(device_id).map_err(|_| not_found(&raw))?;
    let status = state.status(device_id, now).map_err(|_| not_found(&raw))?;
    Ok(Json(DeviceView {
        device_id: device_id.to_string(),
        merchant_id: state.merchant(device.owner).id.clone(),
        device_status: device.status,
        is_claimed: status.is_claimed,
        claimed_by: device.claimed_by.map(|m| state.merchant(m).id.clone()),
        pairing_code_status: status.pairing_code_status,
        codes: device
            .codes
            .iter()
            .map(|c| CodeView {
                pairing_code: c.code.to_string(),
                state: c.status_at(now).as_str(),
                issued_at: rfc3339(c.issued_at),
                expires_at: rfc3339(c.expires_at()),
            })
            .collect(),
        identity_keys: state
            .identity_keys(device_id)
            .into_iter()
            .map(|k| IdentityKeyView { key_id: k.key_id, secret: STANDARD.encode(k.secret), revoked: k.revoked })
            .collect(),
        zmk: STANDARD.encode(state.zmk(device_id)),
        terminal_id: state.terminal_id(device_id).map_err(|_| not_found(&raw))?,
        key_set: state.key_set(device_id).map(|set| KeySetView {
            key_set_id: set.id("ks"),
            issued_at: rfc3339(set.issued_at),
            expires_at: rfc3339(set.expires_at()),
            keys: KEY_NAMES
                .iter()
                .zip(&set.kcvs)
                .map(|(name, kcv)| ((*name).to_owned(), serde_json::json!({ "key_id": set.id(name), "kcv": kcv })))
                .collect(),
        }),
        activated_at: state.activated_at(device_id).map(rfc3339),
        attestation_tokens: state
            .tokens_of(device_id)
            .into_iter()
            .map(|(token, r)| TokenView { token, issued_at: rfc3339(r.issued_at), expires_at: rfc3339(r.issued_at + TOKEN_TTL) })
            .collect(),
    }))
}
