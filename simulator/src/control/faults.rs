//! `/_sim/faults`: arm, list and disarm faults (documented errors and network faults), one at a
//! time or as a named profile.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;

use super::body;
use crate::faults::{Fault, FaultSpec};
use crate::http::error::ApiError;
use crate::sim::Sim;

#[derive(Serialize)]
pub struct FaultList {
    faults: Vec<Fault>,
    /// The profiles `POST /_sim/faults/profiles/{name}` can arm.
    profiles: Vec<String>,
}

pub async fn arm(State(sim): State<Arc<Sim>>, raw: Bytes) -> Result<(StatusCode, Json<Fault>), ApiError> {
    let spec: FaultSpec = body::parse(&raw)?;
    let fault = sim.faults.arm(&spec).map_err(|e| ApiError::invalid_body(e.to_string()))?;
    Ok((StatusCode::CREATED, Json(fault)))
}

pub async fn arm_profile(State(sim): State<Arc<Sim>>, Path(name): Path<String>) -> Result<(StatusCode, Json<FaultList>), ApiError> {
    let faults = sim.faults.arm_profile(&name).map_err(|e| ApiError::control(StatusCode::NOT_FOUND, "4004", e.to_string()))?;
    Ok((StatusCode::CREATED, Json(FaultList { faults, profiles: sim.faults.profile_names() })))
}

pub async fn list(State(sim): State<Arc<Sim>>) -> Json<FaultList> {
    Json(FaultList { faults: sim.faults.list(), profiles: sim.faults.profile_names() })
}

pub async fn clear(State(sim): State<Arc<Sim>>) -> Json<FaultList> {
    sim.faults.clear();
    Json(FaultList { faults: Vec::new(), profiles: sim.faults.profile_names() })
}

pub async fn remove(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Result<Json<FaultList>, ApiError> {
    let found = id.parse::<u64>().is_ok_and(|id| sim.faults.remove(id));
    if !found {
        return Err(ApiError::control(StatusCode::NOT_FOUND, "4004", format!("no armed fault {id}")));
    }
    Ok(Json(FaultList { faults: sim.faults.list(), profiles: sim.faults.profile_names() }))
}
