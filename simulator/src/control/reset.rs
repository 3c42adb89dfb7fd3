//! `POST /_sim/reset`: back to the fixtures.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::sim::Sim;
use crate::time_fmt::rfc3339;

pub async fn reset(State(sim): State<Arc<Sim>>) -> Json<Value> {
    sim.reset();
    let store = sim.store.read();
    Json(json!({
        "status": "reset",
        "merchants": store.state.merchants().count(),
        "devices": store.state.device_count(),
        "now": rfc3339(sim.clock.now()),
    }))
}
