//! `GET /pos/status`, step 3 (STAT-*).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::note::JournalNote;
use super::pos_headers::PosDevice;
use crate::clock::Clock;
use crate::errors::STAT_12;
use crate::store::ViopayStore;

/// STAT-01: the three POS headers alone. STAT-11: a read lock, so it cannot change state.
/// The answer's fields go to the journal too: the client verdict reads what the device was told.
pub(crate) async fn status(
    State(clock): State<Arc<Clock>>,
    State(store): State<Arc<ViopayStore>>,
    device: PosDevice,
) -> Result<Response, ApiError> {
    let now = clock.now();
    let view = store.read().state.status(device.id, now).map_err(|_| ApiError::with_device(&STAT_12, device.id))?;
    Ok(JournalNote { status: Some(view), ..JournalNote::default() }.attach(Json(view).into_response()))
}
