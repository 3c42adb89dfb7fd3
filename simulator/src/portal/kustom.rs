//! The Kustom tab: what Kustom's own portal does for a merchant's backoffice, through Kustom's API
//! (`/ipp/v1`) with the merchant's API key, as the real one would: list the enrollments (PENDING
//! and CONSUMED, KEN-22) and the devices, create an enrollment (KEN-01) and show its code, cancel
//! one (KEN-35), deregister a device (KDEV-20). Shown to users whose fixtures entry names a
//! `kustom_merchant_id`.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequest, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, post};
use maud::{Markup, html};
use serde_json::{Value, json};

use super::api::{Answer, ApiClient};
use super::form::{Fields, Posted};
use super::layout::{Tab, page, problem, respond};
use super::session::{Flash, SignedIn};
use crate::kustom::{KustomStore, Merchant};

/// The lifetimes the form offers (KEN-08's `ttl`).
const LIFETIMES: [(&str, &str); 4] =
    [("TWO_HOURS", "2 hours"), ("TWENTY_FOUR_HOURS", "24 hours"), ("FORTY_EIGHT_HOURS", "48 hours"), ("SEVENTY_TWO_HOURS", "72 hours")];

/// How many metadata pairs the form has fields for.
const PAIRS: usize = 3;

fn merchant(kustom: &KustomStore, who: &SignedIn) -> Option<Merchant> {
    let id = who.kustom_merchant.as_deref()?;
    kustom.read().state.merchants.iter().find(|m| m.id == id).cloned()
}

/// A list request (KAUTH-06: with `x-merchant-id`).
async fn list(api: &ApiClient, m: &Merchant, path: &str) -> Result<Vec<Value>, String> {
    let auth = format!("Basic {}", m.api_key);
    match api.call(Method::GET, path, &[("authorization", &auth), ("x-merchant-id", &m.id)], None).await {
        Answer::Http(StatusCode::OK, Some(page)) => Ok(page["content"].as_array().cloned().unwrap_or_default()),
        Answer::Http(status, body) => Err(format!("Kustom answered HTTP {status}{}", detail(body.as_ref()))),
        Answer::Broken(why) => Err(format!("Kustom did not answer properly ({why})")),
    }
}

fn detail(body: Option<&Value>) -> String {
    body.and_then(|b| b["detail"].as_str()).map(|d| format!(": {d}")).unwrap_or_default()
}

pub(crate) async fn show(State(kustom): State<Arc<KustomStore>>, State(api): State<ApiClient>, who: SignedIn) -> Response {
    let Some(m) = merchant(&kustom, &who) else {
        return problem(
            StatusCode::NOT_FOUND,
            Some(&who),
            "No Kustom merchant",
            "Your user runs no Kustom merchant (kustom_merchant_id in the fixtures).",
        );
    };
    let enrollments = list(&api, &m, "/ipp/v1/enrollments?page_size=100").await;
    let devices = list(&api, &m, "/ipp/v1/devices?page_size=100").await;
    let location_name =
        |id: &str| m.locations.iter().find(|l| l.id == id).map_or_else(|| id.to_owned(), |l| format!("{}, {}", l.name, l.city));
    let body = html! {
        h1 { "Kustom devices" }
        p.sim-banner role="note" {
            "Kustom In-Person Payments: " (m.name) " (" code { (m.id) } "). This tab does what Kustom's portal does, "
            "through /ipp/v1 with the merchant's API key; the API key never reaches this page."
        }
        section.card aria-labelledby="new-h" {
            h2 #new-h { "Enroll a device" }
            form.row method="post" action="/portal/kustom/enrollments" {
                div { label for="k-location" { "Location" }
                    select #k-location name="location_id" { @for l in &m.locations { option value=(l.id) { (l.name) ", " (l.city) } } } }
                div { label for="k-ttl" { "Code valid for" }
                    select #k-ttl name="ttl" { @for (v, label) in LIFETIMES { option value=(v) { (label) } } } }
                fieldset.pairs {
                    legend { "Metadata (carried to the device; filters device lists)" }
                    @for i in 0..PAIRS {
                        div.pair {
                            label.vh for=(format!("k-key-{i}")) { "Metadata key " (i + 1) }
                            input id=(format!("k-key-{i}")) type="text" name=(format!("key{i}")) maxlength="64" placeholder="key";
                            span aria-hidden="true" { "=" }
                            label.vh for=(format!("k-value-{i}")) { "Metadata value " (i + 1) }
                            input id=(format!("k-value-{i}")) type="text" name=(format!("value{i}")) maxlength="256" placeholder="value";
                        }
                    }
                }
                button type="submit" { "Create enrollment" }
            }
            p.hint { "The store clerk types the code into the Kustom POS app; the device is then registered with this metadata and location." }
        }
        section.card aria-labelledby="enr-h" {
            h2 #enr-h { "Enrollments" }
            (match &enrollments {
                Err(why) => html! { p.muted { (why) } },
                Ok(list) if list.is_empty() => html! { p.muted data-testid="no-enrollments" { "No pending or used enrollment." } },
                Ok(list) => enrollment_table(list, &location_name),
            })
        }
        section.card aria-labelledby="dev-h" {
            h2 #dev-h { "Devices" }
            (match &devices {
                Err(why) => html! { p.muted { (why) } },
                Ok(list) if list.is_empty() => html! { p.muted data-testid="no-devices" { "No registered device." } },
                Ok(list) => device_table(list, &location_name),
            })
        }
    };
    respond(StatusCode::OK, page("Kustom devices", Some(&who), Tab::Kustom, body))
}

fn metadata_text(v: &Value) -> String {
    v.as_object()
        .map(|o| o.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

fn enrollment_table(list: &[Value], location_name: &dyn Fn(&str) -> String) -> Markup {
    html! {
        div.table-wrap { table data-testid="enrollments" {
            thead { tr { th { "Code" } th { "Status" } th { "Location" } th { "Metadata" } th { "Expires" } th { span.vh { "Action" } } } }
            tbody { @for e in list {
                @let id = e["enrollment_id"].as_str().unwrap_or_default();
                @let status = e["status"].as_str().unwrap_or_default();
                tr data-enrollment=(id) {
                    td { code data-field="code" { (e["enrollment_code"].as_str().unwrap_or_default()) } }
                    td data-field="status" { (status) }
                    td { (location_name(e["location_id"].as_str().unwrap_or_default())) }
                    td { (metadata_text(&e["metadata"])) }
                    td { (e["expires_at"].as_str().unwrap_or_default()) }
                    td { @if status == "PENDING" {
                        form method="post" action="/portal/kustom/enrollments/cancel" {
                            input type="hidden" name="id" value=(id);
                            button.danger type="submit" { "Cancel" }
                        }
                    } }
                }
            } }
        } }
    }
}

fn device_table(list: &[Value], location_name: &dyn Fn(&str) -> String) -> Markup {
    html! {
        div.table-wrap { table data-testid="devices" {
            thead { tr { th { "Name" } th { "Platform" } th { "Hardware" } th { "Location" } th { "Metadata" } th { "Registered" } th { span.vh { "Action" } } } }
            tbody { @for d in list {
                @let id = d["id"].as_str().unwrap_or_default();
                tr data-device=(id) {
                    td data-field="name" { (d["name"].as_str().unwrap_or_default()) }
                    td { (d["platform"].as_str().unwrap_or_default()) }
                    td { code { (d["hardware_id"].as_str().unwrap_or_default()) } }
                    td { (d["location_id"].as_str().map_or_else(|| "none".to_owned(), location_name)) }
                    td data-field="metadata" { (metadata_text(&d["metadata"])) }
                    td { (d["created_at"].as_str().unwrap_or_default()) }
                    td { form method="post" action="/portal/kustom/devices/deregister" {
                        input type="hidden" name="id" value=(id);
                        button.danger type="submit" { "Deregister" }
                    } }
                }
            } }
        } }
    }
}

/// A refusal of Kustom's API in words: its `detail`, and for a 400 every invalid member.
fn refused(title: &str, body: Option<&Value>, status: StatusCode) -> Flash {
    let mut detail = body.and_then(|b| b["detail"].as_str()).unwrap_or("").to_owned();
    if let Some(errors) = body.and_then(|b| b["errors"].as_object()) {
        let list: Vec<String> = errors.iter().map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or_default())).collect();
        detail = format!("{detail} {}", list.join("; "));
    }
    Flash { ok: false, title: title.into(), detail: format!("Kustom answered HTTP {status}. {detail}").trim().to_owned(), rule: None }
}

fn enrollment_body(fields: &Fields) -> Value {
    let metadata: serde_json::Map<String, Value> = (0..PAIRS)
        .filter_map(|i| {
            let k = fields.get(&format!("key{i}")).trim().to_owned();
            (!k.is_empty()).then(|| (k, Value::String(fields.get(&format!("value{i}")).to_owned())))
        })
        .collect();
    json!({ "metadata": metadata, "ttl": fields.get("ttl"), "location_id": fields.get("location_id") })
}

/// Runs one write through the API with the merchant's key, and answers with the flash on the tab.
async fn act(kustom: &KustomStore, api: &ApiClient, form: Posted, run: Action) -> Response {
    let (who, fields) = (&form.who, &form.fields);
    let Some(m) = merchant(kustom, who) else { return Redirect::to("/portal/kustom").into_response() };
    let auth = format!("Basic {}", m.api_key);
    let headers = [("authorization", auth.as_str())];
    let id = fields.get("id").to_owned();
    let flash = match run {
        Action::Create => match api.call(Method::POST, "/ipp/v1/enrollments", &headers, Some(enrollment_body(fields))).await {
            Answer::Http(StatusCode::CREATED, Some(e)) => Flash {
                ok: true,
                title: format!("Enrollment created: code {}", e["enrollment_code"].as_str().unwrap_or_default()),
                detail: format!("The clerk types it into the Kustom POS app before {}.", e["expires_at"].as_str().unwrap_or_default()),
                rule: Some("KEN-01".into()),
            },
            Answer::Http(status, body) => refused("No enrollment was created.", body.as_ref(), status),
            Answer::Broken(why) => Flash { ok: false, title: "Kustom did not answer properly.".into(), detail: why, rule: None },
        },
        Action::Cancel => match api.call(Method::DELETE, &format!("/ipp/v1/enrollments/{}", urlencode(&id)), &headers, None).await {
            Answer::Http(StatusCode::NO_CONTENT, _) => Flash {
                ok: true,
                title: "Enrollment cancelled.".into(),
                detail: "Its code registers nothing any more.".into(),
                rule: Some("KEN-35".into()),
            },
            Answer::Http(status, body) => refused("The enrollment was not cancelled.", body.as_ref(), status),
            Answer::Broken(why) => Flash { ok: false, title: "Kustom did not answer properly.".into(), detail: why, rule: None },
        },
        Action::Deregister => match api.call(Method::DELETE, &format!("/ipp/v1/devices/{}", urlencode(&id)), &headers, None).await {
            Answer::Http(StatusCode::NO_CONTENT, _) => Flash {
                ok: true,
                title: "Device deregistered.".into(),
                detail: "Its token is refused from now on; to use it again, enroll it again.".into(),
                rule: Some("KDEV-20".into()),
            },
            Answer::Http(status, body) => refused("The device was not deregistered.", body.as_ref(), status),
            Answer::Broken(why) => Flash { ok: false, title: "Kustom did not answer properly.".into(), detail: why, rule: None },
        },
    };
    form.answer(flash, "/portal/kustom")
}

fn urlencode(raw: &str) -> String {
    percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The tab's writes, each its own route.
#[derive(Clone, Copy)]
pub(crate) enum Action {
    Create,
    Cancel,
    Deregister,
}

/// The route of one write: what it reads is Kustom's merchants (the key), the API it calls, and
/// the signed-in post.
pub(crate) fn action<S>(run: Action) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<KustomStore>: FromRef<S>,
    ApiClient: FromRef<S>,
    Posted: FromRequest<S, Rejection = Response>,
{
    post(move |State(kustom): State<Arc<KustomStore>>, State(api): State<ApiClient>, form: Posted| async move {
        act(&kustom, &api, form, run).await
    })
}
