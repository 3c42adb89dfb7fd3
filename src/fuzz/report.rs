//! The fuzz run's JUnit and JSON reports, in the same terms as `run`'s, so a CI gate can use
//! either command the same way: one JUnit test case per rule the run judged; a failure carries the
//! shortest sequence, the curl commands that replay it and the Gherkin regression scenario.

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};
use serde_json::{Value, json};

use super::FuzzReport;
use crate::catalogue::RULES_DOC;

/// The failure's story: steps with their exchanges, replay commands and the regression scenario.
fn failure_text(r: &FuzzReport) -> String {
    let Some(f) = &r.failure else { return String::new() };
    let mut text = String::from("Shortest failing sequence:\n");
    for (i, step) in f.steps.iter().enumerate() {
        text.push_str(&format!("  {:>2}. {}\n", i + 1, step.when.trim_start_matches("When ")));
        for ex in &step.exchanges {
            text.push_str(&format!("        {}\n", ex.excerpt()));
        }
    }
    if !f.then.is_empty() {
        text.push_str(&format!("      expected: {}\n", f.then.trim_start_matches("Then ")));
    }
    text.push_str("\nReplay (in order):\n");
    for ex in f.steps.iter().flat_map(|s| &s.exchanges) {
        text.push_str(&format!("  {}\n", ex.curl()));
    }
    text.push_str("\nRegression scenario:\n\n");
    text.push_str(&super::render_gherkin(r));
    text
}

pub fn to_junit(r: &FuzzReport) -> String {
    let mut suite = TestSuite::new(format!("viopay-check fuzz (seed {})", r.seed));
    suite.set_time(r.duration);
    suite.add_property(Property::new("seed", r.seed.to_string()));
    suite.add_property(Property::new("cases", r.cases.to_string()));
    suite.add_property(Property::new("rules_doc", RULES_DOC));
    let failed = r.failure.as_ref().and_then(|f| f.finding.as_ref()).map(|f| f.rule.to_string());
    let mut rules: Vec<String> = r.exercised.clone();
    if let Some(rule) = &failed
        && !rules.contains(rule)
    {
        rules.push(rule.clone());
    }
    for rule in rules {
        let status = if failed.as_deref() == Some(rule.as_str()) {
            let f = r.failure.as_ref();
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(f.map(|f| format!("{rule}: {}", f.message)).unwrap_or_default());
            status.set_type(f.and_then(|f| f.finding.as_ref()).map_or("", |x| x.level.as_str()));
            status.set_description(failure_text(r));
            status
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new(rule.as_str(), status);
        case.set_classname("fuzz");
        if let Some(a) = r.advisories.iter().find(|a| a.rule.as_str() == rule) {
            case.set_system_out(format!("advisory ({}): {}", a.level.as_str(), a.message));
        }
        suite.add_test_case(case);
    }
    let problem = match (&r.stopped, &r.failure) {
        (Some(why), _) => Some(why.clone()),
        (None, Some(f)) if f.finding.is_none() => Some(f.message.clone()),
        _ => None,
    };
    if let Some(why) = problem {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(why).set_type("error").set_description(failure_text(r));
        let mut case = TestCase::new("the fuzz run", status);
        case.set_classname("fuzz");
        suite.add_test_case(case);
    }
    if !r.notes.is_empty() {
        suite.set_system_out(r.notes.join("\n"));
    }
    let mut out = quick_junit::Report::new("viopay-check fuzz");
    out.set_time(r.duration);
    out.add_test_suite(suite);
    out.to_string().unwrap_or_else(|e| format!("<!-- cannot write the JUnit report: {e} -->\n"))
}

pub fn to_json(r: &FuzzReport) -> Value {
    let failure = r.failure.as_ref().map(|f| {
        json!({
            "rule": f.finding.as_ref().map(|x| x.rule.to_string()),
            "level": f.finding.as_ref().map(|x| x.level.as_str()),
            "message": f.message,
            "expected": f.then,
            "note": f.note,
            "steps": f.steps.iter().map(|s| json!({ "when": s.when, "exchanges": s.exchanges })).collect::<Vec<_>>(),
            "curl": f.steps.iter().flat_map(|s| &s.exchanges).map(|e| e.curl()).collect::<Vec<_>>(),
            "gherkin": super::render_gherkin(r),
        })
    });
    json!({
        "target": r.target,
        "seed": r.seed,
        "cases": r.cases,
        "operations": r.operations,
        "requests": r.requests,
        "duration_ms": u64::try_from(r.duration.as_millis()).unwrap_or(u64::MAX),
        "devices": r.devices,
        "merchants": r.merchants,
        "exit_code": r.exit_code(),
        "rules_doc": RULES_DOC,
        "rules_exercised": r.exercised,
        "advisories": r.advisories.iter().map(|a| json!({ "rule": a.rule, "level": a.level, "message": a.message, "known": a.known })).collect::<Vec<_>>(),
        "notes": r.notes,
        "stopped": r.stopped,
        "failure": failure,
    })
}
