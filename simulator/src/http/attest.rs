//! `POST /pos/attest`, step 5 (ATT-*): the POS headers, then the signature headers, then the
//! domain's key, window, nonce, signature and state checks, in ATT-14's order.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use rand::RngExt;
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::ApiError;
use super::note::JournalNote;
use super::pos_headers::pos_device;
use crate::clock::Clock;
use crate::crypto::signature;
use crate::domain::{AttestError, AttestRequest};
use crate::errors::{
    ATT_21, ATT_22, ATT_23, ATT_24, ATT_25, ATT_26, ATT_27, ATT_28, ATT_29, ATT_30, ATT_31, ATT_32, ATT_33, ATT_34, ErrorSpec,
};
use crate::store::{Store, ViopayStore};
use crate::time_fmt::rfc3339;

/// ATT-07, ATT-17.
#[derive(Serialize)]
struct Attested {
    status: &'static str,
    attestation_token: String,
    expires_in_sec: i64,
}

/// A header as text: `missing` when absent, `invalid` when not visible ASCII.
fn header<'a>(headers: &'a HeaderMap, name: &str, missing: &ErrorSpec, invalid: &ErrorSpec) -> Result<&'a str, ApiError> {
    let value = headers.get(name).ok_or_else(|| ApiError::of(missing))?;
    value.to_str().map_err(|_| ApiError::of(invalid))
}

/// ATT-23: 1 to 128 visible ASCII characters.
fn key_id_ok(v: &str) -> bool {
    (1..=128).contains(&v.len()) && v.bytes().all(|b| (0x21..=0x7E).contains(&b))
}

/// ATT-27: 12 or more ASCII letters and digits.
fn nonce_ok(v: &str) -> bool {
    v.len() >= 12 && v.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// ATT-17: `att_` + 24 random ASCII letters and digits.
fn new_token(rng: &mut rand::rngs::StdRng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let body: String = (0..24).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    format!("att_{body}")
}

/// ATT-14: X-Device-Id → User-Agent → X-Client-Type → device lookup (ATT-21) → X-Key-Id →
/// X-Timestamp → X-Nonce → X-Signature (ATT-22…ATT-29) → the domain (ATT-30…ATT-34). ATT-13: no
/// body is read, `Content-Type` is not checked.
pub(crate) async fn attest(
    State(clock): State<Arc<Clock>>,
    State(store): State<Arc<ViopayStore>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let device = pos_device(&headers)?;
    if !store.read().state.contains_device(device.id) {
        return Err(ApiError::with_device(&ATT_21, device.id));
    }
    let key_id = header(&headers, "x-key-id", &ATT_22, &ATT_23)?;
    if !key_id_ok(key_id) {
        return Err(ApiError::of(&ATT_23));
    }
    let timestamp_raw = header(&headers, "x-timestamp", &ATT_24, &ATT_25)?;
    let timestamp = OffsetDateTime::parse(timestamp_raw, &Rfc3339).map_err(|_| ApiError::of(&ATT_25))?;
    let nonce = header(&headers, "x-nonce", &ATT_26, &ATT_27)?;
    if !nonce_ok(nonce) {
        return Err(ApiError::of(&ATT_27));
    }
    let mac = signature::parse(header(&headers, "x-signature", &ATT_28, &ATT_29)?).map_err(|_| ApiError::of(&ATT_29))?;

    let now = clock.now();
    let req = AttestRequest { key_id, timestamp_raw, timestamp, nonce, mac: &mac };
    let mut store = store.write();
    let Store { state, rng, .. } = &mut *store;
    let outcome = state.attest(device.id, &req, now, || new_token(rng));
    drop(store);
    let note = JournalNote::device(device.id);
    match outcome {
        Ok(a) => {
            let note = JournalNote { issued_token: Some(crate::journal::TokenId::of(&a.token)), ..note };
            Ok(note.attach(
                Json(Attested { status: "attested", attestation_token: a.token, expires_in_sec: a.expires_in_sec }).into_response(),
            ))
        }
        Err(refused) => {
            let error = match refused {
                AttestError::DeviceNotFound(id) => ApiError::with_device(&ATT_21, id),
                AttestError::InvalidKey => ApiError::of(&ATT_30),
                AttestError::OutsideWindow => ApiError { details: Some(json!({ "server_time": rfc3339(now) })), ..ApiError::of(&ATT_31) },
                AttestError::NonceReused => ApiError::of(&ATT_32),
                AttestError::BadSignature => ApiError::of(&ATT_33),
                AttestError::NotClaimed => ApiError::with_device(&ATT_34, device.id),
            };
            Ok(note.attach(error.into_response()))
        }
    }
}
