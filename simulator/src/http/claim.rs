//! `POST /pos/claim`, step 4 (CLAIM-*), called by the merchant.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::bearer::Merchant;
use super::error::ApiError;
use super::json_body::{self, JsonObject};
use super::note::JournalNote;
use crate::clock::Clock;
use crate::domain::{ClaimError, ClaimRequest};
use crate::errors::{CLAIM_06_MESSAGE, CLAIM_12, CLAIM_14, CLAIM_16, CLAIM_18, CLAIM_19, PAIR_05};
use crate::store::ViopayStore;

/// CLAIM-20.
#[derive(Serialize)]
struct Claimed {
    status: &'static str,
    device_id: String,
}

/// Pipeline (§2.4.5): token (the [`Merchant`] extractor, before the body: CLAIM-22 leaves the
/// order open) → `Content-Type` and JSON (CLAIM-05, CLAIM-09, CLAIM-08) → `pairing_code`
/// (CLAIM-06/07/08; CLAIM-10: other fields ignored) → normalise (CLAIM-11) → the domain's lookup,
/// ownership, used, expired (CLAIM-12…CLAIM-21) under one write lock.
pub(crate) async fn claim(
    State(clock): State<Arc<Clock>>,
    State(store): State<Arc<ViopayStore>>,
    merchant: Merchant,
    JsonObject(obj): JsonObject,
) -> Result<Response, ApiError> {
    let raw = json_body::required_string(&obj, "pairing_code", CLAIM_06_MESSAGE)?;
    let expected_device = json_body::optional_string(&obj, "device_id")?;
    // CLAIM-11. CLAIM-23 leaves open whether details echo the raw or the normalised value: the
    // simulator echoes the normalised one.
    let code = crate::ids::PairingCode::normalise(raw);
    let now = clock.now();
    let outcome = {
        let mut store = store.write();
        let merchant = match merchant.resolve(&store.state) {
            Ok(idx) => idx,
            Err(unauthorized) => return Ok(unauthorized.into_response()),
        };
        store.state.claim(ClaimRequest { merchant, code: &code, expected_device }, now)
    };
    match outcome {
        Ok(claimed) => {
            let note = JournalNote::device(claimed.device);
            Ok(note.attach(Json(Claimed { status: "claimed", device_id: claimed.device.to_string() }).into_response()))
        }
        Err(refused) => {
            let spec = match refused {
                ClaimError::NotFound => &CLAIM_12,
                ClaimError::DeviceMismatch { .. } => &CLAIM_14,
                ClaimError::Superseded { .. } => &PAIR_05,
                ClaimError::NotOwner { device } => return Err(ApiError::with_device(&CLAIM_16, device)),
                ClaimError::Used { .. } => &CLAIM_18,
                ClaimError::Expired { .. } => &CLAIM_19,
            };
            let note = refused.device().map(JournalNote::device).unwrap_or_default();
            Ok(note.attach(ApiError::with_code(spec, &code).into_response()))
        }
    }
}
