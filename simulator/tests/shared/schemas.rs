//! `schemas/catalog.json` and the JSON Schemas it names, compiled once per test process: the one
//! copy both API suites (`tests/api`, `tests/kustom`) check every answer against.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

pub struct Schemas {
    pub catalog: Value,
    /// Every schema file but the catalogue, compiled on first use (a test process checks a few).
    validators: HashMap<String, OnceLock<jsonschema::Validator>>,
}

impl Schemas {
    /// The compiled schema of a file of `schemas/`, or `None` for a file that is not there.
    pub fn validator(&self, name: &str) -> Option<&jsonschema::Validator> {
        let cell = self.validators.get(name)?;
        Some(cell.get_or_init(|| jsonschema::draft202012::new(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))))
    }
}

fn read(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("schema file")).expect("schema JSON")
}

pub fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
        let mut validators = HashMap::new();
        for entry in std::fs::read_dir(&dir).expect("schemas dir") {
            let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") && name != "catalog.json" {
                validators.insert(name, OnceLock::new());
            }
        }
        Schemas { catalog: read("catalog.json"), validators }
    })
}

/// Whether a catalogue key (`METHOD /path/{param}`) is the route of a request.
pub fn key_matches(key: &str, method: &str, path: &str) -> bool {
    let Some((m, template)) = key.split_once(' ') else { return false };
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    m == method && t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| t.starts_with('{') || t == p)
}
