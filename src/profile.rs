//! A profile: a real deployment described in TOML (base URL, merchants with credentials and pools
//! of inactive devices, an unprovisioned device id, what its clock can do).

use std::path::Path;

use serde::Deserialize;

use crate::pos::DeviceSecrets;

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
    /// With `mode = "control"`: the test clock stands still between moves. Off by default: most
    /// time-travel hooks add an offset to a clock that keeps running, and boundaries are then
    /// judged with real time's tolerance.
    #[serde(default)]
    pub frozen: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileMerchant {
    pub name: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// Read the secret from this environment variable instead.
    pub client_secret_env: Option<String>,
    /// Inactive devices of this merchant; scenarios consume them. A plain id serves steps 1–4; an
    /// entry with the device's secrets serves steps 5–8 too.
    #[serde(default)]
    pub devices: Vec<ProfileDevice>,
}

/// A device of a profile: `"POS-A0000000"` or `{ id = "POS-A0000000", identity_key_id = "…",
/// identity_secret_env = "…", zmk_env = "…" }` (secrets as standard Base64, IDK-03, IDK-04).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ProfileDevice {
    Id(String),
    Entry(DeviceEntry),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceEntry {
    pub id: String,
    pub identity_key_id: Option<String>,
    pub identity_secret: Option<String>,
    pub identity_secret_env: Option<String>,
    pub zmk: Option<String>,
    pub zmk_env: Option<String>,
}

impl ProfileDevice {
    pub fn id(&self) -> &str {
        match self {
            ProfileDevice::Id(id) => id,
            ProfileDevice::Entry(e) => &e.id,
        }
    }
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
    /// More devices, one JSON object per line (a fleet has thousands): `{"merchant": NAME, "id":
    /// …, "identity_key_id"?, "identity_secret"?, "identity_secret_env"?, "zmk"?, "zmk_env"?}`,
    /// relative to the profile's folder. They join their merchant's `devices`.
    pub devices_file: Option<String>,
}

/// One line of a `devices_file`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetLine {
    merchant: String,
    id: String,
    identity_key_id: Option<String>,
    identity_secret: Option<String>,
    identity_secret_env: Option<String>,
    zmk: Option<String>,
    zmk_env: Option<String>,
}

/// Adds the devices of a `devices_file` (its text) to their merchants, secrets resolved.
fn add_fleet(
    text: &str,
    file: &str,
    merchants: &mut [MerchantCredentials],
    env: &impl Fn(&str) -> Option<String>,
) -> Result<usize, String> {
    let mut added = 0;
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = |e: String| format!("{file}:{}: {e}", n + 1);
        let l: FleetLine = serde_json::from_str(line).map_err(|e| at(e.to_string()))?;
        let Some(m) = merchants.iter_mut().find(|m| m.name == l.merchant) else {
            return Err(at(format!("no [[merchants]] named `{}`", l.merchant)));
        };
        let entry = DeviceEntry {
            id: l.id,
            identity_key_id: l.identity_key_id,
            identity_secret: l.identity_secret,
            identity_secret_env: l.identity_secret_env,
            zmk: l.zmk,
            zmk_env: l.zmk_env,
        };
        if let Some(s) = device_secrets(&entry, env).map_err(at)? {
            m.secrets.push((entry.id.clone(), s));
        }
        m.devices.push(entry.id);
        added += 1;
    }
    Ok(added)
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
    /// The devices whose entry gives an identity key (steps 5–8), by id.
    pub secrets: Vec<(String, DeviceSecrets)>,
}

/// A secret given inline or through an environment variable (at most one of the two).
fn secret_of(
    inline: Option<&String>,
    var: Option<&String>,
    what: &str,
    device: &str,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, String> {
    match (inline, var) {
        (None, None) => Ok(None),
        (Some(s), None) => Ok(Some(s.clone())),
        (None, Some(var)) => env(var).map(Some).ok_or_else(|| format!("device `{device}`: environment variable {var} ({what}) is not set")),
        (Some(_), Some(_)) => Err(format!("device `{device}`: give at most one of {what} and {what}_env")),
    }
}

fn device_secrets(entry: &DeviceEntry, env: &impl Fn(&str) -> Option<String>) -> Result<Option<DeviceSecrets>, String> {
    let secret = secret_of(entry.identity_secret.as_ref(), entry.identity_secret_env.as_ref(), "identity_secret", &entry.id, env)?;
    let zmk = secret_of(entry.zmk.as_ref(), entry.zmk_env.as_ref(), "zmk", &entry.id, env)?;
    match (&entry.identity_key_id, secret) {
        (Some(key_id), Some(secret)) => {
            DeviceSecrets::parse(key_id, &secret, zmk.as_deref()).map(Some).map_err(|e| format!("device `{}`: {e}", entry.id))
        }
        (None, None) if zmk.is_none() => Ok(None),
        _ => Err(format!("device `{}`: identity_key_id and an identity secret go together (a ZMK alone is of no use)", entry.id)),
    }
}

impl Profile {
    pub fn load(path: &Path) -> Result<(Profile, Vec<MerchantCredentials>), ProfileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Io { path: shown.clone(), source })?;
        let env = |var: &str| std::env::var(var).ok();
        let (profile, mut merchants) = Self::parse(&text, &shown, env)?;
        if let Some(file) = &profile.devices_file {
            let fleet = path.parent().unwrap_or(Path::new(".")).join(file);
            let shown_fleet = fleet.display().to_string();
            let text = std::fs::read_to_string(&fleet).map_err(|source| ProfileError::Io { path: shown_fleet.clone(), source })?;
            add_fleet(&text, &shown_fleet, &mut merchants, &env)
                .map_err(|message| ProfileError::Invalid { path: shown.clone(), message })?;
        }
        Ok((profile, merchants))
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
            let mut secrets = Vec::new();
            for d in &m.devices {
                if let ProfileDevice::Entry(entry) = d
                    && let Some(s) = device_secrets(entry, &env).map_err(invalid)?
                {
                    secrets.push((entry.id.clone(), s));
                }
            }
            merchants.push(MerchantCredentials {
                name: m.name.clone(),
                client_id: m.client_id.clone(),
                client_secret: secret,
                devices: m.devices.iter().map(|d| d.id().to_owned()).collect(),
                secrets,
            });
        }
        Ok((profile, merchants))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_devices_file_adds_devices_with_their_secrets_to_their_merchants() {
        let (_, mut merchants) = Profile::parse(GOOD, "p.toml", env).expect("the profile parses");
        let before = merchants[0].devices.len();
        let secret = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let text = format!(
            "{{\"merchant\": \"acme\", \"id\": \"POS-0000A001\"}}\n\n{{\"merchant\": \"acme\", \"id\": \"POS-0000A002\", \"identity_key_id\": \"k1\", \"identity_secret\": \"{secret}\"}}\n"
        );
        assert_eq!(add_fleet(&text, "fleet.jsonl", &mut merchants, &|_| None), Ok(2));
        assert_eq!(merchants[0].devices.len(), before + 2);
        assert!(merchants[0].secrets.iter().any(|(id, s)| id == "POS-0000A002" && s.identity_key_id == "k1"));
        let unknown = add_fleet("{\"merchant\": \"nobody\", \"id\": \"POS-0000A003\"}", "fleet.jsonl", &mut merchants, &|_| None);
        assert_eq!(unknown, Err("fleet.jsonl:1: no [[merchants]] named `nobody`".to_owned()));
        assert!(add_fleet("{\"merchant\": \"acme\", \"idd\": 1}", "f", &mut merchants, &|_| None).is_err(), "a typo is refused");
    }

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
devices = [
  "POS-B0000000",
  { id = "POS-B0000001", identity_key_id = "idk-b0000001", identity_secret_env = "B1_SECRET", zmk = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" },
]
"#;

    fn env(v: &str) -> Option<String> {
        match v {
            "GLOBEX_SECRET" => Some("from-env".into()),
            "B1_SECRET" => Some("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into()),
            _ => None,
        }
    }

    #[test]
    fn a_device_entry_may_carry_its_secrets() {
        let (_, m) = Profile::parse(GOOD, "p.toml", env).expect("valid");
        assert_eq!(m[1].devices, vec!["POS-B0000000", "POS-B0000001"], "plain ids stay valid");
        let (id, s) = &m[1].secrets[0];
        assert_eq!((id.as_str(), s.identity_key_id.as_str(), s.identity_secret.len()), ("POS-B0000001", "idk-b0000001", 32));
        assert_eq!(s.zmk.map(|z| z[31]), Some(0x1F));
        assert!(!format!("{s:?}").contains("AAEC"), "secrets stay out of Debug output");
        let unset = Profile::parse(GOOD, "p.toml", |v| (v == "GLOBEX_SECRET").then(|| "x".into())).expect_err("unset").to_string();
        assert!(unset.contains("B1_SECRET"), "{unset}");
        let half = GOOD.replace("identity_key_id = \"idk-b0000001\", ", "");
        assert!(Profile::parse(&half, "p.toml", env).expect_err("half").to_string().contains("go together"));
        let bad = GOOD.replace("zmk = \"AAEC", "zmk = \"!!");
        assert!(Profile::parse(&bad, "p.toml", env).expect_err("base64").to_string().contains("Base64"));
    }

    #[test]
    fn secrets_come_from_the_file_or_the_environment() {
        let (p, m) = Profile::parse(GOOD, "p.toml", env).expect("valid");
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
