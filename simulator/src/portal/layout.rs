//! The page shell every portal page shares, and the headers that go with it. Markup is written
//! with maud, which escapes every interpolated value: a merchant name, a username or a typed code
//! containing `<script>` is shown as text.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::session::{Flash, SignedIn};

/// Which tab a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tab {
    Claim,
    Fleet,
    Simulator,
    Kustom,
    None,
}

/// A whole page: header with the signed-in user, navigation, the flash message, the body.
pub(crate) fn page(title: &str, who: Option<&SignedIn>, tab: Tab, body: Markup) -> Markup {
    let current = |t: Tab| if t == tab { Some("page") } else { None };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · VioPay merchant portal (simulated)" }
                link rel="stylesheet" href="/portal/assets/portal.css";
                script src="/portal/assets/portal.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    div.brand {
                        span.logo { "VioPay" }
                        " merchant portal "
                        span.badge.sim title="Served by viopay-sim for testing; not VioPay's portal" { "simulated" }
                    }
                    @if let Some(who) = who {
                        nav aria-label="Portal" {
                            a href="/portal/claim" aria-current=[current(Tab::Claim)] { "Claim a device" }
                            a href="/portal/fleet" aria-current=[current(Tab::Fleet)] { "Fleet" }
                            @if who.kustom_merchant.is_some() {
                                a href="/portal/kustom" aria-current=[current(Tab::Kustom)] { "Kustom devices" }
                            }
                            a.simnav href="/portal/simulator" aria-current=[current(Tab::Simulator)] { "Simulator" }
                        }
                        div.who {
                            span data-testid="who" { (who.username) " · " strong { (who.merchant_name) } }
                            form method="post" action="/portal/sign-out" {
                                button.link type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main #main {
                    @if let Some(flash) = who.and_then(|w| w.flash.as_ref()) {
                        (flash_box(flash))
                    }
                    (body)
                }
                footer {
                    "A simulated VioPay merchant portal, served by viopay-sim. Nothing here reaches VioPay."
                }
            }
        }
    }
}

/// The answer to the last action, in words, with the rule ID in small print.
pub(crate) fn flash_box(flash: &Flash) -> Markup {
    html! {
        div.flash.ok[flash.ok].err[!flash.ok] role=(if flash.ok { "status" } else { "alert" }) data-testid="flash"
            data-rule=[flash.rule.as_deref()] {
            p.title { (flash.title) }
            @if !flash.detail.is_empty() { p { (flash.detail) } }
            @if let Some(rule) = &flash.rule { p.rule { small { "Rule " (rule) } } }
        }
    }
}

/// An HTML answer with the portal's headers: a strict CSP (scripts and styles only from the
/// portal's own files, so an injected inline script could not run even if escaping failed),
/// nothing cached, no framing, no referrer to other sites (`same-origin`: with `no-referrer`
/// Chromium sends `Origin: null` on the portal's own form posts).
pub(crate) fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut res = (status, markup).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    res
}

/// A page that says what went wrong, never a stack trace.
pub(crate) fn problem(status: StatusCode, who: Option<&SignedIn>, title: &str, detail: &str) -> Response {
    let body = html! {
        h1 { (title) }
        p { (detail) }
        p { a href="/portal/fleet" { "Back to the fleet" } }
    };
    respond(status, page(title, who, Tab::None, body))
}
