//! `viopay-check diff`: two copies of the simulator show no difference (with and without a
//! second baseline); each conformant variant shows exactly the differences it makes, each tied to
//! the rule it flips and nothing else; a broken candidate shows its REQUIRED break as such; the
//! same for Kustom with two of its variants.

use std::collections::BTreeSet;

use serde_json::json;
use viopay_check::TargetSpec;
use viopay_check::catalogue::Api;
use viopay_check::diff::{DiffOptions, DiffReport, DiffTargets, Kind, diff};

use crate::common::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

fn options(api: Api, cases: u32) -> DiffOptions {
    let mut check = crate::common::options(None);
    if api == Api::Kustom {
        check.features = viopay_check::features::kustom();
    }
    DiffOptions { api, check, cases, seed: 11, ..DiffOptions::default() }
}

/// A simulator against the simulator behind `breakage`, each spawned for the test.
fn against(api: Api, breakage: Breakage, cases: u32, baseline2: bool) -> DiffReport {
    // The baseline goes through the same proxy, so that only the breakage differs.
    let rt = runtime();
    let baseline = rt.block_on(broken_target(Breakage::default()));
    let second = baseline2.then(|| rt.block_on(broken_target(Breakage::default())));
    let candidate = rt.block_on(broken_target(breakage));
    let targets = DiffTargets {
        baseline: TargetSpec::Simulator(baseline.uri()),
        candidate: TargetSpec::Simulator(candidate.uri()),
        baseline2: second.as_ref().map(|s| TargetSpec::Simulator(s.uri())),
    };
    diff(rt.handle(), &targets, &options(api, cases)).expect("the diff runs")
}

/// Two (or three) simulators, nothing between them and the harness.
fn simulators(api: Api, cases: u32, baseline2: bool) -> DiffReport {
    let rt = runtime();
    let baseline = rt.block_on(spawn_sim(sim_config()));
    let second = baseline2.then(|| rt.block_on(spawn_sim(sim_config())));
    let candidate = rt.block_on(spawn_sim(sim_config()));
    let targets = DiffTargets {
        baseline: TargetSpec::Simulator(baseline.base_url.clone()),
        candidate: TargetSpec::Simulator(candidate.base_url.clone()),
        baseline2: second.as_ref().map(|s| TargetSpec::Simulator(s.base_url.clone())),
    };
    diff(rt.handle(), &targets, &options(api, cases)).expect("the diff runs")
}

fn rules(report: &DiffReport) -> BTreeSet<String> {
    report.rules()
}

#[track_caller]
fn differs_only_on(report: &DiffReport, expected: &[&str]) {
    let expected: BTreeSet<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(rules(report), expected, "the differences are tied to other rules than the variant flips:\n{}", report.render());
    assert!(report.groups.iter().all(|g| g.kind == Kind::Allowed), "a conformant variant broke a rule:\n{}", report.render());
    assert_eq!(report.exit_code(), 1, "differences fail the diff");
}

#[test]
fn two_copies_of_the_simulator_do_not_differ() {
    let report = simulators(Api::Viopay, 120, false);
    assert!(report.groups.is_empty(), "{}", report.render());
    assert_eq!(report.exit_code(), 0);
    assert!(report.scenarios > 150 && report.exchanges > 2000, "the suite and the sequences ran: {}", report.render());
}

#[test]
fn two_copies_of_the_simulator_do_not_differ_with_a_second_baseline() {
    let report = simulators(Api::Viopay, 60, true);
    assert!(report.groups.is_empty(), "{}", report.render());
    assert_eq!(report.noise_exchanges, 0, "two simulators make no noise: {:?}", report.noise);
    assert_eq!(report.exit_code(), 0);
}

/// Noise is learned: a field that varies by itself on every deployment is left out once a second
/// baseline shows it varying, and reported without one.
#[test]
fn a_field_that_varies_by_itself_is_noise_once_a_second_baseline_shows_it() {
    fn jitter() -> Breakage {
        Breakage::after(|req, res| {
            if req.path == "/pos/status" && res.status == 200 {
                let mut v = res.json();
                v["served_by"] = json!(format!("node-{}", rand::random::<u32>()));
                res.set_json(&v);
            }
        })
    }
    let rt = runtime();
    let a = rt.block_on(broken_target(jitter()));
    let a2 = rt.block_on(broken_target(jitter()));
    let b = rt.block_on(broken_target(jitter()));
    let mut targets = DiffTargets { baseline: TargetSpec::Simulator(a.uri()), candidate: TargetSpec::Simulator(b.uri()), baseline2: None };
    let opts = DiffOptions { scenarios: false, ..options(Api::Viopay, 40) };
    let without = diff(rt.handle(), &targets, &opts).expect("the diff runs");
    assert!(without.groups.iter().any(|g| g.fields.iter().any(|(f, _, _)| f == "body.served_by")), "{}", without.render());
    targets.baseline2 = Some(TargetSpec::Simulator(a2.uri()));
    let with = diff(rt.handle(), &targets, &opts).expect("the diff runs");
    assert!(with.groups.is_empty(), "{}", with.render());
    assert!(with.noise.iter().any(|k| k == "GET /pos/status body.served_by"), "{:?}", with.noise);
    assert!(with.suppressed > 0);
    let ignored =
        diff(rt.handle(), &DiffTargets { baseline2: None, ..targets }, &DiffOptions { ignore: vec!["body.served_by".into()], ..opts })
            .expect("the diff runs");
    assert!(ignored.groups.is_empty(), "--ignore leaves the field out: {}", ignored.render());
}

#[test]
fn no_trace_id_header_differs_on_err_08_only() {
    let report = against(
        Api::Viopay,
        Breakage::after(|_, res| {
            res.headers.remove("x-trace-id");
        }),
        40,
        false,
    );
    differs_only_on(&report, &["ERR-08"]);
}

#[test]
fn not_found_instead_of_method_not_allowed_differs_on_err_10_only() {
    let report = against(
        Api::Viopay,
        Breakage::after(|_, res| {
            if res.status == 405 {
                set_error(res, 404, "4004", "Route not found");
            }
        }),
        40,
        false,
    );
    differs_only_on(&report, &["ERR-10"]);
}

#[test]
fn bad_request_instead_of_payload_too_large_differs_on_err_11_only() {
    let report = against(
        Api::Viopay,
        Breakage::after(|_, res| {
            if res.status == 413 {
                set_error(res, 400, "4000", "Invalid request body");
            }
        }),
        40,
        false,
    );
    differs_only_on(&report, &["ERR-11"]);
}

#[test]
fn replaced_codes_forgotten_differs_on_code_06_only() {
    let report = against(Api::Viopay, crate::variants::replaced_codes_breakage(), 80, false);
    differs_only_on(&report, &["CODE-06"]);
}

#[test]
fn any_content_type_accepted_differs_on_claim_24_only() {
    let report = against(Api::Viopay, crate::variants::any_content_type_breakage(), 40, false);
    differs_only_on(&report, &["CLAIM-24"]);
}

#[test]
fn superseded_codes_answered_4220_differ_on_the_rule_that_allows_it() {
    let report = against(Api::Viopay, crate::variants::superseded_4220_breakage(), 80, false);
    differs_only_on(&report, &["PAIR-05"]);
}

/// Every message in other words: each difference on the SIMULATOR rule that fixes that message,
/// exactly the rules `run` advises on for this variant.
#[test]
fn other_words_for_every_message_differ_on_the_message_rules_only() {
    let report = against(Api::Viopay, crate::variants::reworded_breakage(), 40, false);
    differs_only_on(&report, crate::variants::REWORDED_RULES);
    // A difference of its own is the message alone; what follows from one (the harness's model on
    // another branch of a fuzz case) may differ in more.
    let own = report.groups.iter().flat_map(|g| &g.examples).filter(|e| e.follows.is_none());
    assert!(own.flat_map(|e| &e.changes).all(|c| c.field == "body.error.message"), "{}", report.render());
}

/// An intended change is accepted: exit 0, and the group is still reported.
#[test]
fn an_accepted_rule_passes_the_gate_and_stays_in_the_report() {
    let rt = runtime();
    let baseline = rt.block_on(broken_target(Breakage::default()));
    let candidate = rt.block_on(broken_target(Breakage::after(|_, res| {
        if res.status == 405 {
            set_error(res, 404, "4004", "Route not found");
        }
    })));
    let targets =
        DiffTargets { baseline: TargetSpec::Simulator(baseline.uri()), candidate: TargetSpec::Simulator(candidate.uri()), baseline2: None };
    let opts = DiffOptions { accept: ["ERR-10".to_owned()].into(), cases: 0, ..options(Api::Viopay, 0) };
    let report = diff(rt.handle(), &targets, &opts).expect("the diff runs");
    assert_eq!(report.exit_code(), 0, "{}", report.render());
    assert!(report.groups.iter().all(|g| g.accepted) && !report.groups.is_empty());
    let junit = report.to_junit();
    assert!(junit.contains("ERR-10") && !junit.contains("<failure"), "{junit}");
    let html = report.to_html();
    assert!(html.contains("ERR-10") && html.contains("only accepted differences"));
}

/// A candidate whose status answers lose `is_claimed` breaks a REQUIRED rule: shown as the
/// candidate's break, not as an allowed change.
#[test]
fn a_broken_candidate_shows_its_required_break_as_such() {
    let report = against(
        Api::Viopay,
        Breakage::after(|req, res| {
            if req.path == "/pos/status" && res.status == 200 {
                let mut v = res.json();
                if let Some(o) = v.as_object_mut() {
                    o.remove("is_claimed");
                }
                res.set_json(&v);
            }
        }),
        20,
        false,
    );
    let breaks: Vec<_> = report.groups.iter().filter(|g| g.kind == Kind::CandidateBreaks).collect();
    assert!(!breaks.is_empty(), "{}", report.render());
    assert!(breaks.iter().all(|g| g.endpoint == "GET /pos/status" && g.rules == ["STAT-02"]), "{}", report.render());
    assert!(report.groups.iter().all(|g| g.kind == Kind::CandidateBreaks), "{}", report.render());
    assert!(report.render().contains("BREAKS  GET /pos/status"), "{}", report.render());
    assert_eq!(report.exit_code(), 1);
}

#[test]
fn kustom_two_copies_of_the_simulator_do_not_differ() {
    let report = simulators(Api::Kustom, 100, true);
    assert!(report.groups.is_empty(), "{}", report.render());
    assert!(report.scenarios > 40, "{}", report.render());
}

/// KEN-37 and KDEV-24 (UNKNOWN): the real cancel and deregister statuses are open; KEN-36 and
/// KDEV-21 (SIMULATOR) are the simulator's choice of 204 that the variant leaves.
#[test]
fn kustom_other_statuses_where_open_differ_on_those_rules_only() {
    let report = against(
        Api::Kustom,
        Breakage::after(|req, res| {
            let delete = req.method.as_str() == "DELETE" && req.path.starts_with("/ipp/v1/");
            if delete && res.status == 204 {
                res.status = 200;
                res.set_json(&json!({"done": true}));
            }
        }),
        100,
        false,
    );
    differs_only_on(&report, &["KDEV-21", "KDEV-24", "KEN-36", "KEN-37"]);
}

/// KEN-11 (SIMULATOR): nine-character codes instead of eight; the code's length is compared.
#[test]
fn kustom_nine_character_codes_differ_on_ken_11_only() {
    let report = against(Api::Kustom, crate::kustom::nine_character_codes(), 60, false);
    differs_only_on(&report, &["KEN-11"]);
}

/// The HTML report in headless Chromium: one self-contained page (nothing fetched, no script),
/// the groups in a table, examples that open, and every value escaped: an error message with
/// markup in it shows as text.
#[test]
fn the_html_report_reads_in_chromium_with_every_value_escaped() {
    let rt = runtime();
    let baseline = rt.block_on(broken_target(Breakage::default()));
    let candidate = rt.block_on(broken_target(Breakage::after(|_, res| {
        if res.status == 405 {
            set_error(res, 404, "4004", "<b id=\"injected\">Route</b> not found");
        }
    })));
    let targets =
        DiffTargets { baseline: TargetSpec::Simulator(baseline.uri()), candidate: TargetSpec::Simulator(candidate.uri()), baseline2: None };
    let report = diff(rt.handle(), &targets, &DiffOptions { cases: 0, ..options(Api::Viopay, 0) }).expect("the diff runs");
    let html = report.to_html();
    assert!(!html.contains("<script") && !html.contains(" src=") && !html.contains(" href="), "self-contained: nothing to fetch");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/portal");
    std::fs::create_dir_all(&dir).expect("report dir");
    let page = dir.join("diff-report.html");
    std::fs::write(&page, &html).expect("write the report");
    rt.block_on(async {
        let b = crate::browser::Browser::start(1280, 900).await;
        b.goto(&format!("file://{}", page.display())).await;
        let groups = report.groups.len();
        assert_eq!(b.text(".verdict").await, format!("{groups} difference group(s) beyond --accept"));
        let row = b.text("table:nth-of-type(2) tr:nth-child(2)").await;
        assert!(row.contains("ERR-10") && row.contains("SIMULATOR") && row.contains("both answers allowed"), "{row}");
        assert!(b.attr("#injected", "id").await.is_none(), "markup in a value is never markup on the page");
        let png = b.client.screenshot().await.expect("screenshot");
        std::fs::write(dir.join("diff-report.png"), &png).expect("write screenshot");
        b.click("details summary").await;
        let example = b.text("details pre.candidate").await;
        assert!(example.contains(r#""message":"<b id=\"injected\">Route</b> not found""#), "the message reads as sent: {example}");
        b.close().await;
    });
}

fn set_error(res: &mut ProxyResponse, status: u16, code: &str, message: &str) {
    res.status = status;
    let trace = res.json()["error"]["trace_id"].clone();
    res.set_json(&json!({ "error": { "code": code, "message": message, "trace_id": trace } }));
}
