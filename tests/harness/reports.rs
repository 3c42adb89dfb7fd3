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

/// `run --html` and `fuzz --html` (both from the report module `diff` and `load` use): against a
/// target whose error codes are numbers (ERR-02), the run page shows the rule failing with the
/// scenario, the exchange and its replay, and the fuzz page the shortest sequence and a
/// regression scenario; both self-contained and read in headless Chromium.
#[test]
fn run_and_fuzz_html_reports_read_in_chromium() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let server = rt.block_on(crate::common::broken_target(crate::common::numeric_error_codes()));
    let spec = viopay_check::TargetSpec::Simulator(server.uri());
    let run = rt.block_on(crate::common::certify(spec.clone(), &crate::common::options(Some("@CLAIM-16 or @ERR-02 or @BOOT-01"))));
    assert_ne!(run.exit_code, 0);
    let fuzz = viopay_check::fuzz::fuzz(
        rt.handle(),
        &spec,
        &viopay_check::fuzz::FuzzOptions { cases: 40, seed: Some(3), ..viopay_check::fuzz::FuzzOptions::default() },
    )
    .expect("fuzz runs");
    assert!(fuzz.failure.is_some(), "{}", fuzz.render());
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/portal");
    std::fs::create_dir_all(&dir).expect("report dir");
    let pages = [("run-report.html", viopay_check::report::to_html(&run)), ("fuzz-report.html", fuzz.to_html())];
    for (name, html) in &pages {
        assert!(!html.contains("<script") && !html.contains(" src=") && !html.contains(" href="), "{name} is self-contained");
        std::fs::write(dir.join(name), html).expect("write the page");
    }
    rt.block_on(async {
        let b = crate::browser::Browser::start(1280, 1000).await;
        b.goto(&format!("file://{}", dir.join("run-report.html").display())).await;
        assert_eq!(b.text(".verdict").await, "NOT CONFORMANT");
        let table = b.text("table.rules").await;
        assert!(table.contains("ERR-02") && table.contains("FAIL"), "{table}");
        b.click("table.rules details summary").await;
        assert!(b.text("table.rules details pre.replay").await.starts_with("curl -i -X "));
        let png = b.client.screenshot().await.expect("screenshot");
        std::fs::write(dir.join("run-report.png"), &png).expect("write screenshot");
        b.goto(&format!("file://{}", dir.join("fuzz-report.html").display())).await;
        assert_eq!(b.text(".verdict").await, "FAIL");
        assert!(b.text("ol li").await.len() > 5, "the shortest sequence, step by step");
        assert!(b.text("table.rules").await.contains("ERR-02"));
        b.close().await;
    });
}
