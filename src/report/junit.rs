//! JUnit XML: a test suite per feature, a test case per scenario, rule IDs in the case name and as
//! properties, so that GitHub and GitLab show which rule broke. Written by hand: the shape is a
//! handful of elements and needs only attribute and text escaping.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::Report;
use crate::verdict::{ScenarioResult, ScenarioStatus};

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn details(s: &ScenarioResult) -> String {
    let mut text = String::new();
    for f in &s.findings {
        let _ = writeln!(text, "{} ({}): {}", f.rule, f.level.as_str(), f.message);
        if let Some(ex) = &f.exchange {
            let _ = writeln!(text, "  got:    {}", ex.excerpt());
            let _ = writeln!(text, "  replay: {}", ex.curl());
        }
    }
    text
}

pub fn to_junit(report: &Report) -> String {
    let mut suites: BTreeMap<&str, Vec<&ScenarioResult>> = BTreeMap::new();
    for s in &report.scenarios {
        suites.entry(s.feature.as_str()).or_default().push(s);
    }
    let c = &report.counts;
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"viopay-check\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
        c.scenarios,
        c.failed,
        c.errors + c.not_run,
        c.not_applicable,
        report.duration_ms as f64 / 1000.0
    );
    for (feature, cases) in suites {
        let count = |f: fn(&ScenarioStatus) -> bool| cases.iter().filter(|s| f(&s.status)).count();
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
            esc(feature),
            cases.len(),
            count(|s| matches!(s, ScenarioStatus::Failed)),
            count(|s| matches!(s, ScenarioStatus::Error(_) | ScenarioStatus::NotRun(_))),
            count(|s| matches!(s, ScenarioStatus::NotApplicable(_))),
            cases.iter().map(|s| s.duration_ms).sum::<u64>() as f64 / 1000.0
        );
        for s in cases {
            let name = format!("{} [{}]", s.name, s.rules.join(" "));
            let _ = writeln!(
                x,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\" time=\"{:.3}\">",
                esc(&name),
                esc(feature),
                esc(&s.file),
                s.line,
                s.duration_ms as f64 / 1000.0
            );
            let _ = writeln!(x, "      <properties>");
            let _ = writeln!(x, "        <property name=\"rules\" value=\"{}\"/>", esc(&s.rules.join(",")));
            let _ = writeln!(x, "        <property name=\"verdict\" value=\"{}\"/>", s.status.label());
            let broken: Vec<&str> = s.findings.iter().map(|f| f.rule.as_str()).collect();
            if !broken.is_empty() {
                let _ = writeln!(x, "        <property name=\"broken_rules\" value=\"{}\"/>", esc(&broken.join(",")));
            }
            let _ = writeln!(x, "      </properties>");
            match &s.status {
                ScenarioStatus::Failed => {
                    let first = s.findings.iter().find(|f| f.is_failure(report.strict)).or(s.findings.first());
                    let message = first.map(|f| format!("{}: {}", f.rule, f.message)).unwrap_or_else(|| "failed".into());
                    let _ = writeln!(
                        x,
                        "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                        esc(&message),
                        esc(first.map_or("", |f| f.level.as_str())),
                        esc(&details(s))
                    );
                }
                ScenarioStatus::Error(why) => {
                    let _ = writeln!(x, "      <error message=\"{}\" type=\"error\">{}</error>", esc(why), esc(&details(s)));
                }
                ScenarioStatus::NotRun(why) => {
                    let _ = writeln!(x, "      <error message=\"not run: {}\" type=\"not-run\"/>", esc(why));
                }
                ScenarioStatus::NotApplicable(why) => {
                    let _ = writeln!(x, "      <skipped message=\"not applicable on this target: {}\"/>", esc(why));
                }
                ScenarioStatus::Advisory => {
                    let _ = writeln!(x, "      <system-out>{}</system-out>", esc(&format!("advisory (SIMULATOR rules):\n{}", details(s))));
                }
                ScenarioStatus::Passed => {}
            }
            let _ = writeln!(x, "    </testcase>");
        }
        let _ = writeln!(x, "  </testsuite>");
    }
    x.push_str("</testsuites>\n");
    x
}
