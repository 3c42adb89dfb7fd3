//! Timestamp formatting shared by every response.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// BOOT-03/BOOT-04: RFC 3339, UTC, `Z` suffix, whole seconds (`YYYY-MM-DDTHH:MM:SSZ`).
/// Written digit by digit rather than through `format!`: every answer with a time pays for it.
pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let Ok(year) = u16::try_from(t.year()) else {
        return format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second());
    };
    let mut out = *b"0000-00-00T00:00:00Z";
    let mut put = |at: usize, n: u16| {
        out[at] = b'0' + u8::try_from(n / 10 % 10).unwrap_or(0);
        out[at + 1] = b'0' + u8::try_from(n % 10).unwrap_or(0);
    };
    put(0, year / 100);
    put(2, year % 100);
    put(5, u16::from(u8::from(t.month())));
    put(8, u16::from(t.day()));
    put(11, u16::from(t.hour()));
    put(14, u16::from(t.minute()));
    put(17, u16::from(t.second()));
    // ASCII digits and separators only.
    String::from_utf8_lossy(&out).into_owned()
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
        assert_eq!(rfc3339(datetime!(0987-01-02 03:04:05 UTC)), "0987-01-02T03:04:05Z");
        assert_eq!(rfc3339(datetime!(9999-12-31 23:59:59 UTC)), "9999-12-31T23:59:59Z");
    }
}
