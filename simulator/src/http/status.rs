//! `GET /pos/status`, step 3 (STAT-*).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use super::error::ApiError;
use super::pos_headers::PosDevice;
use crate::domain::StatusView;
use crate::errors::STAT_12;
use crate::sim::Sim;

/// STAT-01: the three POS headers alone. STAT-11: a read lock, so it cannot change state.
pub async fn status(State(sim): State<Arc<Sim>>, device: PosDevice) -> Result<Json<StatusView>, ApiError> {
    let now = sim.clock.now();
    let view = sim.store.read().state.status(device.id, now);
    view.map(Json).map_err(|_| ApiError::with_device(&STAT_12, device.id))
}
