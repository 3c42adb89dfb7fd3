//! `POST /pos/bootstrap` (BOOT-*).

use axum::http::Method;
use serde_json::json;
use viopay_sim::AppVersion;

use crate::common::*;

#[tokio::test]
async fn boot_01_boot_02_documented_request_gets_200_with_the_three_fields() {
    let sim = TestSim::new();
    let r = sim.bootstrap(ACME_DEVICE).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"status": "ok", "server_time": "2025-12-13T14:25:30Z", "min_supported_version": "1.3.5"}));
}

#[tokio::test]
async fn boot_03_boot_04_server_time_follows_the_simulator_clock_in_whole_seconds() {
    let sim = TestSim::new();
    sim.advance(61).await;
    assert_eq!(sim.bootstrap(ACME_DEVICE).await.body["server_time"], "2025-12-13T14:26:31Z");
    let sys = TestSim::system_clock();
    let t = sys.bootstrap(ACME_DEVICE).await.body["server_time"].as_str().unwrap_or_default().to_owned();
    let parsed = viopay_sim::time_fmt::parse_rfc3339(&t).expect("RFC 3339");
    assert!((time::OffsetDateTime::now_utc() - parsed).whole_seconds().abs() <= 2, "{t}");
    assert_eq!(t.len(), 20, "whole seconds with Z: {t}");
}

#[tokio::test]
async fn boot_06_min_supported_version_is_configurable() {
    let mut c = config();
    c.min_version = Some(AppVersion::parse("2.0.1").expect("version"));
    let sim = TestSim::with(c);
    assert_eq!(sim.bootstrap(ACME_DEVICE).await.body["min_supported_version"], "2.0.1");
}

#[tokio::test]
async fn boot_07_unprovisioned_device_is_404_with_device_id() {
    let sim = TestSim::new();
    let r = sim.bootstrap(UNKNOWN_DEVICE).await;
    r.assert_error(404, "4004", "Device not found");
    assert_eq!(r.details(), &json!({"device_id": UNKNOWN_DEVICE}));
}

#[tokio::test]
async fn boot_08_old_app_still_gets_200_and_a_journal_warning() {
    let sim = TestSim::new();
    let r = sim
        .request(
            Method::POST,
            "/pos/bootstrap",
            &[("X-Device-Id", ACME_DEVICE), ("User-Agent", "Viopay-POS/1.2.9 (Android 9; PAX-A80)"), ("X-Client-Type", "pos")],
            "",
        )
        .await;
    assert_eq!(r.status, 200);
    let current = sim.bootstrap(ACME_DEVICE).await;
    assert_eq!(current.status, 200);
    let journal = sim.request(Method::GET, "/_sim/journal", &[], "").await;
    let entries = journal.body["entries"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 2);
    assert!(
        entries[0]["warning"].as_str().unwrap_or_default().contains("1.2.9 is older than min_supported_version 1.3.5"),
        "{}",
        entries[0]
    );
    assert!(entries[1].get("warning").is_none(), "1.4.2 is current: {}", entries[1]);
}

#[tokio::test]
async fn boot_09_boot_10_repeatable_in_every_state_without_changing_state() {
    let sim = TestSim::new();
    let before = sim.device_state(ACME_DEVICE).await;
    for _ in 0..3 {
        assert_eq!(sim.bootstrap(ACME_DEVICE).await.status, 200);
    }
    assert_eq!(sim.device_state(ACME_DEVICE).await, before);

    // BOOT-10: not a precondition of pairing-code, and 200 once claimed too.
    let code = sim.code(ACME_DEVICE_2).await;
    let token = sim.acme().await;
    assert_eq!(sim.claim(&token, &json!({"pairing_code": code})).await.status, 200);
    let claimed = sim.device_state(ACME_DEVICE_2).await;
    assert_eq!(sim.bootstrap(ACME_DEVICE_2).await.status, 200);
    assert_eq!(sim.device_state(ACME_DEVICE_2).await, claimed);

    let mut c = config();
    c.fixtures = viopay_sim::Fixtures::parse(
        "[[merchants]]\nid = \"m\"\nname = \"M\"\nclient_id = \"c\"\nclient_secret = \"s\"\n[[devices]]\nid = \"POS-00000AC7\"\nmerchant_id = \"m\"\nstatus = \"activated\"\n",
        "inline",
    )
    .expect("fixtures");
    let activated = TestSim::with(c);
    assert_eq!(activated.bootstrap("POS-00000AC7").await.status, 200);
    assert_eq!(activated.status_triple("POS-00000AC7").await, ("activated".into(), true, "none".into()));
}
