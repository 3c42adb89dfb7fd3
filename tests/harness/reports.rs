//! The shapes of the JUnit and JSON reports (insta snapshots in `snapshots/`), from a small
//! deterministic selection against a target with numeric error codes: one passing scenario, one
//! failing, one not applicable.

use regex::Regex;
use viopay_check::TargetSpec;

use crate::common::*;

/// Replaces what changes from run to run: dates, ports, times, trace ids, tokens, generated ids.
fn normalise(text: &str) -> String {
    let rules: [(&str, &str); 9] = [
        (r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT", "DATE"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (r#"time="[0-9.]+""#, r#"time="T""#),
        (r#""duration_ms": \d+"#, r#""duration_ms": 0"#),
        (r"[0-9a-f]{32}", "TRACE_ID"),
        (r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", "JWT"),
        (r"POS-[0-9A-F]{8}", "POS-XXXXXXXX"),
        (r#""elapsed_ms": \d+"#, r#""elapsed_ms": 0"#),
        (r"viopay-check merchant ([AB])-[0-9a-f]{4}|viopaycheck-merchant-([ab])-[0-9a-f]{4}", "CLIENT_ID"),
    ];
    rules.iter().fold(text.to_owned(), |acc, (pattern, with)| Regex::new(pattern).expect("regex").replace_all(&acc, *with).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_and_json_reports_have_the_documented_shape() {
    let server = broken_target(numeric_error_codes()).await;
    let mut opts = options(Some("@LIVE-01 or @STAT-12"));
    opts.run.concurrency = Some(1);
    let report = certify(TargetSpec::Simulator(server.uri()), &opts).await;
    assert_eq!(report.exit_code, 1);

    let junit = normalise(&viopay_check::report::to_junit(&report));
    let json = normalise(&serde_json::to_string_pretty(&viopay_check::report::to_json(&report)).expect("json"));
    insta::with_settings!({
        snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("report_junit", junit);
        insta::assert_snapshot!("report_json", json);
    });
}
