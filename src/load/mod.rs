//! `viopay-check load`: a fleet of terminals activating at once, each judged like a scenario.
//! Terminals arrive at a rate, walk the journey as firmware does ([`terminal`]), their merchants
//! claim codes after a think time (some twice at once, some never); every answer goes through the
//! harness's model and the run's judge, so a rule broken under load is reported by ID with the
//! exchange. Latency is recorded from when each request was due ([`stats`]); objectives are the
//! CI gate ([`slo`]).

pub mod export;
mod judging;
mod report;
pub mod slo;
mod stats;
mod terminal;
mod transport;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

pub use report::LoadReport;
pub use slo::Slo;

use crate::client::Client;
use crate::judge::Judge;
use crate::schema::Schemas;
use crate::session::Session;
use crate::targets::{self, ConnectOptions, Target};
use crate::verdict::Finding;
use crate::{Catalogue, CheckError, CheckOptions, TargetSpec};

/// How terminals arrive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arrival {
    /// Terminals per second.
    Rate(f64),
    /// All of them, evenly over this many seconds (0: at once).
    Over(f64),
}

impl std::str::FromStr for Arrival {
    type Err = String;

    /// `50/s` (a rate) or `30s` (a ramp: evenly over that time).
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("--arrival `{s}`: give a rate (`50/s`) or a ramp (`30s`)");
        if let Some(rate) = s.strip_suffix("/s") {
            return rate.trim().parse::<f64>().ok().filter(|r| r.is_finite() && *r > 0.0).map(Arrival::Rate).ok_or_else(bad);
        }
        parse_seconds(s).map(Arrival::Over).ok_or_else(bad)
    }
}

/// `90s`, `2m`, `1500ms`, or plain seconds.
pub fn parse_seconds(s: &str) -> Option<f64> {
    let s = s.trim();
    let (n, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else {
        (s, 1.0)
    };
    n.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).map(|v| v * scale)
}

/// `10s..90s`: a uniform range of seconds.
pub fn parse_range(s: &str) -> Option<(f64, f64)> {
    let (a, b) = s.split_once("..").unwrap_or((s, s));
    let (a, b) = (parse_seconds(a)?, parse_seconds(b)?);
    (a <= b).then_some((a, b))
}

/// What terminals and merchants do.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Seconds between status polls, drawn uniformly (the docs: every 3–5 s).
    pub poll: (f64, f64),
    /// Seconds from a code's issue to its merchant's claim, drawn uniformly.
    pub claim_after: (f64, f64),
    /// Share of terminals whose code nobody claims.
    pub never_claim: f64,
    /// Share of claims sent twice at once (a double click, two clerks).
    pub double_claim: f64,
    /// `claim-burst`: every claim at this second of the run (all merchants typing at once).
    pub burst_at: Option<f64>,
    /// `attest-storm`: every activated terminal attests again at this second of the run.
    pub storm_at: Option<f64>,
    /// Steps 5–8 after the claim (`--steps 1-8`): attest, keys, config, terminal parameters and
    /// activate, as the terminal (its identity key and ZMK from the target or the profile).
    pub activate: bool,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            poll: (3.0, 5.0),
            claim_after: (10.0, 90.0),
            never_claim: 0.05,
            double_claim: 0.2,
            burst_at: None,
            storm_at: None,
            activate: true,
        }
    }
}

/// Named workloads besides the plain journey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scenario {
    /// Terminals arrive and activate; merchants claim after their think time.
    #[default]
    Journey,
    /// Every merchant claims at the same second, once every terminal has a code.
    ClaimBurst,
    /// Every terminal, once activated, attests again at the same second (a fleet rebooting after
    /// an update): ATT-19 under load.
    AttestStorm,
}

#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub terminals: usize,
    pub arrival: Arrival,
    /// The run stops here at the latest; `None`: once every claimed terminal is done, or at the
    /// last arrival plus the longest think time and two polls.
    pub duration: Option<Duration>,
    pub workload: Workload,
    pub scenario: Scenario,
    pub merchants: usize,
    pub slos: Vec<Slo>,
    pub seed: u64,
    /// Requests in flight at most (`--connections`): the fleet's sockets, reused; a request that
    /// waits for one waits from its due time, so the wait counts in its latency.
    pub connections: usize,
    /// Timeouts, control token, `--strict` and `--baseline`, as `run` takes them.
    pub check: CheckOptions,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            terminals: 100,
            arrival: Arrival::Over(10.0),
            duration: None,
            workload: Workload::default(),
            scenario: Scenario::Journey,
            merchants: 4,
            slos: Vec::new(),
            seed: 1,
            connections: 64,
            check: CheckOptions::default(),
        }
    }
}

impl LoadOptions {
    fn arrival_of(&self, i: usize) -> f64 {
        match self.arrival {
            Arrival::Rate(r) => i as f64 / r,
            Arrival::Over(secs) if self.terminals > 1 => secs * i as f64 / (self.terminals - 1) as f64,
            Arrival::Over(_) => 0.0,
        }
    }

    fn last_arrival(&self) -> f64 {
        self.arrival_of(self.terminals.saturating_sub(1))
    }
}

/// Counters the progress line and the report read.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    pub arrived: AtomicU64,
    /// Polling for a claim now.
    pub waiting: AtomicU64,
    pub claimed: AtomicU64,
    /// Claimed and then activated (steps 5–8).
    pub activated: AtomicU64,
    /// Stopped by a failure-level break or a missing answer.
    pub halted: AtomicU64,
    /// Meant to be claimed and not claimed when the run ended.
    pub unfinished: AtomicU64,
    /// Never claimed, by the workload's design.
    pub unclaimed_by_design: AtomicU64,
}

/// A merchant's tokens: the current one, and the one before it until it has been tried once
/// after its expiry (AUTH-14).
#[derive(Debug, Default)]
struct MerchantAuth {
    current: Option<(String, Instant, f64)>,
    retired: Option<(String, Instant, f64)>,
}

/// What every terminal of a run shares.
pub(crate) struct Shared {
    client: Client,
    /// The API requests of terminals and merchants (`client` serves the target's set-up).
    wire: transport::Transport,
    target: Target,
    judge: Judge,
    schemas: Schemas,
    workload: Workload,
    seed: u64,
    start: Instant,
    deadline: f64,
    finished: AtomicBool,
    stats: Mutex<stats::Stats>,
    findings: Mutex<BTreeMap<String, (u64, Finding)>>,
    exercised: Mutex<BTreeSet<String>>,
    transport: Mutex<(u64, Option<String>)>,
    stopped: Mutex<Option<String>>,
    progress: Progress,
    merchants: Vec<tokio::sync::Mutex<MerchantAuth>>,
    /// Every terminal's config and parameters, for what must hold across the fleet (CFG-06).
    fleet: Mutex<crate::pos::verify::Fleet>,
    /// Tokens expire on real time here, so an expired one can be tried (AUTH-14).
    probe_tokens: bool,
    /// One permit per request in flight (`--connections`).
    inflight: tokio::sync::Semaphore,
}

/// A token is renewed this long before it would expire (or at a third of a short lifetime),
/// plus a second: `exp` is whole seconds, so a token may end up to a second before its lifetime.
const RENEW_MARGIN_SECS: f64 = 60.0;

fn fresh(age: f64, life: f64) -> bool {
    age < life - 1.0 - RENEW_MARGIN_SECS.min(life / 3.0)
}

impl Shared {
    async fn sleep_until(&self, secs: f64) {
        let at = self.start + Duration::from_secs_f64(secs.max(0.0));
        // A time already past needs no timer (a closed loop's every poll).
        if at > Instant::now() {
            tokio::time::sleep_until(at.into()).await;
        }
    }

    fn deadline_secs(&self) -> f64 {
        if self.finished.load(Ordering::Relaxed) { 0.0 } else { self.deadline }
    }

    fn past_deadline(&self) -> bool {
        self.start.elapsed().as_secs_f64() > self.deadline_secs()
    }

    /// Ends the run early, for a reason the report gives.
    fn stop(&self, why: String) {
        let mut stopped = self.stopped.lock();
        if stopped.is_none() {
            *stopped = Some(why);
        }
        self.finished.store(true, Ordering::Relaxed);
    }

    /// A valid token of merchant `m` (signing in when there is none or it is about to expire),
    /// and an expired one to try once, if one is due for that.
    async fn token(&self, m: usize, due: f64) -> Option<(String, Option<String>)> {
        let mut auth = self.merchants.get(m)?.lock().await;
        let valid = auth.current.as_ref().is_some_and(|(_, got, life)| fresh(got.elapsed().as_secs_f64(), *life));
        if !valid {
            let label = self.target.merchants.get(m)?.label;
            let merchant = self.target.merchant(label).ok()?.clone();
            let req = Session::sign_in("/client/session", &merchant);
            let ex = self.signed(due, "session", &req).await?;
            let body = ex.json().filter(|_| ex.status == Some(200));
            let Some(token) = body.as_ref().and_then(|v| v["access_token"].as_str().map(str::to_owned)) else {
                let _ = self.rule(
                    crate::judge::Ruling::broken("AUTH-04", format!("valid client credentials gave no token: {}", ex.excerpt())),
                    Some(&ex),
                );
                return None;
            };
            let life = body.as_ref().and_then(|v| v["expires_in"].as_f64()).unwrap_or(300.0);
            self.signed(due, "initiate", &Session::initiate(&token, "merchant.viopay.io")).await?;
            let old = auth.current.replace((token, Instant::now(), life));
            if self.probe_tokens && auth.retired.is_none() {
                auth.retired = old;
            }
        }
        let stale = match &auth.retired {
            Some((_, got, life)) if got.elapsed().as_secs_f64() > life + 2.0 => auth.retired.take().map(|(t, _, _)| t),
            _ => None,
        };
        auth.current.as_ref().map(|(t, _, _)| (t.clone(), stale))
    }

    /// Sends one request once a connection is free.
    async fn send(&self, req: &crate::client::ApiRequest) -> crate::exchange::Exchange {
        let _permit = self.inflight.acquire().await;
        self.wire.send(req).await
    }

    /// [`Shared::send`] for a request prepared once and sent again and again.
    async fn send_prepared(&self, prepared: &transport::Prepared) -> crate::exchange::Exchange {
        let _permit = self.inflight.acquire().await;
        self.wire.send_prepared(prepared).await
    }

    /// A merchant-side request, recorded and checked like every other.
    async fn signed(&self, due: f64, endpoint: &'static str, req: &crate::client::ApiRequest) -> Option<crate::exchange::Exchange> {
        let sent = Instant::now();
        let ex = self.send(req).await;
        self.recorded(due, endpoint, &ex, sent);
        if ex.status.is_none() {
            self.note_transport(&ex);
            return None;
        }
        self.checked(req, &ex).ok()?;
        Some(ex)
    }
}

/// Whether terminal `i` is never claimed and whether its claims go twice, drawn from the seed.
fn plan(seed: u64, i: usize, w: &Workload) -> (bool, bool) {
    let mut rng = StdRng::seed_from_u64(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    (rng.random_bool(w.never_claim.clamp(0.0, 1.0)), rng.random_bool(w.double_claim.clamp(0.0, 1.0)))
}

/// Runs the load. `progress` is told a one-line summary every `every`.
pub async fn load(
    spec: &TargetSpec,
    opts: &LoadOptions,
    every: Option<Duration>,
    progress: impl Fn(&str),
) -> Result<LoadReport, CheckError> {
    let schemas = Schemas::builtin()?;
    let connect = ConnectOptions {
        request_timeout: opts.check.request_timeout,
        probe_timeout: opts.check.probe_timeout,
        merchants: opts.merchants,
        control_token: opts.check.control_token.clone(),
        real_time: true,
        pool: opts.connections,
    };
    let (target, client) = targets::connect(spec, &connect).await?;
    let description = target.description.clone();
    let mut workload = opts.workload.clone();
    if opts.scenario == Scenario::ClaimBurst {
        workload.burst_at = Some(opts.last_arrival() + workload.poll.1 + 2.0);
    }
    let natural = opts.last_arrival() + workload.burst_at.unwrap_or(0.0).max(workload.claim_after.1) + 2.0 * workload.poll.1 + 10.0;
    if opts.scenario == Scenario::AttestStorm {
        workload.storm_at = Some(natural);
    }
    let natural = natural + if workload.storm_at.is_some() { 15.0 } else { 0.0 };
    let deadline = opts.duration.map_or(natural, |d| d.as_secs_f64());
    let probe_tokens = !target.frozen || !target.tokens_follow_clock;
    let merchants = (0..target.merchants.len()).map(|_| tokio::sync::Mutex::new(MerchantAuth::default())).collect();
    let shared = Arc::new(Shared {
        wire: transport::Transport::new(&client, opts.check.request_timeout),
        client,
        target,
        judge: Judge::new(Catalogue::builtin(), opts.check.strict, opts.check.baseline.clone()),
        schemas,
        workload: workload.clone(),
        seed: opts.seed,
        start: Instant::now(),
        deadline,
        finished: AtomicBool::new(false),
        stats: Mutex::default(),
        findings: Mutex::default(),
        exercised: Mutex::default(),
        transport: Mutex::default(),
        stopped: Mutex::default(),
        progress: Progress::default(),
        merchants,
        fleet: Mutex::default(),
        probe_tokens,
        inflight: tokio::sync::Semaphore::new(opts.connections.max(1)),
    });
    let mut claimable = Vec::new();
    let mut unclaimed = Vec::new();
    for i in 0..opts.terminals {
        let planned = plan(opts.seed, i, &workload);
        let handle = tokio::spawn(terminal::Terminal::run(shared.clone(), i, opts.arrival_of(i), planned));
        if planned.0 { unclaimed.push(handle) } else { claimable.push(handle) }
    }
    let ticker = every.map(|every| {
        let shared = shared.clone();
        let total = opts.terminals;
        async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                progress(&report::progress_line(&shared, total));
            }
        }
    });
    let all_claimed = async {
        for h in claimable {
            let _ = h.await;
        }
    };
    match ticker {
        Some(t) => {
            tokio::select! {
                () = all_claimed => {}
                () = t => {}
            }
        }
        None => all_claimed.await,
    }
    // Terminals nobody claims poll until the others are done, or to the end of a --duration.
    if opts.duration.is_none() {
        shared.finished.store(true, Ordering::Relaxed);
    }
    for h in unclaimed {
        let _ = h.await;
    }
    let elapsed = shared.start.elapsed();
    Ok(LoadReport::new(&shared, &description, opts, elapsed))
}
