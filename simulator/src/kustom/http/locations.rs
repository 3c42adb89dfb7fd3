//! `GET /ipp/v1/locations` and `GET /ipp/v1/locations/{id}` (KLOC-01…KLOC-07).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};

use super::auth;
use super::paging;
use super::problem::Problem;
use super::query::{Invalid, Query};
use crate::kustom::KustomStore;

/// `GET /ipp/v1/locations`: the fixtures' order (KLOC-04); `page_size` has no cap of 100.
pub(crate) async fn list(State(kustom): State<Arc<KustomStore>>, headers: HeaderMap, uri: Uri) -> Result<Response, Problem> {
    let store = kustom.read();
    let k = &store.state;
    let merchant = auth::listing(k, &headers)?;
    let mut invalid = Invalid::default();
    let p = paging::parse(&Query::parse(uri.query()), i32::MAX as u64, &mut invalid);
    invalid.finish()?;
    let locations = k.merchant(merchant).map(|m| m.locations.clone()).unwrap_or_default();
    Ok(Json(paging::page(locations, p)).into_response())
}

/// `GET /ipp/v1/locations/{id}`.
pub(crate) async fn get(State(kustom): State<Arc<KustomStore>>, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, Problem> {
    let store = kustom.read();
    let k = &store.state;
    let merchant = auth::listing(k, &headers)?;
    let id = crate::kustom::domain::ids::parse_uuid(&id).ok_or_else(Problem::location_not_found)?;
    let location = k.merchant(merchant).and_then(|m| m.locations.iter().find(|l| l.id == id)).ok_or_else(Problem::location_not_found)?;
    Ok(Json(location.clone()).into_response())
}
