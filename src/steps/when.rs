//! `When` steps: what the device, the merchant or a plain client does.

use std::time::Duration;

use cucumber::when;
use futures::future::join_all;
use serde_json::json;

use super::tokens::authorization;
use super::{claim_code, claim_refused_token, claim_with, count, endpoint, pos, pos_call, request_code};
use crate::client::{ApiRequest, HeaderCase};
use crate::model::{ContentType, HeaderFault};
use crate::session::Session;
use crate::world::{CheckWorld, Stop, harness_error};

// ---- the device -------------------------------------------------------------------------

/// Sends the same POS request `times` times, keeping the responses for "every response …" steps.
async fn repeat(w: &mut CheckWorld, name: &str, endpoint_name: &str, times: &str) {
    w.burst.clear();
    for _ in 0..count(times) {
        let ex = pos(w, name, endpoint_name).await;
        w.burst.push(ex);
    }
}

#[when(regex = r#"^(?:the device|device "(\w+)") calls bootstrap(?: (\d+) times)?$"#)]
async fn bootstrap(w: &mut CheckWorld, name: String, times: String) {
    repeat(w, &name, "bootstrap", &times).await;
}

/// BOOT-08 is the simulator's choice (Q-03): the model does not predict another app version.
#[when(regex = r#"^the device calls bootstrap with User-Agent "(.*)"$"#)]
async fn bootstrap_with_ua(w: &mut CheckWorld, ua: String) {
    let mut req = Session::pos("POST", "/pos/bootstrap", &w.device(""));
    req.headers.retain(|(k, _)| k != "User-Agent");
    w.send(req.header("User-Agent", &ua)).await;
}

/// A request with exactly one header fault the model knows is judged by it (HDR-02…HDR-10); other
/// header values are checked literally, and a request that gets through may change state the model
/// did not predict, so the model stops following the device then.
async fn header_fault(w: &mut CheckWorld, name: &str, req: ApiRequest, fault: Option<HeaderFault>) {
    let ex = match fault {
        Some(fault) => {
            let expect = w.model.header_fault(fault);
            w.judged(req, &expect).await.0
        }
        None => w.send(req).await,
    };
    if ex.status == Some(200) {
        w.unfollow(name);
    }
}

/// The model's name for a single header change, if it has one.
fn known_fault(header: &str, value: Option<&str>) -> Option<HeaderFault> {
    [HeaderFault::MissingDeviceId, HeaderFault::InvalidDeviceId, HeaderFault::ForeignUserAgent, HeaderFault::MissingClientType]
        .into_iter()
        .find(|f| f.header().0.eq_ignore_ascii_case(header) && f.header().1 == value)
}

#[when(regex = r#"^(?:the device|device "(\w+)") calls (bootstrap|pairing-code|status) without the "([\w-]+)" header$"#)]
async fn without_header(w: &mut CheckWorld, name: String, endpoint_name: String, header: String) {
    let (method, path, _) = endpoint(&endpoint_name);
    let mut req = Session::pos(method, path, &w.device(&name));
    req.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&header));
    header_fault(w, &name, req, known_fault(&header, None)).await;
}

#[when(
    regex = r#"^(?:the device|device "(\w+)") calls (bootstrap|pairing-code|status) with header "([\w-]+)" set to "(.*?)"(?: and header "([\w-]+)" set to "(.*?)")?$"#
)]
async fn with_header(w: &mut CheckWorld, name: String, endpoint_name: String, h1: String, v1: String, h2: String, v2: String) {
    let (method, path, _) = endpoint(&endpoint_name);
    let mut req = Session::pos(method, path, &w.device(&name));
    let fault = if h2.is_empty() { known_fault(&h1, Some(&v1)) } else { None };
    for (h, v) in [(h1, v1), (h2, v2)] {
        if !h.is_empty() {
            req.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&h));
            req = req.header(&h, &v);
        }
    }
    header_fault(w, &name, req, fault).await;
}

/// A well-formed device id that the target does not know (BOOT-07, STAT-12, PAIR-09).
#[when(regex = r"^an unprovisioned device calls (bootstrap|pairing-code|status)$")]
async fn unknown_device_calls(w: &mut CheckWorld, endpoint_name: String) {
    let (method, path, endpoint) = endpoint(&endpoint_name);
    let id = w.target().unknown_device.clone();
    let expect = w.model.unknown_device(endpoint, &id);
    w.judged(Session::pos(method, path, &id), &expect).await;
}

#[when(regex = r"^the device polls status with header names in (lowercase|Title-Case)$")]
async fn header_case(w: &mut CheckWorld, case: String) {
    let req = Session::pos("GET", "/pos/status", &w.device(""));
    let case = if case == "lowercase" { HeaderCase::Lower } else { HeaderCase::Title };
    let ex = w.send_with(req, case).await;
    if let Some(d) = w.modeled("") {
        let expect = w.model.status(d);
        let label = w.verdict(&expect, &ex);
        w.model.status_read(d, label);
    }
}

#[when(regex = r#"^(?:the device|device "(\w+)") requests a pairing code(?: (\d+) times)?$"#)]
async fn pairing_code(w: &mut CheckWorld, name: String, times: String) {
    w.burst.clear();
    for _ in 0..count(&times) {
        request_code(w, &name).await;
        let last = w.last().clone();
        w.burst.push(last);
    }
}

/// Which of concurrent requests is the latest cannot be known: the model stops following the device.
#[when(regex = r"^the device requests (\d+) pairing codes concurrently$")]
async fn concurrent_codes(w: &mut CheckWorld, n: usize) {
    let req = Session::pos("POST", "/pos/pairing-code", &w.device(""));
    let client = w.client().clone();
    let exchanges = join_all((0..n).map(|_| client.send(&req))).await;
    w.unfollow("");
    w.burst.clear();
    for ex in exchanges {
        w.observe(&req, &ex);
        if let Some(code) = ex.json().and_then(|v| v["pairing_code"].as_str().map(str::to_owned)) {
            w.codes.push((String::new(), code));
        }
        w.burst.push(ex);
    }
    w.core.unordered(n);
}

#[when("each of the devices requests a pairing code")]
async fn each_device_code(w: &mut CheckWorld) {
    let names: Vec<String> = w.devices.keys().cloned().collect();
    for name in names {
        request_code(w, &name).await;
    }
}

#[when(regex = r#"^(?:the device|device "(\w+)") polls status(?: (\d+) times)?$"#)]
async fn poll(w: &mut CheckWorld, name: String, times: String) {
    repeat(w, &name, "status", &times).await;
}

#[when("the device polls status with only the three POS headers")]
async fn poll_three_headers(w: &mut CheckWorld) {
    let req = Session::pos("GET", "/pos/status", &w.device(""));
    if req.headers.len() != 3 {
        harness_error!("the status request carries more than the three POS headers");
    }
    pos_call(w, "", crate::model::PosEndpoint::Status, req).await;
}

/// TIME-02: the POS polls every 3–5 s while the code is pending.
#[when(regex = r"^the device polls status every (\d+) seconds, (\d+) times$")]
async fn poll_every(w: &mut CheckWorld, every: u32, times: usize) {
    w.burst.clear();
    for i in 0..times {
        if i > 0 {
            advance(w, every).await;
        }
        let ex = pos(w, "", "status").await;
        w.burst.push(ex);
    }
}

/// ERR-11 is checked literally; where 413 stands against other checks is UNKNOWN (ERR-13).
#[when(regex = r#"^the device sends POST "(/[\w/-]*)" with a body of (\d+) bytes$"#)]
async fn big_body(w: &mut CheckWorld, path: String, size: usize) {
    let mut req = Session::pos("POST", &path, &w.device(""));
    if path == "/pos/claim" {
        let token = w.token("A").await;
        req = req.header("Authorization", &format!("Bearer {token}"));
    }
    let ex = w.send(req.body(vec![b' '; size])).await;
    if ex.status == Some(200) {
        w.unfollow("");
    }
}

// ---- time ---------------------------------------------------------------------------------

async fn advance(w: &mut CheckWorld, seconds: u32) {
    let client = w.client().clone();
    if let Err(e) = w.target().advance(&client, seconds).await {
        harness_error!("{e}");
    }
    // A real clock was waited out: the time elapsed counts it already.
    if w.target().clock == crate::targets::ClockControl::Control {
        w.clock.moved(f64::from(seconds));
    }
    w.model.now += f64::from(seconds);
    w.sync_clock();
}

#[when(regex = r"^(\d+) seconds? pass(?:es)?$")]
async fn seconds_pass(w: &mut CheckWorld, seconds: u32) {
    advance(w, seconds).await;
}

/// AUTH-14: a token expires on its issuer's clock. Where the target's tokens follow the clock the
/// harness moves (the simulator), that clock moves; otherwise the identity provider's real clock
/// must pass (the runner selects this only with `@slow`).
#[when("the token's lifetime passes")]
async fn token_lifetime(w: &mut CheckWorld) {
    let expires_in = w
        .exchanges
        .iter()
        .rev()
        .find(|e| e.url.ends_with("/client/session") && e.status == Some(200))
        .and_then(|e| e.json())
        .and_then(|v| v["expires_in"].as_u64());
    let Some(expires_in) = expires_in.and_then(|s| u32::try_from(s).ok()) else {
        Stop::NotApplicable("the sign-in response gave no expires_in, so the token's lifetime is unknown (TIME-06)".into()).raise();
    };
    if w.target().tokens_follow_clock {
        advance(w, expires_in + 1).await;
    } else {
        tokio::time::sleep(Duration::from_secs(u64::from(expires_in) + 1)).await;
        if w.target().frozen {
            w.model.now += f64::from(expires_in + 1);
        }
        w.sync_clock();
    }
}

// ---- the merchant ---------------------------------------------------------------------------

#[when(regex = r"^merchant ([A-Z]) claims the (code|first code)$")]
async fn claim(w: &mut CheckWorld, merchant: String, which: String) {
    let code = if which == "code" { w.latest_code("") } else { w.first_code() };
    claim_code(w, &merchant, &code).await;
}

/// The fuzzer's regression scenarios name devices and codes by number.
#[when(regex = r#"^merchant ([A-Z]) claims (the latest code|code (\d+)) of device "(\w+)"$"#)]
async fn claim_of_device(w: &mut CheckWorld, merchant: String, which: String, n: String, name: String) {
    let code = nth_code(w, &name, &which, &n);
    claim_code(w, &merchant, &code).await;
}

fn nth_code(w: &CheckWorld, name: &str, which: &str, n: &str) -> String {
    if which == "the latest code" {
        return w.latest_code(name);
    }
    let n: usize = n.parse().unwrap_or(1);
    match w.codes.iter().filter(|(d, _)| d == name).nth(n.saturating_sub(1)) {
        Some((_, c)) => c.clone(),
        None => harness_error!("device `{name}` has no code number {n}"),
    }
}

#[when(
    regex = r#"^merchant ([A-Z]) claims the latest code of device "(\w+)" with (no Authorization header|a garbage token|a tampered token)$"#
)]
async fn claim_of_device_bad_token(w: &mut CheckWorld, _merchant: String, name: String, variant: String) {
    let auth = authorization(w, &variant).await;
    let code = w.latest_code(&name);
    claim_refused_token(w, auth, &code).await;
}

#[when(regex = r#"^merchant ([A-Z]) sends (\d+) concurrent claims of the latest code of device "(\w+)"$"#)]
async fn concurrent_claims_of_device(w: &mut CheckWorld, merchant: String, n: usize, name: String) {
    let code = w.latest_code(&name);
    concurrent(w, &merchant, n, &code).await;
}

#[when(regex = r"^merchant ([A-Z]) claims each of those codes$")]
async fn claim_each(w: &mut CheckWorld, merchant: String) {
    let codes: Vec<String> = w.codes.iter().map(|(_, c)| c.clone()).collect();
    w.burst.clear();
    for code in codes {
        let ex = claim_code(w, &merchant, &code).await;
        w.burst.push(ex);
    }
    // Which of the codes is claimable was decided by the race that issued them.
    let n = w.burst.len();
    w.core.unordered(n);
}

#[when(
    regex = r"^merchant A claims the code with (no Authorization header|a garbage token|an alg none token|a tampered token|a token signed by another key|the Basic scheme|an empty Bearer token)$"
)]
async fn claim_bad_token(w: &mut CheckWorld, variant: String) {
    let auth = authorization(w, &variant).await;
    let code = w.latest_code("");
    claim_refused_token(w, auth, &code).await;
}

/// After the token's lifetime (CLAIM-03, AUTH-14): the old token is refused.
#[when(regex = r#"^merchant ([A-Z]) claims the code of device "(\w+)" with the old token$"#)]
async fn claim_old_token(w: &mut CheckWorld, merchant: String, name: String) {
    let Some(token) = w.session.last_token(&merchant).map(str::to_owned) else {
        harness_error!("merchant {merchant} has not signed in");
    };
    let code = w.latest_code(&name);
    claim_refused_token(w, Some(format!("Bearer {token}")), &code).await;
}

/// A claim with the token of the last sign-in answer, its session not initiated: AUTH-11's check
/// (the simulator does not require it; a real server may refuse, AUTH-12).
#[when(regex = r"^merchant ([A-Z]) claims the code with the token from that response$")]
async fn claim_with_response_token(w: &mut CheckWorld, merchant: String) {
    let token = w.last_json()["access_token"].as_str().unwrap_or_default().to_owned();
    let now = w.model.now;
    w.session.remember(&merchant, token, w.last_json()["expires_in"].as_u64(), now);
    let code = w.latest_code("");
    w.uninitiated = true;
    claim_code(w, &merchant, &code).await;
}

/// A claim with the token of the last sign-in answer after initiating its session, as every
/// client does (AUTH-10): the token itself is what is tested (AUTH-05).
#[when(regex = r"^merchant ([A-Z]) initiates a session with the token from that response and claims the code$")]
async fn initiate_then_claim(w: &mut CheckWorld, merchant: String) {
    let token = w.last_json()["access_token"].as_str().unwrap_or_default().to_owned();
    let expires = w.last_json()["expires_in"].as_u64();
    let ex = w.send(Session::initiate(&token, "merchant.viopay.io")).await;
    w.require("AUTH-08", ex.status == Some(200), || {
        format!("POST /session/initiate with a fresh token answered {}", ex.status.unwrap_or_default())
    });
    let now = w.model.now;
    w.session.remember(&merchant, token, expires, now);
    let code = w.latest_code("");
    claim_code(w, &merchant, &code).await;
}

#[when(regex = r"^merchant ([A-Z]) claims with the body (.*)$")]
async fn claim_body(w: &mut CheckWorld, merchant: String, body: String) {
    let body = w.expand(&body);
    claim_with(w, &merchant, ContentType::Json, body).await;
}

#[when(regex = r#"^merchant ([A-Z]) claims with content type "(.*)" and the body (.*)$"#)]
async fn claim_content_type(w: &mut CheckWorld, merchant: String, content_type: String, body: String) {
    let body = w.expand(&body);
    claim_with(w, &merchant, ContentType::parse(Some(&content_type)), body).await;
}

#[when(regex = r"^merchant ([A-Z]) claims without a content type and the body (.*)$")]
async fn claim_no_content_type(w: &mut CheckWorld, merchant: String, body: String) {
    let body = w.expand(&body);
    claim_with(w, &merchant, ContentType::Missing, body).await;
}

/// Bodies no JSON reader agrees on (ERR-12 checks only that none gets a 5xx): not modeled.
#[when(regex = r"^merchant ([A-Z]) sends a claim with the raw body (.*)$")]
async fn claim_raw(w: &mut CheckWorld, merchant: String, body: String) {
    let token = w.token(&merchant).await;
    let body = w.expand(&body);
    w.send(Session::claim(Some(&format!("Bearer {token}")), &ContentType::Json, body)).await;
    w.unfollow("");
}

#[when(regex = r#"^merchant ([A-Z]) claims with content type "(.*)" and a body of invalid UTF-8$"#)]
async fn claim_invalid_utf8(w: &mut CheckWorld, merchant: String, content_type: String) {
    let token = w.token(&merchant).await;
    let req = Session::claim(
        Some(&format!("Bearer {token}")),
        &ContentType::parse(Some(&content_type)),
        b"{\"pairing_code\":\"\xff\xfe\"}".to_vec(),
    );
    w.send(req).await;
}

#[when(regex = r"^merchant ([A-Z]) claims the code written in lowercase with surrounding spaces$")]
async fn claim_normalised(w: &mut CheckWorld, merchant: String) {
    let code = format!("  {}\t", w.latest_code("").to_lowercase());
    claim_code(w, &merchant, &code).await;
}

#[when(regex = r"^merchant ([A-Z]) sends (\d+) concurrent claims of the code$")]
async fn concurrent_claims(w: &mut CheckWorld, merchant: String, n: usize) {
    let code = w.latest_code("");
    concurrent(w, &merchant, n, &code).await;
}

/// CLAIM-21 is checked by the `Then` steps over the burst; the model follows one winner.
async fn concurrent(w: &mut CheckWorld, merchant: &str, n: usize, code: &str) {
    let token = w.token(merchant).await;
    let req = Session::bearer_claim(&token, code);
    let client = w.client().clone();
    w.burst = join_all((0..n).map(|_| client.send(&req))).await;
    for ex in w.burst.clone() {
        w.observe(&req, &ex);
    }
    w.core.unordered(n);
    let winners = w.burst.iter().filter(|e| e.status == Some(200)).count();
    if let Some((d, k)) = w.code_index(code)
        && winners == 1
    {
        w.model.claimed(d, k, "success");
    }
}

#[when(regex = r#"^merchant ([A-Z]) signs in with POST "(/client/session|/auth/token)"$"#)]
async fn sign_in_via(w: &mut CheckWorld, merchant: String, path: String) {
    let m = w.target().merchant(&merchant).cloned().unwrap_or_else(|e| harness_error!("{e}"));
    w.send(Session::sign_in(&path, &m)).await;
}

#[when(regex = r#"^a client signs in with POST "(/client/session|/auth/token)" as client "(.*)" with a (wrong|right) secret$"#)]
async fn sign_in_as(w: &mut CheckWorld, path: String, client: String, secret: String) {
    let (client_id, right) = match client.strip_prefix("merchant ") {
        Some(label) => {
            let m = w.target().merchant(label).cloned().unwrap_or_else(|e| harness_error!("{e}"));
            (m.client_id, m.client_secret)
        }
        None => (client, w.target().merchants[0].client_secret.clone()),
    };
    let secret = if secret == "right" { right } else { format!("{right}-wrong") };
    w.send(ApiRequest::new("POST", &path).json(&json!({ "client_id": client_id, "client_secret": secret }))).await;
}

#[when(regex = r#"^merchant ([A-Z]) initiates a session for host "(.*)"$"#)]
async fn initiate(w: &mut CheckWorld, merchant: String, host: String) {
    let token = w.token(&merchant).await;
    w.send(Session::initiate(&token, &host)).await;
}

#[when(regex = r#"^a client initiates a session for host "(.*)" with (no Authorization header|a garbage token|a tampered token)$"#)]
async fn initiate_bad(w: &mut CheckWorld, host: String, variant: String) {
    let auth = authorization(w, &variant).await;
    let mut req = ApiRequest::new("POST", "/session/initiate");
    if let Some(auth) = auth {
        req = req.header("Authorization", &auth);
    }
    w.send(req.json(&json!({ "host": host }))).await;
}

// ---- a plain client -------------------------------------------------------------------------

#[when(regex = r#"^a client sends (GET|POST|PUT|DELETE|PATCH) "(/[^"]*)"(?: with the body (.*))?$"#)]
async fn plain(w: &mut CheckWorld, method: String, path: String, body: String) {
    let mut req = ApiRequest::new(&method, &path);
    if !body.is_empty() {
        req = req.header("Content-Type", "application/json").body(w.expand(&body));
    }
    w.send(req).await;
}
