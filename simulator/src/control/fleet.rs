//! `GET /_sim/devices?merchant=…&status=…&page=…&per_page=…` (the fleet, for scripts that look for
//! the device they just activated) and `POST /_sim/devices/{id}/claim` (the device's own merchant
//! claims its latest code at once, through the same path as `POST /pos/claim`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State, rejection::PathRejection, rejection::QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::CONFLICT;
use crate::clock::Clock;
use crate::domain::{ClaimError, DeviceStatus, OwnClaimError};
use crate::http::error::ApiError;
use crate::http::note::JournalNote;
use crate::ids::DeviceId;
use crate::journal::{Journal, SimulatorClaim};
use crate::store::ViopayStore;
use crate::time_fmt::rfc3339;
use crate::trace::TraceIds;

/// The most devices one page holds.
const MAX_PER_PAGE: u32 = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FleetQuery {
    merchant: Option<String>,
    status: Option<DeviceStatus>,
    page: Option<u32>,
    per_page: Option<u32>,
}

#[derive(Serialize)]
pub(crate) struct FleetDevice {
    device_id: String,
    merchant_id: String,
    device_status: DeviceStatus,
    is_claimed: bool,
    pairing_code_status: &'static str,
    activated_at: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct Fleet {
    /// Devices matching the filters, on every page.
    total: usize,
    page: u32,
    per_page: u32,
    devices: Vec<FleetDevice>,
}

fn bad_query(message: impl Into<String>) -> ApiError {
    ApiError::invalid_body(message.into())
}

/// Devices in id order, filtered by merchant id and status; pages count from 1.
pub(crate) async fn list(
    State(clock): State<Arc<Clock>>,
    State(store): State<Arc<ViopayStore>>,
    query: Result<Query<FleetQuery>, QueryRejection>,
) -> Result<Json<Fleet>, ApiError> {
    let Query(q) = query.map_err(|e| bad_query(e.body_text()))?;
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(100);
    if page == 0 {
        return Err(bad_query("`page` counts from 1"));
    }
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(bad_query(format!("`per_page` must be 1 to {MAX_PER_PAGE}")));
    }
    let now = clock.now();
    let store = store.read();
    let state = &store.state;
    // A merchant nobody has owns no device: an empty page, as any filter that matches nothing.
    let owner = q.merchant.as_deref().map(|id| state.merchant_by_id(id));
    let mut ids: Vec<DeviceId> = state
        .devices()
        .filter(|(_, d)| owner.is_none_or(|o| o == Some(d.owner)) && q.status.is_none_or(|s| d.status == s))
        .map(|(id, _)| id)
        .collect();
    ids.sort_unstable();
    let total = ids.len();
    let skip = usize::try_from(u64::from(page - 1) * u64::from(per_page)).unwrap_or(usize::MAX);
    let devices = ids
        .into_iter()
        .skip(skip)
        .take(per_page as usize)
        .filter_map(|id| {
            let d = state.device(id).ok()?;
            let status = state.status(id, now).ok()?;
            Some(FleetDevice {
                device_id: id.to_string(),
                merchant_id: state.merchant(d.owner).id.clone(),
                device_status: d.status,
                is_claimed: status.is_claimed,
                pairing_code_status: status.pairing_code_status,
                activated_at: state.activated_at(id).map(rfc3339),
            })
        })
        .collect();
    Ok(Json(Fleet { total, page, per_page, devices }))
}

#[derive(Serialize)]
struct OwnClaim {
    status: &'static str,
    device_id: String,
    pairing_code: String,
    merchant_id: String,
}

/// The device's own merchant claims its latest code now (CLAIM-20 through the domain's claim).
/// 404 for an unknown device; 409 when there is no code, or the code cannot be claimed (used,
/// expired), with the reason.
pub(crate) async fn claim(
    State(clock): State<Arc<Clock>>,
    State(store): State<Arc<ViopayStore>>,
    State(journal): State<Arc<Journal>>,
    State(trace): State<Arc<TraceIds>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let raw = id.map(|Path(p)| p).unwrap_or_default();
    let not_found = || ApiError::control(StatusCode::NOT_FOUND, "4004", format!("Device not found: {raw}"));
    let device = DeviceId::parse(&raw).map_err(|_| not_found())?;
    let now = clock.now();
    let mut store = store.write();
    let conflict = |why: &str| ApiError::control(StatusCode::CONFLICT, CONFLICT, format!("cannot claim {device}: {why}"));
    let code = store.state.claim_as_owner(device, now).map_err(|e| match e {
        OwnClaimError::UnknownDevice => not_found(),
        OwnClaimError::NoCode => conflict("it has no pairing code"),
        OwnClaimError::Refused(ClaimError::Used { .. }) => conflict("its latest code has already been used"),
        OwnClaimError::Refused(ClaimError::Expired { .. }) => conflict("its latest code has expired"),
        OwnClaimError::Refused(other) => conflict(&other.to_string()),
    })?;
    let merchant_id = store.state.device(device).map(|d| store.state.merchant(d.owner).id.clone()).unwrap_or_default();
    drop(store);
    let how = format!("POST /_sim/devices/{device}/claim");
    journal.record_simulator_claim(trace.next_id(), SimulatorClaim { device, code, merchant: &merchant_id, at: now, how: &how });
    let body = OwnClaim { status: "claimed", device_id: device.to_string(), pairing_code: code.to_string(), merchant_id };
    Ok(JournalNote::device(device).attach(Json(body).into_response()))
}
