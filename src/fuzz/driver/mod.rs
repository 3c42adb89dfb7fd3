//! Runs one generated case against the target: provisions fresh devices, sends each operation,
//! checks every response (schemas, trace ids) and judges it through the shared model
//! ([`crate::model`]), the same judge the Gherkin steps use.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use futures::future::join_all;
use parking_lot::Mutex;
use serde_json::json;
use tokio::runtime::Handle;

mod activation;

use super::ops::{BadToken, CodeRef, Op};
use crate::client::{ApiRequest, Client};
use crate::exchange::Exchange;
use crate::judge::{Judge, Mark, Ruling, Tape};
use crate::model::{ContentType, Device, Expect, Model, Outcome, StatusMatch, judge};
use crate::schema::Schemas;
use crate::session::Session;
use crate::spec;
use crate::targets::{TakeError, Target};
use crate::verdict::Finding;

/// Shared by every case of a fuzz run.
pub struct FuzzContext {
    pub target: Target,
    pub client: Client,
    pub schemas: Schemas,
    /// How findings weigh (the same judge as `run`'s).
    pub judge: Judge,
    pub devices: usize,
    pub merchants: usize,
    /// Every code any case has seen, so an "unknown" code is really unknown.
    pub seen_codes: Mutex<HashSet<String>>,
    pub operations: AtomicU64,
    pub requests: AtomicU64,
    pub advisories: Mutex<Vec<Finding>>,
    /// Observations that are not rule verdicts (non-I-JSON bodies), one of each.
    pub notes: Mutex<Vec<String>>,
    /// Rules whose verdict some case judged, for the reports' test cases.
    pub exercised: Mutex<std::collections::BTreeSet<String>>,
}

impl FuzzContext {
    /// A run's context: at least one device per case and the two merchants ownership needs.
    pub fn new(target: Target, client: Client, schemas: Schemas, judge: Judge, devices: usize, merchants: usize) -> Self {
        FuzzContext {
            target,
            client,
            schemas,
            judge,
            devices: devices.max(1),
            merchants: merchants.max(2),
            seen_codes: Mutex::default(),
            operations: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            advisories: Mutex::default(),
            notes: Mutex::default(),
            exercised: Mutex::default(),
        }
    }
}

/// One executed operation, for the failure report.
#[derive(Debug, Clone)]
pub struct Step {
    pub op: Op,
    /// The Gherkin `When` for it.
    pub when: String,
    pub exchanges: Vec<Exchange>,
}

#[derive(Debug, Clone)]
pub enum CaseError {
    /// A rule broken at failure level, with the step that showed it.
    Broken { finding: Box<Finding>, then: String },
    /// The target's device pool ran out (profiles).
    Exhausted(String),
    /// No response, or the harness could not prepare the case.
    Error(String),
}

pub struct CaseRun {
    pub steps: Vec<Step>,
    pub devices: Vec<String>,
    pub result: Result<(), CaseError>,
    /// Every exchange with the rules judged on it, when the judge keeps tapes (`diff`).
    pub tape: Option<Tape>,
}

struct Case<'a> {
    ctx: &'a FuzzContext,
    handle: &'a Handle,
    oracle: Model,
    session: Session,
    /// Where the target's clock stands for this case.
    clock: crate::model::clock::ModelClock,
    steps: Vec<Step>,
    unknown_counter: u32,
    /// The devices as the harness plays them in steps 5–8 (`None`: no secrets on this target).
    pos: Vec<Option<crate::pos::device::PosDevice>>,
    fleet: crate::pos::verify::Fleet,
    tape: Option<Tape>,
}

fn label(m: usize) -> &'static str {
    crate::targets::LABELS.get(m).copied().unwrap_or("A")
}

fn device_name(d: usize) -> String {
    format!("D{}", d + 1)
}

pub fn run_case(ctx: &FuzzContext, handle: &Handle, ops: &[Op], seen: Option<&Arc<AtomicUsize>>) -> CaseRun {
    let mut devices = Vec::new();
    for d in 0..ctx.devices {
        match handle.block_on(ctx.target.take_device(&ctx.client, label(d % ctx.merchants))) {
            Ok(id) => devices.push(Device::new(id, d % ctx.merchants)),
            Err(TakeError::Exhausted(e)) => {
                return CaseRun { steps: Vec::new(), devices: Vec::new(), result: Err(CaseError::Exhausted(e.to_string())), tape: None };
            }
            Err(e) => return CaseRun { steps: Vec::new(), devices: Vec::new(), result: Err(CaseError::Error(e.to_string())), tape: None },
        }
    }
    let ids: Vec<String> = devices.iter().map(|d| d.id.clone()).collect();
    let pos = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let secrets = handle.block_on(ctx.target.device_secrets(&ctx.client, id)).ok()?;
            Some(crate::pos::device::PosDevice::new(i, crate::pos::verify::Terminal::new(id, Some(secrets))))
        })
        .collect();
    let real = !ctx.target.frozen;
    let mut case = Case {
        ctx,
        handle,
        oracle: Model::new(devices, real),
        session: Session::new(),
        clock: crate::model::clock::ModelClock::new(ctx.target.frozen),
        steps: Vec::new(),
        unknown_counter: 0,
        pos,
        fleet: crate::pos::verify::Fleet::default(),
        tape: ctx.judge.tape.then(Tape::default),
    };
    let mut result = Ok(());
    for op in ops {
        if let Some(seen) = seen {
            seen.fetch_add(1, Ordering::Relaxed);
        }
        ctx.operations.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = case.apply(op) {
            result = Err(e);
            break;
        }
    }
    // The final state of every device must be what the model says.
    if result.is_ok() {
        for d in 0..ctx.devices {
            if let Err(e) = case.apply(&Op::Status { device: d }) {
                result = Err(e);
                break;
            }
        }
    }
    CaseRun { steps: case.steps, devices: ids, result, tape: case.tape }
}

impl Case<'_> {
    /// A clock that keeps running has moved by the time elapsed too ([`ModelClock`]).
    ///
    /// [`ModelClock`]: crate::model::clock::ModelClock
    fn sync_clock(&mut self) {
        if self.clock.running() {
            self.oracle.now = self.clock.now();
        }
    }

    fn send(&mut self, req: ApiRequest) -> Result<Exchange, CaseError> {
        let ex = self.handle.block_on(self.ctx.client.send(&req));
        self.after_send(&req, &ex)?;
        Ok(ex)
    }

    /// The checks that hold for every response.
    fn after_send(&mut self, req: &ApiRequest, ex: &Exchange) -> Result<(), CaseError> {
        self.ctx.requests.fetch_add(1, Ordering::Relaxed);
        if let Some(step) = self.steps.last_mut() {
            step.exchanges.push(ex.clone());
        }
        if let Some(tape) = &mut self.tape {
            tape.push(ex);
        }
        if ex.status.is_none() {
            return Err(CaseError::Error(format!("no response: {}", ex.excerpt())));
        }
        let (findings, notes) = crate::checks::exchange_findings(&self.ctx.schemas, req, ex);
        for note in notes {
            let mut all = self.ctx.notes.lock();
            if !all.contains(&note) {
                all.push(note);
            }
        }
        for (rule, message) in findings {
            let then = format!("Then the status is {} [{rule}]", ex.status.unwrap_or_default());
            self.found(&rule, message, Some(ex), then)?;
        }
        Ok(())
    }

    /// A broken rule: ends the case at failure level, else is kept as an advisory.
    fn found(&mut self, rule: &str, message: String, ex: Option<&Exchange>, then: String) -> Result<(), CaseError> {
        let finding = self.ctx.judge.finding(rule, message, ex).map_err(|e| CaseError::Error(e.to_string()))?;
        if let Some(tape) = &mut self.tape {
            tape.mark(rule, Mark::of_level(finding.level));
        }
        if finding.is_failure(self.ctx.judge.strict) {
            return Err(CaseError::Broken { finding: Box::new(finding), then });
        }
        self.ctx.advisories.lock().push(finding);
        Ok(())
    }

    /// Judges a response through the shared model and the run's judge; fails on a failure-level
    /// break; returns the label of the branch the target took, which the model then follows.
    fn expect(&mut self, expect: &Expect, ex: &Exchange, then: String) -> Result<&'static str, CaseError> {
        self.ctx.exercised.lock().insert(expect.rule.to_owned());
        let verdict = judge(expect, ex);
        let ruling = Ruling::from_verdict(&verdict);
        if let Some(tape) = &mut self.tape {
            match &ruling {
                Some(r) => tape.mark(r.rule(), self.ctx.judge.mark(r)),
                None => tape.mark(expect.rule, Mark::Held),
            }
        }
        if let Some(ruling) = ruling {
            self.ctx.exercised.lock().insert(ruling.rule().to_owned());
            let weighed = self.ctx.judge.weigh(ruling, Some(ex)).map_err(|e| CaseError::Error(e.to_string()))?;
            if let Some(finding) = weighed.finding {
                if weighed.fails {
                    return Err(CaseError::Broken { finding: Box::new(finding), then });
                }
                self.ctx.advisories.lock().push(finding);
            }
        }
        Ok(verdict.label())
    }

    fn pos(&self, method: &str, path: &str, d: usize) -> ApiRequest {
        Session::pos(method, path, &self.oracle.devices[d].id)
    }

    fn token(&mut self, m: usize) -> Result<String, CaseError> {
        if let Some(t) = self.session.token(label(m), self.oracle.now) {
            return Ok(t.to_owned());
        }
        let merchant = self.ctx.target.merchant(label(m)).map_err(|e| CaseError::Error(e.to_string()))?.clone();
        let ex = self.send(Session::sign_in("/client/session", &merchant))?;
        let body = ex.json().filter(|_| ex.status == Some(200));
        let Some(token) = body.as_ref().and_then(|v| v["access_token"].as_str().map(str::to_owned)) else {
            self.found("AUTH-04", "valid client credentials gave no token".into(), Some(&ex), "Then the status is 200 [AUTH-04]".into())?;
            return Err(CaseError::Error(format!("merchant {} could not sign in", label(m))));
        };
        self.send(Session::initiate(&token, "merchant.viopay.io"))?;
        let expires_in = body.as_ref().and_then(|v| v["expires_in"].as_u64());
        self.session.remember(label(m), token.clone(), expires_in, self.oracle.now);
        Ok(token)
    }

    fn begin(&mut self, op: &Op, when: String) {
        self.steps.push(Step { op: op.clone(), when, exchanges: Vec::new() });
    }

    fn apply(&mut self, op: &Op) -> Result<(), CaseError> {
        self.sync_clock();
        match *op {
            Op::Bootstrap { device: d } => {
                self.begin(op, format!("When device \"{}\" calls bootstrap", device_name(d)));
                let ex = self.send(self.pos("POST", "/pos/bootstrap", d))?;
                let e = self.oracle.bootstrap(d);
                self.expect(&e, &ex, then_for(&e, d))?;
            }
            Op::Status { device: d } => {
                self.begin(op, format!("When device \"{}\" polls status", device_name(d)));
                let ex = self.send(self.pos("GET", "/pos/status", d))?;
                let e = self.oracle.status(d);
                let label = self.expect(&e, &ex, then_for(&e, d))?;
                self.oracle.status_read(d, label);
            }
            Op::RequestCode { device: d } => {
                self.begin(op, format!("When device \"{}\" requests a pairing code", device_name(d)));
                let live: Vec<String> = self.oracle.live_codes().into_iter().map(str::to_owned).collect();
                let ex = self.send(self.pos("POST", "/pos/pairing-code", d))?;
                let e = self.oracle.request_code(d);
                let label = self.expect(&e, &ex, then_for(&e, d))?;
                if (label == "issued" || ex.status == Some(200))
                    && let Some(code) = ex.json().and_then(|v| v["pairing_code"].as_str().map(str::to_owned))
                {
                    if live.contains(&code) {
                        let message = format!("the new code {code} equals a live code");
                        self.found("PAIR-07", message, Some(&ex), "Then the codes of the devices are all different [PAIR-07]".into())?;
                    }
                    self.ctx.seen_codes.lock().insert(code.clone());
                    self.oracle.issued(d, code);
                }
            }
            Op::Claim { merchant: m, device: d, code } => {
                let Some(k) = self.resolve(d, code) else { return Ok(()) };
                let which = match code {
                    CodeRef::Latest => "the latest code".to_owned(),
                    CodeRef::Nth(n) => format!("code {n}"),
                };
                self.begin(op, format!("When merchant {} claims {which} of device \"{}\"", label(m), device_name(d)));
                let token = self.token(m)?;
                let value = self.oracle.devices[d].codes[k].value.clone();
                let ex = self.send(Session::bearer_claim(&token, &value))?;
                let e = self.oracle.claim(m, d, k);
                let label = self.expect(&e, &ex, then_for(&e, d))?;
                self.oracle.claim_answered(d, k, label, ex.status);
            }
            Op::BadHeader { device: d, endpoint, fault } => {
                let (name, value) = fault.header();
                let words = match value {
                    Some(v) => format!("with header \"{name}\" set to \"{v}\""),
                    None => format!("without the \"{name}\" header"),
                };
                self.begin(op, format!("When device \"{}\" calls {} {words}", device_name(d), endpoint.name()));
                let (method, path) = endpoint.route();
                let ex = self.send(fault.apply(self.pos(method, path, d)))?;
                let e = self.oracle.header_fault(fault);
                self.expect(&e, &ex, then_for(&e, d))?;
            }
            Op::UnknownDevice { endpoint } => {
                self.begin(op, format!("When an unprovisioned device calls {}", endpoint.name()));
                let id = self.ctx.target.unknown_device.clone();
                let (method, path) = endpoint.route();
                let ex = self.send(Session::pos(method, path, &id))?;
                let e = self.oracle.unknown_device(endpoint, &id);
                self.expect(&e, &ex, then_for(&e, 0))?;
            }
            Op::ClaimAsText { merchant: m, device: d } => {
                let Some(k) = self.resolve(d, CodeRef::Latest) else { return Ok(()) };
                let value = self.oracle.devices[d].codes[k].value.clone();
                let body = json!({ "pairing_code": value }).to_string();
                self.begin(
                    op,
                    format!(
                        "When merchant {} claims with content type \"text/plain\" and the body {{\"pairing_code\": \"{value}\"}}",
                        label(m)
                    ),
                );
                let token = self.token(m)?;
                let text = ContentType::Other("text/plain".into());
                let ex = self.send(Session::claim(Some(&format!("Bearer {token}")), &text, body))?;
                let e = self.oracle.claim_with_content_type(m, d, k, &text);
                let label = self.expect(&e, &ex, then_for(&e, d))?;
                self.oracle.claim_answered(d, k, label, ex.status);
            }
            Op::ClaimUnknown { merchant: m } => {
                let code = self.unknown_code();
                self.begin(op, format!("When merchant {} claims with the body {{\"pairing_code\": \"{code}\"}}", label(m)));
                let token = self.token(m)?;
                let ex = self.send(Session::bearer_claim(&token, &code))?;
                let e = self.oracle.unknown(&code);
                self.expect(&e, &ex, then_for(&e, 0))?;
            }
            Op::ClaimMalformed { merchant: m, body } => {
                let text = body.body();
                self.begin(op, format!("When merchant {} claims with the body {text}", label(m)));
                let token = self.token(m)?;
                let ex = self.send(Session::claim(Some(&format!("Bearer {token}")), &ContentType::Json, text))?;
                let e = self.oracle.malformed(body);
                self.expect(&e, &ex, then_for(&e, 0))?;
            }
            Op::ClaimBadToken { device: d, token } => {
                let Some(k) = self.resolve(d, CodeRef::Latest) else { return Ok(()) };
                let owner = self.oracle.devices[d].owner;
                let (auth, words) = match token {
                    BadToken::Missing => (None, "no Authorization header"),
                    BadToken::Garbage => (Some("Bearer not-a-token".to_owned()), "a garbage token"),
                    BadToken::Tampered => (Some(format!("Bearer {}", super::tamper(&self.token(owner)?))), "a tampered token"),
                };
                self.begin(
                    op,
                    format!("When merchant {} claims the latest code of device \"{}\" with {words}", label(owner), device_name(d)),
                );
                let value = self.oracle.devices[d].codes[k].value.clone();
                let ex = self.send(Session::claim(auth.as_deref(), &ContentType::Json, json!({ "pairing_code": value }).to_string()))?;
                let e = self.oracle.bad_token();
                let label = self.expect(&e, &ex, then_for(&e, d))?;
                self.oracle.claim_answered(d, k, label, ex.status);
            }
            Op::Burst { merchant: m, device: d, n } => {
                let Some(k) = self.resolve(d, CodeRef::Latest) else { return Ok(()) };
                self.begin(
                    op,
                    format!("When merchant {} sends {n} concurrent claims of the latest code of device \"{}\"", label(m), device_name(d)),
                );
                let token = self.token(m)?;
                let value = self.oracle.devices[d].codes[k].value.clone();
                let req = Session::bearer_claim(&token, &value);
                let client = self.ctx.client.clone();
                let responses = self.handle.block_on(join_all((0..n).map(|_| client.send(&req))));
                for ex in &responses {
                    self.after_send(&req, ex)?;
                }
                if let Some(tape) = &mut self.tape {
                    tape.unordered(n);
                }
                self.burst(m, d, k, &responses)?;
            }
            Op::Onboard { device: d, through } => {
                let owner = self.oracle.devices[d].owner;
                let walk = [
                    Op::RequestCode { device: d },
                    Op::Claim { merchant: owner, device: d, code: CodeRef::Latest },
                    Op::Attest { device: d, kind: super::ops::AttestKind::Good },
                    Op::Call { device: d, step: crate::model::Step::Keys, token: super::ops::TokenRef::Own },
                    Op::Call { device: d, step: crate::model::Step::Config, token: super::ops::TokenRef::Own },
                    Op::Call { device: d, step: crate::model::Step::Parameters, token: super::ops::TokenRef::Own },
                ];
                for sub in walk.iter().take(usize::from(through)) {
                    self.apply(sub)?;
                }
            }
            Op::Attest { device: d, kind } => self.attest(op, d, kind)?,
            Op::Call { device: d, step, token } => self.call(op, d, step, token, None)?,
            Op::Activate { device: d, ref body } => {
                self.call(op, d, crate::model::Step::Activate, super::ops::TokenRef::Own, Some(body.clone()))?;
            }
            Op::Advance { seconds } => {
                self.begin(op, format!("When {seconds} seconds pass"));
                let client = self.ctx.client.clone();
                self.handle.block_on(self.ctx.target.advance(&client, seconds)).map_err(CaseError::Error)?;
                if self.ctx.target.clock == crate::targets::ClockControl::Control {
                    self.clock.moved(f64::from(seconds));
                }
                self.oracle.now += f64::from(seconds);
            }
        }
        Ok(())
    }

    /// CLAIM-21: of concurrent claims of one claimable code exactly one wins, the others get
    /// "already used"; otherwise every one gets what a single claim would.
    fn burst(&mut self, m: usize, d: usize, k: usize, responses: &[Exchange]) -> Result<(), CaseError> {
        let single = self.oracle.claim(m, d, k);
        let used = Outcome::error("used", 400, "4220", "Pairing code has already been used");
        let winners = responses.iter().filter(|ex| ex.status == Some(200)).count();
        let only_success = single.alternatives.iter().all(|a| a.outcome.label == "success");
        if only_success || winners > 0 {
            let fine = responses
                .iter()
                .all(|ex| ex.status == Some(200) || used.matches(ex) || single.alternatives.iter().any(|a| a.outcome.matches(ex)));
            let ok = if only_success { winners == 1 && fine } else { winners <= 1 && fine };
            if !ok {
                let statuses: Vec<String> = responses.iter().map(Exchange::excerpt).collect();
                let message = format!(
                    "{winners} of {} concurrent claims succeeded (expected exactly one, the others {}): {statuses:?}",
                    responses.len(),
                    used.describe()
                );
                let shown = responses.iter().find(|e| e.status == Some(200)).or(responses.first());
                self.found("CLAIM-21", message, shown, "Then exactly one of those claims succeeded [CLAIM-21]".into())?;
            }
            if winners == 1 {
                self.oracle.claimed(d, k, "success");
            }
            return Ok(());
        }
        for ex in responses {
            let label = self.expect(&single, ex, then_for(&single, d))?;
            self.oracle.claim_answered(d, k, label, ex.status);
        }
        Ok(())
    }

    /// The index of a device's code in the oracle, if the target issued that many.
    fn resolve(&self, d: usize, code: CodeRef) -> Option<usize> {
        let n = self.oracle.devices[d].codes.len();
        match code {
            CodeRef::Latest => n.checked_sub(1),
            CodeRef::Nth(i) => (i >= 1 && i <= n).then(|| i - 1),
        }
    }

    /// A well-formed code no case has seen.
    fn unknown_code(&mut self) -> String {
        let alphabet: Vec<char> = spec::CODE_ALPHABET.chars().collect();
        loop {
            self.unknown_counter += 1;
            let mut n = self.unknown_counter.wrapping_mul(2_654_435_761);
            let code: String = (0..6)
                .map(|_| {
                    let c = alphabet[(n % 32) as usize];
                    n /= 32;
                    c
                })
                .collect();
            if !self.ctx.seen_codes.lock().contains(&code) {
                return code;
            }
        }
    }
}

/// The Gherkin `Then` that asserts an expectation's first alternative.
fn then_for(e: &Expect, d: usize) -> String {
    let Some(o) = e.alternatives.first().map(|a| &a.outcome) else { return format!("Then the status is 200 [{}]", e.rule) };
    match (&o.status, o.fields.as_deref()) {
        (StatusMatch::Exact(200), Some(f)) if f.get("pairing_code_status").is_some() => {
            let claimed = if f["is_claimed"] == true { "claimed" } else { "not claimed" };
            format!(
                "Then device \"{}\" reads \"{}\", {claimed}, code \"{}\" [{}]",
                device_name(d),
                f["device_status"].as_str().unwrap_or_default(),
                f["pairing_code_status"].as_str().unwrap_or_default(),
                e.rule
            )
        }
        (StatusMatch::Exact(s), _) if *s < 400 => format!("Then the status is {s} [{}]", e.rule),
        (StatusMatch::Exact(s), _) => match (o.codes.first(), o.message) {
            (Some(code), Some(m)) => format!("Then the error is {s} \"{code}\" \"{m}\" [{}]", e.rule),
            (Some(code), None) => format!("Then the error is {s} \"{code}\" [{}]", e.rule),
            _ => format!("Then the status is {s} [{}]", e.rule),
        },
        (StatusMatch::OneOf(_), _) => format!("Then the claim is refused with 401 or 403 [{}]", e.rule),
        (StatusMatch::AnyRefusal, _) => format!("Then the claim is refused [{}]", e.rule),
    }
}
