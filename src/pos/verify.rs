//! Judging what a device unwraps and decrypts in steps 6–8, as the terminal would experience it:
//! the key hierarchy from the ZMK down (KEYS-03, KEYS-08…KEYS-14), the config envelope
//! (CFG-01…CFG-07), the terminal parameters (TPAR-02…TPAR-07) and the activate answer (ACT-02,
//! ACT-08, ACT-09), with the envelope rules (MSK-01…MSK-07) on the way. Every problem names its
//! rule; the rule's level decides whether it fails or advises. Scenarios and the fuzzer both call
//! these through [`Terminal`], so they judge alike.

use std::collections::{BTreeMap, HashSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::envelope::{self, Problem, kcv};
use super::tr31::{self, UnwrapError};
use super::{DeviceSecrets, Key32};
use crate::schema::Schemas;

fn problem(rule: &'static str, message: impl Into<String>) -> Problem {
    Problem { rule, message: message.into() }
}

/// The six entries (KEYS-05), their parent (KEYS-03, KEYS-11), `usage` (KEYS-06) and TR-31 key
/// usage and mode of use (KEYS-09), in unwrapping order.
pub const ENTRIES: [(&str, &str, &str, &str, char); 6] = [
    ("tmk", "zmk", "key-encryption", "K0", 'B'),
    ("kek", "tmk", "key-encryption", "K0", 'B'),
    ("msk", "kek", "data-encryption", "D0", 'B'),
    ("tpk", "kek", "pin-encryption", "P0", 'E'),
    ("tdk", "kek", "data-encryption", "D0", 'B'),
    ("mac", "kek", "mac", "M6", 'C'),
];

/// A key set as the terminal holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySet {
    pub key_set: Value,
    pub key_ids: BTreeMap<String, String>,
    pub kcvs: BTreeMap<String, String>,
    /// The keys the harness could unwrap, by entry name.
    pub clear: BTreeMap<String, Key32>,
}

impl KeySet {
    pub fn msk(&self) -> Option<&Key32> {
        self.clear.get("msk")
    }

    fn sequence(&self) -> Option<u32> {
        self.key_set["key_set_id"].as_str()?.rsplit('-').next()?.parse().ok()
    }
}

/// What the merchant's config should hold when the harness knows the fixtures (CFG-07): on a
/// simulator, the merchants it provisioned itself, with every default.
#[derive(Clone, Debug)]
pub struct MerchantFacts {
    pub id: String,
    pub name: String,
}

/// The harness's memory as one terminal, across the steps of a scenario or a fuzz case.
#[derive(Clone, Debug, Default)]
pub struct Terminal {
    pub device_id: String,
    pub secrets: Option<DeviceSecrets>,
    pub keys: Option<KeySet>,
    /// The control API rotated the key set since the last keys answer (KEYS-14).
    pub rotated: bool,
    /// Key sets issued so far (KEYS-13's sequence).
    pub sets_seen: u32,
    pub config: Option<Value>,
    pub activated_at: Option<String>,
    /// The decrypted plaintext of the latest activate 200.
    pub activate_answer: Option<Value>,
    /// Every response IV seen (MSK-06).
    pub ivs: HashSet<String>,
}

/// What all terminals of a run share: `terminal_id`s must be unique (CFG-06) and the terminal
/// parameters the same for every device (TPAR-05).
#[derive(Clone, Debug, Default)]
pub struct Fleet {
    pub terminal_ids: BTreeMap<String, String>,
    pub parameters: Option<Value>,
}

fn rfc3339(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

fn whole_utc(s: &str) -> bool {
    s.len() == 20 && s.ends_with('Z') && rfc3339(s).is_some()
}

impl Terminal {
    pub fn new(device_id: &str, secrets: Option<DeviceSecrets>) -> Self {
        Terminal { device_id: device_id.to_owned(), secrets, ..Default::default() }
    }

    pub fn zmk(&self) -> Option<&Key32> {
        self.secrets.as_ref().and_then(|s| s.zmk.as_ref())
    }

    /// A keys 200 (KEYS-02 and the schema are checked on every exchange already). `at` is the
    /// target's time of the request where the harness knows it exactly (a clock it moves).
    pub fn keys_answered(&mut self, body: &Value, at: Option<OffsetDateTime>) -> Vec<Problem> {
        let mut out = Vec::new();
        let entries = &body["keys"];
        let mut set = KeySet { key_set: body["key_set"].clone(), key_ids: BTreeMap::new(), kcvs: BTreeMap::new(), clear: BTreeMap::new() };
        let mut parents: BTreeMap<&str, Key32> = BTreeMap::new();
        if let Some(zmk) = self.zmk() {
            parents.insert("zmk", *zmk);
        }
        for (name, parent, _, usage, mode) in ENTRIES {
            let entry = &entries[name];
            let Some(block_b64) = entry["key_block"].as_str() else { continue };
            if let Some(id) = entry["key_id"].as_str() {
                set.key_ids.insert(name.to_owned(), id.to_owned());
            }
            let stated_kcv = entry["kcv"].as_str().unwrap_or_default().to_owned();
            set.kcvs.insert(name.to_owned(), stated_kcv.clone());
            let Some(block) = STANDARD.decode(block_b64).ok().and_then(|b| String::from_utf8(b).ok()).filter(|b| b.is_ascii()) else {
                out.push(problem("KEYS-08", format!("`{name}.key_block` is not standard Base64 of an ASCII key block")));
                continue;
            };
            if let Some(h) = tr31::BlockHeader::parse(&block) {
                if h.version != 'D' || h.algorithm != 'A' {
                    out.push(problem(
                        "KEYS-08",
                        format!("`{name}` is a version {} block of algorithm {}, not D / A", h.version, h.algorithm),
                    ));
                }
                if h.usage != usage || h.mode_of_use != mode {
                    out.push(problem(
                        "KEYS-09",
                        format!("`{name}` has key usage {} / mode {}, not {usage} / {mode}", h.usage, h.mode_of_use),
                    ));
                }
                if (h.key_version.as_str(), h.exportability, h.optional_blocks.as_str(), h.reserved.as_str(), block.len())
                    != ("00", 'E', "00", "00", 144)
                {
                    out.push(problem("KEYS-10", format!("`{name}` header {} in a block of {} characters", &block[..16], block.len())));
                }
            }
            let Some(parent_key) = parents.get(parent).copied() else { continue };
            match tr31::unwrap(&parent_key, &block) {
                Ok((_, key)) => match <Key32>::try_from(key.as_slice()) {
                    Ok(key) => {
                        if kcv(&key) != stated_kcv {
                            out.push(problem("KEYS-11", format!("`{name}.kcv` is {stated_kcv}; the unwrapped key's KCV is {}", kcv(&key))));
                        }
                        parents.insert(name, key);
                        set.clear.insert(name.to_owned(), key);
                    }
                    Err(_) => out.push(problem("KEYS-08", format!("`{name}` holds a {}-byte key, not AES-256", key.len()))),
                },
                Err(UnwrapError::Mac) => out.push(problem(
                    "KEYS-03",
                    format!("`{name}` is not wrapped under the {}: its MAC does not verify under that key", parent.to_uppercase()),
                )),
                Err(UnwrapError::Version(_)) => {}
                Err(e) => out.push(problem("KEYS-08", format!("`{name}`: {e}"))),
            }
        }
        out.extend(self.key_set_rules(&set, at));
        self.sets_seen += u32::from(self.keys.as_ref().is_none_or(|k| k.key_set != set.key_set));
        self.rotated = false;
        self.keys = Some(set);
        out
    }

    /// KEYS-12…KEYS-14: names, dates, and what stays and changes between calls.
    fn key_set_rules(&self, set: &KeySet, at: Option<OffsetDateTime>) -> Vec<Problem> {
        let mut out = Vec::new();
        let ks = &set.key_set;
        let id = ks["key_set_id"].as_str().unwrap_or_default();
        let issued = ks["issued_at"].as_str().unwrap_or_default();
        let parts: Vec<&str> = id.split('-').collect();
        let well_named = parts.len() == 3
            && parts[0] == "ks"
            && parts[1].len() == 4
            && parts[2].len() == 2
            && parts[1..].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()));
        if !well_named {
            out.push(problem("KEYS-13", format!("`key_set_id` `{id}` is not ks-YYYY-NN")));
        } else {
            let suffix = &id[3..];
            for (name, key_id) in &set.key_ids {
                if *key_id != format!("{name}-{suffix}") {
                    out.push(problem("KEYS-13", format!("`{name}.key_id` is `{key_id}`, not `{name}-{suffix}`")));
                }
            }
            if !issued.starts_with(parts[1]) {
                out.push(problem("KEYS-13", format!("`{id}` does not carry the year of `issued_at` {issued}")));
            }
        }
        match (rfc3339(issued), ks["expires_at"].as_str().and_then(rfc3339)) {
            (Some(i), Some(e)) if whole_utc(issued) && e - i == time::Duration::days(365) => {}
            _ => out.push(problem(
                "KEYS-13",
                format!("`issued_at` {issued} and `expires_at` {} are not whole-second UTC, 365 days apart", ks["expires_at"]),
            )),
        }
        match &self.keys {
            // KEYS-12: the same set until it is rotated (block strings may differ).
            Some(prev) if !self.rotated => {
                if prev.key_set != set.key_set || prev.key_ids != set.key_ids || prev.kcvs != set.kcvs || !same_keys(prev, set) {
                    out.push(problem("KEYS-12", format!("a second keys call gave another key set: {} then {}", prev.key_set, set.key_set)));
                }
            }
            // KEYS-14: a rotation issues a new set with the next sequence number.
            Some(prev) => {
                if prev.sequence().map(|n| n + 1) != set.sequence() || prev.clear.iter().any(|(k, v)| set.clear.get(k) == Some(v)) {
                    out.push(problem("KEYS-14", format!("after a rotation the key set is {}, after {}", set.key_set, prev.key_set)));
                }
            }
            None => {
                if self.sets_seen == 0 && well_named && set.sequence() != Some(1) {
                    out.push(problem("KEYS-13", format!("a device's first key set is `{id}`, not sequence 01")));
                }
                if let Some(at) = at
                    && rfc3339(issued) != Some(at.replace_nanosecond(0).unwrap_or(at))
                {
                    out.push(problem(
                        "KEYS-13",
                        format!("`issued_at` is {issued}; the first keys call was at {}", crate::pos::attest::timestamp(at)),
                    ));
                }
            }
        }
        out
    }

    fn fresh_ivs(&mut self, ivs: &[String], out: &mut Vec<Problem>) {
        for iv in ivs {
            if !self.ivs.insert(iv.clone()) {
                out.push(problem("MSK-06", format!("IV {iv} was used before")));
            }
        }
    }

    /// A config 200 (CFG-01…CFG-07, MSK-01…MSK-07). `merchant` is known on a simulator the harness
    /// provisioned (CFG-07's defaults apply).
    pub fn config_answered(
        &mut self,
        schemas: &Schemas,
        fleet: &mut Fleet,
        body: &Value,
        merchant: Option<&MerchantFacts>,
    ) -> Vec<Problem> {
        let Some(msk) = self.keys.as_ref().and_then(KeySet::msk).copied() else { return Vec::new() };
        let mut out = Vec::new();
        let opened = match envelope::open(&msk, body, false) {
            Ok(o) => o,
            Err(p) => return vec![if p.rule == "MSK-01" && body["format"] != "TR31-DATA" { problem("CFG-01", p.message) } else { p }],
        };
        out.extend(opened.advisories.iter().cloned());
        self.fresh_ivs(&opened.ivs, &mut out);
        if body.get("content_encoding").is_some() {
            out.push(problem("CFG-04", "the config envelope carries `content_encoding`"));
        }
        let Ok(text) = String::from_utf8(opened.plaintext) else {
            return vec![problem("MSK-02", "the config does not decrypt under the MSK to UTF-8 text")];
        };
        let Some(doc) = serde_json::from_str::<Value>(&text).ok().filter(Value::is_object) else {
            out.push(problem("CFG-04", "the decrypted config is not a JSON object"));
            return out;
        };
        if doc.get("terminal_parameters").is_some() {
            out.push(problem("CFG-02", "the config includes `terminal_parameters`"));
        }
        for v in schemas.validate("config-plaintext.json", &doc) {
            out.push(Problem {
                rule: static_rule(&v.rule, "CFG-05"),
                message: format!("decrypted config at `{}`: {}", v.pointer, v.message),
            });
        }
        if let Some(tid) = doc["terminal_id"].as_str() {
            match fleet.terminal_ids.get(tid) {
                Some(other) if *other != self.device_id => {
                    out.push(problem("CFG-06", format!("`terminal_id` {tid} is also {other}'s")));
                }
                _ => {
                    fleet.terminal_ids.insert(tid.to_owned(), self.device_id.clone());
                }
            }
        }
        if doc["device_id"] != self.device_id.as_str() {
            out.push(problem("CFG-05", format!("`device_id` is {}, not {}", doc["device_id"], self.device_id)));
        }
        if let Some(m) = merchant {
            out.extend(defaults(&doc, m));
        }
        if let Some(prev) = &self.config
            && *prev != doc
        {
            out.push(problem("CFG-04", "a repeated config call decrypted to another document"));
        }
        self.config = Some(doc);
        out
    }

    /// A terminal-parameters 200 (TPAR-02…TPAR-07, MSK-03, MSK-06, MSK-07).
    pub fn parameters_answered(&mut self, schemas: &Schemas, fleet: &mut Fleet, body: &Value) -> Vec<Problem> {
        let Some(msk) = self.keys.as_ref().and_then(KeySet::msk).copied() else { return Vec::new() };
        let mut out = Vec::new();
        let opened = match envelope::open(&msk, body, true) {
            Ok(o) => o,
            Err(p) if p.rule == "MSK-01" => return vec![problem("TPAR-02", p.message)],
            Err(p) => return vec![p],
        };
        out.extend(opened.advisories.iter().cloned());
        self.fresh_ivs(&opened.ivs, &mut out);
        if body["content_encoding"] != "gzip" {
            return vec![problem("TPAR-02", format!("`content_encoding` is {}, not \"gzip\"", body["content_encoding"]))];
        }
        let Some(json_text) = envelope::gunzip(&opened.plaintext) else {
            return vec![problem("TPAR-02", "the decrypted chunks, concatenated in order, are not a gzip stream")];
        };
        let Some(doc) = serde_json::from_slice::<Value>(&json_text).ok() else {
            return vec![problem("TPAR-02", "the gunzipped terminal parameters are not UTF-8 JSON")];
        };
        if !doc.is_object() || doc.as_object().is_some_and(serde_json::Map::is_empty) {
            out.push(problem("TPAR-03", "the terminal parameters are not a non-empty JSON object"));
        }
        for v in schemas.validate("terminal-parameters-plaintext.json", &doc) {
            out.push(Problem {
                rule: static_rule(&v.rule, "TPAR-05"),
                message: format!("terminal parameters at `{}`: {}", v.pointer, v.message),
            });
        }
        match &fleet.parameters {
            Some(prev) if *prev != doc => out.push(problem("TPAR-05", "the terminal parameters differ between calls or devices")),
            _ => fleet.parameters = Some(doc),
        }
        if opened.chunked {
            let lens = &opened.piece_lengths;
            let first = lens.first().copied().unwrap_or(0);
            if lens[..lens.len() - 1].iter().any(|l| *l != first) || lens.last().is_some_and(|l| *l > first) {
                out.push(problem("TPAR-06", format!("chunk sizes {lens:?}: every piece but the last should be the chunk size")));
            }
            if body["chunks"].as_array().into_iter().flatten().any(|c| c.get("key_kcv").is_some()) {
                out.push(problem("MSK-07", "a chunk carries its own `key_kcv`; the simulator puts it at the top only"));
            }
        } else if opened.plaintext.len() > 16 * 1024 {
            out.push(problem("TPAR-06", format!("{} gzipped bytes in one piece", opened.plaintext.len())));
        }
        if opened.piece_lengths.len() < 2 {
            out.push(problem(
                "TPAR-07",
                "the terminal parameters came in one piece; the simulator's default document needs at least 2 chunks",
            ));
        }
        out
    }

    /// An activate 200 (ACT-02, ACT-08, ACT-09). `at` is the target's time of the request where
    /// the harness knows it exactly.
    pub fn activate_answered(&mut self, schemas: &Schemas, body: &Value, at: Option<OffsetDateTime>) -> Vec<Problem> {
        let Some(msk) = self.keys.as_ref().and_then(KeySet::msk).copied() else { return Vec::new() };
        let mut out = Vec::new();
        let opened = match envelope::open(&msk, body, false) {
            Ok(o) => o,
            Err(p) if p.rule == "MSK-01" && body["format"] != "TR31-DATA" => return vec![problem("ACT-02", p.message)],
            Err(p) => return vec![p],
        };
        out.extend(opened.advisories.iter().cloned());
        self.fresh_ivs(&opened.ivs, &mut out);
        let Some(doc) = String::from_utf8(opened.plaintext).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok()) else {
            return vec![problem("MSK-02", "the activate answer does not decrypt under the MSK to JSON")];
        };
        for v in schemas.validate("activate-response-plaintext.json", &doc) {
            out.push(Problem {
                rule: static_rule(&v.rule, "ACT-02"),
                message: format!("decrypted answer at `{}`: {}", v.pointer, v.message),
            });
        }
        let activated_at = doc["activated_at"].as_str().map(str::to_owned);
        self.activate_answer = Some(doc.clone());
        match (&self.activated_at, &activated_at) {
            (Some(first), Some(now)) if first != now => {
                out.push(problem("ACT-09", format!("a repeated activate gave `activated_at` {now}, not the original {first}")));
            }
            (None, Some(now)) => {
                if let Some(at) = at
                    && rfc3339(now) != Some(at.replace_nanosecond(0).unwrap_or(at))
                {
                    out.push(problem("ACT-08", format!("`activated_at` is {now}; the request was at {}", super::attest::timestamp(at))));
                }
                self.activated_at = activated_at.clone();
            }
            _ => {}
        }
        out
    }
}

fn same_keys(a: &KeySet, b: &KeySet) -> bool {
    a.clear.iter().all(|(k, v)| b.clear.get(k).is_none_or(|w| w == v))
}

/// A schema's `x-rule` as one of the rules this module reports (the schemas name only these).
fn static_rule(rule: &str, fallback: &'static str) -> &'static str {
    const KNOWN: [&str; 6] = ["CFG-02", "CFG-05", "CFG-06", "TPAR-05", "ACT-02", "ACT-08"];
    KNOWN.into_iter().find(|k| *k == rule).unwrap_or(fallback)
}

/// CFG-07: the values of a merchant whose fixtures set nothing but its id and name.
fn defaults(doc: &Value, m: &MerchantFacts) -> Vec<Problem> {
    let want = json!({
        "merchant": {
            "id": m.id, "name": m.name, "merchant_key": format!("mk-{}", m.id),
            "tip_info": {"enabled": false}, "tax_info": {"enabled": false}, "surcharge_info": {"enabled": false}
        },
        "location": {"id": "loc-001", "name": "Main", "address": "", "timezone": "UTC"},
        "emv": {
            "aids": [
                {"aid": "A0000000031010", "label": "VISA CREDIT"}, {"aid": "A0000000041010", "label": "MASTERCARD"},
                {"aid": "A0000000043060", "label": "MAESTRO"}, {"aid": "A00000002501", "label": "AMERICAN EXPRESS"},
                {"aid": "A0000001523010", "label": "DISCOVER"}
            ],
            "terminal_capabilities": "E0F8C8", "terminal_type": "22"
        },
        "security": {"pin_required_above": 5000, "contactless_limit": 10000, "fallback_allowed": false},
        "branding": {"theme": "light", "logo_url": null},
        "intervals": {"heartbeat_sec": 60, "update_check_sec": 3600}
    });
    let mut out = Vec::new();
    for (section, fields) in want.as_object().into_iter().flatten() {
        for (field, value) in fields.as_object().into_iter().flatten() {
            if doc[section][field] != *value {
                out.push(problem("CFG-07", format!("`{section}.{field}` is {}; the default is {value}", doc[section][field])));
            }
        }
    }
    out
}
