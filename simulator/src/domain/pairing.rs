//! `POST /pos/pairing-code`: issuing codes (PAIR-*, CODE-01, CODE-04, CODE-06).

use time::OffsetDateTime;

use super::code::{CODE_TTL, CodeRecord, CodeState};
use super::state::State;
use crate::ids::{DeviceId, PairingCode};

/// PAIR-07/PAIR-08: how many candidate codes are drawn before giving up (Q-06: our constant).
pub(crate) const GENERATION_ATTEMPTS: usize = 8;

/// How many codes a device remembers. Older records are forgotten, and with them the ability to
/// answer "used"/"expired" for them (Q-07: retention is a simulator choice).
pub(crate) const CODE_HISTORY: usize = 8;

/// The source of candidate codes. Production draws them from a seeded RNG; tests script them to
/// force collisions.
pub(crate) trait CodeGenerator {
    fn next_code(&mut self) -> PairingCode;
}

impl<F: FnMut() -> PairingCode> CodeGenerator for F {
    fn next_code(&mut self) -> PairingCode {
        self()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IssuedCode {
    pub(crate) code: PairingCode,
    /// PAIR-02: always 300.
    pub(crate) expires_in_sec: i64,
    /// The pending code this one superseded, if any (CODE-04).
    pub(crate) superseded: Option<PairingCode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PairError {
    /// PAIR-09/PAIR-10.
    #[error("device {0} is not provisioned")]
    DeviceNotFound(DeviceId),
    /// PAIR-11: nothing changes; the latest code stays `used`.
    #[error("device {0} is already claimed")]
    AlreadyClaimed(DeviceId),
    /// PAIR-08: every candidate collided with a live code (PAIR-07).
    #[error("no free pairing code after {GENERATION_ATTEMPTS} attempts")]
    GenerationFailed,
}

impl State {
    /// Issues a new pending code to `id`.
    ///
    /// * PAIR-11: a claimed or activated device gets no code and nothing changes.
    /// * PAIR-07: the code differs from every live code of every device; candidates that collide are
    ///   redrawn, and after [`GENERATION_ATTEMPTS`] collisions the request fails (PAIR-08).
    /// * PAIR-04/CODE-04: a pending code of the same device is superseded. CODE-06: an expired one
    ///   stays expired.
    /// * CODE-01/PAIR-06: the new code is pending and becomes the device's latest.
    pub(crate) fn issue_code(
        &mut self,
        id: DeviceId,
        now: OffsetDateTime,
        generator: &mut impl CodeGenerator,
    ) -> Result<IssuedCode, PairError> {
        let device = self.devices.get(&id).ok_or(PairError::DeviceNotFound(id))?;
        if device.status.is_claimed() {
            return Err(PairError::AlreadyClaimed(id));
        }
        let code = (0..GENERATION_ATTEMPTS)
            .map(|_| generator.next_code())
            .find(|candidate| !self.is_live_code(*candidate, now))
            .ok_or(PairError::GenerationFailed)?;

        let device = self.devices.get_mut(&id).ok_or(PairError::DeviceNotFound(id))?;
        let superseded = match device.codes.last_mut() {
            Some(last) if last.is_live(now) => {
                last.state = CodeState::Superseded;
                Some(last.code)
            }
            _ => None,
        };
        device.codes.push(CodeRecord { code, issued_at: now, state: CodeState::Pending });
        let forgotten = (device.codes.len() > CODE_HISTORY).then(|| device.codes.remove(0));
        let still_held = |c: PairingCode| device.codes.iter().any(|r| r.code == c);
        let forget = forgotten.filter(|old| !still_held(old.code)).map(|old| old.code);

        if let Some(old) = forget
            && self.codes.get(&old) == Some(&id)
        {
            self.codes.remove(&old);
        }
        self.codes.insert(code, id);
        Ok(IssuedCode { code, expires_in_sec: CODE_TTL.whole_seconds(), superseded })
    }

    /// Whether `code` is a pending, unexpired code of some device.
    fn is_live_code(&self, code: PairingCode, now: OffsetDateTime) -> bool {
        self.find_code(code).is_some_and(|(_, record)| record.is_live(now))
    }

    /// The newest record with this value, and its device.
    pub(super) fn find_code(&self, code: PairingCode) -> Option<(DeviceId, &CodeRecord)> {
        let device_id = *self.codes.get(&code)?;
        let record = self.devices.get(&device_id)?.codes.iter().rev().find(|r| r.code == code)?;
        Some((device_id, record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CodeStatus, DeviceStatus, Merchant, MerchantIdx};
    use time::Duration;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2025-12-13 14:25:30 UTC);

    fn state_with(devices: &[u32]) -> (State, MerchantIdx) {
        let mut s = State::new();
        let m = s
            .add_merchant(Merchant { id: "m1".into(), name: "M1".into(), client_id: "c1".into(), client_secret: "s1".into() })
            .expect("merchant");
        for d in devices {
            s.add_device(DeviceId::from_u32(*d), m, DeviceStatus::Inactive).expect("device");
        }
        (s, m)
    }

    fn scripted(codes: &[u32]) -> impl FnMut() -> PairingCode + '_ {
        let mut i = 0;
        move || {
            let c = PairingCode::from_index(codes[i % codes.len()]);
            i += 1;
            c
        }
    }

    #[test]
    fn pair_07_redraws_on_collision_with_a_live_code() {
        let (mut s, _) = state_with(&[1, 2]);
        let first = s.issue_code(DeviceId::from_u32(1), T0, &mut scripted(&[5])).expect("issue");
        let second = s.issue_code(DeviceId::from_u32(2), T0, &mut scripted(&[5, 5, 6])).expect("issue");
        assert_eq!(first.code, PairingCode::from_index(5));
        assert_eq!(second.code, PairingCode::from_index(6));
    }

    #[test]
    fn pair_08_after_repeated_collisions_nothing_changes() {
        let (mut s, _) = state_with(&[1, 2]);
        s.issue_code(DeviceId::from_u32(1), T0, &mut scripted(&[5])).expect("issue");
        let before = s.device(DeviceId::from_u32(2)).map(|d| d.codes.clone());
        assert_eq!(s.issue_code(DeviceId::from_u32(2), T0, &mut scripted(&[5])), Err(PairError::GenerationFailed));
        assert_eq!(s.device(DeviceId::from_u32(2)).map(|d| d.codes.clone()), before);
    }

    #[test]
    fn pair_07_an_expired_value_may_be_reissued_and_the_newest_record_wins() {
        let (mut s, _) = state_with(&[1, 2]);
        s.issue_code(DeviceId::from_u32(1), T0, &mut scripted(&[5])).expect("issue");
        let later = T0 + Duration::seconds(300);
        let again = s.issue_code(DeviceId::from_u32(2), later, &mut scripted(&[5])).expect("issue");
        assert_eq!(again.code, PairingCode::from_index(5));
        assert_eq!(s.find_code(again.code).map(|(d, _)| d), Some(DeviceId::from_u32(2)));
    }

    #[test]
    fn pair_04_code_04_new_code_supersedes_pending_one() {
        let (mut s, _) = state_with(&[1]);
        let a = s.issue_code(DeviceId::from_u32(1), T0, &mut scripted(&[1])).expect("issue");
        let b = s.issue_code(DeviceId::from_u32(1), T0 + Duration::seconds(10), &mut scripted(&[2])).expect("issue");
        assert_eq!(b.superseded, Some(a.code));
        let now = T0 + Duration::seconds(20);
        assert_eq!(s.find_code(a.code).map(|(_, r)| r.status_at(now)), Some(CodeStatus::Superseded));
        assert_eq!(s.find_code(b.code).map(|(_, r)| r.status_at(now)), Some(CodeStatus::Pending));
    }

    #[test]
    fn code_06_expired_code_stays_expired_when_a_new_one_is_issued() {
        let (mut s, _) = state_with(&[1]);
        let a = s.issue_code(DeviceId::from_u32(1), T0, &mut scripted(&[1])).expect("issue");
        let later = T0 + Duration::seconds(400);
        let b = s.issue_code(DeviceId::from_u32(1), later, &mut scripted(&[2])).expect("issue");
        assert_eq!(b.superseded, None);
        assert_eq!(s.find_code(a.code).map(|(_, r)| r.status_at(later)), Some(CodeStatus::Expired));
    }

    #[test]
    fn pair_11_claimed_device_gets_no_code() {
        let (mut s, m) = state_with(&[]);
        s.add_device(DeviceId::from_u32(9), m, DeviceStatus::Claimed).expect("device");
        assert_eq!(s.issue_code(DeviceId::from_u32(9), T0, &mut scripted(&[1])), Err(PairError::AlreadyClaimed(DeviceId::from_u32(9))));
    }

    #[test]
    fn history_is_bounded_and_forgotten_values_leave_the_index() {
        let (mut s, _) = state_with(&[1]);
        let n = CODE_HISTORY as u32 + 3;
        for i in 0..n {
            s.issue_code(DeviceId::from_u32(1), T0 + Duration::seconds(i64::from(i)), &mut scripted(&[100 + i])).expect("issue");
        }
        assert_eq!(s.device(DeviceId::from_u32(1)).map(|d| d.codes.len()), Ok(CODE_HISTORY));
        assert_eq!(s.codes.len(), CODE_HISTORY);
        assert!(s.find_code(PairingCode::from_index(100)).is_none());
        assert!(s.find_code(PairingCode::from_index(100 + n - 1)).is_some());
    }
}
