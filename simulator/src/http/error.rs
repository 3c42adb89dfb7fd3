//! The error envelope (ERR-01…ERR-06). Handlers return [`ApiError`]; the envelope middleware
//! renders it with the request's trace id, so every error, including 404, 405 and 413, has the
//! same shape and a `trace_id` equal to the `X-Trace-Id` header (ERR-08).

use std::borrow::Cow;
use std::fmt::Display;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::errors::{CLAIM_05, ErrorSpec};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    /// ERR-02: a 4-digit string.
    pub(crate) code: &'static str,
    pub(crate) message: Cow<'static, str>,
    /// ERR-05/ERR-06: absent unless the rule lists keys.
    pub(crate) details: Option<Value>,
    /// The rule this answer implements, for the journal and logs (never on the wire).
    pub(crate) rule: &'static str,
}

/// An error waiting to be rendered, carried in the response extensions.
#[derive(Debug, Clone)]
pub(crate) struct PendingError(pub ApiError);

impl ApiError {
    pub(crate) fn of(spec: &ErrorSpec) -> Self {
        ApiError {
            status: StatusCode::from_u16(spec.status).unwrap_or(StatusCode::BAD_REQUEST),
            code: spec.code,
            message: Cow::Borrowed(spec.message),
            details: None,
            rule: spec.rule,
        }
    }

    /// `details: {"device_id": ...}` (BOOT-07, PAIR-10, PAIR-11, STAT-12, CLAIM-16).
    pub(crate) fn with_device(spec: &ErrorSpec, device: impl Display) -> Self {
        ApiError { details: Some(json!({ "device_id": device.to_string() })), ..Self::of(spec) }
    }

    /// `details: {"pairing_code": ...}` (CLAIM-12, PAIR-05, CLAIM-14, CLAIM-18, CLAIM-19).
    pub(crate) fn with_code(spec: &ErrorSpec, code: &str) -> Self {
        ApiError { details: Some(json!({ "pairing_code": code })), ..Self::of(spec) }
    }

    /// CLAIM-05…CLAIM-08 (and the same answer on the other JSON endpoints): 400 `"4000"`
    /// `Invalid request body` with `details.message`.
    pub(crate) fn invalid_body(message: impl Into<String>) -> Self {
        ApiError { details: Some(json!({ "message": message.into() })), ..Self::of(&CLAIM_05) }
    }

    /// Errors of the control API, which the spec does not cover.
    pub(crate) fn control(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: Cow::Owned(message.into()), details: None, rule: "SIM" }
    }

    /// ERR-01: `{"error": {"code", "message", "details"?, "trace_id"}}`, in the documented order.
    pub(crate) fn render(&self, trace_id: &str) -> Vec<u8> {
        #[derive(Serialize)]
        struct Envelope<'a> {
            error: Body<'a>,
        }
        #[derive(Serialize)]
        struct Body<'a> {
            code: &'a str,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            details: Option<&'a Value>,
            trace_id: &'a str,
        }
        let envelope = Envelope { error: Body { code: self.code, message: &self.message, details: self.details.as_ref(), trace_id } };
        // Strings and a `Value` always serialise.
        serde_json::to_vec(&envelope).unwrap_or_default()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = self.status.into_response();
        res.extensions_mut().insert(PendingError(self));
        res
    }
}
