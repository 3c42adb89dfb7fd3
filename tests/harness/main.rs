//! Tests of the harness itself: it must pass the simulator with zero false alarms, fail broken
//! targets for the right rule, and report in the documented shapes.

mod broken;
mod broken_activation;
#[allow(dead_code)] // the portal tests use the rest
#[path = "../../simulator/tests/browser/mod.rs"]
mod browser;
mod certify;
mod common;
mod coverage;
mod diff;
mod fixture_free;
mod kustom;
mod load;
mod locust;
#[path = "../../simulator/tests/py/mod.rs"]
mod py;
mod reference;
mod reports;
mod selftest;
mod tr31_psec;
mod variants;
mod variants_activation;
