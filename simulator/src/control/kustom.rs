//! `GET /_sim/kustom/merchants`, `/_sim/kustom/enrollments`, `/_sim/kustom/devices`: Kustom's
//! fixtures (keys, usernames, locations) and every enrollment and device in any state, so that a
//! test or a person can see what `/ipp/v1` hides (another merchant's records, CANCELLED and
//! EXPIRED enrollments, deregistered devices).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State, rejection::QueryRejection};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::http::error::ApiError;
use crate::kustom::{DeviceView, EnrollmentView, KustomStore, Location};

#[derive(Serialize)]
pub(crate) struct MerchantView {
    id: String,
    name: String,
    api_key: String,
    username: String,
    /// `Authorization: Basic` with the username (KAUTH-02), ready to paste.
    basic_credentials: String,
    locations: Vec<Location>,
}

#[derive(Serialize)]
pub(crate) struct Merchants {
    merchants: Vec<MerchantView>,
}

pub(crate) async fn merchants(State(kustom): State<Arc<KustomStore>>) -> Json<Merchants> {
    let store = kustom.read();
    let merchants = store
        .state
        .merchants
        .iter()
        .map(|m| MerchantView {
            id: m.id.clone(),
            name: m.name.clone(),
            api_key: m.api_key.clone(),
            username: m.username.clone(),
            basic_credentials: STANDARD.encode(format!("{}:{}", m.username, m.api_key)),
            locations: m.locations.clone(),
        })
        .collect();
    Json(Merchants { merchants })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ByMerchant {
    merchant: Option<String>,
}

fn by_merchant(q: Result<Query<ByMerchant>, QueryRejection>) -> Result<Option<String>, ApiError> {
    q.map(|Query(q)| q.merchant).map_err(|e| ApiError::invalid_body(e.body_text()))
}

#[derive(Serialize)]
pub(crate) struct EnrollmentRecord {
    merchant_id: String,
    #[serde(flatten)]
    enrollment: EnrollmentView,
    /// The device it registered, once CONSUMED.
    device_id: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct Enrollments {
    enrollments: Vec<EnrollmentRecord>,
}

/// Every enrollment in creation order, with its status now (CANCELLED and EXPIRED included).
pub(crate) async fn enrollments(
    State(clock): State<Arc<Clock>>,
    State(kustom): State<Arc<KustomStore>>,
    q: Result<Query<ByMerchant>, QueryRejection>,
) -> Result<Json<Enrollments>, ApiError> {
    let merchant = by_merchant(q)?;
    let now = clock.now();
    let store = kustom.read();
    let k = &store.state;
    let enrollments = k
        .enrollments
        .iter()
        .filter_map(|e| {
            let merchant_id = k.merchant(e.merchant)?.id.clone();
            merchant.as_ref().is_none_or(|m| *m == merchant_id).then(|| EnrollmentRecord {
                merchant_id,
                enrollment: k.enrollment_view(e, now),
                device_id: e.device.clone(),
            })
        })
        .collect();
    Ok(Json(Enrollments { enrollments }))
}

#[derive(Serialize)]
pub(crate) struct DeviceRecord {
    #[serde(flatten)]
    device: DeviceView,
    /// `registered` or `deregistered` (§3.2).
    state: &'static str,
    enrollment_id: String,
}

#[derive(Serialize)]
pub(crate) struct Devices {
    devices: Vec<DeviceRecord>,
}

/// Every device in registration order, deregistered ones included.
pub(crate) async fn devices(
    State(kustom): State<Arc<KustomStore>>,
    q: Result<Query<ByMerchant>, QueryRejection>,
) -> Result<Json<Devices>, ApiError> {
    let merchant = by_merchant(q)?;
    let store = kustom.read();
    let k = &store.state;
    let devices = k
        .devices
        .iter()
        .map(|d| DeviceRecord {
            device: k.device_view(d),
            state: if d.registered { "registered" } else { "deregistered" },
            enrollment_id: d.enrollment.clone(),
        })
        .filter(|r| merchant.as_ref().is_none_or(|m| *m == r.device.merchant_id))
        .collect();
    Ok(Json(Devices { devices }))
}
