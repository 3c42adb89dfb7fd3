//! One terminal's activation journey as firmware walks it, and its merchant's claim: bootstrap, a
//! pairing code, status polls on a jittered 3–5 s schedule, a new code when one expires; the
//! merchant claims each code after a think time (sometimes twice at once, a double click;
//! sometimes never). Every answer is judged by the harness's model of this terminal (the same
//! model as `run` and `fuzz`) and the run's judge; the terminal stops at a failure-level break,
//! like a scenario.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use futures::future::join;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::Shared;
use super::judging::Halt;
use super::transport::Prepared;
use crate::client::ApiRequest;
use crate::exchange::Exchange;
use crate::judge::Ruling;
use crate::model::clock::ModelClock;
use crate::model::{ActivateBody, AttestFault, Device, Expect, Model, Step};
use crate::pos::device::{PosDevice, TokenChoice};
use crate::pos::verify::Terminal as PosTerminal;
use crate::session::Session;
use time::OffsetDateTime;

/// A request as the terminal sends it: made for this once, or prepared for sending again and again.
enum Outgoing<'a> {
    Once(&'a ApiRequest),
    Prepared(&'a Prepared),
}

/// The merchant side's plan for the terminal's current code.
struct Claim {
    /// Seconds into the run.
    at: f64,
    code: usize,
    twice: bool,
}

pub(super) struct Terminal {
    shared: Arc<Shared>,
    merchant: usize,
    model: Model,
    clock: ModelClock,
    device: String,
    rng: StdRng,
    never_claimed: bool,
    double: bool,
    /// The body of the last answer [`Terminal::send`] judged, as parsed for judging (`Null` when
    /// it was not JSON): the journey reads a status answer's reading from it without parsing
    /// the body again.
    answer: serde_json::Value,
}

impl Terminal {
    /// Runs terminal `index`, arriving at `arrive` seconds into the run; `plan`: never claimed,
    /// claims sent twice.
    pub async fn run(shared: Arc<Shared>, index: usize, arrive: f64, (never_claimed, double): (bool, bool)) {
        let rng = StdRng::seed_from_u64(shared.seed.rotate_left(17) ^ index as u64);
        let merchant = index % shared.target.merchants.len().max(1);
        shared.sleep_until(arrive).await;
        if shared.past_deadline() {
            return;
        }
        let label = shared.target.merchants.get(merchant).map_or("A", |m| m.label);
        let taken = {
            let _permit = shared.inflight.acquire().await;
            shared.target.take_device(&shared.client, label).await
        };
        let device = match taken {
            Ok(id) => id,
            Err(e) => {
                shared.stop(format!("terminal {index} could not be given a device: {e}"));
                return;
            }
        };
        shared.progress.arrived.fetch_add(1, Ordering::Relaxed);
        let real = !shared.target.frozen;
        let mut t = Terminal {
            model: Model::new(vec![Device::new(device.clone(), merchant)], real),
            clock: ModelClock::new(shared.target.frozen),
            shared,
            merchant,
            device,
            rng,
            never_claimed,
            double,
            answer: serde_json::Value::Null,
        };
        let started = Instant::now();
        let mut outcome = t.journey(arrive).await;
        if outcome.is_ok() {
            t.shared.progress.claimed.fetch_add(1, Ordering::Relaxed);
            if t.shared.workload.activate {
                outcome = t.activate().await;
                if outcome.is_ok() {
                    t.shared.progress.activated.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        match outcome {
            Ok(()) => t.shared.stats.lock().journey_done(started.elapsed()),
            Err(Halt::Deadline) if t.never_claimed => {
                t.shared.progress.unclaimed_by_design.fetch_add(1, Ordering::Relaxed);
            }
            Err(Halt::Deadline) => {
                t.shared.progress.unfinished.fetch_add(1, Ordering::Relaxed);
            }
            Err(Halt::Broken | Halt::Failed) => {
                t.shared.progress.halted.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn uniform(&mut self, (lo, hi): (f64, f64)) -> f64 {
        if hi > lo { self.rng.random_range(lo..hi) } else { lo }
    }

    /// Power-on to claimed.
    async fn journey(&mut self, arrive: f64) -> Result<(), Halt> {
        let mut due = arrive;
        let bootstrap = self.model.bootstrap(0);
        self.send(due, "bootstrap", &Session::pos("POST", "/pos/bootstrap", &self.device), &bootstrap).await?;
        let mut claim = self.new_code(due).await?;
        self.shared.progress.waiting.fetch_add(1, Ordering::Relaxed);
        let mut poll = self.next_poll(due);
        // The same request every poll: built once, in the wire's terms too.
        let status = self.shared.wire.prepare(Session::pos("GET", "/pos/status", &self.device));
        let result = loop {
            let claim_first = claim.as_ref().is_some_and(|c| c.at <= poll);
            due = if claim_first { claim.as_ref().map_or(poll, |c| c.at) } else { poll };
            if due > self.shared.deadline_secs() {
                break Err(Halt::Deadline);
            }
            self.shared.sleep_until(due).await;
            if claim_first {
                if let Some(c) = claim.take() {
                    self.claim(&c).await?;
                }
                continue;
            }
            let expect = self.model.status(0);
            let (_, label) = self.judged(due, "status", Outgoing::Prepared(&status), &expect).await?;
            self.model.status_read(0, label);
            if self.model.devices[0].claimed {
                break Ok(());
            }
            if self.answer["pairing_code_status"] == "expired" {
                claim = self.new_code(due).await?;
            }
            poll = self.next_poll(poll);
        };
        self.shared.progress.waiting.fetch_sub(1, Ordering::Relaxed);
        result
    }

    /// When the next poll is due: on the schedule (a poll late behind a slow answer keeps its due
    /// time, so its wait counts), or right away when polls have no pause (a closed loop, whose
    /// intended time is the previous answer's arrival).
    fn next_poll(&mut self, last: f64) -> f64 {
        let pause = self.uniform(self.shared.workload.poll);
        if pause > 0.0 { last + pause } else { self.shared.start.elapsed().as_secs_f64() }
    }

    /// Requests a pairing code and plans its claim.
    async fn new_code(&mut self, due: f64) -> Result<Option<Claim>, Halt> {
        let expect = self.model.request_code(0);
        let (ex, label) = self.send(due, "pairing-code", &Session::pos("POST", "/pos/pairing-code", &self.device), &expect).await?;
        let Some(code) = ex.json().and_then(|v| v["pairing_code"].as_str().map(str::to_owned)).filter(|_| label == "issued") else {
            return Ok(None);
        };
        self.model.issued(0, code);
        if self.never_claimed {
            return Ok(None);
        }
        let at = match self.shared.workload.burst_at {
            Some(at) => at.max(due),
            None => due + self.uniform(self.shared.workload.claim_after),
        };
        Ok(Some(Claim { at, code: self.model.devices[0].codes.len() - 1, twice: self.double }))
    }

    /// The merchant claims the code: once, or twice at once (CLAIM-21: exactly one wins).
    async fn claim(&mut self, c: &Claim) -> Result<(), Halt> {
        let (token, stale) = self.shared.token(self.merchant, c.at).await.ok_or(Halt::Failed)?;
        let value = self.model.devices[0].codes[c.code].value.clone();
        if let Some(old) = stale {
            // AUTH-14, CLAIM-03: a token past its lifetime is refused, under load as at rest.
            let expect = self.model.bad_token();
            self.send(c.at, "claim", &Session::bearer_claim(&old, &value), &expect).await?;
        }
        let req = Session::bearer_claim(&token, &value);
        let expect = self.model.claim(self.merchant, 0, c.code);
        if !c.twice {
            let (ex, label) = self.send(c.at, "claim", &req, &expect).await?;
            self.model.claim_answered(0, c.code, label, ex.status);
            return Ok(());
        }
        self.sync_clock();
        let sent = Instant::now();
        let (a, b) = join(self.shared.send(&req), self.shared.send(&req)).await;
        for ex in [&a, &b] {
            self.shared.recorded(c.at, "claim", ex, sent);
        }
        if let Some(lost) = [&a, &b].into_iter().find(|ex| ex.status.is_none()) {
            // No answer is no verdict: the claim may or may not have landed.
            self.shared.note_transport(lost);
            return Err(Halt::Failed);
        }
        let mut winners = 0;
        for ex in [&a, &b] {
            self.shared.checked(&req, ex)?;
            winners += usize::from(ex.status == Some(200));
        }
        let (first, second) = if b.status == Some(200) { (&b, &a) } else { (&a, &b) };
        let timer = Instant::now();
        let label = self.shared.verdict(&expect, first)?;
        if winners > 1 {
            self.shared.rule(Ruling::broken("CLAIM-21", "two claims of one code sent at once both succeeded"), Some(second))?;
        } else if winners == 1 && !second.status.is_some_and(|s| (400..500).contains(&s)) {
            let got = second.excerpt();
            self.shared.rule(
                Ruling::broken("CLAIM-21", format!("the losing claim of a code sent twice at once must be refused; got {got}")),
                Some(second),
            )?;
        }
        self.shared.stats.lock().judged(timer.elapsed());
        self.model.claim_answered(0, c.code, label, first.status);
        Ok(())
    }

    /// Steps 5–8 as the terminal: attest (its identity key), keys (unwrapped from its ZMK, every
    /// KCV checked), config and terminal parameters (opened under the MSK), activate with the
    /// three flags. Each answer judged by the model, each payload by the terminal's own checks.
    async fn activate(&mut self) -> Result<(), Halt> {
        let secrets = {
            let _permit = self.shared.inflight.acquire().await;
            self.shared.target.device_secrets(&self.shared.client, &self.device).await
        };
        let secrets = match secrets {
            Ok(s) => s,
            Err(e) => {
                self.shared.stop(format!("steps 5–8 need each device's identity key and ZMK (or give --steps 1-4): {e}"));
                return Err(Halt::Failed);
            }
        };
        let mut pos = PosDevice::new(0, PosTerminal::new(&self.device, Some(secrets)));
        self.attest(&mut pos, self.shared.start.elapsed().as_secs_f64()).await?;
        for (step, endpoint) in
            [(Step::Keys, "keys"), (Step::Config, "config"), (Step::Parameters, "terminal-parameters"), (Step::Activate, "activate")]
        {
            let body = (step == Step::Activate).then(ActivateBody::ready);
            let Some((req, credential)) = pos.step(step, &TokenChoice::Latest, None, body.as_ref()) else { return Err(Halt::Failed) };
            let expect = self.model.step(0, step, credential, body.as_ref());
            let due = self.shared.start.elapsed().as_secs_f64();
            let (ex, label) = self.send(due, endpoint, &req, &expect).await?;
            self.model.stepped(0, step, ex.status);
            let served = matches!(label, "keys" | "config" | "parameters" | "activated") && ex.status == Some(200);
            if !served || self.answer.is_null() {
                return Err(Halt::Failed);
            }
            // The body as `send` parsed it for judging.
            let v = std::mem::take(&mut self.answer);
            let schemas = &self.shared.schemas;
            // One fleet for all terminals: terminal ids stay unique across the whole run (CFG-06).
            let problems = {
                let mut fleet = self.shared.fleet.lock();
                match step {
                    Step::Keys => pos.terminal.keys_answered(&v, None),
                    Step::Config => pos.terminal.config_answered(schemas, &mut fleet, &v, None),
                    Step::Parameters => pos.terminal.parameters_answered(schemas, &mut fleet, &v),
                    Step::Activate => pos.terminal.activate_answered(schemas, &v, None),
                }
            };
            for p in problems {
                self.shared.rule(Ruling::broken(p.rule, p.message), Some(&ex))?;
            }
        }
        if let Some(at) = self.shared.workload.storm_at {
            // The storm: every activated terminal attests again at the same second (ATT-19).
            self.shared.sleep_until(at).await;
            self.attest(&mut pos, at).await?;
        }
        Ok(())
    }

    /// Attests as the terminal (a fresh nonce, its identity key), due at `due`; the token issued
    /// is the one the next steps carry.
    async fn attest(&mut self, pos: &mut PosDevice, due: f64) -> Result<(), Halt> {
        self.sync_clock();
        let model_now = self.model.now;
        let call = pos.attest(&AttestFault::None, OffsetDateTime::now_utc(), model_now).ok_or(Halt::Failed)?;
        let expect = self.model.attest(0, &AttestFault::None);
        let (ex, label) = self.send(due, "attest", &call.request, &expect).await?;
        pos.attested(&call, &ex, label, model_now);
        Ok(())
    }

    fn sync_clock(&mut self) {
        if self.clock.running() {
            self.model.now = self.clock.now();
        }
    }

    /// Sends a request due at `due`, records its latency from then, and judges the answer.
    async fn send(
        &mut self,
        due: f64,
        endpoint: &'static str,
        req: &ApiRequest,
        expect: &Expect,
    ) -> Result<(Exchange, &'static str), Halt> {
        self.judged(due, endpoint, Outgoing::Once(req), expect).await
    }

    /// [`Terminal::send`] for either kind of [`Outgoing`] request.
    async fn judged(
        &mut self,
        due: f64,
        endpoint: &'static str,
        outgoing: Outgoing<'_>,
        expect: &Expect,
    ) -> Result<(Exchange, &'static str), Halt> {
        self.sync_clock();
        let sent = Instant::now();
        let (req, ex) = match outgoing {
            Outgoing::Once(req) => (req, self.shared.send(req).await),
            Outgoing::Prepared(prepared) => (prepared.request(), self.shared.send_prepared(prepared).await),
        };
        self.shared.recorded(due, endpoint, &ex, sent);
        if ex.status.is_none() {
            self.shared.note_transport(&ex);
            return Err(Halt::Failed);
        }
        // The answer may have been decided any time during the exchange: the model's window.
        self.model.slack = if self.clock.running() { 1.5 + ex.elapsed_ms as f64 / 1000.0 } else { 0.0 };
        let timer = Instant::now();
        // One parse of the body serves the checks and the model.
        let parsed = crate::json::parse(&ex.response_body);
        self.shared.checked_parsed(req, &ex, parsed.as_ref())?;
        self.answer = parsed.map_or(serde_json::Value::Null, |p| p.value);
        let label = self.shared.verdict_parsed(expect, &ex, &self.answer)?;
        self.shared.stats.lock().judged(timer.elapsed());
        Ok((ex, label))
    }
}
