//! `fuzz --html` for both APIs: the rules the run judged with their verdicts, the advisories with
//! an example, and for a failure the shortest sequence step by step with every exchange and the
//! curl commands that replay it. The page shell is [`super::html`], as for `run`, `diff`, `load`.

use maud::{Markup, html};

use crate::fuzz::FuzzReport;
use crate::kustom::KustomFuzzReport;

/// One rule's row.
struct Row {
    rule: String,
    verdict: &'static str,
    class: &'static str,
    detail: String,
}

fn rows_table(rows: &[Row]) -> Markup {
    html! {
        table.rules {
            tr { th { "rule" } th { "verdict" } th { "detail" } }
            @for r in rows {
                tr { td { code { (r.rule) } } td class=(r.class) { (r.verdict) } td { (r.detail) } }
            }
        }
    }
}

fn header(target: &str, seed: u64, fails: bool, summary: String) -> Markup {
    let (class, verdict) = if fails { ("verdict fail", "FAIL") } else { ("verdict ok", "PASS") };
    html! {
        p { span class=(class) { (verdict) } " " (target) }
        table {
            tr { th { "run" } td { (summary) } }
            tr { th { "replay" } td { code { "--seed " (seed) } } }
        }
    }
}

pub fn viopay(r: &FuzzReport) -> String {
    let failed = r.failure.as_ref().and_then(|f| f.finding.as_ref()).map(|f| f.rule.to_string());
    let mut rules: std::collections::BTreeSet<String> = r.exercised.iter().cloned().collect();
    rules.extend(failed.iter().cloned());
    rules.extend(r.advisories.iter().map(|a| a.rule.to_string()));
    let mut rows: Vec<Row> = Vec::new();
    for rule in &rules {
        let advisory = r.advisories.iter().find(|a| a.rule.as_str() == rule);
        let row = if failed.as_deref() == Some(rule.as_str()) {
            Row {
                rule: rule.clone(),
                verdict: "FAIL",
                class: "kind-candidate_breaks",
                detail: r.failure.as_ref().map(|f| f.message.clone()).unwrap_or_default(),
            }
        } else if let Some(a) = advisory {
            let verdict = if a.known { "known deviation" } else { "advisory" };
            Row { rule: rule.clone(), verdict, class: "kind-allowed", detail: a.message.clone() }
        } else {
            Row { rule: rule.clone(), verdict: "pass", class: "kind-baseline_breaks", detail: String::new() }
        };
        rows.push(row);
    }
    let summary = format!(
        "{} cases passed, {} operations, {} requests in {:.1} s; {} devices, {} merchants",
        r.cases,
        r.operations,
        r.requests,
        r.duration.as_secs_f64(),
        r.devices,
        r.merchants
    );
    let body = html! {
        (header(&r.target, r.seed, r.exit_code() != 0, summary))
        @if let Some(why) = &r.stopped { p.muted { "Stopped: " (why) } }
        @if let Some(f) = &r.failure {
            h2 { "Shortest failing sequence (" (f.steps.len()) " steps)" }
            p { (f.message) }
            @if let Some(note) = &f.note { p.muted { (note) } }
            ol {
                @for step in &f.steps {
                    li {
                        (step.when.trim_start_matches("When "))
                        @for ex in &step.exchanges { pre.got { (ex.excerpt()) } pre.replay { (ex.curl()) } }
                    }
                }
            }
            @if !f.then.is_empty() { p { "Expected: " (f.then.trim_start_matches("Then ")) } }
            h2 { "As a regression scenario" }
            pre { (crate::fuzz::render_gherkin(r)) }
        }
        h2 { "Rules judged" }
        (rows_table(&rows))
        @for n in &r.notes { p.muted { "Note: " (n) } }
    };
    super::html::page("viopay-check fuzz", "VioPay", body)
}

pub fn kustom(r: &KustomFuzzReport) -> String {
    let mut rows: Vec<Row> = Vec::new();
    if let Some(f) = &r.failure {
        rows.push(Row { rule: f.rule.clone(), verdict: "FAIL", class: "kind-candidate_breaks", detail: f.message.clone() });
    }
    for (rule, (n, example)) in &r.advisories {
        let verdict = if r.baseline.contains(rule) { "known deviation" } else { "advisory" };
        rows.push(Row { rule: rule.clone(), verdict, class: "kind-allowed", detail: format!("×{n}: {example}") });
    }
    let summary = format!("{} cases, {} requests in {:.1} s", r.cases, r.requests, r.duration.as_secs_f64());
    let body = html! {
        (header(&r.target, r.seed, r.exit_code() != 0, summary))
        @if let Some(f) = &r.failure {
            h2 { "Shortest failing sequence" }
            p { (f.rule) ": " (f.message) }
            ol { @for line in &f.transcript { li { code { (line) } } } }
        }
        h2 { "Findings" }
        @if rows.is_empty() { p { "No finding: every answer was the simulator's own or one the rules allow without advice." } }
        @else { (rows_table(&rows)) }
    };
    super::html::page("viopay-check fuzz", "Kustom", body)
}
