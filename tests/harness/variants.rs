//! The conformant-variant matrix: targets that keep every REQUIRED rule of the spec but choose
//! differently wherever it leaves room (SIMULATOR and UNKNOWN rules). The harness must pass each
//! with exit 0 from `run` and from `fuzz --cases 300`, with exactly the advisories listed here: a
//! harness is proven on the space of conformant backends, not on the simulator alone.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue, Method};
use parking_lot::Mutex;
use serde_json::{Value, json};
use viopay_check::client::{ApiRequest, Client};
use viopay_check::fuzz::{FuzzOptions, fuzz};
use viopay_check::verdict::ScenarioStatus;
use viopay_check::{Report, TargetSpec};
use viopay_sim::SimConfig;

use crate::common::*;

/// How the harness reaches a variant.
#[derive(Clone, Copy, Debug)]
pub enum Reach {
    /// `--target URL`: a simulator-like target whose tokens follow its clock.
    Simulator,
    /// `--profile` with `[clock] mode = "control"` and, unless declared, tokens on real time.
    ControlProfile { tokens_follow: bool },
}

pub struct Variant {
    pub config: SimConfig,
    pub breakage: Breakage,
    pub reach: Reach,
    /// The advisories `run` must report, exactly.
    pub run: &'static [&'static str],
    /// The advisories `fuzz --cases 300 --seed 1` must report, exactly.
    pub fuzz: &'static [&'static str],
}

impl Variant {
    pub fn new(breakage: Breakage, run: &'static [&'static str], fuzz: &'static [&'static str]) -> Self {
        Variant { config: sim_config(), breakage, reach: Reach::Simulator, run, fuzz }
    }
}

fn advisories_of_run(report: &Report) -> BTreeSet<String> {
    report.scenarios.iter().flat_map(|s| &s.findings).map(|f| f.rule.to_string()).collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// Provisions two merchants with `per_merchant` inactive devices each through the target's
/// control API, and describes them in a profile with a controllable clock.
async fn control_profile(base: &str, per_merchant: u32, tokens_follow: bool) -> tempfile::NamedTempFile {
    let client = Client::new(base, Duration::from_secs(10)).expect("client");
    let mut merchants = String::new();
    for label in ["a", "b"] {
        let m = client.send(&ApiRequest::new("POST", "/_sim/merchants").json(&json!({ "name": format!("variant {label}") }))).await;
        let m = m.json().expect("merchant");
        let d = client
            .send(&ApiRequest::new("POST", "/_sim/devices").json(&json!({ "merchant_id": m["id"], "count": per_merchant })))
            .await
            .json()
            .expect("devices");
        let ids: Vec<String> =
            d["device_ids"].as_array().expect("ids").iter().map(|i| format!("\"{}\"", i.as_str().unwrap_or_default())).collect();
        merchants.push_str(&format!(
            "[[merchants]]\nname = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\ndevices = [{}]\n",
            m["name"].as_str().unwrap_or_default(),
            m["client_id"].as_str().unwrap_or_default(),
            m["client_secret"].as_str().unwrap_or_default(),
            ids.join(", ")
        ));
    }
    let text = format!(
        "base_url = \"{base}\"\nunknown_device = \"POS-DEADBEEF\"\n[clock]\nmode = \"control\"\ntokens_follow = {tokens_follow}\n{merchants}"
    );
    let mut f = tempfile::Builder::new().suffix(".toml").tempfile().expect("temp file");
    f.write_all(text.as_bytes()).expect("write");
    f
}

async fn spec_for(server: &wiremock::MockServer, reach: Reach) -> (TargetSpec, Option<tempfile::NamedTempFile>) {
    match reach {
        Reach::Simulator => (TargetSpec::Simulator(server.uri()), None),
        Reach::ControlProfile { tokens_follow } => {
            let profile = control_profile(&server.uri(), 700, tokens_follow).await;
            (TargetSpec::Profile(profile.path().into()), Some(profile))
        }
    }
}

/// Runs `run` and `fuzz --cases 300` against the variant and checks both verdicts. Returns the
/// run's report for further checks.
pub fn passes(name: &str, v: Variant) -> Report {
    let rt = runtime();
    let server = rt.block_on(proxy_target(v.config, v.breakage));
    // A profile's pools list inactive devices, which a run uses up: each command gets its own.
    let (spec, _profile) = rt.block_on(spec_for(&server, v.reach));
    let report = rt.block_on(certify(spec, &options(None)));
    let problems: Vec<String> = report
        .scenarios
        .iter()
        .filter(|s| !matches!(s.status, ScenarioStatus::Passed | ScenarioStatus::Advisory | ScenarioStatus::NotApplicable(_)))
        .map(|s| format!("{}:{} {} {:?} {:?}", s.file, s.line, s.name, s.status, s.findings.iter().map(|f| &f.message).collect::<Vec<_>>()))
        .collect();
    assert!(problems.is_empty(), "{name}: false alarms from run:\n{}", problems.join("\n"));
    assert_eq!(report.exit_code, 0, "{name}");
    let expected: BTreeSet<String> = v.run.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(advisories_of_run(&report), expected, "{name}: run's advisories");

    // 300 cases: enough for the deep paths of steps 5–8 and the rarer ones of steps 1–4 (an expired
    // code replaced, then claimed by another merchant) in one seeded run.
    let opts = FuzzOptions {
        cases: 300,
        max_steps: 40,
        seed: Some(1),
        devices: 4,
        persist: None,
        request_timeout: Duration::from_secs(30),
        ..FuzzOptions::default()
    };
    let (spec, _profile) = rt.block_on(spec_for(&server, v.reach));
    let fz = fuzz(rt.handle(), &spec, &opts).expect("fuzz runs");
    println!(
        "{name}: fuzz --cases 300: {} cases, {} operations, {} requests in {:.2} s",
        fz.cases,
        fz.operations,
        fz.requests,
        fz.duration.as_secs_f64()
    );
    assert!(fz.failure.is_none() && fz.stopped.is_none(), "{name}: fuzz failed:\n{}", fz.render());
    assert_eq!(fz.exit_code(), 0);
    let got: BTreeSet<String> = fz.advisories.iter().map(|a| a.rule.to_string()).collect();
    let expected: BTreeSet<String> = v.fuzz.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(got, expected, "{name}: fuzz's advisories\n{}", fz.render());
    report
}

// ---- building blocks ------------------------------------------------------------------------

fn set_error(res: &mut ProxyResponse, status: u16, code: &str, message: &str, details: Option<Value>) {
    let trace = res.json()["error"]["trace_id"].as_str().map(str::to_owned).unwrap_or_else(|| "variant-trace".into());
    let mut error = json!({ "code": code, "message": message, "trace_id": trace });
    if let Some(d) = details {
        error["details"] = d;
    }
    res.status = status;
    res.set_json(&json!({ "error": error }));
    if let Ok(v) = HeaderValue::from_str(&trace) {
        res.headers.insert("x-trace-id", v);
    }
}

fn code_in(req: &ProxyRequest) -> Option<String> {
    serde_json::from_slice::<Value>(&req.body).ok().and_then(|v| v["pairing_code"].as_str().map(str::to_owned))
}

fn device_of(req: &ProxyRequest) -> String {
    req.headers.get("x-device-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// Remembers every code each device was issued, oldest first.
#[derive(Clone, Default)]
struct Issued(Arc<Mutex<HashMap<String, Vec<String>>>>);

impl Issued {
    fn track(&self, req: &ProxyRequest, res: &ProxyResponse) {
        if req.path == "/pos/pairing-code" && res.status == 200 {
            let code = res.json()["pairing_code"].as_str().unwrap_or_default().to_owned();
            self.0.lock().entry(device_of(req)).or_default().push(code);
        }
    }

    /// Whether `code` was issued to a device that has been issued a newer code since.
    fn replaced(&self, code: &str) -> bool {
        self.0.lock().values().any(|codes| codes.iter().rev().skip(1).any(|c| c == code))
    }
}

#[derive(Clone, Copy)]
enum TokenFormat {
    /// The simulator's own RS256 JWT, as issued.
    Simulator,
    /// An HS256 JWT of the variant's own, without `merchant_id`: opaque to the harness.
    Hs256,
}

#[derive(Clone, Copy)]
enum TokenClock {
    /// An identity provider on real time: the backend's test clock does not age its tokens.
    Real,
    /// Tokens expire on the simulator's (moved) clock.
    Simulator,
}

fn clock_now(clock: TokenClock, next: Next<'_>) -> f64 {
    match clock {
        TokenClock::Real => SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or_default(),
        TokenClock::Simulator => {
            let res = next(ProxyRequest { method: Method::GET, path: "/_sim/clock".into(), headers: HeaderMap::new(), body: Vec::new() });
            let now = res.json()["now"].as_str().unwrap_or_default().to_owned();
            time::OffsetDateTime::parse(&now, &time::format_description::well_known::Rfc3339)
                .map(|t| t.unix_timestamp() as f64)
                .unwrap_or_default()
        }
    }
}

fn sign_in_request(credentials: Vec<u8>) -> ProxyRequest {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    ProxyRequest { method: Method::POST, path: "/client/session".into(), headers, body: credentials }
}

/// An identity provider of the variant's own in front of the simulator: it issues its tokens,
/// judges their expiry on its clock, and swaps a valid one for a fresh simulator token on the way
/// in. `lifetime` is its `expires_in`; `no_jwks` hides the simulator's JWKS.
fn token_layer(format: TokenFormat, clock: TokenClock, lifetime: u64, no_jwks: bool) -> Breakage {
    // Token -> (the client's sign-in body, issue time on the layer's clock).
    type Issued = HashMap<String, (Vec<u8>, f64)>;
    let issued: Arc<Mutex<Issued>> = Arc::default();
    let serial = Arc::new(AtomicU64::new(0));
    Breakage::around(move |mut req, next| {
        if req.method == Method::POST && (req.path == "/client/session" || req.path == "/auth/token") {
            let mut res = next(req.clone());
            if res.status != 200 {
                return res;
            }
            let mut v = res.json();
            let token = match format {
                TokenFormat::Simulator => v["access_token"].as_str().unwrap_or_default().to_owned(),
                TokenFormat::Hs256 => {
                    let claims = json!({ "sub": "variant-client", "jti": serial.fetch_add(1, Ordering::Relaxed) });
                    let key = jsonwebtoken::EncodingKey::from_secret(b"the variant's own secret");
                    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), &claims, &key).expect("HS256")
                }
            };
            let now = clock_now(clock, next);
            issued.lock().insert(token.clone(), (req.body.clone(), now));
            v["access_token"] = json!(token);
            v["expires_in"] = json!(lifetime);
            res.set_json(&v);
            return res;
        }
        if no_jwks && req.path.starts_with("/realms/") {
            req.path = "/jwks-not-published".into();
            return next(req);
        }
        let bearer =
            req.headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::to_owned);
        let entry = bearer.and_then(|t| issued.lock().get(&t).cloned());
        if let Some((credentials, at)) = entry {
            let fresh = (clock_now(clock, next) - at < lifetime as f64)
                .then(|| next(sign_in_request(credentials)).json()["access_token"].as_str().map(str::to_owned))
                .flatten();
            let value = format!("Bearer {}", fresh.unwrap_or_else(|| "expired-variant-token".into()));
            if let Ok(v) = HeaderValue::from_str(&value) {
                req.headers.insert("authorization", v);
            }
        }
        next(req)
    })
}

/// Another wording for every message that is the simulator's choice (SIMULATOR-level messages).
/// Every error message the simulator chooses, in other words (the SIMULATOR rules that fix them).
pub fn reworded_breakage() -> Breakage {
    Breakage::after(|req, res| {
        let mut v = res.json();
        if let Some(text) = v["error"]["message"].as_str().and_then(|m| reworded(&req.path, m)) {
            v["error"]["message"] = json!(text);
            res.set_json(&v);
        }
    })
}

/// The run's advisories of [`reworded_breakage`]: each a SIMULATOR rule naming a message.
pub const REWORDED_RULES: &[&str] = &[
    "ACT-06", "ACT-07", "ATT-30", "ATT-31", "ATT-32", "ATT-33", "ATT-34", "ATT-38", "ATT-40", "ATT-41", "AUTH-07", "AUTH-13", "CLAIM-04",
    "ERR-09", "ERR-10", "ERR-11", "HDR-04", "HDR-07", "HDR-10", "HDR-11", "MSK-09", "MSK-10", "PAIR-10", "PAIR-11",
];

fn reworded(path: &str, message: &str) -> Option<&'static str> {
    Some(match message {
        "X-Device-Id header is invalid" => "Invalid device identifier",
        "User-Agent header must start with Viopay-POS/" => "Unsupported client",
        "X-Client-Type header must be pos" => "Unsupported client type",
        "Route not found" => "Not Found",
        "Method not allowed" => "Method Not Allowed",
        "Request body too large" => "Payload Too Large",
        "Device is already claimed" => "Device already paired",
        "Unauthorized" => "Token is not valid",
        "Invalid client credentials" => "invalid_client",
        "Device not found" if path == "/pos/pairing-code" => "Unknown device",
        "Invalid signature" => "Signature mismatch",
        "Nonce already used" => "Replay detected",
        "Timestamp outside the accepted window" => "Clock skew too large",
        "Invalid device key" => "Unknown key",
        "Device is not claimed" => "Device not paired",
        "Attestation token does not belong to this device" => "Forbidden",
        "Keys have not been issued" => "Keys missing",
        "Invalid envelope" => "Bad payload",
        "Device is not ready for activation" => "Not ready",
        _ => return None,
    })
}

// ---- the matrix ---------------------------------------------------------------------------

/// Issue 7, instance 2: a backend that decodes a JSON body sent as text/plain (CLAIM-24).
#[test]
fn any_content_type_accepted() {
    let report = passes("any Content-Type accepted", Variant::new(any_content_type_breakage(), &["CLAIM-24"], &["CLAIM-24"]));
    // Instance 5: the CLAIM-17 check that assumed the refusal is "not verified", not a failure.
    let cascade = report.scenarios.iter().flat_map(|s| &s.unverified).any(|u| u.rule == "CLAIM-17");
    assert!(cascade, "the cascade is reported as not verified");
}

#[test]
fn no_trace_id_header() {
    passes(
        "no X-Trace-Id header",
        Variant::new(
            Breakage::after(|_, res| {
                res.headers.remove("x-trace-id");
            }),
            &["ERR-08"],
            &["ERR-08"],
        ),
    );
}

/// Issue 7, instance 4: expired and superseded codes are forgotten once a newer code exists.
#[test]
fn replaced_codes_forgotten() {
    passes("expired and superseded codes forgotten on a new code", Variant::new(replaced_codes_breakage(), &["CODE-06"], &["CODE-06"]));
}

/// A backend that answers "not found" for any code a newer one replaced (CODE-06, Q-07).
pub fn replaced_codes_breakage() -> Breakage {
    let issued = Issued::default();
    Breakage::after(move |req, res| {
        issued.track(req, res);
        if req.path == "/pos/claim"
            && let Some(code) = code_in(req)
            && issued.replaced(&code)
        {
            set_error(res, 400, "4004", "Pairing code not found", Some(json!({ "pairing_code": code })));
        }
    })
}

/// A claim is read as JSON whatever its `Content-Type` (CLAIM-24).
pub fn any_content_type_breakage() -> Breakage {
    Breakage::before(|req| {
        if req.path == "/pos/claim" {
            req.headers.insert("content-type", HeaderValue::from_static("application/json"));
        }
    })
}

/// A code a newer one replaced is answered "expired" (4220) instead of "not found" (4004).
pub fn superseded_4220_breakage() -> Breakage {
    let issued = Issued::default();
    Breakage::after(move |req, res| {
        issued.track(req, res);
        if req.path == "/pos/claim" && res.json()["error"]["code"] == "4004" && code_in(req).is_some_and(|c| issued.replaced(&c)) {
            let details = res.json()["error"]["details"].clone();
            set_error(res, 400, "4220", "Pairing code has expired", Some(details));
        }
    })
}

#[test]
fn superseded_codes_answered_4220() {
    passes("superseded codes answered 4220", Variant::new(superseded_4220_breakage(), &[], &[]));
}

#[test]
fn not_found_instead_of_method_not_allowed() {
    passes(
        "404 instead of 405",
        Variant::new(
            Breakage::after(|_, res| {
                if res.status == 405 {
                    set_error(res, 404, "4004", "Route not found", None);
                }
            }),
            &["ERR-10"],
            &[],
        ),
    );
}

#[test]
fn bad_request_instead_of_payload_too_large() {
    passes(
        "400 instead of 413",
        Variant::new(
            Breakage::after(|_, res| {
                if res.status == 413 {
                    set_error(res, 400, "4000", "Invalid request body", Some(json!({ "message": "body too large" })));
                }
            }),
            &["ERR-11"],
            &[],
        ),
    );
}

#[test]
fn empty_details_instead_of_absent() {
    passes(
        "details {} instead of absent",
        Variant::new(
            Breakage::after(|_, res| {
                let mut v = res.json();
                if let Some(e) = v["error"].as_object_mut()
                    && !e.contains_key("details")
                {
                    e.insert("details".into(), json!({}));
                    res.set_json(&v);
                }
            }),
            &[],
            &[],
        ),
    );
}

/// CLAIM-23 is UNKNOWN: `details.pairing_code` may echo what was sent.
#[test]
fn raw_pairing_code_in_details() {
    passes("raw instead of normalised details.pairing_code", Variant::new(raw_code_details_breakage(), &[], &[]));
}

/// `details.pairing_code` echoes the code as sent, not normalised (CLAIM-23).
pub fn raw_code_details_breakage() -> Breakage {
    Breakage::after(|req, res| {
        let mut v = res.json();
        if req.path == "/pos/claim"
            && v["error"]["details"]["pairing_code"].is_string()
            && let Some(raw) = code_in(req)
        {
            v["error"]["details"]["pairing_code"] = json!(raw);
            res.set_json(&v);
        }
    })
}

/// CLAIM-22 is UNKNOWN: the body may be checked before the token.
#[test]
fn token_checked_after_the_body() {
    passes(
        "the token checked after the body",
        Variant::new(
            Breakage::around(|mut req, next| {
                let malformed =
                    serde_json::from_slice::<Value>(&req.body).ok().is_none_or(|v| v["pairing_code"].as_str().is_none_or(str::is_empty));
                if req.path == "/pos/claim" && malformed {
                    let sign_in = next(sign_in_request(br#"{"client_id":"acme","client_secret":"acme-secret"}"#.to_vec()));
                    let token = sign_in.json()["access_token"].as_str().unwrap_or_default().to_owned();
                    if let Ok(v) = HeaderValue::from_str(&format!("Bearer {token}")) {
                        req.headers.insert("authorization", v);
                    }
                }
                next(req)
            }),
            &[],
            &[],
        ),
    );
}

#[test]
fn other_words_for_every_simulator_message() {
    passes(
        "other texts for every SIMULATOR-level message",
        Variant::new(
            reworded_breakage(),
            &[
                "ACT-06", "ACT-07", "ATT-30", "ATT-31", "ATT-32", "ATT-33", "ATT-34", "ATT-38", "ATT-40", "ATT-41", "AUTH-07", "AUTH-13",
                "CLAIM-04", "ERR-09", "ERR-10", "ERR-11", "HDR-04", "HDR-07", "HDR-10", "HDR-11", "MSK-09", "MSK-10", "PAIR-10", "PAIR-11",
            ],
            &[
                "ACT-06", "ACT-07", "ATT-30", "ATT-31", "ATT-32", "ATT-33", "ATT-34", "ATT-38", "ATT-41", "CLAIM-04", "HDR-04", "HDR-07",
                "HDR-10", "MSK-09", "MSK-10", "PAIR-10", "PAIR-11",
            ],
        ),
    );
}

/// Issue 7, instance 3: a lone surrogate echoed back is valid JSON (RFC 8259), noted as non-I-JSON.
#[test]
fn lone_surrogates_echoed() {
    let report = passes(
        "lone surrogates echoed",
        Variant::new(
            Breakage::after(|req, res| {
                if req.path == "/pos/claim" && req.body.windows(6).any(|w| w.eq_ignore_ascii_case(br"\ud800")) {
                    let trace = res.json()["error"]["trace_id"].as_str().unwrap_or("variant-trace").to_owned();
                    res.status = 400;
                    res.body = format!(
                        r#"{{"error":{{"code":"4004","message":"Pairing code not found","details":{{"pairing_code":"\ud800"}},"trace_id":"{trace}"}}}}"#
                    )
                    .into_bytes();
                }
            }),
            &[],
            &[],
        ),
    );
    assert!(report.scenarios.iter().flat_map(|s| &s.notes).any(|n| n.contains("RFC 7493")), "the non-I-JSON body is noted");
}

#[test]
fn a_longer_token_lifetime() {
    let mut v = Variant::new(Breakage::default(), &[], &[]);
    v.config.token_ttl = time::Duration::hours(1);
    passes("a longer token lifetime", v);
}

#[test]
fn opaque_hs256_tokens_without_jwks() {
    passes(
        "opaque HS256 tokens with no JWKS",
        Variant::new(token_layer(TokenFormat::Hs256, TokenClock::Simulator, 300, true), &["AUTH-02", "AUTH-03"], &[]),
    );
}

/// Issue 7, instance 1: tokens from an identity provider on real time, on a backend whose test
/// clock the profile moves. The expired-token check is "not applicable" (AUTH-14), never failed.
#[test]
fn tokens_that_expire_in_real_time_on_a_moved_clock() {
    let mut v = Variant::new(token_layer(TokenFormat::Simulator, TokenClock::Real, 300, false), &[], &[]);
    v.reach = Reach::ControlProfile { tokens_follow: false };
    let report = passes("tokens that expire in real time while the backend's clock is moved", v);
    let expiry = report.scenarios.iter().find(|s| s.name == "An expired token is refused with 401").map(|s| s.status.clone());
    assert!(matches!(expiry, Some(ScenarioStatus::NotApplicable(ref why)) if why.contains("AUTH-14")), "{expiry:?}");
}

/// The same backend, wrongly declared to expire tokens on its test clock, fails CLAIM-03: the
/// declaration is what lets the harness take the shortcut.
#[test]
fn a_wrong_tokens_follow_declaration_is_what_fails_claim_03() {
    let rt = runtime();
    let server = rt.block_on(proxy_target(sim_config(), token_layer(TokenFormat::Simulator, TokenClock::Real, 300, false)));
    let profile = rt.block_on(control_profile(&server.uri(), 20, true));
    let report = rt.block_on(certify(TargetSpec::Profile(profile.path().into()), &options(Some("@token-expiry"))));
    assert_eq!(failing_rules(&report), vec!["CLAIM-03".to_owned()]);
}

/// With @slow selected, the harness waits the identity provider's `expires_in` in real time (a
/// 3-second token here) and checks the refusal for real.
#[test]
fn a_real_time_token_expiry_is_checked_by_waiting_when_slow_is_selected() {
    let rt = runtime();
    let server = rt.block_on(proxy_target(sim_config(), token_layer(TokenFormat::Simulator, TokenClock::Real, 3, false)));
    let profile = rt.block_on(control_profile(&server.uri(), 20, false));
    let report = rt.block_on(certify(TargetSpec::Profile(profile.path().into()), &options(Some("@token-expiry and @slow"))));
    assert_eq!(report.exit_code, 0, "{:?}", report.scenarios);
    assert_eq!(report.scenarios.iter().map(|s| s.status.clone()).collect::<Vec<_>>(), vec![ScenarioStatus::Passed]);
}
