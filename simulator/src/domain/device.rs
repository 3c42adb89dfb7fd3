//! Device records (DEV-*).

use super::code::CodeRecord;
use super::merchant::MerchantIdx;
use super::secrets::DeviceExt;

/// `device_status` (STAT-03). Transitions only forward (DEV-04).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DeviceStatus {
    /// DEV-01: where every provisioned device starts.
    Inactive,
    /// DEV-02: after a successful claim.
    Claimed,
    /// DEV-03: after a successful activate (ACT-03, ACT-08).
    Activated,
}

impl DeviceStatus {
    /// STAT-04: `is_claimed` is true exactly when the device is claimed or activated.
    pub(crate) fn is_claimed(self) -> bool {
        !matches!(self, DeviceStatus::Inactive)
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Inactive => "inactive",
            DeviceStatus::Claimed => "claimed",
            DeviceStatus::Activated => "activated",
        }
    }
}

/// A provisioned device. Kept small: a million of them must fit well under 1 GiB.
#[derive(Clone, Debug)]
pub(crate) struct Device {
    /// The merchant the device was provisioned for; CLAIM-16 compares the token's merchant to it.
    pub(crate) owner: MerchantIdx,
    pub(crate) status: DeviceStatus,
    /// The merchant bound by a successful claim (CLAIM-20).
    pub(crate) claimed_by: Option<MerchantIdx>,
    /// The device's codes, oldest first; the last one is the latest (STAT-05). Bounded by
    /// [`super::CODE_HISTORY`].
    pub(crate) codes: Vec<CodeRecord>,
    /// CFG-06: the number of its `TERM-` id, unique, in provisioning order.
    pub(crate) terminal: u32,
    /// Steps 5–8 state, created when a device first needs it (keeps idle devices small).
    pub(crate) ext: Option<Box<DeviceExt>>,
}

impl Device {
    pub(crate) fn new(owner: MerchantIdx, status: DeviceStatus, terminal: u32) -> Self {
        let claimed_by = status.is_claimed().then_some(owner);
        Device { owner, status, claimed_by, codes: Vec::new(), terminal, ext: None }
    }

    pub(crate) fn latest_code(&self) -> Option<&CodeRecord> {
        self.codes.last()
    }
}
