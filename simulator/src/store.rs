//! VioPay's state under its own lock: the domain's [`State`] and the seeded generator its draws
//! come from. One instance, shared (`Arc`) by the handlers that read or change VioPay's devices
//! and merchants; Kustom's records are in [`crate::kustom::KustomStore`], under another lock.

use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::domain::{SecretSeed, State};

/// State and randomness change together under one lock, so an operation that draws a code and
/// stores it is atomic (PAIR-04, PAIR-07, CLAIM-21).
pub(crate) struct Store {
    pub(crate) state: State,
    pub(crate) rng: StdRng,
}

/// VioPay's store: the one lock every VioPay handler, the control API's VioPay routes and the
/// automatic claims take.
pub(crate) struct ViopayStore {
    lock: RwLock<Store>,
    seed: u64,
}

impl ViopayStore {
    /// `state` from the fixtures; its device secrets and every draw derive from `seed`.
    pub(crate) fn new(state: State, seed: u64) -> Self {
        ViopayStore { lock: RwLock::new(Self::fresh(state, seed)), seed }
    }

    fn fresh(mut state: State, seed: u64) -> Store {
        state.set_secret_seed(SecretSeed::from_seed(seed));
        Store { state, rng: StdRng::seed_from_u64(seed) }
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.lock.read()
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.lock.write()
    }

    /// `/_sim/reset`: the fixtures' state again, and the generator back at the start of its
    /// sequence, so a seeded run after a reset repeats the first one byte for byte.
    pub(crate) fn reset(&self, state: State) {
        *self.lock.write() = Self::fresh(state, self.seed);
    }
}

/// A random UUID-shaped id (version 4 layout) from the seeded generator: merchant ids and token
/// ids (`jti`) that a seeded run repeats.
pub(crate) fn random_uuid(rng: &mut StdRng) -> String {
    let b: [u8; 16] = rng.random();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-4{}-{:x}{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], 8 | (b[8] & 3), &hex[17..20], &hex[20..32])
}
