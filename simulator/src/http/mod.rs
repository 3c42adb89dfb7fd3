//! The HTTP surface: thin handlers over the domain, one file per endpoint.

mod activate;
mod attest;
mod attestation;
mod bearer;
mod bootstrap;
mod claim;
mod config;
pub(crate) mod envelope;
pub(crate) mod error;
mod fallback;
pub(crate) mod header_names;
mod health;
pub(crate) mod json_body;
mod json_out;
mod keys;
pub(crate) mod middleware;
pub(crate) mod note;
mod oidc_token;
mod pairing_code;
mod pos_headers;
mod realm;
mod session;
mod status;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{MethodRouter, get, post};

use crate::auth::TokenIssuer;
use crate::auth::grant::Grants;
use crate::auto_claim::AutoClaims;
use crate::clock::Clock;
use crate::endpoints::{Route, ViopayRoute};
use crate::settings::Settings;
use crate::store::ViopayStore;

/// Adds the per-route guard (body limit, forced errors). Applied with `MethodRouter::route_layer`, so it
/// runs only once the method matched: 404 and 405 come before 413 (§1.9).
pub(crate) fn guarded<S: Clone + Send + Sync + 'static>(route: MethodRouter<S>) -> MethodRouter<S> {
    route.route_layer(middleware::GuardLayer::new(&middleware::VIOPAY))
}

/// VioPay's routes: every VioPay endpoint of the table, plus the simulator's Keycloak-shaped
/// realm, over whatever root state hands out the substates the handlers take.
pub(crate) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<Clock>: FromRef<S>,
    Arc<ViopayStore>: FromRef<S>,
    Arc<Settings>: FromRef<S>,
    Arc<AutoClaims>: FromRef<S>,
    Arc<TokenIssuer>: FromRef<S>,
    Grants: FromRef<S>,
{
    // The handler of each VioPay endpoint of the table ([`crate::endpoints`]).
    let handler = |route: ViopayRoute| -> MethodRouter<S> {
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
    };
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
}

/// The generic errors and the envelope around a set of routes, and the root state they take.
pub(crate) fn finish<S: Clone + Send + Sync + 'static>(routes: Router<S>, envelope: envelope::EnvelopeLayer, state: S) -> Router {
    routes.fallback(fallback::route_not_found).method_not_allowed_fallback(fallback::method_not_allowed).layer(envelope).with_state(state)
}
