//! `run --html`: the rule matrix with every rule's verdict, and under each failing or advised rule
//! its evidence: the scenario, what was expected against what came, the exchange and its curl
//! replay. The same page shell as `diff` and `load` ([`super::html`]).

use maud::{Markup, html};

use super::Report;
use crate::verdict::{RuleVerdict, ScenarioStatus};

fn verdict_class(v: RuleVerdict) -> &'static str {
    match v {
        RuleVerdict::Fail | RuleVerdict::NotRun => "kind-candidate_breaks",
        RuleVerdict::Advisory | RuleVerdict::KnownDeviation => "kind-allowed",
        RuleVerdict::Pass | RuleVerdict::Fixed => "kind-baseline_breaks",
        _ => "muted",
    }
}

/// The findings of one rule across the run's scenarios, with their exchanges.
fn evidence(report: &Report, rule: &str) -> Markup {
    html! {
        @for s in report.scenarios.iter().filter(|s| s.findings.iter().any(|f| f.rule.as_str() == rule)) {
            details {
                summary { (s.feature) " › " (s.name) " (" (s.file) ":" (s.line) ")" }
                @for f in s.findings.iter().filter(|f| f.rule.as_str() == rule) {
                    p { (f.message) }
                    @if let Some(ex) = &f.exchange {
                        pre.got { (ex.excerpt()) }
                        p.muted { "Replay:" }
                        pre.replay { (ex.curl()) }
                    }
                }
            }
        }
    }
}

pub fn to_html(report: &Report) -> String {
    let c = &report.counts;
    let (class, verdict) = if report.exit_code == 0 { ("verdict ok", "CONFORMANT") } else { ("verdict fail", "NOT CONFORMANT") };
    let shown: Vec<_> = report.rules.iter().filter(|r| r.verdict != RuleVerdict::NotSelected).collect();
    let errors: Vec<_> =
        report.scenarios.iter().filter(|s| matches!(s.status, ScenarioStatus::Error(_) | ScenarioStatus::NotRun(_))).collect();
    let body = html! {
        p { span class=(class) { (verdict) } " " (report.target) " (exit " (report.exit_code) ")" }
        table {
            tr { th { "scenarios" } td { (c.scenarios) ": " (c.passed) " passed, " (c.advisory) " with advisories, " (c.failed) " failed, "
                (c.not_applicable) " n/a, " (c.not_run) " not run, " (c.errors) " errors" } }
            tr { th { "requests" } td { (c.requests) " in " (format!("{:.1}", report.duration_ms as f64 / 1000.0)) " s" } }
            tr { th { "mode" } td { @if report.strict { "--strict: SIMULATOR differences fail" } @else { "SIMULATOR differences advise" } } }
            @if !report.fixed.is_empty() { tr { th { "baseline" } td { "fixed, prune from the baseline: " (report.fixed.join(", ")) } } }
        }
        @if !errors.is_empty() {
            h2 { "Scenarios that could not run" }
            @for s in &errors { p { (s.feature) " › " (s.name) ": " (s.status.label()) @match &s.status { ScenarioStatus::Error(why) | ScenarioStatus::NotRun(why) => { " — " (why) } _ => {} } } }
        }
        h2 { "Rules" }
        table.rules {
            tr { th { "rule" } th { "level" } th { "verdict" } th { "statement and evidence" } }
            @for r in &shown {
                tr {
                    td { code { (r.id) } }
                    td { (r.level.as_str()) }
                    td class=(verdict_class(r.verdict)) { (r.verdict.label()) }
                    td {
                        (r.statement)
                        @for n in &r.notes { div.muted { (n) } }
                        @if matches!(r.verdict, RuleVerdict::Fail | RuleVerdict::Advisory | RuleVerdict::KnownDeviation) { (evidence(report, &r.id)) }
                    }
                }
            }
        }
    };
    super::html::page("viopay-check run", &report.target, body)
}
