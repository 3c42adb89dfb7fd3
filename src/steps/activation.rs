//! Steps 5–8: the harness as the POS after the claim. It signs attests with the device's identity
//! key, unwraps its keys from the ZMK, decrypts config and terminal parameters and sends encrypted
//! activates ([`crate::pos`]). Every request is judged by the shared model as the fuzzer judges it;
//! every 200 is opened and verified the way a terminal would use it.

use cucumber::{given, then, when};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{claim_code, request_code};
use crate::client::ApiRequest;
use crate::exchange::Exchange;
use crate::model::{ActivateBody, AttestFault, SignatureHeader, Step};
use crate::pos::device::{PosDevice, TokenChoice};
use crate::pos::verify::{MerchantFacts, Terminal};
use crate::targets::{ClockControl, LABELS};
use crate::world::{CheckWorld, Stop, harness_error};

/// The device the harness plays, set up on first use with its secrets (n/a without them).
async fn device(w: &mut CheckWorld, name: &str) -> usize {
    let Some(d) = w.modeled(name) else { harness_error!("steps 5–8 need a device the model follows: `Given a fresh device`") };
    if !w.pos.contains_key(name) {
        let id = w.device(name);
        let client = w.client().clone();
        let secrets = match w.target().device_secrets(&client, &id).await {
            Ok(s) => s,
            Err(why) => Stop::NotApplicable(why).raise(),
        };
        w.pos.insert(name.to_owned(), PosDevice::new(d, Terminal::new(&id, Some(secrets))));
    }
    d
}

fn pos<'a>(w: &'a mut CheckWorld, name: &str) -> &'a mut PosDevice {
    match w.pos.get_mut(name) {
        Some(p) => p,
        None => harness_error!("device `{name}` has not attested in this scenario"),
    }
}

/// The target's time now: its clock where it can be read (a simulator, or a profile whose clock
/// the harness controls), else this machine's (a real deployment's clock should be in sync).
async fn target_time(w: &CheckWorld) -> OffsetDateTime {
    if w.target().clock_readable {
        let ex = w.client().send(&ApiRequest::new("GET", "/_sim/clock")).await;
        if let Some(t) = ex.json().and_then(|v| v["now"].as_str().and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())) {
            return t;
        }
    }
    OffsetDateTime::now_utc()
}

/// The target's time where the harness knows it to the second: a clock only it moves, which
/// stands still between moves. On a clock that keeps running a reading is already old when the
/// next request is handled, so ACT-08's time and KEYS' times are not compared with it.
async fn exact_time(w: &CheckWorld) -> Option<OffsetDateTime> {
    let t = w.target();
    if t.clock == ClockControl::Control && t.frozen && t.clock_readable { Some(target_time(w).await) } else { None }
}

/// Records what verifying a 200 found; a failure-level problem stops the scenario.
fn problems(w: &mut CheckWorld, found: Vec<crate::pos::envelope::Problem>, ex: &Exchange) {
    for p in found {
        if w.record(p.rule, p.message.clone(), Some(ex)) {
            Stop::Failed(format!("{}: {}\n  response: {}", p.rule, p.message, ex.excerpt())).raise();
        }
    }
}

pub async fn attest(w: &mut CheckWorld, name: &str, fault: AttestFault) -> Exchange {
    let d = device(w, name).await;
    let now = target_time(w).await;
    let model_now = w.model.now;
    let Some(call) = pos(w, name).attest(&fault, now, model_now) else {
        harness_error!("cannot build that attest: the device has no earlier nonce or revoked key to use");
    };
    let expect = w.model.attest(d, &fault);
    let (ex, label) = w.judged(call.request.clone(), &expect).await;
    pos(w, name).attested(&call, &ex, label, model_now);
    ex
}

fn merchant_facts(w: &CheckWorld, d: usize) -> Option<MerchantFacts> {
    let label = LABELS.get(w.model.devices[d].owner)?;
    let id = w.target().merchant_id(label)?;
    let name = w.target().merchant(label).ok()?.name.clone();
    Some(MerchantFacts { id, name })
}

/// A keys, config, terminal-parameters or activate request of the device, judged by the model;
/// a 200 on the simulator's branch is opened and verified as the terminal would use it.
pub async fn step(w: &mut CheckWorld, name: &str, step: Step, choice: TokenChoice, body: Option<ActivateBody>) -> Exchange {
    step_with(w, name, step, choice, body, Tweak::None).await
}

/// A change to a step request that the model judges as a difference from a SIMULATOR rule.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tweak {
    None,
    /// Only `Authorization` and `X-Device-Id` (ATT-35).
    OnlyAuthHeaders,
    /// Without the steps FLOW-01 puts before it (FLOW-03: the simulator does not enforce them).
    OutOfOrder,
}

async fn step_with(w: &mut CheckWorld, name: &str, step: Step, choice: TokenChoice, body: Option<ActivateBody>, tweak: Tweak) -> Exchange {
    let d = device(w, name).await;
    // FLOW-01: the harness, as a POS, performs config and terminal parameters before the steps
    // that follow them, with its current token, unless the scenario skips them on purpose.
    if tweak != Tweak::OutOfOrder {
        for before in w.model.predecessors(d, step) {
            // Only where the model expects it served (a live token): otherwise the scenario is
            // about the refusal, and the step it tests comes first.
            let label = if before == Step::Config { "config" } else { "parameters" };
            let credential = w.pos.get(name).and_then(|p| p.step(before, &TokenChoice::Latest, None, None)).map(|(_, c)| c);
            let served = credential.is_some_and(|c| w.model.step(d, before, c, None).choice().map(|o| o.label) == Some(label));
            if !served {
                break;
            }
            let ex = Box::pin(step_with(w, name, before, TokenChoice::Latest, None, Tweak::OutOfOrder)).await;
            require_ok(w, if before == Step::Config { "CFG-01" } else { "TPAR-02" }, &ex, "a step that FLOW-01 puts first");
        }
    }
    let other = match &choice {
        TokenChoice::Of { device } => w.pos.values().find(|p| p.index == *device).cloned(),
        _ => None,
    };
    if step != Step::Keys && w.pos.get(name).is_some_and(|p| p.terminal.zmk().is_none()) {
        Stop::NotApplicable(format!("steps 7–8 need the device's ZMK to unwrap its MSK; the profile gives none for {}", w.device(name)))
            .raise();
    }
    let built = w.pos.get(name).and_then(|p| p.step(step, &choice, other.as_ref(), body.as_ref()));
    let Some((mut req, credential)) = built else {
        harness_error!("cannot build that request: the device has no such token yet");
    };
    let at = exact_time(w).await;
    let mut expect = w.model.step(d, step, credential, body.as_ref());
    let refused = crate::model::Outcome::refusal("refused");
    if tweak == Tweak::OnlyAuthHeaders {
        req.headers.retain(|(k, _)| k != "User-Agent" && k != "X-Client-Type");
        expect = expect.or_differs(refused, "ATT-35");
    } else if choice == TokenChoice::LowercaseScheme {
        expect = expect.or_differs(refused, "ATT-36");
    }
    let (ex, label) = w.judged(req, &expect).await;
    let served = matches!(label, "keys" | "config" | "parameters" | "activated") && ex.status == Some(200);
    w.model.stepped(d, step, ex.status);
    if served && let Some(v) = ex.json() {
        let facts = merchant_facts(w, d);
        let mut fleet = std::mem::take(&mut w.fleet);
        let ctx = w.ctx.clone();
        let p = pos(w, name);
        let found = match step {
            Step::Keys => p.terminal.keys_answered(&v, at),
            Step::Config => p.terminal.config_answered(&ctx.schemas, &mut fleet, &v, facts.as_ref()),
            Step::Parameters => p.terminal.parameters_answered(&ctx.schemas, &mut fleet, &v),
            Step::Activate => p.terminal.activate_answered(&ctx.schemas, &v, at),
        };
        w.fleet = fleet;
        problems(w, found, &ex);
    }
    ex
}

fn require_ok(w: &mut CheckWorld, rule: &str, ex: &Exchange, what: &str) {
    let got = ex.excerpt();
    w.require(rule, ex.status == Some(200), || format!("{what}: {got}"));
}

// ---- Given ------------------------------------------------------------------------------------

/// Steps 1–4 done: a code issued, claimed by the owner, status read (STAT-04).
#[given(regex = r#"^(?:the device|device "(\w+)") is claimed$"#)]
async fn is_claimed(w: &mut CheckWorld, name: String) {
    let Some(d) = w.modeled(&name) else { harness_error!("claim a device the model follows") };
    if w.model.devices[d].claimed {
        return;
    }
    let owner = LABELS[w.model.devices[d].owner].to_owned();
    let Some(code) = request_code(w, &name).await else { harness_error!("the device got no pairing code") };
    let ex = claim_code(w, &owner, &code).await;
    require_ok(w, "CLAIM-20", &ex, "the owner's claim of a fresh code");
    let ex = super::pos(w, &name, "status").await;
    let claimed = ex.json().is_some_and(|v| v["is_claimed"] == true);
    w.require("STAT-04", claimed, || format!("status after the claim: {}", ex.excerpt()));
}

#[given(regex = r#"^(?:the device|device "(\w+)") has attested$"#)]
async fn has_attested(w: &mut CheckWorld, name: String) {
    is_claimed(w, name.clone()).await;
    if w.pos.get(&name).is_some_and(|p| !p.tokens.is_empty()) {
        return;
    }
    let ex = attest(w, &name, AttestFault::None).await;
    require_ok(w, "ATT-07", &ex, "a well-signed attest of a claimed device");
}

#[given(regex = r#"^(?:the device|device "(\w+)") has its keys$"#)]
async fn has_keys(w: &mut CheckWorld, name: String) {
    has_attested(w, name.clone()).await;
    if w.modeled(&name).is_some_and(|d| w.model.devices[d].activation.keys) {
        return;
    }
    let ex = step(w, &name, Step::Keys, TokenChoice::Latest, None).await;
    require_ok(w, "KEYS-02", &ex, "keys with a fresh attestation token");
}

#[given(regex = r#"^(?:the device|device "(\w+)") is activated$"#)]
async fn is_activated(w: &mut CheckWorld, name: String) {
    has_keys(w, name.clone()).await;
    let ex = step(w, &name, Step::Activate, TokenChoice::Latest, Some(ActivateBody::ready())).await;
    require_ok(w, "ACT-03", &ex, "activate with the three flags true");
}

// ---- identity keys and key sets: the simulator's provisioning surface (Q-20) -----------------

fn control_only(w: &CheckWorld, what: &str) {
    if !w.target().provisions() {
        Stop::NotApplicable(format!("{what} is the simulator's own provisioning surface (Q-20), which a profile target does not offer"))
            .raise();
    }
}

/// IDK-06: a second identity key for the device; the harness signs with it from now on.
#[given(regex = r#"^(?:the device|device "(\w+)") has a second identity key$"#)]
async fn second_key(w: &mut CheckWorld, name: String) {
    control_only(w, "adding an identity key");
    device(w, &name).await;
    let id = w.device(&name);
    let ex = w.send(ApiRequest::new("POST", &format!("/_sim/devices/{id}/identity-keys")).json(&serde_json::json!({}))).await;
    let v = ex.json().unwrap_or(Value::Null);
    let parsed = crate::pos::DeviceSecrets::parse(v["key_id"].as_str().unwrap_or_default(), v["secret"].as_str().unwrap_or_default(), None);
    let Ok(new) = parsed.map_err(|e| e.to_string()).and_then(|s| if ex.status == Some(201) { Ok(s) } else { Err(ex.excerpt()) }) else {
        harness_error!("cannot add an identity key: {}", ex.excerpt());
    };
    let p = pos(w, &name);
    if let Some(s) = p.terminal.secrets.as_mut() {
        let old = std::mem::replace(s, crate::pos::DeviceSecrets { zmk: s.zmk, ..new });
        p.first_key_id = Some(old.identity_key_id.clone());
        p.spare = Some(old);
    }
}

/// IDK-06: the device's first key is revoked; the device signs with its second from then on.
#[given(regex = r#"^(?:the device|device "(\w+)")'s first identity key is revoked$"#)]
async fn revoke_first(w: &mut CheckWorld, name: String) {
    control_only(w, "revoking an identity key");
    let id = w.device(&name);
    let Some(first) = pos(w, &name).first_key_id.clone() else { harness_error!("add a second identity key first") };
    let ex = w.send(ApiRequest::new("DELETE", &format!("/_sim/devices/{id}/identity-keys/{first}"))).await;
    if ex.status != Some(200) {
        harness_error!("cannot revoke an identity key: {}", ex.excerpt());
    }
    let p = pos(w, &name);
    if p.terminal.secrets.as_ref().is_some_and(|s| s.identity_key_id == first)
        && let Some(second) = p.spare.take()
    {
        p.spare = p.terminal.secrets.replace(second);
    }
    p.revoked.push(first);
}

/// The device signs with its first key again.
#[when(regex = r#"^(?:the device|device "(\w+)") signs with its first identity key$"#)]
async fn sign_with_first(w: &mut CheckWorld, name: String) {
    let p = pos(w, &name);
    let Some(first) = p.spare.take() else { harness_error!("the device has one identity key") };
    if let Some(current) = p.terminal.secrets.replace(first) {
        p.spare = Some(current);
    }
}

/// KEYS-14: the control API discards the device's key set.
#[when(regex = r#"^the control API rotates (?:the device|device "(\w+)")'s key set$"#)]
async fn rotate(w: &mut CheckWorld, name: String) {
    control_only(w, "rotating a key set");
    let Some(d) = w.modeled(&name) else { harness_error!("rotate a device the model follows") };
    let id = w.device(&name);
    let ex = w.send(ApiRequest::new("POST", &format!("/_sim/devices/{id}/key-set/rotate"))).await;
    if ex.status != Some(200) {
        harness_error!("cannot rotate the key set: {}", ex.excerpt());
    }
    w.model.rotated(d);
    pos(w, &name).terminal.rotated = true;
}

// ---- When -------------------------------------------------------------------------------------

#[when(regex = r#"^(?:the device|device "(\w+)") attests$"#)]
async fn attests(w: &mut CheckWorld, name: String) {
    attest(w, &name, AttestFault::None).await;
}

#[when(regex = r#"^(?:the device|device "(\w+)") attests with X-Timestamp (-?\d+) seconds from the target's time$"#)]
async fn attests_skewed(w: &mut CheckWorld, name: String, skew: i64) {
    attest(w, &name, AttestFault::Skewed(skew)).await;
}

#[when(regex = r#"^(?:the device|device "(\w+)") attests again with the nonce of its last attest$"#)]
async fn attests_replayed(w: &mut CheckWorld, name: String) {
    let now = w.model.now;
    let Some(age) = w.pos.get(&name).and_then(|p| p.nonces.last()).map(|(_, at)| now - at) else {
        harness_error!("the device has not attested yet");
    };
    attest(w, &name, AttestFault::ReusedNonce { age }).await;
}

#[when(
    regex = r#"^(?:the device|device "(\w+)") attests (with a signature under another secret|with an unknown key id|with its revoked key)$"#
)]
async fn attests_badly(w: &mut CheckWorld, name: String, how: String) {
    let fault = match how.as_str() {
        "with a signature under another secret" => AttestFault::BadSignature,
        "with an unknown key id" => AttestFault::UnknownKey,
        _ => AttestFault::RevokedKey,
    };
    attest(w, &name, fault).await;
}

/// ATT-13: a body is ignored and not signed, whatever its `Content-Type`.
#[when("the device attests with a body and Content-Type text/plain")]
async fn attests_with_body(w: &mut CheckWorld) {
    let d = device(w, "").await;
    let now = target_time(w).await;
    let model_now = w.model.now;
    let Some(mut call) = pos(w, "").attest(&AttestFault::None, now, model_now) else { harness_error!("no identity key") };
    call.request = call.request.header("Content-Type", "text/plain").body("firmware 4.2.1 says hello");
    let expect = w.model.attest(d, &AttestFault::None).or_differs(crate::model::Outcome::refusal("refused"), "ATT-13");
    let (ex, label) = w.judged(call.request.clone(), &expect).await;
    pos(w, "").attested(&call, &ex, label, model_now);
}

/// ATT-21: a well-formed, unprovisioned device id, signed with a key of its own.
#[when("an unprovisioned device attests")]
async fn unknown_attests(w: &mut CheckWorld) {
    let id = w.target().unknown_device.clone();
    let secrets = crate::pos::DeviceSecrets {
        identity_key_id: format!("idk-{}", id.get(4..).unwrap_or_default().to_lowercase()),
        identity_secret: vec![7; 32],
        zmk: None,
    };
    let stranger = PosDevice::new(usize::MAX, Terminal::new(&id, Some(secrets)));
    let Some(call) = stranger.attest(&AttestFault::None, target_time(w).await, w.model.now) else { harness_error!("no identity key") };
    let not_found =
        crate::model::Outcome::error("not-found", 404, "4004", "Device not found").with_fields(serde_json::json!({ "device_id": id }));
    let expect = crate::model::Expect::only("ATT-21", not_found).or_differs(crate::model::Outcome::refusal("refused"), "ATT-21");
    w.judged(call.request, &expect).await;
}

#[when(regex = r#"^(?:the device|device "(\w+)") attests (without the|with an invalid) "([\w-]+)" header$"#)]
async fn attests_header(w: &mut CheckWorld, name: String, how: String, header: String) {
    let Some(h) = SignatureHeader::parse(&header) else { harness_error!("`{header}` is not a signature header") };
    let fault = if how == "without the" { AttestFault::Missing(h) } else { AttestFault::Invalid(h) };
    attest(w, &name, fault).await;
}

fn token_choice(w: &CheckWorld, words: &str) -> TokenChoice {
    match words {
        "" | "its token" => TokenChoice::Latest,
        "its first token" => TokenChoice::First,
        "no Authorization header" => TokenChoice::Missing,
        "a token never issued" => TokenChoice::NeverIssued,
        "an empty Attestation header" => TokenChoice::Empty,
        "the scheme word in lowercase" => TokenChoice::LowercaseScheme,
        "no X-Device-Id header" => TokenChoice::NoDeviceId,
        "a malformed X-Device-Id" => TokenChoice::BadDeviceId,
        other => match other.strip_prefix("device \"").and_then(|s| s.strip_suffix("\"'s token")) {
            Some(n) => match w.pos.get(n) {
                Some(p) => TokenChoice::Of { device: p.index },
                None => harness_error!("device `{n}` has no token"),
            },
            None => harness_error!("unknown token choice `{other}`"),
        },
    }
}

#[when(regex = r#"^(?:the device|device "(\w+)") calls (keys|config|terminal-parameters|activate)(?: with (.+))?$"#)]
async fn calls_step(w: &mut CheckWorld, name: String, which: String, with: String) {
    let Some(s) = Step::parse(&which) else { harness_error!("unknown step `{which}`") };
    if with == "nothing before it" {
        let body = (s == Step::Activate).then(ActivateBody::ready);
        step_with(w, &name, s, TokenChoice::Latest, body, Tweak::OutOfOrder).await;
        return;
    }
    if with == "only the Authorization and X-Device-Id headers" {
        let body = (s == Step::Activate).then(ActivateBody::ready);
        step_with(w, &name, s, TokenChoice::Latest, body, Tweak::OnlyAuthHeaders).await;
        return;
    }
    let choice = if with == "its merchant's Bearer token" {
        let owner = w.modeled(&name).map_or("A", |d| LABELS[w.model.devices[d].owner]);
        TokenChoice::Bearer(w.token(owner).await)
    } else {
        token_choice(w, &with)
    };
    let body = (s == Step::Activate).then(ActivateBody::ready);
    step(w, &name, s, choice, body).await;
}

#[then(regex = r#"^the device's identity key id is idk- and its hex digits in lowercase \[([A-Z]+-\d+)\]$"#)]
async fn default_key_id(w: &mut CheckWorld, rule: String) {
    control_only(w, "a device's default identity key");
    device(w, "").await;
    let id = w.device("");
    let key_id = w.pos.get("").and_then(|p| p.terminal.secrets.as_ref()).map(|s| s.identity_key_id.clone()).unwrap_or_default();
    w.check(&rule, key_id == format!("idk-{}", id.get(4..).unwrap_or_default().to_lowercase()), || {
        format!("{id}'s identity key id is `{key_id}`")
    });
}

#[then(regex = r#"^the two devices' identity secrets and ZMKs differ and are 32 bytes \[([A-Z]+-\d+)\]$"#)]
async fn secrets_differ(w: &mut CheckWorld, rule: String) {
    control_only(w, "comparing device secrets");
    device(w, "").await;
    device(w, "D2").await;
    let a = w.pos.get("").and_then(|p| p.terminal.secrets.clone());
    let b = w.pos.get("D2").and_then(|p| p.terminal.secrets.clone());
    let ok = match (&a, &b) {
        (Some(a), Some(b)) => {
            a.identity_secret.len() == 32
                && b.identity_secret.len() == 32
                && a.identity_secret != b.identity_secret
                && a.zmk.is_some()
                && a.zmk != b.zmk
        }
        _ => false,
    };
    w.check(&rule, ok, || "two devices share an identity secret or a ZMK, or one is not 32 bytes".into());
}

#[then(regex = r#"^the error details field "(\w+)" is an RFC 3339 UTC time in whole seconds \[([A-Z]+-\d+)\]$"#)]
async fn details_time(w: &mut CheckWorld, field: String, rule: String) {
    let v = w.last_json()["error"]["details"][&field].clone();
    let ok = v.as_str().is_some_and(|s| s.len() == 20 && s.ends_with('Z') && OffsetDateTime::parse(s, &Rfc3339).is_ok());
    w.check(&rule, ok, || format!("details.{field} is {v}"));
}

#[then(regex = r#"^the body field "(\w+)" is (\{.*\}) \[([A-Z]+-\d+)\]$"#)]
async fn body_object(w: &mut CheckWorld, field: String, want: String, rule: String) {
    let want: Value = serde_json::from_str(&want).unwrap_or(Value::Null);
    let got = w.last_json()[&field].clone();
    w.check(&rule, got == want, || format!("`{field}` is {got}, expected {want}"));
}

#[when(regex = r#"^(?:the device|device "(\w+)") activates with (.+)$"#)]
async fn activates_with(w: &mut CheckWorld, name: String, what: String) {
    let body = match what.as_str() {
        "keys_installed and network_ok false" => ActivateBody::Flags { emv_ready: true, keys_installed: false, network_ok: false },
        "emv_ready false" => ActivateBody::Flags { emv_ready: false, keys_installed: true, network_ok: true },
        other => match ActivateBody::from_words(other) {
            Some(b) => b,
            None => harness_error!("unknown activate body `{other}`"),
        },
    };
    step(w, &name, Step::Activate, TokenChoice::Latest, Some(body)).await;
}

// ---- Then -------------------------------------------------------------------------------------

#[then(regex = r"^the attestation token is att_ and 24 letters and digits \[([A-Z]+-\d+)\]$")]
async fn token_shape(w: &mut CheckWorld, rule: String) {
    let token = w.last_json()["attestation_token"].as_str().unwrap_or_default().to_owned();
    let ok = token.strip_prefix("att_").is_some_and(|t| t.len() == 24 && t.chars().all(|c| c.is_ascii_alphanumeric()));
    w.check(&rule, ok, || format!("attestation_token `{token}`"));
}

#[then(regex = r#"^the device holds (\d) keys unwrapped from its ZMK down \[([A-Z]+-\d+)\]$"#)]
async fn holds_keys(w: &mut CheckWorld, n: usize, rule: String) {
    let held: Vec<String> =
        w.pos.get("").and_then(|p| p.terminal.keys.as_ref()).map(|k| k.clear.keys().cloned().collect()).unwrap_or_default();
    w.check(&rule, held.len() == n, || format!("unwrapped {held:?}"));
}

#[then(regex = r#"^the key set is "(ks-\d{4}-\d{2})"-style with sequence (\d+) \[([A-Z]+-\d+)\]$"#)]
async fn key_set_sequence(w: &mut CheckWorld, _example: String, seq: u32, rule: String) {
    let id = w.last_json()["key_set"]["key_set_id"].as_str().unwrap_or_default().to_owned();
    let ok = id.rsplit('-').next().and_then(|s| s.parse::<u32>().ok()) == Some(seq);
    w.check(&rule, ok, || format!("key_set_id `{id}`"));
}

#[then(regex = r#"^the decrypted config's "([\w.]+)" is (.+) \[([A-Z]+-\d+)\]$"#)]
async fn config_field(w: &mut CheckWorld, path: String, want: String, rule: String) {
    let doc = w.pos.get("").and_then(|p| p.terminal.config.clone()).unwrap_or(Value::Null);
    let got = path.split('.').fold(&doc, |v, k| &v[k]).clone();
    let want: Value = serde_json::from_str(&w.expand(&want)).unwrap_or(Value::Null);
    w.check(&rule, got == want, || format!("`{path}` is {got}, expected {want}"));
}

/// ACT-02 (REQUIRED) asks only that the plaintext contains `status` and `activated_at`; their
/// values are open on a real server (ACT-04), and the simulator's exact form and time are ACT-08's,
/// judged as the answer is opened (an advisory there, never this rule).
#[then(regex = r#"^the activate answer decrypts to a status and an activated_at time \[([A-Z]+-\d+)\]$"#)]
async fn activated_answer(w: &mut CheckWorld, rule: String) {
    let answer = w.pos.get("").and_then(|p| p.terminal.activate_answer.clone()).unwrap_or(Value::Null);
    let ex = w.last().clone();
    let time = answer["activated_at"].as_str().and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
    let ok = ex.status == Some(200) && !answer["status"].is_null() && time.is_some();
    w.check(&rule, ok, || format!("activate answered {}, decrypted to {answer}", ex.excerpt()));
}

#[then(regex = r#"^the device's activated_at is unchanged \[([A-Z]+-\d+)\]$"#)]
async fn activated_unchanged(w: &mut CheckWorld, rule: String) {
    let terminal = w.pos.get("").map(|p| p.terminal.clone());
    let first = terminal.as_ref().and_then(|t| t.activated_at.clone());
    let latest = terminal.and_then(|t| t.activate_answer).map(|a| a["activated_at"].clone()).unwrap_or(Value::Null);
    let ex = w.last().clone();
    let ok = ex.status == Some(200) && first.is_some() && latest.as_str() == first.as_deref();
    w.check(&rule, ok, || format!("first activated_at {first:?}, latest {latest}; the repeated activate answered {}", ex.excerpt()));
}

#[then(regex = r#"^the target recorded no finding for ([A-Z]+-\d+) \[([A-Z]+-\d+)\]$"#)]
async fn no_finding(w: &mut CheckWorld, checked: String, rule: String) {
    let found: Vec<String> = w.core.findings.iter().filter(|f| f.rule.as_str() == checked).map(|f| f.message.clone()).collect();
    w.check(&rule, found.is_empty(), || found.join("; "));
}
