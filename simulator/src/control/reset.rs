//! `POST /_sim/reset`: back to the fixtures.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::auto_claim::AutoClaims;
use crate::clock::Clock;
use crate::faults::Faults;
use crate::fixtures::Fixtures;
use crate::journal::Journal;
use crate::kustom::KustomStore;
use crate::store::ViopayStore;
use crate::time_fmt::rfc3339;
use crate::trace::TraceIds;
use crate::verdict::live::Live;

/// Every concern with a start to go back to, as the composition root built them: the one
/// substate this route needs, since it touches them all.
#[derive(Clone)]
pub(crate) struct Restart {
    /// The fixtures as parsed at start (their text and source, to parse again).
    pub(crate) fixtures: Arc<Fixtures>,
    pub(crate) clock: Arc<Clock>,
    pub(crate) store: Arc<ViopayStore>,
    pub(crate) kustom: Arc<KustomStore>,
    pub(crate) journal: Arc<Journal>,
    pub(crate) faults: Arc<Faults>,
    pub(crate) trace: Arc<TraceIds>,
    pub(crate) auto_claims: Arc<AutoClaims>,
    pub(crate) live: Arc<Live>,
}

impl Restart {
    /// Back to the fixtures, the start of the clock and the start of every random sequence, with
    /// an empty journal and only the start fault profiles armed.
    pub(crate) fn run(&self) {
        // The fixtures parsed at start, so they parse again; should they not, the state stays.
        match Fixtures::parse(&self.fixtures.text, &self.fixtures.source) {
            Ok(fixtures) => {
                self.store.reset(fixtures.state);
                self.kustom.reset(fixtures.kustom);
            }
            Err(e) => tracing::error!(error = %e, "the fixtures no longer parse; the state is kept"),
        }
        self.clock.reset();
        self.journal.clear();
        self.faults.reset();
        self.trace.reset();
        self.auto_claims.reset();
        self.live.reset();
    }
}

pub(crate) async fn reset(State(restart): State<Restart>) -> Json<Value> {
    restart.run();
    let store = restart.store.read();
    Json(json!({
        "status": "reset",
        "merchants": store.state.merchants().count(),
        "devices": store.state.device_count(),
        "now": rfc3339(restart.clock.now()),
    }))
}
