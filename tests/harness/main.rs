//! Tests of the harness itself: it must pass the simulator with zero false alarms, fail broken
//! targets for the right rule, and report in the documented shapes.

mod broken;
mod certify;
mod common;
mod coverage;
mod reports;
mod selftest;
mod variants;
