//! JUnit XML (through `quick-junit`, the writer cargo-nextest uses): a test suite per feature, a
//! test case per scenario, rule IDs in the case name and as properties, so that GitHub and GitLab
//! show which rule broke.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::Report;
use crate::catalogue::RULES_DOC;
use crate::verdict::{ScenarioResult, ScenarioStatus};

fn details(s: &ScenarioResult) -> String {
    let mut text = String::new();
    for f in &s.findings {
        let _ = writeln!(text, "{} ({}): {}", f.rule, f.level.as_str(), f.message);
        if let Some(ex) = &f.exchange {
            let _ = writeln!(text, "  got:    {}", ex.excerpt());
            let _ = writeln!(text, "  replay: {}", ex.curl());
        }
    }
    for u in &s.unverified {
        let _ = writeln!(text, "{} not verified: {}", u.rule, u.reason);
    }
    for n in &s.notes {
        let _ = writeln!(text, "note: {n}");
    }
    text
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

fn case(s: &ScenarioResult, strict: bool) -> TestCase {
    let status = match &s.status {
        ScenarioStatus::Failed => {
            let first = s.findings.iter().find(|f| f.is_failure(strict)).or(s.findings.first());
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(first.map(|f| format!("{}: {}", f.rule, f.message)).unwrap_or_else(|| "failed".into()));
            status.set_type(first.map_or("", |f| f.level.as_str()));
            status.set_description(details(s));
            status
        }
        ScenarioStatus::Error(why) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(why.as_str()).set_type("error").set_description(details(s));
            status
        }
        ScenarioStatus::NotRun(why) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(format!("not run: {why}")).set_type("not-run");
            status
        }
        ScenarioStatus::NotApplicable(why) => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(format!("not applicable on this target: {why}"));
            status
        }
        ScenarioStatus::Passed | ScenarioStatus::Advisory => TestCaseStatus::success(),
    };
    let mut case = TestCase::new(format!("{} [{}]", s.name, s.rules.join(" ")), status);
    case.set_classname(s.feature.as_str()).set_time(ms(s.duration_ms));
    case.extra.insert("file".into(), s.file.as_str().into());
    case.extra.insert("line".into(), s.line.to_string().into());
    case.add_property(Property::new("rules", s.rules.join(",")));
    case.add_property(Property::new("verdict", s.status.label()));
    let broken: Vec<&str> = s.findings.iter().map(|f| f.rule.as_str()).collect();
    if !broken.is_empty() {
        case.add_property(Property::new("broken_rules", broken.join(",")));
    }
    let text = details(s);
    if matches!(s.status, ScenarioStatus::Advisory | ScenarioStatus::Passed) && !text.is_empty() {
        case.set_system_out(format!("advisory (SIMULATOR rules) and notes:\n{text}"));
    }
    case
}

pub fn to_junit(report: &Report) -> String {
    let mut suites: BTreeMap<&str, Vec<&ScenarioResult>> = BTreeMap::new();
    for s in &report.scenarios {
        suites.entry(s.feature.as_str()).or_default().push(s);
    }
    let mut out = quick_junit::Report::new("viopay-check");
    out.set_time(ms(report.duration_ms));
    for (feature, scenarios) in suites {
        let mut suite = TestSuite::new(feature);
        suite.set_time(ms(scenarios.iter().map(|s| s.duration_ms).sum()));
        suite.add_property(Property::new("rules_doc", RULES_DOC));
        suite.add_test_cases(scenarios.into_iter().map(|s| case(s, report.strict)));
        out.add_test_suite(suite);
    }
    out.to_string().unwrap_or_else(|e| format!("<!-- cannot write the JUnit report: {e} -->\n"))
}
