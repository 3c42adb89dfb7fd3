//! The verdict as JUnit XML, for CI systems that render test reports: one suite per device, one
//! test case per client rule. A REQUIRED rule broken is a failure; a SIMULATOR rule broken passes
//! with the advisory in its output (a failure with `--strict`); a rule not judged is skipped.

use std::fmt::Write;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::{Outcome, Report, RuleVerdict};

fn details(r: &RuleVerdict) -> String {
    let mut text = String::new();
    for f in &r.findings {
        let _ = writeln!(text, "{}", f.message);
        for e in &f.evidence {
            let _ = writeln!(text, "  {e}");
        }
    }
    text
}

fn case(r: &RuleVerdict, strict: bool) -> TestCase {
    let first = r.findings.first().map(|f| format!("{}: {}", r.rule, f.message)).unwrap_or_default();
    let status = match r.outcome {
        Outcome::Fail => failure(first, "REQUIRED", r),
        Outcome::Advisory if strict => failure(first, "SIMULATOR", r),
        Outcome::NotJudged => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(format!("not judged: {}", r.reason.as_deref().unwrap_or("")));
            status
        }
        Outcome::Pass | Outcome::Advisory => TestCaseStatus::success(),
    };
    let mut case = TestCase::new(format!("{} {}", r.rule, r.title), status);
    case.add_property(Property::new("rule", r.rule.as_str()));
    case.add_property(Property::new("level", if r.level == super::Level::Required { "REQUIRED" } else { "SIMULATOR" }));
    if r.outcome == Outcome::Advisory && !strict {
        case.set_system_out(format!("advisory (SIMULATOR rule):\n{}", details(r)));
    }
    case
}

fn failure(message: String, kind: &str, r: &RuleVerdict) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status.set_message(message).set_type(kind).set_description(details(r));
    status
}

pub(crate) fn to_junit(report: &Report, strict: bool) -> String {
    let mut out = quick_junit::Report::new("viopay-sim client verdict");
    for device in &report.devices {
        let mut suite = TestSuite::new(device.device_id.as_str());
        suite.add_property(Property::new("requests", device.requests.to_string()));
        suite.add_test_cases(device.rules.iter().map(|r| case(r, strict)));
        out.add_test_suite(suite);
    }
    if report.run.iter().any(|r| r.outcome != Outcome::NotJudged) {
        let mut suite = TestSuite::new("requests naming no device");
        suite.add_test_cases(report.run.iter().map(|r| case(r, strict)));
        out.add_test_suite(suite);
    }
    out.to_string().unwrap_or_else(|e| format!("<!-- cannot write the JUnit report: {e} -->\n"))
}
