//! Certifying a Kustom-style backend (`/ipp/v1`, KUSTOM-API.md): the harness plays both the
//! merchant's backend and the POS app (KFLOW-04) and judges every answer through one model of
//! what Kustom's rules allow ([`model`]): REQUIRED rules fail the target, SIMULATOR choices are
//! advisories, UNKNOWN ones are never asserted. This is the fuzz half (random sequences of
//! enrollments, registrations, updates, deregistrations, cancellations and clock moves around
//! `expires_at`), and the Gherkin scenarios of `features/kustom/` ([`certify`]), both judged by
//! the same model.

mod check;
pub mod fuzz;
mod model;
pub(crate) mod ops;
mod run;
mod steps;
pub(crate) mod target;
mod world;

pub use fuzz::{KustomFailure, KustomFuzzError, KustomFuzzOptions, KustomFuzzReport, fuzz};
pub use run::certify;
