//! HTTPS (`--tls`): a client that trusts only the generated CA walks steps 1–4; a client that does
//! not trust it fails the handshake; Python `requests` with `verify=` the CA file works too; the CA
//! stays the same across restarts under one seed; mutual TLS refuses a client without a
//! certificate. All on real sockets on 127.0.0.1.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use viopay_sim::tls::{TlsOptions, prepare};
use viopay_sim::{ClockMode, Fixtures, SimConfig, Simulator};

mod py;

fn options(dir: &Path, seed: Option<u64>) -> TlsOptions {
    TlsOptions {
        hosts: vec!["localhost".into(), "127.0.0.1".into()],
        ca_out: dir.join("ca.pem"),
        seed,
        cert: None,
        key: None,
        client_ca: None,
    }
}

/// Serves HTTPS with `opts` on a random port; returns its `https://localhost:PORT` URL.
async fn serve(opts: &TlsOptions) -> String {
    let tls = prepare(opts).expect("TLS prepared");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let base = format!("https://localhost:{port}");
    let mut config = SimConfig::new(Fixtures::builtin().expect("fixtures"));
    config.clock = ClockMode::Virtual;
    let simulator = Simulator::new(config, &base).expect("simulator");
    tokio::spawn(async move {
        let _ = viopay_sim::serve_tls(listener, &simulator, tls.config, std::future::pending()).await;
    });
    base
}

fn trusting(ca_pem: &str) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("CA PEM");
    reqwest::Client::builder().tls_certs_only([ca]).build().expect("client")
}

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = client.request(method, url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("an answer over HTTPS");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trusting_only_the_generated_ca_walks_steps_1_to_4_and_an_untrusting_one_fails_the_handshake() {
    let dir = tempfile::tempdir().expect("dir");
    let opts = options(dir.path(), Some(11));
    let base = serve(&opts).await;
    let ca = std::fs::read_to_string(&opts.ca_out).expect("the CA certificate is written");
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{ca}");
    let client = trusting(&ca);
    let pos = [("X-Device-Id", "POS-A0000001"), ("User-Agent", "Viopay-POS/1.4.2 (Android 12; PAX A920)"), ("X-Client-Type", "pos")];
    let post = reqwest::Method::POST;
    let (s, _) = call(&client, post.clone(), format!("{base}/pos/bootstrap"), &pos, None).await;
    assert_eq!(s, 200);
    let (s, code) = call(&client, post.clone(), format!("{base}/pos/pairing-code"), &pos, None).await;
    assert_eq!(s, 200, "{code}");
    let (s, session) = call(
        &client,
        post.clone(),
        format!("{base}/client/session"),
        &[],
        Some(json!({"client_id": "acme", "client_secret": "acme-secret"})),
    )
    .await;
    assert_eq!(s, 200, "{session}");
    let bearer = format!("Bearer {}", session["access_token"].as_str().unwrap_or_default());
    let (s, claimed) = call(
        &client,
        post,
        format!("{base}/pos/claim"),
        &[("Authorization", bearer.as_str())],
        Some(json!({"pairing_code": code["pairing_code"]})),
    )
    .await;
    assert_eq!(s, 200, "{claimed}");
    let (_, status) = call(&client, reqwest::Method::GET, format!("{base}/pos/status"), &pos, None).await;
    assert_eq!(status, json!({"device_status": "claimed", "is_claimed": true, "pairing_code_status": "used"}));

    // A client with the usual public roots does not trust a local CA: the handshake fails.
    let untrusting = reqwest::Client::builder().build().expect("client");
    let err = untrusting.get(format!("{base}/health/live")).send().await.expect_err("an untrusted certificate");
    assert!(err.is_connect() || err.is_request(), "{err:?}");
    // The 127.0.0.1 name is covered too.
    let ip = base.replace("localhost", "127.0.0.1");
    assert_eq!(call(&client, reqwest::Method::GET, format!("{ip}/health/live"), &[], None).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_requests_verifies_against_the_ca_file() {
    let dir = tempfile::tempdir().expect("dir");
    let opts = options(dir.path(), Some(12));
    let base = serve(&opts).await;
    let python = tokio::task::spawn_blocking(|| py::python_with("requests", "requests==2.32.3")).await.expect("venv");
    let script = r#"
import sys, requests
base, ca = sys.argv[1], sys.argv[2]
ok = requests.get(base + "/health/live", verify=ca, timeout=10)
print("trusted", ok.status_code, ok.json()["status"])
try:
    requests.get(base + "/health/live", timeout=10)
    print("untrusted accepted")
except requests.exceptions.SSLError:
    print("untrusted refused")
"#;
    let ca = opts.ca_out.display().to_string();
    let out = tokio::task::spawn_blocking(move || Command::new(python).args(["-c", script, &base, &ca]).output().expect("python runs"))
        .await
        .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("trusted 200 ok") && stdout.contains("untrusted refused"), "{stdout}");
}

#[test]
fn one_seed_keeps_one_ca_across_restarts_and_another_seed_makes_another() {
    let dir = tempfile::tempdir().expect("dir");
    let first = prepare(&options(dir.path(), Some(7))).expect("first").ca.expect("generated");
    let again = prepare(&options(dir.path(), Some(7))).expect("again").ca.expect("generated");
    assert_eq!(first.sha256, again.sha256, "a device trusts the CA once");
    assert_eq!(first.pem, again.pem);
    assert_eq!(first.sha256.len(), 32 * 3 - 1, "{}", first.sha256);
    let other = prepare(&options(dir.path(), Some(8))).expect("other").ca.expect("generated");
    assert_ne!(other.sha256, first.sha256);
    let unseeded = prepare(&options(tempfile::tempdir().expect("dir").path(), None)).expect("unseeded").ca.expect("generated");
    assert_ne!(unseeded.sha256, first.sha256);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_admits_a_client_certificate_of_the_client_ca_and_refuses_none_or_another() {
    let dir = tempfile::tempdir().expect("dir");
    // A client CA and a terminal's certificate under it, as a firmware team would provision.
    let client_ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let client_ca = ca_params.self_signed(&client_ca_key).expect("client CA");
    let client_ca_path = dir.path().join("client-ca.pem");
    std::fs::write(&client_ca_path, client_ca.pem()).expect("write");
    let issuer = rcgen::Issuer::new(ca_params, client_ca_key);
    let terminal = |issuer: &rcgen::Issuer<'_, rcgen::KeyPair>| {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut p = rcgen::CertificateParams::new(vec!["pos-a0000001".to_owned()]).expect("params");
        p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let cert = p.signed_by(&key, issuer).expect("client cert");
        reqwest::Identity::from_pem(format!("{}{}", cert.pem(), key.serialize_pem()).as_bytes()).expect("identity")
    };
    let mut opts = options(dir.path(), Some(13));
    opts.client_ca = Some(client_ca_path);
    let base = serve(&opts).await;
    let server_ca = reqwest::Certificate::from_pem(std::fs::read(&opts.ca_out).expect("CA").as_slice()).expect("PEM");
    let with = |identity: Option<reqwest::Identity>| {
        let b = reqwest::Client::builder().tls_certs_only([server_ca.clone()]);
        match identity {
            Some(i) => b.identity(i),
            None => b,
        }
        .build()
        .expect("client")
    };
    let ok = with(Some(terminal(&issuer))).get(format!("{base}/health/live")).send().await.expect("admitted");
    assert_eq!(ok.status(), 200);
    assert!(with(None).get(format!("{base}/health/live")).send().await.is_err(), "no client certificate");
    let stranger_key = rcgen::KeyPair::generate().expect("key");
    let mut stranger = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    stranger.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let other_issuer = rcgen::Issuer::new(stranger, stranger_key);
    assert!(with(Some(terminal(&other_issuer))).get(format!("{base}/health/live")).send().await.is_err(), "another CA's certificate");
}
