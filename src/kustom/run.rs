//! `viopay-check run --api kustom`: Kustom's scenarios (`features/kustom/`) through the same
//! runner, verdicts and reports as VioPay's, one scenario at a time (each starts from the
//! target's fixtures, `/_sim/reset`, so that the model knows every enrollment a list may show).

use std::sync::Arc;
use std::time::Instant;

use super::world::{KUSTOM, KustomContext, KustomWorld};
use crate::catalogue::{Api, Catalogue};
use crate::judge::Judge;
use crate::{CheckError, CheckOptions, Report, ScenarioResult, TargetSpec, rules_doc, run};

/// Seconds a scenario may wait for real when the target's clock cannot be moved: one-second
/// codes and short lifetimes make expiry checkable on any backend (KEN-07 allows 1 s).
pub const REAL_WAIT_LIMIT: u64 = 15;

/// The seconds a scenario's "the clock moves N seconds" steps add up to.
fn clock_moves(s: &cucumber::gherkin::Scenario) -> u64 {
    s.steps
        .iter()
        .filter_map(|step| step.value.strip_prefix("the clock moves "))
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

pub async fn certify(spec: &TargetSpec, opts: &CheckOptions, progress: impl Fn(&ScenarioResult) + 'static) -> Result<Report, CheckError> {
    let started = Instant::now();
    let target = super::target::connect(spec, opts.request_timeout, opts.control_token.clone()).await?;
    let description = target.name.clone();
    let (clock, fresh, frozen) = (target.clock, target.fresh, target.frozen);
    let catalogue = Catalogue::builtin();
    let judge = Arc::new(Judge::new(catalogue.clone(), opts.strict, opts.baseline.clone()).taping(opts.tape));
    let ctx = Arc::new(KustomContext { target, judge });
    let covered = rules_doc::covering(&opts.features).map_err(run::RunError::from)?.into_keys().collect();
    let run_opts = run::RunOptions { concurrency: Some(1), ..opts.run.clone() };
    let not_applicable = move |s: &cucumber::gherkin::Scenario| {
        let has = |tag: &str| s.tags.iter().any(|t| t == tag);
        if has("frozen") && !frozen {
            return Some(
                "judges exact time boundaries: needs a clock that stands still between moves (a simulator's virtual clock)".to_owned(),
            );
        }
        if has("clock") && !clock && clock_moves(s) > REAL_WAIT_LIMIT {
            return Some(format!(
                "moves the clock {} s: needs the target's clock moved (a simulator's /_sim/clock); up to {REAL_WAIT_LIMIT} s are waited out",
                clock_moves(s)
            ));
        }
        (has("fresh") && !fresh)
            .then(|| "counts what a list holds: needs a target reset to its fixtures (a simulator's /_sim/reset)".to_owned())
    };
    let results =
        run::run_worlds::<KustomWorld>(&opts.features, &run_opts, progress, not_applicable, move |fut| Box::pin(KUSTOM.scope(ctx, fut)))
            .await?;
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(Report::new(&description, &catalogue.only(Api::Kustom), results, opts.strict, &opts.baseline, &covered, ms))
}
