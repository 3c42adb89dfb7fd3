//! Control-API request bodies: JSON whatever the `Content-Type` (so `curl -d` works as typed), an
//! empty body counting as `{}`, unknown fields refused so that typos are not silently ignored.

use serde::de::DeserializeOwned;

use crate::http::error::ApiError;

pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| ApiError::invalid_body(e.to_string()))?;
    // serde would build a struct from a JSON array too; a control body is an object.
    if !value.is_object() {
        return Err(ApiError::invalid_body("the body must be a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| ApiError::invalid_body(e.to_string()))
}

pub(crate) use crate::json_num::{whole_u32, whole_u32_opt};
