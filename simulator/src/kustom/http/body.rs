//! Request bodies as Kustom reads them (KCONV-08): JSON whatever the `Content-Type`, an empty body
//! is `{}`, `null` members are absent, unknown members are ignored; anything but an object is
//! KERR-09.

use serde_json::{Map, Value};

use super::problem::Problem;

pub(crate) fn object(body: &[u8]) -> Result<Map<String, Value>, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(mut map)) => {
            map.retain(|_, v| !v.is_null());
            Ok(map)
        }
        _ => Err(Problem::unreadable()),
    }
}

/// A string of 1 to `max` characters (Unicode scalar values); `blank_ok` false also refuses one
/// that is all whitespace.
pub(crate) fn text(value: &Value, max: usize, blank_ok: bool) -> Result<String, String> {
    let Value::String(s) = value else { return Err("must be a string".into()) };
    let n = s.chars().count();
    if n == 0 || n > max {
        return Err(format!("must have 1 to {max} characters"));
    }
    if !blank_ok && s.trim().is_empty() {
        return Err("must not be blank".into());
    }
    Ok(s.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kconv_08_kerr_09_lenient_objects_only() {
        assert_eq!(object(b"").map(|m| m.len()), Ok(0));
        assert_eq!(object(b"  \n").map(|m| m.len()), Ok(0));
        assert_eq!(object(br#"{"a": null, "b": 1}"#).map(|m| m.keys().cloned().collect::<Vec<_>>()), Ok(vec!["b".to_owned()]));
        for bad in [&b"[]"[..], b"\"x\"", b"{", b"null", b"1"] {
            assert_eq!(object(bad).map_err(|p| p.rule), Err("KERR-09"), "{bad:?}");
        }
    }
}
