//! A profile's device pools. A device is handed out once: every scenario that needs an inactive
//! device consumes one, and when a pool is empty the scenario is reported "not run", never passed.

use std::collections::VecDeque;

use parking_lot::Mutex;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("device pool exhausted: merchant {merchant} has no unused device left in the profile{}", used_note(*.skipped))]
pub struct Exhausted {
    pub merchant: String,
    /// Devices passed over because they were not in their starting state (an earlier run used
    /// them: a real backend keeps what happened to its devices).
    pub skipped: usize,
}

fn used_note(skipped: usize) -> String {
    if skipped == 0 { String::new() } else { format!(" ({skipped} skipped: pool used up by an earlier run, not in their starting state)") }
}

#[derive(Debug)]
pub struct DevicePools {
    names: Vec<String>,
    pools: Mutex<Vec<VecDeque<String>>>,
    skipped: Mutex<Vec<usize>>,
}

impl DevicePools {
    pub fn new(pools: Vec<(String, Vec<String>)>) -> Self {
        let names: Vec<String> = pools.iter().map(|(n, _)| n.clone()).collect();
        let skipped = Mutex::new(vec![0; names.len()]);
        DevicePools { names, pools: Mutex::new(pools.into_iter().map(|(_, d)| d.into()).collect()), skipped }
    }

    pub fn take(&self, merchant: usize) -> Result<String, Exhausted> {
        let name = self.names.get(merchant).cloned().unwrap_or_default();
        let skipped = self.skipped.lock().get(merchant).copied().unwrap_or(0);
        self.pools.lock().get_mut(merchant).and_then(VecDeque::pop_front).ok_or(Exhausted { merchant: name, skipped })
    }

    /// A device handed out was not in its starting state: it is never judged, only counted.
    pub fn skip(&self, merchant: usize) {
        if let Some(n) = self.skipped.lock().get_mut(merchant) {
            *n += 1;
        }
    }

    pub fn remaining(&self) -> Vec<usize> {
        self.pools.lock().iter().map(VecDeque::len).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_handed_out_once() {
        let p = DevicePools::new(vec![("acme".into(), vec!["POS-1".into()]), ("globex".into(), vec![])]);
        assert_eq!(p.take(0), Ok("POS-1".into()));
        assert_eq!(p.take(0), Err(Exhausted { merchant: "acme".into(), skipped: 0 }));
        p.skip(0);
        assert!(p.take(0).expect_err("empty").to_string().contains("1 skipped"));
        assert!(p.take(1).is_err());
        assert_eq!(p.remaining(), vec![0, 0]);
    }
}
