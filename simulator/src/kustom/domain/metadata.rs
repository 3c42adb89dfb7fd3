//! Enrollment and device metadata (KEN-06) and the list filters over it (KEN-24, KEN-25, KEN-30).

use std::collections::BTreeMap;

use serde_json::Value;

pub(crate) type Metadata = BTreeMap<String, String>;

pub(crate) const MAX_MEMBERS: usize = 20;
pub(crate) const MAX_KEY: usize = 64;
pub(crate) const MAX_VALUE: usize = 256;
/// KEN-24: at most 5 `metadata` filters.
pub(crate) const MAX_FILTERS: usize = 5;

/// KEN-06: an object of at most 20 members, keys of 1–64 characters, string values of 0–256
/// (Unicode scalar values, so `chars()`). The error is the message for `errors.metadata`.
pub(crate) fn parse(value: &Value) -> Result<Metadata, String> {
    let Value::Object(map) = value else { return Err("must be an object of strings".into()) };
    if map.len() > MAX_MEMBERS {
        return Err(format!("must have at most {MAX_MEMBERS} members"));
    }
    let mut out = Metadata::new();
    for (k, v) in map {
        let n = k.chars().count();
        if n == 0 || n > MAX_KEY {
            return Err(format!("keys must have 1 to {MAX_KEY} characters"));
        }
        match v {
            Value::String(s) if s.chars().count() <= MAX_VALUE => {
                out.insert(k.clone(), s.clone());
            }
            Value::String(_) => return Err(format!("values must have at most {MAX_VALUE} characters")),
            _ => return Err(format!("value of `{k}` must be a string")),
        }
    }
    Ok(out)
}

/// KEN-25: `key:value`, split at the first `:`; the key is not empty, the value may be.
pub(crate) fn parse_filters(raw: &[String]) -> Result<Vec<(String, String)>, String> {
    if raw.len() > MAX_FILTERS {
        return Err(format!("at most {MAX_FILTERS} filters"));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for entry in raw {
        let Some((k, v)) = entry.split_once(':') else { return Err("must be key:value".into()) };
        if k.is_empty() {
            return Err("the key must not be empty".into());
        }
        if out.iter().any(|(seen, _)| seen == k) {
            return Err(format!("key `{k}` is given twice"));
        }
        out.push((k.to_owned(), v.to_owned()));
    }
    Ok(out)
}

/// Every filter matches exactly (case-sensitive).
pub(crate) fn matches(metadata: &Metadata, filters: &[(String, String)]) -> bool {
    filters.iter().all(|(k, v)| metadata.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ken_06_limits() {
        assert!(parse(&json!({"store_id": "123"})).is_ok());
        assert!(parse(&json!({"": "x"})).is_err());
        assert!(parse(&json!({"k": 1})).is_err());
        assert!(parse(&json!(["k"])).is_err());
        assert!(parse(&json!({"k": "é".repeat(256)})).is_ok(), "characters, not bytes");
        assert!(parse(&json!({"k": "x".repeat(257)})).is_err());
        assert!(parse(&json!({"k".repeat(65): "x"})).is_err());
        let many: serde_json::Map<String, Value> = (0..21).map(|i| (format!("k{i}"), json!("v"))).collect();
        assert!(parse(&Value::Object(many)).is_err());
    }

    #[test]
    fn ken_25_ken_30_filters() {
        let f = parse_filters(&["store_id:123".into(), "url:http://x".into(), "empty:".into()]).expect("valid");
        assert_eq!(f[1], ("url".into(), "http://x".into()));
        assert!(parse_filters(&["nocolon".into()]).is_err());
        assert!(parse_filters(&[":v".into()]).is_err());
        assert!(parse_filters(&["a:1".into(), "a:2".into()]).is_err());
        assert!(parse_filters(&(0..6).map(|i| format!("k{i}:v")).collect::<Vec<_>>()).is_err());
        let m: Metadata = [("store_id".to_owned(), "123".to_owned())].into();
        assert!(matches(&m, &[("store_id".into(), "123".into())]));
        assert!(!matches(&m, &[("store_id".into(), "1234".into())]));
        assert!(!matches(&m, &[("Store_id".into(), "123".into())]));
    }
}
