//! The fixtures file: merchants, devices and device ranges provisioned at start and restored by
//! `/_sim/reset`. Every problem is reported with the file and line it comes from.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::domain::{CONFIG_MEMBERS, DeviceStatus, IdentityKey, Merchant, ProvisionError, State, User, default_key_id};
use crate::ids::{AppVersion, DeviceId};

/// The built-in set: two merchants, a few devices each.
pub const BUILTIN_TOML: &str = include_str!("../fixtures/builtin.toml");

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("cannot read fixtures file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Toml { path: String, message: String },
    #[error("{path}:{line}: {message}")]
    Invalid { path: String, line: usize, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixturesFile {
    min_supported_version: Option<Spanned<String>>,
    #[serde(default)]
    merchants: Vec<MerchantFixture>,
    #[serde(default)]
    devices: Vec<DeviceFixture>,
    #[serde(default)]
    device_ranges: Vec<DeviceRangeFixture>,
    /// Portal users, who sign in with the password grant.
    #[serde(default)]
    users: Vec<UserFixture>,
    /// Kustom's merchants, keys and locations (absent: the built-in ones).
    kustom: Option<crate::kustom::fixtures::KustomFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFixture {
    username: Spanned<String>,
    password: String,
    merchant_id: Spanned<String>,
    /// A Kustom merchant of `[kustom]` the user also runs (the portal's Kustom tab).
    kustom_merchant_id: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MerchantFixture {
    id: Spanned<String>,
    name: String,
    client_id: Spanned<String>,
    client_secret: String,
    /// CFG-07: config values for the merchant's devices (`merchant_key`, `tip_info`, `location`, …).
    #[serde(default)]
    config: Option<Spanned<toml::Table>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceFixture {
    id: Spanned<String>,
    merchant_id: Spanned<String>,
    /// Not in the documented file format: lets a team start a device already claimed or activated
    /// (§2.3: "other combinations arise only from provisioning fixtures").
    #[serde(default)]
    status: Option<DeviceStatus>,
    /// IDK-02, IDK-05: the identity key id and its secret (standard Base64 of 32 bytes).
    identity_key_id: Option<Spanned<String>>,
    identity_secret: Option<Spanned<String>>,
    /// IDK-04: the ZMK (standard Base64 of 32 bytes).
    zmk: Option<Spanned<String>>,
    /// CFG-06: `TERM-` + digits.
    terminal_id: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceRangeFixture {
    merchant_id: Spanned<String>,
    first: Spanned<String>,
    count: u32,
}

/// Validated fixtures and the state they provision. The simulator takes the state; a reset parses
/// `text` again rather than keeping a second copy of a million devices for it.
#[derive(Debug, Clone)]
pub struct Fixtures {
    /// The file path, or `built-in`.
    pub source: String,
    /// The TOML they were parsed from.
    pub text: String,
    pub min_supported_version: Option<AppVersion>,
    pub(crate) state: State,
    /// Kustom's merchants and locations (`[kustom]`).
    pub(crate) kustom: crate::kustom::KustomState,
}

impl Fixtures {
    pub fn builtin() -> Result<Self, FixtureError> {
        Self::parse(BUILTIN_TOML, "built-in")
    }

    pub fn load(path: &Path) -> Result<Self, FixtureError> {
        let source = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| FixtureError::Io { path: source.clone(), source: e })?;
        Self::parse(&text, &source)
    }

    pub fn parse(text: &str, source: &str) -> Result<Self, FixtureError> {
        let file: FixturesFile = toml::from_str(text)
            .map_err(|e| FixtureError::Toml { path: source.to_owned(), message: e.to_string().trim_end().to_owned() })?;
        let at = |span: std::ops::Range<usize>, message: String| FixtureError::Invalid {
            path: source.to_owned(),
            line: text[..span.start.min(text.len())].matches('\n').count() + 1,
            message,
        };

        let min_supported_version = match &file.min_supported_version {
            Some(v) => Some(AppVersion::parse(v.get_ref()).map_err(|e| at(v.span(), e.to_string()))?),
            None => None,
        };

        let mut state = State::new();
        for m in file.merchants {
            let merchant = Merchant {
                id: m.id.get_ref().clone(),
                name: m.name,
                client_id: m.client_id.get_ref().clone(),
                client_secret: m.client_secret,
            };
            let idx = state.add_merchant(merchant).map_err(|e| {
                let span = if matches!(e, ProvisionError::DuplicateClient(_)) { m.client_id.span() } else { m.id.span() };
                at(span, e.to_string())
            })?;
            if let Some(config) = m.config {
                let span = config.span();
                let table = config.into_inner();
                if let Some(unknown) = table.keys().find(|k| !CONFIG_MEMBERS.contains(&k.as_str())) {
                    return Err(at(span, format!("config member `{unknown}` is not one of {}", CONFIG_MEMBERS.join(", "))));
                }
                let json = serde_json::to_value(&table).map_err(|e| at(span.clone(), e.to_string()))?;
                if let serde_json::Value::Object(map) = json {
                    state.set_merchant_config(idx, map);
                }
            }
        }
        let owner_of = |state: &State, id: &Spanned<String>| {
            state
                .merchant_by_id(id.get_ref())
                .ok_or_else(|| at(id.span(), format!("merchant_id `{}` matches no [[merchants]] entry", id.get_ref())))
        };
        for d in file.devices {
            let id = DeviceId::parse(d.id.get_ref()).map_err(|e| at(d.id.span(), e.to_string()))?;
            let owner = owner_of(&state, &d.merchant_id)?;
            state.add_device(id, owner, d.status.unwrap_or(DeviceStatus::Inactive)).map_err(|e| at(d.id.span(), e.to_string()))?;
            let key32 = |v: &Spanned<String>| -> Result<[u8; 32], FixtureError> {
                STANDARD
                    .decode(v.get_ref())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| at(v.span(), "must be standard Base64 of 32 bytes".into()))
            };
            match (&d.identity_key_id, &d.identity_secret) {
                (key_id, Some(secret)) => {
                    let key_id = key_id.as_ref().map_or_else(|| default_key_id(id), |k| k.get_ref().clone());
                    let key = IdentityKey { key_id, secret: key32(secret)?, revoked: false };
                    state.device_ext_mut(id).map_err(|e| at(d.id.span(), e.to_string()))?.identity_keys = Some(vec![key]);
                }
                (Some(key_id), None) => {
                    state.device_ext_mut(id).map_err(|e| at(d.id.span(), e.to_string()))?.default_key_id = Some(key_id.get_ref().clone());
                }
                (None, None) => {}
            }
            if let Some(zmk) = &d.zmk {
                let zmk_bytes = key32(zmk)?;
                state.device_ext_mut(id).map_err(|e| at(d.id.span(), e.to_string()))?.zmk = Some(zmk_bytes);
            }
            if let Some(t) = &d.terminal_id {
                let number = t
                    .get_ref()
                    .strip_prefix("TERM-")
                    .filter(|n| n.len() >= 6 && n.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|n| n.parse::<u32>().ok())
                    .ok_or_else(|| at(t.span(), "terminal_id must be TERM- and at least 6 digits".into()))?;
                state.set_terminal(id, number).map_err(|e| at(t.span(), e.to_string()))?;
            }
        }
        for r in file.device_ranges {
            let first = DeviceId::parse(r.first.get_ref()).map_err(|e| at(r.first.span(), e.to_string()))?;
            let owner = owner_of(&state, &r.merchant_id)?;
            state.add_device_range(first, r.count, owner).map_err(|e| at(r.first.span(), e.to_string()))?;
        }
        let kustom = match file.kustom {
            Some(part) => crate::kustom::fixtures::build(part).map_err(|(span, message)| at(span, message))?,
            None => crate::kustom::fixtures::builtin(),
        };
        for u in file.users {
            let merchant = owner_of(&state, &u.merchant_id)?;
            let kustom_merchant = match u.kustom_merchant_id {
                Some(k) if kustom.merchants.iter().any(|m| m.id == *k.get_ref()) => Some(k.into_inner()),
                Some(k) => return Err(at(k.span(), format!("kustom_merchant_id `{}` matches no [[kustom.merchants]] entry", k.get_ref()))),
                None => None,
            };
            let user = User { username: u.username.get_ref().clone(), password: u.password, merchant, kustom_merchant };
            state.add_user(user).map_err(|e| at(u.username.span(), e.to_string()))?;
        }
        Ok(Fixtures { source: source.to_owned(), text: text.to_owned(), min_supported_version, state, kustom })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_fixtures_load() {
        let f = Fixtures::builtin().expect("built-in fixtures are valid");
        assert_eq!(f.state.merchants().count(), 2);
        assert_eq!(f.state.device_count(), 7);
        assert!(f.state.contains_device(DeviceId::from_u32(0xA000_0003)));
        // One portal user per merchant.
        for (idx, _) in f.state.merchants() {
            assert_eq!(f.state.users().filter(|u| u.merchant == idx).count(), 1);
        }
        // Kustom's built-in merchants, also served without a `[kustom]` part.
        let ids = |k: &crate::kustom::KustomState| k.merchants.iter().map(|m| m.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&f.kustom), ids(&crate::kustom::fixtures::builtin()));
        assert_eq!(ids(&f.kustom), ["merchant_12345", "merchant_67890"]);
    }

    #[test]
    fn users_name_a_known_merchant_and_a_unique_username() {
        let head = "[[merchants]]\nid = \"m\"\nname = \"n\"\nclient_id = \"c\"\nclient_secret = \"s\"\n";
        let ok = format!("{head}[[users]]\nusername = \"u\"\npassword = \"p\"\nmerchant_id = \"m\"\n");
        assert!(Fixtures::parse(&ok, "f.toml").expect("valid").state.authenticate_user("u", "p").is_ok());
        let unknown = format!("{head}[[users]]\nusername = \"u\"\npassword = \"p\"\nmerchant_id = \"x\"\n");
        let err = Fixtures::parse(&unknown, "f.toml").expect_err("unknown").to_string();
        assert!(err.starts_with("f.toml:9:") && err.contains("`x`"), "{err}");
        let dup = format!("{ok}[[users]]\nusername = \"U\"\npassword = \"q\"\nmerchant_id = \"m\"\n");
        assert!(Fixtures::parse(&dup, "f.toml").expect_err("dup").to_string().contains("already taken"));
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let text = "[[merchants]]\nid = \"m\"\nname = \"n\"\nclient_id = \"c\"\nclient_secret = \"s\"\n\n[[devices]]\nid = \"POS-zz\"\nmerchant_id = \"m\"\n";
        let err = Fixtures::parse(text, "f.toml").expect_err("bad id").to_string();
        assert!(err.starts_with("f.toml:8:"), "{err}");

        let err =
            Fixtures::parse("[[devices]]\nid = \"POS-00000001\"\nmerchant_id = \"nobody\"\n", "f.toml").expect_err("unknown").to_string();
        assert!(err.starts_with("f.toml:3:") && err.contains("nobody"), "{err}");

        let err = Fixtures::parse("merchants = 3\n", "f.toml").expect_err("type").to_string();
        assert!(err.contains("line 1"), "{err}");

        let err = Fixtures::parse("colour = \"red\"\n", "f.toml").expect_err("unknown key").to_string();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn device_ranges_count_up_in_hex_and_refuse_overflow() {
        let head = "[[merchants]]\nid = \"m\"\nname = \"n\"\nclient_id = \"c\"\nclient_secret = \"s\"\n";
        let ok = format!("{head}[[device_ranges]]\nmerchant_id = \"m\"\nfirst = \"POS-0000000E\"\ncount = 3\n");
        let f = Fixtures::parse(&ok, "f.toml").expect("valid");
        assert!(f.state.contains_device(DeviceId::from_u32(0x10)));
        let bad = format!("{head}[[device_ranges]]\nmerchant_id = \"m\"\nfirst = \"POS-FFFFFFFE\"\ncount = 3\n");
        assert!(Fixtures::parse(&bad, "f.toml").is_err());
        let dup = format!(
            "{head}[[devices]]\nid = \"POS-0000000F\"\nmerchant_id = \"m\"\n[[device_ranges]]\nmerchant_id = \"m\"\nfirst = \"POS-0000000E\"\ncount = 3\n"
        );
        assert!(Fixtures::parse(&dup, "f.toml").expect_err("overlap").to_string().contains("already provisioned"));
    }

    /// IDK-04, IDK-05, CFG-06, CFG-07: steps 5–8 values from the fixtures.
    #[test]
    fn devices_and_merchants_carry_their_steps_5_to_8_values() {
        let text = r#"
[[merchants]]
id = "m"
name = "Shop"
client_id = "c"
client_secret = "s"
[merchants.config]
merchant_key = "mk-custom"
tip_info = { enabled = true, presets = [10, 15] }
location = { name = "Harbour" }

[[devices]]
id = "POS-00000001"
merchant_id = "m"
identity_key_id = "device-id-key-2025-01"
identity_secret = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
zmk = "Hx4dHBsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA="
terminal_id = "TERM-000002"

[[devices]]
id = "POS-00000002"
merchant_id = "m"
identity_key_id = "only-the-id"
"#;
        let f = Fixtures::parse(text, "f.toml").expect("valid");
        let (one, two) = (DeviceId::from_u32(1), DeviceId::from_u32(2));
        let keys = f.state.identity_keys(one);
        assert_eq!((keys[0].key_id.as_str(), keys[0].secret), ("device-id-key-2025-01", std::array::from_fn(|i| i as u8)));
        assert_eq!(f.state.zmk(one)[0], 0x1F);
        assert_eq!(f.state.terminal_id(one).ok(), Some("TERM-000002".into()));
        assert_eq!(f.state.terminal_id(two).ok(), Some("TERM-000003".into()), "automatic numbers skip explicit ones");
        assert_eq!(f.state.identity_keys(two)[0].key_id, "only-the-id");
        let doc = f.state.config_document(one).expect("config");
        assert_eq!(doc["merchant"]["merchant_key"], "mk-custom");
        assert_eq!(doc["merchant"]["tip_info"], serde_json::json!({ "enabled": true, "presets": [10, 15] }));
        assert_eq!(doc["location"], serde_json::json!({ "id": "loc-001", "name": "Harbour", "address": "", "timezone": "UTC" }));
        assert_eq!(doc["merchant"]["tax_info"], serde_json::json!({ "enabled": false }), "defaults where the fixtures set none");

        let bad = text.replace("zmk = \"Hx4dHBsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA=\"", "zmk = \"short\"");
        let err = Fixtures::parse(&bad, "f.toml").expect_err("bad zmk").to_string();
        assert!(err.starts_with("f.toml:17:") && err.contains("32 bytes"), "{err}");
        let typo = text.replace("merchant_key =", "merchant_kee =");
        assert!(Fixtures::parse(&typo, "f.toml").expect_err("unknown member").to_string().contains("merchant_kee"));
    }
}
