//! Kustom's rules, pure: merchants with their API keys and locations (from the fixtures, KLOC-04),
//! enrollments and devices, one file per resource. Every operation takes `now` from the caller
//! (the one simulator clock, KTIME-03) and its randomness from the caller's generator; the store
//! (`super::store`) runs each under Kustom's lock, so that a check and its change are one step
//! (KREG-14). Nothing here knows HTTP.

mod device;
mod enrollment;
pub(crate) mod ids;
mod merchant;
pub(crate) mod metadata;
mod registration;

use time::OffsetDateTime;

pub(crate) use device::{Device, DeviceView, Platform};
pub(crate) use enrollment::{
    DEFAULT_LIFETIME_MS, Enrollment, EnrollmentView, ListFilter, MAX_LIFETIME_MS, MIN_LIFETIME_MS, NewEnrollment, ttl,
};
pub(crate) use merchant::{Location, Merchant};
pub(crate) use registration::{RegisterError, Registration};

#[derive(Debug, Clone, Default)]
pub(crate) struct KustomState {
    pub(crate) merchants: Vec<Merchant>,
    pub(crate) enrollments: Vec<Enrollment>,
    pub(crate) devices: Vec<Device>,
}

impl KustomState {
    /// KEN-28, KDEV-10: newest `created_at` first; equal times in reverse creation order.
    pub(crate) fn newest_first<T>(items: impl DoubleEndedIterator<Item = T>, created: impl Fn(&T) -> OffsetDateTime) -> Vec<T> {
        let mut v: Vec<T> = items.rev().collect();
        v.sort_by_key(|t| std::cmp::Reverse(created(t)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::device::default_name;
    use super::enrollment::EnrollmentStatus;
    use super::metadata::Metadata;
    use super::*;
    use rand::SeedableRng;
    use time::Duration;
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
