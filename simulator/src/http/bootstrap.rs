//! `POST /pos/bootstrap`, step 1 (BOOT-*).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::ApiError;
use super::note::JournalNote;
use super::pos_headers::PosDevice;
use crate::clock::Clock;
use crate::errors::BOOT_07;
use crate::settings::Settings;
use crate::store::ViopayStore;
use crate::time_fmt::rfc3339;

/// BOOT-02.
#[derive(Serialize)]
struct Bootstrap {
    status: &'static str,
    /// BOOT-03/BOOT-04: whole seconds, `Z`, from the simulator clock.
    server_time: String,
    /// BOOT-05/BOOT-06.
    min_supported_version: String,
}

/// BOOT-01: no body needed. BOOT-09/BOOT-10: repeatable, 200 in every device state, changes
/// nothing (a read lock cannot change state). BOOT-07: unprovisioned device is 404.
pub(crate) async fn bootstrap(
    State(clock): State<Arc<Clock>>,
    State(store): State<Arc<ViopayStore>>,
    State(settings): State<Arc<Settings>>,
    device: PosDevice,
) -> Result<Response, ApiError> {
    let now = clock.now();
    if !store.read().state.contains_device(device.id) {
        return Err(ApiError::with_device(&BOOT_07, device.id));
    }
    // BOOT-08: an old app still gets 200; the simulator records a warning for the client team.
    let warning = match &device.version() {
        Some(v) if v.is_older_than(&settings.min_version) => Some(format!(
            "BOOT-08: app version {v} is older than min_supported_version {}; the client should ask for an update",
            settings.min_version
        )),
        Some(_) => None,
        None => Some(format!("BOOT-08: no app version in User-Agent (`{}` after Viopay-POS/)", device.version_text())),
    };
    let body = Bootstrap { status: "ok", server_time: rfc3339(now), min_supported_version: settings.min_version.to_string() };
    Ok(JournalNote { warning, ..JournalNote::default() }.attach(Json(body).into_response()))
}
