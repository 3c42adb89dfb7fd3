//! `viopay-check fuzz --api kustom`: random sequences of Kustom operations ([`super::ops`]) run
//! against the target from a fresh state, every answer judged by the model ([`super::model`]);
//! proptest shrinks a failing sequence to the shortest one that still breaks the rule, and the
//! report shows it request by request.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use reqwest::Method;
use serde_json::{Map, Value, json};
use tokio::runtime::Handle;

use super::check::Answer;
use super::model::{Filter, Model, metadata};
use super::ops::{self, Lifetime, Op};
use super::target::{self, Target};
use crate::catalogue::Catalogue;
use crate::fuzz::Jobs;
use crate::judge::{Judge, Mark, Ruling, Tape, Weighed};
use crate::targets::{TargetError, TargetSpec};
use crate::verdict::Finding;

#[derive(Debug, Clone)]
pub struct KustomFuzzOptions {
    pub cases: u32,
    pub max_steps: usize,
    pub seed: Option<u64>,
    pub strict: bool,
    /// Rule IDs of known deviations (`--baseline`): reported, never failing.
    pub baseline: std::collections::BTreeSet<String>,
    pub request_timeout: Duration,
    /// Cases at once on a target that is neither reset nor has its clock moved (each case makes
    /// records of its own); `None`: 8 there. Always 1 on a resettable target or a moved clock,
    /// which every case shares.
    pub jobs: Option<usize>,
    /// A simulator's `--control-token`, for its `/_sim/` hooks.
    pub control_token: Option<String>,
}

impl Default for KustomFuzzOptions {
    fn default() -> Self {
        KustomFuzzOptions {
            cases: 100,
            max_steps: 40,
            seed: None,
            strict: false,
            baseline: std::collections::BTreeSet::new(),
            request_timeout: Duration::from_secs(30),
            jobs: None,
            control_token: None,
        }
    }
}

/// The shortest failing sequence found.
#[derive(Debug, Clone)]
pub struct KustomFailure {
    pub rule: String,
    pub message: String,
    /// Each request of the minimal case with its answer.
    pub transcript: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct KustomFuzzReport {
    pub target: String,
    pub seed: u64,
    pub cases: u64,
    pub requests: u64,
    pub duration: Duration,
    pub failure: Option<KustomFailure>,
    /// Advisories by rule: how many times, and one example.
    pub advisories: BTreeMap<String, (u64, String)>,
    /// The target's clock could be moved.
    pub clock: bool,
    /// Judgements of a code clear past its `expires_at` (KTIME-01), on either kind of clock.
    pub expiry_judged: u64,
    /// `--baseline`: the advisories under these rules are known deviations.
    pub baseline: std::collections::BTreeSet<String>,
}

impl KustomFuzzReport {
    pub fn exit_code(&self) -> i32 {
        i32::from(self.failure.is_some())
    }

    /// The JSON report: counts, the failure with its shortest sequence, advisories by rule.
    pub fn to_json(&self) -> Value {
        json!({
            "api": "kustom",
            "target": self.target,
            "seed": self.seed,
            "cases": self.cases,
            "requests": self.requests,
            "duration_ms": u64::try_from(self.duration.as_millis()).unwrap_or(u64::MAX),
            "clock": self.clock,
            "expiry_judged": self.expiry_judged,
            "exit_code": self.exit_code(),
            "rules_doc": crate::catalogue::RULES_DOC,
            "failure": self.failure.as_ref().map(|f| json!({ "rule": f.rule, "message": f.message, "steps": f.transcript })),
            "advisories": self.advisories.iter().map(|(rule, (count, example))| json!({ "rule": rule, "count": count, "example": example, "known": self.baseline.contains(rule) })).collect::<Vec<_>>(),
        })
    }

    /// JUnit XML: one test case per rule the run reported on (the failing one, the advisories),
    /// and one for the run as a whole, so a CI page shows it even when nothing was found.
    pub fn to_junit(&self) -> String {
        use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
        let mut suite = TestSuite::new(format!("viopay-check fuzz --api kustom (seed {})", self.seed));
        suite.set_time(self.duration);
        suite.add_property(Property::new("seed", self.seed.to_string()));
        suite.add_property(Property::new("cases", self.cases.to_string()));
        let mut whole = TestCase::new("conformance", TestCaseStatus::success());
        if let Some(f) = &self.failure {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(format!("{}: {}", f.rule, f.message));
            status.set_description(f.transcript.join("\n"));
            let mut case = TestCase::new(f.rule.as_str(), status);
            case.set_classname("fuzz-kustom");
            suite.add_test_case(case);
            whole = TestCase::new("conformance", TestCaseStatus::non_success(NonSuccessKind::Failure));
        }
        whole.set_classname("fuzz-kustom");
        suite.add_test_case(whole);
        for (rule, (count, example)) in &self.advisories {
            let mut case = TestCase::new(rule.as_str(), TestCaseStatus::success());
            case.set_classname("fuzz-kustom");
            case.set_system_out(format!("advisory ({count}×): {example}"));
            suite.add_test_case(case);
        }
        let mut report = Report::new("viopay-check");
        report.add_test_suite(suite);
        report.to_string().unwrap_or_default()
    }

    /// One self-contained page: the findings and, for a failure, its shortest sequence.
    pub fn to_html(&self) -> String {
        crate::report::kustom_fuzz_html(self)
    }

    pub fn render(&self) -> String {
        let mut out = format!(
            "viopay-check fuzz --api kustom: {} cases, {} requests against {} in {:.1} s (seed {})\n",
            self.cases,
            self.requests,
            self.target,
            self.duration.as_secs_f64(),
            self.seed
        );
        match (self.expiry_judged, self.clock) {
            (0, false) => out
                .push_str("note: expiry (KTIME-01) was not exercised: the clock cannot be moved and no short-lived code was waited out\n"),
            (0, true) => out.push_str("note: expiry (KTIME-01) was not exercised in these cases\n"),
            (n, clock) => out.push_str(&format!(
                "expiry (KTIME-01) judged {n} times ({})\n",
                if clock { "the target's clock moved" } else { "short-lived codes waited out in real time" }
            )),
        }
        for (rule, (count, example)) in &self.advisories {
            let kind = if self.baseline.contains(rule) { "known deviation" } else { "advisory" };
            out.push_str(&format!("{kind} {rule} ({count}×): {example}\n"));
        }
        match &self.failure {
            None => out.push_str("CONFORMANT: no REQUIRED Kustom rule broken (exit 0)\n"),
            Some(f) => {
                out.push_str(&format!("FAIL {}: {}\nshortest sequence:\n", f.rule, f.message));
                for (i, line) in f.transcript.iter().enumerate() {
                    out.push_str(&format!("  {}. {line}\n", i + 1));
                }
                out.push_str(&format!("NOT CONFORMANT: {} broken (exit 1; replay with --seed {})\n", f.rule, self.seed));
            }
        }
        out
    }
}

/// What one case showed.
pub(crate) struct CaseOutcome {
    pub failure: Option<KustomFailure>,
    advisories: Vec<Finding>,
    requests: u64,
    expiry_judged: u64,
    /// Every exchange with the rules judged on it, when the judge keeps tapes (`diff`).
    pub tape: Option<Tape>,
}

/// The rule an operation's answer stands on when the model raises nothing: what `diff` ties a
/// difference to when the answer was the simulator's own.
fn ground(op: Op) -> &'static str {
    match op {
        Op::Enroll { .. } => "KEN-01",
        Op::ListEnrollments { .. } => "KEN-21",
        Op::Cancel { .. } => "KEN-35",
        Op::Register { .. } => "KREG-02",
        Op::ListDevices { .. } => "KDEV-06",
        Op::Update { .. } => "KDEV-12",
        Op::Deregister { .. } => "KDEV-20",
        Op::Me { .. } | Op::Advance { .. } => "KDEV-25",
    }
}

fn basic(t: &Target, merchant: usize) -> (String, String) {
    let m = &t.merchants[merchant % t.merchants.len()];
    (format!("Basic {}", m.key), m.id.clone())
}

/// A tag unique to this process, for hardware ids.
fn run_tag() -> &'static str {
    static TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TAG.get_or_init(|| format!("{:08X}", rand::random::<u32>()))
}

/// One request of a case, and how the transcript names it.
struct Request {
    method: Method,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Option<Value>,
    label: String,
}

fn metadata_query(path: &mut String, m: Option<usize>) {
    for (k, v) in m.map(metadata).unwrap_or_default() {
        path.push_str(&format!("&metadata={k}:{}", v.as_str().unwrap_or_default()));
    }
}

/// A list of the merchant's `what` (KAUTH-06: with `x-merchant-id`), filtered by metadata set
/// `m` and `extra` query text; one page holds every match the harness made.
fn list_request(t: &Target, merchant: usize, what: &str, m: Option<usize>, extra: &str) -> Option<Request> {
    let mut path = format!("/ipp/v1/{what}?page_size=100");
    metadata_query(&mut path, m);
    path.push_str(extra);
    let (auth, mid) = basic(t, merchant);
    let label = format!("merchant {} lists {what}", merchant % t.merchants.len());
    Some(Request { method: Method::GET, path, headers: vec![("authorization", auth), ("x-merchant-id", mid)], body: None, label })
}

/// The request an operation makes in this state; `None` when there is nothing for it to name.
fn build(t: &Target, model: &Model, op: Op, hardware: &mut u32) -> Option<Request> {
    let req = |method, path: String, headers, body, label: String| Some(Request { method, path, headers, body, label });
    match op {
        Op::Advance { .. } => None,
        Op::Enroll { merchant, lifetime, metadata: m } => {
            let merchant = merchant % t.merchants.len();
            let mut b = Map::new();
            let md = metadata(m);
            if !md.is_empty() {
                b.insert("metadata".into(), Value::Object(md));
            }
            match lifetime {
                Lifetime::Default => {}
                Lifetime::Millis(ms) => {
                    b.insert("expires_in".into(), json!(ms));
                }
                Lifetime::TwoHours => {
                    b.insert("ttl".into(), json!("TWO_HOURS"));
                }
            }
            // Always named: KEN-10's defaulting is the simulator's, KEN-16 leaves it open.
            b.insert("location_id".into(), json!(t.merchants[merchant].locations[0]));
            let (auth, _) = basic(t, merchant);
            req(
                Method::POST,
                "/ipp/v1/enrollments".into(),
                vec![("authorization", auth)],
                Some(Value::Object(b)),
                format!("merchant {merchant} enrolls"),
            )
        }
        Op::ListEnrollments { merchant, metadata: m, include_consumed } => {
            list_request(t, merchant, "enrollments", m, if include_consumed { "" } else { "&include_consumed=false" })
        }
        Op::Cancel { enrollment } => {
            let e = model.enrollments.get(enrollment % model.enrollments.len().max(1))?;
            let (auth, _) = basic(t, e.merchant);
            req(
                Method::DELETE,
                format!("/ipp/v1/enrollments/{}", e.id),
                vec![("authorization", auth)],
                None,
                format!("cancel enrollment {}", e.code),
            )
        }
        Op::Register { enrollment } => {
            let path = t.registration.clone()?;
            let e = model.enrollments.get(enrollment % model.enrollments.len().max(1))?;
            *hardware += 1;
            // Unique across cases and runs: a target that is not reset keeps every device (KREG-15).
            let body =
                json!({"enrollment_code": e.code, "hardware_id": format!("FUZZ-{}-{hardware:04}", run_tag()), "platform": "ANDROID"});
            req(Method::POST, path, Vec::new(), Some(body), format!("the POS app registers with {}", e.code))
        }
        Op::ListDevices { merchant, metadata: m } => list_request(t, merchant, "devices", m, ""),
        Op::Update { device, metadata: m } => {
            let i = device % model.devices.len().max(1);
            let d = model.devices.get(i)?;
            let location = d.location.clone().unwrap_or_else(|| t.merchants[d.merchant].locations[0].clone());
            let body = json!({"name": format!("Fuzz {i}"), "metadata": Value::Object(metadata(m)), "location_id": location});
            let (auth, _) = basic(t, d.merchant);
            req(Method::PUT, format!("/ipp/v1/devices/{}", d.id), vec![("authorization", auth)], Some(body), format!("update device {i}"))
        }
        Op::Deregister { device } => {
            let i = device % model.devices.len().max(1);
            let d = model.devices.get(i)?;
            let (auth, _) = basic(t, d.merchant);
            req(Method::DELETE, format!("/ipp/v1/devices/{}", d.id), vec![("authorization", auth)], None, format!("deregister device {i}"))
        }
        Op::Me { device } => {
            let i = device % model.devices.len().max(1);
            let d = model.devices.get(i)?;
            req(
                Method::GET,
                "/ipp/v1/devices/me".into(),
                vec![("authorization", format!("Bearer {}", d.token))],
                None,
                format!("device {i} reads /devices/me"),
            )
        }
    }
}

/// The model's judgement of the answer, and its move to the branch the target took.
fn model_rulings(t: &Target, model: &mut Model, op: Op, sent: &Option<Value>, answer: &Answer, notes: &mut Vec<Ruling>) {
    let body = sent.as_ref().and_then(Value::as_object).cloned().unwrap_or_default();
    match op {
        Op::Enroll { merchant, .. } => {
            let merchant = merchant % t.merchants.len();
            model.enrolled(merchant, &t.merchants[merchant].locations[0], &body, answer, notes);
        }
        Op::ListEnrollments { merchant, metadata: m, include_consumed } => {
            let filter = Filter { metadata: m.map(metadata).unwrap_or_default(), location: None, include_consumed };
            model.listed_enrollments(merchant % t.merchants.len(), &filter, answer, notes);
        }
        Op::Cancel { enrollment } => model.cancelled(enrollment % model.enrollments.len(), answer, notes),
        Op::Register { enrollment } => model.registered(enrollment % model.enrollments.len(), answer, notes),
        Op::ListDevices { merchant, metadata: m } => {
            let filter = Filter { metadata: m.map(metadata).unwrap_or_default(), location: None, include_consumed: true };
            model.listed_devices(merchant % t.merchants.len(), &filter, answer, notes);
        }
        Op::Update { device, .. } => model.updated(device % model.devices.len(), &body, answer, notes),
        Op::Deregister { device } => model.deregistered(device % model.devices.len(), answer, notes),
        Op::Me { device } => model.me(device % model.devices.len(), answer, notes),
        Op::Advance { .. } => {}
    }
}

/// Cases at once on a target whose records and clock the cases do not share (`--jobs`).
const DEFAULT_JOBS: usize = 8;

/// How long a real-time case waits for its one-second codes: past `expires_at` + 1 s with room
/// for the exchange's own duration.
const REAL_WAIT: Duration = Duration::from_millis(2_500);

/// `case`: the case's number when the caller numbers cases (`diff` runs case N on two targets
/// with the same hardware ids); `None` draws the next number of this process.
pub(crate) async fn run_case(t: &Target, ops: &[Op], judge_of_run: &Judge, case: Option<u32>) -> CaseOutcome {
    let mut out =
        CaseOutcome { failure: None, advisories: Vec::new(), requests: 0, expiry_judged: 0, tape: judge_of_run.tape.then(Tape::default) };
    let mut transcript: Vec<String> = Vec::new();
    let fail = |rule: &str, message: String, transcript: Vec<String>| Some(KustomFailure { rule: rule.to_owned(), message, transcript });
    if let Err(e) = t.reset().await {
        out.failure = fail("KFLOW-04", format!("cannot reset the target before a case: {e}"), transcript);
        return out;
    }
    let mut model = Model::new(!t.fresh, t.frozen);
    static CASES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let mut hardware = case.unwrap_or_else(|| CASES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)).wrapping_mul(1000);
    for &op in ops {
        if let Op::Advance { seconds } = op {
            if t.clock && t.advance(seconds).await.is_ok() {
                model.clock.moved(seconds as f64);
                transcript.push(format!("the clock moves {seconds} s on"));
            } else if !t.clock && seconds <= 6 && model.short_lived_pending(1.5) {
                // A real clock: a one-second code (KEN-07 allows it) is waited out, so that
                // KTIME-01 is judged on a backend nobody can move the clock of.
                tokio::time::sleep(REAL_WAIT).await;
                transcript.push(format!("{} s pass in real time", REAL_WAIT.as_secs_f64()));
            }
            continue;
        }
        let Some(req) = build(t, &model, op, &mut hardware) else { continue };
        out.requests += 1;
        let sent = model.clock.now();
        let answer = t.send(req.method.clone(), &req.path, &req.headers, req.body.as_ref()).await;
        model.answered(sent);
        let answer = match answer {
            Ok((a, exchange)) => {
                if let Some(tape) = &mut out.tape {
                    tape.push(&exchange);
                }
                a
            }
            Err(e) => {
                transcript.push(format!("{}: {} {} → {e}", req.label, req.method, req.path));
                out.failure = fail("KERR-10", e, transcript);
                return out;
            }
        };
        let sent = req.body.as_ref().map(|b| format!(" {b}")).unwrap_or_default();
        transcript.push(format!("{}: {} {}{sent} → {}", req.label, req.method, req.path, answer.excerpt()));
        let mut notes = Vec::new();
        model_rulings(t, &mut model, op, &req.body, &answer, &mut notes);
        if let Some(tape) = &mut out.tape {
            tape.mark(ground(op), Mark::Held);
            for ruling in &notes {
                tape.mark(ruling.rule(), judge_of_run.mark(ruling));
            }
        }
        for ruling in notes {
            let rule = ruling.rule();
            match judge_of_run.weigh(ruling, None) {
                Ok(Weighed { finding: Some(f), fails: true, .. }) => {
                    out.failure = fail(rule, f.message, transcript);
                    return out;
                }
                Ok(Weighed { finding: Some(f), .. }) => out.advisories.push(f),
                Ok(_) => {}
                Err(e) => {
                    out.failure = fail(rule, format!("a defect of the harness's model: {e}"), transcript);
                    return out;
                }
            }
        }
    }
    out.expiry_judged = u64::from(model.expired_judged);
    out
}

#[derive(Debug, thiserror::Error)]
pub enum KustomFuzzError {
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The harness could not finish (proptest gave up generating cases): no verdict on the target.
    #[error("the fuzz run was aborted before a verdict: {0}")]
    Aborted(String),
}

impl KustomFuzzError {
    /// 3 when the target is unreachable, 2 for a setup problem.
    pub fn exit_code(&self) -> i32 {
        match self {
            KustomFuzzError::Target(TargetError::Unreachable { .. }) => 3,
            KustomFuzzError::Target(_) => 2,
            KustomFuzzError::Aborted(_) => 3,
        }
    }
}

pub fn fuzz(handle: &Handle, spec: &TargetSpec, opts: &KustomFuzzOptions) -> Result<KustomFuzzReport, KustomFuzzError> {
    let started = Instant::now();
    let target = handle.block_on(target::connect(spec, opts.request_timeout, opts.control_token.clone()))?;
    let judge_of_run = Judge::new(Catalogue::builtin(), opts.strict, opts.baseline.clone());
    let seed = opts.seed.unwrap_or_else(rand::random);
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config { cases: opts.cases, failure_persistence: None, ..Config::default() };
    let requests = Mutex::new(0u64);
    let advisories: Mutex<BTreeMap<String, (u64, String)>> = Mutex::new(BTreeMap::new());
    let cases = Mutex::new(0u64);
    let expiry_judged = Mutex::new(0u64);
    let strategy = proptest::collection::vec(ops::op(), 1..=opts.max_steps.max(1));
    let last_failure: Mutex<Option<KustomFailure>> = Mutex::new(None);
    let jobs = Jobs::new(if target.fresh || target.clock { 1 } else { opts.jobs.unwrap_or(DEFAULT_JOBS) });
    let result = jobs.run(|job| {
        let config = Config { cases: jobs.cases(opts.cases, job), ..config.clone() };
        let mut runner = TestRunner::new_with_rng(config, jobs.rng(&seed_bytes, job));
        runner.run(&strategy, |ops| {
            if jobs.stood_down(job) {
                return Ok(());
            }
            let outcome = handle.block_on(run_case(&target, &ops, &judge_of_run, None));
            *requests.lock() += outcome.requests;
            *expiry_judged.lock() += outcome.expiry_judged;
            *cases.lock() += 1;
            let mut adv = advisories.lock();
            for finding in outcome.advisories {
                let entry = adv.entry(finding.rule.to_string()).or_insert((0, finding.message));
                entry.0 += 1;
            }
            match outcome.failure {
                Some(f) => {
                    jobs.failing(job);
                    let verdict = Err(TestCaseError::fail(format!("{}: {}", f.rule, f.message)));
                    *last_failure.lock() = Some(f);
                    verdict
                }
                None => Ok(()),
            }
        })
    });
    let failure = match result {
        Ok(()) => None,
        Err(TestError::Fail(_, minimal)) => {
            let replay = handle.block_on(run_case(&target, &minimal, &judge_of_run, None));
            // A break seen once is still a break of its own rule; the report says it did not come
            // back, so it depends on timing or on what the target kept (never a rule of its own).
            replay.failure.or_else(|| {
                last_failure.lock().take().map(|mut f| {
                    f.message.push_str(" (seen once: the shortest sequence did not fail again when replayed)");
                    f
                })
            })
        }
        Err(TestError::Abort(why)) => return Err(KustomFuzzError::Aborted(why.to_string())),
    };
    Ok(KustomFuzzReport {
        target: target.name.clone(),
        seed,
        cases: *cases.lock(),
        requests: *requests.lock(),
        duration: started.elapsed(),
        failure,
        advisories: advisories.into_inner(),
        clock: target.clock,
        expiry_judged: *expiry_judged.lock(),
        baseline: opts.baseline.clone(),
    })
}
