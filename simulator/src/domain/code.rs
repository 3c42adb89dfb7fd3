//! Pairing-code records and their state machine (CODE-*).

use crate::ids::PairingCode;
use time::{Duration, OffsetDateTime};

/// TIME-01: a pairing code lives 300 s from issue.
pub(crate) const CODE_TTL: Duration = Duration::seconds(300);

/// What is stored. `expired` is not stored: it follows from the issue time and `now` (CODE-03), so
/// there is no timer per code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CodeState {
    Pending,
    /// CODE-02: claimed successfully.
    Used,
    /// CODE-04: a newer code was issued to the same device while this one was pending.
    Superseded,
}

/// What a code is at a given instant (§3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CodeStatus {
    Pending,
    Used,
    Expired,
    Superseded,
}

impl CodeStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CodeStatus::Pending => "pending",
            CodeStatus::Used => "used",
            CodeStatus::Expired => "expired",
            CodeStatus::Superseded => "superseded",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CodeRecord {
    pub(crate) code: PairingCode,
    pub(crate) issued_at: OffsetDateTime,
    pub(crate) state: CodeState,
}

impl CodeRecord {
    pub(crate) fn expires_at(&self) -> OffsetDateTime {
        self.issued_at + CODE_TTL
    }

    /// CODE-03 and STAT-07: a pending code is expired from `issued_at + 300 s` on, by time alone.
    /// CODE-05: used and superseded are terminal, so a used code never reads expired (STAT-09).
    pub(crate) fn status_at(&self, now: OffsetDateTime) -> CodeStatus {
        match self.state {
            CodeState::Used => CodeStatus::Used,
            CodeState::Superseded => CodeStatus::Superseded,
            CodeState::Pending if now >= self.expires_at() => CodeStatus::Expired,
            CodeState::Pending => CodeStatus::Pending,
        }
    }

    /// A code that could still be claimed: the only kind PAIR-07 keeps unique.
    pub(crate) fn is_live(&self, now: OffsetDateTime) -> bool {
        self.status_at(now) == CodeStatus::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn pending_at(t: OffsetDateTime) -> CodeRecord {
        CodeRecord { code: PairingCode::from_index(7), issued_at: t, state: CodeState::Pending }
    }

    #[test]
    fn stat_06_stat_07_expiry_boundary() {
        let t = datetime!(2025-12-13 14:25:30 UTC);
        let code = pending_at(t);
        assert_eq!(code.status_at(t + Duration::seconds(299)), CodeStatus::Pending);
        assert_eq!(code.status_at(t + Duration::milliseconds(299_999)), CodeStatus::Pending);
        assert_eq!(code.status_at(t + Duration::seconds(300)), CodeStatus::Expired);
        assert_eq!(code.status_at(t + Duration::seconds(301)), CodeStatus::Expired);
    }

    #[test]
    fn code_05_terminal_states_ignore_time() {
        let t = datetime!(2025-12-13 14:25:30 UTC);
        let used = CodeRecord { state: CodeState::Used, ..pending_at(t) };
        let superseded = CodeRecord { state: CodeState::Superseded, ..pending_at(t) };
        assert_eq!(used.status_at(t + Duration::days(30)), CodeStatus::Used);
        assert_eq!(superseded.status_at(t + Duration::days(30)), CodeStatus::Superseded);
    }
}
