//! `POST /pos/claim`, after authentication and body validation (CLAIM-12…CLAIM-21).

use time::OffsetDateTime;

use super::code::{CodeState, CodeStatus};
use super::device::DeviceStatus;
use super::merchant::MerchantIdx;
use super::state::State;
use crate::ids::{DeviceId, PairingCode};

/// A claim that passed authentication and body validation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClaimRequest<'a> {
    /// CLAIM-02: from the token, never from the body.
    pub(crate) merchant: MerchantIdx,
    /// Already trimmed and uppercased (CLAIM-11).
    pub(crate) code: &'a str,
    /// The optional `device_id` of the body (CLAIM-14).
    pub(crate) expected_device: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Claimed {
    pub(crate) device: DeviceId,
}

/// Refusals, in the order they are checked. A refusal changes nothing (CLAIM-17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ClaimError {
    /// CLAIM-12: no code with this value.
    #[error("pairing code not found")]
    NotFound,
    /// PAIR-05: the code was superseded (answered "not found" too).
    #[error("pairing code superseded")]
    Superseded { device: DeviceId },
    /// CLAIM-14: the body's `device_id` is not the device behind the code ("not found" too).
    #[error("pairing code belongs to another device than the body names")]
    DeviceMismatch { device: DeviceId },
    /// CLAIM-16.
    #[error("device {device} belongs to another merchant")]
    NotOwner { device: DeviceId },
    /// CLAIM-18.
    #[error("pairing code already used")]
    Used { device: DeviceId },
    /// CLAIM-19.
    #[error("pairing code expired")]
    Expired { device: DeviceId },
}

impl ClaimError {
    /// The device the refused code belongs to, where the code was found (for the journal).
    pub(crate) fn device(&self) -> Option<DeviceId> {
        match *self {
            ClaimError::NotFound => None,
            ClaimError::Superseded { device }
            | ClaimError::DeviceMismatch { device }
            | ClaimError::NotOwner { device }
            | ClaimError::Used { device }
            | ClaimError::Expired { device } => Some(device),
        }
    }
}

/// Why the simulator cannot claim a device on its merchant's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum OwnClaimError {
    #[error("device is not provisioned")]
    UnknownDevice,
    #[error("the device has no pairing code")]
    NoCode,
    #[error(transparent)]
    Refused(ClaimError),
}

impl State {
    /// The claim a merchant would make of its own device's latest code, through the same path as
    /// `POST /pos/claim` (the control API's claim, and automatic claims). Returns the code claimed.
    pub(crate) fn claim_as_owner(&mut self, device: DeviceId, now: OffsetDateTime) -> Result<PairingCode, OwnClaimError> {
        let d = self.device(device).map_err(|_| OwnClaimError::UnknownDevice)?;
        let code = d.latest_code().map(|c| c.code).ok_or(OwnClaimError::NoCode)?;
        let owner = d.owner;
        let id = device.to_string();
        let text = code.to_string();
        self.claim(ClaimRequest { merchant: owner, code: &text, expected_device: Some(&id) }, now).map_err(OwnClaimError::Refused)?;
        Ok(code)
    }

    /// Claims the device behind a code. The whole check-and-set runs under one `&mut self`, so of
    /// concurrent claims of one code exactly one wins (CLAIM-21) when the caller serialises access.
    ///
    /// Pipeline: lookup (CLAIM-13: no format check, anything unknown is "not found"; PAIR-05:
    /// superseded is "not found"; CLAIM-14: `device_id` mismatch is "not found") → ownership
    /// (CLAIM-16) → used (CLAIM-18) → expired (CLAIM-19), the order CLAIM-15 fixes → success
    /// (CLAIM-20: code used, device claimed and bound to the merchant).
    pub(crate) fn claim(&mut self, req: ClaimRequest<'_>, now: OffsetDateTime) -> Result<Claimed, ClaimError> {
        let not_found = ClaimError::NotFound;
        let code = PairingCode::parse(req.code).ok_or(not_found)?;
        let (device_id, record) = self.find_code(code).ok_or(not_found)?;
        let status = record.status_at(now);
        if status == CodeStatus::Superseded {
            return Err(ClaimError::Superseded { device: device_id });
        }
        if req.expected_device.is_some_and(|expected| expected != device_id.to_string()) {
            return Err(ClaimError::DeviceMismatch { device: device_id });
        }
        let device = self.devices.get_mut(&device_id).ok_or(not_found)?;
        if device.owner != req.merchant {
            return Err(ClaimError::NotOwner { device: device_id });
        }
        match status {
            CodeStatus::Used => return Err(ClaimError::Used { device: device_id }),
            CodeStatus::Expired => return Err(ClaimError::Expired { device: device_id }),
            CodeStatus::Pending | CodeStatus::Superseded => {}
        }
        let record = device.codes.iter_mut().rev().find(|r| r.code == code).ok_or(not_found)?;
        record.state = CodeState::Used;
        // DEV-02, and DEV-04: never backwards (an activated device is not "re-claimed").
        if device.status == DeviceStatus::Inactive {
            device.status = DeviceStatus::Claimed;
        }
        device.claimed_by = Some(req.merchant);
        Ok(Claimed { device: device_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Merchant;
    use time::Duration;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2025-12-13 14:25:30 UTC);
    const DEV: DeviceId = DeviceId::from_u32(0x8F3A_2C91);

    fn setup() -> (State, MerchantIdx, MerchantIdx, String) {
        let mut s = State::new();
        let m = |id: &str| Merchant { id: id.into(), name: id.into(), client_id: id.into(), client_secret: "x".into() };
        let a = s.add_merchant(m("a")).expect("merchant");
        let b = s.add_merchant(m("b")).expect("merchant");
        s.add_device(DEV, a, DeviceStatus::Inactive).expect("device");
        let code = s.issue_code(DEV, T0, &mut || PairingCode::from_index(42)).expect("issue").code.to_string();
        (s, a, b, code)
    }

    fn req(merchant: MerchantIdx, code: &str) -> ClaimRequest<'_> {
        ClaimRequest { merchant, code, expected_device: None }
    }

    #[test]
    fn claim_20_success_marks_code_used_and_device_claimed() {
        let (mut s, a, _, code) = setup();
        assert_eq!(s.claim(req(a, &code), T0), Ok(Claimed { device: DEV }));
        let st = s.status(DEV, T0 + Duration::seconds(1000)).expect("status");
        assert_eq!((st.device_status, st.is_claimed, st.pairing_code_status), (DeviceStatus::Claimed, true, "used"));
        assert_eq!(s.claim(req(a, &code), T0), Err(ClaimError::Used { device: DEV }));
    }

    #[test]
    fn claim_16_claim_17_other_merchant_is_refused_and_nothing_changes() {
        let (mut s, a, b, code) = setup();
        let before = s.clone().status(DEV, T0);
        assert_eq!(s.claim(req(b, &code), T0), Err(ClaimError::NotOwner { device: DEV }));
        assert_eq!(s.status(DEV, T0), before);
        assert_eq!(s.claim(req(a, &code), T0), Ok(Claimed { device: DEV }), "the owner can still claim");
    }

    #[test]
    fn claim_19_expired_from_300_s() {
        let (mut s, a, _, code) = setup();
        assert_eq!(s.claim(req(a, &code), T0 + Duration::seconds(300)), Err(ClaimError::Expired { device: DEV }));
        assert_eq!(s.claim(req(a, &code), T0 + Duration::seconds(299)), Ok(Claimed { device: DEV }));
    }

    #[test]
    fn claim_15_ownership_before_used_before_expired() {
        let (mut s, a, b, code) = setup();
        s.claim(req(a, &code), T0).expect("claim");
        assert_eq!(s.claim(req(b, &code), T0 + Duration::seconds(400)), Err(ClaimError::NotOwner { device: DEV }));
        assert_eq!(s.claim(req(a, &code), T0 + Duration::seconds(400)), Err(ClaimError::Used { device: DEV }));
    }

    #[test]
    fn claim_12_claim_13_pair_05_claim_14_are_not_found() {
        let (mut s, a, _, code) = setup();
        assert_eq!(s.claim(req(a, "ZZZZZZ"), T0), Err(ClaimError::NotFound));
        assert_eq!(s.claim(req(a, "K7M3N0"), T0), Err(ClaimError::NotFound));
        assert_eq!(s.claim(req(a, "TOO-LONG-CODE"), T0), Err(ClaimError::NotFound));
        let wrong = ClaimRequest { expected_device: Some("POS-00000001"), ..req(a, &code) };
        assert_eq!(s.claim(wrong, T0), Err(ClaimError::DeviceMismatch { device: DEV }));
        let right = ClaimRequest { expected_device: Some("POS-8F3A2C91"), ..req(a, &code) };
        s.issue_code(DEV, T0, &mut || PairingCode::from_index(43)).expect("reissue");
        assert_eq!(s.claim(right, T0), Err(ClaimError::Superseded { device: DEV }), "superseded, even when the body names its device");
    }
}
