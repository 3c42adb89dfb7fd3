//! Kustom's errors: RFC 9457 problem details (KERR-01…KERR-04), one constructor per error row of
//! KUSTOM-API.md, so that grepping a rule ID finds the answer it gives.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::http::note::ProblemRule;

pub(crate) const INVALID: &str = "Invalid request content.";

/// An error answer. `rule` is for tests and the journal, never on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) status: StatusCode,
    pub(crate) detail: String,
    /// KERR-03: only on 400 `Validation Failed`, every invalid name with a message.
    pub(crate) errors: Option<BTreeMap<String, String>>,
    pub(crate) rule: &'static str,
    /// KAUTH-11, KAUTH-20: the challenge; KERR-07: the route's methods.
    pub(crate) header: Option<Box<(header::HeaderName, String)>>,
}

/// KERR-02: `title` is fixed by the status.
pub(crate) fn title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Validation Failed",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        413 => "Content Too Large",
        _ => "Error",
    }
}

impl Problem {
    fn new(status: StatusCode, detail: impl Into<String>, rule: &'static str) -> Self {
        Problem { status, detail: detail.into(), errors: None, rule, header: None }
    }

    /// 400 `Validation Failed` `Invalid request content.` with `errors` (KERR-03); `rule` is the
    /// row of the first invalid member.
    pub(crate) fn validation(errors: BTreeMap<String, String>, rule: &'static str) -> Self {
        Problem { errors: Some(errors), ..Problem::new(StatusCode::BAD_REQUEST, INVALID, rule) }
    }

    /// One invalid name.
    pub(crate) fn invalid(name: &str, message: impl Into<String>, rule: &'static str) -> Self {
        Problem::validation(BTreeMap::from([(name.to_owned(), message.into())]), rule)
    }

    /// KAUTH-11.
    pub(crate) fn merchant_unauthorized() -> Self {
        Problem {
            header: Some(Box::new((header::WWW_AUTHENTICATE, "Basic realm=\"ipp\"".into()))),
            ..Problem::new(StatusCode::UNAUTHORIZED, "Access Denied", "KAUTH-11")
        }
    }

    /// KAUTH-20.
    pub(crate) fn device_unauthorized() -> Self {
        Problem {
            header: Some(Box::new((header::WWW_AUTHENTICATE, "Bearer realm=\"ipp\"".into()))),
            ..Problem::new(StatusCode::UNAUTHORIZED, "Access Denied", "KAUTH-20")
        }
    }

    /// KAUTH-12.
    pub(crate) fn merchant_header_missing() -> Self {
        Problem::invalid("x-merchant-id", "must not be blank", "KAUTH-12")
    }

    /// KAUTH-13.
    pub(crate) fn merchant_header_mismatch() -> Self {
        Problem::new(StatusCode::FORBIDDEN, "x-merchant-id does not match the API key", "KAUTH-13")
    }

    /// KERR-06.
    pub(crate) fn no_route(method: &str, path: &str) -> Self {
        Problem::new(StatusCode::NOT_FOUND, format!("No endpoint {method} {path}."), "KERR-06")
    }

    /// KERR-07.
    pub(crate) fn method_not_allowed(method: &str, allow: &str) -> Self {
        Problem {
            header: Some(Box::new((header::ALLOW, allow.to_owned()))),
            ..Problem::new(StatusCode::METHOD_NOT_ALLOWED, format!("Method '{method}' is not supported."), "KERR-07")
        }
    }

    /// KERR-08.
    pub(crate) fn too_large() -> Self {
        Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large", "KERR-08")
    }

    /// KERR-09.
    pub(crate) fn unreadable() -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "Failed to read request", "KERR-09")
    }

    /// KEN-34.
    pub(crate) fn enrollment_not_found() -> Self {
        Problem::new(StatusCode::NOT_FOUND, "Enrollment not found", "KEN-34")
    }

    /// KEN-38.
    pub(crate) fn enrollment_not_pending(status: &str) -> Self {
        Problem::new(StatusCode::CONFLICT, format!("Enrollment is {status}"), "KEN-38")
    }

    /// KREG-19.
    pub(crate) fn code_not_found() -> Self {
        Problem::new(StatusCode::NOT_FOUND, "Enrollment code not found", "KREG-19")
    }

    /// KREG-20.
    pub(crate) fn code_expired() -> Self {
        Problem::new(StatusCode::GONE, "Enrollment code has expired", "KREG-20")
    }

    /// KREG-21.
    pub(crate) fn code_cancelled() -> Self {
        Problem::new(StatusCode::GONE, "Enrollment code has been cancelled", "KREG-21")
    }

    /// KREG-22.
    pub(crate) fn code_used() -> Self {
        Problem::new(StatusCode::CONFLICT, "Enrollment code has already been used", "KREG-22")
    }

    /// KREG-23.
    pub(crate) fn hardware_registered() -> Self {
        Problem::new(StatusCode::CONFLICT, "A device with this hardware_id is already registered", "KREG-23")
    }

    /// KDEV-19.
    pub(crate) fn device_not_found() -> Self {
        Problem::new(StatusCode::NOT_FOUND, "Device not found", "KDEV-19")
    }

    /// KLOC-07.
    pub(crate) fn location_not_found() -> Self {
        Problem::new(StatusCode::NOT_FOUND, "Location not found", "KLOC-07")
    }
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a BTreeMap<String, String>>,
}

impl IntoResponse for Problem {
    /// KERR-01: `application/problem+json`, exactly `type`, `title`, `status`, `detail` and, on a
    /// 400, `errors`.
    fn into_response(self) -> Response {
        let body = Body {
            kind: "about:blank",
            title: title(self.status),
            status: self.status.as_u16(),
            detail: &self.detail,
            errors: self.errors.as_ref(),
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut res = (self.status, bytes).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some((name, value)) = self.header.map(|h| *h)
            && let Ok(value) = HeaderValue::from_str(&value)
        {
            res.headers_mut().insert(name, value);
        }
        res.extensions_mut().insert(ProblemRule(self.rule));
        res
    }
}
