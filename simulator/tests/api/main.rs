//! The simulator's API test suite. Each module covers one endpoint or concern; tests are named
//! after the rule IDs they check.

mod auth;
mod bootstrap;
mod claim;
mod common;
mod control;
mod errors;
mod headers;
mod pairing;
mod snapshots;
mod status;
