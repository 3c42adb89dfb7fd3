//! `GET /_sim/clock`, `POST /_sim/clock/advance`, `POST /_sim/clock/set`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::Duration;

use super::{CONFLICT, body};
use crate::clock::{Clock, ClockError, ClockMode};
use crate::http::error::ApiError;
use crate::time_fmt::{parse_rfc3339, rfc3339};

#[derive(Serialize)]
pub(crate) struct ClockBody {
    now: String,
    mode: ClockMode,
}

fn body_of(clock: &Clock) -> Json<ClockBody> {
    Json(ClockBody { now: rfc3339(clock.now()), mode: clock.mode() })
}

fn refused(e: ClockError) -> ApiError {
    match e {
        ClockError::OutOfRange => ApiError::invalid_body(e.to_string()),
        ClockError::NotVirtual | ClockError::Backwards { .. } => ApiError::control(StatusCode::CONFLICT, CONFLICT, e.to_string()),
    }
}

pub(crate) async fn get_clock(State(clock): State<Arc<Clock>>) -> Json<ClockBody> {
    body_of(&clock)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Advance {
    #[serde(deserialize_with = "super::body::whole_u32")]
    seconds: u32,
}

/// `{"seconds": N}`: moves a virtual clock N seconds on; 409 on the system clock.
pub(crate) async fn advance(State(clock): State<Arc<Clock>>, raw: Bytes) -> Result<Json<ClockBody>, ApiError> {
    let Advance { seconds } = body::parse(&raw)?;
    clock.advance(Duration::seconds(i64::from(seconds))).map_err(refused)?;
    Ok(body_of(&clock))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Set {
    now: String,
}

/// `{"now": RFC3339}`: sets a virtual clock to a later instant.
pub(crate) async fn set(State(clock): State<Arc<Clock>>, raw: Bytes) -> Result<Json<ClockBody>, ApiError> {
    let Set { now } = body::parse(&raw)?;
    let to = parse_rfc3339(&now).map_err(|e| ApiError::invalid_body(format!("`now` is not an RFC 3339 timestamp: {e}")))?;
    clock.set(to).map_err(refused)?;
    Ok(body_of(&clock))
}
