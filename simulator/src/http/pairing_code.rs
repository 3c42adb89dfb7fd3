//! `POST /pos/pairing-code`, step 2 (PAIR-*).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use rand::RngExt;
use serde::Serialize;

use super::error::ApiError;
use super::pos_headers::PosDevice;
use crate::auto_claim::AutoClaims;
use crate::clock::Clock;
use crate::domain::PairError;
use crate::errors::{PAIR_08, PAIR_10, PAIR_11};
use crate::ids::{CODE_SPACE, PairingCode};
use crate::store::ViopayStore;

/// PAIR-02.
#[derive(Serialize)]
pub(crate) struct PairingCodeBody {
    pub(crate) pairing_code: String,
    pub(crate) expires_in_sec: i64,
}

/// PAIR-01: no body needed. The rules themselves are in [`crate::domain::State::issue_code`]; the
/// write lock makes concurrent requests for one device leave exactly one pending code (PAIR-04).
pub(crate) async fn pairing_code(
    State(clock): State<Arc<Clock>>,
    State(store): State<Arc<ViopayStore>>,
    State(auto_claims): State<Arc<AutoClaims>>,
    device: PosDevice,
) -> Result<Json<PairingCodeBody>, ApiError> {
    let now = clock.now();
    let issued = {
        let mut store = store.write();
        let store = &mut *store;
        let rng = &mut store.rng;
        store.state.issue_code(device.id, now, &mut || PairingCode::from_index(rng.random_range(0..CODE_SPACE)))
    };
    match issued {
        Ok(issued) => {
            auto_claims.issued(device.id, issued.code, now);
            Ok(Json(PairingCodeBody { pairing_code: issued.code.to_string(), expires_in_sec: issued.expires_in_sec }))
        }
        // PAIR-09/PAIR-10.
        Err(PairError::DeviceNotFound(id)) => Err(ApiError::with_device(&PAIR_10, id)),
        Err(PairError::AlreadyClaimed(id)) => Err(ApiError::with_device(&PAIR_11, id)),
        Err(PairError::GenerationFailed) => Err(ApiError::of(&PAIR_08)),
    }
}
