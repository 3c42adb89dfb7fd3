//! Control-API request bodies: JSON whatever the `Content-Type` (so `curl -d` works as typed), an
//! empty body counting as `{}`, unknown fields refused so that typos are not silently ignored.

use serde::de::DeserializeOwned;

use crate::http::error::ApiError;

pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    serde_json::from_slice(body).map_err(|e| ApiError::invalid_body(e.to_string()))
}
