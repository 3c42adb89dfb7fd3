//! Kustom's state: merchants with their API keys and locations (from the fixtures, KLOC-04),
//! enrollments and devices. Every operation takes `now` from the one simulator clock (KTIME-03) and
//! runs under the simulator's store lock, so that a check and its change are one step (KREG-14).

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::metadata::Metadata;
use crate::time_fmt::rfc3339_millis;

/// KLOC-03.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub id: String,
    pub name: String,
    pub city: String,
}

/// A merchant of the fixtures: its id (MID), one API key with its Basic username, its locations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Merchant {
    pub id: String,
    pub name: String,
    pub api_key: String,
    pub username: String,
    pub locations: Vec<Location>,
}

/// §3.1. What a record holds; EXPIRED is read off the clock (KEN-41), never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Pending,
    Consumed,
    Cancelled,
}

/// The status an enrollment shows at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EnrollmentStatus {
    Pending,
    Consumed,
    Expired,
    Cancelled,
}

impl EnrollmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EnrollmentStatus::Pending => "PENDING",
            EnrollmentStatus::Consumed => "CONSUMED",
            EnrollmentStatus::Expired => "EXPIRED",
            EnrollmentStatus::Cancelled => "CANCELLED",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Enrollment {
    pub id: String,
    pub code: String,
    pub merchant: usize,
    pub location_id: String,
    pub metadata: Metadata,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    stage: Stage,
    /// The device it registered, once CONSUMED.
    pub device: Option<String>,
}

impl Enrollment {
    /// KTIME-02: PENDING while the clock reads less than `expires_at`; KEN-43: the other
    /// statuses are terminal (a CONSUMED enrollment never reads EXPIRED).
    pub fn status_at(&self, now: OffsetDateTime) -> EnrollmentStatus {
        match self.stage {
            Stage::Consumed => EnrollmentStatus::Consumed,
            Stage::Cancelled => EnrollmentStatus::Cancelled,
            Stage::Pending if now < self.expires_at => EnrollmentStatus::Pending,
            Stage::Pending => EnrollmentStatus::Expired,
        }
    }
}

/// KDEV-01, KREG-06.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Platform {
    #[serde(rename = "IOS")]
    Ios,
    #[serde(rename = "ANDROID")]
    Android,
    #[serde(rename = "TERMINAL")]
    Terminal,
}

impl Platform {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "IOS" => Some(Platform::Ios),
            "ANDROID" => Some(Platform::Android),
            "TERMINAL" => Some(Platform::Terminal),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Ios => "IOS",
            Platform::Android => "ANDROID",
            Platform::Terminal => "TERMINAL",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Device {
    pub id: String,
    pub hardware_id: String,
    pub merchant: usize,
    pub location_id: Option<String>,
    pub name: String,
    pub platform: Platform,
    pub metadata: Metadata,
    pub created_at: OffsetDateTime,
    /// §3.2: `false` once deregistered (terminal, KDEV-30).
    pub registered: bool,
    pub enrollment: String,
}

/// KREG-12: `<platform> <last 4 characters of hardware_id>` (the whole id when shorter).
pub fn default_name(platform: Platform, hardware_id: &str) -> String {
    let chars: Vec<char> = hardware_id.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("{} {tail}", platform.as_str())
}

/// KEN-05: the enrollment object.
#[derive(Debug, Clone, Serialize)]
pub struct EnrollmentView {
    pub enrollment_id: String,
    pub enrollment_code: String,
    pub expires_at: String,
    pub status: EnrollmentStatus,
    pub metadata: Metadata,
    pub location_id: String,
    pub created_at: String,
}

/// KDEV-02: the device record, every member present.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceView {
    pub id: String,
    pub hardware_id: String,
    pub merchant_id: String,
    pub location_id: Option<String>,
    pub name: String,
    pub platform: Platform,
    pub metadata: Metadata,
    pub created_at: String,
    pub open_cash_register_id: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct KustomState {
    pub merchants: Vec<Merchant>,
    pub enrollments: Vec<Enrollment>,
    pub devices: Vec<Device>,
}

/// Why a registration failed, in the order KREG-16 checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterError {
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
pub struct Registration {
    /// Trimmed and uppercased (KREG-07).
    pub code: String,
    pub hardware_id: String,
    pub platform: Platform,
    pub name: Option<String>,
}

/// What a new enrollment gets (already checked).
#[derive(Debug, Clone)]
pub struct NewEnrollment {
    pub metadata: Metadata,
    pub lifetime: Duration,
    pub location_id: String,
}

impl KustomState {
    /// KAUTH-03, KAUTH-05: the key alone names the merchant.
    pub fn merchant_by_key(&self, key: &str) -> Option<usize> {
        self.merchants.iter().position(|m| super::ids::is_simulator_key(key) && m.api_key == key)
    }

    pub fn merchant(&self, idx: usize) -> Option<&Merchant> {
        self.merchants.get(idx)
    }

    /// KEN-10 (and KDEV-14, KREG-28): a present `location_id` must be a UUID of one of the
    /// merchant's locations; an absent one is the merchant's only location. The error is the
    /// message for `errors.location_id`.
    pub fn resolve_location(
        &self,
        merchant: usize,
        raw: Option<&serde_json::Value>,
        default_to_only: bool,
    ) -> Result<Option<String>, String> {
        let locations = self.merchants.get(merchant).map_or(&[][..], |m| m.locations.as_slice());
        match raw {
            None if !default_to_only => Ok(None),
            None => match locations {
                [only] => Ok(Some(only.id.clone())),
                [] => Err("must be given: the merchant has no location".into()),
                _ => Err("must be given: the merchant has several locations".into()),
            },
            Some(serde_json::Value::String(s)) if s.trim().is_empty() => Err("must not be blank".into()),
            Some(serde_json::Value::String(s)) => {
                let id = super::ids::parse_uuid(s).ok_or_else(|| "must be a UUID".to_owned())?;
                locations.iter().any(|l| l.id == id).then_some(Some(id)).ok_or_else(|| "names no location of the merchant".into())
            }
            Some(_) => Err("must be a string".into()),
        }
    }

    /// KEN-01, KEN-11, KEN-12, KTIME-04: a PENDING enrollment with a code no PENDING enrollment
    /// has. Returns its index.
    pub fn create_enrollment(&mut self, merchant: usize, new: NewEnrollment, now: OffsetDateTime, rng: &mut impl rand::Rng) -> usize {
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
    pub fn enrollment(&self, merchant: usize, raw_id: &str) -> Option<usize> {
        let id = super::ids::parse_uuid(raw_id)?;
        self.enrollments.iter().position(|e| e.id == id && e.merchant == merchant)
    }

    /// KEN-35, KEN-36, KEN-38: cancels a PENDING enrollment; `Err(status)` otherwise, unchanged.
    pub fn cancel(&mut self, idx: usize, now: OffsetDateTime) -> Result<(), EnrollmentStatus> {
        let e = &mut self.enrollments[idx];
        match e.status_at(now) {
            EnrollmentStatus::Pending => {
                e.stage = Stage::Cancelled;
                Ok(())
            }
            other => Err(other),
        }
    }

    /// KREG-08: the PENDING enrollment with the code, else the most recently created one.
    fn by_code(&self, code: &str, now: OffsetDateTime) -> Option<usize> {
        let with_code = || self.enrollments.iter().enumerate().filter(|(_, e)| e.code == code);
        with_code().find(|(_, e)| e.status_at(now) == EnrollmentStatus::Pending).or_else(|| with_code().next_back()).map(|(i, _)| i)
    }

    /// KREG-09…KREG-16: registration, all checks and the change under one `&mut self`. Returns the
    /// new device's index.
    pub fn register(&mut self, reg: Registration, now: OffsetDateTime, rng: &mut impl rand::Rng) -> Result<usize, RegisterError> {
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
    pub fn simulated_device(
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

    /// KDEV-19: one of the merchant's registered devices, by id.
    pub fn device(&self, merchant: usize, raw_id: &str) -> Option<usize> {
        let id = super::ids::parse_uuid(raw_id)?;
        self.devices.iter().position(|d| d.id == id && d.merchant == merchant && d.registered)
    }

    /// KAUTH-18: the registered device a token names, when its merchant is the token's.
    pub fn device_for_token(&self, device_id: &str, merchant_id: &str) -> Option<usize> {
        self.devices
            .iter()
            .position(|d| d.id == device_id && d.registered && self.merchants.get(d.merchant).is_some_and(|m| m.id == merchant_id))
    }

    /// KDEV-20: deregistered; its token is refused from now on (KAUTH-18 reads `registered`).
    pub fn deregister(&mut self, idx: usize) {
        self.devices[idx].registered = false;
    }

    pub fn enrollment_view(&self, e: &Enrollment, now: OffsetDateTime) -> EnrollmentView {
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

    pub fn device_view(&self, d: &Device) -> DeviceView {
        DeviceView {
            id: d.id.clone(),
            hardware_id: d.hardware_id.clone(),
            merchant_id: self.merchants.get(d.merchant).map(|m| m.id.clone()).unwrap_or_default(),
            location_id: d.location_id.clone(),
            name: d.name.clone(),
            platform: d.platform,
            metadata: d.metadata.clone(),
            created_at: rfc3339_millis(d.created_at),
            open_cash_register_id: None,
        }
    }

    /// KEN-28, KDEV-10: newest `created_at` first; equal times in reverse creation order.
    pub fn newest_first<T>(items: impl DoubleEndedIterator<Item = T>, created: impl Fn(&T) -> OffsetDateTime) -> Vec<T> {
        let mut v: Vec<T> = items.rev().collect();
        v.sort_by_key(|t| std::cmp::Reverse(created(t)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-22 10:00:00 UTC);

    fn state() -> KustomState {
        let loc = |id: &str| Location { id: id.into(), name: "L".into(), city: "C".into() };
        let m = |id: &str, key: &str, locations| Merchant {
            id: id.into(),
            name: id.into(),
            api_key: key.into(),
            username: format!("{id}-abcdef"),
            locations,
        };
        KustomState {
            merchants: vec![
                m("merchant_1", "kco_test_ipp_aaaaaaaaaaaaaaaaaaaaaaaa", vec![loc("46910cc3-ab41-4b80-b4a7-94dab9f1b795")]),
                m(
                    "merchant_2",
                    "kco_test_ipp_bbbbbbbbbbbbbbbbbbbbbbbb",
                    vec![loc("660e8400-e29b-41d4-a716-446655440001"), loc("660e8400-e29b-41d4-a716-446655440002")],
                ),
            ],
            ..KustomState::default()
        }
    }

    fn new(lifetime_ms: i64) -> NewEnrollment {
        NewEnrollment {
            metadata: Metadata::new(),
            lifetime: Duration::milliseconds(lifetime_ms),
            location_id: "46910cc3-ab41-4b80-b4a7-94dab9f1b795".into(),
        }
    }

    fn reg(code: &str, hw: &str) -> Registration {
        Registration { code: code.into(), hardware_id: hw.into(), platform: Platform::Android, name: None }
    }

    #[test]
    fn ktime_01_ktime_02_ken_41_expiry_by_time_alone() {
        let mut s = state();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let i = s.create_enrollment(0, new(36_000), T0, &mut rng);
        let e = &s.enrollments[i];
        assert_eq!(e.expires_at, T0 + Duration::seconds(36));
        assert_eq!(e.status_at(T0 + Duration::milliseconds(35_999)), EnrollmentStatus::Pending);
        assert_eq!(e.status_at(T0 + Duration::seconds(36)), EnrollmentStatus::Expired);
        let code = e.code.clone();
        assert_eq!(s.register(reg(&code, "HW1"), T0 + Duration::seconds(37), &mut rng), Err(RegisterError::Expired));
        assert_eq!(s.enrollments[i].status_at(T0 + Duration::seconds(37)), EnrollmentStatus::Expired, "KREG-16: nothing changes");
    }

    #[test]
    fn kreg_09_kreg_13_ken_40_ken_43_one_device_per_code_and_consumed_is_terminal() {
        let mut s = state();
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let i = s.create_enrollment(0, new(7_200_000), T0, &mut rng);
        let code = s.enrollments[i].code.clone();
        let d = s.register(reg(&code, "HW1"), T0, &mut rng).expect("registered");
        assert_eq!(s.devices[d].location_id.as_deref(), Some("46910cc3-ab41-4b80-b4a7-94dab9f1b795"), "KREG-11");
        assert_eq!(s.register(reg(&code, "HW2"), T0, &mut rng), Err(RegisterError::Used));
        assert_eq!(s.enrollments[i].status_at(T0 + Duration::days(10)), EnrollmentStatus::Consumed, "never EXPIRED");
        assert_eq!(s.cancel(i, T0), Err(EnrollmentStatus::Consumed));
    }

    #[test]
    fn kreg_15_kdev_23_hardware_blocks_until_deregistered() {
        let mut s = state();
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let a = s.create_enrollment(0, new(7_200_000), T0, &mut rng);
        let b = s.create_enrollment(0, new(7_200_000), T0, &mut rng);
        let (ca, cb) = (s.enrollments[a].code.clone(), s.enrollments[b].code.clone());
        let first = s.register(reg(&ca, "HW"), T0, &mut rng).expect("first");
        assert_eq!(s.register(reg(&cb, "HW"), T0, &mut rng), Err(RegisterError::HardwareRegistered));
        assert_eq!(s.enrollments[b].status_at(T0), EnrollmentStatus::Pending, "a refused registration changes nothing");
        s.deregister(first);
        let second = s.register(reg(&cb, "HW"), T0, &mut rng).expect("after deregistration");
        assert_ne!(s.devices[first].id, s.devices[second].id);
        assert!(!s.devices[first].registered);
    }

    #[test]
    fn kreg_08_a_reissued_code_resolves_to_the_pending_enrollment() {
        let mut s = state();
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        let old = s.create_enrollment(0, new(1_000), T0, &mut rng);
        let later = T0 + Duration::seconds(5);
        let fresh = s.create_enrollment(0, new(7_200_000), later, &mut rng);
        let code = s.enrollments[old].code.clone();
        s.enrollments[fresh].code = code.clone();
        assert_eq!(s.by_code(&code, later), Some(fresh));
        s.cancel(fresh, later).expect("cancel");
        assert_eq!(s.by_code(&code, later), Some(fresh), "else the most recently created");
    }

    #[test]
    fn ken_10_location_defaulting() {
        let s = state();
        assert_eq!(s.resolve_location(0, None, true), Ok(Some("46910cc3-ab41-4b80-b4a7-94dab9f1b795".into())));
        assert!(s.resolve_location(1, None, true).is_err(), "several locations");
        assert!(
            s.resolve_location(1, Some(&serde_json::json!("46910cc3-ab41-4b80-b4a7-94dab9f1b795")), true).is_err(),
            "another merchant's"
        );
        assert_eq!(
            s.resolve_location(1, Some(&serde_json::json!("660E8400-E29B-41D4-A716-446655440002")), true),
            Ok(Some("660e8400-e29b-41d4-a716-446655440002".into()))
        );
        assert_eq!(s.resolve_location(1, None, false), Ok(None), "KDEV-13: an omitted location detaches");
    }

    #[test]
    fn kreg_12_default_names() {
        assert_eq!(default_name(Platform::Android, "R58N90ABCDE"), "ANDROID BCDE");
        assert_eq!(default_name(Platform::Ios, "AB"), "IOS AB");
    }
}
