//! Enrollments (§3.1): created by a merchant with a code (KEN-01…KEN-20), listed (KEN-21…KEN-31),
//! read (KEN-32, KEN-34) and cancelled (KEN-35…KEN-38); consumed by a registration
//! (`registration.rs`). Their status is read off the clock (KTIME-02, KEN-41).

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::KustomState;
use super::metadata::{self, Metadata};
use crate::time_fmt::rfc3339_millis;

/// KEN-03.
pub(crate) const DEFAULT_LIFETIME_MS: i64 = 7_200_000;
/// KEN-07.
pub(crate) const MIN_LIFETIME_MS: u64 = 1_000;
pub(crate) const MAX_LIFETIME_MS: u64 = 259_200_000;

/// KEN-08: the named lifetimes, in milliseconds.
pub(crate) fn ttl(raw: &str) -> Option<i64> {
    match raw {
        "TWO_HOURS" => Some(7_200_000),
        "TWENTY_FOUR_HOURS" => Some(86_400_000),
        "FORTY_EIGHT_HOURS" => Some(172_800_000),
        "SEVENTY_TWO_HOURS" => Some(259_200_000),
        _ => None,
    }
}

/// §3.1. What a record holds; EXPIRED is read off the clock (KEN-41), never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    Pending,
    Consumed,
    Cancelled,
}

/// The status an enrollment shows at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum EnrollmentStatus {
    Pending,
    Consumed,
    Expired,
    Cancelled,
}

impl EnrollmentStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EnrollmentStatus::Pending => "PENDING",
            EnrollmentStatus::Consumed => "CONSUMED",
            EnrollmentStatus::Expired => "EXPIRED",
            EnrollmentStatus::Cancelled => "CANCELLED",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Enrollment {
    pub(crate) id: String,
    pub(crate) code: String,
    pub(crate) merchant: usize,
    pub(crate) location_id: String,
    pub(crate) metadata: Metadata,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) expires_at: OffsetDateTime,
    pub(super) stage: Stage,
    /// The device it registered, once CONSUMED.
    pub(crate) device: Option<String>,
}

impl Enrollment {
    /// KTIME-02: PENDING while the clock reads less than `expires_at`; KEN-43: the other
    /// statuses are terminal (a CONSUMED enrollment never reads EXPIRED).
    pub(crate) fn status_at(&self, now: OffsetDateTime) -> EnrollmentStatus {
        match self.stage {
            Stage::Consumed => EnrollmentStatus::Consumed,
            Stage::Cancelled => EnrollmentStatus::Cancelled,
            Stage::Pending if now < self.expires_at => EnrollmentStatus::Pending,
            Stage::Pending => EnrollmentStatus::Expired,
        }
    }
}

/// KEN-05: the enrollment object.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct EnrollmentView {
    pub(crate) enrollment_id: String,
    pub(crate) enrollment_code: String,
    pub(crate) expires_at: String,
    pub(crate) status: EnrollmentStatus,
    pub(crate) metadata: Metadata,
    pub(crate) location_id: String,
    pub(crate) created_at: String,
}

/// What a new enrollment gets (already checked).
#[derive(Debug, Clone)]
pub(crate) struct NewEnrollment {
    pub(crate) metadata: Metadata,
    pub(crate) lifetime: Duration,
    pub(crate) location_id: String,
}

/// The list filters shared by enrollments and devices, already parsed (KEN-24, KEN-25, KEN-30,
/// KEN-31, KDEV-08).
#[derive(Debug, Clone, Default)]
pub(crate) struct ListFilter {
    pub(crate) location_id: Option<String>,
    pub(crate) metadata: Vec<(String, String)>,
}

impl KustomState {
    /// KEN-01, KEN-11, KEN-12, KTIME-04: a PENDING enrollment with a code no PENDING enrollment
    /// has. Returns its index.
    pub(crate) fn create_enrollment(
        &mut self,
        merchant: usize,
        new: NewEnrollment,
        now: OffsetDateTime,
        rng: &mut impl rand::Rng,
    ) -> usize {
        let created_at = now.replace_nanosecond(0).unwrap_or(now);
        let code = loop {
            let code = super::ids::new_code(rng);
            if !self.enrollments.iter().any(|e| e.code == code && e.status_at(now) == EnrollmentStatus::Pending) {
                break code;
            }
        };
        self.enrollments.push(Enrollment {
            id: super::ids::new_uuid(rng),
            code,
            merchant,
            location_id: new.location_id,
            metadata: new.metadata,
            created_at,
            expires_at: created_at + new.lifetime,
            stage: Stage::Pending,
            device: None,
        });
        self.enrollments.len() - 1
    }

    /// KEN-32, KEN-34: one of the merchant's enrollments, by id (another merchant's is hidden).
    pub(crate) fn enrollment(&self, merchant: usize, raw_id: &str) -> Option<usize> {
        let id = super::ids::parse_uuid(raw_id)?;
        self.enrollments.iter().position(|e| e.id == id && e.merchant == merchant)
    }

    /// KEN-35, KEN-36, KEN-38: cancels a PENDING enrollment; `Err(status)` otherwise, unchanged.
    pub(crate) fn cancel(&mut self, idx: usize, now: OffsetDateTime) -> Result<(), EnrollmentStatus> {
        let e = &mut self.enrollments[idx];
        match e.status_at(now) {
            EnrollmentStatus::Pending => {
                e.stage = Stage::Cancelled;
                Ok(())
            }
            other => Err(other),
        }
    }

    /// KEN-22, KEN-27, KEN-29: the merchant's PENDING enrollments (and CONSUMED ones unless left
    /// out, KEN-26), filtered, newest first (KEN-28).
    pub(crate) fn list_enrollments(
        &self,
        merchant: usize,
        filter: &ListFilter,
        include_consumed: bool,
        now: OffsetDateTime,
    ) -> Vec<&Enrollment> {
        let matching = self.enrollments.iter().filter(|e| {
            let status = e.status_at(now);
            e.merchant == merchant
                && (status == EnrollmentStatus::Pending || (include_consumed && status == EnrollmentStatus::Consumed))
                && filter.location_id.as_ref().is_none_or(|l| *l == e.location_id)
                && metadata::matches(&e.metadata, &filter.metadata)
        });
        KustomState::newest_first(matching, |e| e.created_at)
    }

    pub(crate) fn enrollment_view(&self, e: &Enrollment, now: OffsetDateTime) -> EnrollmentView {
        EnrollmentView {
            enrollment_id: e.id.clone(),
            enrollment_code: e.code.clone(),
            expires_at: rfc3339_millis(e.expires_at),
            status: e.status_at(now),
            metadata: e.metadata.clone(),
            location_id: e.location_id.clone(),
            created_at: rfc3339_millis(e.created_at),
        }
    }
}
