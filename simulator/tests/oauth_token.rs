//! The realm's Keycloak-compatible token endpoint, seen by a standard OAuth 2.0 client (the
//! `oauth2` crate) that knows only the discovery document: it gets a token with either grant and
//! claims a device with it; wrong client credentials, a wrong password and an unsupported grant
//! get Keycloak's answers.

use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, ClientSecret, ResourceOwnerPassword, ResourceOwnerUsername, TokenResponse, TokenUrl};
use serde_json::{Value, json};
use viopay_sim::{Fixtures, RunningSimulator, SimConfig};

const DEVICE: &str = "POS-8F3A2C91";
const UA: &str = "Viopay-POS/1.4.2 (Android 12; PAX-A920)";

async fn simulator() -> RunningSimulator {
    let mut c = SimConfig::new(Fixtures::builtin().expect("fixtures"));
    c.seed = Some(5);
    c = c.with_virtual_clock(time::macros::datetime!(2025-12-13 14:25:30 UTC));
    viopay_sim::spawn(c, "127.0.0.1:0".parse().expect("addr")).await.expect("simulator")
}

/// The oauth2 crate's HTTP seam, over the workspace's reqwest.
async fn send(request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let mut req = reqwest::Client::new().request(parts.method, parts.uri.to_string()).headers(parts.headers).body(body);
    req = req.timeout(std::time::Duration::from_secs(10));
    let res = req.send().await?;
    let mut out = http::Response::builder().status(res.status());
    for (k, v) in res.headers() {
        out = out.header(k, v);
    }
    let bytes = res.bytes().await?.to_vec();
    Ok(out.body(bytes).unwrap_or_default())
}

async fn token_endpoint(sim: &RunningSimulator) -> String {
    let discovery: Value = reqwest::get(format!("{}/realms/viopay/.well-known/openid-configuration", sim.base_url))
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    assert_eq!(discovery["grant_types_supported"], json!(["client_credentials", "password"]));
    assert_eq!(discovery["token_endpoint_auth_methods_supported"], json!(["client_secret_basic", "client_secret_post"]));
    discovery["token_endpoint"].as_str().expect("token_endpoint").to_owned()
}

/// Steps 1 and 2 for the device; returns its code.
async fn pairing_code(sim: &RunningSimulator) -> String {
    let http = reqwest::Client::new();
    for path in ["/pos/bootstrap", "/pos/pairing-code"] {
        let r = http
            .post(format!("{}{path}", sim.base_url))
            .header("X-Device-Id", DEVICE)
            .header("User-Agent", UA)
            .header("X-Client-Type", "pos")
            .send()
            .await
            .expect(path);
        assert_eq!(r.status(), 200, "{path}");
        if path == "/pos/pairing-code" {
            let body: Value = r.json().await.expect("json");
            return body["pairing_code"].as_str().expect("code").to_owned();
        }
    }
    unreachable!("the loop returns")
}

async fn claim(sim: &RunningSimulator, token: &str, code: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/pos/claim", sim.base_url))
        .bearer_auth(token)
        .json(&json!({ "pairing_code": code }))
        .send()
        .await
        .expect("claim");
    (r.status().as_u16(), r.json().await.expect("json"))
}

#[tokio::test]
async fn a_standard_oauth_client_gets_a_token_from_discovery_alone_and_claims_with_it() {
    let sim = simulator().await;
    let token_url = TokenUrl::new(token_endpoint(&sim).await).expect("url");

    // client_secret_basic, the crate's default.
    let client = BasicClient::new(ClientId::new("acme".into()))
        .set_client_secret(ClientSecret::new("acme-secret".into()))
        .set_token_uri(token_url.clone());
    let token = client.exchange_client_credentials().request_async(&send).await.expect("client credentials token");
    assert_eq!(token.token_type().as_ref(), "bearer");
    assert_eq!(token.expires_in().map(|d| d.as_secs()), Some(300));
    let code = pairing_code(&sim).await;
    let (status, body) = claim(&sim, token.access_token().secret(), &code).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("claimed")), "{body}");

    // client_secret_post works too.
    let post = client.clone().set_auth_type(AuthType::RequestBody);
    assert!(post.exchange_client_credentials().request_async(&send).await.is_ok());

    // A portal user with the password grant through the portal's public client; the token claims
    // as the user's merchant (a fresh code, after a reset of the device).
    let user = BasicClient::new(ClientId::new("viopay-portal".into())).set_token_uri(token_url);
    let token = user
        .exchange_password(&ResourceOwnerUsername::new("owner@acme.example".into()), &ResourcePassword("acme-portal"))
        .request_async(&send)
        .await
        .expect("password token");
    let reset = reqwest::Client::new().post(format!("{}/_sim/devices/{DEVICE}/reset", sim.base_url)).send().await.expect("reset");
    assert_eq!(reset.status(), 200);
    let code = pairing_code(&sim).await;
    let (status, body) = claim(&sim, token.access_token().secret(), &code).await;
    assert_eq!((status, body["device_id"].as_str()), (200, Some(DEVICE)), "{body}");
}

#[allow(non_snake_case)]
fn ResourcePassword(p: &str) -> ResourceOwnerPassword {
    ResourceOwnerPassword::new(p.into())
}

/// Posts a raw form (and optional Basic credentials) and returns status, body and headers.
async fn raw(url: &str, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = reqwest::Client::new().post(url).header("Content-Type", "application/x-www-form-urlencoded");
    req = req.body(form.iter().map(|(k, v)| format!("{k}={}", v.replace('@', "%40"))).collect::<Vec<_>>().join("&"));
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let r = req.send().await.expect("token request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, r.json().await.expect("json"), headers)
}

/// What is sent (a name, the form, Basic credentials) and Keycloak's answer (status, error,
/// description).
type Case = (&'static str, &'static [(&'static str, &'static str)], Option<(&'static str, &'static str)>, u16, &'static str, &'static str);

#[tokio::test]
async fn refusals_are_keycloaks() {
    let sim = simulator().await;
    let url = token_endpoint(&sim).await;
    let cases: [Case; 9] = [
        (
            "wrong secret",
            &[("grant_type", "client_credentials"), ("client_id", "acme"), ("client_secret", "nope")],
            None,
            401,
            "unauthorized_client",
            "Invalid client or Invalid client credentials",
        ),
        (
            "wrong secret, Basic",
            &[("grant_type", "client_credentials")],
            Some(("acme", "nope")),
            401,
            "unauthorized_client",
            "Invalid client or Invalid client credentials",
        ),
        (
            "unknown client",
            &[("grant_type", "client_credentials"), ("client_id", "nobody"), ("client_secret", "x")],
            None,
            401,
            "invalid_client",
            "Invalid client or Invalid client credentials",
        ),
        ("no client", &[("grant_type", "client_credentials")], None, 400, "invalid_client", "Missing client_id parameter"),
        (
            "public client, client credentials",
            &[("grant_type", "client_credentials"), ("client_id", "viopay-portal")],
            None,
            401,
            "unauthorized_client",
            "Public client not allowed to retrieve service account",
        ),
        (
            "wrong password",
            &[("grant_type", "password"), ("client_id", "viopay-portal"), ("username", "owner@acme.example"), ("password", "nope")],
            None,
            401,
            "invalid_grant",
            "Invalid user credentials",
        ),
        (
            "unknown user",
            &[("grant_type", "password"), ("client_id", "viopay-portal"), ("username", "nobody"), ("password", "x")],
            None,
            401,
            "invalid_grant",
            "Invalid user credentials",
        ),
        (
            "unsupported grant",
            &[("grant_type", "authorization_code"), ("client_id", "acme"), ("code", "x")],
            None,
            400,
            "unsupported_grant_type",
            "Unsupported grant_type",
        ),
        ("no grant", &[("client_id", "acme")], None, 400, "invalid_request", "Missing form parameter: grant_type"),
    ];
    for (what, form, basic, status, error, description) in cases {
        let (got, body, headers) = raw(&url, form, basic).await;
        assert_eq!(
            (got, body["error"].as_str(), body["error_description"].as_str()),
            (status, Some(error), Some(description)),
            "{what}: {body}"
        );
        assert_eq!(headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"), "{what}");
        assert_eq!(body.as_object().map(|o| o.len()), Some(2), "{what}: only error and error_description: {body}");
    }

    // A JSON body has no form parameters, as in Keycloak.
    let r = reqwest::Client::new().post(&url).json(&json!({"grant_type": "client_credentials"})).send().await.expect("json post");
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.expect("json")["error"], "invalid_request");

    // A realm that does not exist.
    let other = url.replace("/realms/viopay/", "/realms/other/");
    let (got, body, _) = raw(&other, &[("grant_type", "client_credentials")], Some(("acme", "acme-secret"))).await;
    assert_eq!((got, body["error"].as_str()), (404, Some("Realm does not exist")));

    // A repeated parameter.
    let (got, body, _) =
        raw(&url, &[("grant_type", "client_credentials"), ("grant_type", "password")], Some(("acme", "acme-secret"))).await;
    assert_eq!((got, body["error"].as_str()), (400, Some("invalid_request")));

    // The success answer has Keycloak's fields, and `/client/session` is unchanged beside it.
    let (got, body, _) = raw(&url, &[("grant_type", "client_credentials")], Some(("acme", "acme-secret"))).await;
    assert_eq!(got, 200);
    for field in ["access_token", "expires_in", "refresh_expires_in", "token_type", "not-before-policy", "scope"] {
        assert!(body.get(field).is_some(), "{field}: {body}");
    }
    let legacy = reqwest::Client::new()
        .post(format!("{}/client/session", sim.base_url))
        .json(&json!({"client_id": "viopay-portal", "client_secret": "x"}))
        .send()
        .await
        .expect("session");
    assert_eq!(legacy.status(), 401, "the portal's public client is not a merchant API client (AUTH-07)");
}

/// The password grant's token names the user and the merchant (AUTH-02's claims).
#[tokio::test]
async fn a_user_token_carries_the_users_merchant() {
    let sim = simulator().await;
    let url = token_endpoint(&sim).await;
    let (status, body, _) = raw(
        &url,
        &[("grant_type", "password"), ("client_id", "viopay-portal"), ("username", "OWNER@globex.example"), ("password", "globex-portal")],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().expect("token");
    let payload = token.split('.').nth(1).expect("payload");
    use base64::Engine;
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("json");
    assert_eq!(claims["merchant_id"], "7c9e6679-7425-40de-944b-e07fc1f90ae7");
    assert_eq!((claims["preferred_username"].as_str(), claims["azp"].as_str()), (Some("owner@globex.example"), Some("viopay-portal")));
    // Globex's user cannot claim Acme's device (CLAIM-16).
    let code = pairing_code(&sim).await;
    let (status, body) = claim(&sim, token, &code).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("4003")), "{body}");
}
