//! The merchant portal at `/portal` (off with `--no-control`, like the rest of the simulator's own
//! surface): sign in as a portal user, claim a device by typing its code, watch the fleet live,
//! and the simulator panel. Server-rendered HTML (maud) with one small plain script, no build
//! step and nothing fetched from elsewhere; both files are compiled into the binary.
//!
//! The portal is a client of the API like VioPay's own backoffice: its claims go to `POST
//! /pos/claim` with the user's token. Its own requests are neither journaled nor faulted.

mod api;
mod claim;
mod fleet;
mod form;
mod kustom;
mod layout;
mod panel;
mod session;
mod sign_in;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

pub(crate) use api::ApiClient;
pub(crate) use session::Sessions;

use crate::auth::grant::Grants;
use crate::auto_claim::AutoClaims;
use crate::clock::Clock;
use crate::faults::Faults;
use crate::journal::Journal;
use crate::kustom::KustomStore;
use crate::settings::Settings;
use crate::store::ViopayStore;

const CSS: &str = include_str!("assets/portal.css");
const JS: &str = include_str!("assets/portal.js");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut res = body.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}

async fn not_found(who: Result<session::SignedIn, session::NotSignedIn>) -> Response {
    layout::problem(StatusCode::NOT_FOUND, who.ok().as_ref(), "Page not found", "The portal has no such page.")
}

/// The panel gate's substate: the settings (is there a token?) and the sessions (did this one
/// give it?).
#[derive(Clone)]
struct PanelGate {
    settings: Arc<Settings>,
    sessions: Arc<Sessions>,
}

/// The simulator panel's gate: no token set, or a session that gave it at sign-in. A request
/// without a session goes on to the handler, which sends it to the sign-in form.
async fn panel_access(
    axum::extract::State(gate): axum::extract::State<PanelGate>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // Read without the `SignedIn` extractor, which would take the page's one-time flash.
    let refused = gate.settings.control_token.is_some()
        && session::session_id(req.headers()).and_then(|id| gate.sessions.control(&id)) == Some(false);
    if refused {
        return layout::problem(
            StatusCode::FORBIDDEN,
            None,
            "The simulator panel needs the control token",
            "This simulator was started with --control-token. Sign out, then sign in again and type the token in the form's control-token field.",
        );
    }
    next.run(req).await
}

async fn home() -> Redirect {
    Redirect::to("/portal/fleet")
}

/// Every `/portal` page, over whatever root state hands out the substates its handlers take.
/// `settings` and `sessions`: for the simulator panel's gate.
pub(crate) fn routes<S>(settings: Arc<Settings>, sessions: Arc<Sessions>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<Clock>: FromRef<S>,
    Arc<ViopayStore>: FromRef<S>,
    Arc<KustomStore>: FromRef<S>,
    Arc<Faults>: FromRef<S>,
    Arc<Journal>: FromRef<S>,
    Arc<AutoClaims>: FromRef<S>,
    Arc<Settings>: FromRef<S>,
    Arc<Sessions>: FromRef<S>,
    Grants: FromRef<S>,
    ApiClient: FromRef<S>,
{
    // The simulator panel moves the clock and arms faults for everyone: with a control token set
    // it opens only to a sign-in that gave the token.
    let panel = Router::new()
        .route("/portal/simulator", get(panel::show))
        .route("/portal/simulator/clock/advance", post(panel::advance))
        .route("/portal/simulator/clock/set", post(panel::set))
        .route("/portal/simulator/faults", post(panel::arm))
        .route("/portal/simulator/faults/remove", post(panel::remove))
        .route("/portal/simulator/faults/profile", post(panel::profile))
        .route("/portal/simulator/faults/clear", post(panel::clear))
        .route("/portal/simulator/devices/reset", post(panel::reset_device))
        .route_layer(axum::middleware::from_fn_with_state(PanelGate { settings, sessions }, panel_access));
    Router::new()
        .route("/portal", get(home))
        .route("/portal/", get(home))
        .route("/portal/sign-in", get(sign_in::show).post(sign_in::submit))
        .route("/portal/sign-out", post(sign_in::sign_out))
        .route("/portal/claim", get(claim::show).post(claim::submit))
        .route("/portal/fleet", get(fleet::show))
        .route("/portal/fleet/rows", get(fleet::rows))
        .route("/portal/kustom", get(kustom::show))
        .route("/portal/kustom/enrollments", kustom::action(kustom::Action::Create))
        .route("/portal/kustom/enrollments/cancel", kustom::action(kustom::Action::Cancel))
        .route("/portal/kustom/devices/deregister", kustom::action(kustom::Action::Deregister))
        .merge(panel)
        .route("/portal/assets/portal.css", get(|| async { asset("text/css; charset=utf-8", CSS) }))
        .route("/portal/assets/portal.js", get(|| async { asset("text/javascript; charset=utf-8", JS) }))
        .route("/portal/{*rest}", get(not_found).post(not_found))
}
