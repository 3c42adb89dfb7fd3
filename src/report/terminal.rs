//! The terminal view: one line per scenario as it finishes, then the rule matrix and the details
//! of every failure, readable at a glance.

use std::fmt::Write;

use super::Report;
use crate::verdict::{RuleVerdict, ScenarioResult, ScenarioStatus};

pub fn progress_line(r: &ScenarioResult) -> String {
    let mark = match r.status {
        ScenarioStatus::Passed => "  ok  ",
        ScenarioStatus::Advisory => " note ",
        ScenarioStatus::Failed => " FAIL ",
        ScenarioStatus::NotApplicable(_) => " n/a  ",
        ScenarioStatus::NotRun(_) => "NOTRUN",
        ScenarioStatus::Error(_) => "ERROR ",
    };
    let file = r.file.rsplit('/').next().unwrap_or(&r.file);
    format!("[{mark}] {file}:{:<4} {} [{}]", r.line, r.name, r.rules.join(" "))
}

pub fn summary(report: &Report) -> String {
    let mut out = String::new();
    let problems: Vec<&ScenarioResult> = report
        .scenarios
        .iter()
        .filter(|s| {
            matches!(s.status, ScenarioStatus::Failed | ScenarioStatus::Advisory | ScenarioStatus::NotRun(_) | ScenarioStatus::Error(_))
        })
        .collect();
    if !problems.is_empty() {
        let _ = writeln!(out, "\nDetails");
        for s in problems {
            let _ = writeln!(out, "\n  {} {}:{}  {}", s.status.label(), s.file, s.line, s.name);
            match &s.status {
                ScenarioStatus::NotRun(why) | ScenarioStatus::Error(why) => {
                    let _ = writeln!(out, "    {why}");
                }
                _ => {}
            }
            for f in &s.findings {
                let _ = writeln!(out, "    {} ({}): {}", f.rule, f.level.as_str(), f.message);
                if let Some(ex) = &f.exchange {
                    let _ = writeln!(out, "      got:    {}", ex.excerpt());
                    let _ = writeln!(out, "      replay: {}", ex.curl());
                }
            }
            for u in &s.unverified {
                let _ = writeln!(out, "    {} not verified: {}", u.rule, first_line(&u.reason));
            }
        }
    }

    let _ = writeln!(
        out,
        "\nRules ({} checked: REQUIRED fails the run, SIMULATOR is an advisory{})",
        report.rules.len(),
        if report.strict { ", here a failure (--strict)" } else { "" }
    );
    let _ = writeln!(out, "  {:<10} {:<10} {:<22} scenarios", "rule", "level", "verdict");
    let mut rows: Vec<_> = report.rules.iter().collect();
    rows.sort_by_key(|r| r.verdict);
    for r in rows.iter().filter(|r| !matches!(r.verdict, RuleVerdict::Pass | RuleVerdict::NotSelected | RuleVerdict::NoScenario)) {
        let _ = writeln!(out, "  {:<10} {:<10} {:<22} {}", r.id, r.level.as_str(), r.verdict.label(), r.scenarios.len());
        for note in r.notes.iter().take(2) {
            let _ = writeln!(out, "  {:<10} {:<10} {:<22}   {}", "", "", "", first_line(note));
        }
    }
    let notes: std::collections::BTreeSet<&String> = report.scenarios.iter().flat_map(|s| &s.notes).collect();
    for n in notes {
        let _ = writeln!(out, "  note: {n}");
    }
    let passing = report.rules.iter().filter(|r| r.verdict == RuleVerdict::Pass).count();
    let _ = writeln!(out, "  … and {passing} rules pass (the JSON report lists every rule with its scenarios)");
    let tally = |v: RuleVerdict| report.rules.iter().filter(|r| r.verdict == v).count();
    let c = &report.counts;
    let _ = writeln!(
        out,
        "\nRules: {} pass, {} FAIL, {} advisory, {} not verified, {} not run, {} n/a, {} known deviation, {} fixed, {} not selected, {} without a scenario yet",
        tally(RuleVerdict::Pass),
        tally(RuleVerdict::Fail),
        tally(RuleVerdict::Advisory),
        tally(RuleVerdict::NotVerified),
        tally(RuleVerdict::NotRun),
        tally(RuleVerdict::NotApplicable),
        tally(RuleVerdict::KnownDeviation),
        tally(RuleVerdict::Fixed),
        tally(RuleVerdict::NotSelected),
        tally(RuleVerdict::NoScenario),
    );
    let _ = writeln!(
        out,
        "Scenarios: {} passed, {} failed, {} advisory, {} n/a, {} not run, {} errors ({} requests, {:.2} s)",
        c.passed,
        c.failed,
        c.advisory,
        c.not_applicable,
        c.not_run,
        c.errors,
        c.requests,
        report.duration_ms as f64 / 1000.0
    );
    if !report.fixed.is_empty() {
        let _ = writeln!(out, "Fixed since the baseline (remove them from it): {}", report.fixed.join(", "));
    }
    let _ = writeln!(out, "What each rule means: {}", crate::catalogue::RULES_DOC);
    let verdict = if report.exit_code == 0 { "CONFORMANT" } else { "NOT CONFORMANT" };
    let _ = writeln!(out, "{verdict}: {} (exit {})", report.target, report.exit_code);
    out
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}
