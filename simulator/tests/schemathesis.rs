//! The control API against its own OpenAPI document with Schemathesis (installed by this test):
//! no schema-valid request refused, no schema-violating request accepted, no undocumented status,
//! every response matching its schema, for every operation under the `simulator-control` tag.
//! A fixed seed keeps the run reproducible.

use std::process::Command;

use viopay_sim::{ClockMode, Fixtures, SimConfig};

mod py;

const SCHEMATHESIS: &str = "schemathesis==4.32.5";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_in_the_control_api() {
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
            .args([
                "--url",
                &url,
                "--include-tag",
                "simulator-control",
                "--checks",
                "all",
                "-n",
                "30",
                "--seed",
                "1",
                "--output-sanitize",
                "false",
            ])
            .output()
            .expect("schemathesis runs")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "Schemathesis found failures:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("passed"), "{stdout}");
}
