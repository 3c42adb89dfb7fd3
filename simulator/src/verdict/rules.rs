//! The client rules of §5.8, with their levels: the one list the verdict, its JUnit file and the
//! live log line name.

use serde::{Deserialize, Serialize};

use super::{Judged, Outcome, RuleVerdict};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Required,
    Simulator,
}

#[derive(Debug, Clone, Copy)]
pub struct RuleInfo {
    pub id: &'static str,
    pub level: Level,
    pub title: &'static str,
}

const fn rule(id: &'static str, level: Level, title: &'static str) -> RuleInfo {
    RuleInfo { id, level, title }
}

use Level::{Required, Simulator};

pub const CLI_RULES: [RuleInfo; 17] = [
    rule("CLI-01", Required, "sends the three POS headers, valid, on bootstrap, pairing-code, status and attest"),
    rule("CLI-02", Required, "User-Agent has the documented shape Viopay-POS/{version} ({OS}; {model})"),
    rule("CLI-03", Simulator, "User-Agent matches the exact pattern"),
    rule("CLI-04", Simulator, "calls bootstrap first, before pairing"),
    rule("CLI-05", Simulator, "polls status every 3-5 s while the code is pending"),
    rule("CLI-06", Required, "stops polling once claimed and goes on to attest"),
    rule("CLI-07", Required, "requests a new code after status reads expired"),
    rule("CLI-08", Simulator, "requests no new code while one is pending without a reason"),
    rule("CLI-09", Required, "performs steps 5-8 in order"),
    rule("CLI-10", Required, "attest X-Timestamp is RFC 3339 UTC and inside the window"),
    rule("CLI-11", Required, "a fresh, valid X-Nonce on every attest"),
    rule("CLI-12", Required, "signs attest correctly with an active identity key"),
    rule("CLI-13", Required, "sends Authorization: Attestation with its own token and X-Device-Id"),
    rule("CLI-14", Required, "uses a token only before it expires, and attests again"),
    rule("CLI-15", Required, "the activate body is a valid MSK envelope of the three flags"),
    rule("CLI-16", Simulator, "sends Content-Type: application/json on a POST with a body"),
    rule("CLI-17", Simulator, "waits at least 1 s before retrying after a 5xx or a dropped connection"),
];

pub(crate) fn info(id: &str) -> Option<&'static RuleInfo> {
    CLI_RULES.iter().find(|r| r.id == id)
}

impl RuleInfo {
    pub(crate) fn verdict(&self, judged: Judged) -> RuleVerdict {
        let (outcome, reason, findings) = match judged {
            Judged::NotJudged(reason) => (Outcome::NotJudged, Some(reason), Vec::new()),
            Judged::Findings(f) if f.is_empty() => (Outcome::Pass, None, f),
            Judged::Findings(f) => (if self.level == Level::Required { Outcome::Fail } else { Outcome::Advisory }, None, f),
        };
        RuleVerdict { rule: self.id.to_owned(), level: self.level, title: self.title.to_owned(), outcome, reason, findings }
    }
}
