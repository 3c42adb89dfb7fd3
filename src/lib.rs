//! `viopay-check`: certifies any implementation of the VioPay POS activation API (all eight steps
//! and merchant auth) rule by rule: Gherkin scenarios run by cucumber, every response checked
//! against the JSON Schemas, verdicts by rule level, and reports for people (terminal) and CI
//! (JUnit, JSON, exit code). In steps 5–8 it acts as the terminal with its own crypto ([`pos`]).
//!
//! It talks HTTP only, to whatever target it is given; its knowledge of the rules is its own
//! (`rules.toml`, `features/`, [`spec`]), never the simulator's code.

pub mod catalogue;
mod checks;
pub mod client;
pub mod diff;
mod exchange;
pub mod features;
mod forge;
pub mod fuzz;
mod json;
mod judge;
pub mod kustom;
pub mod load;
mod model;
pub mod pos;
mod profile;
pub mod report;
pub mod rules_doc;
mod run;
mod schema;
mod session;
mod spec;
mod steps;
mod targets;
pub mod verdict;
mod world;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use catalogue::{Catalogue, Level};
pub use exchange::Exchange;
pub use profile::ProfileError;
pub use report::Report;
pub use run::{RunError, RunOptions};
pub use schema::SchemaError;
pub use targets::{ConnectOptions, TargetError, TargetSpec};
pub use verdict::{ScenarioResult, ScenarioStatus};

/// Everything `viopay-check run` is told.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub run: RunOptions,
    pub strict: bool,
    pub baseline: BTreeSet<String>,
    pub features: Vec<features::FeatureFile>,
    /// Bound on every request, so a hung target fails a scenario instead of hanging the run.
    pub request_timeout: Duration,
    /// How long the reachability probe waits before exit 3.
    pub probe_timeout: Duration,
    /// A simulator's `--control-token`, for its `/_sim/` hooks.
    pub control_token: Option<String>,
    /// Keep every scenario's tape of exchanges and judged rules (`diff`).
    pub tape: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            run: RunOptions::default(),
            strict: false,
            baseline: BTreeSet::new(),
            features: features::builtin(),
            request_timeout: Duration::from_secs(30),
            probe_timeout: ConnectOptions::default().probe_timeout,
            control_token: None,
            tape: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Run(#[from] run::RunError),
    #[error(transparent)]
    Schemas(#[from] schema::SchemaError),
}

impl CheckError {
    /// 2 usage or profile error, 3 target unreachable, 1 anything else that stopped the run.
    pub fn exit_code(&self) -> i32 {
        match self {
            CheckError::Target(TargetError::Unreachable { .. }) => 3,
            CheckError::Target(TargetError::Profile(_) | TargetError::Usage(_)) | CheckError::Run(_) => 2,
            CheckError::Target(TargetError::Setup(_)) | CheckError::Schemas(_) => 1,
        }
    }
}

/// Connects to the target, runs the selected scenarios and judges them.
pub async fn certify(spec: &TargetSpec, opts: &CheckOptions, progress: impl Fn(&ScenarioResult) + 'static) -> Result<Report, CheckError> {
    let started = Instant::now();
    let schemas = schema::Schemas::builtin()?;
    let connect = ConnectOptions {
        request_timeout: opts.request_timeout,
        probe_timeout: opts.probe_timeout,
        merchants: 2,
        control_token: opts.control_token.clone(),
        real_time: false,
        pool: 64,
    };
    let (target, client) = targets::connect(spec, &connect).await?;
    let description = target.description.clone();
    let catalogue = Catalogue::builtin();
    let ctx = Arc::new(world::RunContext {
        target,
        client,
        schemas,
        judge: Arc::new(judge::Judge::new(catalogue.clone(), opts.strict, opts.baseline.clone()).taping(opts.tape)),
    });
    let covered = rules_doc::covering(&opts.features).map_err(run::RunError::from)?.into_keys().collect();
    let results = run::run(ctx, &opts.features, &opts.run, progress).await?;
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(Report::new(&description, &catalogue.only(catalogue::Api::Viopay), results, opts.strict, &opts.baseline, &covered, ms))
}
