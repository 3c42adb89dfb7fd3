//! Issue 8's acceptance test: an independent client in another language, with other crypto
//! libraries (Python's `hmac`/`hashlib`, `psec` for TR-31 and AES), following only the API
//! reference, walks steps 1–8 on a fresh device of a running simulator over a real socket, and
//! every refusal of §5 it tries gets the documented answer (`tests/py/walk.py`).

use std::process::Command;

use viopay_sim::{ClockMode, Fixtures, SimConfig};

mod py;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_independent_python_client_walks_steps_1_to_8() {
    let python = tokio::task::spawn_blocking(py::python).await.expect("venv");
    let mut config = SimConfig::new(Fixtures::builtin().expect("fixtures"));
    config.clock = ClockMode::Virtual;
    let sim = viopay_sim::spawn(config, "127.0.0.1:0".parse().expect("addr")).await.expect("simulator");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/walk.py");
    let base = sim.base_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python).arg(script).args([base.as_str(), "POS-A0000001", "acme", "acme-secret"]).output().expect("python runs")
    })
    .await
    .expect("join");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the Python client failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("OK: steps 1-8 walked"), "{stdout}");
}
