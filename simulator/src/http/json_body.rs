//! JSON request bodies (CLAIM-05…CLAIM-10), parsed by hand rather than with axum's `Json`
//! extractor: every failure must be the documented envelope with a `details.message`, and the
//! "required" validator message must be exact (CLAIM-06).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::error::ApiError;

/// CLAIM-05/CLAIM-09: `Content-Type` must be `application/json`, compared as a media type (case
/// and parameters ignored). Then CLAIM-05: valid JSON; CLAIM-08: a JSON object.
pub(crate) fn object(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let content_type = headers.get(CONTENT_TYPE).ok_or_else(|| ApiError::invalid_body("Content-Type header must be application/json"))?;
    if !content_type.to_str().is_ok_and(|v| crate::media::is(v, "application/json")) {
        return Err(ApiError::invalid_body(format!(
            "Content-Type must be application/json, got `{}`",
            String::from_utf8_lossy(content_type.as_bytes())
        )));
    }
    any_object(body)
}

/// The body of a JSON endpoint as a JSON object ([`object`]), the handler's last argument, so
/// that what is read from the head (the token) is checked first. A body that does not arrive
/// whole is axum's own answer, as with a `Bytes` argument.
pub(crate) struct JsonObject(pub(crate) Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        object(&headers, &body).map(JsonObject).map_err(IntoResponse::into_response)
    }
}

/// A JSON object, whatever the `Content-Type` (the control API accepts `curl -d` as it is).
pub(crate) fn any_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid_body("EOF: the request body is empty"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::invalid_body(format!("the request body must be a JSON object, not {}", kind(&other)))),
        Err(e) => Err(ApiError::invalid_body(format!("malformed JSON: {e}"))),
    }
}

/// A required string field. Missing, `null` and `""` all get `required_message` (CLAIM-06,
/// CLAIM-07); any other non-string gets a type message (CLAIM-08).
pub(crate) fn required_string<'a>(obj: &'a Map<String, Value>, field: &str, required_message: &str) -> Result<&'a str, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Err(ApiError::invalid_body(required_message)),
        Some(Value::String(s)) if s.is_empty() => Err(ApiError::invalid_body(required_message)),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(ApiError::invalid_body(format!("`{field}` must be a string, not {}", kind(other)))),
    }
}

/// An optional string field: absent or `null` is `None`; a non-string is refused.
pub(crate) fn optional_string<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ApiError::invalid_body(format!("`{field}` must be a string, not {}", kind(other)))),
    }
}

/// The Go validator's message for a missing required field, as CLAIM-06 documents it.
pub(crate) fn go_required(strukt: &str, field: &str) -> String {
    format!("Key: '{strukt}.{field}' Error:Field validation for '{field}' failed on the 'required' tag")
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::CLAIM_06_MESSAGE;
    use axum::http::HeaderValue;

    fn json_headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_str(ct).expect("ascii"));
        h
    }

    fn message(e: ApiError) -> String {
        e.details.and_then(|d| d["message"].as_str().map(str::to_owned)).unwrap_or_default()
    }

    #[test]
    fn claim_06_message_is_the_documented_one() {
        assert_eq!(go_required("ClaimDeviceRequest", "PairingCode"), CLAIM_06_MESSAGE);
    }

    #[test]
    fn claim_09_media_type_parameters_and_case_are_accepted() {
        for ct in ["application/json", "application/json; charset=utf-8", "Application/JSON"] {
            assert!(object(&json_headers(ct), b"{}").is_ok(), "{ct}");
        }
        for ct in ["text/plain", "application/jsonx", "application/x-www-form-urlencoded"] {
            assert!(object(&json_headers(ct), b"{}").is_err(), "{ct}");
        }
        assert!(object(&HeaderMap::new(), b"{}").is_err());
    }

    #[test]
    fn claim_07_claim_08_field_kinds() {
        let obj = |s: &str| any_object(s.as_bytes()).expect("object");
        for body in [r#"{}"#, r#"{"pairing_code":null}"#, r#"{"pairing_code":""}"#] {
            let e = required_string(&obj(body), "pairing_code", CLAIM_06_MESSAGE).expect_err(body);
            assert_eq!(message(e), CLAIM_06_MESSAGE, "{body}");
        }
        for body in [r#"{"pairing_code":1}"#, r#"{"pairing_code":true}"#, r#"{"pairing_code":[]}"#, r#"{"pairing_code":{}}"#] {
            let e = required_string(&obj(body), "pairing_code", CLAIM_06_MESSAGE).expect_err(body);
            assert_ne!(message(e), CLAIM_06_MESSAGE, "{body}");
        }
        for body in ["[]", "\"x\"", "3", "{", ""] {
            assert!(any_object(body.as_bytes()).is_err(), "{body}");
        }
    }
}
