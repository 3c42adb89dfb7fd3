//! One model of what the spec allows. For a request in a given state it returns every acceptable
//! answer, each tagged with the rule that allows it and whether that is the simulator's choice, a
//! difference from a SIMULATOR rule (an advisory) or an answer the spec permits outright. The
//! Gherkin `Then` steps and the fuzz oracle both judge through [`judge`], so `run` and `fuzz` give
//! the same verdict on the same exchange.

pub mod activation;
pub mod allowed;
pub mod call;
pub mod clock;
pub mod viopay;

pub use activation::{ActivateBody, AttestFault, Credential, SignatureHeader, Step};
pub use allowed::{Expect, Outcome, StatusMatch, Verdict, judge, judge_parsed};
pub use call::{ContentType, HeaderFault, Malformed};
pub use viopay::{Device, Model, PosEndpoint};
