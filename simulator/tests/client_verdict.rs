//! The client-conformance verdict (§5.8) on scripted firmware over real HTTP. The well-behaved
//! firmware passes every CLI rule (pacing on the system clock, expiry on the virtual one); each
//! slip is flagged on exactly the rule it breaks, with evidence, and nothing else. The
//! `viopay-sim verdict` command gates on it and writes JUnit with one test case per rule.

mod firmware;

use std::collections::BTreeSet;
use std::process::Command;

use firmware::{Firmware, Slip};
use serde_json::{Value, json};
use viopay_sim::{ClockMode, Fixtures, RunningSimulator, SimConfig};

const DEVICE: &str = "POS-8F3A2C91";

async fn simulator(clock: ClockMode) -> RunningSimulator {
    let mut c = SimConfig::new(Fixtures::builtin().expect("fixtures"));
    c.seed = Some(21);
    if clock == ClockMode::Virtual {
        c = c.with_virtual_clock(time::macros::datetime!(2025-12-13 14:25:30 UTC));
    }
    viopay_sim::spawn(c, "127.0.0.1:0".parse().expect("addr")).await.expect("simulator")
}

async fn post(sim: &RunningSimulator, path: &str, body: Value) {
    let r = reqwest::Client::new().post(format!("{}{path}", sim.base_url)).json(&body).send().await.expect("control");
    assert!(r.status().is_success(), "{path}: {}", r.status());
}

async fn verdict(sim: &RunningSimulator) -> Value {
    let r = reqwest::get(format!("{}/_sim/devices/{DEVICE}/verdict", sim.base_url)).await.expect("verdict");
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

/// `(flagged, not judged)`: the rules with findings, and those the journal could not decide.
fn outcomes(v: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let rules = v["devices"][0]["rules"].as_array().cloned().unwrap_or_default();
    let pick = |want: &[&str]| {
        rules
            .iter()
            .filter(|r| want.contains(&r["outcome"].as_str().unwrap_or("")))
            .map(|r| r["rule"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    (pick(&["fail", "advisory"]), pick(&["not-judged"]))
}

fn set(rules: &[&str]) -> BTreeSet<String> {
    rules.iter().map(|r| (*r).to_owned()).collect()
}

/// A virtual-clock run: pairing with one expiry, a claim by the merchant, steps 5–8.
async fn virtual_run(slips: &[Slip]) -> Value {
    let sim = simulator(ClockMode::Virtual).await;
    let mut fw = Firmware::new(&sim.base_url, DEVICE, slips).await;
    fw.pair(true).await;
    fw.activate().await;
    verdict(&sim).await
}

#[tokio::test]
async fn a_well_behaved_firmware_passes_every_rule_the_virtual_clock_can_judge() {
    let v = virtual_run(&[]).await;
    let (flagged, not_judged) = outcomes(&v);
    assert!(flagged.is_empty(), "{flagged:?}\n{v:#}");
    assert_eq!(not_judged, set(&["CLI-05", "CLI-17"]), "only pacing, which needs the system clock");
    assert_eq!((v["passed"].as_bool(), v["pacing_judged"].as_bool()), (Some(true), Some(false)));
}

#[tokio::test]
async fn each_slip_is_flagged_on_its_rule_with_evidence_and_nothing_else() {
    let cases: [(Slip, &[&str], bool); 15] = [
        (Slip::NoClientTypeOnce, &["CLI-01"], false),
        (Slip::UaWithoutDevice, &["CLI-02", "CLI-03"], false),
        (Slip::UaBetaVersion, &["CLI-03"], true),
        (Slip::SkipBootstrap, &["CLI-04"], true),
        (Slip::PollAfterClaim, &["CLI-06"], false),
        (Slip::PollAfterExpiry, &["CLI-07"], false),
        (Slip::SecondCodeAtOnce, &["CLI-08"], true),
        (Slip::ConfigBeforeKeys, &["CLI-09"], false),
        (Slip::StaleTimestamp, &["CLI-10"], false),
        (Slip::ReuseNonce, &["CLI-11"], false),
        (Slip::WrongSignature, &["CLI-12"], false),
        (Slip::BearerScheme, &["CLI-13"], false),
        (Slip::ExpiredToken, &["CLI-14"], false),
        (Slip::BadActivateEnvelope, &["CLI-15"], false),
        (Slip::TextPlainActivate, &["CLI-16"], true),
    ];
    for (slip, rules, advisory_only) in cases {
        let v = virtual_run(&[slip]).await;
        let (flagged, _) = outcomes(&v);
        assert_eq!(flagged, set(rules), "{slip:?}\n{v:#}");
        for r in v["devices"][0]["rules"].as_array().into_iter().flatten().filter(|r| rules.contains(&r["rule"].as_str().unwrap_or(""))) {
            let evidence = r["findings"][0]["evidence"].as_array().map(Vec::len).unwrap_or(0);
            assert!(evidence >= 1, "{slip:?}: {} has no evidence: {r:#}", r["rule"]);
            assert!(r["findings"][0]["evidence"][0]["time"].is_string(), "evidence carries the time");
        }
        assert_eq!(v["passed"].as_bool(), Some(advisory_only), "{slip:?}: a REQUIRED rule fails the run, a SIMULATOR one advises");
    }
}

/// A system-clock run: the merchant claims 4 s after issue, attest meets one 503.
async fn system_run(slips: &[Slip]) -> Value {
    let sim = simulator(ClockMode::System).await;
    post(&sim, &format!("/_sim/devices/{DEVICE}/auto-claim"), json!({"after_sec": 4})).await;
    post(&sim, "/_sim/faults", json!({"kind": "status", "status": 503, "step": 5, "device_id": DEVICE, "headers": {"Retry-After": "1"}}))
        .await;
    post(&sim, "/_sim/faults", json!({"kind": "reset", "step": 6, "device_id": DEVICE})).await;
    let mut fw = Firmware::new(&sim.base_url, DEVICE, slips).await;
    fw.pair(false).await;
    fw.activate().await;
    verdict(&sim).await
}

#[tokio::test]
async fn a_well_behaved_firmware_paces_its_polls_and_retries_on_the_system_clock() {
    let v = system_run(&[]).await;
    let (flagged, not_judged) = outcomes(&v);
    assert!(flagged.is_empty(), "{flagged:?}\n{v:#}");
    assert_eq!(not_judged, set(&["CLI-07", "CLI-08"]), "no expiry in a real-time run of seconds");
    assert_eq!(v["pacing_judged"].as_bool(), Some(true));
}

#[tokio::test]
async fn polling_every_second_is_too_fast() {
    let (flagged, _) = outcomes(&system_run(&[Slip::PollEverySecond]).await);
    assert_eq!(flagged, set(&["CLI-05"]));
}

#[tokio::test]
async fn retrying_at_once_after_a_503_or_a_reset_is_flagged() {
    let v = system_run(&[Slip::RetryAtOnce]).await;
    let (flagged, _) = outcomes(&v);
    assert_eq!(flagged, set(&["CLI-17"]), "{v:#}");
    let rule = v["devices"][0]["rules"].as_array().into_iter().flatten().find(|r| r["rule"] == "CLI-17").cloned().unwrap_or_default();
    let paths: Vec<&str> = rule["findings"].as_array().into_iter().flatten().filter_map(|f| f["evidence"][0]["path"].as_str()).collect();
    assert_eq!(paths, ["/pos/attest", "/pos/keys"], "after the 503 and after the reset: {rule:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verdict_command_gates_ci_and_writes_one_junit_case_per_rule() {
    let sim = simulator(ClockMode::Virtual).await;
    let bin = env!("CARGO_BIN_EXE_viopay-sim");
    let dir = tempfile::tempdir().expect("tmp");
    let junit = dir.path().join("verdict.xml");
    let run = |device: Option<&str>| {
        let mut cmd = Command::new(bin);
        cmd.args(["verdict", "--url", &sim.base_url, "--junit"]).arg(&junit);
        if let Some(d) = device {
            cmd.args(["--device", d]);
        }
        cmd.output().expect("runs")
    };
    // Nothing seen yet: an empty verdict passes, a named device that never spoke cannot.
    assert_eq!(tokio::task::block_in_place(|| run(None)).status.code(), Some(0));
    assert_eq!(tokio::task::block_in_place(|| run(Some(DEVICE))).status.code(), Some(2));

    let mut fw = Firmware::new(&sim.base_url, DEVICE, &[Slip::ReuseNonce, Slip::TextPlainActivate]).await;
    fw.pair(false).await;
    fw.activate().await;
    let out = tokio::task::block_in_place(|| run(Some(DEVICE)));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL       CLI-11") && text.contains("advisory   CLI-16"), "{text}");

    // The JUnit file parses (Python's own XML parser) and has 17 cases: one failure, the rest
    // passing or skipped.
    let check = "import sys, xml.etree.ElementTree as ET\nr = ET.parse(sys.argv[1]).getroot()\ncases = r.findall('.//testcase')\nprint(len(cases), len(r.findall('.//testcase/failure')), len(r.findall('.//testcase/skipped')), cases[10].get('name'))";
    let py = Command::new("python3").args(["-c", check]).arg(&junit).output().expect("python3");
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
    let counts = String::from_utf8_lossy(&py.stdout).trim().to_owned();
    assert!(counts.starts_with("17 1 "), "{counts}");
    assert!(counts.ends_with("CLI-11 a fresh, valid X-Nonce on every attest"), "{counts}");
}
