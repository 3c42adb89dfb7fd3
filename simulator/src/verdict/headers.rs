//! What the device's requests carry: the POS headers (CLI-01), the `User-Agent` shape (CLI-02,
//! CLI-03) and the `Content-Type` of a body (CLI-16).

use std::collections::BTreeMap;

use super::history::{History, pos_headers};
use super::{Finding, Judged};
use crate::journal::JournalEntry;

/// HDR-02…HDR-10: the header errors of the POS endpoints.
pub(crate) fn is_header_error(rule: Option<&str>) -> bool {
    rule.and_then(|r| r.strip_prefix("HDR-")).and_then(|n| n.parse::<u8>().ok()).is_some_and(|n| (2..=10).contains(&n))
}

/// `Viopay-POS/{version} (…)` split at the version's end: the version and what follows `" ("`.
/// Every status poll is checked (the live log), so these are plain string scans rather than
/// regular expressions, which cost more than the rest of the verdict's work on a poll; a test
/// holds them equal to the regular expressions on generated input.
fn version_and_rest(ua: &str) -> Option<(&str, &str)> {
    let rest = ua.strip_prefix("Viopay-POS/")?;
    let end = rest.find(char::is_whitespace)?;
    let (version, tail) = rest.split_at(end);
    Some((version, tail.strip_prefix(" (")?))
}

/// CLI-02: the documented shape `Viopay-POS/{version} ({OS}; {model})`, each part non-empty
/// (the regular expression `^Viopay-POS/\S+ \(.+; .+\)$`).
pub(crate) fn documented_ua(ua: &str) -> bool {
    let Some((version, tail)) = version_and_rest(ua) else { return false };
    let Some(inner) = tail.strip_suffix(')') else { return false };
    !version.is_empty() && !inner.contains('\n') && inner.match_indices("; ").any(|(at, _)| at > 0 && at + 2 < inner.len())
}

/// CLI-03: the exact pattern the simulator holds clients to (the regular expression
/// `^Viopay-POS/[0-9]+(\.[0-9]+)* \([^;()]+; [^;()]+\)$`): a dotted numeric version and two
/// parts free of `;`, `(` and `)`.
pub(crate) fn exact_ua(ua: &str) -> bool {
    let Some((version, tail)) = version_and_rest(ua) else { return false };
    let Some(inner) = tail.strip_suffix(')') else { return false };
    let numeric = version.split('.').all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()));
    let Some(at) = inner.find(';') else { return false };
    let (os, model) = (&inner[..at], &inner[at..]);
    let Some(model) = model.strip_prefix("; ") else { return false };
    let clean = |part: &str| !part.is_empty() && !part.contains([';', '(', ')']);
    numeric && clean(os) && clean(model)
}

/// RFC 9110: the media type before any parameters, case-insensitive.
pub(crate) fn is_json(content_type: &str) -> bool {
    crate::media::is(content_type, "application/json")
}

pub(crate) fn cli_01(h: &History<'_>) -> Judged {
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

pub(crate) fn cli_02(h: &History<'_>) -> Judged {
    ua_rule(h, documented_ua, "does not have the shape Viopay-POS/{version} ({OS}; {model})")
}

pub(crate) fn cli_03(h: &History<'_>) -> Judged {
    ua_rule(h, exact_ua, r"does not match ^Viopay-POS/[0-9]+(\.[0-9]+)* \([^;()]+; [^;()]+\)$")
}

pub(crate) fn cli_16(h: &History<'_>) -> Judged {
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

pub(crate) fn dedup<'a>(items: &[&'a str]) -> Vec<&'a str> {
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

#[cfg(test)]
mod ua_tests {
    use proptest::prelude::*;

    use super::*;

    const DOCUMENTED_UA: &str = r"^Viopay-POS/\S+ \(.+; .+\)$";
    const EXACT_UA: &str = r"^Viopay-POS/[0-9]+(\.[0-9]+)* \([^;()]+; [^;()]+\)$";

    /// The scans decide exactly what the regular expressions decide, on user agents built from
    /// the characters that matter (digits, dots, spaces, other whitespace, `;`, `(`, `)`, a line
    /// feed, letters, a non-ASCII space).
    #[test]
    fn the_scans_decide_as_the_regular_expressions() {
        let documented = regex::Regex::new(DOCUMENTED_UA).expect("regex");
        let exact = regex::Regex::new(EXACT_UA).expect("regex");
        let tail = proptest::collection::vec(
            prop_oneof![
                Just("1".to_owned()),
                Just(".".to_owned()),
                Just(" ".to_owned()),
                Just("\t".to_owned()),
                Just("\u{a0}".to_owned()),
                Just(";".to_owned()),
                Just("; ".to_owned()),
                Just("(".to_owned()),
                Just(")".to_owned()),
                Just(" (".to_owned()),
                Just("\n".to_owned()),
                Just("Android 12".to_owned()),
                Just("x".to_owned()),
            ],
            0..12,
        );
        let prefix = prop_oneof![Just("Viopay-POS/"), Just("Viopay-POS"), Just("viopay-pos/"), Just("")];
        proptest!(ProptestConfig::with_cases(20_000), |(p in prefix, parts in tail)| {
            let ua = format!("{p}{}", parts.concat());
            prop_assert_eq!(documented_ua(&ua), documented.is_match(&ua), "documented: {:?}", ua);
            prop_assert_eq!(exact_ua(&ua), exact.is_match(&ua), "exact: {:?}", ua);
        });
        for ua in ["Viopay-POS/1.4.2 (Android 12; PAX-A920)", "Viopay-POS/1.4 (a; b)", "Viopay-POS/x (a; b; c)"] {
            assert_eq!((documented_ua(ua), exact_ua(ua)), (documented.is_match(ua), exact.is_match(ua)), "{ua}");
        }
    }
}
