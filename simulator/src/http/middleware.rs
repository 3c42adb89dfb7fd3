//! Cross-cutting request handling: trace ids and the error envelope on every response, the body
//! limit and armed faults on every matched route, the journal.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::panic::AssertUnwindSafe;

use axum::extract::ConnectInfo;

use super::error::{ApiError, PendingError};
use super::note::JournalNote;
use crate::auto_claim::AutoClaims;
use crate::clock::Clock;
use crate::errors::{BODY_LIMIT, DetailsKey, ERR_11, ErrorSpec};
use crate::faults::{self, Action, ConnHandle, Faults, ForcedError, Selected};
use crate::journal::Journal;
use crate::journal::{ClientEvidence, ConnectionEnd, JournalDevice, JournalEntry, TokenId, route_path};
use crate::trace::TraceIds;
use crate::verdict::live::Live;

pub(crate) const X_TRACE_ID: HeaderName = HeaderName::from_static("x-trace-id");

/// What the envelope reads and records on every request: its own substate, built by the
/// composition root.
#[derive(Clone)]
pub(crate) struct Envelope {
    pub(crate) clock: Arc<Clock>,
    pub(crate) trace: Arc<TraceIds>,
    pub(crate) faults: Arc<Faults>,
    pub(crate) journal: Arc<Journal>,
    /// The client rules already reported in the log, per device.
    pub(crate) live: Arc<Live>,
    pub(crate) auto_claims: Arc<AutoClaims>,
}

/// Outermost layer. ERR-07: a fresh trace id per request. ERR-08: `X-Trace-Id` on every response,
/// equal to `error.trace_id` on errors. ERR-01: renders every [`ApiError`] as the envelope. Armed
/// faults are chosen here, before the handler, and the exchange is journaled with them.
pub(crate) async fn envelope(State(sim): State<Envelope>, mut req: Request, next: Next) -> Response {
    let now = sim.clock.now();
    // Automatic claims due by now take effect before the request sees the state (one atomic load
    // when none is due).
    sim.auto_claims.run_due(now);
    let trace_id = sim.trace.next_id();
    // The simulator's own surface (control API, portal) is neither faulted nor journaled.
    let path = req.uri().path();
    let api = !(path.starts_with("/_sim/") || path == "/portal" || path.starts_with("/portal/"));
    let selected = if api {
        let device = req.headers().get("x-device-id").and_then(|v| v.to_str().ok());
        sim.faults.select(req.uri().path(), device)
    } else {
        Selected::default()
    };
    let line = (api && sim.journal.capacity() > 0).then(|| {
        // One lookup in the endpoint table serves the journal's route name and the evidence.
        let endpoint = crate::endpoints::exact(req.uri().path());
        Line {
            time: now,
            method: req.method().clone(),
            path: endpoint.map_or_else(|| route_path(req.uri().path()), |e| std::borrow::Cow::Borrowed(e.path)),
            device: req.headers().get("x-device-id").map(|v| JournalDevice::from_header(v.as_bytes())),
            client: evidence(endpoint, req.uri().path(), req.headers()),
            status: None,
        }
    });
    let journal = |line: Option<Line>, res: Option<&mut Response>, code: Option<String>, rule, connection| {
        let Some(line) = line else { return };
        let note = res.and_then(|r| r.extensions_mut().remove::<JournalNote>()).unwrap_or_default();
        let mut client = line.client;
        if let Some(view) = note.status {
            client.pairing_code_status = Some(view.pairing_code_status);
            client.device_status = Some(view.device_status.as_str());
            client.is_claimed = Some(view.is_claimed);
        }
        client.token_id = note.issued_token.or(client.token_id);
        let entry = JournalEntry {
            seq: 0,
            time: line.time,
            method: line.method,
            path: line.path,
            device: note.device.or(line.device),
            status: line.status,
            code,
            rule,
            trace_id,
            warning: note.warning,
            client,
            faults: selected.hits.clone(),
            connection,
        };
        // Said in the log when it shows the device breaking a client rule (§5.8), so a person at a
        // desk sees it as it happens.
        sim.live.observe(&entry);
        sim.journal.record(entry);
    };

    if let Some(delay) = selected.delay {
        tokio::time::sleep(delay).await;
    }
    match &selected.action {
        Some(action @ Action::Status { .. }) => {
            let mut res = faults::status_answer(action).unwrap_or_default();
            journal(line.map(|l| l.answered(res.status())), None, None, None, None);
            res.extensions_mut().clear();
            return res;
        }
        Some(action @ (Action::Reset | Action::Hang { .. })) => {
            let end = if matches!(action, Action::Reset) { ConnectionEnd::Reset } else { ConnectionEnd::NeverAnswered };
            // Journaled before the connection ends: a client that gives up drops this future.
            journal(line, None, None, None, Some(end));
            let conn = req.extensions().get::<ConnectInfo<ConnHandle>>().map(|c| c.0.clone());
            return faults::no_answer(action, conn.as_ref()).await;
        }
        Some(Action::Error(spec)) => {
            req.extensions_mut().insert(ForcedError(*spec));
        }
        _ => {}
    }

    // No request ever gets a dropped connection: a handler that panics answers the 500 envelope,
    // and the panic is journaled (parking_lot locks do not poison, so the state stays usable).
    let mut res = match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(res) => res,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(panic = %what, %trace_id, "a handler panicked");
            let note = JournalNote { warning: Some(format!("the simulator panicked: {what}")), ..JournalNote::default() };
            note.attach(ApiError::control(StatusCode::INTERNAL_SERVER_ERROR, "5000", "Internal error").into_response())
        }
    };

    let mut code = None;
    let mut rule = None;
    if let Some(PendingError(err)) = res.extensions_mut().remove::<PendingError>() {
        tracing::debug!(rule = err.rule, status = err.status.as_u16(), code = err.code, message = %err.message, %trace_id, "error response");
        code = Some(err.code.to_owned());
        rule = Some(err.rule).filter(|r| *r != "SIM");
        *res.body_mut() = Body::from(err.render(trace_id.as_str()));
        res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        res.headers_mut().remove(CONTENT_LENGTH);
    } else if let Some(super::note::ProblemRule(r)) = res.extensions().get::<super::note::ProblemRule>() {
        // Kustom's problem details are rendered by their handlers; the journal keeps the rule.
        rule = Some(*r);
    }
    if let Ok(value) = HeaderValue::from_str(trace_id.as_str()) {
        res.headers_mut().insert(X_TRACE_ID, value);
    }
    let truncated = matches!(selected.action, Some(Action::Truncate)).then_some(ConnectionEnd::Truncated);
    let status = res.status();
    journal(line.map(|l| l.answered(status)), Some(&mut res), code, rule, truncated);
    match &selected.action {
        Some(action @ (Action::Dribble { .. } | Action::Truncate | Action::Malformed)) => faults::apply_after(action, res).await,
        _ => res,
    }
}

/// The request line as received, until the answer is known.
struct Line {
    time: time::OffsetDateTime,
    method: axum::http::Method,
    path: std::borrow::Cow<'static, str>,
    device: Option<JournalDevice>,
    client: ClientEvidence,
    /// Absent until answered; stays absent when the connection ends without an answer.
    status: Option<u16>,
}

impl Line {
    fn answered(mut self, status: StatusCode) -> Self {
        self.status = Some(status.as_u16());
        self
    }
}

/// What §5.8's rules read from a request, for the POS device endpoints only (a merchant's claim or
/// sign-in is not the POS client's).
fn evidence(endpoint: Option<&crate::endpoints::Endpoint>, path: &str, headers: &HeaderMap) -> ClientEvidence {
    let mut e = ClientEvidence::default();
    // The endpoint table says which requests carry the POS headers (CLI-01) and which are
    // behind attestation auth (CLI-13, CLI-14).
    let (pos_headers, attested) = endpoint.map_or((false, false), |e| (e.pos_headers, e.attested));
    if !pos_headers && !attested {
        return e;
    }
    let text = |name: &str| headers.get(name).map(|v| Box::<str>::from(String::from_utf8_lossy(v.as_bytes())));
    if pos_headers {
        e.user_agent = text("user-agent");
        e.client_type = text("x-client-type");
    }
    if path == "/pos/attest" {
        e.x_timestamp = text("x-timestamp");
        e.x_nonce = text("x-nonce");
    }
    e.has_body =
        headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok()).is_some_and(|n| n > 0)
            || headers.contains_key(axum::http::header::TRANSFER_ENCODING);
    if e.has_body {
        e.content_type = text("content-type");
    }
    if attested {
        e.token_id = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .map(|(_, token)| token)
            .filter(|t| !t.is_empty())
            .map(TokenId::of);
    }
    e
}

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
            let device = headers.get("x-device-id").map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).unwrap_or_default();
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
