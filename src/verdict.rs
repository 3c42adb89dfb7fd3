//! Findings, scenario outcomes and the rule matrix: how the harness judges what it saw.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::catalogue::{Catalogue, Level, RuleId};
use crate::exchange::Exchange;

/// One observed difference from a rule.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: RuleId,
    pub level: Level,
    /// Expected against actual.
    pub message: String,
    /// The exchange that shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Exchange>,
    /// The rule is in the baseline: a known deviation, reported but neither failing the run nor
    /// stopping the scenario (so the rules after it are still verified).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub known: bool,
}

impl Finding {
    /// A finding at the level of `rule`.
    pub fn new(rule: RuleId, message: String, exchange: Option<&Exchange>) -> Self {
        Finding { level: rule.level(), rule, message, exchange: exchange.cloned(), known: false }
    }

    /// Whether this finding fails the run: REQUIRED always, SIMULATOR under `--strict`, a known
    /// deviation never.
    pub fn is_failure(&self, strict: bool) -> bool {
        if self.known {
            return false;
        }
        match self.level {
            Level::Required => true,
            Level::Simulator => strict,
            Level::Unknown => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum ScenarioStatus {
    Passed,
    /// Passed, with differences on SIMULATOR rules.
    Advisory,
    /// A REQUIRED rule (or a SIMULATOR rule under `--strict`) was broken.
    Failed,
    /// The target lacks a capability the scenario needs; does not fail the run.
    NotApplicable(String),
    /// The scenario should have run and could not (device pool exhausted); fails the run.
    NotRun(String),
    /// Something unexpected (no response, a step the harness does not know); fails the run.
    Error(String),
}

impl ScenarioStatus {
    pub fn label(&self) -> &'static str {
        match self {
            ScenarioStatus::Passed => "pass",
            ScenarioStatus::Advisory => "advisory",
            ScenarioStatus::Failed => "FAIL",
            ScenarioStatus::NotApplicable(_) => "n/a",
            ScenarioStatus::NotRun(_) => "NOT RUN",
            ScenarioStatus::Error(_) => "ERROR",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub feature: String,
    pub file: String,
    pub name: String,
    pub line: usize,
    /// The rule IDs the scenario is tagged with.
    pub rules: Vec<String>,
    #[serde(flatten)]
    pub status: ScenarioStatus,
    pub findings: Vec<Finding>,
    /// Checks that did not apply because the target took another branch the spec allows (a
    /// cascade of an earlier difference): reported, never failed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unverified: Vec<Unverified>,
    /// Observations that are not rule verdicts (e.g. non-I-JSON content, RFC 7493).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub duration_ms: u64,
    pub requests: usize,
    /// What the scenario sent and got, when the run keeps tapes (`diff`).
    #[serde(skip)]
    pub tape: Option<crate::judge::Tape>,
}

/// A check of `rule` that was skipped, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Unverified {
    pub rule: String,
    pub reason: String,
}

/// A rule's verdict over the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleVerdict {
    Fail,
    NotRun,
    Advisory,
    KnownDeviation,
    /// Baselined, and passing now: the baseline entry can go.
    Fixed,
    Pass,
    /// Every scenario for it followed another branch the spec allows, so its checks did not
    /// apply; does not fail the run.
    NotVerified,
    NotApplicable,
    NotSelected,
    /// No scenario checks it yet (the families listed in the coverage test).
    NoScenario,
}

impl RuleVerdict {
    pub fn label(self) -> &'static str {
        match self {
            RuleVerdict::Fail => "FAIL",
            RuleVerdict::NotRun => "NOT RUN",
            RuleVerdict::Advisory => "advisory",
            RuleVerdict::KnownDeviation => "known deviation",
            RuleVerdict::Fixed => "fixed (prune baseline)",
            RuleVerdict::Pass => "pass",
            RuleVerdict::NotVerified => "not verified",
            RuleVerdict::NotApplicable => "n/a",
            RuleVerdict::NotSelected => "not selected",
            RuleVerdict::NoScenario => "no scenario yet",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleRow {
    pub id: String,
    pub level: Level,
    pub statement: String,
    pub verdict: RuleVerdict,
    /// `feature: scenario` of every scenario tagged with the rule that was selected.
    pub scenarios: Vec<String>,
    /// Why, for fail / advisory / not run / n/a.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Builds the rule matrix for every checked rule of the catalogue. `covered` holds the rules some
/// feature has a scenario for, selected or not.
pub fn rule_matrix(
    catalogue: &Catalogue,
    results: &[ScenarioResult],
    strict: bool,
    baseline: &BTreeSet<String>,
    covered: &BTreeSet<String>,
) -> Vec<RuleRow> {
    let mut by_rule: BTreeMap<&str, Vec<&ScenarioResult>> = BTreeMap::new();
    for r in results {
        for rule in &r.rules {
            by_rule.entry(rule.as_str()).or_default().push(r);
        }
    }
    let mut findings: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for r in results {
        for f in &r.findings {
            findings.entry(f.rule.as_str()).or_default().push(f);
        }
    }
    let mut skipped: BTreeMap<&str, Vec<(&ScenarioResult, &Unverified)>> = BTreeMap::new();
    for r in results {
        for u in &r.unverified {
            skipped.entry(u.rule.as_str()).or_default().push((r, u));
        }
    }
    // The catalogue a run passes holds its API's rules only (`Catalogue::only`).
    catalogue
        .iter()
        .filter(|rule| rule.is_checked())
        .map(|rule| {
            let scenarios = by_rule.get(rule.id.as_str()).cloned().unwrap_or_default();
            let own = findings.get(rule.id.as_str()).cloned().unwrap_or_default();
            let mut notes: Vec<String> = own.iter().map(|f| f.message.clone()).collect();
            let ran: Vec<&&ScenarioResult> =
                scenarios.iter().filter(|s| !matches!(s.status, ScenarioStatus::NotApplicable(_) | ScenarioStatus::NotRun(_))).collect();
            let not_run = scenarios.iter().find_map(|s| match &s.status {
                ScenarioStatus::NotRun(why) => Some(why.clone()),
                _ => None,
            });
            let errored = scenarios.iter().find_map(|s| match &s.status {
                ScenarioStatus::Error(why) => Some(why.clone()),
                _ => None,
            });
            let verdict = if own.iter().any(|f| f.is_failure(strict)) {
                RuleVerdict::Fail
            } else if let Some(why) = errored {
                notes.push(why);
                RuleVerdict::Fail
            } else if let Some(why) = not_run.filter(|_| ran.is_empty()) {
                notes.push(why);
                RuleVerdict::NotRun
            } else if !ran.is_empty() && ran.iter().all(|s| s.status == ScenarioStatus::Failed) {
                // A scenario stops at its first failure: a rule whose every scenario failed on
                // another rule was never verified.
                notes.push(format!("not verified: every scenario for it stopped at an earlier failure ({})", ran[0].name));
                RuleVerdict::NotRun
            } else if !own.is_empty() {
                RuleVerdict::Advisory
            } else if !ran.is_empty()
                && ran.iter().all(|s| skipped.get(rule.id.as_str()).is_some_and(|l| l.iter().any(|(r, _)| std::ptr::eq(*r, **s))))
            {
                let why = skipped.get(rule.id.as_str()).and_then(|l| l.first()).map(|(_, u)| u.reason.clone()).unwrap_or_default();
                notes.push(format!("not verified: {why}"));
                RuleVerdict::NotVerified
            } else if !ran.is_empty() {
                RuleVerdict::Pass
            } else if let Some(why) = scenarios.iter().find_map(|s| match &s.status {
                ScenarioStatus::NotApplicable(why) => Some(why.clone()),
                _ => None,
            }) {
                notes.push(why);
                RuleVerdict::NotApplicable
            } else if covered.contains(&rule.id) {
                RuleVerdict::NotSelected
            } else {
                RuleVerdict::NoScenario
            };
            let verdict = match (baseline.contains(&rule.id), verdict) {
                (true, RuleVerdict::Fail | RuleVerdict::Advisory) => RuleVerdict::KnownDeviation,
                (true, RuleVerdict::Pass) => RuleVerdict::Fixed,
                (_, v) => v,
            };
            notes.dedup();
            RuleRow {
                id: rule.id.clone(),
                level: rule.level,
                statement: rule.statement.clone(),
                verdict,
                scenarios: scenarios.iter().map(|s| format!("{}: {}", s.feature, s.name)).collect(),
                notes,
            }
        })
        .collect()
}

/// Exit code 0 (conformant) or 1: a failing rule, a scenario that errored or could not run.
/// Baselined rules do not count (their findings are `known`, and the matrix says "known deviation").
pub fn exit_code(rows: &[RuleRow], results: &[ScenarioResult], strict: bool) -> i32 {
    let failing_rule = rows.iter().any(|r| matches!(r.verdict, RuleVerdict::Fail | RuleVerdict::NotRun));
    let failing_scenario = results.iter().any(|s| match &s.status {
        ScenarioStatus::Failed => s.findings.iter().any(|f| f.is_failure(strict)),
        ScenarioStatus::NotRun(_) | ScenarioStatus::Error(_) => true,
        _ => false,
    });
    i32::from(failing_rule || failing_scenario)
}
