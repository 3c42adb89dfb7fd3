//! `/ipp/v1/enrollments`: create (KEN-01…KEN-20), list (KEN-21…KEN-31), get (KEN-32, KEN-34)
//! and cancel (KEN-35…KEN-38).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use time::Duration;

use super::auth;
use super::paging;
use super::problem::Problem;
use super::query::Invalid;
use super::request::{self, Listing, Write};
use crate::clock::Clock;
use crate::kustom::KustomStore;
use crate::kustom::domain::metadata::{self, Metadata};
use crate::kustom::domain::{DEFAULT_LIFETIME_MS, KustomState, MAX_LIFETIME_MS, MIN_LIFETIME_MS, NewEnrollment, ttl};

/// KEN-06/KEN-17, KEN-07/KEN-18, KEN-08/KEN-09/KEN-19, KEN-10/KEN-20: every member checked, every
/// invalid one reported (KERR-03).
pub(crate) fn new_enrollment(state: &KustomState, merchant: usize, obj: &serde_json::Map<String, Value>) -> Result<NewEnrollment, Problem> {
    let mut invalid = Invalid::default();
    let metadata = match obj.get("metadata") {
        Some(v) => invalid.check("metadata", metadata::parse(v), "KEN-17"),
        None => Some(Metadata::new()),
    };
    let lifetime = match (obj.get("expires_in"), obj.get("ttl")) {
        (Some(_), Some(_)) => {
            invalid.add("ttl", "must not be given together with expires_in", "KEN-19");
            None
        }
        (Some(v), None) => {
            let ms = v.as_u64().filter(|n| (MIN_LIFETIME_MS..=MAX_LIFETIME_MS).contains(n));
            let ms = ms.ok_or_else(|| format!("must be a whole number of milliseconds from {MIN_LIFETIME_MS} to {MAX_LIFETIME_MS}"));
            invalid.check("expires_in", ms, "KEN-18").map(|ms| ms as i64)
        }
        (None, Some(v)) => {
            let ms = v
                .as_str()
                .and_then(ttl)
                .ok_or_else(|| "must be one of TWO_HOURS, TWENTY_FOUR_HOURS, FORTY_EIGHT_HOURS, SEVENTY_TWO_HOURS".to_owned());
            invalid.check("ttl", ms, "KEN-19")
        }
        (None, None) => Some(DEFAULT_LIFETIME_MS),
    };
    let location = invalid.check("location_id", state.resolve_location(merchant, obj.get("location_id"), true), "KEN-20");
    invalid.finish()?;
    match (metadata, lifetime, location.flatten()) {
        (Some(metadata), Some(ms), Some(location_id)) => Ok(NewEnrollment { metadata, lifetime: Duration::milliseconds(ms), location_id }),
        _ => Err(Problem::unreadable()),
    }
}

/// `POST /ipp/v1/enrollments`.
pub(crate) async fn create(
    State(clock): State<Arc<Clock>>,
    State(kustom): State<Arc<KustomStore>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    request::merchant_write(&clock, &kustom, &headers, &body, |Write { store, merchant, obj, now }| {
        let new = new_enrollment(&store.state, merchant, &obj)?;
        let idx = store.state.create_enrollment(merchant, new, now, &mut store.rng);
        let view = store.state.enrollment_view(&store.state.enrollments[idx], now);
        Ok((StatusCode::CREATED, Json(view)).into_response())
    })
}

/// `GET /ipp/v1/enrollments`.
pub(crate) async fn list(
    State(clock): State<Arc<Clock>>,
    State(kustom): State<Arc<KustomStore>>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, Problem> {
    let now = clock.now();
    let store = kustom.read();
    let k = &store.state;
    let Listing { merchant, q, mut invalid, f } = request::listing(k, &headers, &uri)?;
    // KEN-26.
    let include_consumed = match invalid.check("include_consumed", q.one("include_consumed"), "KEN-31").flatten() {
        None => true,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(_) => {
            invalid.add("include_consumed", "must be true or false", "KEN-31");
            true
        }
    };
    invalid.finish()?;
    // KEN-22, KEN-27, KEN-29: the merchant's, PENDING (and CONSUMED unless left out), filtered.
    let views = k.list_enrollments(merchant, &f.filter, include_consumed, now).into_iter().map(|e| k.enrollment_view(e, now)).collect();
    Ok(Json(paging::page(views, f.paging)).into_response())
}

/// What get and cancel both address: the enrollment `id` of the merchant the key names; one that
/// is unknown or another merchant's is 404 `Enrollment not found`.
fn own_enrollment(k: &KustomState, headers: &HeaderMap, id: &str) -> Result<usize, Problem> {
    let merchant = auth::merchant(k, headers)?;
    k.enrollment(merchant, id).ok_or_else(Problem::enrollment_not_found)
}

/// `GET /ipp/v1/enrollments/{id}`.
pub(crate) async fn get(
    State(clock): State<Arc<Clock>>,
    State(kustom): State<Arc<KustomStore>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let now = clock.now();
    let store = kustom.read();
    let k = &store.state;
    let idx = own_enrollment(k, &headers, &id)?;
    Ok(Json(k.enrollment_view(&k.enrollments[idx], now)).into_response())
}

/// `DELETE /ipp/v1/enrollments/{id}`.
pub(crate) async fn cancel(
    State(clock): State<Arc<Clock>>,
    State(kustom): State<Arc<KustomStore>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let now = clock.now();
    let mut store = kustom.write();
    let k = &mut store.state;
    let idx = own_enrollment(k, &headers, &id)?;
    k.cancel(idx, now).map_err(|status| Problem::enrollment_not_pending(status.as_str()))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
