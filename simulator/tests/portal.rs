//! The merchant portal over HTTP, without a browser (the router driven in-process): behind
//! sign-in, one merchant's data only, escaped values, no secret in the page, same-origin posts,
//! and never a 5xx or a stack trace whatever is sent to it.

#[path = "shared/hostile.rs"]
mod hostile;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use http_body_util::BodyExt;
use proptest::prelude::*;
use tower::ServiceExt;
use viopay_sim::{SimConfig, Simulator};

const EVIL: &str = "Evil <script>alert(1)</script> & \"Co\"";

fn simulator(control: bool) -> Router {
    let fixtures = hostile::with_hostile_tenant(EVIL, "eve", "portal-test");
    let mut c = SimConfig::new(fixtures).with_virtual_clock(time::macros::datetime!(2025-12-13 14:25:30 UTC));
    c.seed = Some(3);
    c.control = control;
    Simulator::new(c, "http://sim.test").expect("simulator").router()
}

struct Page {
    status: u16,
    location: String,
    set_cookie: String,
    content_type: String,
    body: String,
}

async fn send(app: &Router, method: Method, path: &str, headers: &[(&str, &str)], body: &str) -> Page {
    let mut req = Request::builder().method(method).uri(path).header("host", "sim.test");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app.clone().oneshot(req.body(Body::from(body.to_owned())).expect("request")).await.expect("infallible");
    let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (status, location, set_cookie, content_type) =
        (res.status().as_u16(), header("location"), header("set-cookie"), header("content-type"));
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    Page { status, location, set_cookie, content_type, body: String::from_utf8_lossy(&bytes).into_owned() }
}

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

/// Signs in and returns the `Cookie` header value.
async fn sign_in(app: &Router, user: &str, password: &str) -> String {
    let body = form_urlencoded::Serializer::new(String::new()).append_pair("username", user).append_pair("password", password).finish();
    let page = send(app, Method::POST, "/portal/sign-in", &[FORM, ("origin", "http://sim.test")], &body).await;
    assert_eq!(page.status, 303, "{}", page.body);
    page.set_cookie.split(';').next().expect("cookie").to_owned()
}

#[tokio::test]
async fn signed_out_requests_see_nothing_and_change_nothing() {
    let app = simulator(true);
    for path in ["/portal/fleet", "/portal/claim", "/portal/simulator", "/portal/fleet?q=POS", "/portal/simulator?device=POS-8F3A2C91"] {
        let page = send(&app, Method::GET, path, &[], "").await;
        assert_eq!(page.status, 303, "{path}");
        assert!(page.location.starts_with("/portal/sign-in?next="), "{path}: {}", page.location);
        assert!(!page.body.contains("POS-"), "{path}");
    }
    // The rows the page's script fetches: a bare 401, no device.
    let rows = send(&app, Method::GET, "/portal/fleet/rows", &[("x-portal-fetch", "1")], "").await;
    assert_eq!(rows.status, 401);
    assert!(!rows.body.contains("POS-"));
    // A forged or stale session cookie is no session.
    let forged = format!("viopay_portal={}", "0".repeat(64));
    assert_eq!(send(&app, Method::GET, "/portal/fleet", &[("cookie", &forged)], "").await.status, 303);
    // Posts are refused before they act: the clock stays where it was.
    let clock = || async { send(&app, Method::GET, "/_sim/clock", &[], "").await.body };
    let before = clock().await;
    let advance = send(&app, Method::POST, "/portal/simulator/clock/advance", &[FORM], "seconds=600").await;
    assert_eq!(advance.status, 303);
    assert_eq!(clock().await, before);
}

#[tokio::test]
async fn a_merchant_sees_only_its_own_fleet() {
    let app = simulator(true);
    let globex = sign_in(&app, "owner@globex.example", "globex-portal").await;
    let cookie = [("cookie", globex.as_str())];
    let fleet = send(&app, Method::GET, "/portal/fleet", &cookie, "").await;
    assert_eq!(fleet.status, 200);
    assert!(fleet.body.contains("POS-B0000001") && !fleet.body.contains("POS-8F3A2C91") && !fleet.body.contains("POS-A0000001"));
    // No query reaches another merchant's devices.
    for q in ["/portal/fleet?q=8F3A2C91", "/portal/fleet?merchant=550e8400-e29b-41d4-a716-446655440000", "/portal/fleet/rows?q=A000"] {
        let page = send(&app, Method::GET, q, &[cookie[0], ("x-portal-fetch", "1")], "").await;
        assert!(!page.body.contains("POS-8F3A2C91") && !page.body.contains("POS-A0000001"), "{q}");
    }
    // Nor the panel: another merchant's journal and reset are refused.
    let journal = send(&app, Method::GET, "/portal/simulator?device=POS-8F3A2C91", &cookie, "").await;
    assert!(journal.body.contains("No such device in your fleet"), "{}", journal.body);
    let origin = ("origin", "http://sim.test");
    let reset = send(&app, Method::POST, "/portal/simulator/devices/reset", &[cookie[0], FORM, origin], "device_id=POS-8F3A2C91").await;
    assert_eq!(reset.status, 303);
    let after = send(&app, Method::GET, &reset.location, &cookie, "").await;
    assert!(after.body.contains("No such device in your fleet"), "{}", after.body);
}

#[tokio::test]
async fn every_value_is_escaped_and_no_secret_reaches_the_page() {
    let app = simulator(true);
    let eve = sign_in(&app, "eve", "evil-portal").await;
    let cookie = ("cookie", eve.as_str());
    for path in ["/portal/fleet", "/portal/claim", "/portal/simulator", "/portal/fleet?q=%3Cscript%3Ealert(2)%3C%2Fscript%3E%22"] {
        let page = send(&app, Method::GET, path, &[cookie], "").await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.content_type.starts_with("text/html"), "{path}");
        assert!(!page.body.contains("<script>alert"), "{path}: unescaped markup");
        assert!(!page.body.contains("eyJ"), "{path}: a token in the page");
        assert!(!page.body.contains("evil-portal") && !page.body.contains("evil-secret"), "{path}: a secret in the page");
        assert_eq!(page.body.matches("<script").count(), 1, "{path}: only the portal's own script");
    }
    let fleet = send(&app, Method::GET, "/portal/fleet", &[cookie], "").await;
    assert!(fleet.body.contains("Evil &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;"), "{}", fleet.body);
    let _ = EVIL;
    // A typed code is echoed as text in the answer.
    let origin = ("origin", "http://sim.test");
    let claim =
        send(&app, Method::POST, "/portal/claim", &[cookie, FORM, origin], "pairing_code=%3Cimg+src%3Dx+onerror%3Dalert(3)%3E").await;
    assert_eq!((claim.status, claim.location.as_str()), (303, "/portal/claim"));
    let answer = send(&app, Method::GET, "/portal/claim", &[cookie], "").await;
    assert!(answer.body.contains("&lt;img src=x onerror=alert(3)&gt;") && !answer.body.contains("<img"), "{}", answer.body);
    assert!(answer.body.contains("CLAIM-12"));
}

#[tokio::test]
async fn the_session_cookie_and_the_headers_shut_out_other_sites() {
    let app = simulator(true);
    let body = "username=owner%40acme.example&password=acme-portal";
    let page = send(&app, Method::POST, "/portal/sign-in", &[FORM], body).await;
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/portal"] {
        assert!(page.set_cookie.contains(attribute), "{attribute}: {}", page.set_cookie);
    }
    let cookie = page.set_cookie.split(';').next().expect("cookie").to_owned();
    // A post from another site is refused, and nothing is claimed or journaled.
    for (name, value) in [("origin", "http://evil.example"), ("sec-fetch-site", "cross-site"), ("origin", "null")] {
        let page = send(&app, Method::POST, "/portal/claim", &[("cookie", &cookie), FORM, (name, value)], "pairing_code=ABCDEF").await;
        assert_eq!(page.status, 403, "{name}: {value}");
    }
    let journal = send(&app, Method::GET, "/_sim/journal", &[], "").await;
    assert!(!journal.body.contains("/pos/claim"), "{}", journal.body);
    // Wrong password: the form again, with the words, no session.
    let wrong = send(&app, Method::POST, "/portal/sign-in", &[FORM], "username=owner%40acme.example&password=nope").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Wrong username or password") && wrong.set_cookie.is_empty());
    // `next` never leaves the portal.
    let away = send(&app, Method::POST, "/portal/sign-in", &[FORM], &format!("{body}&next=https%3A%2F%2Fevil.example%2F")).await;
    assert_eq!(away.location, "/portal/fleet");
    // Every page forbids framing and inline scripts.
    let fleet = app
        .clone()
        .oneshot(Request::get("/portal/fleet").header("cookie", &cookie).body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let csp = fleet.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    // Signing out ends the session on the server, not just in the browser.
    let out = send(&app, Method::POST, "/portal/sign-out", &[("cookie", &cookie)], "").await;
    assert!(out.set_cookie.contains("Max-Age=0"));
    assert_eq!(send(&app, Method::GET, "/portal/fleet", &[("cookie", &cookie)], "").await.status, 303);
}

#[tokio::test]
async fn without_control_there_is_no_portal() {
    let app = simulator(false);
    let page = send(&app, Method::GET, "/portal/sign-in", &[], "").await;
    assert_eq!(page.status, 404);
    assert!(page.body.contains("\"4004\""), "the API's own 404 envelope: {}", page.body);
}

#[tokio::test]
async fn unknown_portal_pages_are_a_page_not_a_stack_trace() {
    let app = simulator(true);
    let page = send(&app, Method::GET, "/portal/nothing/here", &[], "").await;
    assert_eq!(page.status, 404);
    assert!(page.content_type.starts_with("text/html") && page.body.contains("Page not found"));
}

/// One simulator for every case (building one generates its RSA key).
static SHARED: std::sync::LazyLock<Router> = std::sync::LazyLock::new(|| simulator(true));

fn arbitrary_request() -> impl Strategy<Value = (Method, String, Vec<(String, String)>, String)> {
    let method = prop::sample::select(vec![Method::GET, Method::POST, Method::PUT, Method::DELETE]);
    let path = prop::sample::select(vec![
        "/portal",
        "/portal/",
        "/portal/sign-in",
        "/portal/sign-out",
        "/portal/claim",
        "/portal/fleet",
        "/portal/fleet/rows",
        "/portal/simulator",
        "/portal/simulator/clock/advance",
        "/portal/simulator/clock/set",
        "/portal/simulator/faults",
        "/portal/simulator/faults/remove",
        "/portal/simulator/faults/profile",
        "/portal/simulator/faults/clear",
        "/portal/simulator/devices/reset",
        "/portal/assets/portal.css",
        "/portal/x%00y",
    ]);
    let query = prop::option::of("[a-z_]{1,8}=[ -~]{0,12}");
    let field = prop::sample::select(vec![
        "username",
        "password",
        "next",
        "pairing_code",
        "seconds",
        "now",
        "kind",
        "endpoint",
        "count",
        "more",
        "id",
        "name",
        "device_id",
    ]);
    let fields = prop::collection::vec((field, "[ -~\u{80}-\u{10ff}]{0,24}"), 0..5);
    let content_type = prop::sample::select(vec!["application/x-www-form-urlencoded", "application/json", "text/plain", ""]);
    (method, path, query, fields, content_type).prop_map(|(m, p, q, fields, ct)| {
        let path = match q {
            Some(q) => format!("{p}?{}", q.replace(['#', ' '], "+")),
            None => p.to_owned(),
        };
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields.iter().map(|(k, v)| (*k, v.as_str()))).finish();
        let headers = if ct.is_empty() { Vec::new() } else { vec![("content-type".to_owned(), ct.to_owned())] };
        (m, path, headers, body)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever is sent, signed in or not: an answer below 500, never a panic's message.
    #[test]
    fn never_a_5xx((method, path, headers, body) in arbitrary_request(), signed_in in any::<bool>()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let app = SHARED.clone();
            let mut h: Vec<(String, String)> = headers;
            if signed_in {
                h.push(("cookie".into(), sign_in(&app, "owner@acme.example", "acme-portal").await));
            }
            let refs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            if let Ok(uri) = path.parse::<axum::http::Uri>() {
                let page = send(&app, method.clone(), &uri.to_string(), &refs, &body).await;
                prop_assert!(page.status < 500, "{method} {path} {body:?}: {} {}", page.status, page.body);
                prop_assert!(!page.body.contains("panicked"), "{}", page.body);
            }
            Ok(())
        })?;
    }
}
