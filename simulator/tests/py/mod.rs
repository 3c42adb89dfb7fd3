//! A Python with `psec` for the independent cross-checks, installed by the tests themselves in a
//! virtual environment under `target/` (CI has Python 3 and pip). One that cannot be installed
//! fails the test: a cross-check never passes silently.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

pub const PSEC: &str = "psec==1.3.0";

/// The venv's interpreter, created on first use (serialised: tests may run in parallel).
pub fn python() -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/py-psec");
    let python = dir.join("bin/python3");
    let ready = Command::new(&python).args(["-c", "import psec"]).output().is_ok_and(|o| o.status.success());
    if !ready {
        let made = Command::new("python3").arg("-m").arg("venv").arg(&dir).status().expect("python3 runs");
        assert!(made.success(), "cannot create a virtual environment at {}", dir.display());
        let installed = Command::new(&python).args(["-m", "pip", "install", "--quiet", PSEC]).status().expect("pip runs");
        assert!(installed.success(), "cannot install {PSEC}: the cross-check needs it");
    }
    python
}
