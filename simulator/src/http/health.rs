//! `GET /health/live` (LIVE-01…03): no authentication, always 200 while the process serves.

use axum::Json;
use serde_json::{Value, json};

pub(crate) async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
