//! What one scenario found, whichever API it certifies: the findings at their levels, the checks
//! left "not verified" once the target took another allowed branch, notes, and why a scenario
//! stopped. Both APIs' Worlds keep one [`Ledger`] and record through it, so `--strict`,
//! `--baseline`, "not verified" and stopping are decided in one place.

use std::sync::Arc;
use std::time::Instant;

use super::{Judge, Mark, Ruling, Tape};
use crate::exchange::Exchange;
use crate::verdict::{Finding, Unverified};

/// Why a scenario stopped before its last step. Raised as a typed panic payload (cucumber's way
/// of failing a step) and read back by the runner by type, never by parsing text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// A rule broken at failure level; the finding is already recorded.
    Failed(String),
    /// The target lacks a capability the scenario needs.
    NotApplicable(String),
    /// The scenario should have run and could not (device pool exhausted).
    NotRun(String),
    /// No response, or a defect in the feature or the harness.
    Error(String),
}

impl Stop {
    pub fn raise(self) -> ! {
        std::panic::panic_any(self)
    }
}

/// Raises [`Stop::Error`] with a formatted message.
macro_rules! harness_error {
    ($($arg:tt)*) => { $crate::judge::Stop::Error(format!($($arg)*)).raise() };
}
pub(crate) use harness_error;

#[derive(Debug)]
pub struct Ledger {
    judge: Arc<Judge>,
    pub findings: Vec<Finding>,
    pub unverified: Vec<Unverified>,
    pub notes: Vec<String>,
    pub requests: usize,
    pub started: Instant,
    /// Where the target first took another branch than the simulator's.
    pub diverged: Option<String>,
    /// Every exchange with the rules judged on it, when the judge keeps tapes (`diff`).
    pub tape: Option<Tape>,
}

impl Ledger {
    pub fn new(judge: Arc<Judge>) -> Self {
        Ledger {
            findings: Vec::new(),
            unverified: Vec::new(),
            notes: Vec::new(),
            requests: 0,
            started: Instant::now(),
            diverged: None,
            tape: judge.tape.then(Tape::default),
            judge,
        }
    }

    /// Puts an exchange on the tape, if one is kept.
    pub fn taped(&mut self, exchange: &Exchange) {
        if let Some(tape) = &mut self.tape {
            tape.push(exchange);
        }
    }

    /// The last `n` exchanges on the tape are a set whose order a race decided ([`Tape::unordered`]).
    pub fn unordered(&mut self, n: usize) {
        if let Some(tape) = &mut self.tape {
            tape.unordered(n);
        }
    }

    /// The last answer is the simulator's own under `rule`.
    pub fn held(&mut self, rule: &str) {
        self.mark(rule, Mark::Held);
    }

    fn mark(&mut self, rule: &str, mark: Mark) {
        if let Some(tape) = &mut self.tape {
            tape.mark(rule, mark);
        }
    }

    pub fn strict(&self) -> bool {
        self.judge.strict
    }

    /// Records a broken rule at its level. Returns whether the scenario must stop (a
    /// failure-level finding). An unknown rule ID is a defect of a feature or a model.
    pub fn record(&mut self, rule: &str, message: String, exchange: Option<&Exchange>) -> bool {
        let finding = match self.judge.finding(rule, message, exchange) {
            Ok(f) => f,
            Err(e) => harness_error!("{e}"),
        };
        let fails = finding.is_failure(self.judge.strict);
        self.mark(rule, Mark::of_level(finding.level));
        self.findings.push(finding);
        fails
    }

    /// Records what a model ruled on `exchange`; stops the scenario on a failure-level finding and
    /// remembers the first branch the target took away from the simulator's.
    pub fn rule(&mut self, ruling: Ruling, exchange: Option<&Exchange>) {
        self.mark(ruling.rule(), self.judge.mark(&ruling));
        let weighed = match self.judge.weigh(ruling, exchange) {
            Ok(w) => w,
            Err(e) => harness_error!("{e}"),
        };
        if self.diverged.is_none() {
            self.diverged = weighed.branch;
        }
        if let Some(finding) = weighed.finding {
            let stop = weighed.fails.then(|| format!("{}: {}", finding.rule, finding.message));
            self.findings.push(finding);
            if let Some(summary) = stop {
                Stop::Failed(summary).raise();
            }
        }
    }

    /// Asserts one rule literally, as the simulator answers: a failure-level break stops the
    /// scenario; once the target took another allowed branch the check is "not verified", since
    /// the model has judged every request since and nothing REQUIRED goes unchecked.
    pub fn check(&mut self, rule: &str, ok: bool, message: impl FnOnce() -> String, last: Option<&Exchange>) {
        if ok {
            self.held(rule);
            return;
        }
        if let Some(reason) = &self.diverged {
            if self.judge.catalogue.id(rule).is_err() {
                harness_error!("unknown rule ID `{rule}` in a Then step");
            }
            self.unverified.push(Unverified { rule: rule.to_owned(), reason: reason.clone() });
            return;
        }
        let message = message();
        if self.record(rule, message.clone(), last) {
            let excerpt = last.map(|e| format!("\n  response: {}", e.excerpt())).unwrap_or_default();
            Stop::Failed(format!("{rule}: {message}{excerpt}")).raise();
        }
    }

    /// A precondition (a sign-in, a code to claim): checked as [`Self::check`] does, but never
    /// skipped after a divergence, since every later step builds on it.
    pub fn require(&mut self, rule: &str, ok: bool, message: impl FnOnce() -> String, last: Option<&Exchange>) {
        let diverged = self.diverged.take();
        self.check(rule, ok, message, last);
        self.diverged = diverged;
    }

    /// A note for the report, once.
    pub fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }
}
