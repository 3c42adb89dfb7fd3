//! A profile's device pools. A device is handed out once: every scenario that needs an inactive
//! device consumes one, and when a pool is empty the scenario is reported "not run", never passed.

use std::collections::VecDeque;

use parking_lot::Mutex;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("device pool exhausted: merchant {merchant} has no unused device left in the profile")]
pub struct Exhausted {
    pub merchant: String,
}

#[derive(Debug)]
pub struct DevicePools {
    names: Vec<String>,
    pools: Mutex<Vec<VecDeque<String>>>,
}

impl DevicePools {
    pub fn new(pools: Vec<(String, Vec<String>)>) -> Self {
        let names = pools.iter().map(|(n, _)| n.clone()).collect();
        DevicePools { names, pools: Mutex::new(pools.into_iter().map(|(_, d)| d.into()).collect()) }
    }

    pub fn take(&self, merchant: usize) -> Result<String, Exhausted> {
        let name = self.names.get(merchant).cloned().unwrap_or_default();
        self.pools.lock().get_mut(merchant).and_then(VecDeque::pop_front).ok_or(Exhausted { merchant: name })
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
        assert_eq!(p.take(0), Err(Exhausted { merchant: "acme".into() }));
        assert!(p.take(1).is_err());
        assert_eq!(p.remaining(), vec![0, 0]);
    }
}
