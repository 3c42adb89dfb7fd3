//! `POST /_sim/devices/{id}/auto-claim {"after_sec": N}`: automatic claims for one device, SECS
//! seconds after each code is issued (`{"after_sec": null}` turns them off for it, whatever
//! `--auto-claim` says). The device's pending code, if any, is scheduled too.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State, rejection::PathRejection};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::body;
use crate::auto_claim::AutoClaims;
use crate::clock::Clock;
use crate::domain::CodeStatus;
use crate::http::error::ApiError;
use crate::ids::DeviceId;
use crate::store::ViopayStore;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Setting {
    #[serde(default, deserialize_with = "body::whole_u32_opt")]
    after_sec: Option<u32>,
}

#[derive(Serialize)]
pub(crate) struct AutoClaim {
    device_id: String,
    /// `null`: no automatic claims for this device.
    after_sec: Option<u32>,
}

pub(crate) async fn set(
    State(clock): State<Arc<Clock>>,
    State(store): State<Arc<ViopayStore>>,
    State(auto_claims): State<Arc<AutoClaims>>,
    id: Result<Path<String>, PathRejection>,
    raw: Bytes,
) -> Result<Json<AutoClaim>, ApiError> {
    let raw_id = id.map(|Path(p)| p).unwrap_or_default();
    let not_found = || ApiError::control(StatusCode::NOT_FOUND, "4004", format!("Device not found: {raw_id}"));
    let device = DeviceId::parse(&raw_id).map_err(|_| not_found())?;
    let Setting { after_sec } = body::parse(&raw)?;
    let now = clock.now();
    let pending = {
        let store = store.read();
        let d = store.state.device(device).map_err(|_| not_found())?;
        d.latest_code().filter(|c| c.status_at(now) == CodeStatus::Pending).map(|c| (c.code, c.issued_at))
    };
    auto_claims.set_device(device, after_sec);
    if let Some((code, issued_at)) = pending {
        auto_claims.issued(device, code, issued_at);
    }
    Ok(Json(AutoClaim { device_id: device.to_string(), after_sec }))
}
