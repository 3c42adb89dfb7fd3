//! ERR-12 for steps 5–8: arbitrary signature headers, attestation headers and envelopes never get
//! a 5xx, always the error envelope (checked by `TestSim::send` on every reply), and never change
//! a device's state.

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::activation::attested;
use crate::common::*;

/// Header bytes a client might send: text, junk, nothing, very long, or not UTF-8.
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[ -~]{0,40}".prop_map(String::into_bytes),
        Just(b"v1=NWmjGwkd1ev94Yqt0iG6UFJzLFs90wkqiyxFiSIqQlI=".to_vec()),
        Just(b"2025-12-13T14:25:30Z".to_vec()),
        Just(b"Attestation att_".to_vec()),
        proptest::collection::vec(0x80u8..=0xFF, 1..8),
        Just(vec![b'a'; 5000]),
    ]
}

/// An activate body: JSON of envelope shape with random member values, or random bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let member = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[0-9A-Fa-f]{0,96}".prop_map(Value::from),
        "[ -~]{0,20}".prop_map(Value::from),
        Just(json!([])),
    ];
    prop_oneof![
        (member.clone(), member.clone(), member.clone(), member).prop_map(|(f, c, iv, k)| {
            json!({ "format": f, "ciphertext": c, "initialization_vector": iv, "mode": "CBC", "key_kcv": k }).to_string().into_bytes()
        }),
        proptest::collection::vec(any::<u8>(), 0..200),
    ]
}

fn with_headers(method: Method, path: &str, headers: &[(&str, Vec<u8>)], body: Vec<u8>) -> Request<Body> {
    let mut req = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_bytes(value) {
            req = req.header(*name, v);
        }
    }
    req.body(Body::from(body)).expect("request")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn err_12_steps_5_to_8_never_answer_bad_input_with_a_5xx(
        key_id in header_value(), timestamp in header_value(), nonce in header_value(), signature in header_value(),
        authorization in header_value(), device in header_value(), envelope in body(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let sim = TestSim::new();
            let pos = [("X-Device-Id", ACME_DEVICE.as_bytes().to_vec()), ("User-Agent", UA.as_bytes().to_vec()), ("X-Client-Type", b"pos".to_vec())];
            let mut attest = pos.to_vec();
            attest.extend([("X-Key-Id", key_id), ("X-Timestamp", timestamp), ("X-Nonce", nonce), ("X-Signature", signature)]);
            sim.send(with_headers(Method::POST, "/pos/attest", &attest, Vec::new())).await;
            let auth = [("Authorization", authorization), ("X-Device-Id", device), ("Content-Type", b"application/json".to_vec())];
            for path in ["/pos/keys", "/pos/config", "/pos/terminal-parameters", "/pos/activate"] {
                sim.send(with_headers(Method::POST, path, &auth, envelope.clone())).await;
            }
            assert_eq!(sim.status_triple(ACME_DEVICE).await, ("inactive".to_owned(), false, "none".to_owned()));
        });
    }

    /// MSK-08…ACT-07 with a valid token: a random body is refused with a 4xx and the device
    /// stays claimed.
    #[test]
    fn err_12_random_activate_bodies_with_a_valid_token_are_refused(envelope in body()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let sim = TestSim::new();
            let (pos, token) = attested(&sim).await;
            assert_eq!(pos.call("/pos/keys", &token, Body::empty()).await.status, 200);
            let r = pos.call("/pos/activate", &token, envelope).await;
            assert!((400..500).contains(&r.status), "{}", r.body);
            assert_eq!(sim.status_triple(ACME_DEVICE).await, ("claimed".to_owned(), true, "used".to_owned()));
        });
    }
}
