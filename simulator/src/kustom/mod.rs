//! Kustom In-Person Payments' enrollment-first pairing (`/ipp/v1`, KUSTOM-API.md), served beside
//! VioPay's paths on the same listener, clock, journal, faults and seed. The merchant's backend
//! creates an enrollment with its API key and gets a code; the POS app registers with it, without
//! authentication, and gets a device token; deregistering revokes the token at once.
//!
//! Rule IDs (`KEN-22`, `KREG-13`, …) are in the doc comments of the code that enforces them.

mod auth;
mod body;
mod devices;
mod enrollments;
pub mod fixtures;
mod ids;
mod locations;
mod metadata;
mod paging;
mod problem;
mod query;
mod registration;
mod state;
mod store;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, Request};
use axum::http::{Method, Uri};
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, delete, get, post, put};
use http_body_util::BodyExt;

pub use state::{DeviceView, EnrollmentView, KustomState, Location, Merchant};
pub(crate) use store::KustomStore;

use crate::auth::SigningKey;
use crate::clock::Clock;
use crate::endpoints::{KustomRoute, Route};
use problem::Problem;

/// KERR-08.
pub const BODY_LIMIT: usize = 64 * 1024;

/// KERR-07: any other method of a known path, with `Allow`.
fn with_allow<S: Clone + Send + Sync + 'static>(route: MethodRouter<S>, allow: &'static str) -> MethodRouter<S> {
    route.fallback(move |method: Method| async move { Problem::method_not_allowed(method.as_str(), allow).into_response() })
}

/// KERR-06.
async fn no_route(method: Method, uri: Uri) -> Response {
    Problem::no_route(method.as_str(), uri.path()).into_response()
}

/// KERR-08, after routing (404 and 405 come first, §1.9): a body over 64 KiB is refused whatever
/// the route, before authentication.
async fn body_limit(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    match http_body_util::Limited::new(body, BODY_LIMIT).collect().await {
        Ok(collected) => next.run(Request::from_parts(parts, Body::from(collected.to_bytes()))).await,
        Err(_) => Problem::too_large().into_response(),
    }
}

/// The handler of each Kustom endpoint of the table ([`crate::endpoints`]), with its `Allow`.
fn handler<S>(route: KustomRoute) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<Clock>: FromRef<S>,
    Arc<KustomStore>: FromRef<S>,
    Arc<SigningKey>: FromRef<S>,
{
    match route {
        KustomRoute::Enrollments => with_allow(post(enrollments::create).get(enrollments::list), "GET, POST"),
        KustomRoute::Enrollment => with_allow(get(enrollments::get).delete(enrollments::cancel), "GET, DELETE"),
        KustomRoute::Register => with_allow(post(registration::register), "POST"),
        KustomRoute::DeviceMe => with_allow(get(devices::me), "GET"),
        KustomRoute::Devices => with_allow(get(devices::list), "GET"),
        KustomRoute::Device => with_allow(put(devices::update).merge(delete(devices::deregister)), "PUT, DELETE"),
        KustomRoute::Locations => with_allow(get(locations::list), "GET"),
        KustomRoute::Location => with_allow(get(locations::get), "GET"),
        KustomRoute::SimulatedDevice => with_allow(post(registration::simulated), "POST"),
    }
}

/// Kustom's routes: every Kustom endpoint of the table, and KERR-06 for any other path under
/// `/ipp/v1`, over whatever root state hands out the substates the handlers take. None of them
/// takes VioPay's store: Kustom traffic never waits for VioPay's lock.
pub(crate) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<Clock>: FromRef<S>,
    Arc<KustomStore>: FromRef<S>,
    Arc<SigningKey>: FromRef<S>,
{
    let mut router = Router::new();
    for e in &crate::endpoints::ENDPOINTS {
        if let Route::Kustom(route) = e.route {
            router = router.route(e.path, handler(route));
        }
    }
    router
        .route_layer(from_fn(body_limit))
        .route("/ipp/v1", any(no_route))
        .route("/ipp/v1/", any(no_route))
        .route("/ipp/v1/{*rest}", any(no_route))
}
