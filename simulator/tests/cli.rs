//! The `viopay-sim` binary: flags, exit codes, the start-up summary, and behaviour on a real
//! socket (header case on the wire, `--seed` determinism across processes).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_viopay-sim");

/// A running `viopay-sim` process, killed on drop.
struct Server {
    child: Child,
    addr: String,
    summary: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("viopay-sim starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut summary = String::new();
    let mut addr = String::new();
    for line in lines.by_ref() {
        let line = line.expect("line");
        if let Some(url) = line.strip_prefix("viopay-sim listening on http://") {
            addr = url.to_owned();
        }
        let done = line.starts_with("  curl");
        summary.push_str(&line);
        summary.push('\n');
        if done {
            break;
        }
    }
    assert!(!addr.is_empty(), "no address in the summary:\n{summary}");
    Server { child, addr, summary }
}

/// One HTTP/1.1 exchange written by hand, so header names go on the wire exactly as given.
/// Returns the response with its `date` header removed.
fn raw(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).expect("write");
    let mut out = String::new();
    stream.read_to_string(&mut out).expect("read");
    out.lines().filter(|l| !l.to_ascii_lowercase().starts_with("date:")).collect::<Vec<_>>().join("\n")
}

fn body(response: &str) -> serde_json::Value {
    let json = response.split("\n\r\n").nth(1).or_else(|| response.split("\n\n").nth(1)).unwrap_or_default();
    serde_json::from_str(json.trim()).unwrap_or_default()
}

const POS: [(&str, &str); 3] =
    [("X-Device-Id", "POS-8F3A2C91"), ("User-Agent", "Viopay-POS/1.4.2 (Android 12; PAX-A920)"), ("X-Client-Type", "pos")];

#[test]
fn binary_prints_a_summary_and_serves_with_case_insensitive_headers() {
    let server = start(&["--clock", "virtual", "--seed", "1"]);
    for expected in
        ["Acme Coffee", "client_id acme", "client_secret acme-secret", "POS-8F3A2C91", "POS-B0000001", "clock: virtual", "curl -s -X POST"]
    {
        assert!(server.summary.contains(expected), "summary lacks {expected}:\n{}", server.summary);
    }
    // HDR-12 on the wire.
    let r = raw(
        &server.addr,
        "GET",
        "/pos/status",
        &[("x-DEVICE-id", "POS-8F3A2C91"), ("USER-AGENT", "Viopay-POS/1.4.2"), ("x-client-type", "pos")],
        "",
    );
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(r.to_ascii_lowercase().contains("x-trace-id: "), "{r}");
}

/// Runs a fixed activation sequence and returns every response, date headers removed.
fn sequence(addr: &str) -> Vec<String> {
    let mut out = vec![raw(addr, "POST", "/pos/bootstrap", &POS, ""), raw(addr, "POST", "/pos/pairing-code", &POS, "")];
    let code = body(&out[1])["pairing_code"].as_str().unwrap_or_default().to_owned();
    out.push(raw(addr, "GET", "/pos/status", &POS, ""));
    out.push(raw(
        addr,
        "POST",
        "/client/session",
        &[("Content-Type", "application/json")],
        r#"{"client_id":"acme","client_secret":"acme-secret"}"#,
    ));
    let token = body(&out[3])["access_token"].as_str().unwrap_or_default().to_owned();
    let auth = format!("Bearer {token}");
    let claim = format!(r#"{{"pairing_code":"{code}"}}"#);
    out.push(raw(addr, "POST", "/pos/claim", &[("Authorization", &auth), ("Content-Type", "application/json")], &claim));
    out.push(raw(addr, "POST", "/pos/claim", &[("Authorization", &auth), ("Content-Type", "application/json")], &claim));
    out.push(raw(addr, "GET", "/pos/status", &POS, ""));
    out.push(raw(addr, "GET", "/nowhere", &[], ""));
    out.push(raw(addr, "POST", "/_sim/clock/advance", &[], r#"{"seconds":301}"#));
    out.push(raw(addr, "POST", "/pos/bootstrap", &POS, ""));
    out.push(raw(addr, "GET", "/realms/viopay/protocol/openid-connect/certs", &[], ""));
    out
}

#[test]
fn seed_and_virtual_clock_give_byte_identical_responses() {
    let args = ["--clock", "virtual", "--seed", "5", "--public-url", "http://sim.local"];
    let first = sequence(&start(&args).addr);
    let second = sequence(&start(&args).addr);
    assert!(first[4].starts_with("HTTP/1.1 200"), "the claim succeeded: {}", first[4]);
    assert!(first[5].contains("\"4220\""), "{}", first[5]);
    assert_eq!(first, second);
    let other = sequence(&start(&["--clock", "virtual", "--seed", "6", "--public-url", "http://sim.local"]).addr);
    assert_ne!(first[1], other[1], "another seed gives other codes");
}

fn fails_with(args: &[&str], env: &[(&str, &str)], expected: &str) {
    let out = Command::new(BIN).args(args).envs(env.iter().copied()).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(expected), "{args:?}: stderr lacks {expected:?}:\n{stderr}");
}

#[test]
fn bad_flags_and_fixtures_exit_2_naming_the_problem() {
    let dir = std::env::temp_dir().join(format!("viopay-sim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let broken = dir.join("broken.toml");
    std::fs::write(&broken, "[[merchants]]\nid = \"m\"\nname = \"M\"\nclient_id = \"c\"\nclient_secret = \"s\"\n\n[[devices]]\nid = \"POS-12\"\nmerchant_id = \"m\"\n").expect("write");
    let syntax = dir.join("syntax.toml");
    std::fs::write(&syntax, "[[merchants]\nid = 1\n").expect("write");

    fails_with(&["--clock", "sometimes"], &[], "sometimes");
    fails_with(&["--listen", "nowhere"], &[], "nowhere");
    fails_with(&["--min-version", "1.x"], &[], "1.x");
    fails_with(&["--start-time", "2025-12-13T14:25:30Z"], &[], "--start-time needs --clock virtual");
    fails_with(&["--clock", "virtual", "--start-time", "noon"], &[], "RFC 3339");
    fails_with(&["--fixtures", "/nonexistent/fixtures.toml"], &[], "/nonexistent/fixtures.toml");
    fails_with(&["--fixtures", broken.to_str().unwrap_or_default()], &[], "broken.toml:8:");
    fails_with(&["--fixtures", syntax.to_str().unwrap_or_default()], &[], "line 1");
    fails_with(&[], &[("VIOPAY_SIM_CLOCK", "sometimes")], "sometimes");
    fails_with(&["--no-such-flag"], &[], "--no-such-flag");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_lists_every_documented_flag() {
    let out = Command::new(BIN).arg("--help").output().expect("runs");
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--fixtures",
        "--clock",
        "--start-time",
        "--seed",
        "--min-version",
        "--no-control",
        "VIOPAY_SIM_LISTEN",
        "--auto-claim",
        "--tls",
        "--tls-listen",
        "--tls-host",
        "--tls-ca-out",
        "--tls-cert",
        "--tls-key",
        "--tls-client-ca",
    ] {
        assert!(help.contains(flag), "help lacks {flag}");
    }
}
