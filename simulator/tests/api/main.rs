//! The simulator's API test suite. Each module covers one endpoint or concern; tests are named
//! after the rule IDs they check.

mod activation;
mod activation_fuzz;
mod auth;
mod auto_claim;
mod bootstrap;
mod claim;
mod common;
mod control;
mod errors;
mod fleet;
mod headers;
mod openapi;
mod pairing;
#[path = "../shared/schemas.rs"]
mod schemas;
mod snapshots;
mod status;
