//! MSK envelopes (§5.7) from the terminal's side: open a `TR31-DATA` or `TR31-DATA-CHUNKED`
//! envelope under the MSK, seal an activate body, and compute key check values. Each problem
//! names the rule it breaks, so the verifier can report it at that rule's level.

use std::io::Read;

use aes::Aes256;
use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{Array, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, KeyInit, KeyIvInit};
use serde_json::{Value, json};

use super::Key32;

/// The legacy KCV (KEYS-07, MSK-07): the first 3 bytes of AES-ECB of a zero block, uppercase hex.
pub fn kcv(key: &Key32) -> String {
    let mut block = Array::from([0u8; 16]);
    Aes256::new(&Array::from(*key)).encrypt_block(&mut block);
    hex::encode_upper(&block[..3])
}

/// A rule broken while opening an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub rule: &'static str,
    pub message: String,
}

fn problem(rule: &'static str, message: impl Into<String>) -> Problem {
    Problem { rule, message: message.into() }
}

/// What an envelope opened to, with the differences from the simulator's choices on the way.
#[derive(Debug, Clone, Default)]
pub struct Opened {
    pub plaintext: Vec<u8>,
    /// Differences from SIMULATOR rules (hex case, `key_kcv`): not fatal.
    pub advisories: Vec<Problem>,
    /// The IVs, in order (MSK-06).
    pub ivs: Vec<String>,
    /// Plaintext length of each chunk before concatenation (TPAR-06).
    pub piece_lengths: Vec<usize>,
    pub chunked: bool,
}

fn hex_field<'a>(v: &'a Value, name: &str, rule: &'static str) -> Result<&'a str, Problem> {
    v[name].as_str().ok_or_else(|| problem(rule, format!("`{name}` is missing or not a string")))
}

/// One `ciphertext` + `initialization_vector` pair, decrypted and unpadded (MSK-02).
fn open_piece(msk: &Key32, v: &Value, shape_rule: &'static str, out: &mut Opened) -> Result<Vec<u8>, Problem> {
    let ct = hex_field(v, "ciphertext", shape_rule)?;
    let iv = hex_field(v, "initialization_vector", shape_rule)?;
    if v["mode"] != "CBC" {
        return Err(problem(shape_rule, format!("`mode` is {}, not \"CBC\"", v["mode"])));
    }
    if iv.len() != 32 {
        return Err(problem(shape_rule, format!("`initialization_vector` has {} characters, not 32", iv.len())));
    }
    for (name, value) in [("ciphertext", ct), ("initialization_vector", iv)] {
        if value.chars().any(|c| c.is_ascii_lowercase()) {
            out.advisories.push(problem("MSK-05", format!("`{name}` has lowercase hex; the simulator writes uppercase")));
        }
    }
    let iv_bytes: [u8; 16] =
        hex::decode(iv).ok().and_then(|b| b.try_into().ok()).ok_or_else(|| problem(shape_rule, "`initialization_vector` is not hex"))?;
    let ct_bytes = hex::decode(ct).map_err(|_| problem("MSK-02", "`ciphertext` is not hex"))?;
    if ct_bytes.is_empty() || ct_bytes.len() % 16 != 0 {
        return Err(problem("MSK-02", format!("`ciphertext` is {} bytes, not whole AES blocks", ct_bytes.len())));
    }
    let plain = cbc::Decryptor::<Aes256>::new(&(*msk).into(), &iv_bytes.into())
        .decrypt_padded_vec::<Pkcs7>(&ct_bytes)
        .map_err(|_| problem("MSK-02", "does not decrypt under the MSK from /pos/keys to valid PKCS7 padding"))?;
    out.ivs.push(iv.to_uppercase());
    out.piece_lengths.push(plain.len());
    Ok(plain)
}

fn check_kcv(msk: &Key32, v: &Value, out: &mut Opened) {
    match v["key_kcv"].as_str() {
        None => out.advisories.push(problem("MSK-07", "the response envelope has no `key_kcv`")),
        Some(k) if k != kcv(msk) => {
            out.advisories.push(problem("MSK-07", format!("`key_kcv` is {k}; the MSK's KCV is {}", kcv(msk))));
        }
        Some(_) => {}
    }
}

/// Opens a response envelope: a single `TR31-DATA` (MSK-01) or, where `chunked_allowed`, a
/// `TR31-DATA-CHUNKED` one (MSK-03) whose pieces are decrypted on their own and concatenated in
/// order.
pub fn open(msk: &Key32, v: &Value, chunked_allowed: bool) -> Result<Opened, Problem> {
    let mut out = Opened::default();
    match v["format"].as_str() {
        Some("TR31-DATA") => {
            out.plaintext = open_piece(msk, v, "MSK-01", &mut out)?;
        }
        Some("TR31-DATA-CHUNKED") if chunked_allowed => {
            if v["mode"] != "CBC" || !v["content_encoding"].is_string() {
                return Err(problem("MSK-03", "a chunked envelope needs `mode` \"CBC\" and `content_encoding`"));
            }
            let chunks = v["chunks"].as_array().ok_or_else(|| problem("MSK-03", "`chunks` is missing or not an array"))?;
            if chunks.is_empty() {
                return Err(problem("MSK-03", "`chunks` is empty"));
            }
            out.chunked = true;
            let mut all = Vec::new();
            for chunk in chunks {
                all.extend(open_piece(msk, chunk, "MSK-03", &mut out)?);
            }
            out.plaintext = all;
        }
        other => {
            let want = if chunked_allowed { "\"TR31-DATA\" or \"TR31-DATA-CHUNKED\"" } else { "\"TR31-DATA\"" };
            return Err(problem("MSK-01", format!("`format` is {}, not {want}", other.map_or("missing".into(), |f| format!("\"{f}\"")))));
        }
    }
    check_kcv(msk, v, &mut out);
    Ok(out)
}

/// gunzip (RFC 1952).
pub fn gunzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).ok()?;
    Some(out)
}

/// A request envelope (ACT-01, MSK-08): `plaintext` under `key` with a fresh IV, uppercase hex,
/// `key_kcv` of `key`.
pub fn seal(key: &Key32, plaintext: &[u8]) -> Value {
    let iv: [u8; 16] = rand::random();
    seal_with_iv(key, &iv, plaintext)
}

pub fn seal_with_iv(key: &Key32, iv: &[u8; 16], plaintext: &[u8]) -> Value {
    let ct = cbc::Encryptor::<Aes256>::new(&(*key).into(), &(*iv).into()).encrypt_padded_vec::<Pkcs7>(plaintext);
    json!({
        "format": "TR31-DATA",
        "ciphertext": hex::encode_upper(ct),
        "initialization_vector": hex::encode_upper(iv),
        "mode": "CBC",
        "key_kcv": kcv(key),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's worked example (§5.7) and the KCV of KEYS-07.
    #[test]
    fn the_worked_example_seals_and_opens() {
        let msk: Key32 = std::array::from_fn(|i| i as u8);
        let iv: [u8; 16] = std::array::from_fn(|i| i as u8);
        assert_eq!(kcv(&msk), "F29000");
        let plaintext = br#"{"emv_ready":true,"keys_installed":true,"network_ok":true}"#;
        let sealed = seal_with_iv(&msk, &iv, plaintext);
        assert_eq!(
            sealed["ciphertext"],
            "C8FBF8568F20B47BA27456FB44249BFF57D3906F1DF23C5838757D8EA8EE3DAC49489D4634BE46AEB78E63B039AEC2BECACBF5FE1D2E3880A815DA8C500D45B8"
        );
        let opened = open(&msk, &sealed, false).expect("opens");
        assert_eq!(opened.plaintext, plaintext);
        assert!(opened.advisories.is_empty());
        let other: Key32 = [9; 32];
        match open(&other, &sealed, false) {
            Err(p) => assert_eq!(p.rule, "MSK-02"),
            // One wrong key in 256 happens to leave valid padding: never the plaintext.
            Ok(o) => assert_ne!(o.plaintext, plaintext),
        }
        let mut lower = sealed.clone();
        lower["ciphertext"] = json!(sealed["ciphertext"].as_str().unwrap_or_default().to_lowercase());
        assert_eq!(open(&msk, &lower, false).expect("opens").advisories[0].rule, "MSK-05");
        assert_eq!(open(&msk, &json!({"format": "TR31-DATA-CHUNKED"}), false).expect_err("single only").rule, "MSK-01");
    }
}
