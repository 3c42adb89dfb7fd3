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
pub(crate) mod junit;
pub(crate) mod live;
mod pacing;
mod pairing;
mod rules;

use serde::{Deserialize, Serialize};

use crate::clock::ClockMode;
use crate::journal::JournalEntry;
pub(crate) use history::History;
pub use rules::{CLI_RULES, Level, RuleInfo};

/// A rule's result for one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Outcome {
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
pub(crate) struct Finding {
    pub(crate) message: String,
    /// The journal entries that show it (at most [`MAX_EVIDENCE`]; `message` gives the count).
    pub(crate) evidence: Vec<serde_json::Value>,
}

/// Findings list this many entries each; a firmware that polls too fast for an hour would
/// otherwise produce a verdict of megabytes.
pub(crate) const MAX_EVIDENCE: usize = 5;

impl Finding {
    pub(crate) fn new(message: impl Into<String>, entries: &[&JournalEntry]) -> Self {
        let evidence = entries.iter().take(MAX_EVIDENCE).map(|e| serde_json::to_value(e).unwrap_or_default()).collect();
        Finding { message: message.into(), evidence }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RuleVerdict {
    pub(crate) rule: String,
    pub(crate) level: Level,
    pub(crate) title: String,
    pub(crate) outcome: Outcome,
    /// Why a rule was not judged.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub(crate) findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DeviceVerdict {
    pub(crate) device_id: String,
    /// No REQUIRED rule broken.
    pub(crate) passed: bool,
    pub(crate) failures: usize,
    pub(crate) advisories: usize,
    /// How many of the device's requests the journal holds.
    pub(crate) requests: usize,
    pub(crate) rules: Vec<RuleVerdict>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct JournalInfo {
    pub(crate) capacity: usize,
    /// Exchanges journaled since start or reset.
    pub(crate) total: u64,
    /// Exchanges the ring no longer holds; rules that read a device's history are not judged
    /// when this is above 0.
    pub(crate) dropped: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Report {
    /// No REQUIRED client rule broken, by any device or by the run.
    pub(crate) passed: bool,
    pub(crate) clock: ClockMode,
    /// CLI-05 and CLI-17 are judged only on the system clock (TIME-03).
    pub(crate) pacing_judged: bool,
    pub(crate) journal: JournalInfo,
    pub(crate) devices: Vec<DeviceVerdict>,
    /// Requests that name no device (no valid `X-Device-Id`, no known token): CLI-01 and CLI-13
    /// count them against the run as a whole.
    pub(crate) run: Vec<RuleVerdict>,
}

/// What every rule may read besides the device's own entries.
pub(crate) struct Context<'a> {
    /// `Some(reason)` when pacing is not judged.
    pub(crate) pacing_off: Option<&'a str>,
    /// Entries the ring dropped.
    pub(crate) dropped: u64,
    /// Attestation tokens issued in the journal: id → issue time.
    pub(crate) tokens: &'a history::Tokens,
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
pub(crate) fn judge(entries: &[JournalEntry], clock: ClockMode, capacity: usize, total: u64) -> Report {
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

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use axum::http::Method;
    use time::macros::datetime;
    use time::{Duration, OffsetDateTime};

    use super::*;
    use crate::ids::DeviceId;
    use crate::journal::{ClientEvidence, JournalDevice};

    const T0: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

    fn entry(ms: i64, method: Method, path: &'static str, device: Option<&str>, status: u16) -> JournalEntry {
        JournalEntry {
            seq: 0,
            time: T0 + Duration::milliseconds(ms),
            method,
            path: Cow::Borrowed(path),
            device: device.map(|d| DeviceId::parse(d).map_or_else(|_| JournalDevice::Raw(d.into()), JournalDevice::Id)),
            status: Some(status),
            code: None,
            rule: None,
            trace_id: crate::trace::TraceIds::new(1).next_id(),
            warning: None,
            client: ClientEvidence { user_agent: Some("Viopay-POS/1.4.2 (Android 12; PAX-A920)".into()), ..ClientEvidence::default() },
            faults: Vec::new(),
            connection: None,
        }
    }

    fn pending(ms: i64) -> JournalEntry {
        let mut e = entry(ms, Method::GET, "/pos/status", Some("POS-00000001"), 200);
        e.client.pairing_code_status = Some("pending");
        e.client.device_status = Some("inactive");
        e
    }

    fn rule<'a>(r: &'a Report, id: &str) -> &'a RuleVerdict {
        r.devices[0].rules.iter().find(|v| v.rule == id).unwrap_or_else(|| panic!("{id}"))
    }

    #[test]
    fn cli_05_reports_too_slow_and_a_new_code_restarts_the_polling_run() {
        let journal = [
            entry(0, Method::POST, "/pos/bootstrap", Some("POS-00000001"), 200),
            entry(100, Method::POST, "/pos/pairing-code", Some("POS-00000001"), 200),
            pending(1_000),
            pending(4_000),
            pending(15_500),
            // A restart: the 60 s gap that follows is not a polling gap.
            entry(75_000, Method::POST, "/pos/bootstrap", Some("POS-00000001"), 200),
            pending(76_000),
        ];
        let r = judge(&journal, ClockMode::System, 100, journal.len() as u64);
        let cli05 = rule(&r, "CLI-05");
        assert_eq!(cli05.outcome, Outcome::Advisory);
        assert_eq!(cli05.findings.len(), 1, "{cli05:?}");
        assert!(cli05.findings[0].message.starts_with("too slow: 11.50 s"), "{}", cli05.findings[0].message);
        assert!(r.passed, "a SIMULATOR rule only advises");
        // On the virtual clock pacing is not judged at all.
        let r = judge(&journal, ClockMode::Virtual, 100, journal.len() as u64);
        assert_eq!(rule(&r, "CLI-05").outcome, Outcome::NotJudged);
    }

    #[test]
    fn requests_naming_no_device_count_against_the_run() {
        let mut bad = entry(0, Method::GET, "/pos/status", None, 400);
        bad.rule = Some("HDR-02");
        let journal = [entry(0, Method::POST, "/pos/bootstrap", Some("POS-00000001"), 200), bad];
        let r = judge(&journal, ClockMode::Virtual, 100, 2);
        assert_eq!(r.devices.len(), 1);
        let run01 = r.run.iter().find(|v| v.rule == "CLI-01").expect("run-level CLI-01");
        assert_eq!((run01.outcome, run01.findings[0].evidence.len()), (Outcome::Fail, 1));
        assert!(!r.passed);
    }

    #[test]
    fn a_ring_that_dropped_entries_leaves_history_rules_not_judged() {
        let journal = [pending(0), entry(3_000, Method::POST, "/pos/attest", Some("POS-00000001"), 401)];
        let r = judge(&journal, ClockMode::Virtual, 2, 50);
        assert_eq!(r.journal.dropped, 48);
        for id in ["CLI-04", "CLI-09"] {
            let v = rule(&r, id);
            assert_eq!(v.outcome, Outcome::NotJudged, "{id}");
            assert!(v.reason.as_deref().is_some_and(|why| why.contains("dropped 48")), "{v:?}");
        }
    }

    #[test]
    fn a_retry_is_measured_from_when_the_failure_reached_the_client() {
        let mut slow_503 = entry(0, Method::POST, "/pos/attest", Some("POS-00000001"), 503);
        slow_503.faults = vec![crate::faults::FaultHit { id: 1, kind: "latency", delay_ms: Some(2_000) }];
        // Received 2.5 s after the request, 0.5 s after the delayed 503 reached the client.
        let retry = entry(2_500, Method::POST, "/pos/attest", Some("POS-00000001"), 200);
        let r = judge(&[slow_503, retry], ClockMode::System, 10, 2);
        let v = rule(&r, "CLI-17");
        assert_eq!(v.outcome, Outcome::Advisory);
        assert!(v.findings[0].message.contains("after 0.50 s"), "{}", v.findings[0].message);
    }

    /// A firmware that polls 5 s after each answer is on time even when a dribble fault held an
    /// answer for 8 s: the gap counts from when the answer reached the client (as CLI-17's does).
    #[test]
    fn cli_05_measures_each_gap_from_when_the_previous_answer_arrived() {
        let mut dribbled = pending(1_000);
        dribbled.faults = vec![crate::faults::FaultHit { id: 1, kind: "dribble", delay_ms: Some(8_000) }];
        let journal = [
            entry(0, Method::POST, "/pos/bootstrap", Some("POS-00000001"), 200),
            entry(100, Method::POST, "/pos/pairing-code", Some("POS-00000001"), 200),
            dribbled,
            pending(14_000),
            pending(19_000),
        ];
        let r = judge(&journal, ClockMode::System, 100, journal.len() as u64);
        let v = rule(&r, "CLI-05");
        assert_eq!(v.outcome, Outcome::Pass, "{v:?}");
    }

    /// A new code after a restart, or after a pairing-code answer that never arrived whole, is
    /// what CLI-08 allows: judged, and a pass (not "no second request").
    #[test]
    fn cli_08_passes_a_new_code_after_a_restart_or_a_lost_answer() {
        let code = |ms| entry(ms, Method::POST, "/pos/pairing-code", Some("POS-00000001"), 200);
        let boot = |ms| entry(ms, Method::POST, "/pos/bootstrap", Some("POS-00000001"), 200);
        let after_restart = [boot(0), code(100), boot(5_000), code(5_100)];
        let mut cut = code(100);
        cut.connection = Some(crate::journal::ConnectionEnd::Reset);
        let after_lost = [boot(0), cut, code(2_000)];
        for journal in [&after_restart[..], &after_lost[..]] {
            let r = judge(journal, ClockMode::Virtual, 100, journal.len() as u64);
            let v = rule(&r, "CLI-08");
            assert_eq!((v.outcome, v.findings.len()), (Outcome::Pass, 0), "{v:?}");
        }
        // Without a reason the second request is still reported.
        let journal = [boot(0), code(100), code(5_000)];
        let r = judge(&journal, ClockMode::Virtual, 100, 3);
        assert_eq!(rule(&r, "CLI-08").outcome, Outcome::Advisory);
    }
}
