//! Turns an exchange into what can be compared across deployments. Values a target generates
//! (codes, tokens, trace ids, terminal and device ids, key blocks, ciphertexts, uuids) become
//! placeholders numbered by first occurrence within one scenario or case, so "the code issued in
//! step 3 is the code claimed in step 5" still compares while the values themselves do not.
//! Times become `<time>` and, within one record, their distance to its first time (a lifetime is
//! behaviour; the instant is not). What remains is behaviour: status, error codes and messages,
//! body shape and fields, the headers that matter.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::exchange::Exchange;

/// Members whose values a target generates (both APIs' schemas), keyed to the placeholder's kind.
const GENERATED: &[(&str, &str)] = &[
    ("pairing_code", "code"),
    ("enrollment_code", "code"),
    ("device_id", "device"),
    ("hardware_id", "hardware"),
    // The harness's tag of one run, in metadata and hardware ids.
    ("run", "run"),
    ("access_token", "token"),
    ("attestation_token", "token"),
    ("bearer_token", "token"),
    ("refresh_token", "token"),
    ("trace_id", "trace"),
    ("key_block", "key"),
    ("kcv", "kcv"),
    ("key_kcv", "kcv"),
    ("check_value", "kcv"),
    ("key_id", "key-id"),
    ("key_set_id", "key-id"),
    ("ciphertext", "ciphertext"),
    ("initialization_vector", "iv"),
    ("terminal_id", "terminal"),
    ("merchant_id", "merchant"),
    ("merchant_key", "merchant-key"),
    ("client_id", "client"),
    ("client_secret", "secret"),
    ("secret", "secret"),
    ("id", "id"),
    ("enrollment_id", "id"),
    ("location_id", "location"),
    ("open_cash_register_id", "register"),
    ("kid", "kid"),
    ("n", "modulus"),
];

/// Request headers that carry a value the harness or the target chose for this run.
const CHOSEN_HEADERS: &[(&str, &str)] = &[("x-device-id", "device"), ("x-merchant-id", "merchant")];

/// Response headers that carry behaviour (the rest, such as `Date` and `Content-Length`, do not).
pub const COMPARED_HEADERS: &[&str] =
    &["content-type", "retry-after", "www-authenticate", "location", "allow", "x-trace-id", "x-request-id", "cache-control"];

static TIME: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // a constant pattern, covered by the tests below
    Regex::new(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?").expect("time pattern")
});
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b").expect("uuid pattern")
});
static JWT: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*").expect("jwt pattern")
});

/// One exchange as compared.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Normal {
    /// `METHOD /path` with every placeholder written `{}`: what groups differences.
    pub endpoint: String,
    /// `METHOD /path?query` with placeholders.
    pub request: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_body: Option<Value>,
    /// The status, or `no response`.
    pub status: String,
    pub headers: BTreeMap<String, String>,
    pub body: Value,
}

/// Placeholders of one scenario or case on one target.
#[derive(Debug, Default)]
pub struct Normaliser {
    base_url: String,
    known: HashMap<String, String>,
    counts: HashMap<&'static str, usize>,
}

impl Normaliser {
    pub fn new(base_url: &str) -> Self {
        Normaliser { base_url: base_url.trim_end_matches('/').to_owned(), ..Normaliser::default() }
    }

    fn register(&mut self, kind: &'static str, value: &str) -> String {
        // An empty value (an empty Bearer token) is no value: it stays what it is.
        if value.is_empty() {
            return String::new();
        }
        if let Some(p) = self.known.get(value) {
            return p.clone();
        }
        let n = self.counts.entry(kind).or_insert(0);
        *n += 1;
        // A code's length is behaviour (a terminal displays it, a merchant types it); other
        // generated values vary in length by themselves (tokens carry claims).
        let placeholder = if kind == "code" { format!("<{kind}#{n}:{}>", value.chars().count()) } else { format!("<{kind}#{n}>") };
        self.known.insert(value.to_owned(), placeholder.clone());
        placeholder
    }

    /// Known values and generated forms inside free text (messages, paths, headers).
    fn text(&mut self, s: &str) -> String {
        let mut out = s.to_owned();
        if !self.base_url.is_empty() {
            out = out.replace(&self.base_url, "<base>");
        }
        let mut known: Vec<(&String, &String)> = self.known.iter().filter(|(v, _)| v.len() >= 6).collect();
        known.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(b.0)));
        for (value, placeholder) in known {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), placeholder);
            }
        }
        let out = JWT.replace_all(&out, "<jwt>").into_owned();
        let out = UUID.replace_all(&out, "<uuid>").into_owned();
        TIME.replace_all(&out, "<time>").into_owned()
    }

    fn leaf(&mut self, key: Option<&str>, s: &str, reference: Option<time::OffsetDateTime>) -> Value {
        if let Some(p) = self.known.get(s) {
            return Value::String(p.clone());
        }
        if let Some(kind) = key.and_then(|k| GENERATED.iter().find(|(g, _)| *g == k)).map(|(_, kind)| *kind)
            && !s.is_empty()
        {
            return Value::String(self.register(kind, s));
        }
        if let Some(t) = parse_time(s) {
            // An expiry is its distance to the record's own time (a lifetime is behaviour); any
            // other time is an instant (when something happened is state).
            return Value::String(match (reference, key.is_some_and(is_expiry)) {
                (Some(reference), true) => {
                    let secs = (t - reference).as_seconds_f64().round() as i64;
                    if secs == 0 { "<time>".to_owned() } else { format!("<time{secs:+}s>") }
                }
                _ => "<time>".to_owned(),
            });
        }
        if UUID.is_match(s) && s.len() == 36 {
            return Value::String(self.register("uuid", s));
        }
        if JWT.is_match(s) && !s.contains(' ') {
            return Value::String(self.register("token", s));
        }
        Value::String(self.text(s))
    }

    fn value(&mut self, key: Option<&str>, v: &Value, reference: Option<time::OffsetDateTime>) -> Value {
        match v {
            Value::String(s) => self.leaf(key, s, reference),
            Value::Number(n) if key.is_some_and(|k| GENERATED.iter().any(|(g, _)| *g == k)) => {
                let kind = GENERATED.iter().find(|(g, _)| Some(*g) == key).map_or("id", |(_, kind)| *kind);
                Value::String(self.register(kind, &n.to_string()))
            }
            Value::Array(items) => Value::Array(items.iter().map(|i| self.value(key, i, reference)).collect()),
            Value::Object(map) => {
                // A record's expiry is measured from its first other time (`created_at`,
                // `server_time`, `issued_at`): the distance between two instants of a record, or
                // between records of a list, is state and jitters on a clock that keeps running.
                let reference = map.iter().filter(|(k, _)| !is_expiry(k)).find_map(|(_, v)| v.as_str().and_then(parse_time));
                let mut out = Map::new();
                for (k, v) in map {
                    out.insert(k.clone(), self.value(Some(k), v, reference));
                }
                Value::Object(out)
            }
            other => other.clone(),
        }
    }

    fn body(&mut self, text: &str) -> Value {
        match crate::json::parse(text) {
            Some(p) => self.value(None, &p.value, None),
            None if text.is_empty() => Value::Null,
            None => Value::String(self.text(text)),
        }
    }

    pub fn exchange(&mut self, ex: &Exchange) -> Normal {
        for (name, value) in &ex.request_headers {
            let lower = name.to_ascii_lowercase();
            if let Some((_, kind)) = CHOSEN_HEADERS.iter().find(|(h, _)| *h == lower) {
                self.register(kind, value);
            } else if lower == "authorization"
                && let Some((scheme, credential)) = value.split_once(' ')
            {
                let kind = if scheme.eq_ignore_ascii_case("basic") { "credentials" } else { "token" };
                self.register(kind, credential.trim());
            }
        }
        let request_body = ex.request_body.as_deref().map(|b| self.body(b));
        // Every exchange's own scheme and authority go, whatever host a step sent to.
        let path = match ex.url.strip_prefix(&self.base_url) {
            Some(rest) => rest.to_owned(),
            None => ex.url.split_once("://").map_or(ex.url.as_str(), |(_, rest)| rest.find('/').map_or("/", |i| &rest[i..])).to_owned(),
        };
        // A path segment that is a value seen before is its placeholder, however short.
        let path: Vec<String> =
            path.split('/').map(|seg| self.known.get(seg).filter(|_| !seg.is_empty()).cloned().unwrap_or_else(|| seg.to_owned())).collect();
        let path = self.text(&path.join("/"));
        let request = format!("{} {path}", ex.method);
        let endpoint = format!("{} {}", ex.method, template(path.split('?').next().unwrap_or_default()));
        let body = self.body(&ex.response_body);
        let mut headers = BTreeMap::new();
        for (name, value) in &ex.response_headers {
            let lower = name.to_ascii_lowercase();
            if !COMPARED_HEADERS.contains(&lower.as_str()) {
                continue;
            }
            let value = match lower.as_str() {
                "content-type" => value.to_ascii_lowercase().replace(' ', ""),
                "x-trace-id" | "x-request-id" => self.register("trace", value),
                _ => self.text(value),
            };
            headers.insert(lower, value);
        }
        let status = match ex.status {
            Some(s) => s.to_string(),
            None => "no response".to_owned(),
        };
        Normal { endpoint, request, request_body, status, headers, body }
    }
}

static NUMBERED: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(r"<([a-z-]+)#\d+(:\d+)?>").expect("placeholder pattern")
});

impl Normal {
    /// The same exchange with placeholders unnumbered: answers sent at once arrive in any order,
    /// so which of them drew a value first says nothing.
    pub fn unnumbered(mut self) -> Normal {
        fn erase(v: &mut Value) {
            match v {
                Value::String(s) if s.contains('#') => *s = NUMBERED.replace_all(s, "<$1$2>").into_owned(),
                Value::Array(items) => items.iter_mut().for_each(erase),
                Value::Object(map) => map.values_mut().for_each(erase),
                _ => {}
            }
        }
        erase(&mut self.body);
        if let Some(b) = &mut self.request_body {
            erase(b);
        }
        for v in self.headers.values_mut() {
            *v = NUMBERED.replace_all(v, "<$1$2>").into_owned();
        }
        self.request = NUMBERED.replace_all(&self.request, "<$1$2>").into_owned();
        self
    }

    /// A request to a simulator's control API: the harness provisioning it, not the API compared.
    pub fn is_control(&self) -> bool {
        self.endpoint.split_once(' ').is_some_and(|(_, path)| path.starts_with("/_sim/"))
    }
}

/// A member that says when something stops being valid.
fn is_expiry(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("expir") || k.contains("valid_until") || k.contains("not_after")
}

/// `/ipp/v1/enrollments/<id#2>/x` → `/ipp/v1/enrollments/{}/x`.
fn template(path: &str) -> String {
    path.split('/').map(|seg| if seg.starts_with('<') && seg.ends_with('>') { "{}" } else { seg }).collect::<Vec<_>>().join("/")
}

fn parse_time(s: &str) -> Option<time::OffsetDateTime> {
    if s.len() < 20 || s.len() > 40 || !TIME.find(s).is_some_and(|m| m.start() == 0 && m.end() == s.len()) {
        return None;
    }
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>, status: u16, response: &str) -> Exchange {
        Exchange {
            method: method.into(),
            url: format!("http://t:1{path}"),
            request_headers: headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            request_body: body.map(str::to_owned),
            status: Some(status),
            response_headers: vec![("Content-Type".into(), "application/json; charset=utf-8".into()), ("Date".into(), "now".into())],
            response_body: response.into(),
            elapsed_ms: 3,
            transport_error: None,
        }
    }

    #[test]
    fn the_same_value_gets_the_same_placeholder_by_first_occurrence() {
        let mut n = Normaliser::new("http://t:1");
        let issued = n.exchange(&exchange(
            "POST",
            "/pos/pairing-code",
            &[("X-Device-Id", "POS-1A2B3C4D")],
            None,
            200,
            r#"{"pairing_code":"K7M3NP","expires_in_sec":300}"#,
        ));
        let claimed = n.exchange(&exchange(
            "POST",
            "/pos/claim",
            &[("Authorization", "Bearer abc.def")],
            Some(r#"{"pairing_code":"K7M3NP"}"#),
            409,
            r#"{"error":{"code":"ALREADY_CLAIMED","message":"Code K7M3NP of POS-1A2B3C4D is taken"}}"#,
        ));
        assert_eq!(issued.body["pairing_code"], "<code#1:6>");
        assert_eq!(issued.body["expires_in_sec"], 300);
        assert_eq!(claimed.request_body.as_ref().map(|b| b["pairing_code"].clone()), Some(Value::from("<code#1:6>")));
        assert_eq!(claimed.body["error"]["message"], "Code <code#1:6> of <device#1> is taken");
        assert_eq!(claimed.headers.get("content-type").map(String::as_str), Some("application/json;charset=utf-8"));
        assert!(!claimed.headers.contains_key("date"));
    }

    #[test]
    fn times_keep_their_distance_within_a_record_only() {
        let mut n = Normaliser::new("http://t:1");
        let a = n.exchange(&exchange(
            "POST",
            "/ipp/v1/enrollments",
            &[],
            None,
            201,
            r#"{"enrollment_id":"e-1","created_at":"2026-12-06T10:00:00Z","updated_at":"2026-12-06T10:01:01+00:00","expires_at":"2026-12-06T12:00:00.000Z"}"#,
        ));
        assert_eq!(a.body["created_at"], "<time>");
        assert_eq!(a.body["updated_at"], "<time>", "when a record changed is state");
        assert_eq!(a.body["expires_at"], "<time+7200s>", "its lifetime is behaviour");
        let b = n.exchange(&exchange("DELETE", "/ipp/v1/enrollments/e-1", &[], None, 204, ""));
        assert_eq!(b.endpoint, "DELETE /ipp/v1/enrollments/{}");
        assert_eq!(b.request, "DELETE /ipp/v1/enrollments/<id#1>");
        assert_eq!(b.body, Value::Null);
    }

    #[test]
    fn uuids_and_tokens_are_placeholders_wherever_they_appear() {
        let mut n = Normaliser::new("http://t:1");
        let a = n.exchange(&exchange(
            "GET",
            "/x",
            &[],
            None,
            400,
            r#"{"a_trace":"0b7c6a0e-5f2d-4c1a-9f3e-1d2c3b4a5f60","note":"see 0b7c6a0e-5f2d-4c1a-9f3e-1d2c3b4a5f60 at 2026-12-06 10:00:00"}"#,
        ));
        assert_eq!(a.body["a_trace"], "<uuid#1>");
        assert_eq!(a.body["note"], "see <uuid#1> at <time>");
    }
}
