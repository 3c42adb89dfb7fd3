//! `Then` steps: each checks one rule, named in brackets at the end of the step.

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cucumber::then;
use serde_json::Value;

use crate::client::ApiRequest;
use crate::spec;
use crate::targets::ClockControl;
use crate::world::{CheckWorld, Stop, harness_error};

fn status_text(s: Option<u16>) -> String {
    s.map_or_else(|| "no response".into(), |s| s.to_string())
}

/// Parses a JSON literal written in a feature, after placeholders are expanded.
fn literal(w: &CheckWorld, text: &str) -> Value {
    let expanded = w.expand(text);
    serde_json::from_str(&expanded).unwrap_or_else(|e| harness_error!("`{expanded}` in the feature is not JSON: {e}"))
}

fn error_field(w: &CheckWorld, field: &str) -> Value {
    w.last_json()["error"][field].clone()
}

// ---- status and body ------------------------------------------------------------------------

#[then(regex = r"^the status is (\d+) \[([A-Z]+-\d+)\]$")]
fn status_is(w: &mut CheckWorld, status: u16, rule: String) {
    let actual = w.last().status;
    let excerpt = w.last().excerpt();
    w.check(&rule, actual == Some(status), || format!("expected status {status}, got {}: {excerpt}", status_text(actual)));
}

#[then(regex = r"^the status is not 200 \[([A-Z]+-\d+)\]$")]
fn status_not_200(w: &mut CheckWorld, rule: String) {
    let actual = w.last().status;
    w.check(&rule, actual != Some(200), || "expected a refusal, got 200".into());
}

#[then(regex = r"^the claim is refused \[([A-Z]+-\d+)\]$")]
fn claim_refused(w: &mut CheckWorld, rule: String) {
    let actual = w.last().status;
    w.check(&rule, actual.is_some_and(|s| s >= 400), || format!("expected the claim to be refused, got {}", status_text(actual)));
}

#[then(regex = r"^the claim is refused with 401 or 403 \[([A-Z]+-\d+)\]$")]
fn refused_401_403(w: &mut CheckWorld, rule: String) {
    let actual = w.last().status;
    let enveloped = w.last_json()["error"].is_object();
    w.check(&rule, matches!(actual, Some(401 | 403)) && enveloped, || {
        format!("expected 401 or 403 with the error envelope, got {}", status_text(actual))
    });
}

#[then(regex = r#"^the body field "(\w+)" is "(.*)" \[([A-Z]+-\d+)\]$"#)]
fn field_is(w: &mut CheckWorld, field: String, value: String, rule: String) {
    let actual = w.last_json()[&field].clone();
    w.check(&rule, actual == Value::String(value.clone()), || format!("expected `{field}` = \"{value}\", got {actual}"));
}

#[then(regex = r#"^the body field "(\w+)" is the integer (\d+) \[([A-Z]+-\d+)\]$"#)]
fn field_is_integer(w: &mut CheckWorld, field: String, value: u64, rule: String) {
    let actual = w.last_json()[&field].clone();
    w.check(&rule, actual.as_u64() == Some(value) && !actual.is_f64(), || {
        format!("expected `{field}` = {value} (a JSON integer), got {actual}")
    });
}

#[then(regex = r#"^the body field "(\w+)" is a positive integer \[([A-Z]+-\d+)\]$"#)]
fn field_positive(w: &mut CheckWorld, field: String, rule: String) {
    let actual = w.last_json()[&field].clone();
    w.check(&rule, actual.as_u64().is_some_and(|n| n > 0), || format!("expected `{field}` to be a positive integer, got {actual}"));
}

#[then(regex = r#"^the body field "(\w+)" is a non-empty string \[([A-Z]+-\d+)\]$"#)]
fn field_non_empty(w: &mut CheckWorld, field: String, rule: String) {
    let actual = w.last_json()[&field].clone();
    w.check(&rule, actual.as_str().is_some_and(|s| !s.is_empty()), || format!("expected `{field}` to be a non-empty string, got {actual}"));
}

#[then(regex = r#"^the body field "(\w+)" is a version string \[([A-Z]+-\d+)\]$"#)]
fn field_version(w: &mut CheckWorld, field: String, rule: String) {
    let actual = w.last_json()[&field].clone();
    let ok = actual.as_str().is_some_and(|s| !s.is_empty() && s.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())));
    w.check(&rule, ok, || format!("expected `{field}` to be a version such as \"1.3.5\", got {actual}"));
}

#[then(regex = r#"^the body field "(\w+)" is the configured minimum version \[([A-Z]+-\d+)\]$"#)]
fn field_min_version(w: &mut CheckWorld, field: String, rule: String) {
    let expected = w.target().min_version.clone();
    let actual = w.last_json()[&field].clone();
    w.check(&rule, actual.as_str() == Some(expected.as_str()), || format!("expected `{field}` = \"{expected}\", got {actual}"));
}

fn parse_time(v: &Value) -> Option<time::OffsetDateTime> {
    v.as_str().and_then(|s| time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok())
}

#[then(regex = r#"^the body field "(\w+)" is an RFC 3339 UTC time ending in Z \[([A-Z]+-\d+)\]$"#)]
fn field_rfc3339(w: &mut CheckWorld, field: String, rule: String) {
    let actual = w.last_json()[&field].clone();
    let ok = parse_time(&actual).is_some() && actual.as_str().is_some_and(|s| s.ends_with('Z'));
    w.check(&rule, ok, || format!("expected `{field}` in RFC 3339 UTC with a Z suffix, got {actual}"));
}

#[then(regex = r#"^the body field "(\w+)" is in whole seconds \[([A-Z]+-\d+)\]$"#)]
fn field_whole_seconds(w: &mut CheckWorld, field: String, rule: String) {
    let actual = w.last_json()[&field].clone();
    let ok = actual.as_str().is_some_and(|s| s.len() == 20 && s.ends_with('Z')) && parse_time(&actual).is_some();
    w.check(&rule, ok, || format!("expected `{field}` as YYYY-MM-DDTHH:MM:SSZ, got {actual}"));
}

#[then(regex = r#"^the body field "(\w+)" is the target's current time \[([A-Z]+-\d+)\]$"#)]
async fn field_current_time(w: &mut CheckWorld, field: String, rule: String) {
    let actual = parse_time(&w.last_json()[&field]);
    let Some((sent, sent_wall)) = w.last_sent else {
        harness_error!("the scenario checks a time before sending a request");
    };
    // The target read its clock somewhere between our request leaving and the step now: the
    // interval on its clock is [reading − time since the request, reading] (a clock that stands
    // still between the harness's moves read exactly `reading`). A real clock is compared with
    // ours over the same interval, with the minute TIME-04 allows for drift.
    let (low, high, tolerance) = if w.target().clock_readable {
        let ex = w.client().send(&ApiRequest::new("GET", "/_sim/clock")).await;
        let Some(reading) = ex.json().and_then(|v| parse_time(&v["now"])) else {
            harness_error!("GET /_sim/clock gave no time in `now`: {}", ex.excerpt());
        };
        let since =
            if w.target().frozen { time::Duration::ZERO } else { time::Duration::try_from(sent.elapsed()).unwrap_or(time::Duration::ZERO) };
        (reading - since, reading, time::Duration::SECOND)
    } else if w.target().clock == ClockControl::Real {
        (sent_wall, time::OffsetDateTime::now_utc(), time::Duration::minutes(1))
    } else {
        Stop::NotApplicable(
            "the target's clock is moved by the harness but cannot be read (no GET /_sim/clock), so server_time has nothing to be compared with"
                .into(),
        )
        .raise();
    };
    let Some(actual) = actual else {
        w.check(&rule, false, || format!("`{field}` is not a time"));
        return;
    };
    // A second either side: times in whole seconds are truncated or rounded.
    let ok = actual >= low - tolerance && actual <= high + tolerance;
    w.check(&rule, ok, || format!("`{field}` is {actual}, outside the target's clock during the exchange ({low} … {high}, ± {tolerance})"));
}

#[then(regex = r#"^the body field "(\w+)" is 6 characters of the pairing alphabet \[([A-Z]+-\d+)\]$"#)]
fn field_code(w: &mut CheckWorld, field: String, rule: String) {
    let actual = w.last_json()[&field].clone();
    let ok = actual.as_str().is_some_and(is_code);
    w.check(&rule, ok, || format!("expected `{field}` to be 6 characters of {}, got {actual}", spec::CODE_ALPHABET));
}

fn is_code(s: &str) -> bool {
    s.len() == 6 && s.chars().all(|c| spec::CODE_ALPHABET.contains(c))
}

#[then(regex = r"^the body is a JSON object \[([A-Z]+-\d+)\]$")]
fn body_object(w: &mut CheckWorld, rule: String) {
    let body = w.last_json();
    w.check(&rule, body.is_object(), || format!("expected a JSON object, got {body}"));
}

#[then(regex = r"^the body is (\{.*\}) \[([A-Z]+-\d+)\]$")]
fn body_is(w: &mut CheckWorld, expected: String, rule: String) {
    let expected = literal(w, &expected);
    let actual = w.last_json();
    w.check(&rule, actual == expected, || format!("expected body {expected}, got {actual}"));
}

// ---- errors ---------------------------------------------------------------------------------

#[then(regex = r#"^the error is (\d+) "(\d{4})" "(.*)" \[([A-Z]+-\d+)\]$"#)]
fn error_full(w: &mut CheckWorld, status: u16, code: String, message: String, rule: String) {
    let (s, c, m) = (w.last().status, error_field(w, "code"), error_field(w, "message"));
    w.check(&rule, s == Some(status) && c.as_str() == Some(&code) && m.as_str() == Some(&message), || {
        format!("expected {status} \"{code}\" \"{message}\", got {} {c} {m}", status_text(s))
    });
}

#[then(regex = r#"^the error is (\d+) "(\d{4})" \[([A-Z]+-\d+)\]$"#)]
fn error_status_code(w: &mut CheckWorld, status: u16, code: String, rule: String) {
    let (s, c) = (w.last().status, error_field(w, "code"));
    w.check(&rule, s == Some(status) && c.as_str() == Some(&code), || format!("expected {status} \"{code}\", got {} {c}", status_text(s)));
}

/// Where the spec allows alternatives, any listed one passes (PAIR-05: "4004" or "4220").
#[then(regex = r#"^the error is (\d+) with code "(\d{4})" or "(\d{4})" \[([A-Z]+-\d+)\]$"#)]
fn error_either(w: &mut CheckWorld, status: u16, a: String, b: String, rule: String) {
    let (s, c) = (w.last().status, error_field(w, "code"));
    let ok = s == Some(status) && (c.as_str() == Some(&a) || c.as_str() == Some(&b));
    w.check(&rule, ok, || format!("expected {status} with \"{a}\" or \"{b}\", got {} {c}", status_text(s)));
}

#[then(regex = r#"^the error message is "(.*)" \[([A-Z]+-\d+)\]$"#)]
fn error_message(w: &mut CheckWorld, message: String, rule: String) {
    let m = error_field(w, "message");
    w.check(&rule, m.as_str() == Some(&message), || format!("expected message \"{message}\", got {m}"));
}

#[then(regex = r"^the error details are (\{.*\}) \[([A-Z]+-\d+)\]$")]
fn error_details(w: &mut CheckWorld, expected: String, rule: String) {
    let expected = literal(w, &expected);
    let details = error_field(w, "details");
    // The listed keys must be present with these values; other keys are not forbidden.
    let ok = expected.as_object().is_some_and(|want| want.iter().all(|(k, v)| &details[k] == v));
    w.check(&rule, ok, || format!("expected details {expected}, got {details}"));
}

#[then(regex = r#"^the error details message is "(.*)" \[([A-Z]+-\d+)\]$"#)]
fn details_message(w: &mut CheckWorld, message: String, rule: String) {
    let actual = error_field(w, "details")["message"].clone();
    w.check(&rule, actual.as_str() == Some(&message), || format!("expected details.message \"{message}\", got {actual}"));
}

#[then(regex = r"^the error details message is not empty \[([A-Z]+-\d+)\]$")]
fn details_message_present(w: &mut CheckWorld, rule: String) {
    let actual = error_field(w, "details")["message"].clone();
    w.check(&rule, actual.as_str().is_some_and(|s| !s.is_empty()), || format!("expected a details.message string, got {actual}"));
}

/// ERR-06: absent `details` or `{}` both pass.
#[then(regex = r"^the error has no details \[([A-Z]+-\d+)\]$")]
fn no_details(w: &mut CheckWorld, rule: String) {
    let details = error_field(w, "details");
    let ok = details.is_null() || details.as_object().is_some_and(|o| o.is_empty());
    w.check(&rule, ok, || format!("expected no details, got {details}"));
}

#[then(regex = r"^the error envelope is well formed \[([A-Z]+-\d+)\]$")]
fn envelope(w: &mut CheckWorld, rule: String) {
    let body = w.last_json();
    let e = &body["error"];
    let ok = body.is_object() && e.is_object() && e.get("code").is_some() && e.get("message").is_some() && e.get("trace_id").is_some();
    w.check(&rule, ok, || format!("expected {{\"error\": {{code, message, trace_id}}}}, got {body}"));
}

#[then(regex = r"^the error code is a 4-digit string \[([A-Z]+-\d+)\]$")]
fn code_string(w: &mut CheckWorld, rule: String) {
    let c = error_field(w, "code");
    w.check(&rule, c.as_str().is_some_and(|s| s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())), || {
        format!("expected a 4-digit string code, got {c}")
    });
}

#[then(regex = r"^the error trace_id is a non-empty string \[([A-Z]+-\d+)\]$")]
fn trace_string(w: &mut CheckWorld, rule: String) {
    let t = error_field(w, "trace_id");
    w.check(&rule, t.as_str().is_some_and(|s| !s.is_empty()), || format!("expected a trace_id string, got {t}"));
}

// ---- many responses -------------------------------------------------------------------------

#[then(regex = r"^every response had status 200 \[([A-Z]+-\d+)\]$")]
fn every_200(w: &mut CheckWorld, rule: String) {
    let statuses: Vec<Option<u16>> = w.burst.iter().map(|e| e.status).collect();
    w.check(&rule, !statuses.is_empty() && statuses.iter().all(|s| *s == Some(200)), || {
        format!("expected 200 every time, got {statuses:?}")
    });
}

#[then(regex = r#"^every poll read "(\w+)" \[([A-Z]+-\d+)\]$"#)]
fn every_poll(w: &mut CheckWorld, status: String, rule: String) {
    let read: Vec<Value> = w.burst.iter().map(|e| e.json().map(|v| v["pairing_code_status"].clone()).unwrap_or(Value::Null)).collect();
    w.check(&rule, !read.is_empty() && read.iter().all(|v| v.as_str() == Some(&status)), || {
        format!("expected \"{status}\" on every poll, got {read:?}")
    });
}

#[then(regex = r"^every code is 6 characters of the pairing alphabet \[([A-Z]+-\d+)\]$")]
fn every_code(w: &mut CheckWorld, rule: String) {
    let bad: Vec<String> = w.codes.iter().map(|(_, c)| c.clone()).filter(|c| !is_code(c)).collect();
    let issued = w.codes.len();
    w.check(&rule, issued > 0 && bad.is_empty(), || format!("codes outside the alphabet: {bad:?} (of {issued})"));
}

#[then(regex = r"^the new code differs from the first \[([A-Z]+-\d+)\]$")]
fn new_code_differs(w: &mut CheckWorld, rule: String) {
    let (first, latest) = (w.first_code(), w.latest_code(""));
    w.check(&rule, first != latest, || format!("the second request returned the same code {latest}"));
}

#[then(regex = r"^the codes of the devices are all different \[([A-Z]+-\d+)\]$")]
fn codes_distinct(w: &mut CheckWorld, rule: String) {
    let codes: Vec<String> = w.codes.iter().map(|(_, c)| c.clone()).collect();
    let distinct = codes.iter().collect::<HashSet<&String>>().len();
    let devices = w.devices.len();
    w.check(&rule, codes.len() == devices && distinct == codes.len(), || format!("live codes {codes:?} for {devices} devices"));
}

#[then(regex = r"^exactly one of those claims succeeded \[([A-Z]+-\d+)\]$")]
fn exactly_one(w: &mut CheckWorld, rule: String) {
    let statuses: Vec<Option<u16>> = w.burst.iter().map(|e| e.status).collect();
    let wins = statuses.iter().filter(|s| **s == Some(200)).count();
    w.check(&rule, wins == 1, || format!("expected exactly one 200, got {wins}: {statuses:?}"));
}

#[then(regex = r#"^every other claim got (\d+) "(\d{4})" "(.*)" \[([A-Z]+-\d+)\]$"#)]
fn every_other(w: &mut CheckWorld, status: u16, code: String, message: String, rule: String) {
    let others: Vec<String> = w
        .burst
        .iter()
        .filter(|e| e.status != Some(200))
        .filter(|e| {
            let v = e.json().unwrap_or(Value::Null);
            !(e.status == Some(status) && v["error"]["code"].as_str() == Some(&code) && v["error"]["message"].as_str() == Some(&message))
        })
        .map(|e| e.excerpt())
        .collect();
    w.check(&rule, others.is_empty(), || format!("expected {status} \"{code}\" \"{message}\" for the others, got {others:?}"));
}

#[then(regex = r"^every error had a different trace_id \[([A-Z]+-\d+)\]$")]
fn distinct_traces(w: &mut CheckWorld, rule: String) {
    let ids: Vec<String> =
        w.burst.iter().filter_map(|e| e.json()).filter_map(|v| v["error"]["trace_id"].as_str().map(str::to_owned)).collect();
    let distinct: HashSet<&String> = ids.iter().collect();
    w.check(&rule, ids.len() == w.burst.len() && distinct.len() == ids.len(), || format!("trace ids {ids:?}"));
}

#[then(regex = r"^every response had an X-Trace-Id header equal to its error trace_id \[([A-Z]+-\d+)\]$")]
fn headers_match(w: &mut CheckWorld, rule: String) {
    let ok = w.burst.iter().all(|e| {
        let body = e.json().and_then(|v| v["error"]["trace_id"].as_str().map(str::to_owned));
        body.is_some() && e.header("x-trace-id") == body.as_deref()
    });
    w.check(&rule, ok && !w.burst.is_empty(), || "X-Trace-Id missing or different from error.trace_id".into());
}

#[then(regex = r"^the response has an X-Trace-Id header \[([A-Z]+-\d+)\]$")]
fn has_trace_header(w: &mut CheckWorld, rule: String) {
    let ok = w.last().header("x-trace-id").is_some_and(|v| !v.is_empty());
    w.check(&rule, ok, || "no X-Trace-Id header".into());
}

#[then(regex = r"^no response was a 5xx \[([A-Z]+-\d+)\]$")]
fn no_5xx(w: &mut CheckWorld, rule: String) {
    let bad: Vec<String> = w.exchanges.iter().filter(|e| e.status.is_some_and(|s| s >= 500)).map(|e| e.excerpt()).collect();
    w.check(&rule, bad.is_empty(), || format!("5xx for bad input: {bad:?}"));
}

#[then(regex = r"^every response was a JSON object \[([A-Z]+-\d+)\]$")]
fn all_json(w: &mut CheckWorld, rule: String) {
    let bad: Vec<String> = w.exchanges.iter().filter(|e| !e.json().is_some_and(|v| v.is_object())).map(|e| e.excerpt()).collect();
    w.check(&rule, bad.is_empty(), || format!("bodies that are not JSON objects: {bad:?}"));
}

// ---- device state ---------------------------------------------------------------------------

#[then(
    regex = r#"^the device reads "(inactive|claimed|activated)", (not claimed|claimed), code "(none|pending|used|expired)" \[([A-Z]+-\d+)\]$"#
)]
async fn device_reads(w: &mut CheckWorld, device_status: String, claimed: String, code: String, rule: String) {
    let ex = super::pos(w, "", "status").await;
    let v = ex.json().unwrap_or(Value::Null);
    let expected = serde_json::json!({ "device_status": device_status, "is_claimed": claimed == "claimed", "pairing_code_status": code });
    let actual = serde_json::json!({ "device_status": v["device_status"], "is_claimed": v["is_claimed"], "pairing_code_status": v["pairing_code_status"] });
    w.check(&rule, ex.status == Some(200) && actual == expected, || {
        format!("expected status {expected}, got {} {actual}", status_text(ex.status))
    });
}

#[then(regex = r"^bootstrap's server_time moved by (\d+) seconds \[([A-Z]+-\d+)\]$")]
async fn server_time_moved(w: &mut CheckWorld, seconds: i64, rule: String) {
    let before = w.exchanges.iter().rev().find(|e| e.url.ends_with("/pos/bootstrap") && e.status == Some(200)).and_then(|e| e.json());
    let after = super::pos(w, "", "bootstrap").await.json();
    let (Some(t0), Some(t1)) = (before.and_then(|v| parse_time(&v["server_time"])), after.and_then(|v| parse_time(&v["server_time"])))
    else {
        w.check(&rule, false, || "bootstrap gave no server_time".into());
        return;
    };
    let moved = (t1 - t0).whole_seconds();
    w.check(&rule, (seconds..=seconds + 2).contains(&moved), || {
        format!("server_time moved by {moved} s while the clock moved {seconds} s")
    });
}

// ---- tokens ---------------------------------------------------------------------------------

fn jwt_parts(token: &str) -> Option<(Value, Value)> {
    let mut parts = token.split('.');
    let decode = |p: Option<&str>| p.and_then(|p| URL_SAFE_NO_PAD.decode(p).ok()).and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    Some((decode(parts.next())?, decode(parts.next())?))
}

#[then(regex = r"^the access token is an RS256 JWT with a merchant_id claim \[([A-Z]+-\d+)\]$")]
fn token_shape(w: &mut CheckWorld, rule: String) {
    let token = w.last_json()["access_token"].as_str().unwrap_or_default().to_owned();
    let parts = jwt_parts(&token);
    let ok = parts
        .as_ref()
        .is_some_and(|(h, p)| h["alg"] == "RS256" && p["merchant_id"].is_string() && p["exp"].is_i64() && p["iss"].is_string());
    w.check(&rule, ok, || format!("expected an RS256 JWT with merchant_id, exp and iss, got {parts:?}"));
}

#[then(regex = r"^the JWKS of the token's issuer verifies the token \[([A-Z]+-\d+)\]$")]
async fn jwks_verifies(w: &mut CheckWorld, rule: String) {
    let token = w.last_json()["access_token"].as_str().unwrap_or_default().to_owned();
    let Some((header, payload)) = jwt_parts(&token) else {
        w.check(&rule, false, || "the access token is not a JWT".into());
        return;
    };
    let issuer = payload["iss"].as_str().unwrap_or_default().to_owned();
    // AUTH-03: Keycloak's path under the issuer, which is {base}/realms/{realm}.
    let realm_path = issuer.find("/realms/").map(|i| issuer[i..].to_owned()).unwrap_or_default();
    let ex = w.send(ApiRequest::new("GET", &format!("{realm_path}/protocol/openid-connect/certs"))).await;
    let jwks = ex.json().unwrap_or(Value::Null);
    let key = jwks["keys"].as_array().into_iter().flatten().find(|k| k["kid"] == header["kid"] || header["kid"].is_null());
    let verified =
        key.and_then(|k| jsonwebtoken::DecodingKey::from_rsa_components(k["n"].as_str()?, k["e"].as_str()?).ok()).is_some_and(|key| {
            let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
            v.validate_exp = false;
            v.validate_aud = false;
            v.required_spec_claims.clear();
            jsonwebtoken::decode::<Value>(&token, &key, &v).is_ok()
        });
    w.check(&rule, verified, || format!("no key in {issuer}/protocol/openid-connect/certs verifies the token ({})", ex.excerpt()));
}

#[then(regex = r"^the request carried no authentication \[([A-Z]+-\d+)\]$")]
fn no_auth(w: &mut CheckWorld, rule: String) {
    let sent_auth = w.last().request_headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("authorization"));
    let status = w.last().status;
    w.check(&rule, !sent_auth && status == Some(200), || format!("expected 200 without authentication, got {}", status_text(status)));
}
