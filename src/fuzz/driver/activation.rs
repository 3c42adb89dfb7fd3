//! Steps 5–8 in a fuzz case: attests, keys, config, terminal parameters and activates, built by
//! the same [`PosDevice`] the Gherkin steps use, judged by the same model and verified by the same
//! terminal checks. An operation the device cannot make yet (no token, no secrets) is skipped.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Case, CaseError, device_name, then_for};
use crate::client::ApiRequest;
use crate::fuzz::ops::{AttestKind, Op, TokenRef};
use crate::model::{ActivateBody, AttestFault, Step};
use crate::pos::device::{PosDevice, TokenChoice};
use crate::targets::ClockControl;

impl Case<'_> {
    /// The target's time: its readable clock, else this machine's.
    fn target_time(&self) -> OffsetDateTime {
        if self.ctx.target.clock_readable {
            let ex = self.handle.block_on(self.ctx.client.send(&ApiRequest::new("GET", "/_sim/clock")));
            if let Some(t) = ex.json().and_then(|v| v["now"].as_str().and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())) {
                return t;
            }
        }
        OffsetDateTime::now_utc()
    }

    /// As the scenarios' `exact_time`: only a clock that stands still between moves.
    fn exact_time(&self) -> Option<OffsetDateTime> {
        let t = &self.ctx.target;
        (t.clock == ClockControl::Control && t.frozen && t.clock_readable).then(|| self.target_time())
    }

    pub(super) fn attest(&mut self, op: &Op, d: usize, kind: AttestKind) -> Result<(), CaseError> {
        let model_now = self.oracle.now;
        let Some(p) = self.pos.get(d).and_then(Option::as_ref) else { return Ok(()) };
        let (fault, words) = match kind {
            AttestKind::Good => (AttestFault::None, "attests".to_owned()),
            AttestKind::Skewed(s) => (AttestFault::Skewed(s), format!("attests with X-Timestamp {s} seconds from the target's time")),
            AttestKind::ReusedNonce => {
                let Some((_, at)) = p.nonces.last() else { return Ok(()) };
                (AttestFault::ReusedNonce { age: model_now - at }, "attests again with the nonce of its last attest".to_owned())
            }
            AttestKind::BadSignature => (AttestFault::BadSignature, "attests with a signature under another secret".to_owned()),
            AttestKind::UnknownKey => (AttestFault::UnknownKey, "attests with an unknown key id".to_owned()),
            AttestKind::Missing(h) => (AttestFault::Missing(h), format!("attests without the \"{}\" header", h.name())),
        };
        let now = self.target_time();
        let Some(call) = self.pos[d].as_ref().and_then(|p| p.attest(&fault, now, model_now)) else { return Ok(()) };
        self.begin(op, format!("When device \"{}\" {words}", device_name(d)));
        let ex = self.send(call.request.clone())?;
        let e = self.oracle.attest(d, &fault);
        let label = self.expect(&e, &ex, then_for(&e, d))?;
        if let Some(p) = self.pos[d].as_mut() {
            p.attested(&call, &ex, label, model_now);
        }
        Ok(())
    }

    pub(super) fn call(&mut self, op: &Op, d: usize, step: Step, token: TokenRef, body: Option<ActivateBody>) -> Result<(), CaseError> {
        let Some(p) = self.pos.get(d).and_then(Option::as_ref) else { return Ok(()) };
        if step != Step::Keys && p.terminal.zmk().is_none() {
            return Ok(());
        }
        let (choice, other, words) = match token {
            TokenRef::Own => (TokenChoice::Latest, None, String::new()),
            TokenRef::Missing => (TokenChoice::Missing, None, " with no Authorization header".to_owned()),
            TokenRef::Of(o) => {
                let other: Option<PosDevice> = self.pos.get(o).cloned().flatten();
                let Some(other) = other.filter(|x| x.index != d) else { return Ok(()) };
                (TokenChoice::Of { device: other.index }, Some(other), format!(" with device \"{}\"'s token", device_name(o)))
            }
        };
        let Some((req, credential)) = p.step(step, &choice, other.as_ref(), body.as_ref()) else { return Ok(()) };
        let when = match &body {
            Some(b) => format!("When device \"{}\" activates with {}", device_name(d), b.words()),
            None => format!("When device \"{}\" calls {}{words}", device_name(d), step.name()),
        };
        self.begin(op, when);
        let at = self.exact_time();
        let ex = self.send(req)?;
        let e = self.oracle.step(d, step, credential, body.as_ref());
        let then = then_for(&e, d);
        let label = self.expect(&e, &ex, then.clone())?;
        self.oracle.stepped(d, step, ex.status);
        let served = matches!(label, "keys" | "config" | "parameters" | "activated") && ex.status == Some(200);
        let Some(v) = ex.json().filter(|_| served) else { return Ok(()) };
        let schemas = &self.ctx.schemas;
        let mut fleet = std::mem::take(&mut self.fleet);
        let found = match self.pos[d].as_mut() {
            Some(p) => match step {
                Step::Keys => p.terminal.keys_answered(&v, at),
                // CFG-07's defaults hold only for merchants of the simulator's own fixtures; the
                // fuzzer leaves them to the scenarios.
                Step::Config => p.terminal.config_answered(schemas, &mut fleet, &v, None),
                Step::Parameters => p.terminal.parameters_answered(schemas, &mut fleet, &v),
                Step::Activate => p.terminal.activate_answered(schemas, &v, at),
            },
            None => Vec::new(),
        };
        self.fleet = fleet;
        for problem in found {
            self.ctx.exercised.lock().insert(problem.rule.to_owned());
            let then = format!("Then the target recorded no finding for {} [{}]", problem.rule, problem.rule);
            self.found(problem.rule, problem.message, Some(&ex), then)?;
        }
        Ok(())
    }
}
