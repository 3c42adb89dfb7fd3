//! `GET /pos/status` (STAT-*). Read-only: it takes `&self`, so it cannot change state (STAT-11).

use time::OffsetDateTime;

use super::DeviceNotFound;
use super::code::CodeStatus;
use super::device::DeviceStatus;
use super::state::State;
use crate::ids::DeviceId;

/// STAT-02: the three fields of a status answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct StatusView {
    pub(crate) device_status: DeviceStatus,
    /// STAT-04.
    pub(crate) is_claimed: bool,
    /// STAT-05: `none`, `pending`, `used` or `expired`, for the latest code.
    pub(crate) pairing_code_status: &'static str,
}

impl State {
    pub(crate) fn status(&self, id: DeviceId, now: OffsetDateTime) -> Result<StatusView, DeviceNotFound> {
        let device = self.device(id)?;
        let pairing_code_status = match device.latest_code().map(|c| c.status_at(now)) {
            None => "none",
            Some(CodeStatus::Pending) => "pending",
            Some(CodeStatus::Used) => "used",
            // A superseded code is never the latest: superseding means a newer one was pushed.
            Some(CodeStatus::Expired | CodeStatus::Superseded) => "expired",
        };
        Ok(StatusView { device_status: device.status, is_claimed: device.status.is_claimed(), pairing_code_status })
    }
}
