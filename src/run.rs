//! `viopay-check run`: cucumber as the engine (parser, runner), with the harness's own outcome
//! collection in an `after` hook: each scenario becomes a [`ScenarioResult`] with its findings.

use std::sync::Arc;

use cucumber::gherkin::{Feature, Scenario};
use cucumber::tag::Ext as _;
use cucumber::{cli, event, writer};
use futures::stream;
use parking_lot::Mutex;

use crate::features::{self, FeatureFile};
use crate::judge::{Ledger, Stop};
use crate::targets::ClockControl;
use crate::verdict::{ScenarioResult, ScenarioStatus};
use crate::world::{CONTEXT, CheckWorld, RunContext};

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// A cucumber tag expression, e.g. `@CLAIM-16 or @slow`.
    pub tags: Option<String>,
    pub concurrency: Option<usize>,
    pub fail_fast: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Feature(#[from] features::FeatureError),
    #[error("--tags `{expr}` is not a tag expression: {message}")]
    Tags { expr: String, message: String },
}

/// A writer that writes nothing: progress and reports come from the collected results.
struct Quiet;

impl<W: cucumber::World> cucumber::Writer<W> for Quiet {
    type Cli = cli::Empty;

    async fn handle_event(&mut self, _: cucumber::parser::Result<cucumber::Event<event::Cucumber<W>>>, _: &Self::Cli) {}
}

impl writer::Normalized for Quiet {}

/// A parser over already-read feature files.
struct Embedded;

impl cucumber::Parser<Vec<Feature>> for Embedded {
    type Cli = cli::Empty;
    type Output = stream::Iter<std::vec::IntoIter<cucumber::parser::Result<Feature>>>;

    fn parse(self, input: Vec<Feature>, _: Self::Cli) -> Self::Output {
        stream::iter(input.into_iter().map(Ok).collect::<Vec<_>>())
    }
}

/// Why a scenario cannot run on this target, if it cannot.
fn not_applicable(ctx: &RunContext, scenario: &Scenario, slow_selected: bool) -> Option<String> {
    let has = |tag: &str| scenario.tags.iter().any(|t| t == tag);
    if has("faults") && !ctx.target.faults {
        return Some("needs forced server faults (/_sim/faults), which this target does not offer".into());
    }
    if has("frozen") && !ctx.target.frozen {
        return Some(
            "judges a time boundary to the second: needs a clock that stands still between the harness's moves (the simulator's virtual clock, or a profile's `[clock] frozen = true`); the same rule is judged with real time's tolerance elsewhere".into(),
        );
    }
    if has("clock") && ctx.target.clock == ClockControl::Real && !slow_selected {
        return Some("needs time to pass: this target's clock is real; select @slow (--tags @slow) to wait in real time".into());
    }
    if has("token-expiry") && !ctx.target.tokens_follow_clock && !slow_selected {
        return Some(
            "AUTH-14: this target's tokens expire on their identity provider's real clock, which the test clock does not move; \
             select @slow (--tags @slow) to wait expires_in in real time, or declare `[clock] tokens_follow = true` in the profile"
                .into(),
        );
    }
    None
}

/// What the runner reads of a World once its scenario has finished: its [`Ledger`]. Both APIs'
/// Worlds (VioPay's [`CheckWorld`], Kustom's) keep one, so results, verdicts and reports are one
/// pipeline.
pub(crate) trait Outcome {
    fn ledger(&self) -> &Ledger;

    /// Told which scenario it plays before its first step.
    fn begin(&mut self, _feature: &Feature, _scenario: &Scenario) {}
}

impl Outcome for CheckWorld {
    fn ledger(&self) -> &Ledger {
        &self.core
    }
}

/// The run future a World type needs scoped (its task-local context).
pub(crate) type Scoped = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

/// Runs the features against the context's target. `progress` sees each result as it lands.
pub async fn run(
    ctx: Arc<RunContext>,
    files: &[FeatureFile],
    opts: &RunOptions,
    progress: impl Fn(&ScenarioResult) + 'static,
) -> Result<Vec<ScenarioResult>, RunError> {
    let slow_selected = opts.tags.as_deref().is_some_and(|t| t.contains("@slow"));
    let check = ctx.clone();
    run_worlds::<CheckWorld>(
        files,
        opts,
        progress,
        move |s| not_applicable(&check, s, slow_selected),
        move |fut| Box::pin(CONTEXT.scope(ctx, fut)),
    )
    .await
}

/// The runner for any World: selection by tags and capability, cucumber, results.
pub(crate) async fn run_worlds<W>(
    files: &[FeatureFile],
    opts: &RunOptions,
    progress: impl Fn(&ScenarioResult) + 'static,
    not_applicable: impl Fn(&Scenario) -> Option<String>,
    scope: impl FnOnce(Scoped) -> Scoped,
) -> Result<Vec<ScenarioResult>, RunError>
where
    W: cucumber::World + cucumber::codegen::WorldInventory + Outcome + std::fmt::Debug,
{
    let parsed: Vec<Feature> = files.iter().map(features::parse).collect::<Result<_, _>>()?;
    let tags = opts
        .tags
        .as_deref()
        .map(|expr| {
            expr.parse::<cucumber::gherkin::tagexpr::TagOperation>()
                .map_err(|e| RunError::Tags { expr: expr.to_owned(), message: e.to_string() })
        })
        .transpose()?;
    let results: Arc<Mutex<Vec<ScenarioResult>>> = Arc::default();
    let progress = Arc::new(progress);

    // Selection and capabilities are decided before cucumber sees the scenarios; the ones a target
    // cannot run are reported "not applicable" with the reason.
    let mut selected = Vec::new();
    for mut feature in parsed {
        let mut keep = Vec::new();
        for scenario in std::mem::take(&mut feature.scenarios) {
            let all_tags: Vec<&String> = feature.tags.iter().chain(&scenario.tags).collect();
            if tags.as_ref().is_some_and(|t| !t.eval(all_tags.iter().map(|s| s.as_str()))) {
                continue;
            }
            if let Some(reason) = not_applicable(&scenario) {
                let result = result_of::<W>(&feature, &scenario, ScenarioStatus::NotApplicable(reason), None, 0);
                progress(&result);
                results.lock().push(result);
                continue;
            }
            keep.push(scenario);
        }
        if !keep.is_empty() {
            feature.scenarios = keep;
            selected.push(feature);
        }
    }

    let mut opts_cli = cli::Opts::<cli::Empty, cucumber::runner::basic::Cli, cli::Empty>::default();
    opts_cli.runner.fail_fast = opts.fail_fast;
    opts_cli.runner.concurrency = opts.concurrency;

    let hook_results = results.clone();
    let hook_progress = progress.clone();
    let cucumber = W::cucumber::<std::path::PathBuf>()
        .with_parser(Embedded)
        .with_writer(Quiet)
        .with_cli(opts_cli)
        .before(|feature, _, scenario, world| {
            world.begin(feature, scenario);
            Box::pin(async {})
        })
        .after(move |feature, _, scenario, finished, world| {
            let result = conclude(feature, scenario, finished, world.map(|w| &*w));
            hook_progress(&result);
            hook_results.lock().push(result);
            Box::pin(async {})
        });
    scope(Box::pin(async move {
        cucumber.run(selected).await;
    }))
    .await;

    let mut out = std::mem::take(&mut *results.lock());
    out.sort_by(|a, b| (a.file.as_str(), a.line).cmp(&(b.file.as_str(), b.line)));
    Ok(out)
}

fn result_of<W: Outcome>(feature: &Feature, scenario: &Scenario, status: ScenarioStatus, world: Option<&W>, ms: u64) -> ScenarioResult {
    ScenarioResult {
        feature: feature.name.clone(),
        file: feature.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
        name: scenario.name.clone(),
        line: scenario.position.line,
        rules: features::rule_tags(feature, scenario),
        status,
        findings: world.map(|w| w.ledger().findings.clone()).unwrap_or_default(),
        unverified: world.map(|w| w.ledger().unverified.clone()).unwrap_or_default(),
        notes: world.map(|w| w.ledger().notes.clone()).unwrap_or_default(),
        duration_ms: ms,
        requests: world.map_or(0, |w| w.ledger().requests),
        tape: world.and_then(|w| w.ledger().tape.clone()),
    }
}

/// Turns cucumber's outcome and the World's findings into a result.
fn conclude<W: Outcome>(feature: &Feature, scenario: &Scenario, finished: &event::ScenarioFinished, world: Option<&W>) -> ScenarioResult {
    let strict = world.is_some_and(|w| w.ledger().strict());
    let fails = world.is_some_and(|w| w.ledger().findings.iter().any(|f| f.is_failure(strict)));
    let advisories = world.is_some_and(|w| !w.ledger().findings.is_empty());
    let ms = world.map_or(0, |w| u64::try_from(w.ledger().started.elapsed().as_millis()).unwrap_or(u64::MAX));
    let status = match finished {
        event::ScenarioFinished::StepPassed if fails => ScenarioStatus::Failed,
        event::ScenarioFinished::StepPassed if advisories => ScenarioStatus::Advisory,
        event::ScenarioFinished::StepPassed => ScenarioStatus::Passed,
        event::ScenarioFinished::StepSkipped => ScenarioStatus::Error("a step has no definition (a typo in the feature?)".into()),
        event::ScenarioFinished::BeforeHookFailed(info) => ScenarioStatus::Error(panic_text(info)),
        event::ScenarioFinished::StepFailed(_, _, err) => match err {
            event::StepError::Panic(info) => match info.downcast_ref::<Stop>() {
                Some(Stop::NotRun(why)) => ScenarioStatus::NotRun(why.clone()),
                Some(Stop::NotApplicable(why)) if !fails => ScenarioStatus::NotApplicable(why.clone()),
                Some(Stop::Failed(_)) | Some(Stop::NotApplicable(_)) => ScenarioStatus::Failed,
                _ if fails => ScenarioStatus::Failed,
                Some(Stop::Error(why)) => ScenarioStatus::Error(why.clone()),
                None => ScenarioStatus::Error(format!("the harness panicked: {}", panic_text(info))),
            },
            other => ScenarioStatus::Error(other.to_string()),
        },
    };
    result_of(feature, scenario, status, world, ms)
}

fn panic_text(info: &event::Info) -> String {
    info.downcast_ref::<String>()
        .cloned()
        .or_else(|| info.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "panic".into())
}
