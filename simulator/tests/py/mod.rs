//! A Python with `psec` for the independent cross-checks, installed by the tests themselves in a
//! virtual environment under `target/` (CI has Python 3 and pip). One that cannot be installed
//! fails the test: a cross-check never passes silently.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

pub const PSEC: &str = "psec==1.3.0";

/// A lock across processes (nextest runs each test binary in its own): a directory created
/// atomically, removed on drop; one older than ten minutes is a crashed holder's and is taken over.
struct DirLock(PathBuf);

impl DirLock {
    fn take(path: PathBuf) -> DirLock {
        let _ = std::fs::create_dir_all(path.parent().unwrap_or(&path));
        loop {
            if std::fs::create_dir(&path).is_ok() {
                return DirLock(path);
            }
            let stale = std::fs::metadata(&path).and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|e| e.as_secs() > 600));
            if stale {
                let _ = std::fs::remove_dir(&path);
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// The workspace's `target/` directory: test binaries run from `target/<profile>/deps/`. Shared by
/// the simulator's and the harness's tests, so both use one venv.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.ancestors().nth(3).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// Runs `f` while holding the venv's lock (creating or installing into it is not safe in parallel).
pub fn locked<T>(f: impl FnOnce() -> T) -> T {
    static LOCK: Mutex<()> = Mutex::new(());
    let _thread = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let _process = DirLock::take(target_dir().join("py-psec.lock"));
    f()
}

/// The venv's interpreter, created on first use.
#[allow(dead_code)] // each test binary that includes this module uses what it needs
pub fn python() -> PathBuf {
    locked(create)
}

/// The venv's interpreter with `package` (a pip requirement such as `requests==2.32.3`) importable
/// as `module`, installed on first use.
#[allow(dead_code)] // each test binary that includes this module uses what it needs
pub fn python_with(module: &str, package: &str) -> PathBuf {
    locked(|| {
        let python = create();
        let ready = Command::new(&python).args(["-c", &format!("import {module}")]).output().is_ok_and(|o| o.status.success());
        if !ready {
            let installed = Command::new(&python).args(["-m", "pip", "install", "--quiet", package]).status().expect("pip runs");
            assert!(installed.success(), "cannot install {package}: the test needs it");
        }
        python
    })
}

fn create() -> PathBuf {
    let dir = target_dir().join("py-psec");
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
