//! What the device's requests carry: the POS headers (CLI-01), the `User-Agent` shape (CLI-02,
//! CLI-03) and the `Content-Type` of a body (CLI-16).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::history::{History, pos_headers};
use super::{Finding, Judged};
use crate::journal::JournalEntry;

/// CLI-02: the documented shape `Viopay-POS/{version} ({OS}; {model})`, each part non-empty.
static DOCUMENTED_UA: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^Viopay-POS/\S+ \(.+; .+\)$").unwrap_or_else(|e| panic!("{e}")));
/// CLI-03: the exact pattern the simulator holds clients to.
static EXACT_UA: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^Viopay-POS/[0-9]+(\.[0-9]+)* \([^;()]+; [^;()]+\)$").unwrap_or_else(|e| panic!("{e}")));

/// HDR-02…HDR-10: the header errors of the POS endpoints.
pub fn is_header_error(rule: Option<&str>) -> bool {
    rule.and_then(|r| r.strip_prefix("HDR-")).and_then(|n| n.parse::<u8>().ok()).is_some_and(|n| (2..=10).contains(&n))
}

pub fn documented_ua(ua: &str) -> bool {
    DOCUMENTED_UA.is_match(ua)
}

pub fn exact_ua(ua: &str) -> bool {
    EXACT_UA.is_match(ua)
}

/// RFC 9110: the media type before any parameters, case-insensitive.
pub fn is_json(content_type: &str) -> bool {
    content_type.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

pub fn cli_01(h: &History<'_>) -> Judged {
    let looked: Vec<&JournalEntry> = h.entries.iter().copied().filter(|e| pos_headers(&e.path)).collect();
    let bad: Vec<&JournalEntry> = looked.iter().copied().filter(|e| is_header_error(e.rule)).collect();
    let findings = if bad.is_empty() {
        Vec::new()
    } else {
        let rules: Vec<&str> = bad.iter().filter_map(|e| e.rule).collect();
        vec![Finding::new(format!("{} request(s) refused for their POS headers ({})", bad.len(), dedup(&rules).join(", ")), &bad)]
    };
    Judged::of(findings, looked.len(), "no bootstrap, pairing-code, status or attest request")
}

fn user_agents<'a>(h: &History<'a>) -> BTreeMap<&'a str, Vec<&'a JournalEntry>> {
    let mut by_value: BTreeMap<&str, Vec<&JournalEntry>> = BTreeMap::new();
    for e in h.entries.iter().copied().filter(|e| pos_headers(&e.path)) {
        if let Some(ua) = e.client.user_agent.as_deref() {
            by_value.entry(ua).or_default().push(e);
        }
    }
    by_value
}

fn ua_rule(h: &History<'_>, ok: fn(&str) -> bool, what: &str) -> Judged {
    let by_value = user_agents(h);
    let findings = by_value
        .iter()
        .filter(|(ua, _)| !ok(ua))
        .map(|(ua, entries)| Finding::new(format!("User-Agent `{ua}` ({} request(s)) {what}", entries.len()), entries))
        .collect();
    Judged::of(findings, by_value.len(), "no request with a User-Agent")
}

pub fn cli_02(h: &History<'_>) -> Judged {
    ua_rule(h, documented_ua, "does not have the shape Viopay-POS/{version} ({OS}; {model})")
}

pub fn cli_03(h: &History<'_>) -> Judged {
    ua_rule(h, exact_ua, r"does not match ^Viopay-POS/[0-9]+(\.[0-9]+)* \([^;()]+; [^;()]+\)$")
}

pub fn cli_16(h: &History<'_>) -> Judged {
    let with_body: Vec<&JournalEntry> = h.entries.iter().copied().filter(|e| e.client.has_body).collect();
    let bad: Vec<&JournalEntry> = with_body.iter().copied().filter(|e| !e.client.content_type.as_deref().is_some_and(is_json)).collect();
    let findings = if bad.is_empty() {
        Vec::new()
    } else {
        let sent: Vec<&str> = bad.iter().map(|e| e.client.content_type.as_deref().unwrap_or("(none)")).collect();
        vec![Finding::new(
            format!("{} request(s) with a body sent Content-Type {} instead of application/json", bad.len(), dedup(&sent).join(", ")),
            &bad,
        )]
    };
    Judged::of(findings, with_body.len(), "no request with a body")
}

pub fn dedup<'a>(items: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for i in items {
        if !out.contains(i) {
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_user_agent_shapes() {
        for ok in ["Viopay-POS/1.4.2 (Android 12; PAX-A920)", "Viopay-POS/2 (Linux; X)"] {
            assert!(documented_ua(ok) && exact_ua(ok), "{ok}");
        }
        // Documented shape, not the exact pattern (CLI-03 only).
        for loose in ["Viopay-POS/1.4.2-beta (Android 12; PAX-A920)", "Viopay-POS/1.4 (Android; 12; A920)"] {
            assert!(documented_ua(loose) && !exact_ua(loose), "{loose}");
        }
        for bad in ["Viopay-POS/1.4.2", "Viopay-POS/1.4.2 (Android 12)", "Viopay-POS/ (A; B)", "curl/8"] {
            assert!(!documented_ua(bad) && !exact_ua(bad), "{bad}");
        }
    }

    #[test]
    fn json_with_parameters_is_json() {
        assert!(is_json("application/json; charset=utf-8") && is_json("Application/JSON"));
        assert!(!is_json("text/plain") && !is_json("application/jsonx"));
        assert!(is_header_error(Some("HDR-07")) && !is_header_error(Some("HDR-11")) && !is_header_error(Some("ATT-27")));
    }
}
