//! The fuzz report: a summary line, and for a failure the numbered shortest sequence with
//! expected and actual responses, the curl commands that replay it, and a Gherkin scenario ready
//! to paste into `features/` as a regression.

use std::fmt::Write;

use super::FuzzReport;
use super::ops::Op;
use crate::targets::LABELS;

pub fn report(r: &FuzzReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "viopay-check fuzz: {} — seed {} (reproduce with --seed {}), {} devices, {} merchants",
        r.target, r.seed, r.seed, r.devices, r.merchants
    );
    let _ = writeln!(
        out,
        "{} cases passed, {} operations executed, {} requests in {:.2} s",
        r.cases,
        r.operations,
        r.requests,
        r.duration.as_secs_f64()
    );
    for a in &r.advisories {
        let kind = if a.known { "known deviation" } else { "advisory" };
        let _ = writeln!(out, "{kind} {} ({}): {}", a.rule, a.level.as_str(), first_line(&a.message));
    }
    for n in &r.notes {
        let _ = writeln!(out, "note: {n}");
    }
    if let Some(why) = &r.stopped {
        let _ = writeln!(out, "STOPPED: {why}");
    }
    if let Some(f) = &r.failure {
        match &f.finding {
            Some(finding) => {
                let _ = writeln!(out, "\nFAIL {} ({}): {}", finding.rule, finding.level.as_str(), f.message);
            }
            None => {
                let _ = writeln!(out, "\nERROR: {}", f.message);
            }
        }
        if let Some(note) = &f.note {
            let _ = writeln!(out, "note: {note}");
        }
        let _ = writeln!(out, "\nShortest failing sequence ({} steps):", f.steps.len());
        for (i, step) in f.steps.iter().enumerate() {
            let _ = writeln!(out, "  {:>2}. {}", i + 1, step.when.trim_start_matches("When "));
            for ex in &step.exchanges {
                let _ = writeln!(out, "        {}", ex.excerpt());
            }
        }
        if !f.then.is_empty() {
            let _ = writeln!(out, "      expected: {}", f.then.trim_start_matches("Then "));
        }
        let _ = writeln!(out, "\nReplay (in order):");
        for ex in f.steps.iter().flat_map(|s| &s.exchanges) {
            let _ = writeln!(out, "  {}", ex.curl());
        }
        let _ = writeln!(out, "\nRegression scenario (paste into features/regressions.feature):\n");
        out.push_str(&gherkin(r));
    }
    let verdict = if r.exit_code() == 0 { "PASS" } else { "FAIL" };
    let _ = writeln!(out, "\n{verdict} (exit {})", r.exit_code());
    out
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

/// The failing sequence in the step vocabulary of `features/`.
pub fn gherkin(r: &FuzzReport) -> String {
    let Some(f) = &r.failure else { return String::new() };
    let timed = f.steps.iter().any(|s| matches!(s.op, Op::Advance { .. }));
    let mut out = String::new();
    let tags = if timed { " @clock @slow @serial" } else { "" };
    let rule = f.finding.as_ref().map_or_else(|| "error".to_owned(), |x| x.rule.to_string());
    let tag = f.finding.as_ref().map_or_else(String::new, |x| format!(" @{}", x.rule));
    let _ = writeln!(out, "  @regression{tag}{tags}");
    let _ = writeln!(out, "  Scenario: fuzz seed {} breaks {rule}", r.seed);
    for d in 0..f.devices.len() {
        let keyword = if d == 0 { "Given" } else { "And" };
        let _ = writeln!(
            out,
            "    {keyword} a fresh device \"D{}\" of merchant {}",
            d + 1,
            LABELS.get(d % r.merchants).copied().unwrap_or("A")
        );
    }
    for (i, step) in f.steps.iter().enumerate() {
        let text = if i == 0 { step.when.clone() } else { step.when.replacen("When ", "And ", 1) };
        let _ = writeln!(out, "    {text}");
    }
    if !f.then.is_empty() {
        let _ = writeln!(out, "    {}", f.then);
    }
    out
}
