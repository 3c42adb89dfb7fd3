//! The guard of every API route: the body limit, and a documented error forced by an armed fault.
//! (The envelope around every route is in `envelope.rs`.)

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_LENGTH;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::error::ApiError;
use crate::errors::{BODY_LIMIT, DetailsKey, ERR_11, ErrorSpec};
use crate::faults::ForcedError;

/// How an API refuses what the guard refuses, in its own error format: a body over the limit
/// (VioPay's ERR-11, Kustom's KERR-08), a body that cannot be read.
pub(crate) struct Refusals {
    pub(crate) too_large: fn() -> Response,
    pub(crate) unreadable: fn(String) -> Response,
    /// Refuse at once when `Content-Length` already says too much, reading none of the body
    /// (VioPay, whose answer says `Connection: close`). Otherwise the body is read up to the limit
    /// first (Kustom, as it always has): a client that writes its whole body before reading the
    /// answer then meets the 413, not a connection closed under its write.
    pub(crate) refuse_declared_at_once: bool,
}

/// VioPay's refusals (and the control API's, which answers in VioPay's envelope).
pub(crate) static VIOPAY: Refusals = Refusals {
    too_large,
    unreadable: |why| ApiError::invalid_body(format!("cannot read the request body: {why}")).into_response(),
    refuse_declared_at_once: true,
};

/// The one guard layer of every API route: the 64 KiB body limit (ERR-11, KERR-08), then a
/// documented error forced by an armed fault (VioPay's only: no error is injectable on Kustom's
/// paths). A tower layer rather than `from_fn`: a request with no body and no forced error (every
/// status poll) goes straight to the handler, with nothing boxed, cloned or buffered. Each API
/// answers a refusal in its own format ([`Refusals`]).
#[derive(Clone)]
pub(crate) struct GuardLayer {
    refusals: &'static Refusals,
}

impl GuardLayer {
    pub(crate) fn new(refusals: &'static Refusals) -> Self {
        GuardLayer { refusals }
    }
}

impl<S> tower::Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Guard<S> {
        Guard { inner, refusals: self.refusals }
    }
}

#[derive(Clone)]
pub(crate) struct Guard<S> {
    inner: S,
    refusals: &'static Refusals,
}

impl<S> tower::Service<Request> for Guard<S>
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = futures::future::Either<S::Future, futures::future::BoxFuture<'static, Result<Response, std::convert::Infallible>>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        if http_body::Body::is_end_stream(req.body()) && req.extensions().get::<ForcedError>().is_none() {
            return futures::future::Either::Left(self.inner.call(req));
        }
        // The service that was polled ready goes with the request; a clone stays for the next.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let refusals = self.refusals;
        futures::future::Either::Right(Box::pin(async move { Ok(guard_slow(req, inner, refusals).await) }))
    }
}

/// The body limit and a forced error, for a request with a body or a forced error.
async fn guard_slow<S>(req: Request, mut inner: S, refusals: &Refusals) -> Response
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>,
{
    let (parts, body) = req.into_parts();
    let declared = parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if refusals.refuse_declared_at_once && declared.is_some_and(|len| len > BODY_LIMIT as u64) {
        return (refusals.too_large)();
    }
    let bytes = match Limited::new(body, BODY_LIMIT).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => return (refusals.too_large)(),
        Err(e) => return (refusals.unreadable)(e.to_string()),
    };
    if let Some(ForcedError(spec)) = parts.extensions.get::<ForcedError>() {
        return injected(spec, &parts.headers, &bytes).into_response();
    }
    match inner.call(Request::from_parts(parts, Body::from(bytes))).await {
        Ok(res) => res,
        Err(never) => match never {},
    }
}

/// ERR-11. The rest of the body is never read, so the connection cannot carry another request:
/// `Connection: close` tells the client so (RFC 9112 §9.6) instead of letting it reuse a socket the
/// server is about to close (a client that does writes its next request into a broken pipe).
fn too_large() -> Response {
    let mut res = ApiError::of(&ERR_11).into_response();
    res.headers_mut().insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
    res
}

/// A forced error, with its `details` filled from the request as the real one would be.
fn injected(spec: &ErrorSpec, headers: &HeaderMap, body: &Bytes) -> ApiError {
    match spec.details {
        DetailsKey::DeviceId => {
            let device = headers
                .get(super::header_names::X_DEVICE_ID)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default();
            ApiError::with_device(spec, device)
        }
        DetailsKey::PairingCode => {
            let code = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v.get("pairing_code").and_then(|c| c.as_str()).map(crate::ids::PairingCode::normalise))
                .unwrap_or_default();
            ApiError::with_code(spec, &code)
        }
        DetailsKey::Message => ApiError::invalid_body("forced by /_sim/faults"),
        DetailsKey::None => ApiError::of(spec),
    }
}
