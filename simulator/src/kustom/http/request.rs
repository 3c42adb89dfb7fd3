//! What Kustom's merchant handlers read first, in the order they read it: the lock, the merchant
//! by its API key, then the body or the query.

use axum::http::{HeaderMap, Uri};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::auth;
use super::body;
use super::paging;
use super::problem::Problem;
use super::query::{Invalid, Query};
use crate::clock::Clock;
use crate::kustom::KustomStore;
use crate::kustom::domain::metadata;
use crate::kustom::domain::{KustomState, ListFilter};
use crate::kustom::store::Store;

/// A merchant's write with a body, as [`merchant_write`] hands it over.
pub(crate) struct Write<'a> {
    pub(crate) store: &'a mut Store,
    pub(crate) merchant: usize,
    pub(crate) obj: Map<String, Value>,
    pub(crate) now: OffsetDateTime,
}

/// A merchant's write with a body (KEN-01, KREG-27): under Kustom's write lock, the merchant its
/// API key names (KAUTH-01), then the body as an object (KCONV-08, KERR-09); `write` does the rest
/// under the same lock.
pub(crate) fn merchant_write<T>(
    clock: &Clock,
    kustom: &KustomStore,
    headers: &HeaderMap,
    raw: &[u8],
    write: impl FnOnce(Write<'_>) -> Result<T, Problem>,
) -> Result<T, Problem> {
    let now = clock.now();
    let mut store = kustom.write();
    let merchant = auth::merchant(&store.state, headers)?;
    let obj = body::object(raw)?;
    write(Write { store: &mut store, merchant, obj, now })
}

/// The list filters shared by enrollments and devices (KEN-24, KEN-25, KEN-30, KEN-31, KDEV-08),
/// and the page asked for.
pub(crate) struct Filters {
    pub(crate) filter: ListFilter,
    pub(crate) paging: paging::Paging,
}

pub(crate) fn filters(q: &Query, invalid: &mut Invalid) -> Filters {
    let location_id = invalid.check("location_id", q.one("location_id"), "KEN-31").flatten().and_then(|raw| {
        invalid.check("location_id", crate::kustom::domain::ids::parse_uuid(raw).ok_or_else(|| "must be a UUID".to_owned()), "KEN-31")
    });
    let metadata = invalid.check("metadata", metadata::parse_filters(q.all("metadata")), "KEN-30").unwrap_or_default();
    let paging = paging::parse(q, 100, invalid);
    Filters { filter: ListFilter { location_id, metadata }, paging }
}

/// A listing (KEN-21, KDEV-07): the merchant as a listing names it ([`auth::listing`]), the query,
/// and its shared filters, their errors gathered in `invalid` for the handler to add its own
/// parameters' and finish.
pub(crate) struct Listing {
    pub(crate) merchant: usize,
    pub(crate) q: Query,
    pub(crate) invalid: Invalid,
    pub(crate) f: Filters,
}

pub(crate) fn listing(k: &KustomState, headers: &HeaderMap, uri: &Uri) -> Result<Listing, Problem> {
    let merchant = auth::listing(k, headers)?;
    let q = Query::parse(uri.query());
    let mut invalid = Invalid::default();
    let f = filters(&q, &mut invalid);
    Ok(Listing { merchant, q, invalid, f })
}
