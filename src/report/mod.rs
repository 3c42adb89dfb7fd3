//! What a run produces: the terminal progress and summary, a JUnit XML file and a JSON file. All
//! three are views of one [`Report`].

mod fuzz_html;
pub(crate) mod html;
mod json;
mod junit;
mod run_html;
pub(crate) mod svg;
mod terminal;

use std::collections::BTreeSet;

use serde::Serialize;

pub(crate) use fuzz_html::{kustom as kustom_fuzz_html, viopay as fuzz_html};
pub use json::to_json;
pub use junit::to_junit;
pub use run_html::to_html;
pub use terminal::{progress_line, summary};

use crate::catalogue::Catalogue;
use crate::verdict::{RuleRow, RuleVerdict, ScenarioResult, ScenarioStatus, exit_code, rule_matrix};

#[derive(Debug, Clone, Serialize)]
pub struct Counts {
    pub scenarios: usize,
    pub passed: usize,
    pub advisory: usize,
    pub failed: usize,
    pub not_applicable: usize,
    pub not_run: usize,
    pub errors: usize,
    pub requests: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub target: String,
    pub strict: bool,
    pub duration_ms: u64,
    pub exit_code: i32,
    pub counts: Counts,
    pub rules: Vec<RuleRow>,
    pub scenarios: Vec<ScenarioResult>,
    /// Baselined rules that pass now: the baseline file can drop them.
    pub fixed: Vec<String>,
}

impl Report {
    pub fn new(
        target: &str,
        catalogue: &Catalogue,
        scenarios: Vec<ScenarioResult>,
        strict: bool,
        baseline: &BTreeSet<String>,
        covered: &BTreeSet<String>,
        duration_ms: u64,
    ) -> Self {
        let rules = rule_matrix(catalogue, &scenarios, strict, baseline, covered);
        let code = exit_code(&rules, &scenarios, strict);
        let count = |f: fn(&ScenarioStatus) -> bool| scenarios.iter().filter(|s| f(&s.status)).count();
        let counts = Counts {
            scenarios: scenarios.len(),
            passed: count(|s| matches!(s, ScenarioStatus::Passed)),
            advisory: count(|s| matches!(s, ScenarioStatus::Advisory)),
            failed: count(|s| matches!(s, ScenarioStatus::Failed)),
            not_applicable: count(|s| matches!(s, ScenarioStatus::NotApplicable(_))),
            not_run: count(|s| matches!(s, ScenarioStatus::NotRun(_))),
            errors: count(|s| matches!(s, ScenarioStatus::Error(_))),
            requests: scenarios.iter().map(|s| s.requests).sum(),
        };
        let fixed = rules.iter().filter(|r| r.verdict == RuleVerdict::Fixed).map(|r| r.id.clone()).collect();
        Report { target: target.to_owned(), strict, duration_ms, exit_code: code, counts, rules, scenarios, fixed }
    }
}

/// Reads a baseline file: one rule ID per line, `#` starts a comment.
pub fn parse_baseline(text: &str) -> BTreeSet<String> {
    text.lines().map(|l| l.split('#').next().unwrap_or_default().trim()).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}
