//! Step definitions: the vocabulary of `features/*.feature`. Every `Then` step names the rule it
//! checks in brackets (`Then the status is 200 [BOOT-01]`); the rule's level in `rules.toml`
//! decides whether a difference fails the scenario or is an advisory.
//!
//! Requests whose answer the shared model predicts (bootstrap, pairing code, status, claims) are
//! judged by it as they are sent, exactly as the fuzzer judges them; the `Then` steps then check
//! the simulator's answer literally.
//!
//! Devices are named by the step: `the device` is `""` (cucumber passes an unmatched optional
//! group as an empty string), `device "D2"` is `D2`.

mod activation;
mod given;
mod then;
mod tokens;
mod when;

use serde_json::{Value, json};

use crate::client::ApiRequest;
use crate::exchange::Exchange;
use crate::model::{ContentType, Expect, Malformed, Outcome, PosEndpoint};
use crate::session::Session;
use crate::world::{CheckWorld, harness_error};

/// `bootstrap`, `pairing-code`, `status` → method, path and endpoint.
pub fn endpoint(name: &str) -> (&'static str, &'static str, PosEndpoint) {
    match PosEndpoint::parse(name) {
        Some(e) => (e.route().0, e.route().1, e),
        None => harness_error!("unknown endpoint `{name}`: use bootstrap, pairing-code or status"),
    }
}

/// An optional `N times` count: absent means once.
pub fn count(times: &str) -> usize {
    times.parse().unwrap_or(1)
}

/// What the model predicts for a POS request of the named device, if it follows the device.
fn pos_expect(w: &mut CheckWorld, name: &str, endpoint: PosEndpoint) -> Option<Expect> {
    let device = w.device(name);
    if let Some(d) = w.modeled(name) {
        return Some(match endpoint {
            PosEndpoint::Bootstrap => w.model.bootstrap(d),
            PosEndpoint::Status => w.model.status(d),
            PosEndpoint::PairingCode if w.fault_armed.as_deref() == Some(device.as_str()) => {
                w.fault_armed = None;
                Expect::only("PAIR-08", Outcome::error("failed", 500, "5000", "Failed to create pairing code"))
            }
            PosEndpoint::PairingCode => w.model.request_code(d),
        });
    }
    (device == w.target().unknown_device).then(|| w.model.unknown_device(endpoint, &device))
}

/// A well-formed POS request of the named device, judged by the model; the model follows what the
/// target answered (a code issued, a status read).
pub async fn pos_call(w: &mut CheckWorld, name: &str, endpoint: PosEndpoint, req: ApiRequest) -> Exchange {
    let Some(expect) = pos_expect(w, name, endpoint) else { return w.send(req).await };
    let (ex, label) = w.judged(req, &expect).await;
    if let Some(d) = w.modeled(name) {
        match endpoint {
            PosEndpoint::Status => w.model.status_read(d, label),
            // Follow what the target did even where it broke a rule: a baselined (known) break
            // goes on, and its later checks must be judged against the real state.
            PosEndpoint::PairingCode if label == "issued" || ex.status == Some(200) => {
                if let Some(code) = ex.json().and_then(|v| v["pairing_code"].as_str().map(str::to_owned)) {
                    w.model.issued(d, code);
                }
            }
            _ => {}
        }
    }
    ex
}

/// The documented POS request of the named device to `endpoint`.
pub async fn pos(w: &mut CheckWorld, name: &str, endpoint_name: &str) -> Exchange {
    let (method, path, endpoint) = endpoint(endpoint_name);
    let req = Session::pos(method, path, &w.device(name));
    pos_call(w, name, endpoint, req).await
}

/// Requests a pairing code for the named device; returns the code if one was issued.
pub async fn request_code(w: &mut CheckWorld, name: &str) -> Option<String> {
    let ex = pos(w, name, "pairing-code").await;
    let code = ex.json().and_then(|v| v["pairing_code"].as_str().map(str::to_owned)).filter(|_| ex.status == Some(200));
    if let Some(code) = &code {
        w.codes.push((name.to_owned(), code.clone()));
    }
    code
}

fn merchant_index(w: &CheckWorld, label: &str) -> usize {
    match w.target().merchants.iter().position(|m| m.label == label) {
        Some(i) => i,
        None => harness_error!("no merchant {label}: scenarios use merchants A and B"),
    }
}

/// The model's (device, code) of a code value, when the model follows that device.
fn followed_code(w: &CheckWorld, value: &str) -> Option<(usize, usize)> {
    let (d, k) = w.code_index(value)?;
    w.devices.values().any(|(_, i)| *i == Some(d)).then_some((d, k))
}

/// How a claim body reads to the model.
enum ClaimBody {
    /// `{"pairing_code": "<string>", …}`, with `device_id` if the body names one (CLAIM-14).
    Code {
        value: String,
        device_id: Option<String>,
    },
    Malformed(Malformed),
    /// Valid JSON that serde refuses (a lone surrogate): what a server makes of it is its own.
    Unmodeled,
}

fn classify(body: &str) -> ClaimBody {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return if crate::json::parse(body).is_some() { ClaimBody::Unmodeled } else { ClaimBody::Malformed(Malformed::BrokenJson) };
    };
    let Some(object) = v.as_object() else { return ClaimBody::Malformed(Malformed::NotAnObject) };
    match object.get("pairing_code") {
        None => ClaimBody::Malformed(Malformed::MissingCode),
        Some(Value::Null) => ClaimBody::Malformed(Malformed::NullCode),
        Some(Value::String(s)) if s.is_empty() => ClaimBody::Malformed(Malformed::EmptyCode),
        Some(Value::String(s)) => {
            ClaimBody::Code { value: s.clone(), device_id: object.get("device_id").and_then(Value::as_str).map(str::to_owned) }
        }
        Some(_) => ClaimBody::Malformed(Malformed::NotAString),
    }
}

/// What the model predicts for a claim by merchant `label` with a valid token.
fn claim_expect(w: &CheckWorld, label: &str, body: &str, content_type: &ContentType) -> (Option<Expect>, Option<(usize, usize)>) {
    let m = merchant_index(w, label);
    match classify(body) {
        ClaimBody::Code { value, device_id } => {
            let exact = followed_code(w, &value);
            let normalised = followed_code(w, &value.trim().to_uppercase());
            let expect = match (exact, normalised, device_id) {
                (Some((d, k)), _, Some(named)) => Some(w.model.claim_naming(m, d, k, &named)),
                (Some((d, k)), _, None) => Some(w.model.claim_with_content_type(m, d, k, content_type)),
                (None, Some((d, k)), None) if content_type.is_json() => Some(w.model.claim_unnormalised(m, d, k)),
                // A value no followed device was issued: unknown, unless the model lost track of a
                // device whose codes it no longer knows.
                (None, None, None) if content_type.is_json() && w.devices.values().all(|(_, i)| i.is_some()) => {
                    Some(w.model.unknown(&value))
                }
                _ => None,
            };
            (expect, exact.or(normalised))
        }
        ClaimBody::Malformed(kind) if content_type.is_json() => (Some(w.model.malformed(kind)), None),
        _ => (None, None),
    }
}

/// A claim by merchant `label` with a valid token, a `Content-Type` and a raw body, judged by the
/// model where it predicts the answer.
pub async fn claim_with(w: &mut CheckWorld, label: &str, content_type: ContentType, body: String) -> Exchange {
    let token = w.token(label).await;
    let req = Session::claim(Some(&format!("Bearer {token}")), &content_type, body.clone());
    let (expect, code) = claim_expect(w, label, &body, &content_type);
    let expect = match (expect, std::mem::take(&mut w.uninitiated)) {
        (Some(e), true) => Some(e.or_differs(crate::model::allowed::Outcome::refusal("refused"), "AUTH-11")),
        (e, _) => e,
    };
    let Some(expect) = expect else { return w.send(req).await };
    let (ex, branch) = w.judged(req, &expect).await;
    if let Some((d, k)) = code {
        w.model.claim_answered(d, k, branch, ex.status);
    }
    ex
}

/// The documented claim of `code` by merchant `label`.
pub async fn claim_code(w: &mut CheckWorld, label: &str, code: &str) -> Exchange {
    claim_with(w, label, ContentType::Json, json!({ "pairing_code": code }).to_string()).await
}

/// A claim with a bad `Authorization` value (or none): refused, and nothing changes (CLAIM-03,
/// CLAIM-17).
pub async fn claim_refused_token(w: &mut CheckWorld, authorization: Option<String>, code: &str) -> Exchange {
    let req = Session::claim(authorization.as_deref(), &ContentType::Json, json!({ "pairing_code": code }).to_string());
    let expect = w.model.bad_token();
    let (ex, branch) = w.judged(req, &expect).await;
    if let Some((d, k)) = followed_code(w, code) {
        w.model.claim_answered(d, k, branch, ex.status);
    }
    ex
}
