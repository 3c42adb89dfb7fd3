//! The one clock every time-dependent rule reads (TIME-03): `server_time`, pairing-code expiry and
//! token expiry. In virtual mode time moves only when told, so a 300 s expiry is one call away.

use parking_lot::Mutex;
use time::{Duration, OffsetDateTime};

/// Which kind of clock the simulator runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ClockMode {
    /// Wall-clock time.
    System,
    /// Starts at a given instant and moves only through the control API.
    Virtual,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ClockError {
    #[error("the simulator runs on the system clock; start it with --clock virtual to move time")]
    NotVirtual,
    #[error("the clock cannot move backwards (now {now}, asked for {requested}); use /_sim/reset to start over")]
    Backwards { now: String, requested: String },
    #[error("the clock cannot move past year 9999")]
    OutOfRange,
}

#[derive(Debug)]
pub(crate) struct Clock {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    System,
    Virtual { start: OffsetDateTime, now: Mutex<OffsetDateTime> },
}

impl Clock {
    pub(crate) fn system() -> Self {
        Clock { inner: Inner::System }
    }

    pub(crate) fn virtual_at(start: OffsetDateTime) -> Self {
        let start = start.to_offset(time::UtcOffset::UTC);
        Clock { inner: Inner::Virtual { start, now: Mutex::new(start) } }
    }

    pub(crate) fn mode(&self) -> ClockMode {
        match self.inner {
            Inner::System => ClockMode::System,
            Inner::Virtual { .. } => ClockMode::Virtual,
        }
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        match &self.inner {
            Inner::System => OffsetDateTime::now_utc(),
            Inner::Virtual { now, .. } => *now.lock(),
        }
    }

    /// Moves a virtual clock forward. Time never runs backwards, so a code that has expired stays
    /// expired (CODE-05).
    pub(crate) fn advance(&self, by: Duration) -> Result<OffsetDateTime, ClockError> {
        let Inner::Virtual { now, .. } = &self.inner else { return Err(ClockError::NotVirtual) };
        let mut now = now.lock();
        if by.is_negative() {
            return Err(ClockError::Backwards { now: crate::time_fmt::rfc3339(*now), requested: format!("{} s", by.whole_seconds()) });
        }
        let next = now.checked_add(by).filter(|t| t.year() <= 9999).ok_or(ClockError::OutOfRange)?;
        *now = next;
        Ok(next)
    }

    /// Sets a virtual clock to a later instant.
    pub(crate) fn set(&self, to: OffsetDateTime) -> Result<OffsetDateTime, ClockError> {
        let Inner::Virtual { now, .. } = &self.inner else { return Err(ClockError::NotVirtual) };
        let mut now = now.lock();
        let to = to.to_offset(time::UtcOffset::UTC);
        if to < *now {
            return Err(ClockError::Backwards { now: crate::time_fmt::rfc3339(*now), requested: crate::time_fmt::rfc3339(to) });
        }
        if to.year() > 9999 {
            return Err(ClockError::OutOfRange);
        }
        *now = to;
        Ok(to)
    }

    /// Back to the start instant (used by `/_sim/reset`, which also forgets every code).
    pub(crate) fn reset(&self) {
        if let Inner::Virtual { start, now } = &self.inner {
            *now.lock() = *start;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn virtual_clock_moves_only_when_told() {
        let clock = Clock::virtual_at(datetime!(2025-12-13 14:25:30 UTC));
        assert_eq!(clock.now(), datetime!(2025-12-13 14:25:30 UTC));
        assert_eq!(clock.advance(Duration::seconds(301)), Ok(datetime!(2025-12-13 14:30:31 UTC)));
        assert!(matches!(clock.advance(Duration::seconds(-1)), Err(ClockError::Backwards { .. })));
        assert!(matches!(clock.set(datetime!(2025-01-01 0:00 UTC)), Err(ClockError::Backwards { .. })));
        assert_eq!(clock.set(datetime!(2026-01-01 0:00 UTC)), Ok(datetime!(2026-01-01 0:00 UTC)));
        clock.reset();
        assert_eq!(clock.now(), datetime!(2025-12-13 14:25:30 UTC));
    }

    #[test]
    fn system_clock_refuses_to_move() {
        let clock = Clock::system();
        assert_eq!(clock.advance(Duration::seconds(1)), Err(ClockError::NotVirtual));
        assert_eq!(clock.mode(), ClockMode::System);
    }
}
