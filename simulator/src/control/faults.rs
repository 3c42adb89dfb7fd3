//! `POST|GET|DELETE /_sim/faults`: force documented errors (e.g. PAIR-08).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::body;
use crate::faults::Fault;
use crate::http::error::ApiError;
use crate::sim::Sim;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arm {
    /// The path, e.g. `/pos/pairing-code`.
    endpoint: String,
    /// The rule ID of the documented error, e.g. `PAIR-08`.
    rule: String,
    /// How many of the next requests get it (default 1).
    #[serde(default, deserialize_with = "super::body::whole_u32_opt")]
    count: Option<u32>,
    /// Only this device's requests (`X-Device-Id`); all requests when absent.
    device_id: Option<String>,
}

#[derive(Serialize)]
pub struct FaultList {
    faults: Vec<Fault>,
}

pub async fn arm(State(sim): State<Arc<Sim>>, raw: Bytes) -> Result<(StatusCode, Json<Fault>), ApiError> {
    let req: Arm = body::parse(&raw)?;
    if let Some(device) = &req.device_id {
        crate::ids::DeviceId::parse(device).map_err(|e| ApiError::invalid_body(format!("device_id: {e}")))?;
    }
    let fault = sim
        .faults
        .arm(&req.endpoint, &req.rule, req.count.unwrap_or(1), req.device_id)
        .map_err(|e| ApiError::invalid_body(e.to_string()))?;
    Ok((StatusCode::CREATED, Json(fault)))
}

pub async fn list(State(sim): State<Arc<Sim>>) -> Json<FaultList> {
    Json(FaultList { faults: sim.faults.list() })
}

pub async fn clear(State(sim): State<Arc<Sim>>) -> Json<FaultList> {
    sim.faults.clear();
    Json(FaultList { faults: Vec::new() })
}
