//! The cucumber World of Kustom's scenarios (`features/kustom/`). Requests the model predicts are
//! judged through it exactly as the fuzzer judges them ([`super::model`]); the literal `Then`
//! checks assert one rule each, at that rule's level. Once the target took another branch the
//! rules allow (an UNKNOWN answer), the literal checks written for the simulator's branch are
//! "not verified", and a step that needs what the target did not create is not applicable.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::check::Answer;
use super::model::Model;
use super::target::Target;
use crate::exchange::Exchange;
use crate::judge::{Judge, Ledger, Ruling, Stop, harness_error};

/// Everything a Kustom run shares between its scenarios.
pub struct KustomContext {
    pub target: Target,
    /// How findings weigh: levels, `--strict`, `--baseline` (the same judge as VioPay's runs).
    pub judge: Arc<Judge>,
}

impl std::fmt::Debug for KustomContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KustomContext").field("target", &self.target).finish_non_exhaustive()
    }
}

tokio::task_local! {
    pub static KUSTOM: Arc<KustomContext>;
}

#[derive(cucumber::World)]
#[world(init = Self::from_context)]
pub struct KustomWorld {
    pub ctx: Arc<KustomContext>,
    pub model: Model,
    /// Enrollments and devices by the names the scenario gives them (model indexes).
    pub enrollments: BTreeMap<String, usize>,
    pub devices: BTreeMap<String, usize>,
    pub last: Option<(Answer, Exchange)>,
    /// What the scenario found, weighed by the run's one judge.
    pub core: Ledger,
    pub hardware: u32,
    /// Statuses of a concurrent burst.
    pub burst: Vec<u16>,
    /// `{run}`: unique to the scenario, for hardware ids on a target that is not reset.
    pub run: String,
    /// A request the model does not follow created something (a raw request, a refusal the
    /// target accepted): lists are no longer judged against the model's complete picture.
    pub unmodeled: bool,
    reset: bool,
}

impl std::fmt::Debug for KustomWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KustomWorld").field("enrollments", &self.enrollments).field("devices", &self.devices).finish()
    }
}

impl KustomWorld {
    fn from_context() -> Self {
        // A World outside a run is a harness defect, not something a target can cause.
        #[allow(clippy::expect_used)]
        let ctx = KUSTOM.try_with(Arc::clone).expect("KustomWorld is created by viopay-check's runner");
        let model = Model::new(!ctx.target.fresh, ctx.target.frozen);
        KustomWorld {
            core: Ledger::new(ctx.judge.clone()),
            ctx,
            model,
            enrollments: BTreeMap::new(),
            devices: BTreeMap::new(),
            last: None,
            hardware: 0,
            burst: Vec::new(),
            run: format!("{:08X}", rand::random::<u32>()),
            unmodeled: false,
            reset: false,
        }
    }

    pub fn target(&self) -> &Target {
        &self.ctx.target
    }

    /// Merchant `A` or `B`: its index among the target's merchants.
    pub fn merchant(&self, label: &str) -> usize {
        match label {
            "A" => 0,
            "B" => 1,
            other => harness_error!("no merchant {other}: Kustom scenarios use merchants A and B"),
        }
    }

    /// The POS app's registration path (KFLOW-04); a target whose profile names none cannot run
    /// the scenario.
    pub fn registration_path(&self) -> String {
        match &self.target().registration {
            Some(path) => path.clone(),
            None => Stop::NotApplicable("the target's profile names no registration request (registration_path, KREG-04)".into()).raise(),
        }
    }

    /// One rule on the last answer, as the simulator answers it ([`Ledger::check`]).
    pub fn check(&mut self, rule: &str, ok: bool, message: impl FnOnce() -> String) {
        let last = self.last.as_ref().map(|(_, e)| e);
        self.core.check(rule, ok, message, last);
    }

    /// Sends a request (the target is reset before a scenario's first one: scenarios run one
    /// at a time, each from the fixtures).
    pub async fn send(&mut self, method: reqwest::Method, path: &str, headers: &[(&str, String)], body: Option<String>) -> Answer {
        if !self.reset {
            if let Err(e) = self.ctx.target.reset().await {
                harness_error!("cannot reset the target before the scenario: {e}");
            }
            self.reset = true;
        }
        self.core.requests += 1;
        let sent = self.model.clock.now();
        let result = self.ctx.target.exchange(method.clone(), path, headers, body).await;
        self.model.answered(sent);
        match result {
            Ok((answer, exchange)) => {
                self.core.taped(&exchange);
                if answer.status >= 500 {
                    self.core.rule(Ruling::broken("KERR-10", format!("a 5xx answer: {}", answer.excerpt())), Some(&exchange));
                }
                self.last = Some((answer.clone(), exchange));
                answer
            }
            Err(e) => harness_error!("no answer from the target to {method} {path}: {e}"),
        }
    }

    /// The model's rulings on the last answer, weighed by the judge.
    pub fn judged(&mut self, rulings: Vec<Ruling>) {
        let exchange = self.last.as_ref().map(|(_, e)| e.clone());
        for ruling in rulings {
            self.core.rule(ruling, exchange.as_ref());
        }
    }

    pub fn last(&self) -> &Answer {
        match &self.last {
            Some((a, _)) => a,
            None => harness_error!("the scenario checks an answer before sending a request"),
        }
    }

    /// A named enrollment; when the target never created it on a branch the rules allow, the
    /// rest of the scenario does not apply.
    pub fn enrollment(&self, name: &str) -> usize {
        match self.enrollments.get(name) {
            Some(i) => *i,
            None => self.missing("enrollment", name),
        }
    }

    pub fn device(&self, name: &str) -> usize {
        match self.devices.get(name) {
            Some(i) => *i,
            None => self.missing("device", name),
        }
    }

    fn missing(&self, what: &str, name: &str) -> ! {
        match &self.core.diverged {
            Some(why) => Stop::NotApplicable(format!("{what} \"{name}\" does not exist: {why}")).raise(),
            None => harness_error!("no {what} \"{name}\" in this scenario"),
        }
    }

    /// `{E.id}`, `{E.code}`, `{E.location}` (JSON), `{D.id}`, `{D.token}`, `{location:A}`, `{location:B:2}`, `{mid:A}`,
    /// `{key:A}`, `{user:A}`, `{basic:A}`, `{basic:A:anon}`, `{basic:A:other}`, `{wrongkey:A}` in a path,
    /// a header or a body.
    pub fn expand(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        // A placeholder is the innermost `{…}`: a brace with no other brace, quote or space before
        // its closing one (JSON objects around it are left alone).
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let end = after.find(['{', '}', '"', ' ']);
            match end {
                Some(len) if after[len..].starts_with('}') => {
                    let inner = &after[..len];
                    match self.placeholder(inner) {
                        Some(value) => out.push_str(&value),
                        None => {
                            out.push('{');
                            out.push_str(inner);
                            out.push('}');
                        }
                    }
                    rest = &after[len + 1..];
                }
                _ => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    fn placeholder(&self, inner: &str) -> Option<String> {
        if inner == "run" {
            return Some(self.run.clone());
        }
        let t = self.target();
        if let Some((kind, arg)) = inner.split_once(':') {
            if kind == "basic" || kind == "wrongkey" {
                return self.credential(kind, arg);
            }
            if !matches!(kind, "location" | "mid" | "key" | "user") {
                return None;
            }
            let (label, n) = arg.split_once(':').map_or((arg, 1), |(l, n)| (l, n.parse().unwrap_or(1)));
            if !matches!(label, "A" | "B") {
                return None;
            }
            let m = &t.merchants[self.merchant(label)];
            return match kind {
                "location" => Some(m.locations.get(n.max(1) - 1).cloned().unwrap_or_else(|| {
                    Stop::NotApplicable(format!("the target's merchant {label} has no location {n} (`{{{inner}}}`)")).raise()
                })),
                "mid" => Some(m.id.clone()),
                "key" => Some(m.key.clone()),
                _ => Some(m.username.clone()),
            };
        }
        let (name, field) = inner.split_once('.')?;
        let is_name =
            name.starts_with(|c: char| c.is_ascii_uppercase()) && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !is_name || !matches!(field, "id" | "code" | "token" | "location") {
            return None;
        }
        if let Some(&i) = self.enrollments.get(name) {
            let e = &self.model.enrollments[i];
            return match field {
                "id" => Some(e.id.clone()),
                "code" => Some(e.code.clone()),
                // As JSON: the location the target gave the enrollment, or null (KEN-16).
                "location" => Some(serde_json::to_string(&e.location).unwrap_or_default()),
                _ => None,
            };
        }
        if let Some(&i) = self.devices.get(name) {
            let d = &self.model.devices[i];
            return match field {
                "id" => Some(d.id.clone()),
                "token" => Some(d.token.clone()),
                _ => None,
            };
        }
        // A name the scenario never made: a defect of the feature, or a divergence.
        self.missing("enrollment or device", name)
    }
}

impl KustomWorld {
    /// `{basic:A}`: HTTP Basic of A's username and key (KAUTH-02); `{basic:A:anon}`: A's key with an
    /// empty username; `{basic:A:other}`: A's key with a username that is not the key's;
    /// `{wrongkey:A}`: A's key with its last character changed, which no target issued (KAUTH-10).
    /// Built from the target's own credentials, so a scenario holds no fixture of any target.
    fn credential(&self, kind: &str, arg: &str) -> Option<String> {
        use base64::Engine as _;
        let (label, user_of) = arg.split_once(':').unwrap_or((arg, arg));
        let merchants = &self.target().merchants;
        let key = &merchants.get(self.merchant_index(label)?)?.key;
        if kind == "wrongkey" {
            let mut wrong = key.clone();
            let last = wrong.pop()?;
            wrong.push(if last == 'x' {
                'y'
            } else if last.is_ascii_digit() {
                'x'
            } else {
                '7'
            });
            return Some(wrong);
        }
        let own = &merchants.get(self.merchant_index(label)?)?.username;
        let user = match user_of {
            "anon" => String::new(),
            // A username that is not the key's: its own with the last character changed, or a
            // made-up one of the documented form when the target names none.
            "other" => match own.char_indices().last() {
                Some((i, c)) => format!("{}{}", &own[..i], if c == 'z' { 'y' } else { 'z' }),
                None => format!("{}-zz9zz9", merchants.get(self.merchant_index(label)?)?.id),
            },
            _ if own.is_empty() => {
                Stop::NotApplicable(format!("the target names no Basic username for merchant {label} (a profile's `username`, KAUTH-02)"))
                    .raise()
            }
            _ => own.clone(),
        };
        Some(base64::engine::general_purpose::STANDARD.encode(format!("{user}:{key}")))
    }

    fn merchant_index(&self, label: &str) -> Option<usize> {
        match label {
            "A" => Some(0),
            "B" => Some(1),
            _ => None,
        }
    }
}

impl crate::run::Outcome for KustomWorld {
    fn ledger(&self) -> &Ledger {
        &self.core
    }

    /// The run tag (in metadata and hardware ids) is this process's tag and the scenario: unique
    /// per scenario and run, and the same for one scenario played on two targets (`diff`).
    fn begin(&mut self, feature: &cucumber::gherkin::Feature, scenario: &cucumber::gherkin::Scenario) {
        use std::hash::{Hash, Hasher};
        static PROCESS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        PROCESS.get_or_init(rand::random::<u64>).hash(&mut h);
        (&feature.name, &scenario.name, scenario.position.line).hash(&mut h);
        self.run = format!("{:08X}", h.finish() as u32);
    }
}

/// The body of a step's docstring or inline JSON, placeholders expanded.
pub fn json_of(w: &KustomWorld, text: &str) -> Value {
    let expanded = w.expand(text);
    serde_json::from_str(&expanded).unwrap_or_else(|e| harness_error!("`{expanded}` in the feature is not JSON: {e}"))
}
