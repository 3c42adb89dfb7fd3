//! Attestation auth, for keys, config, terminal-parameters and activate (ATT-35…ATT-41):
//! `Authorization: Attestation {token}` and `X-Device-Id` only; `User-Agent` and `X-Client-Type`
//! are not checked (ATT-35).

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use time::OffsetDateTime;

use super::error::ApiError;
use crate::crypto::Key32;
use crate::domain::State;
use crate::errors::{ATT_38, ATT_39, ATT_40, ATT_41, MSK_10};
use crate::ids::DeviceId;

/// ATT-37's order: `Authorization` (ATT-38: absent, another scheme, no token, a token never issued
/// or expired), then `X-Device-Id` (ATT-39, ATT-40), then the token's device (ATT-41). The scheme
/// word is case-insensitive, the token exact (ATT-36).
pub(crate) fn authorize(headers: &HeaderMap, state: &State, now: OffsetDateTime) -> Result<DeviceId, ApiError> {
    let unauthorized = || ApiError::of(&ATT_38);
    let value = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or_else(unauthorized)?;
    let (scheme, token) = value.split_once(' ').ok_or_else(unauthorized)?;
    if !scheme.eq_ignore_ascii_case("Attestation") || token.is_empty() {
        return Err(unauthorized());
    }
    let bound = state.token_device(token, now).map_err(|_| unauthorized())?;
    let raw = headers.get("x-device-id").ok_or_else(|| ApiError::of(&ATT_39))?;
    let sent = String::from_utf8_lossy(raw.as_bytes()).into_owned();
    let id = DeviceId::parse(&sent).map_err(|_| ApiError::of(&ATT_40))?;
    if id != bound {
        return Err(ApiError::with_device(&ATT_41, sent));
    }
    Ok(id)
}

/// Attestation auth, then an issued key set (MSK-10): the device and its MSK, for config,
/// terminal-parameters and activate.
pub(crate) fn authorize_with_msk(headers: &HeaderMap, state: &State, now: OffsetDateTime) -> Result<(DeviceId, Key32), ApiError> {
    let id = authorize(headers, state, now)?;
    let msk = *state.key_set(id).ok_or_else(|| ApiError::of(&MSK_10))?.msk();
    Ok((id, msk))
}
