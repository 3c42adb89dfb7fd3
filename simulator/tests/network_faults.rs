//! Every fault kind as a client sees it on a real socket: the bytes (or their absence) that reach a
//! raw TCP reader, and what an HTTP client (reqwest) reports. Also "fail twice, then succeed",
//! seeded determinism and the journal entry of every fault that fired.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use viopay_sim::{Fixtures, RunningSimulator, SimConfig};

const DEVICE: &str = "POS-8F3A2C91";
const UA: &str = "Viopay-POS/1.4.2 (Android 12; PAX-A920)";

async fn sim_with(seed: u64, profiles: &[&str]) -> RunningSimulator {
    let mut c = SimConfig::new(Fixtures::builtin().expect("fixtures")).with_virtual_clock(time::macros::datetime!(2025-12-13 14:25:30 UTC));
    c.seed = Some(seed);
    c.arm_profiles = profiles.iter().map(|p| (*p).to_owned()).collect();
    viopay_sim::spawn(c, "127.0.0.1:0".parse().expect("addr")).await.expect("simulator")
}

async fn sim() -> RunningSimulator {
    sim_with(5, &[]).await
}

async fn arm(sim: &RunningSimulator, fault: Value) -> Value {
    let r = reqwest::Client::new().post(format!("{}/_sim/faults", sim.base_url)).json(&fault).send().await.expect("arm");
    assert_eq!(r.status(), 201, "{fault}");
    r.json().await.expect("json")
}

async fn journal(sim: &RunningSimulator) -> Vec<Value> {
    let j: Value = reqwest::get(format!("{}/_sim/journal", sim.base_url)).await.expect("journal").json().await.expect("json");
    j["entries"].as_array().cloned().unwrap_or_default()
}

fn status_request(device: &str) -> String {
    format!("GET /pos/status HTTP/1.1\r\nHost: sim\r\nX-Device-Id: {device}\r\nUser-Agent: {UA}\r\nX-Client-Type: pos\r\n\r\n")
}

/// Sends one raw request and reads until the server closes or 5 s pass: the bytes received and
/// how the read ended.
async fn raw(sim: &RunningSimulator, request: &str) -> (Vec<u8>, std::io::Result<()>) {
    let mut s = TcpStream::connect(sim.addr).await.expect("connect");
    s.write_all(request.as_bytes()).await.expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Err(_) => break Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "still open after 5 s")),
            Ok(Ok(0)) => break Ok(()),
            Ok(Ok(n)) => {
                got.extend_from_slice(&buf[..n]);
                // A complete keep-alive answer: stop reading.
                if complete(&got).is_some_and(|len| got.len() >= len) {
                    break Ok(());
                }
            }
            Ok(Err(e)) => break Err(e),
        }
    };
    (got, end)
}

/// The full length of a response once its head is in: head plus `Content-Length`.
fn complete(bytes: &[u8]) -> Option<usize> {
    let text = String::from_utf8_lossy(bytes);
    let head_end = text.find("\r\n\r\n")? + 4;
    let len = text[..head_end]
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length: ").map(|v| v.trim().parse::<usize>()))?;
    Some(head_end + len.ok()?)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client")
}

async fn poll(sim: &RunningSimulator) -> Result<reqwest::Response, reqwest::Error> {
    client()
        .get(format!("{}/pos/status", sim.base_url))
        .header("X-Device-Id", DEVICE)
        .header("User-Agent", UA)
        .header("X-Client-Type", "pos")
        .send()
        .await
}

#[tokio::test]
async fn a_reset_is_an_rst_with_nothing_sent_and_is_journaled_without_a_status() {
    let sim = sim().await;
    arm(&sim, json!({"kind": "reset", "endpoint": "/pos/status"})).await;
    let (got, end) = raw(&sim, &status_request(DEVICE)).await;
    assert!(got.is_empty(), "nothing before the reset: {:?}", String::from_utf8_lossy(&got));
    assert_eq!(end.map_err(|e| e.kind()), Err(std::io::ErrorKind::ConnectionReset));
    let last = journal(&sim).await.pop().expect("journaled");
    assert_eq!((last.get("status"), last["connection"].as_str(), last["faults"][0]["kind"].as_str()), (None, Some("reset"), Some("reset")));
    // Disarmed after one use: the next poll is answered.
    assert_eq!(poll(&sim).await.expect("answered").status(), 200);
    // reqwest sees a request error, not a response.
    arm(&sim, json!({"kind": "reset"})).await;
    let err = poll(&sim).await.expect_err("reset");
    assert!(err.is_request() || err.is_connect(), "{err:?}");
}

#[tokio::test]
async fn a_hang_holds_until_the_client_gives_up_or_the_maximum_then_closes_unanswered() {
    let sim = sim().await;
    arm(&sim, json!({"kind": "hang", "max_ms": 30000})).await;
    let started = Instant::now();
    let err = client().get(format!("{}/pos/status", sim.base_url)).timeout(Duration::from_millis(300)).send().await.expect_err("timeout");
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    arm(&sim, json!({"kind": "hang", "max_ms": 200})).await;
    let started = Instant::now();
    let (got, end) = raw(&sim, &status_request(DEVICE)).await;
    assert!(got.is_empty() && end.is_ok(), "closed (FIN) without an answer: {:?} {end:?}", String::from_utf8_lossy(&got));
    assert!(started.elapsed() >= Duration::from_millis(200));
    let hangs: Vec<Value> = journal(&sim).await.into_iter().filter(|e| e["connection"] == "never-answered").collect();
    assert_eq!(hangs.len(), 2, "both journaled");
}

#[tokio::test]
async fn a_truncated_answer_declares_its_length_and_stops_short() {
    let sim = sim().await;
    arm(&sim, json!({"kind": "truncate", "endpoint": "/pos/status", "device_id": DEVICE})).await;
    let (got, end) = raw(&sim, &status_request(DEVICE)).await;
    let full = complete(&got).expect("a head with Content-Length");
    assert!(got.starts_with(b"HTTP/1.1 200 OK"), "{:?}", String::from_utf8_lossy(&got));
    assert!(got.len() < full, "short of the declared length: {} of {full}", got.len());
    assert!(end.is_ok(), "then the connection closes: {end:?}");
    arm(&sim, json!({"kind": "truncate"})).await;
    let res = poll(&sim).await.expect("the head arrives");
    assert_eq!(res.status(), 200);
    assert!(res.text().await.is_err(), "the body cannot be read in full");
    assert_eq!(journal(&sim).await.last().map(|e| e["connection"].clone()), Some(json!("truncated")));
}

#[tokio::test]
async fn a_malformed_answer_is_complete_but_not_json() {
    let sim = sim().await;
    arm(&sim, json!({"kind": "malformed", "step": 3})).await;
    let res = poll(&sim).await.expect("answered");
    assert_eq!(res.status(), 200);
    let len = res.content_length();
    let body = res.bytes().await.expect("complete");
    assert_eq!(len, Some(body.len() as u64));
    assert!(serde_json::from_slice::<Value>(&body).is_err(), "{:?}", String::from_utf8_lossy(&body));
}

#[tokio::test]
async fn a_gateway_status_is_plain_text_without_the_envelope_or_a_trace_id() {
    let sim = sim().await;
    arm(&sim, json!({"kind": "status", "status": 502, "endpoint": "/pos/status"})).await;
    let res = poll(&sim).await.expect("answered");
    assert_eq!(res.status(), 502);
    assert_eq!(res.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("text/plain; charset=utf-8"));
    assert!(res.headers().get("x-trace-id").is_none());
    assert_eq!(res.text().await.expect("body"), "502 Bad Gateway\n");
    arm(&sim, json!({"kind": "status", "status": 503, "headers": {"Retry-After": "2"}, "body": "{\"busy\":true}", "content_type": "application/json"})).await;
    let res = poll(&sim).await.expect("answered");
    assert_eq!((res.status().as_u16(), res.headers().get("retry-after").and_then(|v| v.to_str().ok())), (503, Some("2")));
    assert_eq!(
        journal(&sim).await.last().map(|e| (e["status"].clone(), e["faults"][0]["kind"].clone())),
        Some((json!(503), json!("status")))
    );
}

#[tokio::test]
async fn latency_delays_the_answer_and_a_dribble_spreads_the_body() {
    let sim = sim().await;
    arm(&sim, json!({"kind": "latency", "latency_ms": 400, "endpoint": "/pos/status"})).await;
    let started = Instant::now();
    assert_eq!(poll(&sim).await.expect("answered").status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(400), "{:?}", started.elapsed());
    assert_eq!(journal(&sim).await.last().map(|e| e["faults"][0]["delay_ms"].clone()), Some(json!(400)));

    arm(&sim, json!({"kind": "dribble", "over_ms": 600, "chunks": 3})).await;
    let started = Instant::now();
    let (got, end) = raw(&sim, &status_request(DEVICE)).await;
    assert!(end.is_ok(), "{end:?}");
    assert!(started.elapsed() >= Duration::from_millis(400), "the body took its time: {:?}", started.elapsed());
    let text = String::from_utf8_lossy(&got);
    let body = &text[text.find("\r\n\r\n").expect("head") + 4..];
    assert_eq!(
        serde_json::from_str::<Value>(body).ok().and_then(|v| v["device_status"].as_str().map(str::to_owned)).as_deref(),
        Some("inactive")
    );
}

#[tokio::test]
async fn fail_twice_then_succeed_holds_exactly() {
    let sim = sim().await;
    arm(&sim, json!({"kind": "status", "status": 503, "step": 2, "count": 2})).await;
    let pair = || {
        client()
            .post(format!("{}/pos/pairing-code", sim.base_url))
            .header("X-Device-Id", DEVICE)
            .header("User-Agent", UA)
            .header("X-Client-Type", "pos")
            .send()
    };
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(pair().await.expect("answered").status().as_u16());
    }
    assert_eq!(seen, [503, 503, 200, 200]);
    // Resets too: two lost connections, then answers.
    arm(&sim, json!({"kind": "reset", "endpoint": "/pos/status", "count": 2})).await;
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        outcomes.push(poll(&sim).await.map(|r| r.status().as_u16()).map_err(|_| "lost"));
    }
    assert_eq!(outcomes, [Err("lost"), Err("lost"), Ok(200)]);
}

#[tokio::test]
async fn a_profile_meets_the_same_requests_with_the_same_faults_under_a_seed() {
    async fn run(seed: u64) -> Vec<u16> {
        let sim = sim_with(seed, &["gateway-502"]).await;
        let mut statuses = Vec::new();
        for _ in 0..24 {
            statuses.push(poll(&sim).await.expect("answered").status().as_u16());
        }
        statuses
    }
    let first = run(11).await;
    assert_eq!(first, run(11).await, "same seed, same faults");
    assert!(first.contains(&502) && first.contains(&200), "{first:?}");
    assert_ne!(first, run(12).await, "another seed, other draws");
}

#[tokio::test]
async fn the_documented_error_still_comes_in_its_envelope() {
    let sim = sim().await;
    arm(&sim, json!({"endpoint": "/pos/pairing-code", "rule": "PAIR-08"})).await;
    let res = client()
        .post(format!("{}/pos/pairing-code", sim.base_url))
        .header("X-Device-Id", DEVICE)
        .header("User-Agent", UA)
        .header("X-Client-Type", "pos")
        .send()
        .await
        .expect("answered");
    assert_eq!(res.status(), 500);
    let body: Value = res.json().await.expect("envelope");
    assert_eq!(body["error"]["code"], "5000");
}
