//! The `viopay-check` binary: subcommands, exit codes and report files.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_viopay-check");

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().expect("viopay-check runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn rules_lists_the_catalogue_with_covering_scenarios() {
    let (code, out, _) = run(&["rules"]);
    assert_eq!(code, 0);
    assert!(out.contains("CLAIM-16   REQUIRED"), "{out}");
    assert!(out.contains("claim.feature:"), "scenarios are listed under their rules");
    assert!(out.contains("CLAIM-22   UNKNOWN   ") && out.contains("(UNKNOWN: never asserted)"));
    let (code, doc, _) = run(&["rules", "--markdown"]);
    assert_eq!(code, 0);
    assert!(doc.starts_with("# The rules: VioPay POS activation and Kustom") && doc.contains("| `CLAIM-24` | SIMULATOR |"), "{doc}");
    assert!(doc.contains("| `KDEV-20` | REQUIRED |"), "Kustom's rules are in the catalogue");
}

#[test]
fn a_selected_run_against_the_embedded_simulator_writes_both_reports() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (junit, json) = (dir.path().join("r.xml"), dir.path().join("r.json"));
    let (code, out, err) = run(&[
        "run",
        "--tags",
        "@BOOT-01 or @CLAIM-16",
        "--junit",
        junit.to_str().unwrap_or_default(),
        "--json",
        json.to_str().unwrap_or_default(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("[  ok  ] bootstrap.feature:"), "live progress: {out}");
    assert!(out.contains("CONFORMANT: embedded simulator (exit 0)"), "{out}");
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert!(xml.contains("<testcase name=") && xml.contains("CLAIM-16"));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("json written")).expect("JSON");
    assert_eq!(report["exit_code"], 0);
    assert!(report["rules"].as_array().is_some_and(|r| r.iter().any(|r| r["id"] == "CLAIM-16" && r["verdict"] == "pass")));
}

#[test]
fn exit_codes_for_usage_profile_and_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let (code, _, err) = run(&["run", "--target", &format!("http://127.0.0.1:{port}")]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("unreachable"), "{err}");
    let (code, _, err) = run(&["run", "--profile", "/nonexistent/profile.toml"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&["run", "--tags", "(("]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = run(&["run", "--no-such-flag"]);
    assert_eq!(code, 2);
    let (code, _, err) = run(&["run", "--target", "http://127.0.0.1:1", "--profile", "p.toml"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&["run", "--baseline", "/nonexistent/baseline.txt"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn fuzz_writes_junit_and_json_like_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (junit, json) = (dir.path().join("f.xml"), dir.path().join("f.json"));
    let (code, out, err) = run(&[
        "fuzz",
        "--cases",
        "5",
        "--seed",
        "3",
        "--persist",
        "none",
        "--junit",
        junit.to_str().unwrap_or_default(),
        "--json",
        json.to_str().unwrap_or_default(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("json written")).expect("JSON");
    assert_eq!((report["exit_code"].as_i64(), report["seed"].as_u64(), report["rules_doc"].as_str()), (Some(0), Some(3), Some("RULES.md")));
    let exercised: Vec<&str> = report["rules_exercised"].as_array().expect("rules").iter().filter_map(|r| r.as_str()).collect();
    assert!(exercised.contains(&"STAT-05") && exercised.contains(&"CLAIM-20"), "{exercised:?}");
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert_eq!(xml.matches("<testcase ").count(), exercised.len(), "a test case per rule judged:\n{xml}");
    assert!(xml.contains(r#"<testcase name="CLAIM-20" classname="fuzz""#), "{xml}");
}

#[test]
fn fuzz_api_kustom_certifies_the_embedded_simulator() {
    let (code, out, err) = run(&["fuzz", "--api", "kustom", "--cases", "20", "--seed", "3"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("20 cases") && out.contains("CONFORMANT: no REQUIRED Kustom rule broken (exit 0)"), "{out}");
    let dir = tempfile::tempdir().expect("dir");
    let (json, junit) = (dir.path().join("k.json"), dir.path().join("k.xml"));
    let (code, out, err) = run(&[
        "fuzz",
        "--api",
        "kustom",
        "--cases",
        "5",
        "--seed",
        "3",
        "--json",
        json.to_str().unwrap_or_default(),
        "--junit",
        junit.to_str().unwrap_or_default(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("json written")).expect("json");
    assert_eq!((report["api"].as_str(), report["exit_code"].as_i64(), report["cases"].as_u64()), (Some("kustom"), Some(0), Some(5)));
    assert!(std::fs::read_to_string(&junit).expect("junit written").contains("<testcase name=\"conformance\""));
    let (code, out, err) = run(&["run", "--api", "kustom", "--tags", "@KREG-13"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("registration.feature") && out.contains("CONFORMANT"), "{out}");
}

/// A simulator started with `--control-token`: without the token the harness cannot provision
/// (its `/_sim/` hooks answer 401) and says so; with `--control-token` (or the same environment
/// variable the simulator reads) it certifies as usual, for both APIs.
#[test]
fn a_simulator_with_a_control_token_is_certified_with_the_token() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let mut config = viopay_sim::SimConfig::new(viopay_sim::Fixtures::builtin().expect("fixtures"));
    config.clock = viopay_sim::ClockMode::Virtual;
    config.control_token = Some("lab-token-1".into());
    let sim = rt.block_on(viopay_sim::spawn(config, "127.0.0.1:0".parse().expect("addr"))).expect("simulator");
    let url = sim.base_url.clone();
    let (code, out, err) = run(&["run", "--target", &url, "--tags", "@BOOT-03"]);
    assert_ne!(code, 0, "{out}{err}");
    assert_eq!(code, 2, "a usage error: the token is missing");
    assert!(format!("{out}{err}").contains("--control-token"), "the way out is named: {out}{err}");
    let (code, out, err) = run(&["fuzz", "--api", "kustom", "--target", &url, "--cases", "1"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("--control-token"), "{err}");
    let (code, out, err) = run(&["run", "--target", &url, "--tags", "@BOOT-03", "--control-token", "lab-token-1"]);
    assert_eq!(code, 0, "{out}{err}");
    let out = Command::new(BIN)
        .args(["fuzz", "--api", "kustom", "--target", &url, "--cases", "5", "--seed", "3"])
        .env("VIOPAY_SIM_CONTROL_TOKEN", "lab-token-1")
        .output()
        .expect("viopay-check runs");
    assert_eq!(out.status.code(), Some(0), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[test]
fn diff_of_two_embedded_simulators_exits_0_and_writes_three_reports() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (junit, json, html) = (dir.path().join("d.xml"), dir.path().join("d.json"), dir.path().join("d.html"));
    let path = |p: &std::path::Path| p.to_str().unwrap_or_default().to_owned();
    let (code, out, err) = run(&[
        "diff",
        "--baseline",
        "embedded",
        "--candidate",
        "embedded",
        "--cases",
        "20",
        "--seed",
        "5",
        "--tags",
        "@CLAIM-16 or @PAIR-04",
        "--junit",
        &path(&junit),
        "--json",
        &path(&json),
        "--html",
        &path(&html),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("No difference: the candidate answers as the baseline does."), "{out}");
    assert!(out.contains("and 20 fuzz cases (seed 5)"), "{out}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("valid JSON");
    assert_eq!(report["exit_code"], 0);
    assert_eq!(report["fuzz_cases"], 20);
    assert!(std::fs::read_to_string(&junit).expect("junit").contains("no difference between baseline and candidate"));
    assert!(std::fs::read_to_string(&html).expect("html").contains("no difference"));
}

#[test]
fn diff_usage_errors_exit_2_and_an_unreachable_target_exits_3() {
    let (code, _, err) = run(&["diff", "--baseline", "not a target", "--candidate", "embedded"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--baseline `not a target`"), "{err}");
    let (code, _, err) = run(&["diff", "--baseline", "embedded", "--candidate", "embedded", "--accept", "NOPE-01"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--accept"), "{err}");
    let (code, _, err) =
        run(&["diff", "--baseline", "embedded", "--candidate", "http://127.0.0.1:9", "--probe-timeout", "0.5", "--cases", "0"]);
    assert_eq!(code, 3, "{err}");
}

#[test]
fn load_against_the_embedded_simulator_gates_on_its_objectives() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (junit, json, html) = (dir.path().join("l.xml"), dir.path().join("l.json"), dir.path().join("l.html"));
    let path = |p: &std::path::Path| p.to_str().unwrap_or_default().to_owned();
    let fast = ["load", "--terminals", "12", "--arrival", "1s", "--poll", "0.2s..0.3s", "--claim-after", "0.3s..0.6s", "--progress", "0.5"];
    let mut args: Vec<String> = fast.iter().map(|s| (*s).to_owned()).collect();
    for a in ["--slo", "status.p99<2s", "--slo", "errors<0.1%", "--junit", &path(&junit), "--json", &path(&json), "--html", &path(&html)] {
        args.push(a.to_owned());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = run(&refs);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("PASS: every objective held, no rule broken (exit 0)") && out.contains("terminals "), "{out}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("valid JSON");
    assert_eq!(report["exit_code"], 0);
    assert!(report["latency"]["status"]["p99_ms"].as_f64().is_some());
    assert!(std::fs::read_to_string(&junit).expect("junit").contains("SLO status.p99&lt;2s"));
    assert!(std::fs::read_to_string(&html).expect("html").contains("<svg"));
    let (code, out, _) = run(&[&refs[..11], &["--slo", "status.p99<1us"]].concat());
    assert_eq!(code, 1, "an objective nobody can hold: {out}");
    assert!(out.contains("objectives missed: status.p99<1us"), "{out}");
    let export = dir.path().join("locust");
    let (code, _, err) = run(&["load", "--export", "locust", &path(&export)]);
    assert_eq!(code, 2, "the embedded simulator is not reachable from Locust: {err}");
    assert!(err.contains("give --target URL or --profile FILE"), "{err}");
    let (code, out, err) = run(&["load", "--target", "http://127.0.0.1:9", "--steps", "1-4", "--export", "locust", &path(&export)]);
    assert_eq!(code, 0, "{out}{err}");
    let profile: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(export.join("profile.json")).expect("profile.json")).expect("JSON");
    assert_eq!(
        (profile["host"].as_str(), profile["control"].as_bool(), profile["steps"].as_str()),
        (Some("http://127.0.0.1:9"), Some(true), Some("1-4"))
    );
    assert!(export.join("locustfile.py").is_file() && export.join("requirements.txt").is_file());
    let (code, _, err) = run(&["load", "--slo", "status.p99<200"]);
    assert_eq!(code, 2, "a latency bound without a unit is a usage error: {err}");
    assert!(err.contains("a latency needs a unit"), "{err}");
}
