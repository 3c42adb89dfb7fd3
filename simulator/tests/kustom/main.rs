//! Kustom's `/ipp/v1` in the simulator (KUSTOM-API.md): one module per part of the document; every
//! test names the rules it checks.

mod auth;
mod common;
mod conventions;
mod devices;
mod enrollments;
mod errors;
mod flow;
mod locations;
mod registration;
mod rule_names;
#[path = "../shared/schemas.rs"]
mod schemas;
mod snapshots;
