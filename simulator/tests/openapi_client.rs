//! The bundled OpenAPI document (`schemas/openapi.bundled.json`): produced from `openapi.yaml`
//! and the per-body schemas by `schemas/bundle.py`, kept in sync here, and usable by a client
//! generator that does not follow external references: `openapi-python-client` (installed by this
//! test) must build a client with every operation.

use std::path::PathBuf;
use std::process::Command;

mod py;

const GENERATOR: &[&str] = &["openapi-python-client==0.29.1", "PyYAML==6.0.3"];

fn schemas() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

#[test]
fn the_bundled_document_is_in_sync_and_a_generator_builds_every_operation() {
    let python = py::python();
    let installed =
        py::locked(|| Command::new(&python).args(["-m", "pip", "install", "--quiet"]).args(GENERATOR).status().expect("pip runs"));
    assert!(installed.success(), "cannot install {GENERATOR:?}: the check needs them");
    let dir = tempfile::tempdir().expect("temp dir");

    // In sync: the committed bundle is what bundle.py makes of its sources.
    let fresh = dir.path().join("bundled.json");
    let bundled = Command::new(&python).arg(schemas().join("bundle.py")).arg(&fresh).status().expect("bundle.py runs");
    assert!(bundled.success());
    let committed = std::fs::read_to_string(schemas().join("openapi.bundled.json")).expect("committed bundle");
    assert!(
        std::fs::read_to_string(&fresh).expect("fresh bundle") == committed,
        "schemas/openapi.bundled.json is out of date: run `python3 schemas/bundle.py`"
    );
    let doc: serde_json::Value = serde_json::from_str(&committed).expect("JSON");
    assert!(!committed.contains("\"./"), "self-contained: no external reference is left");
    let operations: Vec<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| item.as_object().into_iter().flat_map(move |m| m.keys().map(move |method| format!("{method} {path}"))))
        .filter(|op| ["get ", "post ", "put ", "delete ", "patch "].iter().any(|m| op.starts_with(m)))
        .collect();

    // A generator builds a client with one module per operation.
    let out = dir.path().join("client");
    let generator = python.with_file_name("openapi-python-client");
    let generated = Command::new(generator)
        .args(["generate", "--meta", "none", "--path"])
        .arg(schemas().join("openapi.bundled.json"))
        .arg("--output-path")
        .arg(&out)
        .output()
        .expect("the generator runs");
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    let mut modules = 0;
    for group in std::fs::read_dir(out.join("api")).expect("api package") {
        let group = group.expect("entry").path();
        if group.is_dir() {
            modules += std::fs::read_dir(&group)
                .expect("group")
                .filter_map(Result::ok)
                .filter(|f| f.file_name().to_string_lossy().ends_with(".py") && f.file_name() != "__init__.py")
                .count();
        }
    }
    assert_eq!(modules, operations.len(), "every operation has a generated module:\n{}", String::from_utf8_lossy(&generated.stdout));
}
