//! The rule catalogue (`rules.toml`): every rule ID with its level, release and statement. Kept as
//! data so that reports, the coverage test and `viopay-check rules` read one source.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

const RULES_TOML: &str = include_str!("../rules.toml");

/// The rules document generated from `rules.toml` (`viopay-check rules --markdown`), which every
/// report links to so that a reader can look a rule ID up.
pub const RULES_DOC: &str = "RULES.md";

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

/// Which API a rule belongs to. The catalogue holds both rule indexes (their prefixes differ);
/// a run judges one API's rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Api {
    Viopay,
    Kustom,
}

/// KUSTOM-API.md §0.2: the prefixes of Kustom's rules (VioPay's `KEYS` starts with a K too).
pub const KUSTOM_FAMILIES: [&str; 9] = ["KCONV", "KAUTH", "KERR", "KEN", "KREG", "KDEV", "KLOC", "KTIME", "KFLOW"];

impl Rule {
    pub fn api(&self) -> Api {
        if KUSTOM_FAMILIES.contains(&self.id.split('-').next().unwrap_or_default()) { Api::Kustom } else { Api::Viopay }
    }

    /// "now" rules with a level the harness asserts.
    pub fn is_checked(&self) -> bool {
        self.release == Release::Now && self.level != Level::Unknown
    }
}

/// A rule ID that the catalogue knows, with its level. Only [`Catalogue::id`] makes one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleId {
    id: String,
    level: Level,
}

impl RuleId {
    pub fn as_str(&self) -> &str {
        &self.id
    }

    pub fn level(&self) -> Level {
        self.level
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id)
    }
}

impl Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.id)
    }
}

impl PartialEq<&str> for RuleId {
    fn eq(&self, other: &&str) -> bool {
        self.id == *other
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule ID `{0}`: rules.toml has no such rule")]
pub struct UnknownRule(pub String);

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

    /// The rules of one API: what a run of that API judges and reports.
    pub fn only(&self, api: Api) -> Catalogue {
        Self::from_rules(self.iter().filter(|r| r.api() == api).cloned().collect())
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.get(id)
    }

    /// Parses a rule ID against the catalogue. An ID the catalogue does not know is an error, never
    /// a silent default: a typo in a step or in the model must not weaken (or invent) a check.
    pub fn id(&self, id: &str) -> Result<RuleId, UnknownRule> {
        match self.rules.get(id) {
            Some(rule) => Ok(RuleId { id: rule.id.clone(), level: rule.level }),
            None => Err(UnknownRule(id.to_owned())),
        }
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
        assert_eq!(c.iter().count(), 235 + 170, "VioPay's rule index and Kustom's");
        let kustom = |r: &&Rule| r.api() == Api::Kustom;
        assert_eq!(c.iter().filter(|r| r.is_checked() && r.level == Level::Required && !kustom(r)).count(), 99);
        assert_eq!(c.iter().filter(|r| r.is_checked() && r.level == Level::Simulator && !kustom(r)).count(), 122);
        assert_eq!(c.iter().filter(kustom).filter(|r| r.level == Level::Required).count(), 49);
        assert_eq!(c.iter().filter(kustom).filter(|r| r.level == Level::Simulator).count(), 96);
        assert_eq!(c.iter().filter(kustom).filter(|r| r.level == Level::Unknown).count(), 25);
        assert_eq!(c.id("KDEV-20").map(|r| r.level()), Ok(Level::Required));
        assert_eq!(c.id("CLAIM-16").map(|r| r.level()), Ok(Level::Required));
        assert_eq!(c.id("CLAIM-24").map(|r| r.level()), Ok(Level::Simulator));
        assert_eq!(c.id("AUTH-14").map(|r| r.level()), Ok(Level::Required));
        assert_eq!(c.id("NOPE-99"), Err(UnknownRule("NOPE-99".into())), "an unknown ID is an error, not REQUIRED");
    }

    #[test]
    fn rule_tags_are_recognised() {
        assert!(Catalogue::is_rule_tag("CLAIM-16"));
        assert!(!Catalogue::is_rule_tag("slow"));
        assert!(!Catalogue::is_rule_tag("needs-clock"));
        assert!(!Catalogue::is_rule_tag("CLAIM-"));
    }
}
