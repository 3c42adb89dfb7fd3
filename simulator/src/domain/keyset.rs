//! Steps 6–8 state: the key set of `/pos/keys` (KEYS-12…KEYS-14), the terminal id of config
//! (CFG-06) and activation (ACT-07…ACT-09). The HTTP layer wraps, encrypts and decrypts with
//! [`crate::crypto`]; the rules about what exists and what changes live here.

use time::{Duration, OffsetDateTime};

use super::DeviceNotFound;
use super::device::DeviceStatus;
use super::secrets::KeySet;
use super::state::State;
use crate::crypto::Key32;
use crate::ids::DeviceId;

/// KEYS-13: a key set is valid for 365 days from its first issue.
pub(crate) const KEY_SET_VALIDITY: Duration = Duration::days(365);

/// The names of a key set's entries, in its order (KEYS-05).
pub(crate) const KEY_NAMES: [&str; 6] = ["tmk", "kek", "msk", "tpk", "tdk", "mac"];

/// The three readiness flags of activate (ACT-01, ACT-05).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Readiness {
    pub(crate) emv_ready: bool,
    pub(crate) keys_installed: bool,
    pub(crate) network_ok: bool,
}

impl Readiness {
    /// ACT-07: the false flags, in the order `emv_ready`, `keys_installed`, `network_ok`.
    pub(crate) fn not_ready(&self) -> Vec<&'static str> {
        [("emv_ready", self.emv_ready), ("keys_installed", self.keys_installed), ("network_ok", self.network_ok)]
            .into_iter()
            .filter(|(_, ok)| !ok)
            .map(|(name, _)| name)
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ActivateError {
    #[error("device {0} is not provisioned")]
    DeviceNotFound(DeviceId),
    /// MSK-10.
    #[error("no key set issued")]
    NoKeySet,
    /// ACT-07: nothing changes.
    #[error("not ready: {0:?}")]
    NotReady(Vec<&'static str>),
}

impl KeySet {
    /// KEYS-13: `ks-` + year of issue + `-` + the two-digit sequence; key ids likewise per entry.
    pub(crate) fn id(&self, name: &str) -> String {
        let (year, seq) = (self.issued_at.year(), self.seq);
        if !(0..=9999).contains(&year) || seq > 99 {
            return format!("{name}-{year}-{seq:02}");
        }
        // Seven ids per keys answer: written without the formatting machinery.
        let mut id = String::with_capacity(name.len() + 8);
        id.push_str(name);
        id.push('-');
        let digit = |n: i32| char::from(b'0' + u8::try_from(n % 10).unwrap_or(0));
        let year_digits = [year / 1000, year / 100, year / 10, year];
        // `{year}` has no leading zeros.
        let first = year_digits.iter().position(|d| *d != 0).unwrap_or(3);
        id.extend(year_digits[first..].iter().map(|d| digit(*d)));
        id.push('-');
        id.push(digit(i32::from(seq / 10)));
        id.push(digit(i32::from(seq)));
        id
    }

    pub(crate) fn expires_at(&self) -> OffsetDateTime {
        self.issued_at + KEY_SET_VALIDITY
    }
}

impl State {
    /// IDK-04, IDK-05: the key the TMK is wrapped under.
    pub(crate) fn zmk(&self, id: DeviceId) -> Key32 {
        self.devices.get(&id).and_then(|d| d.ext.as_ref()).and_then(|e| e.zmk).unwrap_or_else(|| self.secret_seed.zmk(id))
    }

    /// The device's key set, if one is issued (MSK-10 otherwise).
    pub(crate) fn key_set(&self, id: DeviceId) -> Option<&KeySet> {
        self.devices.get(&id).and_then(|d| d.ext.as_ref()).and_then(|e| e.key_set.as_ref())
    }

    /// KEYS-12: the first call issues the key set (six fresh keys from `draw`), later calls return
    /// the same one until it is rotated.
    pub(crate) fn issue_keys(
        &mut self,
        id: DeviceId,
        now: OffsetDateTime,
        mut draw: impl FnMut() -> Key32,
    ) -> Result<KeySet, DeviceNotFound> {
        let device = self.devices.get_mut(&id).ok_or(DeviceNotFound(id))?;
        let ext = device.ext.get_or_insert_with(Default::default);
        if let Some(set) = &ext.key_set {
            return Ok(*set);
        }
        ext.key_sets_issued = ext.key_sets_issued.saturating_add(1);
        let issued_at = now.replace_nanosecond(0).unwrap_or(now);
        let keys: [Key32; 6] = std::array::from_fn(|_| draw());
        let kcvs = keys.each_ref().map(crate::crypto::kcv::kcv);
        let set = KeySet { seq: ext.key_sets_issued, issued_at, keys, kcvs };
        ext.key_set = Some(set);
        Ok(set)
    }

    /// KEYS-14: the set is discarded; the next keys call issues a new one.
    pub(crate) fn rotate_key_set(&mut self, id: DeviceId) -> Result<(), DeviceNotFound> {
        let device = self.devices.get_mut(&id).ok_or(DeviceNotFound(id))?;
        if let Some(ext) = device.ext.as_mut() {
            ext.key_set = None;
        }
        Ok(())
    }

    /// CFG-06: `TERM-` + the device's number, zero-padded to at least 6 digits.
    pub(crate) fn terminal_id(&self, id: DeviceId) -> Result<String, DeviceNotFound> {
        self.devices.get(&id).map(|d| format!("TERM-{:06}", d.terminal)).ok_or(DeviceNotFound(id))
    }

    pub(crate) fn activated_at(&self, id: DeviceId) -> Option<OffsetDateTime> {
        self.devices.get(&id).and_then(|d| d.ext.as_ref()).and_then(|e| e.activated_at)
    }

    /// ACT-10 after auth and the envelope: key set issued (MSK-10), flags true (ACT-07), then the
    /// device goes `claimed` → `activated` at `now` (ACT-08, DEV-03), or an activated device
    /// answers its original time (ACT-09). A false flag changes nothing, on an activated device too.
    pub(crate) fn activate(&mut self, id: DeviceId, flags: Readiness, now: OffsetDateTime) -> Result<OffsetDateTime, ActivateError> {
        let device = self.devices.get_mut(&id).ok_or(ActivateError::DeviceNotFound(id))?;
        let ext = device.ext.get_or_insert_with(Default::default);
        if ext.key_set.is_none() {
            return Err(ActivateError::NoKeySet);
        }
        let not_ready = flags.not_ready();
        if !not_ready.is_empty() {
            return Err(ActivateError::NotReady(not_ready));
        }
        if let (DeviceStatus::Activated, Some(at)) = (device.status, ext.activated_at) {
            return Ok(at);
        }
        let at = now.replace_nanosecond(0).unwrap_or(now);
        ext.activated_at = Some(at);
        device.status = DeviceStatus::Activated;
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Merchant;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2025-12-13 14:25:30.5 UTC);
    const DEV: DeviceId = DeviceId::from_u32(0x8F3A_2C91);
    const READY: Readiness = Readiness { emv_ready: true, keys_installed: true, network_ok: true };

    fn state() -> State {
        let mut s = State::new();
        let m = s.add_merchant(Merchant { id: "m".into(), name: "m".into(), client_id: "c".into(), client_secret: "s".into() }).expect("m");
        s.add_device(DEV, m, DeviceStatus::Claimed).expect("device");
        s
    }

    /// KEYS-13's ids, written by hand, read as `format!("{name}-{year}-{seq:02}")` would.
    #[test]
    fn keys_13_ids_read_as_formatted() {
        for year in [0, 7, 99, 999, 2025, 9999, -5] {
            for seq in [0_u16, 1, 9, 10, 99, 100] {
                let issued_at = time::macros::datetime!(2025-06-01 00:00 UTC).replace_year(year).expect("a year");
                let set = KeySet { seq, issued_at, keys: [[0; 32]; 6], kcvs: [crate::crypto::kcv::kcv(&[0; 32]); 6] };
                assert_eq!(set.id("ks"), format!("ks-{year}-{seq:02}"));
            }
        }
    }

    #[test]
    fn keys_12_keys_13_keys_14_stable_until_rotated_then_the_next_sequence() {
        let mut s = state();
        let mut n = 0u8;
        let mut draw = || {
            n += 1;
            [n; 32]
        };
        let first = s.issue_keys(DEV, T0, &mut draw).expect("keys");
        assert_eq!(
            (first.id("ks"), first.id("tmk"), first.issued_at),
            ("ks-2025-01".into(), "tmk-2025-01".into(), datetime!(2025-12-13 14:25:30 UTC))
        );
        assert_eq!(first.expires_at(), datetime!(2026-12-13 14:25:30 UTC));
        assert_eq!(
            s.issue_keys(DEV, T0 + Duration::days(400), &mut draw).expect("again"),
            first,
            "KEYS-14: passing expires_at changes nothing"
        );
        s.rotate_key_set(DEV).expect("rotate");
        assert!(s.key_set(DEV).is_none());
        let second = s.issue_keys(DEV, T0 + Duration::days(1), &mut draw).expect("new");
        assert_eq!(second.id("ks"), "ks-2025-02");
        assert_ne!(second.keys, first.keys);
    }

    #[test]
    fn act_07_act_08_act_09_msk_10() {
        let mut s = state();
        assert_eq!(s.activate(DEV, READY, T0), Err(ActivateError::NoKeySet));
        s.issue_keys(DEV, T0, || [1; 32]).expect("keys");
        let not_ready = Readiness { emv_ready: false, network_ok: false, ..READY };
        assert_eq!(s.activate(DEV, not_ready, T0), Err(ActivateError::NotReady(vec!["emv_ready", "network_ok"])));
        let at = s.activate(DEV, READY, T0).expect("activated");
        assert_eq!(s.device(DEV).map(|d| d.status), Ok(DeviceStatus::Activated));
        assert_eq!(s.activate(DEV, READY, T0 + Duration::hours(1)), Ok(at), "ACT-09: the original time");
        assert_eq!(s.activate(DEV, not_ready, T0), Err(ActivateError::NotReady(vec!["emv_ready", "network_ok"])));
        assert_eq!(s.device(DEV).map(|d| d.status), Ok(DeviceStatus::Activated), "stays activated");
    }
}
