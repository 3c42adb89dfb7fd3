//! The operations the Kustom fuzzer draws. Indexes name "the n-th enrollment or device of the
//! case", taken modulo what exists when the operation runs, so that any sequence is runnable and
//! proptest can shrink it freely.

use proptest::prelude::*;

/// Metadata sets: none, or one of two small ones (so that filters match some and not others).
pub const METADATA: [&[(&str, &str)]; 3] = [&[], &[("store_id", "1")], &[("store_id", "2"), ("lane", "a")]];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifetime {
    /// No member: the default, 2 h (KEN-03).
    Default,
    /// `expires_in` in milliseconds (KEN-07).
    Millis(u32),
    /// `ttl: "TWO_HOURS"` (KEN-08).
    TwoHours,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `POST /ipp/v1/enrollments`.
    Enroll { merchant: usize, lifetime: Lifetime, metadata: usize },
    /// `GET /ipp/v1/enrollments`, optionally filtered by metadata or without CONSUMED ones.
    ListEnrollments { merchant: usize, metadata: Option<usize>, include_consumed: bool },
    /// `DELETE /ipp/v1/enrollments/{id}`.
    Cancel { enrollment: usize },
    /// The POS app registers with an enrollment's code (fresh hardware each time).
    Register { enrollment: usize },
    /// `GET /ipp/v1/devices`, optionally filtered by metadata.
    ListDevices { merchant: usize, metadata: Option<usize> },
    /// `PUT /ipp/v1/devices/{id}` with all three members (so replace and patch agree, KDEV-16).
    Update { device: usize, metadata: usize },
    /// `DELETE /ipp/v1/devices/{id}`.
    Deregister { device: usize },
    /// `GET /ipp/v1/devices/me` with the device's token.
    Me { device: usize },
    /// The clock moves on (around `expires_at` of short lifetimes).
    Advance { seconds: u64 },
}

pub fn op() -> impl Strategy<Value = Op> {
    let lifetime = prop_oneof![
        2 => Just(Lifetime::Default),
        1 => Just(Lifetime::TwoHours),
        4 => prop::sample::select(vec![1_000u32, 5_000, 30_000, 60_000, 61_500]).prop_map(Lifetime::Millis),
    ];
    prop_oneof![
        4 => (0..2usize, lifetime, 0..METADATA.len()).prop_map(|(merchant, lifetime, metadata)| Op::Enroll { merchant, lifetime, metadata }),
        2 => (0..2usize, prop::option::of(1..METADATA.len()), any::<bool>())
            .prop_map(|(merchant, metadata, include_consumed)| Op::ListEnrollments { merchant, metadata, include_consumed }),
        1 => (0..8usize).prop_map(|enrollment| Op::Cancel { enrollment }),
        4 => (0..8usize).prop_map(|enrollment| Op::Register { enrollment }),
        2 => (0..2usize, prop::option::of(1..METADATA.len())).prop_map(|(merchant, metadata)| Op::ListDevices { merchant, metadata }),
        1 => (0..8usize, 0..METADATA.len()).prop_map(|(device, metadata)| Op::Update { device, metadata }),
        1 => (0..8usize).prop_map(|device| Op::Deregister { device }),
        2 => (0..8usize).prop_map(|device| Op::Me { device }),
        2 => prop::sample::select(vec![1u64, 4, 5, 6, 29, 30, 31, 59, 60, 61, 62, 7_199, 7_200, 7_201]).prop_map(|seconds| Op::Advance { seconds }),
    ]
}
