//! Timestamp formatting shared by every response.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// BOOT-03/BOOT-04: RFC 3339, UTC, `Z` suffix, whole seconds (`YYYY-MM-DDTHH:MM:SSZ`).
pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
}

/// RFC 3339 in UTC with milliseconds when the instant has a fraction: the journal's receipt times,
/// where pacing (CLI-05, CLI-17) is a matter of fractions of a second.
pub fn rfc3339_millis(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    match t.millisecond() {
        0 if t.nanosecond() == 0 => rfc3339(t),
        ms => format!("{}.{ms:03}Z", rfc3339(t).trim_end_matches('Z')),
    }
}

/// Parses an RFC 3339 timestamp with any offset.
pub fn parse_rfc3339(raw: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(raw, &Rfc3339)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn boot_04_whole_seconds_with_z() {
        assert_eq!(rfc3339(datetime!(2025-12-13 14:25:30.987 UTC)), "2025-12-13T14:25:30Z");
        assert_eq!(rfc3339(datetime!(2025-12-13 16:25:30 +2)), "2025-12-13T14:25:30Z");
        assert_eq!(parse_rfc3339("2025-12-13T14:25:30Z").map(rfc3339).ok().as_deref(), Some("2025-12-13T14:25:30Z"));
    }
}
