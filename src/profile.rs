//! A profile: a real deployment described in TOML (base URL, merchants with credentials and pools
//! of inactive devices, an unprovisioned device id, what its clock can do).

use std::path::Path;

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockMode {
    /// Wall clock: expiry scenarios wait for real and run only when `@slow` is selected.
    Real,
    /// The target implements `POST /_sim/clock/advance {"seconds": N}`.
    Control,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockSection {
    pub mode: ClockMode,
    /// AUTH-14: the deployment's Bearer tokens expire on the clock `control` moves (its identity
    /// provider shares the test clock). Off by default: a real Keycloak runs on real time, so the
    /// expired-token check waits `expires_in` for real (`--tags @slow`) or is "not applicable".
    #[serde(default)]
    pub tokens_follow: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileMerchant {
    pub name: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// Read the secret from this environment variable instead.
    pub client_secret_env: Option<String>,
    /// Inactive devices of this merchant; scenarios consume them.
    #[serde(default)]
    pub devices: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub base_url: String,
    /// Well-formed and not provisioned.
    pub unknown_device: String,
    pub clock: ClockSection,
    pub merchants: Vec<ProfileMerchant>,
    /// The `min_supported_version` the deployment is configured with (BOOT-06); default `1.3.5`.
    pub min_supported_version: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("cannot read profile {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// A merchant with its secret resolved.
#[derive(Debug, Clone)]
pub struct MerchantCredentials {
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
    pub devices: Vec<String>,
}

impl Profile {
    pub fn load(path: &Path) -> Result<(Profile, Vec<MerchantCredentials>), ProfileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Io { path: shown.clone(), source })?;
        Self::parse(&text, &shown, |var| std::env::var(var).ok())
    }

    /// Parses and resolves secrets through `env` (injected so that tests need not touch the
    /// process environment).
    pub fn parse(
        text: &str,
        path: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(Profile, Vec<MerchantCredentials>), ProfileError> {
        let invalid = |message: String| ProfileError::Invalid { path: path.to_owned(), message };
        let profile: Profile = toml::from_str(text).map_err(|e| invalid(e.to_string().trim_end().to_owned()))?;
        if !(profile.base_url.starts_with("http://") || profile.base_url.starts_with("https://")) {
            return Err(invalid(format!("base_url `{}` must start with http:// or https://", profile.base_url)));
        }
        if profile.merchants.len() < 2 {
            return Err(invalid("at least two [[merchants]] are needed: ownership rules need a second merchant".into()));
        }
        let mut merchants = Vec::new();
        for m in &profile.merchants {
            let secret = match (&m.client_secret, &m.client_secret_env) {
                (Some(s), None) => s.clone(),
                (None, Some(var)) => {
                    env(var).ok_or_else(|| invalid(format!("merchant `{}`: environment variable {var} is not set", m.name)))?
                }
                _ => return Err(invalid(format!("merchant `{}`: give exactly one of client_secret and client_secret_env", m.name))),
            };
            merchants.push(MerchantCredentials {
                name: m.name.clone(),
                client_id: m.client_id.clone(),
                client_secret: secret,
                devices: m.devices.clone(),
            });
        }
        Ok((profile, merchants))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
base_url = "https://staging.example.com"
unknown_device = "POS-DEADBEEF"
[clock]
mode = "real"
[[merchants]]
name = "acme"
client_id = "acme"
client_secret = "s"
devices = ["POS-A0000000", "POS-A0000001"]
[[merchants]]
name = "globex"
client_id = "globex"
client_secret_env = "GLOBEX_SECRET"
"#;

    #[test]
    fn secrets_come_from_the_file_or_the_environment() {
        let (p, m) = Profile::parse(GOOD, "p.toml", |v| (v == "GLOBEX_SECRET").then(|| "from-env".into())).expect("valid");
        assert_eq!(p.clock.mode, ClockMode::Real);
        assert!(!p.clock.tokens_follow, "AUTH-14: tokens follow real time unless the profile says otherwise");
        assert_eq!(m[1].client_secret, "from-env");
        assert_eq!(m[0].devices.len(), 2);
        let err = Profile::parse(GOOD, "p.toml", |_| None).expect_err("unset").to_string();
        assert!(err.contains("GLOBEX_SECRET"), "{err}");
    }

    #[test]
    fn bad_profiles_name_the_problem() {
        let one = GOOD.split("[[merchants]]\nname = \"globex\"").next().unwrap_or_default();
        assert!(Profile::parse(one, "p.toml", |_| None).expect_err("one merchant").to_string().contains("two"));
        assert!(Profile::parse("base_url = 1", "p.toml", |_| None).expect_err("type").to_string().contains("line 1"));
        let typo = GOOD.replace("unknown_device", "unkown_device");
        assert!(Profile::parse(&typo, "p.toml", |_| Some("x".into())).expect_err("typo").to_string().contains("unkown_device"));
    }
}
