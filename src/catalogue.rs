//! The rule catalogue (`rules.toml`): every rule ID with its level, release and statement. Kept as
//! data so that reports, the coverage test and `viopay-check rules` read one source.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

const RULES_TOML: &str = include_str!("../rules.toml");

/// How a difference from a rule is judged (spec §0.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// Documented: a target that breaks it fails.
    Required,
    /// The simulator's choice: a difference is an advisory (a failure with `--strict`).
    Simulator,
    /// Never asserted.
    Unknown,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Required => "REQUIRED",
            Level::Simulator => "SIMULATOR",
            Level::Unknown => "UNKNOWN",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Release {
    Now,
    Later,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Rule {
    pub id: String,
    pub level: Level,
    pub release: Release,
    pub statement: String,
}

impl Rule {
    /// "now" rules with a level the harness asserts.
    pub fn is_checked(&self) -> bool {
        self.release == Release::Now && self.level != Level::Unknown
    }
}

#[derive(Debug, Clone)]
pub struct Catalogue {
    rules: BTreeMap<String, Rule>,
    order: Vec<String>,
}

#[derive(Deserialize)]
struct File {
    rule: Vec<Rule>,
}

impl Catalogue {
    /// The catalogue compiled into the binary. `rules.toml` is checked by the test suite, so a
    /// parse failure here is a build defect, reported as an empty catalogue with a log line.
    pub fn builtin() -> Self {
        match toml::from_str::<File>(RULES_TOML) {
            Ok(file) => Self::from_rules(file.rule),
            Err(e) => {
                tracing::error!(error = %e, "rules.toml does not parse");
                Self::from_rules(Vec::new())
            }
        }
    }

    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        Ok(Self::from_rules(toml::from_str::<File>(text)?.rule))
    }

    fn from_rules(rules: Vec<Rule>) -> Self {
        let order = rules.iter().map(|r| r.id.clone()).collect();
        Catalogue { rules: rules.into_iter().map(|r| (r.id.clone(), r)).collect(), order }
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.get(id)
    }

    /// The level a check against `id` is judged at; an unknown ID is treated as REQUIRED so that a
    /// typo in a step cannot silently weaken a check.
    pub fn level(&self, id: &str) -> Level {
        self.get(id).map_or(Level::Required, |r| r.level)
    }

    /// Every rule, in the spec's order.
    pub fn iter(&self) -> impl Iterator<Item = &Rule> {
        self.order.iter().filter_map(|id| self.rules.get(id))
    }

    /// Whether a tag (without `@`) is a rule ID of the form `PREFIX-NN`.
    pub fn is_rule_tag(tag: &str) -> bool {
        let Some((prefix, num)) = tag.split_once('-') else { return false };
        !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_uppercase()) && num.len() >= 2 && num.bytes().all(|b| b.is_ascii_digit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_toml_parses_and_counts_match_the_spec_index() {
        let c = Catalogue::parse(RULES_TOML).expect("rules.toml");
        assert_eq!(c.iter().count(), 147);
        assert_eq!(c.iter().filter(|r| r.is_checked() && r.level == Level::Required).count(), 63);
        assert_eq!(c.iter().filter(|r| r.is_checked() && r.level == Level::Simulator).count(), 46);
        assert_eq!(c.level("CLAIM-16"), Level::Required);
        assert_eq!(c.level("PAIR-05"), Level::Simulator);
        assert_eq!(c.level("NOPE-99"), Level::Required);
    }

    #[test]
    fn rule_tags_are_recognised() {
        assert!(Catalogue::is_rule_tag("CLAIM-16"));
        assert!(!Catalogue::is_rule_tag("slow"));
        assert!(!Catalogue::is_rule_tag("needs-clock"));
        assert!(!Catalogue::is_rule_tag("CLAIM-"));
    }
}
