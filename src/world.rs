//! The cucumber World: one per scenario. It sends every request through [`CheckWorld::send`], which
//! checks each response against the schemas and the trace-id rules whatever the scenario asked,
//! and turns every broken rule into a [`Finding`] at the rule's level.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::catalogue::{Catalogue, Level};
use crate::client::{ApiRequest, Client, HeaderCase};
use crate::exchange::Exchange;
use crate::schema::Schemas;
use crate::spec;
use crate::target::{TakeError, Target};
use crate::verdict::Finding;

/// Everything a run shares between its scenarios.
#[derive(Debug)]
pub struct RunContext {
    pub target: Target,
    pub client: Client,
    pub schemas: Schemas,
    pub catalogue: Catalogue,
    pub strict: bool,
    /// Rule IDs of known deviations (`--baseline`).
    pub baseline: std::collections::BTreeSet<String>,
}

tokio::task_local! {
    /// The run a World belongs to. cucumber builds Worlds without arguments; the runner scopes
    /// this around the whole run, so several runs (the self-test) can share one process.
    pub static CONTEXT: Arc<RunContext>;
}

/// Panic prefixes the runner maps to scenario outcomes.
pub const NOT_RUN: &str = "NOT RUN: ";
pub const NOT_APPLICABLE: &str = "NOT APPLICABLE: ";
pub const ERROR: &str = "ERROR: ";
pub const FAILED: &str = "FAILED: ";

#[derive(cucumber::World)]
#[world(init = Self::from_context)]
pub struct CheckWorld {
    pub ctx: Arc<RunContext>,
    pub findings: Vec<Finding>,
    pub requests: usize,
    /// Devices by name; `""` is "the device".
    pub devices: BTreeMap<String, String>,
    /// Codes issued in this scenario, oldest first: (device name, code).
    pub codes: Vec<(String, String)>,
    /// Bearer tokens by merchant label, with the clock seconds moved since each was issued.
    pub tokens: BTreeMap<String, (String, u32)>,
    pub last: Option<Exchange>,
    /// Responses of a concurrent burst.
    pub burst: Vec<Exchange>,
    /// Every exchange of the scenario.
    pub exchanges: Vec<Exchange>,
    pub started: std::time::Instant,
}

impl std::fmt::Debug for CheckWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckWorld")
            .field("devices", &self.devices)
            .field("codes", &self.codes)
            .field("findings", &self.findings.len())
            .finish()
    }
}

impl CheckWorld {
    fn from_context() -> Self {
        // A World outside a run is a harness defect, not something a target can cause.
        #[allow(clippy::expect_used)]
        let ctx = CONTEXT.try_with(Arc::clone).expect("CheckWorld is created by viopay-check's runner");
        CheckWorld {
            ctx,
            findings: Vec::new(),
            requests: 0,
            devices: BTreeMap::new(),
            codes: Vec::new(),
            tokens: BTreeMap::new(),
            last: None,
            burst: Vec::new(),
            exchanges: Vec::new(),
            started: std::time::Instant::now(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.ctx.client
    }

    pub fn target(&self) -> &Target {
        &self.ctx.target
    }

    pub fn level(&self, rule: &str) -> Level {
        self.ctx.catalogue.level(rule)
    }

    /// Records a broken rule. Returns whether the scenario must stop (a failure-level finding).
    pub fn record(&mut self, rule: &str, message: String, exchange: Option<&Exchange>) -> bool {
        let mut finding = Finding::new(&self.ctx.catalogue, rule, message, exchange);
        finding.known = self.ctx.baseline.contains(rule);
        let fails = finding.is_failure(self.ctx.strict);
        self.findings.push(finding);
        fails
    }

    /// Asserts one rule on the last response: a REQUIRED break (or any break under `--strict`)
    /// stops the scenario; a SIMULATOR difference is noted and the scenario goes on.
    pub fn check(&mut self, rule: &str, ok: bool, message: impl FnOnce() -> String) {
        if ok {
            return;
        }
        let message = message();
        let last = self.last.clone();
        if self.record(rule, message.clone(), last.as_ref()) {
            let excerpt = last.map(|e| format!("\n  response: {}", e.excerpt())).unwrap_or_default();
            panic!("{FAILED}{rule} ({}): {message}{excerpt}", self.level(rule).as_str());
        }
    }

    pub async fn send(&mut self, req: ApiRequest) -> Exchange {
        self.send_with(req, HeaderCase::Title).await
    }

    /// Sends a request and checks the response against everything that holds for every response.
    pub async fn send_with(&mut self, req: ApiRequest, case: HeaderCase) -> Exchange {
        let ex = self.ctx.client.send_with(&req, case).await;
        self.observe(&req, &ex);
        ex
    }

    /// Checks a response (schemas, trace ids, no 5xx) and keeps it; stops the scenario on a
    /// failure-level finding. Requests sent concurrently come through here too.
    pub fn observe(&mut self, req: &ApiRequest, ex: &Exchange) {
        self.requests += 1;
        if ex.status.is_none() {
            panic!("{ERROR}no response from the target: {}", ex.excerpt());
        }
        let mut stop = Vec::new();
        for f in crate::checks::exchange_findings(&self.ctx.schemas, &self.ctx.catalogue, req, ex) {
            let summary = format!("{} ({}): {}", f.rule, f.level.as_str(), f.message);
            if self.record(&f.rule, f.message, Some(ex)) {
                stop.push(summary);
            }
        }
        self.exchanges.push(ex.clone());
        self.last = Some(ex.clone());
        if !stop.is_empty() {
            panic!("{FAILED}{}\n  response: {}", stop.join("\n  "), ex.excerpt());
        }
    }

    pub fn last(&self) -> &Exchange {
        match &self.last {
            Some(ex) => ex,
            None => panic!("{ERROR}the scenario checks a response before sending a request"),
        }
    }

    pub fn last_json(&self) -> Value {
        self.last().json().unwrap_or(Value::Null)
    }

    /// A device by name (`""` for "the device").
    pub fn device(&self, name: &str) -> String {
        match self.devices.get(name) {
            Some(d) => d.clone(),
            None => panic!("{ERROR}no device named `{name}` in this scenario: add a `Given a fresh device` step"),
        }
    }

    pub async fn take_device(&mut self, name: &str, merchant: &str) {
        match self.ctx.target.take_device(&self.ctx.client, merchant).await {
            Ok(id) => {
                self.devices.insert(name.to_owned(), id);
            }
            Err(TakeError::Exhausted(e)) => panic!("{NOT_RUN}{e}"),
            Err(e) => panic!("{ERROR}{e}"),
        }
    }

    /// The three POS headers of `device`, and `Content-Type` on POST as the docs show.
    pub fn pos_request(&self, method: &str, path: &str, device: &str) -> ApiRequest {
        let req = ApiRequest::new(method, path)
            .header("X-Device-Id", device)
            .header("User-Agent", spec::USER_AGENT)
            .header("X-Client-Type", "pos");
        if method == "POST" { req.header("Content-Type", "application/json") } else { req }
    }

    /// The latest code issued to the device named `name`.
    pub fn latest_code(&self, name: &str) -> String {
        match self.codes.iter().rev().find(|(d, _)| d == name) {
            Some((_, c)) => c.clone(),
            None => panic!("{ERROR}no pairing code was issued in this scenario"),
        }
    }

    pub fn first_code(&self) -> String {
        match self.codes.first() {
            Some((_, c)) => c.clone(),
            None => panic!("{ERROR}no pairing code was issued in this scenario"),
        }
    }

    /// Replaces `${device}`, `${device NAME}`, `${code}`, `${code NAME}`, `${first code}` and
    /// `${unknown device}` (not `<…>`, which Scenario Outlines use for their examples).
    pub fn expand(&self, text: &str) -> String {
        let mut out = text.to_owned();
        if out.contains("${unknown device}") {
            out = out.replace("${unknown device}", &self.ctx.target.unknown_device);
        }
        if out.contains("${first code}") {
            out = out.replace("${first code}", &self.first_code());
        }
        if out.contains("${code}") {
            out = out.replace("${code}", &self.latest_code(""));
        }
        for (name, id) in &self.devices {
            let key = if name.is_empty() { "${device}".to_owned() } else { format!("${{device {name}}}") };
            out = out.replace(&key, id);
            let code_key = format!("${{code {name}}}");
            if !name.is_empty() && out.contains(&code_key) {
                out = out.replace(&code_key, &self.latest_code(name));
            }
        }
        out
    }

    /// A valid token of merchant `label`: signs in (client session, then session initiate,
    /// AUTH-10) when there is none or the clock has moved close to its expiry.
    pub async fn token(&mut self, label: &str) -> String {
        if let Some((token, moved)) = self.tokens.get(label)
            && *moved < 240
        {
            return token.clone();
        }
        self.sign_in(label).await
    }

    pub async fn sign_in(&mut self, label: &str) -> String {
        let merchant = match self.ctx.target.merchant(label) {
            Ok(m) => m.clone(),
            Err(e) => panic!("{ERROR}{e}"),
        };
        let body = serde_json::json!({ "client_id": merchant.client_id, "client_secret": merchant.client_secret });
        let ex = self.send(ApiRequest::new("POST", "/client/session").json(&body)).await;
        self.check("AUTH-04", ex.status == Some(200), || format!("merchant {label}'s client credentials did not give a token"));
        let token = ex.json().and_then(|v| v["access_token"].as_str().map(str::to_owned)).unwrap_or_default();
        let ex = self
            .send(
                ApiRequest::new("POST", "/session/initiate")
                    .header("Authorization", &format!("Bearer {token}"))
                    .json(&serde_json::json!({ "host": "merchant.viopay.io" })),
            )
            .await;
        self.check("AUTH-08", ex.status == Some(200), || {
            format!("POST /session/initiate with a fresh token answered {}", ex.status.unwrap_or_default())
        });
        self.tokens.insert(label.to_owned(), (token.clone(), 0));
        token
    }

    /// After the clock moved: tokens age with it.
    pub fn clock_moved(&mut self, seconds: u32) {
        for (_, moved) in self.tokens.values_mut() {
            *moved = moved.saturating_add(seconds);
        }
    }
}
