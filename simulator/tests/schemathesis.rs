//! The simulator against its own OpenAPI document with Schemathesis (installed by this test): no
//! schema-valid request refused, no schema-violating request accepted, no undocumented status,
//! every response matching its schema, for every operation of the document (all 54): VioPay's
//! API (`pos`, `merchant`, `health`), the realm (`auth`), Kustom's `/ipp/v1` (`kustom`) and the
//! control API (`simulator-control`, whose fault-arming operations run apart from the API's, since
//! an armed fault is meant to break later answers). A fixed seed keeps the runs reproducible.

use std::process::Command;

use viopay_sim::{ClockMode, Fixtures, SimConfig};

mod py;

const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// Runs `st run` on the bundled document against a fresh simulator with the built-in fixtures.
async fn schemathesis(args: &'static [&'static str]) {
    let python = tokio::task::spawn_blocking(|| {
        let python = py::python();
        let installed =
            py::locked(|| Command::new(&python).args(["-m", "pip", "install", "--quiet", SCHEMATHESIS]).status().expect("pip runs"));
        assert!(installed.success(), "cannot install {SCHEMATHESIS}: the check needs it");
        python
    })
    .await
    .expect("install");
    let mut config = SimConfig::new(Fixtures::builtin().expect("fixtures"));
    config.clock = ClockMode::Virtual;
    let sim = viopay_sim::spawn(config, "127.0.0.1:0".parse().expect("addr")).await.expect("simulator");
    let bundled = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/openapi.bundled.json");
    let st = python.with_file_name("st");
    let url = sim.base_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(st)
            .arg("run")
            .arg(bundled)
            .args(["--url", &url, "--checks", "all", "-n", "40", "--seed", "1", "--output-sanitize", "false"])
            .args(args)
            .output()
            .expect("schemathesis runs")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "Schemathesis found failures:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("passed"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_in_the_control_api() {
    schemathesis(&["--include-tag", "simulator-control"]).await;
}

/// As merchant 12345. Every check but one: "a schema-valid request is accepted" cannot hold where
/// a rule is beyond JSON Schema (a `location_id` of *this* merchant, KEN-20; a metadata filter key
/// at most once, KEN-30); those are tested by name in `tests/kustom/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_in_kustoms_api() {
    schemathesis(&[
        "--include-tag",
        "kustom",
        "--exclude-checks",
        "positive_data_acceptance",
        "-H",
        "Authorization: Basic kco_test_ipp_ujzde8gxd6ncf10epf91dhod",
        "-H",
        "x-merchant-id: merchant_12345",
    ])
    .await;
}

/// VioPay's own API: the POS steps, merchant auth and the health check, with every check.
/// (Without a device's signing key or a token most requests end in their documented 400/401;
/// those answers are checked against the document like any other.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_in_viopays_api() {
    schemathesis(&["--include-tag", "pos", "--include-tag", "merchant", "--include-tag", "health"]).await;
}

/// The realm's Keycloak-shaped endpoints, with every check but one: a client may authenticate
/// with a Basic header instead of `client_id` in the form, which a schema of the form cannot
/// say, so a form without `client_id` is schema-valid yet refused (`invalid_client`, as
/// Keycloak refuses it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_in_the_realm() {
    schemathesis(&["--include-tag", "auth", "--exclude-checks", "positive_data_acceptance"]).await;
}
