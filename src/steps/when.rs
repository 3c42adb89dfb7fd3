//! `When` steps: what the device, the merchant or a plain client does.

use cucumber::when;
use futures::future::join_all;
use serde_json::json;

use super::tokens::authorization;
use super::{claim_code, claim_raw, endpoint, request_code};
use crate::client::{ApiRequest, HeaderCase};
use crate::world::{CheckWorld, ERROR};

// ---- the device -------------------------------------------------------------------------

/// Sends the same POS request `times` times, keeping the responses for "every response …" steps.
async fn repeat(w: &mut CheckWorld, name: &str, method: &str, path: &str, times: &str) {
    let device = w.device(name);
    w.burst.clear();
    for _ in 0..super::count(times) {
        let req = w.pos_request(method, path, &device);
        let ex = w.send(req).await;
        w.burst.push(ex);
    }
}

#[when(regex = r#"^(?:the device|device "(\w+)") calls bootstrap(?: (\d+) times)?$"#)]
async fn bootstrap(w: &mut CheckWorld, name: String, times: String) {
    repeat(w, &name, "POST", "/pos/bootstrap", &times).await;
}

#[when(regex = r#"^the device calls bootstrap with User-Agent "(.*)"$"#)]
async fn bootstrap_with_ua(w: &mut CheckWorld, ua: String) {
    let device = w.device("");
    let mut req = w.pos_request("POST", "/pos/bootstrap", &device);
    req.headers.retain(|(k, _)| k != "User-Agent");
    w.send(req.header("User-Agent", &ua)).await;
}

#[when(regex = r#"^the device calls (bootstrap|pairing-code|status) without the "([\w-]+)" header$"#)]
async fn without_header(w: &mut CheckWorld, name: String, header: String) {
    let (method, path) = endpoint(&name);
    let device = w.device("");
    let mut req = w.pos_request(method, path, &device);
    req.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&header));
    w.send(req).await;
}

#[when(
    regex = r#"^the device calls (bootstrap|pairing-code|status) with header "([\w-]+)" set to "(.*?)"(?: and header "([\w-]+)" set to "(.*?)")?$"#
)]
async fn with_header(w: &mut CheckWorld, name: String, h1: String, v1: String, h2: String, v2: String) {
    let (method, path) = endpoint(&name);
    let device = w.device("");
    let mut req = w.pos_request(method, path, &device);
    for (h, v) in [(h1, v1), (h2, v2)] {
        if !h.is_empty() {
            req.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&h));
            req = req.header(&h, &v);
        }
    }
    w.send(req).await;
}

#[when(regex = r"^the device polls status with header names in (lowercase|Title-Case)$")]
async fn header_case(w: &mut CheckWorld, case: String) {
    let device = w.device("");
    let req = w.pos_request("GET", "/pos/status", &device);
    let case = if case == "lowercase" { HeaderCase::Lower } else { HeaderCase::Title };
    w.send_with(req, case).await;
}

#[when(regex = r#"^(?:the device|device "(\w+)") requests a pairing code(?: (\d+) times)?$"#)]
async fn pairing_code(w: &mut CheckWorld, name: String, times: String) {
    w.burst.clear();
    for _ in 0..super::count(&times) {
        request_code(w, &name).await;
        let last = w.last().clone();
        w.burst.push(last);
    }
}

#[when(regex = r"^the device requests (\d+) pairing codes concurrently$")]
async fn concurrent_codes(w: &mut CheckWorld, n: usize) {
    let device = w.device("");
    let req = w.pos_request("POST", "/pos/pairing-code", &device);
    let client = w.client().clone();
    let exchanges = join_all((0..n).map(|_| client.send(&req))).await;
    w.burst.clear();
    for ex in exchanges {
        w.observe(&req, &ex);
        if let Some(code) = ex.json().and_then(|v| v["pairing_code"].as_str().map(str::to_owned)) {
            w.codes.push((String::new(), code));
        }
        w.burst.push(ex);
    }
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
    repeat(w, &name, "GET", "/pos/status", &times).await;
}

#[when("the device polls status with only the three POS headers")]
async fn poll_three_headers(w: &mut CheckWorld) {
    let device = w.device("");
    let req = w.pos_request("GET", "/pos/status", &device);
    assert!(req.headers.len() == 3, "{ERROR}the status request carries more than the three POS headers");
    w.send(req).await;
}

/// TIME-02: the POS polls every 3–5 s while the code is pending.
#[when(regex = r"^the device polls status every (\d+) seconds, (\d+) times$")]
async fn poll_every(w: &mut CheckWorld, every: u32, times: usize) {
    let device = w.device("");
    w.burst.clear();
    for i in 0..times {
        if i > 0 {
            advance(w, every).await;
        }
        let req = w.pos_request("GET", "/pos/status", &device);
        let ex = w.send(req).await;
        w.burst.push(ex);
    }
}

#[when(regex = r#"^the device sends POST "(/[\w/-]*)" with a body of (\d+) bytes$"#)]
async fn big_body(w: &mut CheckWorld, path: String, size: usize) {
    let device = w.device("");
    let mut req = w.pos_request("POST", &path, &device);
    if path == "/pos/claim" {
        let token = w.token("A").await;
        req = req.header("Authorization", &format!("Bearer {token}"));
    }
    w.send(req.body(vec![b' '; size])).await;
}

// ---- time ---------------------------------------------------------------------------------

async fn advance(w: &mut CheckWorld, seconds: u32) {
    let client = w.client().clone();
    if let Err(e) = w.target().advance(&client, seconds).await {
        panic!("{ERROR}{e}");
    }
    w.clock_moved(seconds);
}

#[when(regex = r"^(\d+) seconds? pass(?:es)?$")]
async fn seconds_pass(w: &mut CheckWorld, seconds: u32) {
    advance(w, seconds).await;
}

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
        panic!("{ERROR}the sign-in response gave no expires_in, so the token's lifetime is unknown (TIME-06)");
    };
    advance(w, expires_in + 1).await;
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
        None => panic!("{ERROR}device `{name}` has no code number {n}"),
    }
}

#[when(
    regex = r#"^merchant ([A-Z]) claims the latest code of device "(\w+)" with (no Authorization header|a garbage token|a tampered token)$"#
)]
async fn claim_of_device_bad_token(w: &mut CheckWorld, _merchant: String, name: String, variant: String) {
    let auth = authorization(w, &variant).await;
    let body = json!({ "pairing_code": w.latest_code(&name) }).to_string();
    claim_raw(w, auth, Some("application/json"), body).await;
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
        claim_code(w, &merchant, &code).await;
        let last = w.last().clone();
        w.burst.push(last);
    }
}

#[when(
    regex = r"^merchant A claims the code with (no Authorization header|a garbage token|an alg none token|a tampered token|a token signed by another key|the Basic scheme|an empty Bearer token)$"
)]
async fn claim_bad_token(w: &mut CheckWorld, variant: String) {
    let auth = authorization(w, &variant).await;
    let body = json!({ "pairing_code": w.latest_code("") }).to_string();
    claim_raw(w, auth, Some("application/json"), body).await;
}

#[when(regex = r#"^merchant ([A-Z]) claims the code of device "(\w+)" with the old token$"#)]
async fn claim_old_token(w: &mut CheckWorld, merchant: String, name: String) {
    let token = match w.tokens.get(&merchant) {
        Some((t, _)) => t.clone(),
        None => panic!("{ERROR}merchant {merchant} has not signed in"),
    };
    let body = json!({ "pairing_code": w.latest_code(&name) }).to_string();
    claim_raw(w, Some(format!("Bearer {token}")), Some("application/json"), body).await;
}

#[when(regex = r"^merchant ([A-Z]) claims the code with the token from that response$")]
async fn claim_with_response_token(w: &mut CheckWorld, _merchant: String) {
    let token = w.last_json()["access_token"].as_str().unwrap_or_default().to_owned();
    let body = json!({ "pairing_code": w.latest_code("") }).to_string();
    claim_raw(w, Some(format!("Bearer {token}")), Some("application/json"), body).await;
}

#[when(regex = r"^merchant ([A-Z]) claims with the body (.*)$")]
async fn claim_body(w: &mut CheckWorld, merchant: String, body: String) {
    let token = w.token(&merchant).await;
    let body = w.expand(&body);
    claim_raw(w, Some(format!("Bearer {token}")), Some("application/json"), body).await;
}

#[when(regex = r#"^merchant ([A-Z]) claims with content type "(.*)" and the body (.*)$"#)]
async fn claim_content_type(w: &mut CheckWorld, merchant: String, content_type: String, body: String) {
    let token = w.token(&merchant).await;
    let body = w.expand(&body);
    claim_raw(w, Some(format!("Bearer {token}")), Some(&content_type), body).await;
}

#[when(regex = r"^merchant ([A-Z]) claims without a content type and the body (.*)$")]
async fn claim_no_content_type(w: &mut CheckWorld, merchant: String, body: String) {
    let token = w.token(&merchant).await;
    let body = w.expand(&body);
    claim_raw(w, Some(format!("Bearer {token}")), None, body).await;
}

#[when(regex = r#"^merchant ([A-Z]) claims with content type "(.*)" and a body of invalid UTF-8$"#)]
async fn claim_invalid_utf8(w: &mut CheckWorld, merchant: String, content_type: String) {
    let token = w.token(&merchant).await;
    claim_raw(w, Some(format!("Bearer {token}")), Some(&content_type), b"{\"pairing_code\":\"\xff\xfe\"}".to_vec()).await;
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

async fn concurrent(w: &mut CheckWorld, merchant: &str, n: usize, code: &str) {
    let token = w.token(merchant).await;
    let req =
        ApiRequest::new("POST", "/pos/claim").header("Authorization", &format!("Bearer {token}")).json(&json!({ "pairing_code": code }));
    let client = w.client().clone();
    w.burst = join_all((0..n).map(|_| client.send(&req))).await;
    for ex in w.burst.clone() {
        w.observe(&req, &ex);
    }
}

#[when(regex = r#"^merchant ([A-Z]) signs in with POST "(/client/session|/auth/token)"$"#)]
async fn sign_in_via(w: &mut CheckWorld, merchant: String, path: String) {
    let m = w.target().merchant(&merchant).cloned().unwrap_or_else(|e| panic!("{ERROR}{e}"));
    w.send(ApiRequest::new("POST", &path).json(&json!({ "client_id": m.client_id, "client_secret": m.client_secret }))).await;
}

#[when(regex = r#"^a client signs in with POST "(/client/session|/auth/token)" as client "(.*)" with a (wrong|right) secret$"#)]
async fn sign_in_as(w: &mut CheckWorld, path: String, client: String, secret: String) {
    let (client_id, right) = match client.strip_prefix("merchant ") {
        Some(label) => {
            let m = w.target().merchant(label).cloned().unwrap_or_else(|e| panic!("{ERROR}{e}"));
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
    let req =
        ApiRequest::new("POST", "/session/initiate").header("Authorization", &format!("Bearer {token}")).json(&json!({ "host": host }));
    w.send(req).await;
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
