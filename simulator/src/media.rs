//! Media types compared as RFC 9110 says: the type/subtype before any parameters, trimmed,
//! case-insensitive. Every `Content-Type` check of the simulator (the API's JSON bodies, the
//! token endpoint's form, the portal's forms, the client verdict's CLI-16) goes through here.

use axum::http::{HeaderMap, header};

/// Whether a `Content-Type` value names `wanted` (e.g. `application/json`), parameters aside.
pub(crate) fn is(value: &str, wanted: &str) -> bool {
    value.split(';').next().is_some_and(|essence| essence.trim().eq_ignore_ascii_case(wanted))
}

/// Whether the request's `Content-Type` names `wanted`; false when absent or not text.
pub(crate) fn header_is(headers: &HeaderMap, wanted: &str) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| is(v, wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_and_case_are_ignored() {
        assert!(is("Application/JSON; charset=utf-8", "application/json"));
        assert!(is(" application/json ", "application/json"));
        assert!(!is("application/json-seq", "application/json") && !is("", "application/json"));
    }
}
