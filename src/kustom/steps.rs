//! Kustom's Gherkin steps. `When` steps send one request each; those the model predicts are
//! judged through it (as in fuzz). `Then` steps check one rule each, named in brackets.

use cucumber::{then, when};
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::model::Filter;
use super::world::{KustomWorld, json_of};
use crate::judge::harness_error;

fn basic(w: &KustomWorld, label: &str) -> (String, String) {
    let m = &w.target().merchants[w.merchant(label)];
    (format!("Basic {}", m.key), m.id.clone())
}

fn method(m: &str) -> Method {
    Method::from_bytes(m.as_bytes()).unwrap_or_else(|_| harness_error!("`{m}` is not an HTTP method"))
}

/// KEN-10's expected location for a body: the one it names, else the merchant's only one.
fn expected_location(w: &KustomWorld, merchant: usize, body: &Map<String, Value>) -> String {
    match body.get("location_id").and_then(Value::as_str) {
        Some(l) => l.to_lowercase(),
        None => w.target().merchants[merchant]
            .locations
            .first()
            .cloned()
            .filter(|_| w.target().merchants[merchant].locations.len() == 1)
            .unwrap_or_default(),
    }
}

async fn enroll(w: &mut KustomWorld, label: &str, name: Option<String>, body: Value) {
    let merchant = w.merchant(label);
    let (auth, _) = basic(w, label);
    let sent = body.as_object().cloned().unwrap_or_default();
    let answer = w.send(Method::POST, "/ipp/v1/enrollments", &[("authorization", auth)], Some(body.to_string())).await;
    // Only a body the model understands is judged (the scenarios of refusals check literally).
    let valid_shape = sent
        .get("location_id")
        .is_none_or(|l| l.as_str().is_some_and(|s| w.target().merchants[merchant].locations.iter().any(|o| o.eq_ignore_ascii_case(s))))
        && sent.get("metadata").is_none_or(Value::is_object)
        && !(sent.contains_key("expires_in") && sent.contains_key("ttl"))
        && sent.get("expires_in").is_none_or(|v| v.as_u64().is_some_and(|n| (1_000..=259_200_000).contains(&n)))
        && sent
            .get("ttl")
            .is_none_or(|v| matches!(v.as_str(), Some("TWO_HOURS" | "TWENTY_FOUR_HOURS" | "FORTY_EIGHT_HOURS" | "SEVENTY_TWO_HOURS")));
    if !valid_shape {
        w.unmodeled |= answer.success();
        return;
    }
    let before = w.model.enrollments.len();
    let mut notes = Vec::new();
    // KEN-10: the simulator refuses a merchant of several locations an enrollment that names
    // none (KEN-20); a real server may default one, or none (KEN-16): both are followed.
    if !sent.contains_key("location_id") && !merchant_has_one_location(w, merchant) && answer.refusal() {
        w.judged(vec![crate::judge::Ruling::branch(
            "KEN-10",
            format!("no location named for a merchant of several: {}", answer.excerpt()),
        )]);
        return;
    }
    let location = expected_location(w, merchant, &sent);
    w.model.enrolled(merchant, &location, &sent, &answer, &mut notes);
    w.judged(notes);
    if let Some(name) = name
        && w.model.enrollments.len() > before
    {
        w.enrollments.insert(name, before);
    }
}

fn merchant_has_one_location(w: &KustomWorld, merchant: usize) -> bool {
    w.target().merchants[merchant].locations.len() == 1
}

#[when(regex = r#"^merchant (A|B) creates an enrollment(?: "(\w+)")?$"#)]
async fn enroll_plain(w: &mut KustomWorld, label: String, name: String) {
    let name = (!name.is_empty()).then_some(name);
    enroll(w, &label, name, json!({})).await;
}

#[when(regex = r#"^merchant (A|B) creates an enrollment(?: "(\w+)")? with (\{.*\})$"#)]
async fn enroll_with(w: &mut KustomWorld, label: String, name: String, body: String) {
    let name = (!name.is_empty()).then_some(name);
    let body = json_of(w, &body);
    enroll(w, &label, name, body).await;
}

async fn register(w: &mut KustomWorld, device: String, enrollment: String, extra: Value) {
    let e = w.enrollment(&enrollment);
    w.hardware += 1;
    let mut body = json!({"enrollment_code": w.model.enrollments[e].code, "hardware_id": format!("HW-{}-{:04}", w.run, w.hardware), "platform": "ANDROID"});
    if let (Some(b), Some(x)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(x.clone());
    }
    let path = w.registration_path();
    let answer = w.send(Method::POST, &path, &[], Some(body.to_string())).await;
    let same_hardware = w.model.devices.iter().any(|d| d.registered && body["hardware_id"] == d.hardware.as_str());
    if same_hardware || extra.get("enrollment_code").is_some() {
        w.unmodeled |= answer.success();
        return;
    }
    let before = w.model.devices.len();
    let mut notes = Vec::new();
    w.model.registered(e, &answer, &mut notes);
    if let Some(d) = w.model.devices.get_mut(before) {
        d.hardware = body["hardware_id"].as_str().unwrap_or_default().to_owned();
    }
    w.judged(notes);
    if w.model.devices.len() > before {
        w.devices.insert(device, before);
    }
}

#[when(regex = r#"^the POS app registers "(\w+)" with the code of "(\w+)"$"#)]
async fn register_plain(w: &mut KustomWorld, device: String, enrollment: String) {
    register(w, device, enrollment, json!({})).await;
}

#[when(regex = r#"^the POS app registers "(\w+)" with the code of "(\w+)" and (\{.*\})$"#)]
async fn register_with(w: &mut KustomWorld, device: String, enrollment: String, extra: String) {
    let extra = json_of(w, &extra);
    register(w, device, enrollment, extra).await;
}

/// The filters of a list query the model follows.
fn filter_of(query: &str) -> Option<Filter> {
    let mut f = Filter { include_consumed: true, ..Filter::default() };
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "metadata" => {
                let (key, value) = v.split_once(':')?;
                if f.metadata.insert(key.to_owned(), json!(value)).is_some() {
                    return None;
                }
            }
            "location_id" => f.location = Some(v.to_lowercase()),
            "include_consumed" if v.eq_ignore_ascii_case("false") => f.include_consumed = false,
            "include_consumed" if v.eq_ignore_ascii_case("true") => {}
            "page_size" | "page_number" => return None,
            _ => return None,
        }
    }
    Some(f)
}

async fn list(w: &mut KustomWorld, label: String, what: &str, query: String) {
    let merchant = w.merchant(&label);
    let (auth, mid) = basic(w, &label);
    let query = w.expand(&query);
    let path = if query.is_empty() { format!("/ipp/v1/{what}") } else { format!("/ipp/v1/{what}?{query}") };
    let answer = w.send(Method::GET, &path, &[("authorization", auth), ("x-merchant-id", mid)], None).await;
    let Some(filter) = filter_of(&query) else { return };
    if w.unmodeled {
        return;
    }
    let mut notes = Vec::new();
    if what == "enrollments" {
        w.model.listed_enrollments(merchant, &filter, &answer, &mut notes);
    } else if what == "devices" {
        w.model.listed_devices(merchant, &filter, &answer, &mut notes);
    }
    w.judged(notes);
}

#[when(regex = r#"^merchant (A|B) lists (enrollments|devices|locations)(?: with "(.*)")?$"#)]
async fn list_step(w: &mut KustomWorld, label: String, what: String, query: String) {
    list(w, label, &what, query).await;
}

#[when(regex = r#"^merchant (A|B) cancels "(\w+)"$"#)]
async fn cancel(w: &mut KustomWorld, label: String, name: String) {
    let e = w.enrollment(&name);
    let (auth, _) = basic(w, &label);
    let path = format!("/ipp/v1/enrollments/{}", w.model.enrollments[e].id);
    let answer = w.send(Method::DELETE, &path, &[("authorization", auth)], None).await;
    if w.model.enrollments[e].merchant == w.merchant(&label) {
        let mut notes = Vec::new();
        w.model.cancelled(e, &answer, &mut notes);
        w.judged(notes);
    }
}

#[when(regex = r#"^merchant (A|B) updates "(\w+)" with (\{.*\})$"#)]
async fn update(w: &mut KustomWorld, label: String, name: String, body: String) {
    let d = w.device(&name);
    let body = json_of(w, &body);
    let (auth, _) = basic(w, &label);
    let path = format!("/ipp/v1/devices/{}", w.model.devices[d].id);
    let answer = w.send(Method::PUT, &path, &[("authorization", auth)], Some(body.to_string())).await;
    // Judged only with every member sent, where replace and patch agree (KDEV-16).
    let sent = body.as_object().cloned().unwrap_or_default();
    let full = ["name", "metadata", "location_id"].iter().all(|k| sent.contains_key(*k));
    let merchant = w.merchant(&label);
    let valid = sent.get("name").and_then(Value::as_str).is_some_and(|n| (1..=128).contains(&n.chars().count()))
        && sent.get("metadata").and_then(Value::as_object).is_some_and(|m| m.values().all(Value::is_string))
        && sent
            .get("location_id")
            .and_then(Value::as_str)
            .is_some_and(|l| w.target().merchants[merchant].locations.contains(&l.to_lowercase()));
    if full && valid && w.model.devices[d].merchant == merchant {
        let mut notes = Vec::new();
        w.model.updated(d, &sent, &answer, &mut notes);
        w.judged(notes);
    }
}

#[when(regex = r#"^merchant (A|B) deregisters "(\w+)"$"#)]
async fn deregister(w: &mut KustomWorld, label: String, name: String) {
    let d = w.device(&name);
    let (auth, _) = basic(w, &label);
    let path = format!("/ipp/v1/devices/{}", w.model.devices[d].id);
    let answer = w.send(Method::DELETE, &path, &[("authorization", auth)], None).await;
    if w.model.devices[d].merchant == w.merchant(&label) {
        let mut notes = Vec::new();
        w.model.deregistered(d, &answer, &mut notes);
        w.judged(notes);
    }
}

#[when(regex = r#"^device "(\w+)" reads its own record$"#)]
async fn me(w: &mut KustomWorld, name: String) {
    let d = w.device(&name);
    let auth = format!("Bearer {}", w.model.devices[d].token);
    let answer = w.send(Method::GET, "/ipp/v1/devices/me", &[("authorization", auth)], None).await;
    let mut notes = Vec::new();
    w.model.me(d, &answer, &mut notes);
    w.judged(notes);
}

#[when(regex = r"^the clock moves (\d+) seconds?(?: on)?$")]
async fn advance(w: &mut KustomWorld, seconds: u64) {
    if !w.target().clock {
        // A real clock: a few seconds are waited out (the runner lets only such scenarios run,
        // REAL_WAIT_LIMIT); the model counts real time on such a target.
        if seconds > super::run::REAL_WAIT_LIMIT {
            crate::judge::Stop::NotApplicable("needs the target's clock moved (a simulator's /_sim/clock)".into()).raise();
        }
        tokio::time::sleep(std::time::Duration::from_secs(seconds)).await;
        return;
    }
    if let Err(e) = w.target().advance(seconds).await {
        harness_error!("cannot move the clock: {e}");
    }
    w.model.clock.moved(seconds as f64);
}

/// A request written out: method, path, headers (JSON object) and body (text), placeholders
/// expanded; `merchant A` adds its key as `Authorization: Basic`.
async fn raw(w: &mut KustomWorld, who: Option<String>, m: String, path: String, headers: Option<String>, body: Option<String>) {
    let mut path = w.expand(&path);
    // KFLOW-04: registration goes through the target's own request; the testing endpoints only on
    // a playground (KREG-26).
    if path == "/ipp/v1/devices/register" {
        path = w.registration_path();
    }
    if path.starts_with("/ipp/v1/dev/") && !w.target().playground {
        crate::judge::Stop::NotApplicable("the testing endpoints are called on a playground only (KREG-26)".into()).raise();
    }
    let extra: Vec<(String, String)> = headers
        .map(|t| {
            json_of(w, &t)
                .as_object()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let mut h: Vec<(&str, String)> = extra.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    if let Some(label) = &who
        && !extra.iter().any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
    {
        let (auth, _) = basic(w, label);
        h.push(("authorization", auth));
    }
    let body = body.map(|b| w.expand(&b));
    let creates = method(&m) == Method::POST && !path.contains("/_sim/");
    let answer = w.send(method(&m), &path, &h, body).await;
    w.unmodeled |= creates && answer.success();
}

#[when(regex = r#"^merchant (A|B) sends (GET|POST|PUT|DELETE|PATCH) "([^"]*)"(?: with headers (\{.*?\}))?(?: and body (.*))?$"#)]
async fn merchant_raw(w: &mut KustomWorld, label: String, m: String, path: String, headers: String, body: String) {
    let headers = (!headers.is_empty()).then_some(headers);
    let body = (!body.is_empty()).then_some(body);
    raw(w, Some(label), m, path, headers, body).await;
}

#[when(regex = r#"^someone sends (GET|POST|PUT|DELETE|PATCH) "([^"]*)"(?: with headers (\{.*?\}))?(?: and body (.*))?$"#)]
async fn anonymous_raw(w: &mut KustomWorld, m: String, path: String, headers: String, body: String) {
    let headers = (!headers.is_empty()).then_some(headers);
    let body = (!body.is_empty()).then_some(body);
    raw(w, None, m, path, headers, body).await;
}

// ---- Then ------------------------------------------------------------------------------------

#[then(regex = r"^the answer is (\d{3}) \[([A-Z]+-\d+)\]$")]
fn status_is(w: &mut KustomWorld, status: u16, rule: String) {
    let got = w.last().excerpt();
    let ok = w.last().status == status;
    w.check(&rule, ok, || format!("expected {status}; got {got}"));
}

#[then(regex = r"^the answer is a success \[([A-Z]+-\d+)\]$")]
fn success(w: &mut KustomWorld, rule: String) {
    let got = w.last().excerpt();
    let ok = w.last().success();
    w.check(&rule, ok, || format!("expected a 2xx; got {got}"));
}

#[then(regex = r"^the answer is a refusal \[([A-Z]+-\d+)\]$")]
fn refusal(w: &mut KustomWorld, rule: String) {
    let got = w.last().excerpt();
    let ok = w.last().refusal();
    w.check(&rule, ok, || format!("expected a 4xx refusal; got {got}"));
}

#[then(regex = r#"^the problem is (\d{3}) "(.*)" \[([A-Z]+-\d+)\]$"#)]
fn problem_is(w: &mut KustomWorld, status: u16, detail: String, rule: String) {
    let a = w.last().clone();
    let ok = a.status == status && a.content_type.starts_with("application/problem+json") && a.body["detail"] == detail.as_str();
    w.check(&rule, ok, || format!("expected {status} problem details {detail:?}; got {}", a.excerpt()));
}

#[then(regex = r#"^the problem names (.+) \[([A-Z]+-\d+)\]$"#)]
fn problem_names(w: &mut KustomWorld, names: String, rule: String) {
    let a = w.last().clone();
    let mut want: Vec<String> = names.split(", ").map(|n| n.trim_matches('"').to_owned()).collect();
    want.sort();
    let mut got: Vec<String> = a.body["errors"].as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    got.sort();
    let ok = a.status == 400 && a.body["detail"] == "Invalid request content." && got == want;
    w.check(&rule, ok, || format!("expected 400 `Validation Failed` naming {want:?}; got {}", a.excerpt()));
}

#[then(regex = r#"^the header "([\w-]+)" is "(.*)" \[([A-Z]+-\d+)\]$"#)]
fn header_is(w: &mut KustomWorld, name: String, value: String, rule: String) {
    let value = value.replace("\\\"", "\"");
    let got = w.last.as_ref().and_then(|(_, e)| e.header(&name).map(str::to_owned));
    w.check(&rule, got.as_deref() == Some(value.as_str()), || format!("expected {name}: {value}; got {got:?}"));
}

#[then(regex = r#"^the answer's "(/[^"]*)" is (.+) \[([A-Z]+-\d+)\]$"#)]
fn pointer_is(w: &mut KustomWorld, pointer: String, value: String, rule: String) {
    let want = json_of(w, &value);
    let got = w.last().body.pointer(&pointer).cloned().unwrap_or(Value::Null);
    w.check(&rule, got == want, || format!("expected {pointer} = {want}; got {got}"));
}

#[then(regex = r#"^the answer's "(/[^"]*)" matches "(.+)" \[([A-Z]+-\d+)\]$"#)]
fn pointer_matches(w: &mut KustomWorld, pointer: String, pattern: String, rule: String) {
    let pattern = w.expand(&pattern);
    let re = regex::Regex::new(&pattern).unwrap_or_else(|e| harness_error!("`{pattern}` is not a regex: {e}"));
    let got = w.last().body.pointer(&pointer).cloned().unwrap_or(Value::Null);
    let text = got.as_str().map_or_else(|| got.to_string(), str::to_owned);
    w.check(&rule, re.is_match(&text), || format!("expected {pointer} to match {pattern}; got {got}"));
}

#[then(regex = r#"^the answer has exactly the members (.+) \[([A-Z]+-\d+)\]$"#)]
fn members(w: &mut KustomWorld, list: String, rule: String) {
    let mut want: Vec<String> = list.split(", ").map(|n| n.trim_matches('"').to_owned()).collect();
    want.sort();
    let mut got: Vec<String> = w.last().body.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    got.sort();
    w.check(&rule, got == want, || format!("expected the members {want:?}; got {got:?}"));
}

/// KDEV-04: the answer is the record of device `name`, by its id (`id`, or the seed's
/// `device_id`).
#[then(regex = r#"^the answer is the record of device "(\w+)" \[([A-Z]+-\d+)\]$"#)]
fn is_device_record(w: &mut KustomWorld, name: String, rule: String) {
    let id = record_id(w, "device", &name);
    let got = super::model::device_id(&w.last().body).map(str::to_owned);
    w.check(&rule, got.as_deref() == Some(id.as_str()), || format!("expected the record of {name} ({id}); its id reads {got:?}"));
}

/// The id of the scenario's enrollment or device `name`.
fn record_id(w: &KustomWorld, kind: &str, name: &str) -> String {
    if kind == "enrollment" { w.model.enrollments[w.enrollment(name)].id.clone() } else { w.model.devices[w.device(name)].id.clone() }
}

/// Whether a list item is that record (a device's id is `id` or the seed's `device_id`).
fn is_record(item: &Value, kind: &str, id: &str) -> bool {
    if kind == "enrollment" { item["enrollment_id"] == id } else { super::model::device_id(item) == Some(id) }
}

#[then(regex = r#"^(enrollment|device) "(\w+)" is (listed|not listed) \[([A-Z]+-\d+)\]$"#)]
fn listed(w: &mut KustomWorld, kind: String, name: String, how: String, rule: String) {
    let id = record_id(w, &kind, &name);
    let present = w.last().body["content"].as_array().is_some_and(|c| c.iter().any(|x| is_record(x, &kind, &id)));
    let want = how == "listed";
    w.check(&rule, present == want, || format!("expected {kind} {name} ({id}) {how}"));
}

#[then(regex = r"^the list holds (\d+) \[([A-Z]+-\d+)\]$")]
fn list_holds(w: &mut KustomWorld, n: usize, rule: String) {
    let got = w.last().body["content"].as_array().map_or(0, Vec::len);
    w.check(&rule, got == n, || format!("expected {n} items; got {got}"));
}

#[then(regex = r#"^the (enrollment|device) "(\w+)" reads (.+) at "(/[^"]*)" \[([A-Z]+-\d+)\]$"#)]
fn record_reads(w: &mut KustomWorld, kind: String, name: String, value: String, pointer: String, rule: String) {
    let id = record_id(w, &kind, &name);
    let want = json_of(w, &value);
    let item = w.last().body["content"]
        .as_array()
        .and_then(|c| c.iter().find(|x| is_record(x, &kind, &id)).cloned())
        .unwrap_or_else(|| w.last().body.clone());
    let got = item.pointer(&pointer).cloned().unwrap_or(Value::Null);
    w.check(&rule, got == want, || format!("expected {kind} {name}'s {pointer} = {want}; got {got}"));
}

#[then(regex = r#"^the codes of (.+) differ \[([A-Z]+-\d+)\]$"#)]
fn codes_differ(w: &mut KustomWorld, names: String, rule: String) {
    let codes: Vec<String> = names
        .split([',', ' '])
        .map(|n| n.trim_matches('"'))
        .filter(|n| !n.is_empty() && *n != "and")
        .map(|n| w.model.enrollments[w.enrollment(n)].code.clone())
        .collect();
    let unique: std::collections::BTreeSet<&String> = codes.iter().collect();
    w.check(&rule, unique.len() == codes.len(), || format!("codes repeat among pending enrollments: {codes:?}"));
}

#[when(regex = r#"^(\d+) POS apps register with the code of "(\w+)" at once$"#)]
async fn burst(w: &mut KustomWorld, n: usize, name: String) {
    let e = w.enrollment(&name);
    let code = w.model.enrollments[e].code.clone();
    let path = w.registration_path();
    // The target is reset before the scenario's first request, which came before this one.
    let target = w.target();
    let sends = (0..n).map(|i| {
        let body = json!({"enrollment_code": code, "hardware_id": format!("RACE-{}-{i}", w.run), "platform": "IOS"}).to_string();
        target.exchange(Method::POST, &path, &[], Some(body))
    });
    let answers = futures::future::join_all(sends).await;
    w.core.requests += n;
    w.burst = answers.into_iter().map(|a| a.map(|(a, _)| a.status).unwrap_or(0)).collect();
}

#[then(regex = r"^exactly one registration succeeds \[([A-Z]+-\d+)\]$")]
fn one_succeeds(w: &mut KustomWorld, rule: String) {
    let statuses = w.burst.clone();
    let ok = statuses.iter().filter(|s| (200..300).contains(*s)).count() == 1 && statuses.iter().all(|s| (200..500).contains(s));
    w.check(&rule, ok, || format!("expected exactly one 2xx and refusals for the rest; got {statuses:?}"));
}

#[when(regex = r#"^someone sends POST "([^"]*)" with a body of (\d+) bytes$"#)]
async fn large(w: &mut KustomWorld, path: String, n: usize) {
    let path = w.expand(&path);
    w.send(Method::POST, &path, &[], Some("x".repeat(n))).await;
}

/// KAUTH-17: the realm's JWKS (`/realms/viopay/protocol/openid-connect/certs`, the simulator's
/// default realm) verifies the device token.
#[then(regex = r#"^the device token of "(\w+)" verifies against the realm's keys \[([A-Z]+-\d+)\]$"#)]
async fn token_verifies(w: &mut KustomWorld, name: String, rule: String) {
    let token = w.model.devices[w.device(&name)].token.clone();
    let jwks = w.send(Method::GET, "/realms/viopay/protocol/openid-connect/certs", &[], None).await.body;
    let verified = jwks["keys"].as_array().into_iter().flatten().any(|k| {
        let Ok(jwk) = serde_json::from_value::<jsonwebtoken::jwk::Jwk>(k.clone()) else { return false };
        let Ok(key) = jsonwebtoken::DecodingKey::from_jwk(&jwk) else { return false };
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.required_spec_claims.clear();
        v.validate_exp = false;
        v.validate_aud = false;
        jsonwebtoken::decode::<Value>(&token, &key, &v).is_ok()
    });
    w.check(&rule, verified, || "the device token does not verify against any key of the realm's JWKS".into());
}
