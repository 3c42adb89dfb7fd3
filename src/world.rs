//! The cucumber World: one per scenario. Every request goes through [`CheckWorld::send`], which
//! checks each response against the schemas and the trace-id rules whatever the scenario asked.
//! Requests whose answer the model predicts go through [`CheckWorld::judged`] as well: the shared
//! model ([`crate::model`]) judges them exactly as the fuzzer would, and follows the branch the
//! target took. Once a target has taken another branch the spec allows, the literal `Then` checks
//! written for the simulator's branch are "not verified" instead of failing a second time.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::client::{ApiRequest, Client, HeaderCase};
use crate::exchange::Exchange;
use crate::judge::{Judge, Ledger, Ruling};
use crate::model::{Expect, Model, judge};
use crate::schema::Schemas;
use crate::session::Session;
use crate::targets::{TakeError, Target};

/// Everything a run shares between its scenarios.
#[derive(Debug)]
pub struct RunContext {
    pub target: Target,
    pub client: Client,
    pub schemas: Schemas,
    /// How findings weigh: levels, `--strict`, `--baseline`.
    pub judge: Arc<Judge>,
}

tokio::task_local! {
    /// The run a World belongs to. cucumber builds Worlds without arguments; the runner scopes
    /// this around the whole run, so several runs (the self-test) can share one process.
    pub static CONTEXT: Arc<RunContext>;
}

pub(crate) use crate::judge::{Stop, harness_error};

#[derive(cucumber::World)]
#[world(init = Self::from_context)]
pub struct CheckWorld {
    pub ctx: Arc<RunContext>,
    pub session: Session,
    /// What the scenario found, weighed by the run's one judge.
    pub core: Ledger,
    /// Devices by name (`""` is "the device"), with their index in the model (`None` for a
    /// device the target does not know, or one the model no longer follows).
    pub devices: BTreeMap<String, (String, Option<usize>)>,
    pub model: Model,
    /// Codes issued in this scenario, oldest first: (device name, code).
    pub codes: Vec<(String, String)>,
    pub last: Option<Exchange>,
    /// Responses of a concurrent burst.
    pub burst: Vec<Exchange>,
    /// Every exchange of the scenario.
    pub exchanges: Vec<Exchange>,
    /// The device whose next pairing-code request the target was told to fail (PAIR-08).
    pub fault_armed: Option<String>,
    /// Devices the harness plays in steps 5–8, by name.
    pub pos: BTreeMap<String, crate::pos::device::PosDevice>,
    /// What the scenario's terminals share (CFG-06, TPAR-05).
    pub fleet: crate::pos::verify::Fleet,
    /// Where the target's clock stands for this scenario.
    pub clock: crate::model::clock::ModelClock,
    /// The next claim goes with a token whose session was never initiated: any refusal is the
    /// target's own answer (AUTH-11, SIMULATOR; AUTH-12, UNKNOWN), not a claim rule's break.
    pub uninitiated: bool,
    /// When the last request went out, by the harness's monotonic and wall clocks: a time the
    /// target reports was read between then and its answer (BOOT-03).
    pub last_sent: Option<(std::time::Instant, time::OffsetDateTime)>,
}

impl std::fmt::Debug for CheckWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckWorld")
            .field("devices", &self.devices)
            .field("codes", &self.codes)
            .field("findings", &self.core.findings.len())
            .finish()
    }
}

impl CheckWorld {
    fn from_context() -> Self {
        // A World outside a run is a harness defect, not something a target can cause.
        #[allow(clippy::expect_used)]
        let ctx = CONTEXT.try_with(Arc::clone).expect("CheckWorld is created by viopay-check's runner");
        let real = !ctx.target.frozen;
        CheckWorld {
            session: Session::new(),
            core: Ledger::new(ctx.judge.clone()),
            ctx,
            devices: BTreeMap::new(),
            model: Model::new(Vec::new(), real),
            codes: Vec::new(),
            last: None,
            burst: Vec::new(),
            uninitiated: false,
            last_sent: None,
            clock: crate::model::clock::ModelClock::new(!real),
            exchanges: Vec::new(),
            fault_armed: None,
            pos: BTreeMap::new(),
            fleet: crate::pos::verify::Fleet::default(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.ctx.client
    }

    pub fn target(&self) -> &Target {
        &self.ctx.target
    }

    /// Records a broken rule at its level; returns whether the scenario must stop.
    pub fn record(&mut self, rule: &str, message: String, exchange: Option<&Exchange>) -> bool {
        self.core.record(rule, message, exchange)
    }

    /// Asserts one rule on the last response, as the simulator answers (see [`Ledger::check`]).
    pub fn check(&mut self, rule: &str, ok: bool, message: impl FnOnce() -> String) {
        self.core.check(rule, ok, message, self.last.as_ref());
    }

    /// A precondition of the scenario, never skipped after a divergence ([`Ledger::require`]).
    pub fn require(&mut self, rule: &str, ok: bool, message: impl FnOnce() -> String) {
        self.core.require(rule, ok, message, self.last.as_ref());
    }

    pub async fn send(&mut self, req: ApiRequest) -> Exchange {
        self.send_with(req, HeaderCase::Title).await
    }

    /// Sends a request and checks the response against everything that holds for every response.
    pub async fn send_with(&mut self, req: ApiRequest, case: HeaderCase) -> Exchange {
        self.last_sent = Some((std::time::Instant::now(), time::OffsetDateTime::now_utc()));
        let ex = self.ctx.client.send_with(&req, case).await;
        self.sync_clock();
        self.observe(&req, &ex);
        ex
    }

    /// On a clock that keeps running model time is the moves plus the time elapsed
    /// ([`crate::model::clock::ModelClock`]); the model's slack covers the rest.
    pub fn sync_clock(&mut self) {
        if self.clock.running() {
            self.model.now = self.clock.now();
        }
    }

    /// Sends a request whose answer the model predicts, and judges it. Returns the exchange and
    /// the label of the branch the target took.
    pub async fn judged(&mut self, req: ApiRequest, expect: &Expect) -> (Exchange, &'static str) {
        let ex = self.send(req).await;
        let label = self.verdict(expect, &ex);
        (ex, label)
    }

    /// The model's verdict on one response, weighed by the judge; returns the label of the branch
    /// the target took, which the model then follows.
    pub fn verdict(&mut self, expect: &Expect, ex: &Exchange) -> &'static str {
        let verdict = judge(expect, ex);
        match Ruling::from_verdict(&verdict) {
            Some(ruling) => self.core.rule(ruling, Some(ex)),
            None => self.core.held(expect.rule),
        }
        verdict.label()
    }

    /// Checks a response (schemas, trace ids, no 5xx) and keeps it; stops the scenario on a
    /// failure-level finding. Requests sent concurrently come through here too.
    pub fn observe(&mut self, req: &ApiRequest, ex: &Exchange) {
        self.core.requests += 1;
        self.core.taped(ex);
        if ex.status.is_none() {
            harness_error!("no response from the target: {}", ex.excerpt());
        }
        let (findings, notes) = crate::checks::exchange_findings(&self.ctx.schemas, req, ex);
        for note in notes {
            self.core.note(note);
        }
        let mut stop = Vec::new();
        for (rule, message) in findings {
            let summary = format!("{rule}: {message}");
            if self.record(&rule, message, Some(ex)) {
                stop.push(summary);
            }
        }
        self.exchanges.push(ex.clone());
        self.last = Some(ex.clone());
        if !stop.is_empty() {
            Stop::Failed(format!("{}\n  response: {}", stop.join("\n  "), ex.excerpt())).raise();
        }
    }

    pub fn last(&self) -> &Exchange {
        match &self.last {
            Some(ex) => ex,
            None => harness_error!("the scenario checks a response before sending a request"),
        }
    }

    pub fn last_json(&self) -> Value {
        self.last().json().unwrap_or(Value::Null)
    }

    /// A device by name (`""` for "the device").
    pub fn device(&self, name: &str) -> String {
        match self.devices.get(name) {
            Some((id, _)) => id.clone(),
            None => harness_error!("no device named `{name}` in this scenario: add a `Given a fresh device` step"),
        }
    }

    /// The model's index of a device, when the model follows it.
    pub fn modeled(&self, name: &str) -> Option<usize> {
        self.devices.get(name).and_then(|(_, i)| *i)
    }

    /// The model stops following a device whose state an unmodeled request may have changed.
    pub fn unfollow(&mut self, name: &str) {
        if let Some((_, i)) = self.devices.get_mut(name) {
            *i = None;
        }
    }

    pub async fn take_device(&mut self, name: &str, merchant: &str) {
        let owner = match self.ctx.target.merchants.iter().position(|m| m.label == merchant) {
            Some(i) => i,
            None => harness_error!("no merchant {merchant}: scenarios use merchants A and B"),
        };
        match self.ctx.target.take_device(&self.ctx.client, merchant).await {
            Ok(id) => {
                let index = self.model.add_device(id.clone(), owner);
                self.devices.insert(name.to_owned(), (id, Some(index)));
            }
            Err(TakeError::Exhausted(e)) => Stop::NotRun(e.to_string()).raise(),
            Err(e) => harness_error!("{e}"),
        }
    }

    /// The latest code issued to the device named `name`.
    pub fn latest_code(&self, name: &str) -> String {
        match self.codes.iter().rev().find(|(d, _)| d == name) {
            Some((_, c)) => c.clone(),
            None => harness_error!("no pairing code was issued in this scenario"),
        }
    }

    pub fn first_code(&self) -> String {
        match self.codes.first() {
            Some((_, c)) => c.clone(),
            None => harness_error!("no pairing code was issued in this scenario"),
        }
    }

    /// The model's (device, code) indices of a code value issued in this scenario.
    pub fn code_index(&self, value: &str) -> Option<(usize, usize)> {
        self.model.devices.iter().enumerate().find_map(|(d, dev)| dev.codes.iter().position(|c| c.value == value).map(|k| (d, k)))
    }

    /// Replaces `${device}`, `${device NAME}`, `${code}`, `${code NAME}`, `${first code}`,
    /// `${unknown device}` and `${merchant id A}` (not `<…>`, which Scenario Outlines use for their
    /// examples). Every value comes from the target or from this scenario, never from a fixture.
    pub fn expand(&self, text: &str) -> String {
        let mut out = text.to_owned();
        if out.contains("${unknown device}") {
            out = out.replace("${unknown device}", &self.ctx.target.unknown_device);
        }
        for label in crate::targets::LABELS {
            let key = format!("${{merchant id {label}}}");
            if out.contains(&key) {
                // A profile does not give merchant ids: the rules that use one (CLAIM-02) ignore the
                // value, so any id the target never issued to merchant A serves.
                let id = self.ctx.target.merchant_id(label).unwrap_or_else(|| format!("viopay-check-merchant-{label}"));
                out = out.replace(&key, &id);
            }
        }
        if out.contains("${first code}") {
            out = out.replace("${first code}", &self.first_code());
        }
        if out.contains("${code}") {
            out = out.replace("${code}", &self.latest_code(""));
        }
        for (name, (id, _)) in &self.devices {
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
    /// AUTH-10) when there is none or it is due for renewal.
    pub async fn token(&mut self, label: &str) -> String {
        if let Some(token) = self.session.token(label, self.model.now) {
            return token.to_owned();
        }
        self.sign_in(label).await
    }

    pub async fn sign_in(&mut self, label: &str) -> String {
        let merchant = match self.ctx.target.merchant(label) {
            Ok(m) => m.clone(),
            Err(e) => harness_error!("{e}"),
        };
        let ex = self.send(Session::sign_in("/client/session", &merchant)).await;
        self.require("AUTH-04", ex.status == Some(200), || format!("merchant {label}'s client credentials did not give a token"));
        let body = ex.json().unwrap_or(Value::Null);
        let token = body["access_token"].as_str().unwrap_or_default().to_owned();
        let ex = self.send(Session::initiate(&token, "merchant.viopay.io")).await;
        self.require("AUTH-08", ex.status == Some(200), || {
            format!("POST /session/initiate with a fresh token answered {}", ex.status.unwrap_or_default())
        });
        self.session.remember(label, token.clone(), body["expires_in"].as_u64(), self.model.now);
        token
    }
}
