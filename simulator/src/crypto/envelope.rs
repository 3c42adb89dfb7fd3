//! MSK envelopes (MSK-01…MSK-08): AES-256-CBC with PKCS7 padding under the terminal MSK, written
//! as hex (uppercase in responses, any case accepted in requests, MSK-05), each envelope and each
//! chunk with its own IV (MSK-06), and the MSK's KCV at the top (MSK-07). Terminal parameters are
//! gzipped and cut into chunks (TPAR-06).

use std::io::Write;

use aes::Aes256;
use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use serde_json::{Value, json};

use super::Key32;
use super::kcv::kcv;

/// AES-256-CBC with PKCS7 (MSK-02).
pub fn encrypt(msk: &Key32, iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    cbc::Encryptor::<Aes256>::new(&(*msk).into(), &(*iv).into()).encrypt_padded_vec::<Pkcs7>(plaintext)
}

/// The inverse of [`encrypt`]; `None` when the padding is not valid PKCS7 (a wrong key, usually).
pub fn decrypt(msk: &Key32, iv: &[u8; 16], ciphertext: &[u8]) -> Option<Vec<u8>> {
    cbc::Decryptor::<Aes256>::new(&(*msk).into(), &(*iv).into()).decrypt_padded_vec::<Pkcs7>(ciphertext).ok()
}

/// A single `TR31-DATA` envelope of `plaintext` (MSK-01, CFG-04, ACT-08).
pub fn single(msk: &Key32, iv: &[u8; 16], plaintext: &[u8]) -> Value {
    json!({
        "format": "TR31-DATA",
        "ciphertext": hex::encode_upper(encrypt(msk, iv, plaintext)),
        "initialization_vector": hex::encode_upper(iv),
        "mode": "CBC",
        "key_kcv": kcv(msk),
    })
}

/// gzip (RFC 1952) of `bytes`, as TPAR-05 sends the terminal parameters.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    #[allow(clippy::expect_used)]
    encoder.write_all(bytes).expect("in-memory write");
    #[allow(clippy::expect_used)]
    encoder.finish().expect("in-memory write")
}

/// The gzip stream `gz` cut into `chunk_size` pieces, each encrypted on its own with the next IV
/// from `ivs` (TPAR-06): a `TR31-DATA-CHUNKED` envelope, or a single envelope for one piece; both
/// with `content_encoding` `"gzip"`.
pub fn chunked(msk: &Key32, gz: &[u8], chunk_size: usize, mut ivs: impl FnMut() -> [u8; 16]) -> Value {
    let pieces: Vec<&[u8]> = gz.chunks(chunk_size.max(1)).collect();
    if pieces.len() <= 1 {
        let mut one = single(msk, &ivs(), gz);
        one["content_encoding"] = json!("gzip");
        return one;
    }
    let chunks: Vec<Value> = pieces
        .into_iter()
        .map(|piece| {
            let iv = ivs();
            json!({
                "ciphertext": hex::encode_upper(encrypt(msk, &iv, piece)),
                "initialization_vector": hex::encode_upper(iv),
                "mode": "CBC",
            })
        })
        .collect();
    json!({ "format": "TR31-DATA-CHUNKED", "content_encoding": "gzip", "mode": "CBC", "key_kcv": kcv(msk), "chunks": chunks })
}

/// Why a request envelope breaks MSK-08; the text is MSK-09's `details.message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the body is not a JSON object")]
    NotAnObject,
    #[error("format must be \"TR31-DATA\"")]
    Format,
    #[error("mode must be \"CBC\"")]
    Mode,
    #[error("initialization_vector must be 32 hex characters")]
    Iv,
    #[error("ciphertext must be whole 16-byte blocks in hex")]
    Ciphertext,
    #[error("key_kcv does not match the device's MSK")]
    Kcv,
    #[error("the ciphertext does not decrypt under the device's MSK to valid PKCS7 padding")]
    Padding,
    #[error("the plaintext is not UTF-8 JSON")]
    Plaintext,
}

/// Opens a request envelope under `msk` (MSK-08): checks its shape, IV, blocks and KCV, decrypts
/// it and parses the plaintext as JSON. Other members are ignored.
pub fn open(msk: &Key32, body: &[u8]) -> Result<Value, EnvelopeError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| EnvelopeError::NotAnObject)?;
    let envelope = value.as_object().ok_or(EnvelopeError::NotAnObject)?;
    if envelope.get("format").and_then(Value::as_str) != Some("TR31-DATA") {
        return Err(EnvelopeError::Format);
    }
    if envelope.get("mode").and_then(Value::as_str) != Some("CBC") {
        return Err(EnvelopeError::Mode);
    }
    let iv: [u8; 16] = envelope
        .get("initialization_vector")
        .and_then(Value::as_str)
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or(EnvelopeError::Iv)?;
    let ciphertext =
        envelope.get("ciphertext").and_then(Value::as_str).and_then(|h| hex::decode(h).ok()).ok_or(EnvelopeError::Ciphertext)?;
    if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
        return Err(EnvelopeError::Ciphertext);
    }
    match envelope.get("key_kcv") {
        None => {}
        Some(Value::String(k)) if k.eq_ignore_ascii_case(kcv(msk).as_str()) => {}
        Some(_) => return Err(EnvelopeError::Kcv),
    }
    let plaintext = decrypt(msk, &iv, &ciphertext).ok_or(EnvelopeError::Padding)?;
    serde_json::from_slice(&plaintext).map_err(|_| EnvelopeError::Plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msk() -> Key32 {
        std::array::from_fn(|i| i as u8)
    }

    const IV: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
    const FLAGS: &str = r#"{"emv_ready":true,"keys_installed":true,"network_ok":true}"#;

    /// §5.7, the worked example: MSK-01, MSK-02, MSK-05, MSK-07, KEYS-07.
    #[test]
    fn the_worked_example_encrypts_as_the_spec_says() {
        let e = single(&msk(), &IV, FLAGS.as_bytes());
        assert_eq!(
            e,
            json!({
                "format": "TR31-DATA",
                "ciphertext": "C8FBF8568F20B47BA27456FB44249BFF57D3906F1DF23C5838757D8EA8EE3DAC49489D4634BE46AEB78E63B039AEC2BECACBF5FE1D2E3880A815DA8C500D45B8",
                "initialization_vector": "000102030405060708090A0B0C0D0E0F",
                "mode": "CBC",
                "key_kcv": "F29000",
            })
        );
        let lower = e.to_string().to_lowercase().replace("tr31-data", "TR31-DATA").replace("\"cbc\"", "\"CBC\"");
        assert_eq!(open(&msk(), lower.as_bytes()), Ok(serde_json::from_str::<Value>(FLAGS).expect("json")), "MSK-05: any hex case");
    }

    /// MSK-08's cases, each refused with its own reason.
    #[test]
    fn a_request_envelope_that_breaks_msk_08_is_refused_with_the_reason() {
        let good = single(&msk(), &IV, FLAGS.as_bytes());
        let with = |k: &str, v: Value| {
            let mut e = good.clone();
            e[k] = v;
            e.to_string()
        };
        let other: Key32 = [7; 32];
        assert_eq!(open(&msk(), b"[]"), Err(EnvelopeError::NotAnObject));
        assert_eq!(open(&msk(), with("format", json!("TR31-DATA-CHUNKED")).as_bytes()), Err(EnvelopeError::Format));
        assert_eq!(open(&msk(), with("mode", json!("ECB")).as_bytes()), Err(EnvelopeError::Mode));
        assert_eq!(open(&msk(), with("initialization_vector", json!("0001")).as_bytes()), Err(EnvelopeError::Iv));
        assert_eq!(open(&msk(), with("ciphertext", json!("ABCD")).as_bytes()), Err(EnvelopeError::Ciphertext));
        assert_eq!(open(&msk(), with("key_kcv", json!("000000")).as_bytes()), Err(EnvelopeError::Kcv));
        assert_eq!(open(&other, with("key_kcv", Value::Null).as_bytes()), Err(EnvelopeError::Kcv), "a null KCV is not absent");
        let mut no_kcv = good.clone();
        no_kcv.as_object_mut().map(|o| o.remove("key_kcv"));
        assert!(matches!(open(&other, no_kcv.to_string().as_bytes()), Err(EnvelopeError::Padding | EnvelopeError::Plaintext)), "wrong key");
        let not_json = single(&msk(), &IV, b"not json");
        assert_eq!(open(&msk(), not_json.to_string().as_bytes()), Err(EnvelopeError::Plaintext));
    }

    /// TPAR-06: pieces in order, each with its own IV; one piece is a single envelope.
    #[test]
    fn chunks_reassemble_in_order() {
        let doc = (0..4000).map(|i| format!("{i:05}")).collect::<String>();
        let gz = gzip(doc.as_bytes());
        let mut n = 0u8;
        let e = chunked(&msk(), &gz, 1024, || {
            n += 1;
            [n; 16]
        });
        let chunks = e["chunks"].as_array().expect("chunked");
        assert_eq!(chunks.len(), gz.len().div_ceil(1024));
        let mut joined = Vec::new();
        for c in chunks {
            let iv: [u8; 16] = hex::decode(c["initialization_vector"].as_str().expect("iv")).expect("hex").try_into().expect("16");
            joined.extend(decrypt(&msk(), &iv, &hex::decode(c["ciphertext"].as_str().expect("ct")).expect("hex")).expect("pkcs7"));
        }
        assert_eq!(joined, gz);
        let small = chunked(&msk(), &gzip(b"{}"), 16384, || IV);
        assert_eq!((small["format"].as_str(), small["content_encoding"].as_str()), (Some("TR31-DATA"), Some("gzip")));
    }
}
