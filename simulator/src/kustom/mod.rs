//! Kustom In-Person Payments' enrollment-first pairing (`/ipp/v1`, KUSTOM-API.md), served beside
//! VioPay's paths on the same listener, clock, journal, faults and seed. The merchant's backend
//! creates an enrollment with its API key and gets a code; the POS app registers with it, without
//! authentication, and gets a device token; deregistering revokes the token at once.
//!
//! Rule IDs (`KEN-22`, `KREG-13`, …) are in the doc comments of the code that enforces them.

//! `domain/` holds the rules (pure, `now` passed in, one file per resource); `http/` the thin
//! handlers over it, behind the same guard layer as VioPay's routes; `store.rs` Kustom's own lock.

mod domain;
pub(crate) mod fixtures;
mod http;
mod store;

pub(crate) use domain::{DeviceView, EnrollmentView, KustomState, Location, Merchant};
pub(crate) use http::routes;
pub(crate) use store::KustomStore;
