//! The client-conformance verdict (§5.8, CLI-01…CLI-17): what the simulator's journal shows about
//! the POS firmware it served. The party judged is the client: a broken REQUIRED rule is a failure
//! of the firmware, a broken SIMULATOR rule an advisory note, and a rule with no evidence in the
//! journal is "not judged" (never a pass by default).
//!
//! Pure functions of journal entries, so every rule is unit-tested on hand-made journals; the
//! control API (`/_sim/verdict`) and the `viopay-sim verdict` command only present the result.

mod activation;
pub mod command;
mod headers;
mod history;
pub mod junit;
pub mod live;
mod pacing;
mod pairing;
mod rules;

use serde::{Deserialize, Serialize};

use crate::clock::ClockMode;
use crate::journal::JournalEntry;
pub use history::History;
pub use rules::{CLI_RULES, Level, RuleInfo};

/// A rule's result for one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    /// A REQUIRED rule broken: the firmware fails.
    Fail,
    /// A SIMULATOR rule broken: worth a look, not a failure.
    Advisory,
    /// No evidence either way in the journal (the reason says why).
    NotJudged,
}

/// One thing the client did wrong, with the exchanges that show it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    pub message: String,
    /// The journal entries that show it (at most [`MAX_EVIDENCE`]; `message` gives the count).
    pub evidence: Vec<serde_json::Value>,
}

/// Findings list this many entries each; a firmware that polls too fast for an hour would
/// otherwise produce a verdict of megabytes.
pub const MAX_EVIDENCE: usize = 5;

impl Finding {
    pub(crate) fn new(message: impl Into<String>, entries: &[&JournalEntry]) -> Self {
        let evidence = entries.iter().take(MAX_EVIDENCE).map(|e| serde_json::to_value(e).unwrap_or_default()).collect();
        Finding { message: message.into(), evidence }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuleVerdict {
    pub rule: String,
    pub level: Level,
    pub title: String,
    pub outcome: Outcome,
    /// Why a rule was not judged.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceVerdict {
    pub device_id: String,
    /// No REQUIRED rule broken.
    pub passed: bool,
    pub failures: usize,
    pub advisories: usize,
    /// How many of the device's requests the journal holds.
    pub requests: usize,
    pub rules: Vec<RuleVerdict>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JournalInfo {
    pub capacity: usize,
    /// Exchanges journaled since start or reset.
    pub total: u64,
    /// Exchanges the ring no longer holds; rules that read a device's history are not judged
    /// when this is above 0.
    pub dropped: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// No REQUIRED client rule broken, by any device or by the run.
    pub passed: bool,
    pub clock: ClockMode,
    /// CLI-05 and CLI-17 are judged only on the system clock (TIME-03).
    pub pacing_judged: bool,
    pub journal: JournalInfo,
    pub devices: Vec<DeviceVerdict>,
    /// Requests that name no device (no valid `X-Device-Id`, no known token): CLI-01 and CLI-13
    /// count them against the run as a whole.
    pub run: Vec<RuleVerdict>,
}

/// What every rule may read besides the device's own entries.
pub(crate) struct Context<'a> {
    /// `Some(reason)` when pacing is not judged.
    pub pacing_off: Option<&'a str>,
    /// Entries the ring dropped.
    pub dropped: u64,
    /// Attestation tokens issued in the journal: id → issue time.
    pub tokens: &'a history::Tokens,
}

/// A rule's judgement before its level turns findings into fail or advisory.
pub(crate) enum Judged {
    Findings(Vec<Finding>),
    NotJudged(String),
}

impl Judged {
    pub(crate) fn not_judged(reason: impl Into<String>) -> Self {
        Judged::NotJudged(reason.into())
    }

    /// Findings, or "not judged" when the rule found nothing to look at.
    pub(crate) fn of(findings: Vec<Finding>, looked_at: usize, nothing: &str) -> Self {
        if looked_at == 0 { Judged::NotJudged(nothing.to_owned()) } else { Judged::Findings(findings) }
    }
}

const VIRTUAL_CLOCK: &str =
    "the simulator runs on a virtual clock, which does not follow real time (TIME-03): pacing is judged only with --clock system";

/// The verdict over a journal: every device seen, every CLI rule.
pub fn judge(entries: &[JournalEntry], clock: ClockMode, capacity: usize, total: u64) -> Report {
    let dropped = total.saturating_sub(entries.len() as u64);
    let pacing_off = (clock != ClockMode::System).then_some(VIRTUAL_CLOCK);
    let split = history::split(entries);
    let ctx = Context { pacing_off, dropped, tokens: &split.tokens };
    let devices: Vec<DeviceVerdict> = split.devices.iter().map(|h| judge_device(h, &ctx)).collect();
    let run = history::run_level(&split.unnamed);
    let passed = devices.iter().all(|d| d.passed) && run.iter().all(|r| r.outcome != Outcome::Fail);
    Report { passed, clock, pacing_judged: pacing_off.is_none(), journal: JournalInfo { capacity, total, dropped }, devices, run }
}

fn judge_device(h: &History<'_>, ctx: &Context<'_>) -> DeviceVerdict {
    let rules: Vec<RuleVerdict> = CLI_RULES
        .iter()
        .map(|info| {
            let judged = match info.id {
                "CLI-01" => headers::cli_01(h),
                "CLI-02" => headers::cli_02(h),
                "CLI-03" => headers::cli_03(h),
                "CLI-04" => pairing::cli_04(h, ctx),
                "CLI-05" => pacing::cli_05(h, ctx),
                "CLI-06" => pairing::cli_06(h),
                "CLI-07" => pairing::cli_07(h),
                "CLI-08" => pairing::cli_08(h),
                "CLI-09" => activation::cli_09(h, ctx),
                "CLI-10" => activation::cli_10(h),
                "CLI-11" => activation::cli_11(h),
                "CLI-12" => activation::cli_12(h),
                "CLI-13" => activation::cli_13(h, ctx),
                "CLI-14" => activation::cli_14(h, ctx),
                "CLI-15" => activation::cli_15(h),
                "CLI-16" => headers::cli_16(h),
                "CLI-17" => pacing::cli_17(h, ctx),
                other => Judged::not_judged(format!("{other} has no judge")),
            };
            info.verdict(judged)
        })
        .collect();
    let failures = rules.iter().filter(|r| r.outcome == Outcome::Fail).count();
    let advisories = rules.iter().filter(|r| r.outcome == Outcome::Advisory).count();
    DeviceVerdict { device_id: h.device.clone(), passed: failures == 0, failures, advisories, requests: h.entries.len(), rules }
}
