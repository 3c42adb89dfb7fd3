//! The harness against correct targets: zero failures, zero advisories, exit 0, in every way of
//! pointing it at a simulator; and the honest outcomes where a target lacks a capability.

use std::io::Write;

use viopay_check::TargetSpec;
use viopay_check::verdict::{RuleVerdict, ScenarioStatus};

use crate::common::*;

fn assert_clean(report: &viopay_check::Report) {
    let problems: Vec<String> = report
        .scenarios
        .iter()
        .filter(|s| !matches!(s.status, ScenarioStatus::Passed | ScenarioStatus::NotApplicable(_)))
        .map(|s| format!("{}:{} {} {:?} {:?}", s.file, s.line, s.name, s.status, s.findings.iter().map(|f| &f.message).collect::<Vec<_>>()))
        .collect();
    assert!(problems.is_empty(), "false alarms:\n{}", problems.join("\n"));
    assert_eq!(report.exit_code, 0);
    assert_eq!(report.counts.advisory, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_simulator_is_conformant_on_every_rule() {
    let report = certify(TargetSpec::Embedded, &options(None)).await;
    assert_clean(&report);
    let not_passing: Vec<(&str, RuleVerdict)> = report
        .rules
        .iter()
        .filter(|r| r.verdict != RuleVerdict::Pass && !r.scenarios.is_empty())
        .map(|r| (r.id.as_str(), r.verdict))
        .collect();
    assert!(not_passing.is_empty(), "every rule with a scenario passes: {not_passing:?}");
    assert_eq!(report.rules.iter().filter(|r| r.verdict == RuleVerdict::Pass).count(), 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_separately_started_simulator_is_conformant_strict_too() {
    let sim = spawn_sim(sim_config()).await;
    let mut opts = options(None);
    opts.strict = true;
    let report = certify(TargetSpec::Simulator(sim.base_url.clone()), &opts).await;
    assert_clean(&report);
}

/// A fixtures file with large ranges for the profile's device pools.
fn profile_for(sim: &viopay_sim::RunningSimulator, mode: &str, per_merchant: usize) -> tempfile::NamedTempFile {
    let acme: Vec<String> = (0..per_merchant).map(|i| format!("\"POS-{:08X}\"", 0xC000_0000u32 + i as u32)).collect();
    let globex: Vec<String> = (0..per_merchant).map(|i| format!("\"POS-{:08X}\"", 0xD000_0000u32 + i as u32)).collect();
    let text = format!(
        "base_url = \"{}\"\nunknown_device = \"POS-DEADBEEF\"\n[clock]\nmode = \"{mode}\"\n[[merchants]]\nname = \"acme\"\nclient_id = \"acme\"\nclient_secret = \"acme-secret\"\ndevices = [{}]\n[[merchants]]\nname = \"globex\"\nclient_id = \"globex\"\nclient_secret = \"globex-secret\"\ndevices = [{}]\n",
        sim.base_url,
        acme.join(", "),
        globex.join(", ")
    );
    write_temp(&text)
}

fn write_temp(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".toml").tempfile().expect("temp file");
    f.write_all(text.as_bytes()).expect("write");
    f
}

fn profile_sim_config() -> viopay_sim::SimConfig {
    let mut c = sim_config();
    c.fixtures = viopay_sim::Fixtures::parse(
        "[[merchants]]\nid = \"550e8400-e29b-41d4-a716-446655440000\"\nname = \"Acme\"\nclient_id = \"acme\"\nclient_secret = \"acme-secret\"\n\
         [[merchants]]\nid = \"7c9e6679-7425-40de-944b-e07fc1f90ae7\"\nname = \"Globex\"\nclient_id = \"globex\"\nclient_secret = \"globex-secret\"\n\
         [[device_ranges]]\nmerchant_id = \"550e8400-e29b-41d4-a716-446655440000\"\nfirst = \"POS-C0000000\"\ncount = 400\n\
         [[device_ranges]]\nmerchant_id = \"7c9e6679-7425-40de-944b-e07fc1f90ae7\"\nfirst = \"POS-D0000000\"\ncount = 400\n",
        "profile-fixtures",
    )
    .expect("fixtures");
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_with_a_controllable_clock_is_conformant() {
    let sim = spawn_sim(profile_sim_config()).await;
    let profile = profile_for(&sim, "control", 400);
    let report = certify(TargetSpec::Profile(profile.path().into()), &options(None)).await;
    assert_clean(&report);
    // A profile has no fault injection: PAIR-08 is "not applicable", which does not fail the run.
    let pair08 = report.rules.iter().find(|r| r.id == "PAIR-08").map(|r| r.verdict);
    assert_eq!(pair08, Some(RuleVerdict::NotApplicable));
}

/// Issue 9: a profile's device entries may carry their secrets (identity key and ZMK, inline or
/// from the environment); steps 5–8 then run on the profile as on the simulator, and the
/// scenarios that need the simulator's own provisioning surface are "n/a" with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_whose_devices_carry_their_secrets_certifies_steps_5_to_8() {
    let sim = spawn_sim(profile_sim_config()).await;
    let client = viopay_check::client::Client::new(&sim.base_url, std::time::Duration::from_secs(10)).expect("client");
    let mut entries = [Vec::new(), Vec::new()];
    for (m, first) in [0xC000_0000u32, 0xD000_0000].into_iter().enumerate() {
        for i in 0..300u32 {
            let id = format!("POS-{:08X}", first + i);
            let v =
                client.send(&viopay_check::client::ApiRequest::new("GET", &format!("/_sim/devices/{id}"))).await.json().expect("device");
            let key = &v["identity_keys"][0];
            let (key_id, secret, zmk) = (
                key["key_id"].as_str().unwrap_or_default(),
                key["secret"].as_str().unwrap_or_default(),
                v["zmk"].as_str().unwrap_or_default(),
            );
            // One device reads its identity secret from the environment, the way CI passes secrets.
            let entry = if m == 0 && i == 0 {
                // SAFETY: set once, before the run reads the profile; no other test reads this variable.
                unsafe { std::env::set_var("VIOPAY_CHECK_TEST_SECRET_C0", secret) };
                format!(
                    "{{ id = \"{id}\", identity_key_id = \"{key_id}\", identity_secret_env = \"VIOPAY_CHECK_TEST_SECRET_C0\", zmk = \"{zmk}\" }}"
                )
            } else {
                format!("{{ id = \"{id}\", identity_key_id = \"{key_id}\", identity_secret = \"{secret}\", zmk = \"{zmk}\" }}")
            };
            entries[m].push(entry);
        }
    }
    let text = format!(
        "base_url = \"{}\"\nunknown_device = \"POS-DEADBEEF\"\n[clock]\nmode = \"control\"\n[[merchants]]\nname = \"acme\"\nclient_id = \"acme\"\nclient_secret = \"acme-secret\"\ndevices = [{}]\n[[merchants]]\nname = \"globex\"\nclient_id = \"globex\"\nclient_secret = \"globex-secret\"\ndevices = [{}]\n",
        sim.base_url,
        entries[0].join(", "),
        entries[1].join(", ")
    );
    let profile = write_temp(&text);
    let report = certify(TargetSpec::Profile(profile.path().into()), &options(None)).await;
    assert_clean(&report);
    let verdict = |id: &str| report.rules.iter().find(|r| r.id == id).map(|r| r.verdict);
    for id in ["ATT-04", "ATT-05", "ATT-06", "KEYS-03", "KEYS-11", "CFG-01", "TPAR-02", "ACT-03", "DEV-03", "MSK-02"] {
        assert_eq!(verdict(id), Some(RuleVerdict::Pass), "{id} is certified on a profile with device secrets");
    }
    let rotation = report.scenarios.iter().find(|s| s.rules.contains(&"KEYS-14".to_owned())).map(|s| s.status.clone());
    assert!(matches!(rotation, Some(ScenarioStatus::NotApplicable(ref why)) if why.contains("provisioning")), "{rotation:?}");
}

/// Plain device ids still serve steps 1–4; steps 5–8 are "n/a", naming what the profile lacks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_without_device_secrets_reports_steps_5_to_8_not_applicable() {
    let sim = spawn_sim(profile_sim_config()).await;
    let profile = profile_for(&sim, "control", 400);
    let report = certify(TargetSpec::Profile(profile.path().into()), &options(None)).await;
    assert_clean(&report);
    let attest = report.scenarios.iter().find(|s| s.rules.contains(&"ATT-06".to_owned())).map(|s| s.status.clone());
    assert!(matches!(attest, Some(ScenarioStatus::NotApplicable(ref why)) if why.contains("identity_key_id")), "{attest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_clock_makes_expiry_scenarios_not_applicable_unless_slow_is_selected() {
    let sim = spawn_sim(profile_sim_config()).await;
    let profile = profile_for(&sim, "real", 400);
    let report = certify(TargetSpec::Profile(profile.path().into()), &options(None)).await;
    assert_clean(&report);
    let stat06 = report.scenarios.iter().find(|s| s.rules.contains(&"STAT-06".to_owned())).map(|s| s.status.clone());
    assert!(matches!(stat06, Some(ScenarioStatus::NotApplicable(ref why)) if why.contains("@slow")), "{stat06:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_device_pool_is_not_run_and_fails_the_run() {
    let sim = spawn_sim(profile_sim_config()).await;
    let profile = profile_for(&sim, "control", 3);
    let report = certify(TargetSpec::Profile(profile.path().into()), &options(None)).await;
    assert!(report.counts.not_run > 0);
    assert!(report.scenarios.iter().any(|s| matches!(&s.status, ScenarioStatus::NotRun(why) if why.contains("device pool exhausted"))));
    assert_eq!(report.exit_code, 1, "a scenario that should have run and could not fails the run");
}

#[tokio::test]
async fn an_unreachable_target_is_exit_3() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let err = viopay_check::certify(&TargetSpec::Simulator(format!("http://127.0.0.1:{port}")), &options(None), |_| {})
        .await
        .expect_err("unreachable");
    assert_eq!(err.exit_code(), 3, "{err}");
}

/// A target that accepts the connection and never answers: the probe gives up after
/// `--probe-timeout`, on paused tokio time (the test waits for nothing real).
#[tokio::test(start_paused = true)]
async fn a_target_that_never_answers_is_exit_3_after_the_probe_timeout() {
    // Bound and listening, never accepting: the kernel completes the handshake, nobody answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("addr"));
    let mut opts = options(None);
    opts.probe_timeout = std::time::Duration::from_secs(3);
    let err = viopay_check::certify(&TargetSpec::Simulator(url), &opts, |_| {}).await.expect_err("unreachable");
    assert_eq!(err.exit_code(), 3, "{err}");
    assert!(err.to_string().contains("no answer within 3 s"), "{err}");
    drop(silent);
}

#[tokio::test]
async fn a_bad_profile_is_exit_2() {
    let profile = write_temp("base_url = \"http://127.0.0.1:1\"\n");
    let err = viopay_check::certify(&TargetSpec::Profile(profile.path().into()), &options(None), |_| {}).await.expect_err("bad profile");
    assert_eq!(err.exit_code(), 2, "{err}");
    let err =
        viopay_check::certify(&TargetSpec::Profile("/nonexistent/profile.toml".into()), &options(None), |_| {}).await.expect_err("missing");
    assert_eq!(err.exit_code(), 2, "{err}");
}
