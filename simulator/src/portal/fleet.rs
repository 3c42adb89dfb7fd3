//! The merchant's fleet: every device provisioned for the signed-in user's merchant, with its
//! status, latest code and the time it has left, the last request the terminal made, its key set,
//! `activated_at` and the client verdict. The page's script reloads the rows every 2 seconds from
//! `/portal/fleet/rows`, rendered here like the page, so the terminal's progress shows live.
//!
//! Only the session's merchant is ever listed: nothing in the query names a merchant.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, Query, rejection::QueryRejection};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use time::OffsetDateTime;

use super::layout::{Tab, page, respond};
use super::session::{NotSignedIn, SignedIn};
use crate::clock::Clock;
use crate::domain::{CodeStatus, DeviceStatus};
use crate::ids::DeviceId;
use crate::journal::{Journal, JournalEntry};
use crate::store::ViopayStore;
use crate::time_fmt::rfc3339;
use crate::verdict::{self, DeviceVerdict, Outcome};

/// Rows shown at most; a bigger fleet is narrowed with the search.
const SHOWN: usize = 100;

#[derive(Deserialize, Default)]
pub(crate) struct Filter {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
}

impl Filter {
    fn status(&self) -> Option<DeviceStatus> {
        match self.status.as_str() {
            "inactive" => Some(DeviceStatus::Inactive),
            "claimed" => Some(DeviceStatus::Claimed),
            "activated" => Some(DeviceStatus::Activated),
            _ => None,
        }
    }

    fn query_string(&self) -> String {
        form_urlencoded::Serializer::new(String::new()).append_pair("q", &self.q).append_pair("status", &self.status).finish()
    }
}

/// One device as a row shows it.
struct Row {
    device: DeviceId,
    status: DeviceStatus,
    /// The latest code, its state and the seconds it has left while pending.
    code: Option<(String, CodeStatus, i64)>,
    key_set: Option<String>,
    activated_at: Option<OffsetDateTime>,
}

struct Listing {
    now: OffsetDateTime,
    total: usize,
    rows: Vec<Row>,
    /// The terminal's last request: time and a line (`GET /pos/status → 200`).
    last_seen: HashMap<String, (OffsetDateTime, String)>,
    verdicts: HashMap<String, DeviceVerdict>,
}

/// What a listing reads: the clock, VioPay's store, and the journal (last requests, verdicts).
struct Sources {
    clock: Arc<Clock>,
    store: Arc<ViopayStore>,
    journal: Arc<Journal>,
}

fn list(sim: &Sources, who: &SignedIn, filter: &Filter) -> Listing {
    let now = sim.clock.now();
    let wanted = filter.status();
    let q = filter.q.trim().to_ascii_uppercase();
    let (total, rows) = {
        let store = sim.store.read();
        let state = &store.state;
        let mut ids: Vec<DeviceId> = state
            .devices()
            .filter(|(_, d)| d.owner == who.merchant && wanted.is_none_or(|s| d.status == s))
            .filter(|(id, d)| {
                q.is_empty() || id.to_string().contains(&q) || d.latest_code().is_some_and(|c| c.code.to_string().contains(&q))
            })
            .map(|(id, _)| id)
            .collect();
        ids.sort_unstable();
        let total = ids.len();
        let rows = ids
            .into_iter()
            .take(SHOWN)
            .filter_map(|id| {
                let d = state.device(id).ok()?;
                Some(Row {
                    device: id,
                    status: d.status,
                    code: d.latest_code().map(|c| (c.code.to_string(), c.status_at(now), (c.expires_at() - now).whole_seconds())),
                    key_set: state.key_set(id).map(|k| k.id("ks")),
                    activated_at: state.activated_at(id),
                })
            })
            .collect::<Vec<_>>();
        (total, rows)
    };
    let shown: std::collections::HashSet<String> = rows.iter().map(|r| r.device.to_string()).collect();
    let (entries, journal_total) = sim.journal.entries(None, None);
    let last_seen = last_requests(&entries, &shown);
    let verdicts = if last_seen.is_empty() {
        HashMap::new()
    } else {
        verdict::judge(&entries, sim.clock.mode(), sim.journal.capacity(), journal_total)
            .devices
            .into_iter()
            .filter(|d| shown.contains(&d.device_id))
            .map(|d| (d.device_id.clone(), d))
            .collect()
    };
    Listing { now, total, rows, last_seen, verdicts }
}

/// The latest request each shown terminal made itself (a merchant's claim of it is not one).
fn last_requests(entries: &[JournalEntry], shown: &std::collections::HashSet<String>) -> HashMap<String, (OffsetDateTime, String)> {
    let mut seen = HashMap::new();
    for e in entries.iter().filter(|e| e.path.starts_with("/pos/") && e.path != "/pos/claim") {
        let Some(device) = e.device.as_ref().map(ToString::to_string) else { continue };
        if !shown.contains(&device) {
            continue;
        }
        let outcome = e.status.map_or_else(|| "no answer".to_owned(), |s| s.to_string());
        seen.insert(device, (e.time, format!("{} {} → {outcome}", e.method, e.path)));
    }
    seen
}

fn time_left(secs: i64) -> String {
    if secs <= 0 { "0 s".into() } else { format!("{}:{:02}", secs / 60, secs % 60) }
}

fn verdict_cell(v: Option<&DeviceVerdict>) -> Markup {
    let Some(v) = v else { return html! { span.muted { "—" } } };
    let broken = |o: Outcome| v.rules.iter().filter(|r| r.outcome == o).map(|r| r.rule.as_str()).collect::<Vec<_>>().join(", ");
    html! {
        @if v.failures > 0 {
            span.verdict.fail title="REQUIRED client rules this terminal broke" { "breaks " (broken(Outcome::Fail)) }
        } @else if v.advisories > 0 {
            span.verdict.advice title="SIMULATOR rules: worth a look, not a failure" { "advice: " (broken(Outcome::Advisory)) }
        } @else {
            span.verdict.pass { "no rule broken" }
        }
    }
}

fn rows_markup(listing: &Listing) -> Markup {
    html! {
        @if listing.rows.is_empty() {
            tr { td.muted colspan="7" { "No device matches." } }
        }
        @for row in &listing.rows {
            @let id = row.device.to_string();
            tr data-device=(id) {
                td { code { (id) } }
                td { span.status.(row.status.as_str()) data-field="status" { (row.status.as_str()) } }
                td data-field="code" {
                    @if let Some((code, state, left)) = &row.code {
                        code { (code) } " "
                        span.code-state.(state.as_str()) { (state.as_str()) }
                        @if *state == CodeStatus::Pending { " · " span title="time left" { (time_left(*left)) " left" } }
                    } @else { span.muted { "none yet" } }
                }
                td data-field="last-seen" {
                    @if let Some((at, line)) = listing.last_seen.get(&id) {
                        (line) br; small.muted { (ago(listing.now, *at)) }
                    } @else { span.muted { "never" } }
                }
                td data-field="key-set" { @if let Some(k) = &row.key_set { code { (k) } } @else { span.muted { "—" } } }
                td data-field="activated-at" { @if let Some(at) = row.activated_at { (rfc3339(at)) } @else { span.muted { "—" } } }
                td data-field="verdict" { (verdict_cell(listing.verdicts.get(&id))) }
            }
        }
    }
}

fn ago(now: OffsetDateTime, at: OffsetDateTime) -> String {
    let secs = (now - at).whole_seconds();
    match secs {
        i64::MIN..=1 => "just now".into(),
        2..=119 => format!("{secs} s ago"),
        120..=7199 => format!("{} min ago", secs / 60),
        _ => rfc3339(at),
    }
}

/// What the page and its rows both answer from: the signed-in user, the filter asked for (an
/// unreadable query is no filter), and the listing it selects.
pub(crate) struct Listed {
    who: SignedIn,
    filter: Filter,
    listing: Listing,
}

impl<S> FromRequestParts<S> for Listed
where
    S: Send + Sync,
    SignedIn: FromRequestParts<S, Rejection = NotSignedIn>,
    Arc<Clock>: FromRef<S>,
    Arc<ViopayStore>: FromRef<S>,
    Arc<Journal>: FromRef<S>,
{
    type Rejection = NotSignedIn;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let who = SignedIn::from_request_parts(parts, state).await?;
        let query: Result<Query<Filter>, QueryRejection> = Query::from_request_parts(parts, state).await;
        let filter = query.map(|Query(f)| f).unwrap_or_default();
        let sources = Sources { clock: FromRef::from_ref(state), store: FromRef::from_ref(state), journal: FromRef::from_ref(state) };
        let listing = list(&sources, &who, &filter);
        Ok(Listed { who, filter, listing })
    }
}

pub(crate) async fn show(Listed { who, filter, listing }: Listed) -> Response {
    let status_option = |value: &str, label: &str| {
        html! { option value=(value) selected[filter.status == value] { (label) } }
    };
    let body = html! {
        h1 { "Fleet" }
        form.row.card role="search" method="get" action="/portal/fleet" {
            div {
                label for="q" { "Search" }
                input #q type="search" name="q" value=(filter.q) placeholder="Device id or code";
            }
            div {
                label for="status" { "Status" }
                select #status name="status" {
                    (status_option("", "All"))
                    (status_option("inactive", "Inactive"))
                    (status_option("claimed", "Claimed"))
                    (status_option("activated", "Activated"))
                }
            }
            button type="submit" { "Filter" }
        }
        p {
            span #fleet-total data-testid="fleet-total" { (listing.total) } " devices"
            @if listing.total > SHOWN { " (the first " (SHOWN) " shown; narrow the search)" }
            " · " span #fleet-live.live aria-live="polite" { "Live · simulator time " (rfc3339(listing.now)) }
        }
        div.table-wrap {
            table {
                caption.vh { "Devices of " (who.merchant_name) }
                thead { tr {
                    th scope="col" { "Device" } th scope="col" { "Status" } th scope="col" { "Latest pairing code" }
                    th scope="col" { "Last request" } th scope="col" { "Key set" } th scope="col" { "Activated at" }
                    th scope="col" { "Client verdict" }
                } }
                tbody #fleet-rows data-src=(format!("/portal/fleet/rows?{}", filter.query_string())) { (rows_markup(&listing)) }
            }
        }
    };
    respond(StatusCode::OK, page("Fleet", Some(&who), Tab::Fleet, body))
}

/// The rows alone, for the page's script.
pub(crate) async fn rows(Listed { listing, .. }: Listed) -> Response {
    let mut res = respond(StatusCode::OK, rows_markup(&listing));
    let h = res.headers_mut();
    if let Ok(total) = HeaderValue::from_str(&listing.total.to_string()) {
        h.insert("x-fleet-total", total);
    }
    if let Ok(now) = HeaderValue::from_str(&rfc3339(listing.now)) {
        h.insert("x-sim-now", now);
    }
    res
}
