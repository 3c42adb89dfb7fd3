//! The HTTP surface: thin handlers over the domain, one file per endpoint.

mod activate;
mod attest;
mod attestation;
mod bearer;
mod bootstrap;
mod claim;
mod config;
pub mod error;
mod fallback;
mod health;
pub mod json_body;
mod keys;
pub mod middleware;
pub mod note;
mod oidc_token;
mod pairing_code;
mod pos_headers;
mod realm;
mod session;
mod status;

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{MethodRouter, get, post};

use crate::endpoints::{Route, ViopayRoute};
use crate::sim::Sim;

/// Adds the per-route guard (body limit, forced errors). Applied with `MethodRouter::route_layer`, so it
/// runs only once the method matched: 404 and 405 come before 413 (§1.9).
pub fn guarded(route: MethodRouter<Arc<Sim>>) -> MethodRouter<Arc<Sim>> {
    route.route_layer(middleware::GuardLayer)
}

/// The handler of each VioPay endpoint of the table ([`crate::endpoints`]).
fn handler(route: ViopayRoute) -> MethodRouter<Arc<Sim>> {
    match route {
        ViopayRoute::Bootstrap => post(bootstrap::bootstrap),
        ViopayRoute::PairingCode => post(pairing_code::pairing_code),
        ViopayRoute::Status => get(status::status),
        ViopayRoute::Claim => post(claim::claim),
        ViopayRoute::Attest => post(attest::attest),
        ViopayRoute::Keys => post(keys::keys),
        ViopayRoute::Config => post(config::config),
        ViopayRoute::TerminalParameters => post(config::terminal_parameters),
        ViopayRoute::Activate => post(activate::activate),
        ViopayRoute::ClientSession | ViopayRoute::AuthToken => post(session::client_session),
        ViopayRoute::SessionInitiate => post(session::initiate),
        ViopayRoute::Health => get(health::live),
    }
}

/// The API's own routes: every endpoint of the table, plus the simulator's Keycloak-shaped realm.
fn api_routes() -> Router<Arc<Sim>> {
    let mut router = Router::new();
    for e in &crate::endpoints::ENDPOINTS {
        if let Route::Viopay(route) = e.route {
            router = router.route(e.path, guarded(handler(route)));
        }
    }
    router
        .route("/realms/{realm}/protocol/openid-connect/certs", guarded(get(realm::certs)))
        .route("/realms/{realm}/protocol/openid-connect/token", guarded(post(oidc_token::token)))
        .route("/realms/{realm}/.well-known/openid-configuration", guarded(get(realm::openid_configuration)))
        .merge(crate::kustom::routes())
}

/// The generic errors and the envelope around a set of routes.
fn finish(app: Router<Arc<Sim>>, sim: Arc<Sim>) -> Router {
    app.fallback(fallback::route_not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .layer(from_fn_with_state(sim.clone(), middleware::envelope))
        .with_state(sim)
}

/// The whole application: every API route, the control API and the portal when enabled, the
/// generic errors and the envelope. Tests drive it without a socket.
pub fn router(sim: Arc<Sim>) -> Router {
    let mut app = api_routes();
    if sim.control {
        app = app.merge(crate::control::routes(sim.clone())).merge(crate::portal::routes(sim.clone()));
    }
    finish(app, sim)
}

/// The API alone, as a client of it sees it (the portal's claims go through it, journaled and
/// faulted like any other request).
pub fn api_router(sim: Arc<Sim>) -> Router {
    finish(api_routes(), sim)
}
