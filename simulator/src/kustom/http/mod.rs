//! Kustom's HTTP surface: thin handlers over the domain, one file per resource, their errors as
//! problem details (KERR-01…KERR-09), behind the guard layer every API route shares.

mod auth;
mod body;
mod devices;
mod enrollments;
mod locations;
mod paging;
mod problem;
mod query;
mod registration;
mod request;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, delete, get, post, put};

use super::KustomStore;
use crate::auth::SigningKey;
use crate::clock::Clock;
use crate::endpoints::{KustomRoute, Route};
use crate::http::middleware::{GuardLayer, Refusals};
use problem::Problem;

/// KERR-07: any other method of a known path, with `Allow`.
fn with_allow<S: Clone + Send + Sync + 'static>(route: MethodRouter<S>, allow: &'static str) -> MethodRouter<S> {
    route.fallback(move |method: Method| async move { Problem::method_not_allowed(method.as_str(), allow).into_response() })
}

/// KERR-06.
async fn no_route(method: Method, uri: Uri) -> Response {
    Problem::no_route(method.as_str(), uri.path()).into_response()
}

/// KERR-08: a body over 64 KiB (the guard's limit, ERR-11's too) is refused whatever the route,
/// before authentication; one that cannot be read is refused the same way. The body is read up to
/// the limit before the refusal, whatever `Content-Length` says.
static REFUSALS: Refusals = Refusals { too_large, unreadable: |_| Problem::too_large().into_response(), refuse_declared_at_once: false };

/// KERR-08. The body was read up to the limit and the rest never will be, so the connection cannot
/// carry another request: `Connection: close` says so (RFC 9112 §9.6), or a client that reuses the
/// socket writes its next request into one the server is closing.
fn too_large() -> axum::response::Response {
    let mut res = Problem::too_large().into_response();
    res.headers_mut().insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
    res
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
    // The handler of each Kustom endpoint of the table ([`crate::endpoints`]), with its `Allow`.
    let handler = |route: KustomRoute| -> MethodRouter<S> {
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
    };
    let mut router = Router::new();
    for e in &crate::endpoints::ENDPOINTS {
        if let Route::Kustom(route) = e.route {
            router = router.route(e.path, handler(route));
        }
    }
    router
        // KERR-08 after routing: 404 comes first (§1.9). Laid over each path's whole method router,
        // its `Allow` fallback included, so a body over the limit is 413 on any method of a known
        // path (as it has always been; VioPay's routes check the method first).
        .route_layer(GuardLayer::new(&REFUSALS))
        .route("/ipp/v1", any(no_route))
        .route("/ipp/v1/", any(no_route))
        .route("/ipp/v1/{*rest}", any(no_route))
}
