//! `load --export locust`: the exported project runs on Locust's distributed engine, one master
//! and two workers on this machine (Locust installed from PyPI into a venv by the test), against
//! the simulator: every terminal activates with no failure; against a backend where both claims
//! of a double click win, Locust's failures name CLAIM-21.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use viopay_check::TargetSpec;
use viopay_check::load::Workload;
use viopay_check::load::export;

use crate::common::*;
use crate::load::{real_time_config, two_winners};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Exports the project for `url` and runs it: 1 master, 2 workers, `users` terminals.
fn distributed(url: &str, workload: &Workload, users: u32, seconds: u32) -> Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path().join("project");
    export::locust(&TargetSpec::Simulator(url.to_owned()), workload, &project).expect("the project is written");
    let out = Command::new("python3")
        .arg(workspace().join("tests/locust_export/run_distributed.py"))
        .args(["--project", &project.display().to_string()])
        .args(["--users", &users.to_string(), "--spawn-rate", "10", "--duration", &seconds.to_string(), "--workers", "2"])
        .args(["--venv", &workspace().join("target/py-locust").display().to_string()])
        .args(["--out", &dir.path().join("out").display().to_string()])
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "Locust did not run:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("one line of JSON")
}

#[test]
fn the_exported_project_runs_distributed_and_names_a_broken_rule() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let workload = Workload { poll: (1.0, 2.0), claim_after: (1.0, 2.0), never_claim: 0.0, double_claim: 0.2, ..Workload::default() };
    let sim = rt.block_on(spawn_sim(real_time_config(300)));
    let clean = distributed(&sim.base_url, &workload, 20, 45);
    assert_eq!(clean["activated"], 20, "every terminal activates: {clean}");
    assert_eq!(clean["failures"].as_array().map(Vec::len), Some(0), "no failure on the simulator: {clean}");

    let broken = rt.block_on(proxy_target(real_time_config(300), two_winners()));
    let every_claim_twice = Workload { double_claim: 1.0, ..workload };
    let report = distributed(&broken.uri(), &every_claim_twice, 10, 40);
    let failures = report["failures"].as_array().cloned().unwrap_or_default();
    assert!(!failures.is_empty(), "the double claims that both win are failures: {report}");
    assert!(
        failures.iter().all(|f| f["error"].as_str().is_some_and(|e| e.starts_with("CLAIM-21:"))),
        "every failure is named by its rule: {report}"
    );
}
