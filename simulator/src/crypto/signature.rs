//! The attest signature (ATT-06, ATT-11, ATT-12): `v1=` + standard Base64 (with padding) of
//! HMAC-SHA256 under the raw 32-byte identity secret (IDK-03), over the four header values joined
//! by single line feeds, with no trailing newline. Nothing else is signed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::Key32;

type HmacSha256 = Hmac<Sha256>;

/// The signing string of ATT-11: the header values byte for byte as sent.
pub fn signing_string(device_id: &str, key_id: &str, timestamp: &str, nonce: &str) -> String {
    format!("{device_id}\n{key_id}\n{timestamp}\n{nonce}")
}

fn mac(secret: &Key32) -> HmacSha256 {
    // HMAC takes a key of any length: 32 bytes cannot be refused.
    #[allow(clippy::expect_used)]
    HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length")
}

/// The `X-Signature` value for a signing string.
pub fn sign(secret: &Key32, signing_string: &str) -> String {
    let mut m = mac(secret);
    m.update(signing_string.as_bytes());
    format!("v1={}", STANDARD.encode(m.finalize().into_bytes()))
}

/// Why an `X-Signature` value is not well formed (ATT-29).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureFormatError {
    #[error("the value does not start with v1=")]
    Prefix,
    #[error("the value after v1= is not non-empty standard Base64 with padding")]
    Base64,
}

/// The MAC bytes of a well-formed `X-Signature` (ATT-29: `v1=` and non-empty standard Base64
/// with padding; a well-formed value of the wrong length is a wrong signature, ATT-33).
pub fn parse(value: &str) -> Result<Vec<u8>, SignatureFormatError> {
    let b64 = value.strip_prefix("v1=").ok_or(SignatureFormatError::Prefix)?;
    if b64.is_empty() {
        return Err(SignatureFormatError::Base64);
    }
    STANDARD.decode(b64).map_err(|_| SignatureFormatError::Base64)
}

/// Whether `mac_bytes` is the signature of `signing_string` under `secret`, compared in constant
/// time on the decoded bytes (ATT-12).
pub fn verify(secret: &Key32, signing_string: &str, mac_bytes: &[u8]) -> bool {
    let mut m = mac(secret);
    m.update(signing_string.as_bytes());
    m.verify_slice(mac_bytes).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Key32 {
        std::array::from_fn(|i| i as u8)
    }

    /// §5.2.3, the worked example: ATT-06, ATT-11, ATT-12, IDK-03.
    #[test]
    fn the_worked_example_signs_as_the_spec_says() {
        let s = signing_string("POS-8F3A2C91", "idk-8f3a2c91", "2025-12-13T14:25:30Z", "a1b2c3d4e5f6");
        assert_eq!(s, "POS-8F3A2C91\nidk-8f3a2c91\n2025-12-13T14:25:30Z\na1b2c3d4e5f6");
        assert_eq!(sign(&secret(), &s), "v1=NWmjGwkd1ev94Yqt0iG6UFJzLFs90wkqiyxFiSIqQlI=");
        assert_eq!(sign(&secret(), &format!("{s}\n")), "v1=Npm+5x1wqRg7ues7aY2sdtHZNIxkT8W+u7lmQQa4Wv0=", "with a trailing newline");
        let good = parse("v1=NWmjGwkd1ev94Yqt0iG6UFJzLFs90wkqiyxFiSIqQlI=").expect("well formed");
        assert!(verify(&secret(), &s, &good));
        let trailing = parse("v1=Npm+5x1wqRg7ues7aY2sdtHZNIxkT8W+u7lmQQa4Wv0=").expect("well formed");
        assert!(!verify(&secret(), &s, &trailing), "ATT-33: a trailing newline is a wrong signature");
    }

    /// ATT-29 and ATT-33.
    #[test]
    fn malformed_values_and_wrong_lengths_are_told_apart() {
        assert_eq!(parse("v2=AAAA"), Err(SignatureFormatError::Prefix));
        assert_eq!(parse("v1="), Err(SignatureFormatError::Base64));
        assert_eq!(parse("v1=NWmjGwkd1ev94Yqt0iG6UFJzLFs90wkqiyxFiSIqQlI"), Err(SignatureFormatError::Base64), "missing padding");
        assert_eq!(parse("v1=NWmjGwkd1ev94Yqt0iG6UFJzLFs90wkqiyxFiSIqQl_="), Err(SignatureFormatError::Base64), "URL-safe alphabet");
        let placeholder = parse("v1=SGVsbG8gV29ybGQ=").expect("the docs' placeholder is well formed");
        assert!(!verify(&secret(), "x", &placeholder), "and a wrong signature");
    }
}
