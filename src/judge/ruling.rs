//! What one answer shows under one rule, whichever API's model said it.

use crate::model::Verdict;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ruling {
    /// The answer breaks the rule; its level decides how much that weighs.
    Broken { rule: &'static str, message: String },
    /// An answer the rules allow that is not the simulator's choice under this (SIMULATOR) rule:
    /// an advisory. `branch`: the target's state is not the simulator's from here on, so checks
    /// written for the simulator's branch are "not verified".
    Differs { rule: &'static str, message: String, branch: bool },
    /// An answer the rule lists as conforming or leaves UNKNOWN: nothing to report, though the
    /// target may now be on another branch.
    Permitted { rule: &'static str, message: String, branch: bool },
}

impl Ruling {
    pub fn broken(rule: &'static str, message: impl Into<String>) -> Self {
        Ruling::Broken { rule, message: message.into() }
    }

    pub fn differs(rule: &'static str, message: impl Into<String>) -> Self {
        Ruling::Differs { rule, message: message.into(), branch: false }
    }

    /// A difference after which the target is on another branch (see [`Ruling::Differs`]).
    pub fn branch(rule: &'static str, message: impl Into<String>) -> Self {
        Ruling::Differs { rule, message: message.into(), branch: true }
    }

    pub fn rule(&self) -> &'static str {
        match self {
            Ruling::Broken { rule, .. } | Ruling::Differs { rule, .. } | Ruling::Permitted { rule, .. } => rule,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Ruling::Broken { message, .. } | Ruling::Differs { message, .. } | Ruling::Permitted { message, .. } => message,
        }
    }

    pub fn leaves_branch(&self) -> bool {
        match self {
            Ruling::Broken { .. } => false,
            Ruling::Differs { branch, .. } | Ruling::Permitted { branch, .. } => *branch,
        }
    }

    pub fn into_parts(self) -> (&'static str, String) {
        match self {
            Ruling::Broken { rule, message } | Ruling::Differs { rule, message, .. } | Ruling::Permitted { rule, message, .. } => {
                (rule, message)
            }
        }
    }

    /// VioPay's verdict on one response: nothing for the simulator's own answer.
    pub fn from_verdict(verdict: &Verdict) -> Option<Ruling> {
        match verdict {
            Verdict::Choice { .. } => None,
            Verdict::Alternative { rule, advisory: true, message, .. } => {
                Some(Ruling::Differs { rule, message: message.clone(), branch: true })
            }
            Verdict::Alternative { rule, advisory: false, message, .. } => {
                Some(Ruling::Permitted { rule, message: message.clone(), branch: true })
            }
            Verdict::Broken { rule, message } => Some(Ruling::broken(rule, message.clone())),
        }
    }
}
