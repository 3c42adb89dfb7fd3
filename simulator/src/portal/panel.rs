//! The simulator panel: the clock, faults, device reset and one device's journal. Marked on every
//! view as the simulator's own, not part of VioPay. Clock and faults act on the whole simulator,
//! as `/_sim/clock` and `/_sim/faults` do; device reset and the journal reach only the signed-in
//! merchant's devices.

use std::sync::Arc;

use axum::extract::{Query, State, rejection::QueryRejection};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use time::Duration;

use super::form::{Fields, Posted};
use super::layout::{Tab, page, respond};
use super::session::{Flash, SignedIn};
use crate::auto_claim::AutoClaims;
use crate::clock::{Clock, ClockMode};
use crate::faults::{FAULTABLE, FaultSpec, Faults};
use crate::ids::DeviceId;
use crate::journal::Journal;
use crate::store::ViopayStore;
use crate::time_fmt::{parse_rfc3339, rfc3339, rfc3339_millis};

/// Journal entries shown for one device, newest last.
const JOURNAL_SHOWN: usize = 50;

const KINDS: [&str; 8] = ["status", "error", "reset", "hang", "latency", "truncate", "malformed", "dribble"];

#[derive(Deserialize, Default)]
pub(crate) struct Shown {
    #[serde(default)]
    device: String,
}

fn ok(title: impl Into<String>) -> Flash {
    Flash { ok: true, title: title.into(), detail: String::new(), rule: None }
}

fn refused(title: impl Into<String>, detail: impl Into<String>) -> Flash {
    Flash { ok: false, title: title.into(), detail: detail.into(), rule: None }
}

/// One of the merchant's own devices, by the id typed or picked.
fn own_device(store: &ViopayStore, who: &SignedIn, raw: &str) -> Result<DeviceId, Flash> {
    let id = DeviceId::parse(raw.trim())
        .map_err(|_| refused("No such device.", format!("“{}” is not a device id like POS-8F3A2C91.", raw.trim())))?;
    let store = store.read();
    match store.state.device(id) {
        Ok(d) if d.owner == who.merchant => Ok(id),
        _ => Err(refused("No such device in your fleet.", format!("{id} is not one of {}'s devices.", who.merchant_name))),
    }
}

pub(crate) async fn show(
    State(clock): State<Arc<Clock>>,
    State(store): State<Arc<ViopayStore>>,
    State(faults): State<Arc<Faults>>,
    State(journal): State<Arc<Journal>>,
    who: SignedIn,
    query: Result<Query<Shown>, QueryRejection>,
) -> Response {
    let shown = query.map(|Query(s)| s).unwrap_or_default();
    let journal = if shown.device.trim().is_empty() {
        None
    } else {
        Some(match own_device(&store, &who, &shown.device) {
            Ok(id) => Ok((id, journal.entries(Some(&id.to_string()), Some(JOURNAL_SHOWN)).0)),
            Err(flash) => Err(flash),
        })
    };
    let own: Vec<String> = {
        let store = store.read();
        let mut ids: Vec<DeviceId> = store.state.devices().filter(|(_, d)| d.owner == who.merchant).map(|(id, _)| id).collect();
        ids.sort_unstable();
        ids.into_iter().take(200).map(|id| id.to_string()).collect()
    };
    let body = html! {
        h1 { "Simulator" }
        p.sim-banner role="note" {
            "Simulator controls: not part of VioPay. The clock and faults act on the whole simulator; "
            "device reset and the journal reach only " (who.merchant_name) "'s devices."
        }
        datalist #own-devices { @for id in &own { option value=(id) {} } }
        (clock_card(&clock))
        (faults_card(&faults))
        (devices_card(&shown.device, journal))
    };
    respond(StatusCode::OK, page("Simulator", Some(&who), Tab::Simulator, body))
}

fn clock_card(clock: &Clock) -> Markup {
    let virtual_clock = clock.mode() == ClockMode::Virtual;
    html! {
        section.card.sim aria-labelledby="clock-h" {
            h2 #clock-h { "Clock" }
            p { "Simulator time " strong data-testid="sim-now" { (rfc3339(clock.now())) }
                " · " (if virtual_clock { "virtual: it moves only when you move it" } else { "system clock: it follows real time and cannot be moved" }) }
            @if virtual_clock {
                form.row method="post" action="/portal/simulator/clock/advance" {
                    span { "Advance by" }
                    button.secondary type="submit" name="seconds" value="60" { "1 min" }
                    button.secondary type="submit" name="seconds" value="300" { "5 min" }
                    button.secondary type="submit" name="seconds" value="600" { "10 min" }
                    button.secondary type="submit" name="seconds" value="3600" { "1 h" }
                }
                form.row method="post" action="/portal/simulator/clock/advance" {
                    div { label for="advance-seconds" { "Seconds" } input #advance-seconds type="number" name="seconds" min="1" max="4294967295" required; }
                    button type="submit" { "Advance" }
                }
                form.row method="post" action="/portal/simulator/clock/set" {
                    div { label for="set-now" { "Set to (RFC 3339, later than now)" } input #set-now type="text" name="now" placeholder="2025-12-13T15:00:00Z" required; }
                    button type="submit" { "Set" }
                }
            }
        }
    }
}

fn faults_card(faults_armed: &Faults) -> Markup {
    let faults = faults_armed.list();
    html! {
        section.card.sim aria-labelledby="faults-h" {
            h2 #faults-h { "Faults" }
            @if faults.is_empty() {
                p.muted data-testid="faults-none" { "No fault is armed." }
            } @else {
                div.table-wrap { table {
                    thead { tr { th { "Id" } th { "Kind" } th { "Endpoint" } th { "Device" } th { "Left" } th { "Fired" } th { span.vh { "Remove" } } } }
                    tbody { @for f in &faults {
                        tr data-fault=(f.id) {
                            td { (f.id) }
                            td { (f.spec.kind.as_deref().unwrap_or("error")) @if let Some(rule) = &f.spec.rule { " " (rule) } @if let Some(s) = f.spec.status { " " (s) } }
                            td { code { (f.spec.endpoint.as_deref().map_or_else(|| f.spec.step.map_or("every endpoint".to_owned(), |s| format!("step {s}")), str::to_owned)) } }
                            td { (f.spec.device_id.as_deref().unwrap_or("any")) }
                            td { (f.remaining.map_or("until cleared".to_owned(), |r| r.to_string())) }
                            td { (f.fired) }
                            td { form method="post" action="/portal/simulator/faults/remove" {
                                input type="hidden" name="id" value=(f.id);
                                button.link type="submit" { "Remove" }
                            } }
                        }
                    } }
                } }
            }
            form.row method="post" action="/portal/simulator/faults" {
                div { label for="fault-kind" { "Kind" } select #fault-kind name="kind" { @for k in KINDS { option value=(k) { (k) } } } }
                div { label for="fault-endpoint" { "Endpoint" } select #fault-endpoint name="endpoint" {
                    option value="" { "every endpoint" }
                    @for e in FAULTABLE { option value=(e) { (e) } }
                } }
                div { label for="fault-device" { "Device (optional)" } input #fault-device type="text" name="device_id" list="own-devices" placeholder="any"; }
                div { label for="fault-count" { "Times" } input #fault-count type="number" name="count" min="1" value="1"; }
                div { label for="fault-more" { "More fields (JSON)" } input #fault-more type="text" name="more" placeholder="{\"status\": 503}"; }
                button type="submit" { "Arm" }
            }
            p.hint { "Kinds and their fields are those of " code { "POST /_sim/faults" } " (see the README)." }
            div.row {
                form.row method="post" action="/portal/simulator/faults/profile" {
                    div { label for="fault-profile" { "Profile" } select #fault-profile name="name" { @for p in faults_armed.profile_names() { option value=(p) { (p) } } } }
                    button.secondary type="submit" { "Arm profile" }
                }
                form method="post" action="/portal/simulator/faults/clear" { button.danger type="submit" { "Clear all faults" } }
            }
        }
    }
}

fn devices_card(picked: &str, journal: Option<Result<(DeviceId, Vec<crate::journal::JournalEntry>), Flash>>) -> Markup {
    html! {
        section.card.sim aria-labelledby="devices-h" {
            h2 #devices-h { "Devices" }
            form.row method="post" action="/portal/simulator/devices/reset" {
                div { label for="reset-device" { "Reset a device to inactive (codes, keys and tokens forgotten)" }
                      input #reset-device type="text" name="device_id" list="own-devices" value=(picked) required; }
                button.danger type="submit" { "Reset device" }
            }
            form.row method="get" action="/portal/simulator" {
                div { label for="journal-device" { "Journal of device" } input #journal-device type="text" name="device" list="own-devices" value=(picked) required; }
                button.secondary type="submit" { "Show journal" }
            }
            @match journal {
                None => {}
                Some(Err(flash)) => { (super::layout::flash_box(&flash)) }
                Some(Ok((id, entries))) => {
                    h2 { "Journal of " (id) }
                    @if entries.is_empty() { p.muted { "The journal holds no request of this device." } } @else {
                        div.table-wrap { table data-testid="journal" {
                            thead { tr { th { "Time" } th { "Request" } th { "Status" } th { "Code" } th { "Rule" } th { "Faults" } } }
                            tbody { @for e in &entries {
                                tr {
                                    td { (rfc3339_millis(e.time)) }
                                    td { (e.method.as_str()) " " code { (e.path) } }
                                    td { (e.status.map_or_else(|| e.connection.map_or("—".to_owned(), |c| format!("{c:?}")), |s| s.to_string())) }
                                    td { (e.code.as_deref().unwrap_or("")) }
                                    td { (e.rule.unwrap_or("")) }
                                    td { (e.faults.iter().map(|f| f.kind).collect::<Vec<_>>().join(", ")) }
                                }
                            } }
                        } }
                    }
                }
            }
        }
    }
}

/// The action's answer as a flash on the panel (post, redirect, get), showing `device` if any.
fn back(form: &Posted, flash: Flash, device: &str) -> Response {
    let to = if device.is_empty() {
        "/portal/simulator".to_owned()
    } else {
        format!("/portal/simulator?{}", form_urlencoded::Serializer::new(String::new()).append_pair("device", device).finish())
    };
    form.answer(flash, &to)
}

pub(crate) async fn advance(State(clock): State<Arc<Clock>>, form: Posted) -> Response {
    let flash = match form.fields.get("seconds").trim().parse::<u32>() {
        Ok(secs) if secs > 0 => match clock.advance(Duration::seconds(i64::from(secs))) {
            Ok(now) => ok(format!("The clock moved {secs} s on, to {}.", rfc3339(now))),
            Err(e) => refused("The clock did not move.", e.to_string()),
        },
        _ => refused("The clock did not move.", "Give a whole number of seconds, 1 or more."),
    };
    back(&form, flash, "")
}

pub(crate) async fn set(State(clock): State<Arc<Clock>>, form: Posted) -> Response {
    let fields = &form.fields;
    let flash = match parse_rfc3339(fields.get("now").trim()) {
        Ok(to) => match clock.set(to) {
            Ok(now) => ok(format!("The clock is now {}.", rfc3339(now))),
            Err(e) => refused("The clock did not move.", e.to_string()),
        },
        Err(e) => refused("The clock did not move.", format!("“{}” is not an RFC 3339 time: {e}", fields.get("now"))),
    };
    back(&form, flash, "")
}

/// The form's fields as the JSON `POST /_sim/faults` takes, checked by the same parser.
fn fault_spec(fields: &Fields) -> Result<FaultSpec, String> {
    let mut obj = serde_json::Map::new();
    let more = fields.get("more").trim();
    if !more.is_empty() {
        match serde_json::from_str::<serde_json::Value>(more) {
            Ok(serde_json::Value::Object(m)) => obj.extend(m),
            _ => return Err("“More fields” must be a JSON object, like {\"status\": 503}.".into()),
        }
    }
    obj.insert("kind".into(), fields.get("kind").into());
    for name in ["endpoint", "device_id"] {
        let v = fields.get(name).trim();
        if !v.is_empty() {
            obj.insert(name.into(), v.into());
        }
    }
    let count = fields.get("count").trim();
    if !count.is_empty() {
        let n = count.parse::<u32>().map_err(|_| format!("“{count}” is not a number of times."))?;
        obj.insert("count".into(), n.into());
    }
    serde_json::from_value(serde_json::Value::Object(obj)).map_err(|e| e.to_string())
}

pub(crate) async fn arm(State(faults): State<Arc<Faults>>, form: Posted) -> Response {
    let flash = match fault_spec(&form.fields).and_then(|spec| faults.arm(&spec).map_err(|e| e.to_string())) {
        Ok(fault) => ok(format!("Fault {} armed: {}.", fault.id, fault.spec.kind.as_deref().unwrap_or("error"))),
        Err(why) => refused("No fault was armed.", why),
    };
    back(&form, flash, "")
}

pub(crate) async fn remove(State(faults): State<Arc<Faults>>, form: Posted) -> Response {
    let id = form.fields.get("id");
    let flash = if id.parse::<u64>().is_ok_and(|n| faults.remove(n)) {
        ok(format!("Fault {id} removed."))
    } else {
        refused("No fault was removed.", format!("No armed fault has the id “{id}”."))
    };
    back(&form, flash, "")
}

pub(crate) async fn profile(State(faults): State<Arc<Faults>>, form: Posted) -> Response {
    let name = form.fields.get("name");
    let flash = match faults.arm_profile(name) {
        Ok(faults) => ok(format!("Profile {name} armed ({} faults).", faults.len())),
        Err(e) => refused("No profile was armed.", e.to_string()),
    };
    back(&form, flash, "")
}

pub(crate) async fn clear(State(faults): State<Arc<Faults>>, form: Posted) -> Response {
    faults.clear();
    back(&form, ok("Every fault is cleared."), "")
}

pub(crate) async fn reset_device(
    State(store): State<Arc<ViopayStore>>,
    State(auto_claims): State<Arc<AutoClaims>>,
    form: Posted,
) -> Response {
    let raw = form.fields.get("device_id");
    let flash = match own_device(&store, &form.who, raw) {
        Ok(id) => match store.write().state.reset_device(id) {
            Ok(()) => {
                auto_claims.forget(id);
                ok(format!("{id} is reset: inactive, with no code, keys or tokens."))
            }
            Err(e) => refused("The device was not reset.", e.to_string()),
        },
        Err(flash) => flash,
    };
    back(&form, flash, raw.trim())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderMap;

    use super::super::form;
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        let mut h = HeaderMap::new();
        h.insert("content-type", "application/x-www-form-urlencoded".parse().expect("header"));
        form::read(&h, body.as_bytes()).expect("form")
    }

    #[test]
    fn the_fault_form_builds_what_post_sim_faults_takes() {
        let spec = fault_spec(&fields(&[("kind", "status"), ("endpoint", "/pos/claim"), ("count", "2"), ("more", r#"{"status": 503}"#)]))
            .expect("valid");
        assert_eq!(
            (spec.kind.as_deref(), spec.endpoint.as_deref(), spec.count, spec.status),
            (Some("status"), Some("/pos/claim"), Some(2), Some(503))
        );
        assert!(fault_spec(&fields(&[("kind", "reset"), ("more", "[1]")])).is_err());
        assert!(fault_spec(&fields(&[("kind", "reset"), ("count", "many")])).is_err());
        assert!(fault_spec(&fields(&[("kind", "reset"), ("more", r#"{"colour": 1}"#)])).is_err(), "unknown fields are refused");
    }
}
