//! The rule catalogue against the scenarios: every "now" REQUIRED or SIMULATOR rule has a
//! scenario tagged with its ID, and every rule tag names a real rule.

use std::collections::BTreeSet;

use viopay_check::catalogue::Catalogue;
use viopay_check::features;

fn tagged_rules() -> BTreeSet<String> {
    let mut tags = BTreeSet::new();
    for file in features::builtin() {
        let feature = features::parse(&file).unwrap_or_else(|e| panic!("{e}"));
        for scenario in &feature.scenarios {
            tags.extend(features::rule_tags(&feature, scenario));
        }
    }
    tags
}

#[test]
fn every_checked_rule_has_a_scenario() {
    let catalogue = Catalogue::builtin();
    let tagged = tagged_rules();
    let missing: Vec<&str> = catalogue.iter().filter(|r| r.is_checked() && !tagged.contains(&r.id)).map(|r| r.id.as_str()).collect();
    assert!(missing.is_empty(), "rules without a scenario: {missing:?}");
    assert_eq!(catalogue.iter().filter(|r| r.is_checked()).count(), 109);
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
}

#[test]
fn every_then_step_names_a_rule() {
    use cucumber::gherkin::StepType;
    for file in features::builtin() {
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
