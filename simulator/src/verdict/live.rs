//! The log line a person at a desk sees when their terminal breaks a client rule, as it happens.
//! Only what one exchange shows on its own is reported here (a header error, a refused nonce, a
//! `User-Agent` of the wrong shape, …); rules about sequences and pacing are in the verdict.
//! Each rule is reported once per device, so a firmware polling with a bad header does not flood
//! the log.

use std::cell::RefCell;
use std::collections::HashSet;

use parking_lot::Mutex;

use super::headers::{documented_ua, exact_ua, is_header_error, is_json};
use super::history::describe;
use super::rules::{self, Level};
use crate::journal::{JournalEntry, Text};

/// Past this many (device, rule) pairs the memory is cleared: a rule may then be reported again.
const MAX_REPORTED: usize = 10_000;

#[derive(Debug, Default)]
pub(crate) struct Live {
    reported: Mutex<HashSet<(String, &'static str)>>,
}

/// The rules one exchange breaks, on its own.
pub(crate) fn broken_by(e: &JournalEntry) -> Vec<&'static str> {
    let mut broken = Vec::new();
    let path = e.path.as_ref();
    let answered = |rules: &[&str]| e.rule.is_some_and(|r| rules.contains(&r));
    // One lookup in the endpoint table per exchange (every status poll comes through here).
    let (pos_headers, attested) = crate::endpoints::exact(path).map_or((false, false), |x| (x.pos_headers, x.attested));
    if pos_headers {
        if is_header_error(e.rule) {
            broken.push("CLI-01");
        }
        if let Some(ua) = &e.client.user_agent {
            let (documented, exact) = ua_shape(ua);
            if !documented {
                broken.push("CLI-02");
            }
            if !exact {
                broken.push("CLI-03");
            }
        }
    }
    if path == "/pos/attest" {
        for (rule, refusals) in [
            ("CLI-10", &["ATT-24", "ATT-25", "ATT-31"][..]),
            ("CLI-11", &["ATT-26", "ATT-27", "ATT-32"][..]),
            ("CLI-12", &["ATT-22", "ATT-23", "ATT-28", "ATT-29", "ATT-30", "ATT-33"][..]),
        ] {
            if answered(refusals) {
                broken.push(rule);
            }
        }
    }
    if attested && answered(&["ATT-39", "ATT-40", "ATT-41"]) {
        broken.push("CLI-13");
    }
    if path == "/pos/activate" && answered(&["MSK-09", "ACT-06"]) {
        broken.push("CLI-15");
    }
    if e.client.has_body && !e.client.content_type.as_deref().is_some_and(is_json) {
        broken.push("CLI-16");
    }
    broken
}

/// CLI-02 and CLI-03 for one `User-Agent`, remembered per thread for the last value seen: a
/// journaled value shares its allocation with an equal recent one, so a fleet's every poll is one
/// pointer comparison here instead of two parses.
fn ua_shape(ua: &Text) -> (bool, bool) {
    thread_local! {
        static LAST: RefCell<Option<(Text, bool, bool)>> = const { RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| match last {
        Some((seen, documented, exact)) if seen.same(ua) => (*documented, *exact),
        _ => {
            let shape = (documented_ua(ua), exact_ua(ua));
            *last = Some((ua.clone(), shape.0, shape.1));
            shape
        }
    })
}

impl Live {
    pub(crate) fn observe(&self, e: &JournalEntry) {
        let broken = broken_by(e);
        if broken.is_empty() {
            return;
        }
        let device = e.device.as_ref().map_or_else(|| "(no device)".to_owned(), ToString::to_string);
        let mut reported = self.reported.lock();
        if reported.len() >= MAX_REPORTED {
            reported.clear();
        }
        for rule in broken {
            if !reported.insert((device.clone(), rule)) {
                continue;
            }
            let Some(info) = rules::info(rule) else { continue };
            let what = describe(e);
            match info.level {
                Level::Required => {
                    tracing::warn!(%device, rule, "client rule broken: {} ({what}); GET /_sim/devices/{device}/verdict", info.title)
                }
                Level::Simulator => tracing::info!(%device, rule, "client advisory: {} ({what})", info.title),
            }
        }
    }

    /// How many (device, rule) pairs are remembered (never more than [`MAX_REPORTED`]).
    #[cfg(test)]
    pub(crate) fn remembered(&self) -> usize {
        self.reported.lock().len()
    }

    pub(crate) fn reset(&self) {
        self.reported.lock().clear();
    }
}
