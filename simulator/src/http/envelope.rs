//! The outermost layer of every route: trace ids and the error envelope on every response, armed
//! faults chosen before the handler, the journal after it.
//!
//! A hand-written tower layer rather than `middleware::from_fn`: `from_fn` clones the route's
//! boxed service and the layer's state on every request, and every status poll of a fleet pays
//! for that. Here the work before the handler is synchronous, the handler's future is created at
//! once, and only one `Arc` goes with the request; the inner service is cloned only on the fault
//! paths that wait before calling it.

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use futures::future::BoxFuture;

use super::error::{ApiError, PendingError};
use super::header_names::{X_CLIENT_TYPE, X_DEVICE_ID, X_NONCE, X_TIMESTAMP, X_TRACE_ID};
use super::note::{JournalNote, ProblemRule};
use crate::auto_claim::AutoClaims;
use crate::clock::Clock;
use crate::faults::{self, Action, ConnHandle, Faults, ForcedError, Selected};
use crate::journal::{ClientEvidence, ConnectionEnd, Journal, JournalDevice, JournalEntry, TokenId, intern, route_path};
use crate::trace::{TraceId, TraceIds};
use crate::verdict::live::Live;

/// What the envelope reads and records on every request: its own substate, built by the
/// composition root.
pub(crate) struct Envelope {
    pub(crate) clock: Arc<Clock>,
    pub(crate) trace: Arc<TraceIds>,
    pub(crate) faults: Arc<Faults>,
    pub(crate) journal: Arc<Journal>,
    /// The client rules already reported in the log, per device.
    pub(crate) live: Arc<Live>,
    pub(crate) auto_claims: Arc<AutoClaims>,
}

/// ERR-07: a fresh trace id per request. ERR-08: `X-Trace-Id` on every response, equal to
/// `error.trace_id` on errors. ERR-01: renders every [`ApiError`] as the envelope.
#[derive(Clone)]
pub(crate) struct EnvelopeLayer(Arc<Envelope>);

impl EnvelopeLayer {
    pub(crate) fn new(envelope: Arc<Envelope>) -> Self {
        EnvelopeLayer(envelope)
    }
}

#[cfg(test)]
impl EnvelopeLayer {
    /// What the live log remembers (see [`Live::remembered`]).
    pub(crate) fn remembered_live(&self) -> usize {
        self.0.live.remembered()
    }
}

impl<S> tower::Layer<S> for EnvelopeLayer {
    type Service = EnvelopeService<S>;

    fn layer(&self, inner: S) -> EnvelopeService<S> {
        EnvelopeService { inner, envelope: self.0.clone() }
    }
}

#[derive(Clone)]
pub(crate) struct EnvelopeService<S> {
    inner: S,
    envelope: Arc<Envelope>,
}

impl<S> tower::Service<Request> for EnvelopeService<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let envelope = self.envelope.clone();
        let exchange = envelope.begin(&req);
        if let Some(Action::Error(spec)) = &exchange.selected.action {
            req.extensions_mut().insert(ForcedError(*spec));
        }
        let waits = exchange.selected.delay.is_some()
            || matches!(exchange.selected.action, Some(Action::Status { .. } | Action::Reset | Action::Hang { .. }));
        if waits {
            // The service that was polled ready goes with the request; a clone stays for the next.
            let clone = self.inner.clone();
            let mut inner = std::mem::replace(&mut self.inner, clone);
            return Box::pin(async move { Ok(envelope.faulted(exchange, req, &mut inner).await) });
        }
        let handler = call_catching(&mut self.inner, req);
        Box::pin(async move { Ok(envelope.finish(exchange, handler.await).await) })
    }
}

/// What a handler's panic leaves (its payload).
type Panic = Box<dyn std::any::Any + Send>;

/// Calls the handler, catching a panic in the call or in its future.
fn call_catching<S>(inner: &mut S, req: Request) -> impl std::future::Future<Output = Result<Response, Panic>> + Send + 'static
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    let handler = std::panic::catch_unwind(AssertUnwindSafe(|| inner.call(req)));
    async move {
        match handler {
            Ok(future) => AssertUnwindSafe(future).catch_unwind().await.map(|answer| match answer {
                Ok(res) => res,
                Err(never) => match never {},
            }),
            Err(panic) => Err(panic),
        }
    }
}

/// One exchange, from the request line to the journal entry.
struct Exchange {
    trace_id: TraceId,
    selected: Selected,
    /// Absent for the simulator's own surface (control API, portal), which is neither faulted
    /// nor journaled, and when the journal keeps nothing.
    line: Option<Line>,
}

impl Envelope {
    /// Everything decided before the handler runs.
    fn begin(&self, req: &Request) -> Exchange {
        let now = self.clock.now();
        // Automatic claims due by now take effect before the request sees the state (one atomic
        // load when none is due).
        self.auto_claims.run_due(now);
        let trace_id = self.trace.next_id();
        let path = req.uri().path();
        let api = !(path.starts_with("/_sim/") || path == "/portal" || path.starts_with("/portal/"));
        if !api {
            return Exchange { trace_id, selected: Selected::default(), line: None };
        }
        let headers = req.headers();
        let device = headers.get(X_DEVICE_ID);
        let selected = self.faults.select(path, device.and_then(|v| v.to_str().ok()));
        let line = (self.journal.capacity() > 0).then(|| {
            // One lookup in the endpoint table serves the journal's route name and the evidence.
            let endpoint = crate::endpoints::exact(path);
            Line {
                time: now,
                method: req.method().clone(),
                path: endpoint.map_or_else(|| route_path(path), |e| std::borrow::Cow::Borrowed(e.path)),
                device: device.map(|v| JournalDevice::from_header(v.as_bytes())),
                client: evidence(endpoint, path, headers),
                status: None,
            }
        });
        Exchange { trace_id, selected, line }
    }

    /// A fault that waits before the handler: a delay, an answer in the handler's place, or no
    /// answer at all.
    async fn faulted<S>(&self, mut exchange: Exchange, req: Request, inner: &mut S) -> Response
    where
        S: tower::Service<Request, Response = Response, Error = Infallible>,
        S::Future: Send + 'static,
    {
        if let Some(delay) = exchange.selected.delay {
            tokio::time::sleep(delay).await;
        }
        match &exchange.selected.action {
            Some(action @ Action::Status { .. }) => {
                let mut res = faults::status_answer(action).unwrap_or_default();
                let line = exchange.line.take().map(|l| l.answered(res.status()));
                self.record(&exchange, line, None, None, None, None);
                res.extensions_mut().clear();
                return res;
            }
            Some(action @ (Action::Reset | Action::Hang { .. })) => {
                let end = if matches!(action, Action::Reset) { ConnectionEnd::Reset } else { ConnectionEnd::NeverAnswered };
                // Journaled before the connection ends: a client that gives up drops this future.
                let line = exchange.line.take();
                self.record(&exchange, line, None, None, None, Some(end));
                let conn = req.extensions().get::<ConnectInfo<ConnHandle>>().map(|c| c.0.clone());
                return faults::no_answer(action, conn.as_ref()).await;
            }
            _ => {}
        }
        let res = call_catching(inner, req).await;
        self.finish(exchange, res).await
    }

    /// The handler's answer (or its panic) rendered, stamped with the trace id and journaled.
    async fn finish(&self, mut exchange: Exchange, res: Result<Response, Panic>) -> Response {
        let trace_id = exchange.trace_id;
        // No request ever gets a dropped connection: a handler that panics answers the 500
        // envelope, and the panic is journaled (parking_lot locks do not poison, so the state
        // stays usable).
        let mut res = res.unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(panic = %what, %trace_id, "a handler panicked");
            let note = JournalNote { warning: Some(format!("the simulator panicked: {what}")), ..JournalNote::default() };
            note.attach(ApiError::control(StatusCode::INTERNAL_SERVER_ERROR, "5000", "Internal error").into_response())
        });
        let mut code = None;
        let mut rule = None;
        if let Some(PendingError(err)) = res.extensions_mut().remove::<PendingError>() {
            tracing::debug!(rule = err.rule, status = err.status.as_u16(), code = err.code, message = %err.message, %trace_id, "error response");
            code = Some(err.code.to_owned());
            rule = Some(err.rule).filter(|r| *r != "SIM");
            *res.body_mut() = Body::from(err.render(trace_id.as_str()));
            res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            res.headers_mut().remove(CONTENT_LENGTH);
        } else if let Some(ProblemRule(r)) = res.extensions().get::<ProblemRule>() {
            // Kustom's problem details are rendered by their handlers; the journal keeps the rule.
            rule = Some(*r);
        }
        if let Ok(value) = HeaderValue::from_str(trace_id.as_str()) {
            res.headers_mut().insert(X_TRACE_ID, value);
        }
        let truncated = matches!(exchange.selected.action, Some(Action::Truncate)).then_some(ConnectionEnd::Truncated);
        let line = exchange.line.take().map(|l| l.answered(res.status()));
        let note = if line.is_some() { res.extensions_mut().remove::<JournalNote>() } else { None };
        self.record(&exchange, line, note, code, rule, truncated);
        match &exchange.selected.action {
            Some(action @ (Action::Dribble { .. } | Action::Truncate | Action::Malformed)) => faults::apply_after(action, res).await,
            _ => res,
        }
    }

    /// Journals one exchange, and says in the log when it shows the device breaking a client rule
    /// (§5.8), so a person at a desk sees it as it happens.
    fn record(
        &self,
        exchange: &Exchange,
        line: Option<Line>,
        note: Option<JournalNote>,
        code: Option<String>,
        rule: Option<&'static str>,
        connection: Option<ConnectionEnd>,
    ) {
        let Some(line) = line else { return };
        let note = note.unwrap_or_default();
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
            trace_id: exchange.trace_id,
            warning: note.warning,
            client,
            faults: exchange.selected.hits.clone(),
            connection,
        };
        self.live.observe(&entry);
        self.journal.record(entry);
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
    let text = |name| headers.get(name).map(|v: &HeaderValue| intern(v.as_bytes()));
    if pos_headers {
        e.user_agent = text(USER_AGENT);
        e.client_type = text(X_CLIENT_TYPE);
    }
    if path == "/pos/attest" {
        e.x_timestamp = text(X_TIMESTAMP);
        e.x_nonce = text(X_NONCE);
    }
    e.has_body =
        headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok()).is_some_and(|n| n > 0)
            || headers.contains_key(TRANSFER_ENCODING);
    if e.has_body {
        e.content_type = text(CONTENT_TYPE);
    }
    if attested {
        e.token_id = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .map(|(_, token)| token)
            .filter(|t| !t.is_empty())
            .map(TokenId::of);
    }
    e
}
