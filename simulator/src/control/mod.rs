//! The control API under `/_sim/` (off with `--no-control`): the simulator's own surface for
//! moving the clock, provisioning, resetting, inspecting and forcing faults. Not part of the VioPay
//! API; documented in the README and under the `simulator-control` tag of openapi.yaml.

pub(crate) mod access;
mod auto_claim;
mod body;
mod clock;
mod device_keys;
mod devices;
mod faults;
mod fleet;
mod journal;
mod kustom;
mod merchants;
mod reset;
pub(crate) use reset::Restart;
mod verdict;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{delete, get, post};

use crate::auto_claim::AutoClaims;
use crate::clock::Clock;
use crate::faults::Faults;
use crate::http::guarded;
use crate::journal::Journal;
use crate::kustom::KustomStore;
use crate::settings::Settings;
use crate::store::ViopayStore;
use crate::trace::TraceIds;

/// 409 `"4090"`: the request conflicts with the simulator's state or mode.
pub(crate) const CONFLICT: &str = "4090";

/// Every `/_sim/` route, over whatever root state hands out the substates its handlers take.
/// `settings`: for the control token ([`access`]), checked before any handler runs.
pub(crate) fn routes<S>(settings: Arc<Settings>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<Clock>: FromRef<S>,
    Arc<ViopayStore>: FromRef<S>,
    Arc<KustomStore>: FromRef<S>,
    Arc<Faults>: FromRef<S>,
    Arc<Journal>: FromRef<S>,
    Arc<TraceIds>: FromRef<S>,
    Arc<AutoClaims>: FromRef<S>,
    Restart: FromRef<S>,
{
    let g = guarded;
    Router::new()
        .route("/_sim/clock", g(get(clock::get_clock)))
        .route("/_sim/clock/advance", g(post(clock::advance)))
        .route("/_sim/clock/set", g(post(clock::set)))
        .route("/_sim/merchants", g(get(merchants::list).post(merchants::create)))
        .route("/_sim/devices", g(get(fleet::list).post(devices::create)))
        .route("/_sim/devices/{id}/claim", g(post(fleet::claim)))
        .route("/_sim/devices/{id}/auto-claim", g(post(auto_claim::set)))
        .route("/_sim/devices/{id}", g(get(devices::inspect)))
        .route("/_sim/devices/{id}/identity-keys", g(post(device_keys::add_key)))
        .route("/_sim/devices/{id}/identity-keys/{key_id}", g(delete(device_keys::revoke_key)))
        .route("/_sim/devices/{id}/key-set/rotate", g(post(device_keys::rotate)))
        .route("/_sim/devices/{id}/reset", g(post(device_keys::reset)))
        .route("/_sim/reset", g(post(reset::reset)))
        .route("/_sim/journal", g(get(journal::journal)))
        .route("/_sim/faults", g(get(faults::list).post(faults::arm).delete(faults::clear)))
        .route("/_sim/faults/{id}", g(delete(faults::remove)))
        .route("/_sim/faults/profiles/{name}", g(post(faults::arm_profile)))
        .route("/_sim/verdict", g(get(verdict::all)))
        .route("/_sim/devices/{id}/verdict", g(get(verdict::device)))
        .route("/_sim/kustom/merchants", g(get(kustom::merchants)))
        .route("/_sim/kustom/enrollments", g(get(kustom::enrollments)))
        .route("/_sim/kustom/devices", g(get(kustom::devices)))
        .route_layer(axum::middleware::from_fn_with_state(settings, access::require))
}
