//! The decrypted config of `/pos/config` (CFG-05) with the defaults of CFG-07, overridden field
//! by field by the merchant's fixtures (`[merchants.config]`), and the terminal parameters of
//! `/pos/terminal-parameters` (TPAR-05, TPAR-07).

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::DeviceNotFound;
use super::state::State;
use crate::ids::DeviceId;

/// The members a merchant's fixtures may set (CFG-07).
pub(crate) const CONFIG_MEMBERS: [&str; 9] =
    ["merchant_key", "tip_info", "tax_info", "surcharge_info", "location", "emv", "security", "branding", "intervals"];

fn defaults() -> Value {
    json!({
        "tip_info": { "enabled": false },
        "tax_info": { "enabled": false },
        "surcharge_info": { "enabled": false },
        "location": { "id": "loc-001", "name": "Main", "address": "", "timezone": "UTC" },
        "emv": {
            "aids": [
                { "aid": "A0000000031010", "label": "VISA CREDIT" },
                { "aid": "A0000000041010", "label": "MASTERCARD" },
                { "aid": "A0000000043060", "label": "MAESTRO" },
                { "aid": "A00000002501", "label": "AMERICAN EXPRESS" },
                { "aid": "A0000001523010", "label": "DISCOVER" }
            ],
            "terminal_capabilities": "E0F8C8",
            "terminal_type": "22"
        },
        "security": { "pin_required_above": 5000, "contactless_limit": 10000, "fallback_allowed": false },
        "branding": { "theme": "light", "logo_url": null },
        "intervals": { "heartbeat_sec": 60, "update_check_sec": 3600 }
    })
}

/// A default member with the fixtures' fields laid over it (objects field by field, anything
/// else replaced whole).
fn member(name: &str, overrides: Option<&Map<String, Value>>) -> Value {
    let mut value = defaults()[name].clone();
    match (value.as_object_mut(), overrides.and_then(|o| o.get(name))) {
        (Some(base), Some(Value::Object(over))) => {
            for (k, v) in over {
                base.insert(k.clone(), v.clone());
            }
        }
        (_, Some(other)) => value = other.clone(),
        _ => {}
    }
    value
}

impl State {
    /// CFG-05: exactly `terminal_id`, `device_id`, `merchant`, `location`, `emv`, `security`,
    /// `branding` and `intervals`; no `terminal_parameters` (CFG-02).
    pub(crate) fn config_document(&self, id: DeviceId) -> Result<Value, DeviceNotFound> {
        let device = self.device(id)?;
        let merchant = self.merchant(device.owner);
        let overrides = self.merchant_config(device.owner);
        let merchant_key = overrides.and_then(|o| o.get("merchant_key")).cloned().unwrap_or_else(|| json!(format!("mk-{}", merchant.id)));
        Ok(json!({
            "terminal_id": self.terminal_id(id)?,
            "device_id": id.to_string(),
            "merchant": {
                "id": merchant.id,
                "name": merchant.name,
                "merchant_key": merchant_key,
                "tip_info": member("tip_info", overrides),
                "tax_info": member("tax_info", overrides),
                "surcharge_info": member("surcharge_info", overrides),
            },
            "location": member("location", overrides),
            "emv": member("emv", overrides),
            "security": member("security", overrides),
            "branding": member("branding", overrides),
            "intervals": member("intervals", overrides),
        }))
    }
}

/// TPAR-05: the gzip of one JSON document in the style of the legacy VIPAY parameters, the same
/// for every device and call. TPAR-07: it is over 16 KiB gzipped, so the default chunk size
/// gives at least two chunks: the CA public keys are pseudo-random moduli, which do not compress.
pub(crate) fn terminal_parameters_gz() -> &'static [u8] {
    static GZ: OnceLock<Vec<u8>> = OnceLock::new();
    GZ.get_or_init(|| crate::crypto::envelope::gzip(terminal_parameters().to_string().as_bytes()))
}

fn terminal_parameters() -> Value {
    // A fixed pseudo-random stream (xorshift), so the document is identical in every run.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut hex = |bytes: usize| -> String {
        (0..bytes)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                format!("{:02X}", x as u8)
            })
            .collect()
    };
    let rids = ["A000000003", "A000000004", "A000000025", "A000000152", "A000000065", "A000000277"];
    let ca_public_keys: Vec<Value> = (0..72)
        .map(|i| {
            json!({
                "rid": rids[i % rids.len()],
                "index": format!("{:02X}", 0x90 + i),
                "modulus": hex(248),
                "exponent": "03",
                "checksum": hex(20),
                "expiry": "20301231",
            })
        })
        .collect();
    json!({
        "emv_kernel": { "version": "VIPAY-4.3", "contact_kernel": "EMV 4.3 L2", "default_ddol": "9F3704", "default_tdol": "9F0802" },
        "acquirers": [
            { "id": "ACQ-01", "name": "VioPay Acquiring", "merchant_category_code": "5814", "currency_code": "0840", "country_code": "0840" },
            { "id": "ACQ-02", "name": "Backup Acquirer", "merchant_category_code": "5814", "currency_code": "0978", "country_code": "0276" }
        ],
        "ca_public_keys": ca_public_keys,
        "contact": { "tac_default": "DC4000A800", "tac_denial": "0010000000", "tac_online": "DC4004F800", "floor_limit": 0 },
        "contactless": { "transaction_limit": 10000, "cvm_required_limit": 5000, "floor_limit": 0, "kernels": ["C-2", "C-3", "C-4", "C-6"] },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    /// TPAR-03, TPAR-05, TPAR-07.
    fn tpar_07_the_document_is_over_16_kib_gzipped() {
        assert!(terminal_parameters_gz().len() > 16_384, "{} bytes", terminal_parameters_gz().len());
    }
}
