//! Claim a device (step 4) the way VioPay's backoffice does it: the person types the code off the
//! terminal's screen, and the portal sends `POST /pos/claim` with the signed-in user's Bearer token.
//! The request goes through the simulator's own API stack (envelope, faults, journal), so the
//! journal shows an ordinary merchant claim and an armed fault on `/pos/claim` hits it too. Every
//! answer is put in words a shop owner understands, with the rule ID in small print.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use maud::html;
use serde_json::Value;

use super::api::Answer;
use super::api::ApiClient;
use super::form::Posted;
use super::layout::{Tab, page, respond};
use super::session::{Flash, Sessions, SignedIn};
use crate::auth::grant::Grants;

/// The longest code the field accepts; VioPay's are 6 characters, the rest is for typos.
const MAX_CODE: usize = 32;

pub(crate) async fn show(who: SignedIn) -> Response {
    let body = html! {
        h1 { "Claim a device" }
        div.card {
            form.stack method="post" action="/portal/claim" {
                div {
                    label for="pairing_code" { "Pairing code" }
                    input.code #pairing_code type="text" name="pairing_code" maxlength=(MAX_CODE) autocomplete="off"
                        autocapitalize="characters" spellcheck="false" required autofocus aria-describedby="code-hint";
                    p.hint #code-hint { "The six characters the terminal shows on its screen, for example K7M3N9." }
                }
                button type="submit" { "Claim device" }
            }
        }
        p.muted { "Claimed devices appear in your " a href="/portal/fleet" { "fleet" } "." }
    };
    respond(StatusCode::OK, page("Claim a device", Some(&who), Tab::Claim, body))
}

pub(crate) async fn submit(
    State(sessions): State<Arc<Sessions>>,
    State(grants): State<Grants>,
    State(api): State<ApiClient>,
    form: Posted,
) -> Response {
    let who = &form.who;
    let typed: String = form.fields.get("pairing_code").trim().chars().take(MAX_CODE).collect();
    let flash = if typed.is_empty() {
        Flash { ok: false, title: "Type the code shown on the terminal.".into(), detail: String::new(), rule: None }
    } else {
        match sessions.token(&grants, &who.session) {
            Ok(token) => explain(&typed, &who.merchant_name, call_claim(&api, &token, &typed).await),
            Err(_) => {
                Flash { ok: false, title: "Your account is no longer available.".into(), detail: "Sign in again.".into(), rule: None }
            }
        }
    };
    form.answer(flash, "/portal/claim")
}

async fn call_claim(api: &ApiClient, token: &str, code: &str) -> Answer {
    let auth = format!("Bearer {token}");
    api.call(Method::POST, "/pos/claim", &[("authorization", &auth)], Some(serde_json::json!({ "pairing_code": code }))).await
}

/// The answer in words. Pure, so every documented answer is unit-tested.
pub(crate) fn explain(typed: &str, merchant: &str, answer: Answer) -> Flash {
    let fail =
        |title: &str, detail: String, rule: Option<&str>| Flash { ok: false, title: title.into(), detail, rule: rule.map(Into::into) };
    let (status, body) = match answer {
        Answer::Http(status, body) => (status, body),
        Answer::Broken(why) => {
            return fail(
                "VioPay did not answer properly.",
                format!("We cannot tell whether the device was claimed ({why}). Look for it in your fleet before trying again."),
                None,
            );
        }
    };
    let body = body.unwrap_or(Value::Null);
    let error = &body["error"];
    let code = error["code"].as_str().unwrap_or_default();
    let message = error["message"].as_str().unwrap_or_default();
    let device = error["details"]["device_id"].as_str().unwrap_or_default();
    match (status.as_u16(), code) {
        (200, _) => match body["device_id"].as_str() {
            Some(device) => Flash {
                ok: true,
                title: format!("Device {device} is now yours."),
                detail: "The terminal notices within a few seconds and finishes setting itself up.".into(),
                rule: Some("CLAIM-20".into()),
            },
            None => fail(
                "VioPay's answer could not be read.",
                "We cannot tell whether the device was claimed. Look for it in your fleet before trying again.".into(),
                None,
            ),
        },
        (400, "4004") => fail(
            "We could not find that code.",
            format!(
                "No terminal is waiting with the code “{typed}”. Check the characters on the terminal's screen; if it shows a newer code, type that one."
            ),
            Some("CLAIM-12"),
        ),
        (403, "4003") => fail(
            "This terminal belongs to another merchant account.",
            format!("Device {device} is not registered to {merchant}. Sign in with the account the terminal was set up for."),
            Some("CLAIM-16"),
        ),
        (400, "4220") if message.contains("used") => fail(
            "This code has already been used.",
            format!(
                "The code “{typed}” has claimed its terminal already. If the terminal is not in your fleet, let it show a new code and type that one."
            ),
            Some("CLAIM-18"),
        ),
        (400, "4220") => fail(
            "This code has expired.",
            format!(
                "Codes are valid for five minutes and “{typed}” is older. The terminal shows a new code when it asks again: type that one."
            ),
            Some("CLAIM-19"),
        ),
        (400, "4000") => {
            fail("VioPay could not read the code.", error["details"]["message"].as_str().unwrap_or(message).to_owned(), Some("CLAIM-05"))
        }
        (401, _) => fail("Your sign-in has expired.", "Sign out and sign in again, then type the code.".into(), Some("CLAIM-04")),
        (status, _) => fail(
            "VioPay could not take the claim right now.",
            format!(
                "It answered HTTP {status}{}. Nothing was claimed; try again in a moment.",
                if message.is_empty() { String::new() } else { format!(" ({message})") }
            ),
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(status: u16, code: &str, message: &str, details: Value) -> Answer {
        Answer::Http(
            StatusCode::from_u16(status).expect("status"),
            Some(json!({"error": {"code": code, "message": message, "details": details, "trace_id": "t"}})),
        )
    }

    #[test]
    fn every_documented_claim_answer_has_words_and_its_rule() {
        let cases = [
            (Answer::Http(StatusCode::OK, Some(json!({"status": "claimed", "device_id": "POS-8F3A2C91"}))), true, Some("CLAIM-20")),
            (err(400, "4004", "Pairing code not found", json!({"pairing_code": "K7M3N9"})), false, Some("CLAIM-12")),
            (
                err(403, "4003", "Device does not belong to your merchant account", json!({"device_id": "POS-B0000001"})),
                false,
                Some("CLAIM-16"),
            ),
            (err(400, "4220", "Pairing code has already been used", json!({"pairing_code": "K7M3N9"})), false, Some("CLAIM-18")),
            (err(400, "4220", "Pairing code has expired", json!({"pairing_code": "K7M3N9"})), false, Some("CLAIM-19")),
            (err(400, "4000", "Invalid request body", json!({"message": "x"})), false, Some("CLAIM-05")),
            (err(401, "4010", "Unauthorized", Value::Null), false, Some("CLAIM-04")),
            (Answer::Http(StatusCode::BAD_GATEWAY, None), false, None),
            (Answer::Broken("reset".into()), false, None),
        ];
        for (answer, ok, rule) in cases {
            let shown = format!("{answer:?}");
            let flash = explain("K7M3N9", "Acme Coffee", answer);
            assert_eq!((flash.ok, flash.rule.as_deref()), (ok, rule), "{shown}: {flash:?}");
            assert!(!flash.title.is_empty() && !flash.title.contains("4004"), "{flash:?}");
        }
        let expired = explain("K7M3N9", "Acme", err(400, "4220", "Pairing code has expired", Value::Null));
        assert!(expired.title.contains("expired"), "{expired:?}");
        let other = explain("K7M3N9", "Acme", err(403, "4003", "x", json!({"device_id": "POS-B0000001"})));
        assert!(other.detail.contains("POS-B0000001") && other.detail.contains("Acme"), "{other:?}");
        let gateway = explain("K7M3N9", "Acme", Answer::Http(StatusCode::BAD_GATEWAY, None));
        assert!(gateway.detail.contains("502"), "{gateway:?}");
    }
}
