//! Every REQUIRED and SIMULATOR rule of Kustom's API is named by a simulator test, so grepping a
//! rule ID finds the test that checks it. IDs are read from `rules.toml`.

#[path = "../rule_text/mod.rs"]
mod rule_text;

/// KUSTOM-API.md §0.2 (VioPay's `KEYS` starts with a K too).
const KUSTOM_FAMILIES: [&str; 9] = ["KCONV", "KAUTH", "KERR", "KEN", "KREG", "KDEV", "KLOC", "KTIME", "KFLOW"];

#[test]
fn every_kustom_rule_is_named_by_a_test() {
    // A test names a rule in its function name (`kreg_13_…`) or in an assertion message.
    let text = rule_text::test_code(&["tests/kustom", "src/kustom"]).to_uppercase().replace('_', "-");
    let mut missing = Vec::new();
    let mut counted = 0;
    for (id, level) in rule_text::rules() {
        let family = id.split('-').next().unwrap_or_default();
        if KUSTOM_FAMILIES.contains(&family) && level != "UNKNOWN" {
            counted += 1;
            // Whole IDs only: KEN-1 must not pass for KEN-10.
            let named = text.match_indices(id.as_str()).any(|(at, _)| !text[at + id.len()..].starts_with(|c: char| c.is_ascii_digit()));
            if !named {
                missing.push(id);
            }
        }
    }
    assert_eq!(counted, 145, "Kustom's REQUIRED and SIMULATOR rules in rules.toml");
    assert!(missing.is_empty(), "Kustom rules that no simulator test names: {missing:?}");
}
