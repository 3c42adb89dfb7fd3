//! Armed faults (`/_sim/faults`, `--fault-profile`): documented errors (PAIR-08 and the like) and
//! network faults (latency, a dribbled body, any status from "a gateway", a reset, a request never
//! answered, a truncated or malformed body), scoped by endpoint, step and device, for the next N
//! requests or with a probability. Draws come from a generator seeded by `--seed`, so the same
//! requests meet the same faults on every run. Every fault that fires is written into the
//! journal entry of the exchange it hit.

mod connection;
mod profiles;
mod spec;
mod wire;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

pub(crate) use connection::{ConnHandle, ConnectionListener, Switchable};
pub use profiles::{ProfileError, Profiles};
pub use spec::FaultError;
pub(crate) use spec::{Action, FAULTABLE, FaultSpec};
pub(crate) use wire::{ForcedError, apply_after, no_answer, status_answer};

/// An armed fault, as listed.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Fault {
    pub(crate) id: u64,
    #[serde(flatten)]
    pub(crate) spec: FaultSpec,
    /// Uses left; absent when it stays armed until cleared (a probability without a count).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) remaining: Option<u32>,
    /// How many requests it has hit so far.
    pub(crate) fired: u32,
    #[serde(skip)]
    checked: spec::Checked,
}

/// A fault that fired on one exchange, as the journal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FaultHit {
    pub(crate) id: u64,
    pub(crate) kind: &'static str,
    /// How much later than its receipt the answer was complete because of this fault, in
    /// milliseconds: the delay a latency fault drew, or the time a dribble spread the body over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) delay_ms: Option<u64>,
}

/// What the faults do to one exchange: at most one delay, and at most one other fault.
#[derive(Debug, Default)]
pub(crate) struct Selected {
    pub(crate) delay: Option<Duration>,
    pub(crate) action: Option<Action>,
    pub(crate) hits: Vec<FaultHit>,
}

#[derive(Debug)]
struct Inner {
    armed: Vec<Fault>,
    rng: StdRng,
    next_id: u64,
}

#[derive(Debug)]
pub(crate) struct Faults {
    inner: Mutex<Inner>,
    /// Mirrors `!armed.is_empty()` so the request path can skip the lock.
    any: AtomicBool,
    seed: u64,
    profiles: Profiles,
    /// Armed at start, and again by `/_sim/reset`.
    at_start: Vec<String>,
}

/// Keeps the faults' draws apart from the codes' and tokens' (same seed, another sequence).
const SEED_SALT: u64 = 0xFA17_5EED_0000_0001;

impl Default for Faults {
    fn default() -> Self {
        Faults::new(0, Profiles::builtin(), Vec::new()).unwrap_or_else(|_| unreachable!("no profile to arm"))
    }
}

impl Faults {
    /// Fails when a profile named in `at_start` does not exist.
    pub(crate) fn new(seed: u64, profiles: Profiles, at_start: Vec<String>) -> Result<Self, FaultError> {
        let faults = Faults {
            inner: Mutex::new(Inner { armed: Vec::new(), rng: StdRng::seed_from_u64(seed ^ SEED_SALT), next_id: 1 }),
            any: AtomicBool::new(false),
            seed,
            profiles,
            at_start,
        };
        faults.arm_start_profiles()?;
        Ok(faults)
    }

    fn arm_start_profiles(&self) -> Result<(), FaultError> {
        for name in self.at_start.clone() {
            self.arm_profile(&name)?;
        }
        Ok(())
    }

    pub(crate) fn arm(&self, spec: &FaultSpec) -> Result<Fault, FaultError> {
        let checked = spec.check()?;
        let mut inner = self.inner.lock();
        let id = inner.next_id;
        inner.next_id += 1;
        let fault = Fault { id, spec: checked.spec.clone(), remaining: checked.remaining, fired: 0, checked };
        inner.armed.push(fault.clone());
        self.any.store(true, Ordering::Release);
        Ok(fault)
    }

    /// Arms every fault of a profile, all or none.
    pub(crate) fn arm_profile(&self, name: &str) -> Result<Vec<Fault>, FaultError> {
        let specs = self.profiles.get(name)?;
        let checked = specs.iter().map(FaultSpec::check).collect::<Result<Vec<_>, _>>()?;
        let mut inner = self.inner.lock();
        let mut armed = Vec::with_capacity(checked.len());
        for checked in checked {
            let id = inner.next_id;
            inner.next_id += 1;
            let fault = Fault { id, spec: checked.spec.clone(), remaining: checked.remaining, fired: 0, checked };
            inner.armed.push(fault.clone());
            armed.push(fault);
        }
        self.any.store(!inner.armed.is_empty(), Ordering::Release);
        Ok(armed)
    }

    /// The faults for one exchange, oldest armed first: the first delay that fires, and the first
    /// other fault that fires. Each fault that fires uses up one of its `count`.
    pub(crate) fn select(&self, path: &str, device: Option<&str>) -> Selected {
        let mut selected = Selected::default();
        if !self.any_armed() {
            return selected;
        }
        let mut inner = self.inner.lock();
        let Inner { armed, rng, .. } = &mut *inner;
        let mut spent = Vec::new();
        for (i, fault) in armed.iter_mut().enumerate() {
            let is_delay = matches!(fault.checked.action, Action::Latency { .. });
            let wanted = if is_delay { selected.delay.is_none() } else { selected.action.is_none() };
            if !wanted || !fault.checked.scope.matches(path, device) {
                continue;
            }
            if let Some(p) = fault.checked.probability
                && rng.random::<f64>() >= p
            {
                continue;
            }
            fault.fired += 1;
            if let Some(left) = fault.remaining.as_mut() {
                *left -= 1;
                if *left == 0 {
                    spent.push(i);
                }
            }
            let mut hit = FaultHit { id: fault.id, kind: fault.checked.action.kind(), delay_ms: None };
            match &fault.checked.action {
                Action::Latency { min, max } => {
                    let ms = if min == max { min.as_millis() } else { rng.random_range(min.as_millis()..=max.as_millis()) };
                    let ms = u64::try_from(ms).unwrap_or(u64::MAX);
                    hit.delay_ms = Some(ms);
                    selected.delay = Some(Duration::from_millis(ms));
                }
                other => {
                    // A dribbled answer is complete only once its last byte is out: the client
                    // could not act on it sooner (CLI-05, CLI-17 measure from there).
                    if let Action::Dribble { over, .. } = other {
                        hit.delay_ms = Some(u64::try_from(over.as_millis()).unwrap_or(u64::MAX));
                    }
                    selected.action = Some(other.clone());
                }
            }
            selected.hits.push(hit);
        }
        for i in spent.into_iter().rev() {
            armed.remove(i);
        }
        self.any.store(!armed.is_empty(), Ordering::Release);
        selected
    }

    pub(crate) fn list(&self) -> Vec<Fault> {
        self.inner.lock().armed.clone()
    }

    pub(crate) fn profile_names(&self) -> Vec<String> {
        self.profiles.names()
    }

    /// Disarms one fault; false when no fault has that id.
    pub(crate) fn remove(&self, id: u64) -> bool {
        let mut inner = self.inner.lock();
        let before = inner.armed.len();
        inner.armed.retain(|f| f.id != id);
        self.any.store(!inner.armed.is_empty(), Ordering::Release);
        inner.armed.len() != before
    }

    pub(crate) fn clear(&self) {
        let mut inner = self.inner.lock();
        inner.armed.clear();
        self.any.store(false, Ordering::Release);
    }

    /// `/_sim/reset`: no faults but the start profiles, ids and draws from the beginning.
    pub(crate) fn reset(&self) {
        {
            let mut inner = self.inner.lock();
            *inner = Inner { armed: Vec::new(), rng: StdRng::seed_from_u64(self.seed ^ SEED_SALT), next_id: 1 };
            self.any.store(false, Ordering::Release);
        }
        // The names were checked when the simulator started.
        if let Err(e) = self.arm_start_profiles() {
            tracing::error!(error = %e, "cannot re-arm the start fault profiles");
        }
    }

    pub(crate) fn any_armed(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> FaultSpec {
        serde_json::from_value(json).expect("shape")
    }

    #[test]
    fn faults_fire_n_times_then_disarm() {
        let f = Faults::default();
        f.arm(&spec(serde_json::json!({"endpoint": "/pos/pairing-code", "rule": "PAIR-08", "count": 2}))).expect("arm");
        assert!(f.select("/pos/status", None).action.is_none());
        let kinds = |s: Selected| s.action.map(|a| a.kind());
        assert_eq!(kinds(f.select("/pos/pairing-code", Some("POS-00000001"))), Some("error"));
        assert_eq!(kinds(f.select("/pos/pairing-code", None)), Some("error"));
        assert_eq!(kinds(f.select("/pos/pairing-code", None)), None);
        assert!(!f.any_armed());
    }

    #[test]
    fn a_delay_stacks_with_one_other_fault() {
        let f = Faults::default();
        f.arm(&spec(serde_json::json!({"kind": "latency", "latency_ms": 5, "probability": 1.0}))).expect("arm");
        f.arm(&spec(serde_json::json!({"kind": "reset"}))).expect("arm");
        f.arm(&spec(serde_json::json!({"kind": "truncate"}))).expect("arm");
        let s = f.select("/pos/status", None);
        assert_eq!((s.delay, s.action.as_ref().map(Action::kind)), (Some(Duration::from_millis(5)), Some("reset")));
        assert_eq!(s.hits.iter().map(|h| (h.id, h.kind)).collect::<Vec<_>>(), [(1, "latency"), (2, "reset")]);
        assert_eq!(f.select("/pos/status", None).action.as_ref().map(Action::kind), Some("truncate"));
        assert_eq!(f.list().len(), 1, "the latency fault stays armed");
    }

    #[test]
    fn draws_repeat_under_the_same_seed() {
        let run = |seed| {
            let f = Faults::new(seed, Profiles::builtin(), vec!["flaky-3g".into()]).expect("profile");
            (0..200).map(|_| f.select("/pos/status", Some("POS-00000001"))).map(|s| (s.delay, s.hits)).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let hits = run(7).into_iter().filter(|(_, h)| h.iter().any(|h| h.kind == "status")).count();
        assert!((5..=40).contains(&hits), "10% of 200, give or take: {hits}");
    }

    #[test]
    fn reset_rearms_the_start_profiles_from_the_first_draw() {
        let f = Faults::new(3, Profiles::builtin(), vec!["gateway-502".into()]).expect("profile");
        let first: Vec<_> = (0..20).map(|_| f.select("/pos/status", None).hits).collect();
        f.clear();
        assert!(f.list().is_empty());
        f.reset();
        assert_eq!((0..20).map(|_| f.select("/pos/status", None).hits).collect::<Vec<_>>(), first);
        assert!(matches!(Faults::new(1, Profiles::builtin(), vec!["nope".into()]), Err(FaultError::UnknownProfile { .. })));
    }

    #[test]
    fn a_device_fault_hits_only_that_device() {
        let f = Faults::default();
        f.arm(&spec(serde_json::json!({"endpoint": "/pos/pairing-code", "rule": "PAIR-08", "device_id": "POS-00000002"}))).expect("arm");
        assert!(f.select("/pos/pairing-code", Some("POS-00000001")).action.is_none());
        assert!(f.select("/pos/pairing-code", None).action.is_none());
        assert!(f.select("/pos/pairing-code", Some("POS-00000002")).action.is_some());
        assert!(f.remove(99).eq(&false));
    }
}
