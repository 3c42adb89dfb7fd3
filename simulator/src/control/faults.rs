//! `/_sim/faults`: arm, list and disarm faults (documented errors and network faults), one at a
//! time or as a named profile.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;

use super::body;
use crate::faults::{Fault, FaultSpec, Faults};
use crate::http::error::ApiError;

#[derive(Serialize)]
pub(crate) struct FaultList {
    faults: Vec<Fault>,
    /// The profiles `POST /_sim/faults/profiles/{name}` can arm.
    profiles: Vec<String>,
}

pub(crate) async fn arm(State(faults): State<Arc<Faults>>, raw: Bytes) -> Result<(StatusCode, Json<Fault>), ApiError> {
    let spec: FaultSpec = body::parse(&raw)?;
    let fault = faults.arm(&spec).map_err(|e| ApiError::invalid_body(e.to_string()))?;
    Ok((StatusCode::CREATED, Json(fault)))
}

pub(crate) async fn arm_profile(
    State(faults): State<Arc<Faults>>,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<FaultList>), ApiError> {
    let armed = faults.arm_profile(&name).map_err(|e| ApiError::control(StatusCode::NOT_FOUND, "4004", e.to_string()))?;
    Ok((StatusCode::CREATED, Json(FaultList { faults: armed, profiles: faults.profile_names() })))
}

pub(crate) async fn list(State(faults): State<Arc<Faults>>) -> Json<FaultList> {
    Json(FaultList { faults: faults.list(), profiles: faults.profile_names() })
}

pub(crate) async fn clear(State(faults): State<Arc<Faults>>) -> Json<FaultList> {
    faults.clear();
    Json(FaultList { faults: Vec::new(), profiles: faults.profile_names() })
}

pub(crate) async fn remove(State(faults): State<Arc<Faults>>, Path(id): Path<String>) -> Result<Json<FaultList>, ApiError> {
    let found = id.parse::<u64>().is_ok_and(|id| faults.remove(id));
    if !found {
        return Err(ApiError::control(StatusCode::NOT_FOUND, "4004", format!("no armed fault {id}")));
    }
    Ok(Json(FaultList { faults: faults.list(), profiles: faults.profile_names() }))
}
