//! The POS activation headers on bootstrap, pairing-code and status (HDR-*).

use axum::http::Method;

use crate::common::*;

const POS_ENDPOINTS: [(Method, &str); 3] =
    [(Method::POST, "/pos/bootstrap"), (Method::POST, "/pos/pairing-code"), (Method::GET, "/pos/status")];

/// One header fault: (case, headers, expected message). Each case has exactly one fault (§0.4).
type Case = (&'static str, Vec<(&'static str, &'static str)>, &'static str);

fn cases() -> Vec<Case> {
    let dev = ("X-Device-Id", ACME_DEVICE);
    let ua = ("User-Agent", UA);
    let ct = ("X-Client-Type", "pos");
    let id_invalid = "X-Device-Id header is invalid";
    let ua_invalid = "User-Agent header must start with Viopay-POS/";
    let ct_invalid = "X-Client-Type header must be pos";
    vec![
        ("HDR-02 missing device id", vec![ua, ct], "X-Device-Id header is required"),
        ("HDR-03/05 lowercase hex", vec![("X-Device-Id", "POS-8f3a2c91"), ua, ct], id_invalid),
        ("HDR-03/05 lowercase prefix", vec![("X-Device-Id", "pos-8F3A2C91"), ua, ct], id_invalid),
        ("HDR-03/05 empty", vec![("X-Device-Id", ""), ua, ct], id_invalid),
        ("HDR-03/05 extra characters", vec![("X-Device-Id", "POS-8F3A2C911"), ua, ct], id_invalid),
        ("HDR-03/05 too short", vec![("X-Device-Id", "POS-8F3A2C9"), ua, ct], id_invalid),
        ("Q-01 documented example id", vec![("X-Device-Id", "POS-UNKNOWN"), ua, ct], id_invalid),
        ("HDR-06 missing user agent", vec![dev, ct], ua_invalid),
        ("HDR-06 wrong prefix", vec![dev, ("User-Agent", "curl/8.5.0"), ct], ua_invalid),
        ("HDR-06 wrong case prefix", vec![dev, ("User-Agent", "viopay-pos/1.4.2"), ct], ua_invalid),
        ("HDR-09 missing client type", vec![dev, ua], ct_invalid),
        ("HDR-09 wrong client type", vec![dev, ua, ("X-Client-Type", "web")], ct_invalid),
        ("HDR-09 uppercase client type", vec![dev, ua, ("X-Client-Type", "POS")], ct_invalid),
    ]
}

#[tokio::test]
async fn hdr_02_to_hdr_10_each_header_fault_is_400_4000_with_its_message() {
    let sim = TestSim::new();
    for (method, path) in POS_ENDPOINTS {
        for (case, headers, message) in cases() {
            let r = sim.request(method.clone(), path, &headers, "").await;
            assert_eq!((r.status, r.code(), r.message()), (400, "4000", message), "{case} on {method} {path}");
            assert!(r.body["error"].get("details").is_none(), "ERR-06: no details for {case}");
        }
    }
    // A refused request changes nothing.
    assert_eq!(sim.status_triple(ACME_DEVICE).await, ("inactive".into(), false, "none".into()));
}

#[tokio::test]
async fn hdr_11_check_order_device_id_then_user_agent_then_client_type_then_lookup() {
    let sim = TestSim::new();
    for (method, path) in POS_ENDPOINTS {
        let r = sim.request(method.clone(), path, &[("X-Device-Id", "bad"), ("X-Client-Type", "web")], "").await;
        assert_eq!(r.message(), "X-Device-Id header is invalid");
        let r = sim.request(method.clone(), path, &[("X-Device-Id", UNKNOWN_DEVICE), ("X-Client-Type", "web")], "").await;
        assert_eq!(r.message(), "User-Agent header must start with Viopay-POS/");
        let r = sim.request(method.clone(), path, &[("X-Device-Id", UNKNOWN_DEVICE), ("User-Agent", UA)], "").await;
        assert_eq!(r.message(), "X-Client-Type header must be pos", "client type before lookup");
    }
}

#[tokio::test]
async fn hdr_01_hdr_08_headers_alone_suffice_and_only_the_ua_prefix_is_checked() {
    let sim = TestSim::new();
    for (method, path) in POS_ENDPOINTS {
        let r = sim
            .request(method.clone(), path, &[("X-Device-Id", ACME_DEVICE_2), ("User-Agent", "Viopay-POS/"), ("X-Client-Type", "pos")], "")
            .await;
        assert_eq!(r.status, 200, "{method} {path}: {}", r.body);
    }
    // HDR-01: an Authorization header is neither needed nor in the way (Q-21: ignored).
    let r = sim
        .request(
            Method::GET,
            "/pos/status",
            &[("X-Device-Id", ACME_DEVICE), ("User-Agent", UA), ("X-Client-Type", "pos"), ("Authorization", "Bearer junk")],
            "",
        )
        .await;
    assert_eq!(r.status, 200);
}

// HDR-12 is tested on the wire in tests/cli.rs: through the router, header names are already
// lowercased by the `http` crate, so a test here could not fail.
