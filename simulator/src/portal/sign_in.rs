//! Sign in and sign out. The form posts to the portal, which asks the realm for a token with the
//! password grant (the same grant a client gets at `/realms/{realm}/protocol/openid-connect/token`,
//! through the portal's public client) and keeps it server-side.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::form;
use super::layout::{Tab, page, respond};
use super::session::{Sessions, clear_cookie, safe_next, session_id, set_cookie};
use crate::auth::grant::{self, GrantError, Grants, PORTAL_CLIENT_ID};
use crate::settings::Settings;

#[derive(Deserialize, Default)]
pub(crate) struct Next {
    next: Option<String>,
}

/// `control`: the simulator has a control token, so the form asks for it (the simulator panel
/// opens only to a sign-in that gave it).
fn form_page(status: StatusCode, next: &str, username: &str, error: Option<&str>, control: bool) -> Response {
    let body = html! {
        div.card.signin {
            h1 { "Sign in" }
            @if let Some(error) = error {
                div.flash.err role="alert" data-testid="flash" { p.title { (error) } }
            }
            form.stack method="post" action="/portal/sign-in" {
                input type="hidden" name="next" value=(next);
                div {
                    label for="username" { "Username" }
                    input #username type="text" name="username" value=(username) autocomplete="username" required autofocus;
                }
                div {
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                }
                @if control {
                    div {
                        label for="control_token" { "Control token (for the Simulator tab; optional)" }
                        input #control_token type="password" name="control_token" autocomplete="off";
                    }
                }
                button type="submit" { "Sign in" }
                p.hint { "Portal users come from the fixtures' " code { "[[users]]" } "; the simulator prints them at start." }
            }
        }
    };
    respond(status, page("Sign in", None, Tab::None, body))
}

pub(crate) async fn show(
    State(settings): State<Arc<Settings>>,
    query: Result<Query<Next>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let next = query.map(|Query(q)| q).unwrap_or_default().next;
    form_page(StatusCode::OK, safe_next(next.as_deref()), "", None, settings.control_token.is_some())
}

pub(crate) async fn submit(
    State(settings): State<Arc<Settings>>,
    State(grants): State<Grants>,
    State(sessions): State<Arc<Sessions>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = match form::read(&headers, &body) {
        Ok(f) => f,
        Err(refused) => return refused.page(None),
    };
    let next = safe_next(Some(fields.get("next"))).to_owned();
    let username = fields.get("username").trim();
    let control = match &settings.control_token {
        None => true,
        Some(expected) => crate::control::access::matches(expected, fields.get("control_token").trim()),
    };
    let asks = settings.control_token.is_some();
    match grant::password(&grants, Some(PORTAL_CLIENT_ID), None, username, fields.get("password")) {
        Ok(issued) => {
            let canonical = grants.store.read().state.user(username).map(|u| u.username.clone()).unwrap_or_else(|| username.to_owned());
            let id = sessions.start(canonical, issued, control);
            let mut res = Redirect::to(&next).into_response();
            res.headers_mut().insert(header::SET_COOKIE, set_cookie(&settings, &id));
            res
        }
        Err(GrantError::BadUser) => form_page(StatusCode::UNAUTHORIZED, &next, username, Some("Wrong username or password."), asks),
        // Cannot happen with the portal's own client; said plainly rather than as a 5xx.
        Err(e) => form_page(StatusCode::BAD_REQUEST, &next, username, Some(&format!("Cannot sign in: {e}.")), asks),
    }
}

pub(crate) async fn sign_out(State(sessions): State<Arc<Sessions>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = form::read(&headers, &body) {
        return refused.page(None);
    }
    if let Some(id) = session_id(&headers) {
        sessions.end(&id);
    }
    let mut res = Redirect::to("/portal/sign-in").into_response();
    res.headers_mut().insert(header::SET_COOKIE, clear_cookie());
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
