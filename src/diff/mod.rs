//! `viopay-check diff`: what changed between two deployments, rule by rule. The scenario suite
//! and the same seeded fuzz sequences run against a baseline and a candidate, each in its own
//! state, with every exchange taped with the rules the model judged on it ([`crate::judge::Tape`]).
//! Tapes are paired by position ([`compare`]) after normalisation ([`normalise`]); fields that
//! differ between two copies of the baseline are noise (Diffy's approach), learned from
//! `--baseline2` or a second pass. Each difference is tied to the rule whose ground it is on and
//! says whether both answers are allowed or one breaks the rule.

mod compare;
mod normalise;
mod record;
mod report;

use std::collections::BTreeSet;
use std::time::Instant;

use tokio::runtime::Handle;

pub use compare::{Change, Difference, Kind};
pub use report::{DiffReport, Group};

use crate::catalogue::{Api, Catalogue};
use crate::judge::Taped;
use crate::{CheckError, CheckOptions, TargetSpec};

/// Everything `viopay-check diff` is told.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    pub api: Api,
    /// Features, tags, timeouts and control token, as `run` takes them; `strict` and `baseline`
    /// do not apply (a difference is reported whatever its level).
    pub check: CheckOptions,
    /// Run the scenario suite (`--fuzz-only` turns it off).
    pub scenarios: bool,
    /// Fuzz sequences run on both (0: none).
    pub cases: u32,
    pub max_steps: usize,
    pub seed: u64,
    /// VioPay: devices per case; merchants per target.
    pub devices: usize,
    pub merchants: usize,
    /// Rules whose differences are intended (`--accept`): reported, not failing.
    pub accept: BTreeSet<String>,
    /// Fields never compared (`--ignore`).
    pub ignore: Vec<String>,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            api: Api::Viopay,
            check: CheckOptions::default(),
            scenarios: true,
            cases: 200,
            max_steps: 40,
            seed: 1,
            devices: 4,
            merchants: 2,
            accept: BTreeSet::new(),
            ignore: Vec::new(),
        }
    }
}

/// The targets of one diff.
#[derive(Debug, Clone)]
pub struct DiffTargets {
    pub baseline: TargetSpec,
    pub candidate: TargetSpec,
    /// A second copy of the baseline, whose differences from the first are noise.
    pub baseline2: Option<TargetSpec>,
}

/// One scenario or fuzz case as one target ran it.
#[derive(Debug, Clone)]
pub struct Unit {
    /// What pairs it with the other target's run of it.
    pub name: String,
    /// The scenario's rule tags: the ground of a difference on an exchange no rule was judged on.
    pub rules: Vec<String>,
    pub tape: Vec<Taped>,
    /// Why it stopped before its end, if it did.
    pub stop: Option<UnitStop>,
}

#[derive(Debug, Clone)]
pub struct UnitStop {
    pub why: String,
    /// Rules broken at failure level.
    pub broken: Vec<String>,
}

/// One target's run of every unit.
#[derive(Debug)]
pub struct Recording {
    pub description: String,
    pub units: Vec<Unit>,
}

impl Recording {
    fn exchanges(&self) -> usize {
        self.units.iter().map(|u| u.tape.len()).sum()
    }
}

/// Compares every unit the two recordings share.
fn differences(a: &Recording, b: &Recording, filter: &compare::Filter) -> Vec<Difference> {
    let mut out = Vec::new();
    for unit in &a.units {
        if let Some(other) = b.units.iter().find(|u| u.name == unit.name) {
            out.extend(compare::unit(unit, other, filter));
        }
    }
    out
}

/// Runs the diff. Call it from a thread that is not inside the runtime behind `handle`.
pub fn diff(handle: &Handle, targets: &DiffTargets, opts: &DiffOptions) -> Result<DiffReport, CheckError> {
    let started = Instant::now();
    let plan = record::Plan::new(handle, targets, opts)?;
    let specs: Vec<&TargetSpec> =
        std::iter::once(&targets.baseline).chain(std::iter::once(&targets.candidate)).chain(targets.baseline2.as_ref()).collect();
    let recordings: Vec<Result<Recording, CheckError>> = std::thread::scope(|s| {
        let runs: Vec<_> = specs
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let plan = &plan;
                s.spawn(move || plan.record(handle, i, spec))
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join().unwrap_or_else(|_| Err(CheckError::Target(crate::TargetError::Setup("a recording thread panicked".into())))))
            .collect()
    });
    let mut recordings = recordings.into_iter().collect::<Result<Vec<_>, _>>()?;
    let second = (recordings.len() == 3).then(|| recordings.remove(2));
    let candidate = recordings.remove(1);
    let baseline = recordings.remove(0);

    let mut filter = compare::Filter { noise: BTreeSet::new(), ignore: opts.ignore.clone() };
    let mut noise_exchanges = 0;
    if let Some(second) = &second {
        for d in differences(&baseline, second, &compare::Filter::default()) {
            noise_exchanges += 1;
            for c in &d.changes {
                filter.noise.insert(compare::noise_key(&d.endpoint, &c.field));
            }
        }
    }
    // What noise left out is counted only when noise was learned (the comparison runs twice then).
    let all = if filter.noise.is_empty() {
        None
    } else {
        Some(differences(&baseline, &candidate, &compare::Filter { noise: BTreeSet::new(), ignore: opts.ignore.clone() }))
    };
    let mut found = differences(&baseline, &candidate, &filter);
    compare::adopt_grounds(&mut found);
    let catalogue = Catalogue::builtin();
    let report = DiffReport {
        api: opts.api,
        baseline: baseline.description.clone(),
        candidate: candidate.description.clone(),
        baseline2: second.as_ref().map(|s| s.description.clone()),
        seed: opts.seed,
        units: baseline.units.len(),
        scenarios: baseline.units.iter().filter(|u| !u.name.starts_with(record::FUZZ_PREFIX)).count(),
        exchanges: baseline.exchanges(),
        candidate_exchanges: candidate.exchanges(),
        noise: filter.noise.into_iter().collect(),
        noise_exchanges,
        suppressed: all.map_or(0, |all| all.len().saturating_sub(found.len())),
        groups: Vec::new(),
        accept: opts.accept.clone(),
        duration: started.elapsed(),
    };
    Ok(report.grouped(found, &catalogue))
}
