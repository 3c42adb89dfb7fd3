//! Issue 12's acceptance walk: an independent Kustom client in Python (standard library only),
//! written from the seed page and the docs' REQUIRED rules, walks enroll → register → list by
//! metadata → deregister (token refused at once) → cancel and expiry (both gone from the list)
//! against a running simulator over a real socket (`tests/py/kustom_walk.py`).

use std::process::Command;

use viopay_sim::{ClockMode, Fixtures, SimConfig};

mod py;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_independent_python_client_walks_the_kustom_flow() {
    let python = tokio::task::spawn_blocking(py::python).await.expect("venv");
    let mut config = SimConfig::new(Fixtures::builtin().expect("fixtures"));
    config.clock = ClockMode::Virtual;
    let sim = viopay_sim::spawn(config, "127.0.0.1:0".parse().expect("addr")).await.expect("simulator");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/kustom_walk.py");
    let base = sim.base_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .args([base.as_str(), "kco_test_ipp_ujzde8gxd6ncf10epf91dhod", "merchant_12345"])
            .output()
            .expect("python runs")
    })
    .await
    .expect("join");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the Python client failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("OK: the Kustom flow walked"), "{stdout}");
}
