//! `GET /_sim/journal?device=POS-…&limit=N`: the recorded exchanges, oldest first.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State, rejection::QueryRejection};
use serde::{Deserialize, Serialize};

use crate::http::error::ApiError;
use crate::journal::{Journal, JournalEntry};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Filter {
    device: Option<String>,
    limit: Option<u32>,
}

#[derive(Serialize)]
pub(crate) struct JournalBody {
    /// The ring size; older entries are dropped.
    capacity: usize,
    /// Exchanges recorded since start or reset, dropped ones included.
    total: u64,
    entries: Vec<JournalEntry>,
}

pub(crate) async fn journal(
    State(journal): State<Arc<Journal>>,
    filter: Result<Query<Filter>, QueryRejection>,
) -> Result<Json<JournalBody>, ApiError> {
    let Query(filter) = filter.map_err(|e| ApiError::invalid_body(e.body_text()))?;
    let (entries, total) = journal.entries(filter.device.as_deref(), filter.limit.map(|l| l as usize));
    Ok(Json(JournalBody { capacity: journal.capacity(), total, entries }))
}
