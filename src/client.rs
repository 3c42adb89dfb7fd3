//! The HTTP client every request goes through. It never fails: a transport error is recorded in
//! the [`Exchange`] like a response, so the verdict can name it.

use std::time::{Duration, Instant};

use crate::exchange::Exchange;

/// A request to the target, before it is sent.
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl ApiRequest {
    pub fn new(method: &str, path: &str) -> Self {
        ApiRequest { method: method.to_owned(), path: path.to_owned(), ..Default::default() }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    pub fn json(self, value: &serde_json::Value) -> Self {
        self.header("Content-Type", "application/json").body(value.to_string())
    }

    /// The exchange of this request sent to `url`, before any answer: what every transport fills.
    pub(crate) fn unanswered(&self, url: String) -> Exchange {
        Exchange {
            method: self.method.clone(),
            url,
            request_headers: self.headers.clone(),
            request_body: self.body.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()),
            status: None,
            response_headers: Vec::new(),
            response_body: String::new(),
            elapsed_ms: 0,
            transport_error: None,
        }
    }
}

/// Which spelling header names have on the wire (HDR-12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderCase {
    Lower,
    Title,
}

#[derive(Debug, Clone)]
pub struct Client {
    base_url: String,
    lower: reqwest::Client,
    title: reqwest::Client,
    /// A simulator's `--control-token`, sent on `/_sim/` requests only and never recorded in an
    /// exchange (reports and curl replays do not carry it).
    control_token: Option<String>,
}

/// Connections kept open between requests, by default.
const DEFAULT_POOL: usize = 64;

/// The header a simulator started with `--control-token` reads it from.
pub const CONTROL_TOKEN_HEADER: &str = "X-Sim-Control-Token";

#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct ClientError(#[from] reqwest::Error);

impl Client {
    /// `timeout` bounds every request, so a hung target is reported, never waited on forever.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, ClientError> {
        Self::with_pool(base_url, timeout, DEFAULT_POOL)
    }

    /// The same, keeping up to `idle` connections open between requests (`load` keeps as many
    /// as it sends at once, so a fleet's polls reuse sockets instead of opening new ones).
    pub fn with_pool(base_url: &str, timeout: Duration, idle: usize) -> Result<Self, ClientError> {
        let build = |title: bool| {
            let b = reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout.min(Duration::from_secs(5)))
                .pool_max_idle_per_host(idle);
            if title { b.http1_title_case_headers().build() } else { b.build() }
        };
        Ok(Client { base_url: base_url.trim_end_matches('/').to_owned(), lower: build(false)?, title: build(true)?, control_token: None })
    }

    /// The same client, presenting `token` to the simulator's control API.
    pub fn with_control_token(mut self, token: Option<String>) -> Self {
        self.control_token = token;
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub async fn send(&self, req: &ApiRequest) -> Exchange {
        self.send_with(req, HeaderCase::Title).await
    }

    pub async fn send_with(&self, req: &ApiRequest, case: HeaderCase) -> Exchange {
        let url = format!("{}{}", self.base_url, req.path);
        let client = match case {
            HeaderCase::Lower => &self.lower,
            HeaderCase::Title => &self.title,
        };
        let mut exchange = req.unanswered(url.clone());
        let method = match reqwest::Method::from_bytes(req.method.as_bytes()) {
            Ok(m) => m,
            Err(e) => {
                exchange.transport_error = Some(format!("invalid method: {e}"));
                return exchange;
            }
        };
        let mut builder = client.request(method, &url);
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        if let Some(token) = &self.control_token
            && req.path.starts_with("/_sim/")
        {
            builder = builder.header(CONTROL_TOKEN_HEADER, token.as_str());
        }
        if let Some(body) = &req.body {
            builder = builder.body(body.clone());
        }
        let started = Instant::now();
        match builder.send().await {
            Ok(res) => {
                exchange.status = Some(res.status().as_u16());
                exchange.response_headers = header_pairs(res.headers());
                match res.bytes().await {
                    Ok(bytes) => exchange.response_body = String::from_utf8_lossy(&bytes).into_owned(),
                    Err(e) => exchange.transport_error = Some(format!("reading the body: {e}")),
                }
            }
            Err(e) => exchange.transport_error = Some(describe(&e)),
        }
        exchange.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        exchange
    }
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    error_chain(kind, e)
}

/// An answer's headers as an [`Exchange`] keeps them (a value that is not UTF-8, lossily).
pub(crate) fn header_pairs(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers.iter().map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect()
}

/// `kind: error: its source: …`, the whole chain of a transport error on one line.
pub(crate) fn error_chain(kind: &str, e: &dyn std::error::Error) -> String {
    let mut msg = format!("{kind}: {e}");
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(&format!(": {s}"));
        source = s.source();
    }
    msg
}
