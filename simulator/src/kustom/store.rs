//! Kustom's records under a lock of their own: Kustom traffic never waits for VioPay's lock, and
//! its own generator keeps its ids independent of VioPay traffic.

use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::domain::KustomState;

/// State and randomness change together under one lock, so a registration's checks and its
/// change are one step (KREG-14).
pub(crate) struct Store {
    pub(crate) state: KustomState,
    pub(crate) rng: StdRng,
}

/// Kustom's store (KUSTOM-API.md's `/ipp/v1`), shared by its handlers, the control API's Kustom
/// routes and the portal's Kustom tab.
pub(crate) struct KustomStore {
    lock: RwLock<Store>,
    seed: u64,
}

/// Kustom's generator: the simulator's seed, moved off VioPay's sequence.
fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed ^ 0x4b55_5354_4f4d_0001)
}

impl KustomStore {
    pub(crate) fn new(state: KustomState, seed: u64) -> Self {
        KustomStore { lock: RwLock::new(Store { state, rng: rng(seed) }), seed }
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.lock.read()
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.lock.write()
    }

    /// `/_sim/reset`: the fixtures' merchants again, and the generator at the start.
    pub(crate) fn reset(&self, state: KustomState) {
        *self.lock.write() = Store { state, rng: rng(self.seed) };
    }
}
