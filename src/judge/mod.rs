//! The one judge of both APIs. Every model (VioPay's [`crate::model`], Kustom's
//! [`crate::kustom::model`]) says what an answer shows as [`Ruling`]s; the [`Judge`] weighs each
//! at its rule's level (REQUIRED fails, SIMULATOR advises unless `--strict`, UNKNOWN is never
//! asserted, a `--baseline` rule is known), and the [`Ledger`] keeps what one scenario found.
//! The Gherkin Worlds of both APIs and both fuzzers go through here, so a rule is weighed the same
//! way whichever way it was reached.

mod ledger;
mod ruling;
mod tape;

use std::collections::BTreeSet;

pub(crate) use ledger::harness_error;
pub use ledger::{Ledger, Stop};
pub use ruling::Ruling;
pub use tape::{Mark, Tape, Taped};

use crate::catalogue::{Catalogue, Level, UnknownRule};
use crate::exchange::Exchange;
use crate::verdict::Finding;

/// How a run weighs findings: the catalogue's levels, `--strict` and `--baseline`.
#[derive(Debug, Clone)]
pub struct Judge {
    pub catalogue: Catalogue,
    pub strict: bool,
    /// Rule IDs of known deviations (`--baseline`): reported, never failing.
    pub baseline: BTreeSet<String>,
    /// Keep every scenario's and case's [`Tape`] (`viopay-check diff`).
    pub tape: bool,
}

/// What one ruling comes to.
#[derive(Debug)]
pub struct Weighed {
    /// What the report shows, if anything (never for an UNKNOWN rule or a permitted answer).
    pub finding: Option<Finding>,
    /// The finding fails the run (and stops the scenario or the case).
    pub fails: bool,
    /// The target took another branch the rules allow: why, for "not verified".
    pub branch: Option<String>,
}

impl Judge {
    pub fn new(catalogue: Catalogue, strict: bool, baseline: BTreeSet<String>) -> Self {
        Judge { catalogue, strict, baseline, tape: false }
    }

    /// The same judge, keeping tapes.
    pub fn taping(mut self, tape: bool) -> Self {
        self.tape = tape;
        self
    }

    /// How `ruling` marks its rule on a tape: what the rule's level makes of it, whatever
    /// `--strict` and `--baseline` then do with it.
    pub fn mark(&self, ruling: &Ruling) -> Mark {
        let level = self.catalogue.id(ruling.rule()).map(|id| id.level()).unwrap_or(Level::Required);
        match ruling {
            Ruling::Broken { .. } if level == Level::Unknown => Mark::Permitted,
            Ruling::Broken { .. } => Mark::Broken,
            Ruling::Differs { .. } if level == Level::Simulator => Mark::Differs,
            Ruling::Differs { .. } | Ruling::Permitted { .. } => Mark::Permitted,
        }
    }

    /// A finding under `rule` at its level, known when the baseline lists it. An ID the
    /// catalogue does not know is a defect of a feature or a model.
    pub fn finding(&self, rule: &str, message: String, exchange: Option<&Exchange>) -> Result<Finding, UnknownRule> {
        let id = self.catalogue.id(rule)?;
        let mut finding = Finding::new(id, message, exchange);
        finding.known = self.baseline.contains(finding.rule.as_str());
        Ok(finding)
    }

    /// Weighs one ruling on `exchange`.
    pub fn weigh(&self, ruling: Ruling, exchange: Option<&Exchange>) -> Result<Weighed, UnknownRule> {
        let level = self.catalogue.id(ruling.rule())?.level();
        let branch = ruling
            .leaves_branch()
            .then(|| format!("the target took another branch the rules allow ({}): {}", ruling.rule(), ruling.message()));
        let reported = match &ruling {
            Ruling::Broken { .. } => level != Level::Unknown,
            // A difference is advice on the SIMULATOR rule that fixes the simulator's choice;
            // under a REQUIRED or UNKNOWN rule it is simply allowed.
            Ruling::Differs { .. } => level == Level::Simulator,
            Ruling::Permitted { .. } => false,
        };
        let finding = if reported {
            let (rule, message) = ruling.into_parts();
            Some(self.finding(rule, message, exchange)?)
        } else {
            None
        };
        let fails = finding.as_ref().is_some_and(|f| f.is_failure(self.strict));
        Ok(Weighed { finding, fails, branch })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(strict: bool, baseline: &[&str]) -> Judge {
        Judge::new(Catalogue::builtin(), strict, baseline.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn a_required_break_fails_unless_baselined() {
        let w = judge(false, &[]).weigh(Ruling::broken("KREG-02", "got 404"), None).expect("known rule");
        assert!(w.fails);
        let w = judge(false, &["KREG-02"]).weigh(Ruling::broken("KREG-02", "got 404"), None).expect("known rule");
        assert!(!w.fails && w.finding.is_some_and(|f| f.known));
    }

    #[test]
    fn a_simulator_difference_advises_and_fails_only_under_strict() {
        for (strict, fails) in [(false, false), (true, true)] {
            let w = judge(strict, &[]).weigh(Ruling::differs("PAIR-05", "4220"), None).expect("known rule");
            assert_eq!(w.fails, fails);
            assert!(w.finding.is_some() && w.branch.is_none());
        }
    }

    #[test]
    fn unknown_rules_and_permitted_answers_are_never_asserted() {
        let w = judge(true, &[]).weigh(Ruling::broken("TIME-06", "forgotten"), None).expect("known rule");
        assert!(!w.fails && w.finding.is_none());
        let w =
            judge(true, &[]).weigh(Ruling::Permitted { rule: "PAIR-05", message: "4220".into(), branch: true }, None).expect("known rule");
        assert!(!w.fails && w.finding.is_none() && w.branch.is_some());
    }

    #[test]
    fn an_id_outside_the_catalogue_is_a_defect() {
        assert!(judge(false, &[]).weigh(Ruling::broken("NOPE-01", "x"), None).is_err());
    }
}
