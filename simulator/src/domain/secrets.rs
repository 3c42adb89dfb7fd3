//! What a device holds for steps 5–8 (IDK-01…IDK-06, KEYS-12…KEYS-14, ACT-08, ATT-16), kept off
//! the common path: a device that never went past step 4 carries only an empty `Option<Box<_>>`,
//! and its identity secret and ZMK are derived from the seed and its id when asked for (IDK-05),
//! so a million provisioned devices cost no extra memory.

use std::collections::VecDeque;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::crypto::Key32;
use crate::crypto::kcv::Kcv;
use crate::ids::DeviceId;

/// ATT-16: how long a nonce is remembered after its request passed the signature check.
pub(crate) const NONCE_MEMORY: time::Duration = time::Duration::seconds(360);
/// Bound on remembered nonces per device, whatever the request rate (the oldest are forgotten).
pub(crate) const MAX_NONCES: usize = 4096;

/// An identity key of a device (ATT-03): an id and a 32-byte HMAC secret (IDK-01, IDK-03).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IdentityKey {
    pub(crate) key_id: String,
    pub(crate) secret: Key32,
    /// IDK-06: a revoked key stays revoked; attest refuses its id (ATT-30).
    pub(crate) revoked: bool,
}

/// The six keys of a key set (KEYS-05), in the order `tmk`, `kek`, `msk`, `tpk`, `tdk`, `mac`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeySet {
    /// The device's n-th key set, from 1 (KEYS-13).
    pub(crate) seq: u16,
    pub(crate) issued_at: OffsetDateTime,
    pub(crate) keys: [Key32; 6],
    /// KEYS-07: each key's KCV, computed once at issue.
    pub(crate) kcvs: [Kcv; 6],
}

impl KeySet {
    pub(crate) fn msk(&self) -> &Key32 {
        &self.keys[2]
    }
}

/// A device's steps 5–8 state beyond what the seed derives.
#[derive(Clone, Debug, Default)]
pub(crate) struct DeviceExt {
    /// `None`: the single default key derived from the seed (IDK-01, IDK-02, IDK-05).
    pub(crate) identity_keys: Option<Vec<IdentityKey>>,
    /// Another id for the derived default key (fixtures' `identity_key_id` without a secret).
    pub(crate) default_key_id: Option<String>,
    /// `None`: derived from the seed (IDK-04, IDK-05).
    pub(crate) zmk: Option<Key32>,
    /// KEYS-12: issued by the first keys 200, discarded by a rotation (KEYS-14).
    pub(crate) key_set: Option<KeySet>,
    /// How many key sets the device has had (the sequence of KEYS-13).
    pub(crate) key_sets_issued: u16,
    /// ACT-08.
    pub(crate) activated_at: Option<OffsetDateTime>,
    /// ATT-16: nonces that passed the signature check, oldest first, with when.
    pub(crate) nonces: VecDeque<(String, OffsetDateTime)>,
}

impl DeviceExt {
    /// ATT-32: whether `nonce` was seen within [`NONCE_MEMORY`] of `now` (bounds included).
    /// Forgets what the window has made irrelevant.
    pub(crate) fn nonce_seen(&mut self, nonce: &str, now: OffsetDateTime) -> bool {
        while self.nonces.front().is_some_and(|(_, at)| *at + NONCE_MEMORY < now) {
            self.nonces.pop_front();
        }
        self.nonces.iter().any(|(n, _)| n == nonce)
    }

    pub(crate) fn remember_nonce(&mut self, nonce: &str, now: OffsetDateTime) {
        if self.nonces.len() >= MAX_NONCES {
            self.nonces.pop_front();
        }
        self.nonces.push_back((nonce.to_owned(), now));
    }
}

/// Derives the per-device secrets of IDK-05 from the simulator's secret seed.
///
/// Holds the HMAC already keyed with the seed: keying absorbs two SHA-256 blocks (the padded key,
/// inner and outer), which every derivation (a ZMK on every keys call, an identity secret on
/// every attest) would otherwise repeat.
#[derive(Clone, Debug)]
pub(crate) struct SecretSeed(Hmac<Sha256>);

impl Default for SecretSeed {
    fn default() -> Self {
        SecretSeed::from_key(&Key32::default())
    }
}

impl SecretSeed {
    pub(crate) fn from_seed(seed: u64) -> Self {
        SecretSeed::from_key(&derive(&seed.to_le_bytes(), b"viopay-sim secret seed"))
    }

    fn from_key(key: &Key32) -> Self {
        // HMAC takes a key of any length.
        #[allow(clippy::expect_used)]
        SecretSeed(Hmac::<Sha256>::new_from_slice(key).expect("any key length"))
    }

    fn for_device(&self, what: &[u8], id: DeviceId) -> Key32 {
        let mut mac = self.0.clone();
        mac.update(what);
        mac.update(&id.as_u32().to_be_bytes());
        mac.finalize().into_bytes().into()
    }

    /// IDK-01/IDK-05: the default identity secret.
    pub(crate) fn identity_secret(&self, id: DeviceId) -> Key32 {
        self.for_device(b"identity-secret", id)
    }

    /// IDK-04/IDK-05: the device's ZMK.
    pub(crate) fn zmk(&self, id: DeviceId) -> Key32 {
        self.for_device(b"zmk", id)
    }
}

fn derive(key: &[u8], msg: &[u8]) -> Key32 {
    // HMAC takes a key of any length.
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// IDK-02: `idk-` + the device id's 8 hex digits in lowercase.
pub(crate) fn default_key_id(id: DeviceId) -> String {
    format!("idk-{:08x}", id.as_u32())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn idk_02_idk_05_default_key_ids_and_derived_secrets() {
        let id = DeviceId::from_u32(0x8F3A_2C91);
        assert_eq!(default_key_id(id), "idk-8f3a2c91");
        let a = SecretSeed::from_seed(7);
        assert_eq!(a.identity_secret(id), SecretSeed::from_seed(7).identity_secret(id), "stable for a seed");
        assert_ne!(a.identity_secret(id), a.zmk(id));
        assert_ne!(a.identity_secret(id), a.identity_secret(DeviceId::from_u32(1)));
        assert_ne!(a.identity_secret(id), SecretSeed::from_seed(8).identity_secret(id));
    }

    #[test]
    fn att_16_a_nonce_is_refused_up_to_and_including_360_s_then_forgotten() {
        let t = datetime!(2025-12-13 14:25:30 UTC);
        let mut ext = DeviceExt::default();
        ext.remember_nonce("a1b2c3d4e5f6", t);
        assert!(ext.nonce_seen("a1b2c3d4e5f6", t + time::Duration::seconds(360)));
        assert!(!ext.nonce_seen("A1B2C3D4E5F6", t), "compared exactly");
        assert!(!ext.nonce_seen("a1b2c3d4e5f6", t + time::Duration::seconds(361)));
        assert!(ext.nonces.is_empty(), "forgotten once irrelevant");
    }

    /// Issue 20: a device sending nonces faster than the window forgets them keeps at most
    /// `MAX_NONCES`, the oldest dropped first.
    #[test]
    fn att_16_nonce_memory_is_capped() {
        let t = datetime!(2025-12-13 14:25:30 UTC);
        let mut ext = DeviceExt::default();
        for i in 0..(MAX_NONCES + 1_000) {
            ext.remember_nonce(&format!("nonce{i:08}"), t);
        }
        assert_eq!(ext.nonces.len(), MAX_NONCES);
        assert!(!ext.nonce_seen("nonce00000000", t), "the oldest went first");
        assert!(ext.nonce_seen(&format!("nonce{:08}", MAX_NONCES + 999), t));
    }
}
