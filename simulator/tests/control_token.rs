//! `--control-token`: the control API and the portal's simulator panel open only to the token;
//! the VioPay API and the rest of the portal are untouched, and without a token nothing changes.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use http_body_util::BodyExt;
use tower::ServiceExt;
use viopay_sim::{Fixtures, SimConfig, Simulator};

const TOKEN: &str = "lab-7f3a9c";

fn simulator(token: Option<&str>) -> Router {
    let mut c = SimConfig::new(Fixtures::builtin().expect("fixtures")).with_virtual_clock(time::macros::datetime!(2025-12-13 14:25:30 UTC));
    c.seed = Some(5);
    c.control_token = token.map(str::to_owned);
    Simulator::new(c, "http://sim.test").expect("simulator").router()
}

struct Answer {
    status: u16,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(app: &Router, method: Method, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let mut req = Request::builder().method(method).uri(path).header("host", "sim.test");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app.clone().oneshot(req.body(Body::from(body.to_owned())).expect("request")).await.expect("infallible");
    let (status, headers) = (res.status().as_u16(), res.headers().clone());
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    Answer { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

#[tokio::test]
async fn the_control_api_needs_the_token_in_either_header() {
    let app = simulator(Some(TOKEN));
    let refused = send(&app, Method::GET, "/_sim/clock", &[], "").await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    let body: serde_json::Value = serde_json::from_str(&refused.body).expect("the error envelope");
    assert_eq!(body["error"]["code"], "4010");
    assert!(body["error"]["trace_id"].is_string());
    assert!(refused.headers.get("www-authenticate").is_some());
    // A secret-bearing route and a state-changing one are refused the same way, before any work.
    for (method, path) in [(Method::GET, "/_sim/devices/POS-8F3A2C91"), (Method::POST, "/_sim/reset"), (Method::POST, "/_sim/faults")] {
        assert_eq!(send(&app, method, path, &[], "{}").await.status, 401, "{path}");
    }
    let wrong = send(&app, Method::GET, "/_sim/clock", &[("authorization", "Bearer lab-7f3a9d")], "").await;
    assert_eq!(wrong.status, 401);
    let bearer = format!("Bearer {TOKEN}");
    assert_eq!(send(&app, Method::GET, "/_sim/clock", &[("authorization", &bearer)], "").await.status, 200);
    assert_eq!(send(&app, Method::GET, "/_sim/clock", &[("x-sim-control-token", TOKEN)], "").await.status, 200);
    // The VioPay API itself never asks for it.
    let live = send(&app, Method::GET, "/health/live", &[], "").await;
    assert_eq!(live.status, 200);
}

#[tokio::test]
async fn without_a_token_the_control_api_is_open_as_before() {
    let app = simulator(None);
    assert_eq!(send(&app, Method::GET, "/_sim/clock", &[], "").await.status, 200);
}

async fn sign_in(app: &Router, control_token: Option<&str>) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("username", "owner@globex.example").append_pair("password", "globex-portal");
    if let Some(t) = control_token {
        form.append_pair("control_token", t);
    }
    let res = send(
        app,
        Method::POST,
        "/portal/sign-in",
        &[("content-type", "application/x-www-form-urlencoded"), ("origin", "http://sim.test")],
        &form.finish(),
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let cookie = res.headers.get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default();
    cookie.split(';').next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_simulator_panel_opens_only_to_a_sign_in_that_gave_the_token() {
    let app = simulator(Some(TOKEN));
    let form = send(&app, Method::GET, "/portal/sign-in", &[], "").await;
    assert!(form.body.contains("name=\"control_token\""), "the sign-in form asks for the token");
    let plain = sign_in(&app, None).await;
    let panel = send(&app, Method::GET, "/portal/simulator", &[("cookie", &plain)], "").await;
    assert_eq!(panel.status, 403, "{}", panel.body);
    assert!(panel.body.contains("control token"));
    // The merchant's own pages stay open to that sign-in.
    assert_eq!(send(&app, Method::GET, "/portal/fleet", &[("cookie", &plain)], "").await.status, 200);
    let wrong = sign_in(&app, Some("guess")).await;
    assert_eq!(send(&app, Method::GET, "/portal/simulator", &[("cookie", &wrong)], "").await.status, 403);
    let with = sign_in(&app, Some(TOKEN)).await;
    assert_eq!(send(&app, Method::GET, "/portal/simulator", &[("cookie", &with)], "").await.status, 200);

    // No token set: no field, and the panel opens to any sign-in as before.
    let open = simulator(None);
    assert!(!send(&open, Method::GET, "/portal/sign-in", &[], "").await.body.contains("control_token"));
    let plain = sign_in(&open, None).await;
    assert_eq!(send(&open, Method::GET, "/portal/simulator", &[("cookie", &plain)], "").await.status, 200);
}
