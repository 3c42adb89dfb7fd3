//! `GET /_sim/verdict` and `GET /_sim/devices/{id}/verdict`: the client-conformance verdict
//! (§5.8) over the journal as it stands.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::clock::Clock;
use crate::http::error::ApiError;
use crate::ids::DeviceId;
use crate::journal::Journal;
use crate::verdict::{self, Report};

fn report(journal: &Journal, clock: &Clock) -> Report {
    let (entries, total) = journal.entries(None, None);
    verdict::judge(&entries, clock.mode(), journal.capacity(), total)
}

pub(crate) async fn all(State(journal): State<Arc<Journal>>, State(clock): State<Arc<Clock>>) -> Json<Report> {
    Json(report(&journal, &clock))
}

/// The verdict of one device; 404 when the journal holds no request of it (a device that never
/// spoke has nothing to be judged on, and a CI gate must not pass it by default).
pub(crate) async fn device(
    State(journal): State<Arc<Journal>>,
    State(clock): State<Arc<Clock>>,
    Path(raw): Path<String>,
) -> Result<Json<Report>, ApiError> {
    let not_found = |why: &str| ApiError::control(StatusCode::NOT_FOUND, "4004", format!("{why}: {raw}"));
    let id = DeviceId::parse(&raw).map_err(|_| not_found("Device not found"))?.to_string();
    let mut report = report(&journal, &clock);
    report.devices.retain(|d| d.device_id == id);
    let Some(device) = report.devices.first() else {
        return Err(not_found("The journal holds no request of this device"));
    };
    report.passed = device.passed;
    report.run.clear();
    Ok(Json(report))
}
