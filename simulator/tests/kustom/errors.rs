//! §1.7–§1.9: problem details (checked on every answer by `common`), generic errors and the order
//! of checks.

use axum::http::Method;
use proptest::prelude::*;

use super::common::*;

#[tokio::test]
async fn kerr_01_kerr_02_kerr_03_kerr_04_every_invalid_member_in_one_problem() {
    let k = Kustom::new();
    let r = k.enroll(KEY1, r#"{"metadata": [], "expires_in": 5, "location_id": "x"}"#).await;
    r.invalid(&["expires_in", "location_id", "metadata"]);
    assert_eq!(r.header("content-type"), "application/problem+json");
}

#[tokio::test]
async fn kerr_06_kerr_07_unknown_routes_and_wrong_methods() {
    let k = Kustom::new();
    k.send(Method::GET, "/ipp/v1/foo?x=1", &[], "").await.problem(404, "No endpoint GET /ipp/v1/foo.");
    k.send(Method::GET, "/ipp/v1", &[], "").await.problem(404, "No endpoint GET /ipp/v1.");
    k.send(Method::DELETE, "/ipp/v1/enrollments/a/b", &[], "").await.problem(404, "No endpoint DELETE /ipp/v1/enrollments/a/b.");
    for (method, path, allow) in [
        (Method::GET, "/ipp/v1/devices/0cb1e29c-658c-4a14-95e6-0af593bd04cf", "PUT, DELETE"),
        (Method::PUT, "/ipp/v1/devices/me", "GET"),
        (Method::POST, "/ipp/v1/locations", "GET"),
        (Method::GET, "/ipp/v1/devices/register", "POST"),
        (Method::PATCH, "/ipp/v1/enrollments", "GET, POST"),
        (Method::POST, "/ipp/v1/enrollments/0cb1e29c-658c-4a14-95e6-0af593bd04cf", "GET, DELETE"),
        (Method::GET, "/ipp/v1/dev/devices", "POST"),
    ] {
        let r = k.send(method.clone(), path, &[], "").await;
        r.problem(405, &format!("Method '{method}' is not supported."));
        assert_eq!(r.header("allow"), allow, "{method} {path}");
    }
}

#[tokio::test]
async fn kerr_08_kerr_09_kerr_11_large_and_unreadable_bodies_in_order() {
    let k = Kustom::new();
    let big = format!("{{\"metadata\": {{\"k\": \"{}\"}}}}", "x".repeat(70_000));
    // 413 comes before authentication (§1.9 step 3 before 4)…
    k.send(Method::POST, "/ipp/v1/enrollments", &[], big.clone()).await.problem(413, "Request body too large");
    k.send(Method::POST, "/ipp/v1/devices/register", &[], big).await.problem(413, "Request body too large");
    // …and after routing.
    k.send(Method::POST, "/ipp/v1/nowhere", &[], "x".repeat(70_000)).await.problem(404, "No endpoint POST /ipp/v1/nowhere.");
    let exactly = format!("{{\"metadata\": {{}}, \"pad\": \"{}\"}}", "x".repeat(65_536 - 27));
    assert_eq!(exactly.len(), 65_536);
    assert_eq!(k.enroll(KEY1, &exactly).await.status, 201, "64 KiB exactly is allowed");
    // KERR-09 on POST and PUT, after authentication.
    k.enroll(KEY1, "[1]").await.problem(400, "Failed to read request");
    k.enroll("kco_test_ipp_000000000000000000000000", "[1]").await.problem(401, "Access Denied");
    k.send(Method::POST, "/ipp/v1/devices/register", &[], "{").await.problem(400, "Failed to read request");
    let (id, _) = k.device("HW-9", "{}").await;
    k.merchant(Method::PUT, &format!("/ipp/v1/devices/{id}"), KEY1, "\"x\"").await.problem(400, "Failed to read request");
    // KERR-11: x-merchant-id (step 5) before parameters (step 7); body members (7) before the id (8).
    let auth = format!("Basic {KEY1}");
    k.send(Method::GET, "/ipp/v1/devices?page_size=0", &[("authorization", &auth)], "").await.invalid(&["x-merchant-id"]);
    k.merchant(Method::PUT, "/ipp/v1/devices/0cb1e29c-658c-4a14-95e6-0af593bd04cf", KEY1, r#"{"name": ""}"#).await.invalid(&["name"]);
}

/// One simulator for every case.
static SHARED: std::sync::LazyLock<Kustom> = std::sync::LazyLock::new(Kustom::new);

fn any_request() -> impl Strategy<Value = (Method, String, Vec<(String, String)>, String)> {
    let method = prop::sample::select(vec![Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::PATCH]);
    let path = prop::sample::select(vec![
        "/ipp/v1/enrollments",
        "/ipp/v1/enrollments/0cb1e29c-658c-4a14-95e6-0af593bd04cf",
        "/ipp/v1/enrollments/x",
        "/ipp/v1/devices",
        "/ipp/v1/devices/register",
        "/ipp/v1/devices/me",
        "/ipp/v1/devices/0cb1e29c-658c-4a14-95e6-0af593bd04cf",
        "/ipp/v1/locations",
        "/ipp/v1/locations/46910cc3-ab41-4b80-b4a7-94dab9f1b795",
        "/ipp/v1/dev/devices",
        "/ipp/v1/x",
    ]);
    let query = prop::option::of(prop::sample::select(vec![
        "page_number=1",
        "page_size=0",
        "metadata=a:b",
        "metadata=x",
        "include_consumed=FALSE",
        "location_id=46910cc3-ab41-4b80-b4a7-94dab9f1b795",
        "page_size=1&page_size=1",
    ]));
    let auth = prop::sample::select(vec![
        String::new(),
        format!("Basic {KEY1}"),
        format!("Basic {KEY2}"),
        "Basic ???".to_owned(),
        "Bearer eyJhbGciOiJSUzI1NiJ9.e30.x".to_owned(),
    ]);
    let mid = prop::sample::select(vec!["", MID1, MID2]);
    let member =
        prop::sample::select(vec!["metadata", "expires_in", "ttl", "location_id", "enrollment_code", "hardware_id", "platform", "name"]);
    let value = prop_oneof![
        Just(serde_json::json!(null)),
        Just(serde_json::json!("TWO_HOURS")),
        Just(serde_json::json!("ANDROID")),
        Just(serde_json::json!(1000)),
        Just(serde_json::json!(-1)),
        Just(serde_json::json!(1.5)),
        Just(serde_json::json!({"a": "b"})),
        Just(serde_json::json!([1])),
        "[ -~]{0,20}".prop_map(serde_json::Value::String),
    ];
    let body = prop_oneof![
        prop::collection::btree_map(member, value, 0..5).prop_map(|m| serde_json::to_string(&m).unwrap_or_default()),
        "[ -~]{0,30}",
    ];
    (method, path, query, auth, mid, body).prop_map(|(m, p, q, a, mid, b)| {
        let path = q.map_or_else(|| p.to_owned(), |q| format!("{p}?{q}"));
        let mut headers = Vec::new();
        if !a.is_empty() {
            headers.push(("authorization".to_owned(), a));
        }
        if !mid.is_empty() {
            headers.push(("x-merchant-id".to_owned(), mid.to_owned()));
        }
        (m, path, headers, b)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// KERR-10: whatever is sent, never a 5xx; `common` checks the problem shape of every error.
    #[test]
    fn kerr_10_no_5xx((method, path, headers, body) in any_request()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let r = SHARED.send(method, &path, &refs, body).await;
            prop_assert!(r.status < 500, "{}", r.body);
            Ok(())
        })?;
    }
}

/// KERR-08 on a socket, as a client sees it: the 413, and an answer to the client's next request
/// after it. (Kustom reads a body up to the limit before it refuses, whatever `Content-Length`
/// says; refusing on the header alone closed the connection under a loaded client's write once,
/// in the harness's Kustom run. This test does not reproduce that race; it pins the answers.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kerr_08_a_body_over_the_limit_on_a_socket_meets_the_413() {
    let mut config = viopay_sim::SimConfig::new(viopay_sim::Fixtures::builtin().expect("fixtures"));
    config.seed = Some(8);
    let sim = viopay_sim::spawn(config, "127.0.0.1:0".parse().expect("addr")).await.expect("simulator");
    let client = reqwest::Client::new();
    let big = format!("{{\"metadata\": {{\"k\": \"{}\"}}}}", "x".repeat(200_000));
    for path in ["/ipp/v1/enrollments", "/ipp/v1/devices/register"] {
        for _ in 0..5 {
            let res = client.post(format!("{}{path}", sim.base_url)).body(big.clone()).send().await.expect("an answer, not a broken pipe");
            assert_eq!(res.status(), 413, "{path}");
            let next =
                client.post(format!("{}/ipp/v1/enrollments", sim.base_url)).body("[1]").send().await.expect("the next request is answered");
            assert_eq!(next.status(), 401, "{path}");
        }
    }
}
