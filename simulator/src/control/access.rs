//! Who may use the control API. With `--control-token` every `/_sim/` request must present the
//! token (`Authorization: Bearer TOKEN` or `X-Sim-Control-Token: TOKEN`), and the portal's
//! simulator panel needs a sign-in that gave it: these routes reset the simulator, arm faults and
//! hand out every device's identity secret and ZMK. Without a token nothing changes, which suits
//! the loopback default (the binary warns when it listens beyond loopback without one).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::http::error::ApiError;
use crate::settings::Settings;

/// The header a client that already uses `Authorization` may send the token in instead.
pub(crate) const TOKEN_HEADER: &str = "x-sim-control-token";

/// 401 `"4010"` of the control API.
const UNAUTHORIZED: &str = "4010";

/// Compared in constant time, so the answer's timing says nothing about how much of a guess was
/// right.
pub(crate) fn matches(expected: &str, given: &str) -> bool {
    bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// The token a request presents, from either header.
fn presented(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    bearer.or_else(|| headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok()).map(str::trim))
}

/// Whether a request may use the control API.
pub(crate) fn allowed(settings: &Settings, headers: &HeaderMap) -> bool {
    match &settings.control_token {
        None => true,
        Some(expected) => presented(headers).is_some_and(|given| matches(expected, given)),
    }
}

/// The layer on every `/_sim/` route.
pub(crate) async fn require(State(settings): State<Arc<Settings>>, req: Request, next: Next) -> Response {
    if allowed(&settings, req.headers()) {
        return next.run(req).await;
    }
    let mut res = ApiError::control(
        StatusCode::UNAUTHORIZED,
        UNAUTHORIZED,
        "the control API needs this simulator's control token (--control-token): send Authorization: Bearer TOKEN or X-Sim-Control-Token: TOKEN",
    )
    .into_response();
    res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"viopay-sim-control\""));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_header_presents_the_token() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer s3cret"));
        assert_eq!(presented(&h), Some("s3cret"));
        let mut h = HeaderMap::new();
        h.insert(TOKEN_HEADER, HeaderValue::from_static("s3cret"));
        assert_eq!(presented(&h), Some("s3cret"));
        assert!(matches("s3cret", "s3cret") && !matches("s3cret", "s3cre") && !matches("s3cret", "s3creT"));
    }
}
