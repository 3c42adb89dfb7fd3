//! Armed faults (`POST /_sim/faults`): make an endpoint answer a documented error for its next N
//! requests, so that rules such as PAIR-08 can be exercised on purpose.

use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use serde::Serialize;

use crate::errors::{self, ErrorSpec};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Fault {
    pub endpoint: String,
    pub rule: &'static str,
    pub remaining: u32,
    /// Only requests of this device (`X-Device-Id`) are hit; every request when absent. Lets
    /// concurrent test runs force an error on their own device without touching the others.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    #[error("`{0}` is not an endpoint faults can be armed on")]
    UnknownEndpoint(String),
    #[error("`{rule}` is not a documented error of {endpoint}; choose one of: {choices}")]
    NotInjectable { endpoint: String, rule: String, choices: String },
    #[error("count must be at least 1")]
    ZeroCount,
}

#[derive(Debug, Default)]
pub struct Faults {
    armed: Mutex<Vec<Fault>>,
    /// Mirrors `!armed.is_empty()` so the request path can skip the lock.
    any: AtomicBool,
}

impl Faults {
    pub fn arm(&self, endpoint: &str, rule: &str, count: u32, device_id: Option<String>) -> Result<Fault, FaultError> {
        let choices = errors::injectable(endpoint);
        if choices.is_empty() {
            return Err(FaultError::UnknownEndpoint(endpoint.to_owned()));
        }
        let spec = choices.iter().find(|s| s.rule.eq_ignore_ascii_case(rule)).ok_or_else(|| FaultError::NotInjectable {
            endpoint: endpoint.to_owned(),
            rule: rule.to_owned(),
            choices: choices.iter().map(|s| s.rule).collect::<Vec<_>>().join(", "),
        })?;
        if count == 0 {
            return Err(FaultError::ZeroCount);
        }
        let fault = Fault { endpoint: endpoint.to_owned(), rule: spec.rule, remaining: count, device_id };
        let mut armed = self.armed.lock();
        armed.push(fault.clone());
        self.any.store(true, Ordering::Release);
        Ok(fault)
    }

    /// Consumes one use of the oldest fault armed on `endpoint` for `device` (or for every
    /// device), if any.
    pub fn take(&self, endpoint: &str, device: Option<&str>) -> Option<ErrorSpec> {
        let mut armed = self.armed.lock();
        if armed.is_empty() {
            return None;
        }
        let pos = armed.iter().position(|f| f.endpoint == endpoint && f.device_id.as_deref().is_none_or(|d| Some(d) == device))?;
        let rule = armed[pos].rule;
        armed[pos].remaining -= 1;
        if armed[pos].remaining == 0 {
            armed.remove(pos);
            self.any.store(!armed.is_empty(), Ordering::Release);
        }
        errors::injectable(endpoint).iter().find(|s| s.rule == rule).copied()
    }

    pub fn list(&self) -> Vec<Fault> {
        self.armed.lock().clone()
    }

    pub fn clear(&self) {
        let mut armed = self.armed.lock();
        armed.clear();
        self.any.store(false, Ordering::Release);
    }

    pub fn any_armed(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_fire_n_times_then_disarm() {
        let f = Faults::default();
        f.arm("/pos/pairing-code", "pair-08", 2, None).expect("arm");
        assert_eq!(f.take("/pos/status", None), None);
        assert_eq!(f.take("/pos/pairing-code", Some("POS-00000001")).map(|s| s.rule), Some("PAIR-08"));
        assert_eq!(f.take("/pos/pairing-code", None).map(|s| s.rule), Some("PAIR-08"));
        assert_eq!(f.take("/pos/pairing-code", None), None);
        assert!(matches!(f.arm("/pos/status", "PAIR-08", 1, None), Err(FaultError::NotInjectable { .. })));
        assert!(matches!(f.arm("/nowhere", "PAIR-08", 1, None), Err(FaultError::UnknownEndpoint(_))));
        assert_eq!(f.arm("/pos/pairing-code", "PAIR-08", 0, None), Err(FaultError::ZeroCount));
    }

    #[test]
    fn a_device_fault_hits_only_that_device() {
        let f = Faults::default();
        f.arm("/pos/pairing-code", "PAIR-08", 1, Some("POS-00000002".into())).expect("arm");
        assert_eq!(f.take("/pos/pairing-code", Some("POS-00000001")), None);
        assert_eq!(f.take("/pos/pairing-code", None), None);
        assert_eq!(f.take("/pos/pairing-code", Some("POS-00000002")).map(|s| s.rule), Some("PAIR-08"));
    }
}
