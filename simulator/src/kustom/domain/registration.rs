//! Registration (KREG-01…KREG-30): the POS app's code consumes a PENDING enrollment and makes a
//! registered device, all checks and the change in one step (KREG-14); the playground's
//! simulated device (KREG-24…KREG-30).

use time::OffsetDateTime;

use super::KustomState;
use super::device::{Device, Platform, default_name};
use super::enrollment::{EnrollmentStatus, NewEnrollment, Stage};

/// Why a registration failed, in the order KREG-16 checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RegisterError {
    /// KREG-19.
    NotFound,
    /// KREG-20.
    Expired,
    /// KREG-21.
    Cancelled,
    /// KREG-22.
    Used,
    /// KREG-23.
    HardwareRegistered,
}

/// What a registration brings (already checked, KREG-06).
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    /// Trimmed and uppercased (KREG-07).
    pub(crate) code: String,
    pub(crate) hardware_id: String,
    pub(crate) platform: Platform,
    pub(crate) name: Option<String>,
}

impl KustomState {
    /// KREG-08: the PENDING enrollment with the code, else the most recently created one.
    pub(super) fn by_code(&self, code: &str, now: OffsetDateTime) -> Option<usize> {
        let with_code = || self.enrollments.iter().enumerate().filter(|(_, e)| e.code == code);
        with_code().find(|(_, e)| e.status_at(now) == EnrollmentStatus::Pending).or_else(|| with_code().next_back()).map(|(i, _)| i)
    }

    /// KREG-09…KREG-16: registration, all checks and the change under one `&mut self`. Returns the
    /// new device's index.
    pub(crate) fn register(&mut self, reg: Registration, now: OffsetDateTime, rng: &mut impl rand::Rng) -> Result<usize, RegisterError> {
        let idx = self.by_code(&reg.code, now).ok_or(RegisterError::NotFound)?;
        match self.enrollments[idx].status_at(now) {
            EnrollmentStatus::Expired => return Err(RegisterError::Expired),
            EnrollmentStatus::Cancelled => return Err(RegisterError::Cancelled),
            EnrollmentStatus::Consumed => return Err(RegisterError::Used),
            EnrollmentStatus::Pending => {}
        }
        let merchant = self.enrollments[idx].merchant;
        // KREG-15: the same merchant's registered device with this hardware id blocks it.
        if self.devices.iter().any(|d| d.registered && d.merchant == merchant && d.hardware_id == reg.hardware_id) {
            return Err(RegisterError::HardwareRegistered);
        }
        Ok(self.consume(idx, reg, now, rng))
    }

    /// KREG-09…KREG-12: the enrollment CONSUMED, a registered device with its metadata and location.
    fn consume(&mut self, idx: usize, reg: Registration, now: OffsetDateTime, rng: &mut impl rand::Rng) -> usize {
        let e = &self.enrollments[idx];
        let device = Device {
            id: super::ids::new_uuid(rng),
            name: reg.name.unwrap_or_else(|| default_name(reg.platform, &reg.hardware_id)),
            hardware_id: reg.hardware_id,
            merchant: e.merchant,
            location_id: Some(e.location_id.clone()),
            platform: reg.platform,
            metadata: e.metadata.clone(),
            created_at: now.replace_nanosecond(0).unwrap_or(now),
            registered: true,
            enrollment: e.id.clone(),
        };
        let e = &mut self.enrollments[idx];
        e.stage = Stage::Consumed;
        e.device = Some(device.id.clone());
        self.devices.push(device);
        self.devices.len() - 1
    }

    /// KREG-24, KREG-28: an enrollment with the default lifetime, consumed at once by a
    /// simulated `TERMINAL`.
    pub(crate) fn simulated_device(
        &mut self,
        merchant: usize,
        name: String,
        new: NewEnrollment,
        now: OffsetDateTime,
        rng: &mut impl rand::Rng,
    ) -> usize {
        let idx = self.create_enrollment(merchant, new, now, rng);
        let code = self.enrollments[idx].code.clone();
        let reg = Registration { code, hardware_id: super::ids::new_sim_hardware_id(rng), platform: Platform::Terminal, name: Some(name) };
        self.consume(idx, reg, now, rng)
    }
}
