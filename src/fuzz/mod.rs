//! `viopay-check fuzz`: stateful property testing against any target. proptest-state-machine
//! generates and shrinks operation sequences ([`ops`]); the harness's shared model
//! ([`crate::model`], the same the Gherkin steps judge through) predicts every response; [`driver`] runs a case; [`render`] turns the shortest
//! failing sequence into numbered steps, curl commands and a Gherkin regression scenario.

pub mod driver;
mod jobs;
pub mod ops;
mod render;
mod report;

pub use render::gherkin as render_gherkin;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};
use proptest_state_machine::ReferenceStateMachine;
use tokio::runtime::Handle;

pub use crate::forge::tamper;
use crate::schema::Schemas;
use crate::targets::{self, ClockControl, ConnectOptions, TargetSpec};
use crate::verdict::Finding;
use crate::{Catalogue, CheckError, TargetError};
use driver::{CaseError, FuzzContext, Step};
pub(crate) use jobs::Jobs;

#[derive(Debug, Clone)]
pub struct FuzzOptions {
    pub cases: u32,
    pub max_steps: usize,
    pub seed: Option<u64>,
    pub devices: usize,
    pub merchants: usize,
    pub strict: bool,
    /// Rule IDs of known deviations (`--baseline`): reported, never failing a case.
    pub baseline: std::collections::BTreeSet<String>,
    /// Where failing seeds are kept and replayed first (`None`: not persisted).
    pub persist: Option<PathBuf>,
    pub request_timeout: Duration,
    pub probe_timeout: Duration,
    /// Cases run at once where they cannot disturb one another: a target whose clock the harness
    /// does not move (each case has devices of its own). `None`: 8 there, 1 elsewhere (a moved
    /// clock is shared by every case).
    pub jobs: Option<usize>,
    /// A simulator's `--control-token`, for its `/_sim/` hooks.
    pub control_token: Option<String>,
}

impl Default for FuzzOptions {
    fn default() -> Self {
        FuzzOptions {
            cases: 100,
            max_steps: 40,
            seed: None,
            devices: 4,
            merchants: 2,
            strict: false,
            baseline: std::collections::BTreeSet::new(),
            persist: None,
            request_timeout: Duration::from_secs(30),
            probe_timeout: ConnectOptions::default().probe_timeout,
            jobs: None,
            control_token: None,
        }
    }
}

/// The shortest failing sequence found.
#[derive(Debug, Clone)]
pub struct FuzzFailure {
    /// The broken rule; `None` when the case stopped on an error (no response, a harness defect).
    pub finding: Option<Finding>,
    /// What went wrong, expected against actual.
    pub message: String,
    pub then: String,
    pub steps: Vec<Step>,
    pub devices: Vec<String>,
    /// proptest's own message for the minimal case, when the replay did not fail again.
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct FuzzReport {
    pub target: String,
    pub seed: u64,
    pub cases: u64,
    pub operations: u64,
    pub requests: u64,
    pub duration: Duration,
    pub failure: Option<FuzzFailure>,
    /// SIMULATOR-rule differences, one per rule (the first seen).
    pub advisories: Vec<Finding>,
    /// Observations that are not rule verdicts (non-I-JSON bodies, RFC 7493).
    pub notes: Vec<String>,
    /// Every rule some case judged, sorted.
    pub exercised: Vec<String>,
    /// Why the run stopped early, if it did (device pool exhausted, target errors).
    pub stopped: Option<String>,
    pub devices: usize,
    pub merchants: usize,
}

impl FuzzReport {
    /// 0 conformant; 1 a failure or a run that could not finish.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.failure.is_some() || self.stopped.is_some())
    }

    pub fn render(&self) -> String {
        render::report(self)
    }

    /// JUnit XML: a test case per rule the run judged.
    pub fn to_junit(&self) -> String {
        report::to_junit(self)
    }

    pub fn to_json(&self) -> serde_json::Value {
        report::to_json(self)
    }

    /// One self-contained page: the rules judged and, for a failure, its shortest sequence.
    pub fn to_html(&self) -> String {
        crate::report::fuzz_html(self)
    }
}

/// Cases at once on a target whose clock the harness does not move (`--jobs`).
const DEFAULT_JOBS: usize = 8;

/// One case's result as proptest reads it; passes and pool exhaustion are counted on the way.
fn case_verdict(result: Result<(), CaseError>, passed: &AtomicU64, stopped: &Mutex<Option<String>>) -> Result<(), TestCaseError> {
    match result {
        Ok(()) => {
            passed.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        Err(CaseError::Exhausted(why)) => {
            *stopped.lock() = Some(why.clone());
            Err(TestCaseError::reject(why))
        }
        Err(CaseError::Broken { finding, .. }) => {
            Err(TestCaseError::fail(format!("{} ({}): {}", finding.rule, finding.level.as_str(), finding.message)))
        }
        Err(CaseError::Error(e)) => Err(TestCaseError::fail(format!("error: {e}"))),
    }
}

/// Runs the fuzzer. Call it from a thread that is not inside the runtime behind `handle`: each
/// HTTP exchange is driven with `handle.block_on`.
pub fn fuzz(handle: &Handle, spec: &TargetSpec, opts: &FuzzOptions) -> Result<FuzzReport, CheckError> {
    let started = Instant::now();
    let schemas = Schemas::builtin()?;
    let connect = ConnectOptions {
        request_timeout: opts.request_timeout,
        probe_timeout: opts.probe_timeout,
        merchants: opts.merchants,
        control_token: opts.control_token.clone(),
        real_time: false,
        pool: 64,
    };
    let (target, client) = handle.block_on(targets::connect(spec, &connect))?;
    if target.merchants.len() < opts.merchants {
        return Err(CheckError::Target(TargetError::Usage(format!(
            "--merchants {} but the target offers {}",
            opts.merchants,
            target.merchants.len()
        ))));
    }
    let clock = target.clock == ClockControl::Control;
    let description = target.description.clone();
    let judge = crate::judge::Judge::new(Catalogue::builtin(), opts.strict, opts.baseline.clone());
    let ctx = FuzzContext::new(target, client, schemas, judge, opts.devices, opts.merchants);

    let seed = opts.seed.unwrap_or_else(rand::random);
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let persistence = opts.persist.as_ref().map(|p| {
        // proptest wants a `&'static str`; one path per run is leaked on purpose.
        let path: &'static str = Box::leak(p.display().to_string().into_boxed_str());
        Box::new(FileFailurePersistence::Direct(path)) as Box<dyn proptest::test_runner::FailurePersistence>
    });
    let config = Config {
        cases: opts.cases,
        max_shrink_iters: 2048,
        failure_persistence: persistence,
        max_global_rejects: opts.cases.max(64),
        ..Config::default()
    };
    let passed = AtomicU64::new(0);
    let stopped: Mutex<Option<String>> = Mutex::default();
    let jobs = Jobs::new(if clock { 1 } else { opts.jobs.unwrap_or(DEFAULT_JOBS) });
    let outcome = jobs.run(|job| {
        // The case shape is per thread (proptest's `init_state` takes no arguments).
        ops::set_shape(ctx.devices, ctx.merchants, clock);
        let config = Config { cases: jobs.cases(opts.cases, job), ..config.clone() };
        let mut runner = TestRunner::new_with_rng(config, jobs.rng(&seed_bytes, job));
        let strategy = ops::Generator::sequential_strategy(1..=opts.max_steps.max(1));
        runner.run(&strategy, |(_, ops, seen)| {
            if jobs.stood_down(job) {
                return Ok(());
            }
            let run = driver::run_case(&ctx, handle, &ops, seen.as_ref());
            let verdict = case_verdict(run.result, &passed, &stopped);
            if matches!(verdict, Err(TestCaseError::Fail(_))) {
                jobs.failing(job);
            }
            verdict
        })
    });

    let mut failure = None;
    let mut stop = stopped.lock().take();
    match outcome {
        Ok(()) => stop = None,
        Err(TestError::Fail(reason, (_, ops, _))) => {
            // Replay the shortest sequence once more, recording every exchange.
            let run = driver::run_case(&ctx, handle, &ops, None);
            let (finding, message, then, note) = match run.result {
                Err(CaseError::Broken { finding, then }) => {
                    let message = finding.message.clone();
                    (Some(*finding), message, then, None)
                }
                Err(CaseError::Error(e)) => {
                    stop = Some(e.clone());
                    (None, e, String::new(), None)
                }
                other => (
                    None,
                    reason.to_string(),
                    String::new(),
                    Some(format!("the replay of the shortest sequence did not fail again ({other:?}): the target is not deterministic")),
                ),
            };
            failure = Some(FuzzFailure { finding, message, then, steps: run.steps, devices: run.devices, note });
        }
        Err(TestError::Abort(reason)) => {
            stop = Some(stop.map_or_else(|| reason.to_string(), |why| format!("{why} (after {} cases)", passed.load(Ordering::Relaxed))));
        }
    }
    let mut advisories: Vec<Finding> = Vec::new();
    for f in ctx.advisories.lock().drain(..) {
        if !advisories.iter().any(|a| a.rule == f.rule) {
            advisories.push(f);
        }
    }
    Ok(FuzzReport {
        target: description,
        seed,
        cases: passed.load(Ordering::Relaxed),
        operations: ctx.operations.load(Ordering::Relaxed),
        requests: ctx.requests.load(Ordering::Relaxed),
        duration: started.elapsed(),
        failure,
        advisories,
        notes: std::mem::take(&mut *ctx.notes.lock()),
        exercised: ctx.exercised.lock().iter().cloned().collect(),
        stopped: stop,
        devices: ctx.devices,
        merchants: ctx.merchants,
    })
}
