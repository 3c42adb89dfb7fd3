//! The portal's calls to the API, in-process through the simulator's own stack (envelope, faults,
//! journal), as the real portals call theirs over the network: the journal shows ordinary
//! requests, and an armed fault hits the portal too.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// How long the portal waits for the API (a `hang` fault must not hang the page).
const API_TIMEOUT: Duration = Duration::from_secs(10);

/// What the API answered, as far as the portal could read it.
#[derive(Debug)]
pub(crate) enum Answer {
    /// A status and the body, when it was JSON.
    Http(StatusCode, Option<Value>),
    /// The answer broke off or never came.
    Broken(String),
}

/// The API as the portal reaches it: a router over the simulator's own stack, made on each call by
/// the composition root (which this module cannot name: it hands in the maker).
#[derive(Clone)]
pub(crate) struct ApiClient(Arc<dyn Fn() -> Option<axum::Router> + Send + Sync>);

impl ApiClient {
    /// `make` gives the API router, or `None` once the simulator is gone.
    pub(crate) fn new(make: impl Fn() -> Option<axum::Router> + Send + Sync + 'static) -> Self {
        ApiClient(Arc::new(make))
    }

    /// One request to the API, and its answer as far as the portal could read it.
    pub(crate) async fn call(&self, method: Method, path: &str, headers: &[(&str, &str)], body: Option<Value>) -> Answer {
        let mut request = Request::builder().method(method).uri(path).header(header::USER_AGENT, "viopay-sim merchant portal");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let body = match body {
            Some(v) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let Ok(request) = request.body(body) else { return Answer::Broken("the request could not be built".into()) };
        let exchange = async {
            let router = (self.0)().ok_or_else(|| "the simulator is shutting down".to_owned())?;
            let res = router.oneshot(request).await.map_err(|e| e.to_string())?;
            let status = res.status();
            let bytes = res.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
            Ok::<_, String>(Answer::Http(status, serde_json::from_slice(&bytes).ok()))
        };
        match tokio::time::timeout(API_TIMEOUT, exchange).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => Answer::Broken(e),
            Err(_) => Answer::Broken(format!("no answer within {} s", API_TIMEOUT.as_secs())),
        }
    }
}
