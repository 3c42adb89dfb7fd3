//! The rule catalogue against the scenarios: every "now" REQUIRED or SIMULATOR rule has a
//! scenario tagged with its ID, and every rule tag names a real rule.

use std::collections::BTreeSet;

use viopay_check::catalogue::Catalogue;
use viopay_check::features;

/// Both APIs' scenarios.
fn all_features() -> Vec<features::FeatureFile> {
    features::builtin().into_iter().chain(features::kustom()).collect()
}

fn tagged_rules() -> BTreeSet<String> {
    let mut tags = BTreeSet::new();
    for file in all_features() {
        let feature = features::parse(&file).unwrap_or_else(|e| panic!("{e}"));
        for scenario in &feature.scenarios {
            tags.extend(features::rule_tags(&feature, scenario));
        }
    }
    tags
}

/// Rule families the harness does not certify, each with the reason: the client rules judge a POS
/// firmware from the simulator's journal (its client-conformance verdict), not a backend. Exactly
/// these are exempt, by name; everything else needs a scenario.
const NOT_YET: &[(&str, &str)] = &[("CLI", "the simulator's client-conformance verdict judges these, not the harness")];
/// Single rules of other families exempt for the same kind of reason (none today).
const NOT_YET_RULES: &[(&str, &str)] = &[];

fn exempt(id: &str) -> bool {
    let family = id.split('-').next().unwrap_or_default();
    NOT_YET.iter().any(|(f, _)| *f == family) || NOT_YET_RULES.iter().any(|(r, _)| *r == id)
}

#[test]
fn every_checked_rule_has_a_scenario() {
    let catalogue = Catalogue::builtin();
    let tagged = tagged_rules();
    let missing: Vec<&str> =
        catalogue.iter().filter(|r| r.is_checked() && !exempt(&r.id) && !tagged.contains(&r.id)).map(|r| r.id.as_str()).collect();
    assert!(missing.is_empty(), "rules without a scenario: {missing:?}");
    assert_eq!(catalogue.iter().filter(|r| r.is_checked()).count(), 221 + 145, "VioPay's and Kustom's");
    let kustom = |r: &&viopay_check::catalogue::Rule| r.api() == viopay_check::catalogue::Api::Kustom;
    assert_eq!(catalogue.iter().filter(|r| r.is_checked() && !exempt(&r.id)).filter(kustom).count(), 145, "every Kustom rule");
    assert_eq!(catalogue.iter().filter(|r| r.is_checked() && !exempt(&r.id) && !kustom(r)).count(), 204, "steps 1-8 and merchant auth");
    // An exemption that a scenario already covers is stale: drop it.
    let stale: Vec<&str> = catalogue.iter().filter(|r| exempt(&r.id) && tagged.contains(&r.id)).map(|r| r.id.as_str()).collect();
    assert!(stale.is_empty(), "exempt rules that have scenarios now: {stale:?}");
}

#[test]
fn the_rules_document_is_generated_from_rules_toml() {
    let covering = viopay_check::rules_doc::covering(&all_features()).expect("features parse");
    let expected = viopay_check::rules_doc::markdown(&Catalogue::builtin(), &covering);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("RULES.md");
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(actual == expected, "RULES.md is out of date: run `cargo run --bin viopay-check -- rules --markdown > RULES.md`");
}

#[test]
fn every_rule_tag_is_a_checked_rule() {
    let catalogue = Catalogue::builtin();
    let unknown: Vec<String> = tagged_rules().into_iter().filter(|t| !catalogue.get(t).is_some_and(|r| r.is_checked())).collect();
    assert!(unknown.is_empty(), "tags that are not checked rules: {unknown:?}");
}

#[test]
fn the_compiled_in_features_are_the_features_directory() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("features");
    let on_disk: BTreeSet<String> = features::from_dir(&dir)
        .expect("features dir")
        .into_iter()
        .map(|f| format!("features/{}", f.path.rsplit('/').next().unwrap_or_default()))
        .collect();
    let builtin: BTreeSet<String> = features::builtin().into_iter().map(|f| f.path).collect();
    assert_eq!(builtin, on_disk, "update features::BUILTIN when adding or removing a feature file");
    let kustom_dir = dir.join("kustom");
    let on_disk: BTreeSet<String> = features::from_dir(&kustom_dir)
        .expect("features/kustom dir")
        .into_iter()
        .map(|f| format!("features/kustom/{}", f.path.rsplit('/').next().unwrap_or_default()))
        .collect();
    let kustom: BTreeSet<String> = features::kustom().into_iter().map(|f| f.path).collect();
    assert_eq!(kustom, on_disk, "update features::KUSTOM when adding or removing a Kustom feature file");
}

#[test]
fn every_then_step_names_a_rule() {
    use cucumber::gherkin::StepType;
    for file in all_features() {
        let feature = features::parse(&file).unwrap_or_else(|e| panic!("{e}"));
        for scenario in &feature.scenarios {
            for step in scenario.steps.iter().filter(|s| s.ty == StepType::Then) {
                let names_rule = step.value.rsplit_once('[').is_some_and(|(_, tail)| {
                    tail.ends_with(']') && viopay_check::catalogue::Catalogue::is_rule_tag(&tail[..tail.len() - 1])
                });
                assert!(names_rule, "{}:{}: a Then step without a [RULE-ID]: {}", file.path, step.position.line, step.value);
            }
        }
    }
}

/// The exempt client rules are not dropped on the floor: the simulator's verdict judges exactly
/// the CLI rules of the catalogue, each at the catalogue's level.
#[test]
fn every_client_rule_is_judged_by_the_simulator_verdict_at_its_level() {
    use viopay_check::catalogue::Level;
    let catalogue = Catalogue::builtin();
    let expected: Vec<(String, bool)> = catalogue
        .iter()
        .filter(|r| r.id.starts_with("CLI-") && r.is_checked())
        .map(|r| (r.id.clone(), r.level == Level::Required))
        .collect();
    let judged: Vec<(String, bool)> =
        viopay_sim::verdict::CLI_RULES.iter().map(|r| (r.id.to_owned(), r.level == viopay_sim::verdict::Level::Required)).collect();
    assert_eq!(judged, expected);
    assert_eq!(judged.len(), 17);
}
