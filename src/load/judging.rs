//! How a load run records and judges each answer: latency from the intended send time, the
//! checks that hold for every response, the model's verdict weighed by the run's judge, and a
//! tally of findings by rule. Terminals and merchants both go through here.

use std::time::{Duration, Instant};

use super::Shared;
use crate::client::ApiRequest;
use crate::exchange::Exchange;
use crate::judge::Ruling;
use crate::model::{Expect, judge_parsed};

/// Why a terminal stopped before its journey's end.
pub(super) enum Halt {
    /// A rule broke at failure level (already recorded).
    Broken,
    /// No answer, or the target could not give a device.
    Failed,
    /// The run's time is up.
    Deadline,
}

impl Shared {
    /// Latency from when the request was due to when its answer was complete.
    pub(super) fn recorded(&self, due: f64, endpoint: &'static str, ex: &Exchange, sent: Instant) {
        let late = (sent - self.start).as_secs_f64() - due;
        let latency = sent.elapsed() + Duration::from_secs_f64(late.max(0.0));
        let error = ex.status.is_none_or(|s| s >= 500);
        self.stats.lock().record(endpoint, due, latency, error);
    }

    pub(super) fn note_transport(&self, ex: &Exchange) {
        let mut t = self.transport.lock();
        t.0 += 1;
        if t.1.is_none() {
            t.1 = Some(ex.excerpt());
        }
    }

    /// The checks that hold for every answer (schemas, trace ids, no 5xx).
    pub(super) fn checked(&self, req: &ApiRequest, ex: &Exchange) -> Result<(), Halt> {
        self.checked_parsed(req, ex, crate::json::parse(&ex.response_body).as_ref())
    }

    /// [`Shared::checked`] on a body already parsed (`None`: not JSON).
    pub(super) fn checked_parsed(&self, req: &ApiRequest, ex: &Exchange, parsed: Option<&crate::json::Parsed>) -> Result<(), Halt> {
        let (findings, _) = crate::checks::exchange_findings_parsed(&self.schemas, req, ex, parsed);
        let mut halt = false;
        for (rule, message) in findings {
            self.exercise(&rule);
            match self.judge.finding(&rule, message, Some(ex)) {
                Ok(finding) => {
                    halt |= finding.is_failure(self.judge.strict);
                    self.tally(finding);
                }
                Err(e) => {
                    self.stop(format!("a defect of the harness's checks: {e}"));
                    return Err(Halt::Failed);
                }
            }
        }
        if halt { Err(Halt::Broken) } else { Ok(()) }
    }

    /// Notes a rule as judged in this run (allocating only the first time: every answer passes).
    fn exercise(&self, rule: &str) {
        let mut exercised = self.exercised.lock();
        if !exercised.contains(rule) {
            exercised.insert(rule.to_owned());
        }
    }

    fn tally(&self, finding: crate::verdict::Finding) {
        let mut tally = self.findings.lock();
        tally.entry(finding.rule.to_string()).or_insert_with(|| (0, finding)).0 += 1;
    }

    /// The model's verdict on one answer, weighed; returns the branch the target took.
    pub(super) fn verdict(&self, expect: &Expect, ex: &Exchange) -> Result<&'static str, Halt> {
        self.verdict_parsed(expect, ex, &ex.json().unwrap_or(serde_json::Value::Null))
    }

    /// [`Shared::verdict`] on a body already parsed (`Null`: not JSON).
    pub(super) fn verdict_parsed(&self, expect: &Expect, ex: &Exchange, body: &serde_json::Value) -> Result<&'static str, Halt> {
        self.exercise(expect.rule);
        let verdict = judge_parsed(expect, ex, body);
        if let Some(ruling) = Ruling::from_verdict(&verdict) {
            self.rule(ruling, Some(ex))?;
        }
        Ok(verdict.label())
    }

    /// Weighs a ruling and tallies its finding; a failure-level one halts the terminal.
    pub(super) fn rule(&self, ruling: Ruling, ex: Option<&Exchange>) -> Result<(), Halt> {
        self.exercise(ruling.rule());
        let weighed = match self.judge.weigh(ruling, ex) {
            Ok(w) => w,
            Err(e) => {
                self.stop(format!("a defect of the harness's model: {e}"));
                return Err(Halt::Failed);
            }
        };
        if let Some(finding) = weighed.finding {
            self.tally(finding);
        }
        if weighed.fails { Err(Halt::Broken) } else { Ok(()) }
    }
}
