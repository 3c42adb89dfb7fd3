//! Forged credentials for the token rules (CLAIM-03, AUTH-13), shared by scenarios and the
//! fuzzer.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A JWT whose payload claims another merchant, signature kept; an opaque token with one
/// character changed.
pub fn tamper(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() == 3
        && let Some(mut claims) = URL_SAFE_NO_PAD.decode(parts[1]).ok().and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
    {
        claims["merchant_id"] = serde_json::json!("00000000-0000-4000-8000-000000000000");
        claims["sub"] = serde_json::json!("someone-else");
        return format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2]);
    }
    let mut chars: Vec<char> = token.chars().collect();
    if let Some(c) = chars.get_mut(token.len() / 2) {
        *c = if *c == 'A' { 'B' } else { 'A' };
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tampering_changes_the_claims_but_keeps_the_signature() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"merchant_id":"m1"}"#);
        let t = tamper(&format!("h.{payload}.sig"));
        assert!(t.starts_with("h.") && t.ends_with(".sig"));
        assert_ne!(t, format!("h.{payload}.sig"));
        assert_ne!(tamper("opaque-token"), "opaque-token");
    }
}
