//! A tenant whose values carry markup, added to the built-in fixtures, for the portal's tests
//! (over HTTP and in a browser) that every value is shown as text.

use viopay_sim::Fixtures;

/// The built-in fixtures plus merchant `e0000000-…-000000000001` named `name`, its device
/// `POS-E0000001`, and its portal user `username` with the password `evil-portal`.
pub fn with_hostile_tenant(name: &str, username: &str, source: &str) -> Fixtures {
    let quoted = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"");
    let extra = format!(
        r#"
[[merchants]]
id = "e0000000-0000-4000-8000-000000000001"
name = "{}"
client_id = "evil"
client_secret = "evil-secret"

[[devices]]
id = "POS-E0000001"
merchant_id = "e0000000-0000-4000-8000-000000000001"

[[users]]
username = "{}"
password = "evil-portal"
merchant_id = "e0000000-0000-4000-8000-000000000001"
"#,
        quoted(name),
        quoted(username)
    );
    Fixtures::parse(&format!("{}{extra}", viopay_sim::BUILTIN_TOML), source).expect("fixtures")
}
