//! `/ipp/v1/devices`: list (KDEV-06…KDEV-10), update (KDEV-12…KDEV-19), deregister
//! (KDEV-20…KDEV-23) and the device's own record, `/devices/me` (KDEV-25).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::auth;
use super::body;
use super::paging;
use super::problem::Problem;
use super::query::Invalid;
use super::request::{self, Listing};
use crate::auth::SigningKey;
use crate::kustom::KustomStore;
use crate::kustom::domain::metadata::{self, Metadata};

/// `GET /ipp/v1/devices`.
pub(crate) async fn list(State(kustom): State<Arc<KustomStore>>, headers: HeaderMap, uri: Uri) -> Result<Response, Problem> {
    let store = kustom.read();
    let k = &store.state;
    let Listing { merchant, invalid, f, .. } = request::listing(k, &headers, &uri)?;
    invalid.finish()?;
    // KDEV-09: registered devices of the merchant; KDEV-08: a detached device matches no location.
    let views = k.list_devices(merchant, &f.filter).into_iter().map(|d| k.device_view(d)).collect();
    Ok(Json(paging::page(views, f.paging)).into_response())
}

/// `PUT /ipp/v1/devices/{id}`: replaces `name`, `metadata` and `location_id` (KDEV-13).
pub(crate) async fn update(
    State(kustom): State<Arc<KustomStore>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Problem> {
    let mut store = kustom.write();
    let k = &mut store.state;
    let merchant = auth::merchant(k, &headers)?;
    let obj = body::object(&body)?;
    let mut invalid = Invalid::default();
    let name = match obj.get("name") {
        Some(v) => invalid.check("name", body::text(v, 128, true), "KDEV-17").map(Some),
        None => Some(None),
    };
    let meta = match obj.get("metadata") {
        Some(v) => invalid.check("metadata", metadata::parse(v), "KDEV-17"),
        None => Some(Metadata::new()),
    };
    let location = invalid.check("location_id", k.resolve_location(merchant, obj.get("location_id"), false), "KDEV-17");
    invalid.finish()?;
    let idx = k.device(merchant, &id).ok_or_else(Problem::device_not_found)?;
    let (Some(name), Some(meta), Some(location)) = (name, meta, location) else { return Err(Problem::unreadable()) };
    k.update_device(idx, name, meta, location);
    Ok(Json(k.device_view(&k.devices[idx])).into_response())
}

/// `DELETE /ipp/v1/devices/{id}`.
pub(crate) async fn deregister(
    State(kustom): State<Arc<KustomStore>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let mut store = kustom.write();
    let k = &mut store.state;
    let merchant = auth::merchant(k, &headers)?;
    let idx = k.device(merchant, &id).ok_or_else(Problem::device_not_found)?;
    k.deregister(idx);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /ipp/v1/devices/me`.
pub(crate) async fn me(
    State(kustom): State<Arc<KustomStore>>,
    State(key): State<Arc<SigningKey>>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let store = kustom.read();
    let k = &store.state;
    let idx = auth::device(k, &key, &headers)?;
    Ok(Json(k.device_view(&k.devices[idx])).into_response())
}
