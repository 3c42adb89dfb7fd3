//! JSON as RFC 8259 allows it. serde_json refuses an escaped lone surrogate (`"\ud800"`), which
//! RFC 8259 §8.2 admits in valid JSON; a conformant backend may echo one back. Such a body is read
//! with the surrogate replaced by U+FFFD, and the fact is reported as a note (I-JSON, RFC 7493
//! §2.1, forbids it), never as a broken rule.

use serde_json::Value;

/// A body read as JSON, and why it is not I-JSON if it is not.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub value: Value,
    pub not_ijson: Option<String>,
}

/// Parses `text` as RFC 8259 JSON; `None` when it is not JSON at all.
pub fn parse(text: &str) -> Option<Parsed> {
    if let Ok(value) = serde_json::from_str(text) {
        return Some(Parsed { value, not_ijson: None });
    }
    let (repaired, lone) = replace_lone_surrogates(text);
    if lone == 0 {
        return None;
    }
    let value = serde_json::from_str(&repaired).ok()?;
    Some(Parsed {
        value,
        not_ijson: Some(format!(
            "I-JSON (RFC 7493 §2.1): the body has {lone} escaped lone surrogate(s), valid JSON by RFC 8259 but refused by many parsers; read as U+FFFD"
        )),
    })
}

/// Rewrites every `\uXXXX` escape of a lone surrogate as `\uFFFD`; returns the text and how many.
fn replace_lone_surrogates(text: &str) -> (String, usize) {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut count = 0;
    let mut i = 0;
    let hex_at = |at: usize| -> Option<u16> {
        let digits = bytes.get(at..at + 4)?;
        u16::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
    };
    let escape_at = |at: usize| -> Option<u16> {
        if bytes.get(at) == Some(&b'\\') && bytes.get(at + 1) == Some(&b'u') { hex_at(at + 2) } else { None }
    };
    let mut last = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(unit) = escape_at(i) else {
            i += 2; // any other escape, `\\` included, is two bytes
            continue;
        };
        let is_high = (0xD800..0xDC00).contains(&unit);
        let is_low = (0xDC00..0xE000).contains(&unit);
        if is_high && escape_at(i + 6).is_some_and(|next| (0xDC00..0xE000).contains(&next)) {
            i += 12; // a well-formed pair
            continue;
        }
        if is_high || is_low {
            out.push_str(&text[last..i]);
            out.push_str("\\uFFFD");
            count += 1;
            last = i + 6;
        }
        i += 6;
    }
    out.push_str(&text[last..]);
    (out, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_surrogate_is_valid_json_but_not_ijson() {
        let p = parse(r#"{"error":{"details":{"pairing_code":"\ud800"}}}"#).expect("RFC 8259 JSON");
        assert_eq!(p.value["error"]["details"]["pairing_code"], "\u{FFFD}");
        assert!(p.not_ijson.is_some_and(|n| n.contains("RFC 7493")));
        let low = parse(r#"["\udc00", "\\ud800"]"#).expect("JSON");
        assert_eq!(low.value[0], "\u{FFFD}");
        assert_eq!(low.value[1], "\\ud800", "an escaped backslash is not an escape");
    }

    #[test]
    fn pairs_and_plain_json_are_untouched() {
        let p = parse(r#""\ud83d\ude00""#).expect("JSON");
        assert_eq!(p, Parsed { value: Value::String("😀".into()), not_ijson: None });
        assert!(parse("{").is_none());
        assert!(parse(r#"{"a": "\ud800"#).is_none(), "still not JSON once repaired");
    }
}
