//! `POST /pos/config` (step 7a, CFG-*) and `POST /pos/terminal-parameters` (step 7b, TPAR-*):
//! documents sent in MSK envelopes (MSK-01…MSK-07).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use rand::RngExt;

use super::attestation::authorize_with_msk;
use super::error::ApiError;
use super::note::JournalNote;
use crate::clock::Clock;
use crate::crypto::Key32;
use crate::crypto::envelope;
use crate::domain::terminal_parameters_gz;
use crate::errors::ATT_21;
use crate::ids::DeviceId;
use crate::settings::Settings;
use crate::store::{Store, ViopayStore};

/// What both documents start with, under one write lock: attestation auth and an issued key set
/// (CFG-01, TPAR-01, MSK-10), then `draw` for what else needs the state and the seeded generator
/// (the IVs). The document is built and enveloped after the lock is released.
fn under_msk<T>(
    clock: &Clock,
    store: &ViopayStore,
    headers: &HeaderMap,
    draw: impl FnOnce(&mut Store, DeviceId) -> Result<T, ApiError>,
) -> Result<(DeviceId, Key32, T), ApiError> {
    let now = clock.now();
    let mut store = store.write();
    let (id, msk) = authorize_with_msk(headers, &store.state, now)?;
    let drawn = draw(&mut store, id)?;
    Ok((id, msk, drawn))
}

/// CFG-01, CFG-04: attestation auth, then an issued key set (MSK-10), then the config document in
/// one `TR31-DATA` envelope under the MSK with a fresh IV. A body is ignored.
pub(crate) async fn config(
    State(clock): State<Arc<Clock>>,
    State(store): State<Arc<ViopayStore>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (id, msk, (document, iv)) = under_msk(&clock, &store, &headers, |store, id| {
        let document = store.state.config_document(id).map_err(|e| ApiError::with_device(&ATT_21, e.0))?;
        let iv: [u8; 16] = store.rng.random();
        Ok((document, iv))
    })?;
    let body = envelope::single(&msk, &iv, document.to_string().as_bytes());
    Ok(JournalNote::device(id).attach(Json(body).into_response()))
}

/// TPAR-01, TPAR-06, TPAR-08: attestation auth, an issued key set (not a prior config call), then
/// the gzipped parameters cut into chunks, each under its own IV.
pub(crate) async fn terminal_parameters(
    State(clock): State<Arc<Clock>>,
    State(store): State<Arc<ViopayStore>>,
    State(settings): State<Arc<Settings>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (id, msk, ivs) = under_msk(&clock, &store, &headers, |store, _| {
        let chunks = terminal_parameters_gz().len().div_ceil(settings.chunk_size.max(1));
        Ok((0..chunks.max(1)).map(|_| store.rng.random()).collect::<Vec<[u8; 16]>>())
    })?;
    let mut next = ivs.into_iter();
    let body = envelope::chunked(&msk, terminal_parameters_gz(), settings.chunk_size, || next.next().unwrap_or_default());
    Ok(JournalNote::device(id).attach(Json(body).into_response()))
}
