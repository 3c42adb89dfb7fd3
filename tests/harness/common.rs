//! Targets for testing the harness: the real simulator, and "broken" targets — a wiremock server
//! whose stateful responder runs the simulator's router in-process and then breaks one thing in
//! the request or the response. The harness under test only ever sees HTTP.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request};
use http_body_util::BodyExt;
use tower::ServiceExt;
use viopay_check::{CheckOptions, Report, RunOptions, TargetSpec};
use viopay_sim::{ClockMode, Fixtures, RunningSimulator, SimConfig, Simulator};
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

pub fn sim_config() -> SimConfig {
    let mut c = SimConfig::new(Fixtures::builtin().expect("fixtures"));
    c.clock = ClockMode::Virtual;
    c
}

pub async fn spawn_sim(config: SimConfig) -> RunningSimulator {
    viopay_sim::spawn(config, "127.0.0.1:0".parse().expect("addr")).await.expect("simulator")
}

/// A request on its way to the simulator; a breakage may rewrite it.
#[derive(Clone)]
pub struct ProxyRequest {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// The simulator's answer; a breakage may rewrite it.
pub struct ProxyResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl ProxyResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn set_json(&mut self, value: &serde_json::Value) {
        self.body = value.to_string().into_bytes();
    }
}

type Before = Arc<dyn Fn(&mut ProxyRequest) + Send + Sync>;
type After = Arc<dyn Fn(&ProxyRequest, &mut ProxyResponse) + Send + Sync>;
/// The simulator behind the proxy, callable from an [`Around`] hook (any number of times).
pub type Next<'a> = &'a dyn Fn(ProxyRequest) -> ProxyResponse;
type Around = Arc<dyn Fn(ProxyRequest, Next<'_>) -> ProxyResponse + Send + Sync>;

/// One deliberate change of behaviour: a rewrite of requests before the simulator sees them, of
/// its responses, or a middleware around it that may call it as often as it likes. Broken targets
/// break one REQUIRED rule with it; conformant variants change only what the spec leaves open.
#[derive(Clone, Default)]
pub struct Breakage {
    pub before: Option<Before>,
    pub after: Option<After>,
    pub around: Option<Around>,
}

impl Breakage {
    pub fn after(f: impl Fn(&ProxyRequest, &mut ProxyResponse) + Send + Sync + 'static) -> Self {
        Breakage { after: Some(Arc::new(f)), ..Default::default() }
    }

    pub fn before(f: impl Fn(&mut ProxyRequest) + Send + Sync + 'static) -> Self {
        Breakage { before: Some(Arc::new(f)), ..Default::default() }
    }

    pub fn around(f: impl Fn(ProxyRequest, Next<'_>) -> ProxyResponse + Send + Sync + 'static) -> Self {
        Breakage { around: Some(Arc::new(f)), ..Default::default() }
    }
}

/// A deliberately broken target: the one rule it breaks, and how.
pub struct Broken {
    pub name: &'static str,
    pub rule: &'static str,
    pub breakage: Breakage,
}

struct SimProxy {
    router: axum::Router,
    breakage: Breakage,
}

impl Respond for SimProxy {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let path = match request.url.query() {
            Some(q) => format!("{}?{q}", request.url.path()),
            None => request.url.path().to_owned(),
        };
        let mut req = ProxyRequest { method: request.method.clone(), path, headers: request.headers.clone(), body: request.body.clone() };
        if let Some(before) = &self.breakage.before {
            before(&mut req);
        }
        let router = self.router.clone();
        let call = move |req: ProxyRequest| -> ProxyResponse {
            let mut builder = Request::builder().method(req.method.clone()).uri(&req.path);
            for (k, v) in &req.headers {
                builder = builder.header(k, v);
            }
            let Ok(http_req) = builder.body(Body::from(req.body)) else {
                return ProxyResponse { status: 400, headers: HeaderMap::new(), body: Vec::new() };
            };
            // The simulator's handlers never wait on I/O, so its router can be driven to
            // completion on wiremock's responder thread.
            let router = router.clone();
            futures::executor::block_on(async move {
                let res = router.oneshot(http_req).await.expect("infallible");
                let status = res.status().as_u16();
                let headers = res.headers().clone();
                let body = res.into_body().collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
                ProxyResponse { status, headers, body }
            })
        };
        let mut res = match &self.breakage.around {
            Some(around) => around(req.clone(), &call),
            None => call(req.clone()),
        };
        if let Some(after) = &self.breakage.after {
            after(&req, &mut res);
        }
        let mut template = ResponseTemplate::new(res.status);
        for (k, v) in &res.headers {
            if k != "content-length" {
                template = template.insert_header(k.as_str(), v.to_str().unwrap_or_default());
            }
        }
        template.set_body_raw(res.body, res.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("application/json"))
    }
}

/// A wiremock server that behaves like the simulator (control API included) but for `breakage`.
pub async fn broken_target(breakage: Breakage) -> MockServer {
    proxy_target(sim_config(), breakage).await
}

/// The same, in front of a simulator with its own configuration.
pub async fn proxy_target(config: SimConfig, breakage: Breakage) -> MockServer {
    let server = MockServer::start().await;
    let simulator = Simulator::new(config, &server.uri()).expect("simulator");
    Mock::given(wiremock::matchers::any()).respond_with(SimProxy { router: simulator.router(), breakage }).mount(&server).await;
    server
}

pub fn options(tags: Option<&str>) -> CheckOptions {
    CheckOptions {
        run: RunOptions { tags: tags.map(str::to_owned), ..Default::default() },
        request_timeout: Duration::from_secs(30),
        ..Default::default()
    }
}

pub async fn certify(spec: TargetSpec, opts: &CheckOptions) -> Report {
    viopay_check::certify(&spec, opts, |_| {}).await.expect("the run completes")
}

/// Rules with a failing verdict.
pub fn failing_rules(report: &Report) -> Vec<String> {
    report.rules.iter().filter(|r| r.verdict == viopay_check::verdict::RuleVerdict::Fail).map(|r| r.id.clone()).collect()
}

/// Error codes as JSON numbers instead of strings (breaks ERR-02).
pub fn numeric_error_codes() -> Breakage {
    Breakage::after(|_, res| {
        let mut v = res.json();
        if let Some(code) = v["error"]["code"].as_str().and_then(|c| c.parse::<u64>().ok()) {
            v["error"]["code"] = serde_json::json!(code);
            res.set_json(&v);
        }
    })
}

/// `expires_in_sec` as a string (breaks PAIR-02's schema).
pub fn string_ttl() -> Breakage {
    Breakage::after(|req, res| {
        if req.path == "/pos/pairing-code" && res.status == 200 {
            let mut v = res.json();
            v["expires_in_sec"] = serde_json::json!("300");
            res.set_json(&v);
        }
    })
}
