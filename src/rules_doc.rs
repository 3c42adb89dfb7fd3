//! The rules a user can read: `RULES.md`, generated from `rules.toml` and the features
//! (`viopay-check rules --markdown > RULES.md`) and kept in sync by a test. Reports link to it.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::catalogue::{Catalogue, Level, Release};
use crate::features::{self, FeatureError, FeatureFile};

/// For each rule ID, the scenarios tagged with it, as `file:line name`.
pub fn covering(files: &[FeatureFile]) -> Result<BTreeMap<String, Vec<String>>, FeatureError> {
    let mut covering: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in files {
        let feature = features::parse(file)?;
        for scenario in &feature.scenarios {
            for rule in features::rule_tags(&feature, scenario) {
                let name = format!("{}:{} {}", file.path.rsplit('/').next().unwrap_or(&file.path), scenario.position.line, scenario.name);
                let list = covering.entry(rule).or_default();
                if !list.contains(&name) {
                    list.push(name);
                }
            }
        }
    }
    Ok(covering)
}

/// Why a rule is not checked now, if it is not.
pub fn unchecked_reason(level: Level, release: Release) -> Option<&'static str> {
    match (level, release) {
        (Level::Unknown, _) => Some("UNKNOWN: never asserted"),
        (_, Release::Later) => Some("later release"),
        _ => None,
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

pub fn markdown(catalogue: &Catalogue, covering: &BTreeMap<String, Vec<String>>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# The rules: VioPay POS activation and Kustom In-Person Payments\n");
    let _ = writeln!(
        out,
        "Generated from `rules.toml` and `features/` by `viopay-check rules --markdown > RULES.md`; a test keeps it in sync.\n"
    );
    let _ = writeln!(out, "| level | what a target that behaves differently gets |\n|---|---|");
    let _ = writeln!(out, "| REQUIRED | a failure: the run exits 1 |");
    let _ =
        writeln!(out, "| SIMULATOR | an advisory (the simulator's choice where the documentation is silent); a failure with `--strict` |");
    let _ = writeln!(out, "| UNKNOWN | nothing: a real server may do anything here, and the harness accepts every answer |\n");
    let count = |level: Level| catalogue.iter().filter(|r| r.level == level).count();
    let _ = writeln!(
        out,
        "{} rules: {} REQUIRED, {} SIMULATOR, {} UNKNOWN.\n",
        catalogue.iter().count(),
        count(Level::Required),
        count(Level::Simulator),
        count(Level::Unknown)
    );
    let _ = writeln!(out, "| ID | level | rule | scenarios |\n|---|---|---|---|");
    for rule in catalogue.iter() {
        let scenarios = match (covering.get(&rule.id), unchecked_reason(rule.level, rule.release)) {
            (_, Some(why)) => format!("({why})"),
            (Some(list), None) => list.iter().map(|s| format!("`{}`", cell(s))).collect::<Vec<_>>().join("<br>"),
            (None, None) => "(no scenario yet)".to_owned(),
        };
        let _ = writeln!(out, "| `{}` | {} | {} | {} |", rule.id, rule.level.as_str(), cell(&rule.statement), scenarios);
    }
    out
}
