//! How a load run records and judges each answer: latency from the intended send time, the
//! checks that hold for every response, the model's verdict weighed by the run's judge, and a
//! tally of findings by rule. Terminals and merchants both go through here.

use std::time::{Duration, Instant};

use super::Shared;
use crate::client::ApiRequest;
use crate::exchange::Exchange;
use crate::judge::Ruling;
use crate::model::{Expect, judge};

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
        let (findings, _) = crate::checks::exchange_findings(&self.schemas, req, ex);
        let mut halt = false;
        for (rule, message) in findings {
            self.exercised.lock().insert(rule.clone());
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

    fn tally(&self, finding: crate::verdict::Finding) {
        let mut tally = self.findings.lock();
        tally.entry(finding.rule.to_string()).or_insert_with(|| (0, finding)).0 += 1;
    }

    /// The model's verdict on one answer, weighed; returns the branch the target took.
    pub(super) fn verdict(&self, expect: &Expect, ex: &Exchange) -> Result<&'static str, Halt> {
        self.exercised.lock().insert(expect.rule.to_owned());
        let verdict = judge(expect, ex);
        if let Some(ruling) = Ruling::from_verdict(&verdict) {
            self.rule(ruling, Some(ex))?;
        }
        Ok(verdict.label())
    }

    /// Weighs a ruling and tallies its finding; a failure-level one halts the terminal.
    pub(super) fn rule(&self, ruling: Ruling, ex: Option<&Exchange>) -> Result<(), Halt> {
        self.exercised.lock().insert(ruling.rule().to_owned());
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
