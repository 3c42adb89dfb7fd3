//! Portal sign-in sessions. The browser holds only a random session id in an HttpOnly,
//! SameSite=Strict cookie; the user's access token stays here, so no secret reaches the page.
//!
//! Session ids come from the operating system's generator, never from `--seed`: a seeded run
//! must not make sessions guessable. Sessions are not tied to the simulator clock (a tester who
//! moves the clock an hour on must not be signed out); they end with sign-out or the process.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use parking_lot::Mutex;

use crate::auth::grant::{self, GrantError, Grants, Issued};
use crate::domain::MerchantIdx;
use crate::settings::Settings;
use crate::store::ViopayStore;

pub(crate) const COOKIE: &str = "viopay_portal";

/// At most this many live sessions; signing in beyond it ends the oldest.
const MAX_SESSIONS: usize = 1024;

/// A message shown once on the next page (post, redirect, get).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Flash {
    pub(crate) ok: bool,
    pub(crate) title: String,
    pub(crate) detail: String,
    /// The rule the answer shows, in small print.
    pub(crate) rule: Option<String>,
}

#[derive(Debug, Clone)]
struct Session {
    username: String,
    token: Issued,
    flash: Option<Flash>,
    /// Sign-in order, for eviction.
    serial: u64,
    /// The sign-in gave the simulator's control token (or none is set): the simulator panel is
    /// open to this session.
    control: bool,
}

#[derive(Default)]
pub(crate) struct Sessions {
    inner: Mutex<(HashMap<String, Session>, u64)>,
}

impl Sessions {
    /// A new session for a user who just signed in; returns its id.
    pub(crate) fn start(&self, username: String, token: Issued, control: bool) -> String {
        let id = hex::encode(rand::random::<[u8; 32]>());
        let mut inner = self.inner.lock();
        let (map, serial) = &mut *inner;
        *serial += 1;
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map.iter().min_by_key(|(_, s)| s.serial).map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(id.clone(), Session { username, token, flash: None, serial: *serial, control });
        id
    }

    pub(crate) fn end(&self, id: &str) {
        self.inner.lock().0.remove(id);
    }

    /// Whether session `id` may use the simulator panel (`None`: no such session).
    pub(crate) fn control(&self, id: &str) -> Option<bool> {
        self.inner.lock().0.get(id).map(|s| s.control)
    }

    pub(crate) fn set_flash(&self, id: &str, flash: Flash) {
        if let Some(s) = self.inner.lock().0.get_mut(id) {
            s.flash = Some(flash);
        }
    }

    /// The session's user, and its flash when `with_flash` (a page, not a script's fetch).
    fn user(&self, id: &str, with_flash: bool) -> Option<(String, Option<Flash>)> {
        let mut inner = self.inner.lock();
        let s = inner.0.get_mut(id)?;
        let flash = if with_flash { s.flash.take() } else { None };
        Some((s.username.clone(), flash))
    }

    /// The session's access token, renewed when the simulator clock has passed its expiry, as the
    /// real portal renews its token with Keycloak (a refresh grant) before calling the API.
    pub(crate) fn token(&self, grants: &Grants, id: &str) -> Result<String, GrantError> {
        let now = grants.clock.now();
        let username = {
            let inner = self.inner.lock();
            let s = inner.0.get(id).ok_or(GrantError::BadUser)?;
            if s.token.expires_at > now {
                return Ok(s.token.access_token.clone());
            }
            s.username.clone()
        };
        let fresh = grant::renew_for_user(grants, &username)?;
        let token = fresh.access_token.clone();
        if let Some(s) = self.inner.lock().0.get_mut(id) {
            s.token = fresh;
        }
        Ok(token)
    }
}

/// The `Set-Cookie` value that starts a session: HttpOnly (no script reads it), SameSite=Strict
/// (no other site's form or link carries it), scoped to the portal, Secure when the simulator's
/// public URL is HTTPS.
pub(crate) fn set_cookie(settings: &Settings, id: &str) -> HeaderValue {
    let secure = if settings.base_url.starts_with("https://") { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{COOKIE}={id}; Path=/portal; HttpOnly; SameSite=Strict{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static("viopay_portal=; Path=/portal"))
}

pub(crate) fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("viopay_portal=; Path=/portal; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The session id the request's cookie carries. Parsed here rather than with a cookie crate: one
/// name, no attributes to read, and ids that are plain hex.
pub(crate) fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|(_, value)| value.to_owned())
}

/// A signed-in portal user, resolved against the current state on every request (a reset that
/// removed the user signs them out).
#[derive(Debug, Clone)]
pub(crate) struct SignedIn {
    pub(crate) session: String,
    pub(crate) username: String,
    pub(crate) merchant: MerchantIdx,
    pub(crate) merchant_name: String,
    /// The Kustom merchant the user also runs (`kustom_merchant_id`), for the Kustom tab.
    pub(crate) kustom_merchant: Option<String>,
    pub(crate) flash: Option<Flash>,
}

/// Not signed in: a page redirects to the sign-in form, and comes back after; a script's fetch
/// gets a bare 401 (and sends the page to the sign-in form itself).
pub(crate) struct NotSignedIn {
    next: String,
    fetch: bool,
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        if self.fetch {
            return (StatusCode::UNAUTHORIZED, [(header::CACHE_CONTROL, "no-store")], "signed out").into_response();
        }
        let to = format!("/portal/sign-in?next={}", form_urlencoded::byte_serialize(self.next.as_bytes()).collect::<String>());
        Redirect::to(&to).into_response()
    }
}

/// The header the portal's script sends with its fetches.
pub(crate) const FETCH_HEADER: &str = "x-portal-fetch";

/// Reads the sessions and VioPay's store from the root state, whatever it is.
impl<S> FromRequestParts<S> for SignedIn
where
    S: Send + Sync,
    Arc<Sessions>: FromRef<S>,
    Arc<ViopayStore>: FromRef<S>,
{
    type Rejection = NotSignedIn;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let next = if parts.method == axum::http::Method::GET {
            parts.uri.path_and_query().map_or("/portal/fleet", |p| p.as_str()).to_owned()
        } else {
            "/portal/fleet".to_owned()
        };
        let fetch = parts.headers.contains_key(FETCH_HEADER);
        let rejection = NotSignedIn { next, fetch };
        let Some(session) = session_id(&parts.headers) else { return Err(rejection) };
        let sessions = Arc::<Sessions>::from_ref(state);
        let Some((username, flash)) = sessions.user(&session, !fetch) else { return Err(rejection) };
        let store = Arc::<ViopayStore>::from_ref(state);
        let store = store.read();
        let Some(user) = store.state.user(&username) else {
            drop(store);
            sessions.end(&session);
            return Err(rejection);
        };
        let m = store.state.merchant(user.merchant);
        Ok(SignedIn {
            session,
            username: user.username.clone(),
            merchant: user.merchant,
            merchant_name: m.name.clone(),
            kustom_merchant: user.kustom_merchant.clone(),
            flash,
        })
    }
}

/// A `next` target kept inside the portal (no open redirect to another site).
pub(crate) fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with("/portal/") && !n.starts_with("/portal//") && !n.contains('\\') && !n.contains("://") => n,
        _ => "/portal/fleet",
    }
}

/// A state-changing request must come from the portal's own pages: browsers name the page's
/// origin in `Origin` and its relation in `Sec-Fetch-Site`. With the SameSite=Strict cookie this
/// shuts out cross-site form posts without a token in the page.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    match headers.get(header::ORIGIN).map(|v| v.to_str()) {
        None => true,
        Some(Ok(origin)) => {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
            origin.split_once("://").is_some_and(|(_, rest)| !host.is_empty() && rest == host)
        }
        Some(Err(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_inside_the_portal() {
        assert_eq!(safe_next(Some("/portal/claim")), "/portal/claim");
        for bad in ["https://evil.example/", "//evil.example", "/portal//evil.example", "/pos/claim", "/portal/\\evil"] {
            assert_eq!(safe_next(Some(bad)), "/portal/fleet", "{bad}");
        }
    }

    #[test]
    fn only_same_origin_posts_pass() {
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, HeaderValue::from_static(v));
            }
            m
        };
        assert!(same_origin(&h(&[("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:8080")])));
        assert!(same_origin(&h(&[("host", "127.0.0.1:8080")])), "no Origin: not a browser's cross-site post");
        assert!(!same_origin(&h(&[("host", "127.0.0.1:8080"), ("origin", "http://evil.example")])));
        assert!(!same_origin(&h(&[("host", "127.0.0.1:8080"), ("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&h(&[("host", "127.0.0.1:8080"), ("origin", "null")])));
    }

    #[test]
    fn the_cookie_is_read_only_when_well_formed() {
        let id = "a".repeat(64);
        let mut m = HeaderMap::new();
        m.insert(header::COOKIE, HeaderValue::from_str(&format!("other=1; {COOKIE}={id}")).expect("ascii"));
        assert_eq!(session_id(&m), Some(id));
        m.insert(header::COOKIE, HeaderValue::from_static("viopay_portal=<script>"));
        assert_eq!(session_id(&m), None);
    }
}
