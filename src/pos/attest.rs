//! The attest request of ATT-02…ATT-06: the four signature headers and their signature.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngExt;
use sha2::Sha256;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::model::activation::{WINDOW_FUTURE, WINDOW_PAST};

/// `X-Signature` (ATT-06, ATT-11, ATT-12): `v1=` + standard Base64 of HMAC-SHA256 under the raw
/// secret bytes (IDK-03), over the four values joined by single line feeds, no trailing newline.
pub fn signature(secret: &[u8], device_id: &str, key_id: &str, timestamp: &str, nonce: &str) -> String {
    let signing = [device_id, key_id, timestamp, nonce].join("\n");
    // HMAC accepts a key of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return "v1=".to_owned() };
    mac.update(signing.as_bytes());
    format!("v1={}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// A fresh `X-Nonce` (ATT-05): 24 ASCII letters and digits.
pub fn nonce() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..24).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}

/// `X-Timestamp` (ATT-04): RFC 3339 UTC in whole seconds, as a firmware writes it.
pub fn timestamp(at: OffsetDateTime) -> String {
    let whole = at.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).unwrap_or(at);
    whole.format(&Rfc3339).unwrap_or_default()
}

/// `X-Timestamp` `skew` seconds from `now` in whole seconds, rounded so that a target whose clock
/// has a fraction (BOOT-03 allows one) sees no less than asked: a skew inside ATT-04's window
/// (300 s back to 60 s ahead) is rounded towards `now`, one outside it away from `now`.
pub fn skewed_timestamp(now: OffsetDateTime, skew: i64) -> String {
    let at = now + time::Duration::seconds(skew);
    let inside = (-WINDOW_PAST..=WINDOW_FUTURE).contains(&skew);
    // Truncation rounds down: towards `now` for a skew ahead, away from it for one back.
    let up = at.nanosecond() != 0 && ((skew < 0 && inside) || (skew > 0 && !inside));
    timestamp(if up { at + time::Duration::seconds(1) } else { at })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's worked example (§5.2.3).
    #[test]
    fn the_worked_example_signs_to_the_documented_value() {
        let secret: Vec<u8> = (0u8..32).collect();
        let sig = signature(&secret, "POS-8F3A2C91", "idk-8f3a2c91", "2025-12-13T14:25:30Z", "a1b2c3d4e5f6");
        assert_eq!(sig, "v1=NWmjGwkd1ev94Yqt0iG6UFJzLFs90wkqiyxFiSIqQlI=");
        let trailing = signature(&secret, "POS-8F3A2C91", "idk-8f3a2c91", "2025-12-13T14:25:30Z", "a1b2c3d4e5f6\n");
        assert_eq!(trailing, "v1=Npm+5x1wqRg7ues7aY2sdtHZNIxkT8W+u7lmQQa4Wv0=");
    }

    #[test]
    fn nonces_are_alphanumeric_and_long_enough() {
        let n = nonce();
        assert!(n.len() >= 12 && n.chars().all(|c| c.is_ascii_alphanumeric()), "{n}");
        assert_ne!(n, nonce());
        assert_eq!(timestamp(time::macros::datetime!(2025-12-13 14:25:30.75 UTC)), "2025-12-13T14:25:30Z");
    }

    #[test]
    fn window_edges_round_towards_now() {
        let now = time::macros::datetime!(2025-12-13 14:25:30.79 UTC);
        assert_eq!(skewed_timestamp(now, -300), "2025-12-13T14:20:31Z", "299.79 s back, not 300.79");
        assert_eq!(skewed_timestamp(now, 60), "2025-12-13T14:26:30Z", "59.79 s ahead");
        assert_eq!(skewed_timestamp(now, -301), "2025-12-13T14:20:29Z", "301.79 s back: outside");
        assert_eq!(skewed_timestamp(now, 61), "2025-12-13T14:26:32Z", "61.21 s ahead: outside");
        let whole = time::macros::datetime!(2025-12-13 14:25:30 UTC);
        assert_eq!(skewed_timestamp(whole, -300), "2025-12-13T14:20:30Z");
    }
}
