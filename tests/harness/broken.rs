//! The harness against deliberately broken targets: each must fail, for the rule it breaks.

use serde_json::json;
use viopay_check::TargetSpec;

use crate::common::*;

async fn run_against(breakage: Breakage) -> viopay_check::Report {
    let server = broken_target(breakage).await;
    certify(TargetSpec::Simulator(server.uri()), &options(None)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_that_breaks_the_schema_fails_pair_02() {
    let report = run_against(string_ttl()).await;
    assert_eq!(report.exit_code, 1);
    assert!(failing_rules(&report).contains(&"PAIR-02".to_owned()), "{:?}", failing_rules(&report));
    let finding = report.scenarios.iter().flat_map(|s| &s.findings).find(|f| f.rule == "PAIR-02").expect("a PAIR-02 finding");
    assert!(finding.message.contains("/expires_in_sec"), "the JSON pointer is named: {}", finding.message);
    assert!(finding.exchange.as_ref().is_some_and(|e| e.response_body.contains("\"300\"")), "the response excerpt is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numeric_error_codes_fail_err_02() {
    let report = run_against(numeric_error_codes()).await;
    assert_eq!(report.exit_code, 1);
    assert!(failing_rules(&report).contains(&"ERR-02".to_owned()), "{:?}", failing_rules(&report));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_a_claim_of_another_merchants_device_fails_claim_16() {
    let report = run_against(Breakage::after(|req, res| {
        let v = res.json();
        if req.path == "/pos/claim" && res.status == 403 && v["error"]["code"] == "4003" {
            res.status = 200;
            res.set_json(&json!({ "status": "claimed", "device_id": v["error"]["details"]["device_id"] }));
        }
    }))
    .await;
    assert_eq!(report.exit_code, 1);
    assert!(failing_rules(&report).contains(&"CLAIM-16".to_owned()), "{:?}", failing_rules(&report));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulator_rule_difference_is_an_advisory_unless_strict() {
    // Another wording for HDR-04's message: SIMULATOR level.
    let breakage = Breakage::after(|_, res| {
        let mut v = res.json();
        if v["error"]["message"] == "X-Device-Id header is invalid" {
            v["error"]["message"] = json!("invalid device id");
            res.set_json(&v);
        }
    });
    let server = broken_target(breakage).await;
    let report = certify(TargetSpec::Simulator(server.uri()), &options(None)).await;
    assert_eq!(report.exit_code, 0, "advisories do not fail the run");
    assert!(report.counts.advisory > 0);
    let hdr04 = report.rules.iter().find(|r| r.id == "HDR-04").map(|r| r.verdict);
    assert_eq!(hdr04, Some(viopay_check::verdict::RuleVerdict::Advisory));

    let mut strict = options(None);
    strict.strict = true;
    let report = certify(TargetSpec::Simulator(server.uri()), &strict).await;
    assert_eq!(report.exit_code, 1);
    assert!(failing_rules(&report).contains(&"HDR-04".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baselined_deviation_does_not_fail_and_a_fixed_one_is_reported() {
    let server = broken_target(string_ttl()).await;
    let mut opts = options(None);
    opts.baseline = viopay_check::report::parse_baseline("# known\nPAIR-02\nLIVE-02  # fixed since\n");
    let report = certify(TargetSpec::Simulator(server.uri()), &opts).await;
    let verdict = |id: &str| report.rules.iter().find(|r| r.id == id).map(|r| r.verdict);
    assert_eq!(verdict("PAIR-02"), Some(viopay_check::verdict::RuleVerdict::KnownDeviation));
    assert_eq!(verdict("LIVE-02"), Some(viopay_check::verdict::RuleVerdict::Fixed));
    assert_eq!(report.fixed, vec!["LIVE-02".to_owned()]);
    assert_eq!(report.exit_code, 0, "{:?}", failing_rules(&report));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_does_not_check_x_client_type_fails_hdr_09() {
    let report = run_against(Breakage::before(|req| {
        if req.path.starts_with("/pos/") {
            req.headers.insert("x-client-type", axum::http::HeaderValue::from_static("pos"));
        }
    }))
    .await;
    assert_eq!(report.exit_code, 1);
    assert!(failing_rules(&report).contains(&"HDR-09".to_owned()), "{:?}", failing_rules(&report));
}
