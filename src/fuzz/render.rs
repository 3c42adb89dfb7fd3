//! The fuzz report: a summary line, and for a failure the numbered shortest sequence with
//! expected and actual responses, the curl commands that replay it, and a Gherkin scenario ready
//! to paste into `features/` as a regression.

use std::fmt::Write;

use super::FuzzReport;
use super::ops::Op;
use crate::target::LABELS;

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
        let _ = writeln!(out, "advisory {} ({}): {}", a.rule, a.level.as_str(), first_line(&a.message));
    }
    if let Some(why) = &r.stopped {
        let _ = writeln!(out, "STOPPED: {why}");
    }
    if let Some(f) = &r.failure {
        let _ = writeln!(out, "\nFAIL {} ({}): {}", f.finding.rule, f.finding.level.as_str(), f.finding.message);
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
    let _ = writeln!(out, "  @regression @{}{tags}", f.finding.rule);
    let _ = writeln!(out, "  Scenario: fuzz seed {} breaks {}", r.seed, f.finding.rule);
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
