//! Every REQUIRED and SIMULATOR rule of steps 5–8 (§5: FLOW-03, ATT, IDK, KEYS, CFG, TPAR, ACT,
//! MSK, and DEV-03 and TIME-05 of the timing and device tables) is named by a simulator test, so
//! grepping a rule ID finds the test that checks it. IDs are read from `rules.toml`.

mod rule_text;

#[test]
fn every_rule_of_steps_5_to_8_is_named_by_a_test() {
    let text = rule_text::test_code(&["tests", "src"]);
    let mut missing = Vec::new();
    let mut counted = 0;
    for (id, level) in rule_text::rules() {
        let family = id.split('-').next().unwrap_or_default();
        let in_scope = ["ATT", "IDK", "KEYS", "CFG", "TPAR", "ACT", "MSK"].contains(&family)
            || ["FLOW-03", "DEV-03", "TIME-05"].contains(&id.as_str());
        if in_scope && level != "UNKNOWN" {
            counted += 1;
            if !text.contains(&id) {
                missing.push(id);
            }
        }
    }
    assert_eq!(counted, 93, "the rules of steps 5-8 in rules.toml");
    assert!(missing.is_empty(), "rules of steps 5-8 that no test names: {missing:?}");
}
