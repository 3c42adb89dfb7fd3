//! Every REQUIRED and SIMULATOR rule of steps 5–8 (§5: FLOW-03, ATT, IDK, KEYS, CFG, TPAR, ACT,
//! MSK, and DEV-03 and TIME-05 of the timing and device tables) is named by a simulator test, so
//! grepping a rule ID finds the test that checks it. IDs are read from `rules.toml`.

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

#[test]
fn every_rule_of_steps_5_to_8_is_named_by_a_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    files(&root.join("tests"), &mut paths);
    files(&root.join("src"), &mut paths);
    let mut text = String::new();
    for path in paths {
        let source = std::fs::read_to_string(&path).unwrap_or_default();
        // Test code only: the tests/ tree, and the test modules of src/.
        if path.starts_with(root.join("tests")) {
            text.push_str(&source);
        } else if let Some(at) = source.find("#[cfg(test)]") {
            text.push_str(&source[at..]);
        }
    }
    let rules = std::fs::read_to_string(root.join("../rules.toml")).expect("rules.toml");
    let mut missing = Vec::new();
    let mut counted = 0;
    for block in rules.split("[[rule]]").skip(1) {
        let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(&format!("{name} = \""))).map(|v| v.trim_end_matches('"'));
        let (Some(id), Some(level)) = (field("id"), field("level")) else { continue };
        let family = id.split('-').next().unwrap_or_default();
        let in_scope =
            ["ATT", "IDK", "KEYS", "CFG", "TPAR", "ACT", "MSK"].contains(&family) || ["FLOW-03", "DEV-03", "TIME-05"].contains(&id);
        if in_scope && level != "UNKNOWN" {
            counted += 1;
            if !text.contains(id) {
                missing.push(id.to_owned());
            }
        }
    }
    assert_eq!(counted, 93, "the rules of steps 5-8 in rules.toml");
    assert!(missing.is_empty(), "rules of steps 5-8 that no test names: {missing:?}");
}
