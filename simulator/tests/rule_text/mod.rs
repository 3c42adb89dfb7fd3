//! What the "every rule is named by a test" checks read: the test code (the `tests/` files and
//! the `#[cfg(test)]` part of source files) under some directories, and the rules of `rules.toml`.

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

/// The test code under `dirs` (relative to the simulator crate).
pub fn test_code(dirs: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    for dir in dirs {
        files(&root.join(dir), &mut paths);
    }
    let mut text = String::new();
    for path in paths {
        let source = std::fs::read_to_string(&path).unwrap_or_default();
        if path.starts_with(root.join("tests")) {
            text.push_str(&source);
        } else if let Some(at) = source.find("#[cfg(test)]") {
            text.push_str(&source[at..]);
        }
    }
    text
}

/// Every rule of `rules.toml`: (id, level).
pub fn rules() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules.toml")).expect("rules.toml");
    text.split("[[rule]]")
        .skip(1)
        .filter_map(|block| {
            let field = |name: &str| {
                block.lines().find_map(|l| l.strip_prefix(&format!("{name} = \""))).map(|v| v.trim_end_matches('"').to_owned())
            };
            Some((field("id")?, field("level")?))
        })
        .collect()
}
