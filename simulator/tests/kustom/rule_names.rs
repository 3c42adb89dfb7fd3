//! Every REQUIRED and SIMULATOR rule of Kustom's API is named by a simulator test, so grepping a
//! rule ID finds the test that checks it. IDs are read from `rules.toml`.

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// KUSTOM-API.md §0.2 (VioPay's `KEYS` starts with a K too).
const KUSTOM_FAMILIES: [&str; 9] = ["KCONV", "KAUTH", "KERR", "KEN", "KREG", "KDEV", "KLOC", "KTIME", "KFLOW"];

#[test]
fn every_kustom_rule_is_named_by_a_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    files(&root.join("tests/kustom"), &mut paths);
    files(&root.join("src/kustom"), &mut paths);
    let mut text = String::new();
    for path in paths {
        let source = std::fs::read_to_string(&path).unwrap_or_default();
        if path.starts_with(root.join("tests")) {
            text.push_str(&source);
        } else if let Some(at) = source.find("#[cfg(test)]") {
            text.push_str(&source[at..]);
        }
    }
    // A test names a rule in its function name (`kreg_13_…`) or in an assertion message.
    let text = text.to_uppercase().replace('_', "-");
    let rules = std::fs::read_to_string(root.join("../rules.toml")).expect("rules.toml");
    let mut missing = Vec::new();
    let mut counted = 0;
    for block in rules.split("[[rule]]").skip(1) {
        let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(&format!("{name} = \""))).map(|v| v.trim_end_matches('"'));
        let (Some(id), Some(level)) = (field("id"), field("level")) else { continue };
        let family = id.split('-').next().unwrap_or_default();
        if KUSTOM_FAMILIES.contains(&family) && level != "UNKNOWN" {
            counted += 1;
            // Whole IDs only: KEN-1 must not pass for KEN-10.
            let named = text.match_indices(id).any(|(at, _)| !text[at + id.len()..].starts_with(|c: char| c.is_ascii_digit()));
            if !named {
                missing.push(id.to_owned());
            }
        }
    }
    assert_eq!(counted, 145, "Kustom's REQUIRED and SIMULATOR rules in rules.toml");
    assert!(missing.is_empty(), "Kustom rules that no simulator test names: {missing:?}");
}
