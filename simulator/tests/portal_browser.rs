//! The merchant portal in a real browser (headless Chromium over WebDriver): sign in, claim the
//! code a scripted POS just obtained and watch its row turn "claimed" and then "activated" without
//! a reload, then a wrong code, an expired code (the clock moved from the simulator panel) and
//! another merchant's device, each explained in words with its rule. Values that carry markup are
//! shown as text. Screenshots of the fleet page are written to `target/portal/`.

mod browser;
#[allow(dead_code)]
mod firmware;
#[path = "shared/hostile.rs"]
mod hostile;

use std::path::PathBuf;

use browser::Browser;
use firmware::Firmware;
use serde_json::Value;
use viopay_sim::{Fixtures, RunningSimulator, SimConfig};

const EVIL_NAME: &str = "Evil <script>window.__xss=1</script> & Co";

fn fixtures() -> Fixtures {
    hostile::with_hostile_tenant(EVIL_NAME, "eve<b>bold</b>@evil.example", "browser-test")
}

async fn simulator() -> RunningSimulator {
    let mut c = SimConfig::new(fixtures());
    c.seed = Some(31);
    c = c.with_virtual_clock(time::macros::datetime!(2025-12-13 14:25:30 UTC));
    viopay_sim::spawn(c, "127.0.0.1:0".parse().expect("addr")).await.expect("simulator")
}

/// Where screenshots go: `$VIOPAY_SCREENSHOTS`, else the workspace's `target/portal/`.
fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("VIOPAY_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/portal"));
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn sign_in(b: &Browser, base: &str, user: &str, password: &str) {
    b.type_into("#username", user).await;
    b.type_into("#password", password).await;
    b.click("form[action='/portal/sign-in'] button[type=submit]").await;
    let _ = base;
}

/// Types a code on the claim page and returns the answer box: its text and rule.
async fn claim(b: &Browser, base: &str, code: &str) -> (String, Option<String>) {
    b.goto(&format!("{base}/portal/claim")).await;
    b.type_into("#pairing_code", code).await;
    b.click("form[action='/portal/claim'] button[type=submit]").await;
    let text = b.text("[data-testid=flash]").await;
    (text, b.attr("[data-testid=flash]", "data-rule").await)
}

async fn pos_code(base: &str, device: &str) -> String {
    let mut pos = Firmware::new(base, device, &[]).await;
    pos.bootstrap().await;
    pos.pairing_code().await
}

fn row(device: &str, field: &str) -> String {
    format!("tr[data-device='{device}'] [data-field='{field}']")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_claims_a_terminal_in_the_portal_and_watches_it_activate() {
    let sim = simulator().await;
    let base = sim.base_url.clone();
    let b = Browser::start(1366, 900).await;

    // Behind sign-in: the claim page sends the browser to the sign-in form, and back after.
    b.goto(&format!("{base}/portal/claim")).await;
    assert!(b.path().await.starts_with("/portal/sign-in?next=%2Fportal%2Fclaim"), "{}", b.path().await);
    sign_in(&b, &base, "owner@acme.example", "wrong").await;
    assert!(b.text("[data-testid=flash]").await.contains("Wrong username or password"));
    sign_in(&b, &base, "owner@acme.example", "acme-portal").await;
    b.eventually("the claim page after sign-in", || async { (b.path().await == "/portal/claim").then_some(()) }).await;
    let cookie_visible = b.js("return document.cookie").await;
    assert_eq!(cookie_visible, Value::String(String::new()), "the session cookie is HttpOnly");

    // A terminal powers on and shows its code; the fleet shows it pending, live.
    let fleet = b.client.window().await.expect("window");
    b.goto(&format!("{base}/portal/fleet")).await;
    b.js("window.__sameDocument = 42; return null").await;
    let mut pos = Firmware::new(&base, "POS-8F3A2C91", &[]).await;
    pos.bootstrap().await;
    let code = pos.pairing_code().await;
    b.until_text(&row("POS-8F3A2C91", "code"), &code).await;
    b.until_text(&row("POS-8F3A2C91", "code"), "pending").await;
    b.until_text(&row("POS-8F3A2C91", "last-seen"), "POST /pos/pairing-code").await;

    // Claimed in a second tab, as a person would; the fleet tab turns "claimed" by itself.
    let tab = b.client.new_window(true).await.expect("tab").handle;
    b.client.switch_to_window(tab).await.expect("switch");
    let (answer, rule) = claim(&b, &base, &code.to_lowercase()).await;
    assert!(answer.contains("POS-8F3A2C91 is now yours"), "{answer}");
    assert_eq!(rule.as_deref(), Some("CLAIM-20"));
    b.client.switch_to_window(fleet.clone()).await.expect("switch back");
    b.until_text(&row("POS-8F3A2C91", "status"), "claimed").await;
    assert_eq!(b.js("return window.__sameDocument").await, Value::from(42), "no reload");

    // The terminal reads "claimed" and finishes steps 5–8: the row shows the key set, the time
    // of activation and the client verdict, still without a reload.
    assert_eq!(pos.status().await["device_status"], "claimed");
    pos.activate().await;
    b.until_text(&row("POS-8F3A2C91", "status"), "activated").await;
    b.until_text(&row("POS-8F3A2C91", "key-set"), "ks").await;
    b.until_text(&row("POS-8F3A2C91", "activated-at"), "2025-12-13T").await;
    b.until_text(&row("POS-8F3A2C91", "verdict"), "no rule broken").await;
    assert_eq!(b.js("return window.__sameDocument").await, Value::from(42), "no reload");

    // A second terminal pending, for the screenshot and for the expiry below.
    let expiring = pos_code(&base, "POS-A0000001").await;
    b.until_text(&row("POS-A0000001", "code"), &expiring).await;
    let dir = screenshot_dir();
    let png = b.client.screenshot().await.expect("screenshot");
    std::fs::write(dir.join("fleet.png"), &png).expect("write screenshot");
    eprintln!("screenshot: {} ({} bytes)", dir.join("fleet.png").display(), png.len());

    // A wrong code.
    let (answer, rule) = claim(&b, &base, "ZZZZZ9").await;
    assert!(answer.contains("could not find that code"), "{answer}");
    assert_eq!(rule.as_deref(), Some("CLAIM-12"));

    // An expired code: ten minutes pass, moved from the simulator panel.
    b.goto(&format!("{base}/portal/simulator")).await;
    assert!(b.text(".sim-banner").await.contains("not part of VioPay"));
    let before = b.text("[data-testid=sim-now]").await;
    b.click("form[action='/portal/simulator/clock/advance'] button[value='600']").await;
    let after = b.until_text("[data-testid=flash]", "The clock moved 600 s on").await;
    assert!(!after.contains(&before), "{after}");
    let (answer, rule) = claim(&b, &base, &expiring).await;
    assert!(answer.contains("This code has expired"), "{answer}");
    assert_eq!(rule.as_deref(), Some("CLAIM-19"));

    // Another merchant's terminal.
    let globex = pos_code(&base, "POS-B0000001").await;
    let (answer, rule) = claim(&b, &base, &globex).await;
    assert!(answer.contains("belongs to another merchant account") && answer.contains("POS-B0000001"), "{answer}");
    assert_eq!(rule.as_deref(), Some("CLAIM-16"));
    // …and it is not in Acme's fleet.
    b.goto(&format!("{base}/portal/fleet?q=B0000001")).await;
    assert_eq!(b.text("[data-testid=fleet-total]").await, "0");

    // The code already used.
    let (answer, rule) = claim(&b, &base, &code).await;
    assert!(answer.contains("already been used"), "{answer}");
    assert_eq!(rule.as_deref(), Some("CLAIM-18"));

    // Markup typed as a code is shown as text and never runs.
    let typed = "<script>window.__xss=3</script>";
    let (answer, rule) = claim(&b, &base, typed).await;
    assert!(answer.contains(typed), "{answer}");
    assert_eq!(rule.as_deref(), Some("CLAIM-12"));
    assert_eq!(b.js("return typeof window.__xss").await, "undefined");

    // The journal shows the portal's claims as ordinary merchant claims.
    let journal: Value = reqwest::get(format!("{base}/_sim/journal")).await.expect("journal").json().await.expect("json");
    let claims: Vec<&Value> = journal["entries"].as_array().expect("entries").iter().filter(|e| e["path"] == "/pos/claim").collect();
    assert!(claims.len() >= 6, "{claims:?}");
    assert!(journal["entries"].as_array().expect("entries").iter().all(|e| !e["path"].as_str().unwrap_or("").starts_with("/portal")));

    // The panel's journal of the device, and a reset from the panel.
    b.goto(&format!("{base}/portal/simulator?device=POS-8F3A2C91")).await;
    b.until_text("[data-testid=journal]", "/pos/activate").await;
    b.click("form[action='/portal/simulator/devices/reset'] button[type=submit]").await;
    b.until_text("[data-testid=flash]", "POS-8F3A2C91 is reset").await;

    // Sign out: the fleet is behind sign-in again.
    b.click("form[action='/portal/sign-out'] button").await;
    b.eventually("the sign-in page", || async { b.path().await.starts_with("/portal/sign-in").then_some(()) }).await;
    b.goto(&format!("{base}/portal/fleet")).await;
    assert!(b.path().await.starts_with("/portal/sign-in"), "{}", b.path().await);

    // A merchant and a user whose names carry markup: shown as text, nothing runs.
    sign_in(&b, &base, "eve<b>bold</b>@evil.example", "evil-portal").await;
    let who = b.text("[data-testid=who]").await;
    assert!(who.contains("eve<b>bold</b>@evil.example") && who.contains(EVIL_NAME), "{who}");
    b.goto(&format!("{base}/portal/fleet?q=%3Cscript%3Ealert(1)%3C/script%3E")).await;
    assert_eq!(b.attr("#q", "value").await.as_deref(), Some("<script>alert(1)</script>"));
    assert_eq!(b.js("return typeof window.__xss").await, "undefined");
    assert_eq!(b.js("return document.querySelectorAll('b').length").await, Value::from(0));
    b.close().await;
}

/// The fleet page on a phone-sized screen, for the README and to see it stays usable there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_page_fits_a_phone() {
    let sim = simulator().await;
    let base = sim.base_url.clone();
    let b = Browser::start(390, 844).await;
    let code = pos_code(&base, "POS-8F3A2C91").await;
    b.goto(&format!("{base}/portal/fleet")).await;
    sign_in(&b, &base, "owner@acme.example", "acme-portal").await;
    b.until_text(&row("POS-8F3A2C91", "code"), &code).await;
    // Nothing but the table scrolls sideways.
    let overflow = b.js("return document.documentElement.scrollWidth - document.documentElement.clientWidth").await;
    assert_eq!(overflow, Value::from(0), "the page itself must not scroll sideways on a phone");
    let png = b.client.screenshot().await.expect("screenshot");
    let path = screenshot_dir().join("fleet-phone.png");
    std::fs::write(&path, &png).expect("write screenshot");
    eprintln!("screenshot: {} ({} bytes)", path.display(), png.len());
    b.close().await;
}

/// The Kustom tab: a merchant enrolls a device, the POS app registers with the code, the device
/// shows with the enrollment's metadata; an enrollment is cancelled and a device deregistered from
/// the page (KEN-01, KREG-10, KEN-35, KDEV-20).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_enrolls_a_kustom_device_in_the_portal() {
    let sim = simulator().await;
    let base = sim.base_url.clone();
    let b = Browser::start(1366, 900).await;
    b.goto(&format!("{base}/portal/kustom")).await;
    sign_in(&b, &base, "owner@acme.example", "acme-portal").await;
    b.eventually("the Kustom tab", || async { (b.path().await == "/portal/kustom").then_some(()) }).await;
    assert!(b.text("[data-testid=no-devices]").await.contains("No registered device"));
    assert!(!b.client.source().await.expect("source").contains("kco_test_ipp_"), "the API key never reaches the page");

    // Enroll with metadata; the code is in the answer.
    b.type_into("#k-key-0", "store_id").await;
    b.type_into("#k-value-0", "123").await;
    b.click("form[action='/portal/kustom/enrollments'] button[type=submit]").await;
    let created = b.until_text("[data-testid=flash]", "Enrollment created: code ").await;
    let code: String = created.split("code ").nth(1).unwrap_or_default().chars().take(8).collect();
    assert_eq!(b.attr("[data-testid=flash]", "data-rule").await.as_deref(), Some("KEN-01"));
    assert_eq!(b.text("[data-testid=enrollments] [data-field=status]").await, "PENDING");

    // The clerk types it into the POS app, which registers without authentication.
    let reg: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/ipp/v1/devices/register"))
        .json(&serde_json::json!({"enrollment_code": code.to_lowercase(), "hardware_id": "R58N90ABCDE", "platform": "ANDROID"}))
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("json");
    let token = reg["credentials"]["bearer_token"].as_str().expect("token").to_owned();
    b.goto(&format!("{base}/portal/kustom")).await;
    assert_eq!(b.text("[data-testid=devices] [data-field=name]").await, "ANDROID BCDE");
    assert_eq!(b.text("[data-testid=devices] [data-field=metadata]").await, "store_id=123", "KREG-10: carried over");
    assert_eq!(b.text("[data-testid=enrollments] [data-field=status]").await, "CONSUMED");

    // A second enrollment, cancelled from the page: gone from the list.
    b.click("form[action='/portal/kustom/enrollments'] button[type=submit]").await;
    b.until_text("[data-testid=flash]", "Enrollment created").await;
    let png = b.client.screenshot().await.expect("screenshot");
    let path = screenshot_dir().join("kustom.png");
    std::fs::write(&path, &png).expect("write screenshot");
    eprintln!("screenshot: {} ({} bytes)", path.display(), png.len());
    b.click("form[action='/portal/kustom/enrollments/cancel'] button").await;
    b.until_text("[data-testid=flash]", "Enrollment cancelled").await;
    let statuses =
        b.js("return [...document.querySelectorAll('[data-testid=enrollments] [data-field=status]')].map(e => e.textContent)").await;
    assert_eq!(statuses, serde_json::json!(["CONSUMED"]), "KEN-22: the cancelled one is not listed");

    // Deregistered from the page: its token is refused at once.
    b.click("form[action='/portal/kustom/devices/deregister'] button").await;
    b.until_text("[data-testid=flash]", "Device deregistered").await;
    let me = reqwest::Client::new().get(format!("{base}/ipp/v1/devices/me")).bearer_auth(&token).send().await.expect("me");
    assert_eq!(me.status(), 401, "KDEV-20");
    assert!(b.text("[data-testid=no-devices]").await.contains("No registered device"));
    b.close().await;
}
