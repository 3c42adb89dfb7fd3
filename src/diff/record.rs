//! Runs the scenario suite and the seeded fuzz sequences against one target, keeping every
//! scenario's and case's tape. The sequences are drawn once and shared, so every target runs the
//! same operations; each target runs them in its own state (its own devices, merchants, clock).

use parking_lot::Mutex;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use proptest_state_machine::ReferenceStateMachine;
use tokio::runtime::Handle;

use super::{DiffOptions, DiffTargets, Recording, Unit, UnitStop};
use crate::catalogue::{Api, Catalogue};
use crate::fuzz::driver::{self, CaseError, FuzzContext};
use crate::fuzz::ops as viopay_ops;
use crate::judge::Judge;
use crate::kustom::ops as kustom_ops;
use crate::schema::Schemas;
use crate::targets::{self, ClockControl, ConnectOptions, Target};
use crate::verdict::{ScenarioResult, ScenarioStatus};
use crate::{CheckError, CheckOptions, TargetError, TargetSpec};

/// Kustom case numbers of a diff start here, away from the numbers `fuzz` draws (0, 1, …), so
/// hardware ids do not meet those of an earlier fuzz run on the same target.
const FIRST_CASE: u32 = 1_000_000;

/// Fuzz cases are named `fuzz case N`; scenarios by feature, name and line.
pub const FUZZ_PREFIX: &str = "fuzz case ";

enum Sequences {
    Viopay(Vec<Vec<viopay_ops::Op>>),
    Kustom(Vec<Vec<kustom_ops::Op>>),
}

/// What every target runs.
pub struct Plan<'a> {
    opts: &'a DiffOptions,
    sequences: Sequences,
    /// VioPay targets already connected to learn whether all clocks can be moved (the sequences
    /// move the clock only if so); taken by the target's recording.
    connected: Mutex<Vec<Option<(Target, crate::client::Client)>>>,
}

fn rng(seed: u64) -> TestRng {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

fn generation_error(e: impl std::fmt::Display) -> CheckError {
    CheckError::Target(TargetError::Setup(format!("cannot draw the fuzz sequences: {e}")))
}

impl<'a> Plan<'a> {
    pub fn new(handle: &Handle, targets: &DiffTargets, opts: &'a DiffOptions) -> Result<Self, CheckError> {
        let mut runner = TestRunner::new_with_rng(Config::default(), rng(opts.seed));
        let steps = 1..=opts.max_steps.max(1);
        match opts.api {
            Api::Viopay => {
                let mut connected = Vec::new();
                for spec in std::iter::once(&targets.baseline).chain(std::iter::once(&targets.candidate)).chain(targets.baseline2.as_ref())
                {
                    connected.push(if opts.cases > 0 {
                        Some(handle.block_on(targets::connect(spec, &connect_options(opts)))?)
                    } else {
                        None
                    });
                }
                let clock = connected.iter().flatten().all(|(t, _)| t.clock == ClockControl::Control);
                viopay_ops::set_shape(opts.devices.max(1), opts.merchants.max(2), clock);
                let strategy = viopay_ops::Generator::sequential_strategy(steps);
                let mut sequences = Vec::new();
                for _ in 0..opts.cases {
                    let (_, ops, _) = strategy.new_tree(&mut runner).map_err(generation_error)?.current();
                    sequences.push(ops);
                }
                Ok(Plan { opts, sequences: Sequences::Viopay(sequences), connected: Mutex::new(connected) })
            }
            Api::Kustom => {
                let strategy = proptest::collection::vec(kustom_ops::op(), steps);
                let mut sequences = Vec::new();
                for _ in 0..opts.cases {
                    sequences.push(strategy.new_tree(&mut runner).map_err(generation_error)?.current());
                }
                Ok(Plan { opts, sequences: Sequences::Kustom(sequences), connected: Mutex::new(Vec::new()) })
            }
        }
    }

    /// Records target `index` (0 baseline, 1 candidate, 2 second baseline).
    pub fn record(&self, handle: &Handle, index: usize, spec: &TargetSpec) -> Result<Recording, CheckError> {
        let check = CheckOptions { tape: true, strict: false, baseline: Default::default(), ..self.opts.check.clone() };
        let mut units = Vec::new();
        let mut description = String::new();
        if self.opts.scenarios {
            let report = match self.opts.api {
                Api::Viopay => handle.block_on(crate::certify(spec, &check, |_| {}))?,
                Api::Kustom => handle.block_on(crate::kustom::certify(spec, &check, |_| {}))?,
            };
            description = report.target.clone();
            units.extend(scenario_units(report.scenarios));
        }
        match &self.sequences {
            Sequences::Viopay(sequences) if !sequences.is_empty() => {
                let taken = self.connected.lock().get_mut(index).and_then(Option::take);
                let Some((target, client)) = taken else {
                    return Err(CheckError::Target(TargetError::Setup("the target was not connected".into())));
                };
                if description.is_empty() {
                    description = target.description.clone();
                }
                let judge = Judge::new(Catalogue::builtin(), false, Default::default()).taping(true);
                let ctx = FuzzContext::new(target, client, Schemas::builtin()?, judge, self.opts.devices, self.opts.merchants);
                for (i, ops) in sequences.iter().enumerate() {
                    let run = driver::run_case(&ctx, handle, ops, None);
                    let stop = match run.result {
                        Ok(()) => None,
                        Err(CaseError::Broken { finding, .. }) => {
                            Some(UnitStop { why: format!("{}: {}", finding.rule, finding.message), broken: vec![finding.rule.to_string()] })
                        }
                        Err(CaseError::Exhausted(why)) => {
                            return Err(CheckError::Target(TargetError::Setup(format!("fuzz case {}: {why}", i + 1))));
                        }
                        Err(CaseError::Error(why)) => Some(UnitStop { why, broken: Vec::new() }),
                    };
                    units.push(Unit {
                        name: format!("{FUZZ_PREFIX}{}", i + 1),
                        rules: Vec::new(),
                        tape: run.tape.map(|t| t.entries).unwrap_or_default(),
                        stop,
                    });
                }
            }
            Sequences::Kustom(sequences) if !sequences.is_empty() => {
                let target = handle.block_on(crate::kustom::target::connect(spec, check.request_timeout, check.control_token.clone()))?;
                if description.is_empty() {
                    description = target.name.clone();
                }
                let judge = Judge::new(Catalogue::builtin(), false, Default::default()).taping(true);
                for (i, ops) in sequences.iter().enumerate() {
                    let outcome = handle.block_on(crate::kustom::fuzz::run_case(&target, ops, &judge, Some(FIRST_CASE + i as u32)));
                    let stop = outcome.failure.map(|f| UnitStop { why: format!("{}: {}", f.rule, f.message), broken: vec![f.rule] });
                    units.push(Unit {
                        name: format!("{FUZZ_PREFIX}{}", i + 1),
                        rules: Vec::new(),
                        tape: outcome.tape.map(|t| t.entries).unwrap_or_default(),
                        stop,
                    });
                }
            }
            _ => {}
        }
        Ok(Recording { description, units })
    }
}

fn connect_options(opts: &DiffOptions) -> ConnectOptions {
    ConnectOptions {
        request_timeout: opts.check.request_timeout,
        probe_timeout: opts.check.probe_timeout,
        merchants: opts.merchants.max(2),
        control_token: opts.check.control_token.clone(),
        real_time: false,
        pool: 64,
    }
}

/// One unit per scenario, named so that the other target's run of it pairs with it.
fn scenario_units(results: Vec<ScenarioResult>) -> Vec<Unit> {
    let mut units: Vec<Unit> = Vec::new();
    for s in results {
        let mut name = format!("{} › {} ({}:{})", s.feature, s.name, s.file, s.line);
        let mut n = 2;
        while units.iter().any(|u| u.name == name) {
            name = format!("{} › {} ({}:{}) #{n}", s.feature, s.name, s.file, s.line);
            n += 1;
        }
        let broken: Vec<String> = s.findings.iter().filter(|f| f.is_failure(false)).map(|f| f.rule.to_string()).collect();
        let stop = match &s.status {
            ScenarioStatus::Passed | ScenarioStatus::Advisory => None,
            ScenarioStatus::Failed => Some(UnitStop { why: format!("failed on {}", broken.join(", ")), broken }),
            ScenarioStatus::NotApplicable(why) => Some(UnitStop { why: format!("not applicable: {why}"), broken }),
            ScenarioStatus::NotRun(why) => Some(UnitStop { why: format!("not run: {why}"), broken }),
            ScenarioStatus::Error(why) => Some(UnitStop { why: format!("error: {why}"), broken }),
        };
        units.push(Unit { name, rules: s.rules.clone(), tape: s.tape.map(|t| t.entries).unwrap_or_default(), stop });
    }
    units
}
