//! Scenarios never name a value of the simulator's built-in fixtures (issue: "no fixture literals
//! in scenarios"). A scenario run against a real backend would send the simulator's credential,
//! merchant, device or location and report the backend's right refusal as a failure (the KAUTH-02
//! false alarm). Values reach scenarios through placeholders filled from the target.

use base64::Engine as _;
use viopay_check::features;

/// Every identifying value in the built-in fixtures, with derived forms (Basic credentials, the
/// devices of each range).
fn fixture_values() -> Vec<String> {
    let text = include_str!("../../simulator/fixtures/builtin.toml");
    let doc: toml::Table = text.parse().expect("builtin.toml parses");
    let mut values = Vec::new();
    collect(&toml::Value::Table(doc.clone()), &mut values);
    for m in doc["kustom"]["merchants"].as_array().expect("kustom merchants") {
        let (user, key) = (m["username"].as_str().unwrap_or_default(), m["api_key"].as_str().unwrap_or_default());
        for user in [user, ""] {
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{key}"));
            values.push(basic[..basic.len() - 4].to_owned());
        }
    }
    for range in doc["device_ranges"].as_array().expect("ranges") {
        let first = range["first"].as_str().expect("first");
        let start = u32::from_str_radix(&first[4..], 16).expect("hex");
        for n in 0..range["count"].as_integer().unwrap_or(0) as u32 {
            values.push(format!("POS-{:08X}", start + n));
        }
    }
    values.retain(|v| v.len() >= 6);
    values.sort();
    values.dedup();
    values
}

/// Strings under the keys that identify something (names and cities are words, not identities).
fn collect(value: &toml::Value, out: &mut Vec<String>) {
    const KEYS: &[&str] =
        &["id", "merchant_id", "client_id", "client_secret", "api_key", "username", "password", "first", "kustom_merchant_id"];
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                match v {
                    toml::Value::String(s) if KEYS.contains(&k.as_str()) => out.push(s.clone()),
                    other => collect(other, out),
                }
            }
        }
        toml::Value::Array(a) => a.iter().for_each(|v| collect(v, out)),
        _ => {}
    }
}

#[test]
fn no_scenario_names_a_value_of_the_simulators_fixtures() {
    let values = fixture_values();
    assert!(values.iter().any(|v| v.starts_with("kco_test_ipp_")), "the Kustom keys are among the values: {values:?}");
    assert!(values.iter().any(|v| v == "POS-A0000002"), "range devices are among the values");
    let mut found = Vec::new();
    for file in features::builtin().into_iter().chain(features::kustom()) {
        for (n, line) in file.text.lines().enumerate() {
            for v in &values {
                if line.to_uppercase().contains(&v.to_uppercase()) {
                    found.push(format!("{}:{}: `{v}` in {}", file.path, n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "scenarios must take these from the target (placeholders), not the simulator's fixtures:\n{}",
        found.join("\n")
    );
}
