//! `POST /pos/attest` (step 5) after the header checks, and the attestation tokens it issues
//! (ATT-16…ATT-20, ATT-30…ATT-34, ATT-38, ATT-41).

use time::{Duration, OffsetDateTime};

use super::device::DeviceStatus;
use super::secrets::{IdentityKey, default_key_id};
use super::state::State;
use crate::crypto::signature;
use crate::ids::DeviceId;

/// ATT-08, ATT-18, TIME-05: a token is valid while now < issue + 300 s.
pub(crate) const TOKEN_TTL: Duration = Duration::seconds(300);
/// ATT-04, ATT-15: the accepted `X-Timestamp` window around server time, bounds included.
pub(crate) const WINDOW_PAST: Duration = Duration::seconds(300);
pub(crate) const WINDOW_FUTURE: Duration = Duration::seconds(60);

/// An attest whose headers are present and well formed (ATT-22…ATT-29 passed).
#[derive(Debug, Clone)]
pub(crate) struct AttestRequest<'a> {
    pub(crate) key_id: &'a str,
    /// `X-Timestamp` as sent (signed byte for byte, ATT-11) and as an instant (ATT-15).
    pub(crate) timestamp_raw: &'a str,
    pub(crate) timestamp: OffsetDateTime,
    pub(crate) nonce: &'a str,
    /// The decoded MAC of `X-Signature` (ATT-12).
    pub(crate) mac: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AttestError {
    #[error("device {0} is not provisioned")]
    DeviceNotFound(DeviceId),
    /// ATT-30: unknown or revoked key id.
    #[error("unknown or revoked identity key")]
    InvalidKey,
    /// ATT-31.
    #[error("timestamp outside the window")]
    OutsideWindow,
    /// ATT-32.
    #[error("nonce already used")]
    NonceReused,
    /// ATT-33.
    #[error("invalid signature")]
    BadSignature,
    /// ATT-34: nothing changes.
    #[error("device is not claimed")]
    NotClaimed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attested {
    pub(crate) token: String,
    pub(crate) expires_in_sec: i64,
}

/// Why attestation auth refused a token (ATT-38).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TokenError {
    #[error("the token was never issued")]
    Unknown,
    #[error("the token expired")]
    Expired,
}

/// An issued attestation token: bound to its device (ATT-18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenRecord {
    pub(crate) device: DeviceId,
    pub(crate) issued_at: OffsetDateTime,
}

impl State {
    /// The device's identity keys (IDK-01: one derived default unless provisioned otherwise).
    pub(crate) fn identity_keys(&self, id: DeviceId) -> Vec<IdentityKey> {
        let ext = self.devices.get(&id).and_then(|d| d.ext.as_ref());
        if let Some(keys) = ext.and_then(|e| e.identity_keys.clone()) {
            return keys;
        }
        let key_id = ext.and_then(|e| e.default_key_id.clone()).unwrap_or_else(|| default_key_id(id));
        vec![IdentityKey { key_id, secret: self.secret_seed.identity_secret(id), revoked: false }]
    }

    /// ATT-14's order after the headers: key (ATT-30) → window (ATT-31) → nonce (ATT-32) →
    /// signature (ATT-33; the nonce is remembered from here on, ATT-16) → device state (ATT-34) →
    /// a new token bound to the device (ATT-17, ATT-18). ATT-19: claimed and activated devices may
    /// attest again, and older tokens stay valid; ATT-20: nothing else changes.
    pub(crate) fn attest(
        &mut self,
        id: DeviceId,
        req: &AttestRequest<'_>,
        now: OffsetDateTime,
        new_token: impl FnOnce() -> String,
    ) -> Result<Attested, AttestError> {
        if !self.devices.contains_key(&id) {
            return Err(AttestError::DeviceNotFound(id));
        }
        let key = self.identity_keys(id).into_iter().find(|k| k.key_id == req.key_id && !k.revoked).ok_or(AttestError::InvalidKey)?;
        if req.timestamp < now - WINDOW_PAST || req.timestamp > now + WINDOW_FUTURE {
            return Err(AttestError::OutsideWindow);
        }
        let device = self.devices.get_mut(&id).ok_or(AttestError::DeviceNotFound(id))?;
        let ext = device.ext.get_or_insert_with(Default::default);
        if ext.nonce_seen(req.nonce, now) {
            return Err(AttestError::NonceReused);
        }
        let signed = signature::signing_string(&id.to_string(), req.key_id, req.timestamp_raw, req.nonce);
        if !signature::verify(&key.secret, &signed, req.mac) {
            return Err(AttestError::BadSignature);
        }
        ext.remember_nonce(req.nonce, now);
        if device.status == DeviceStatus::Inactive {
            return Err(AttestError::NotClaimed);
        }
        let token = new_token();
        self.forget_expired_tokens(now);
        self.tokens.insert(token.clone(), TokenRecord { device: id, issued_at: now });
        Ok(Attested { token, expires_in_sec: TOKEN_TTL.whole_seconds() })
    }

    /// ATT-38, ATT-18: the device a token is bound to, while it is valid.
    pub(crate) fn token_device(&self, token: &str, now: OffsetDateTime) -> Result<DeviceId, TokenError> {
        let record = self.tokens.get(token).ok_or(TokenError::Unknown)?;
        if now >= record.issued_at + TOKEN_TTL {
            return Err(TokenError::Expired);
        }
        Ok(record.device)
    }

    /// Tokens issued to a device (for the control API), oldest first.
    pub(crate) fn tokens_of(&self, id: DeviceId) -> Vec<(String, TokenRecord)> {
        let mut list: Vec<(String, TokenRecord)> =
            self.tokens.iter().filter(|(_, r)| r.device == id).map(|(t, r)| (t.clone(), *r)).collect();
        list.sort_by_key(|(_, r)| r.issued_at);
        list
    }

    /// Memory stays bounded: expired tokens are dropped as new ones come, in amortised O(1). An
    /// expired token is refused all the same once forgotten (ATT-38 either way).
    fn forget_expired_tokens(&mut self, now: OffsetDateTime) {
        if self.tokens.len() >= self.tokens_swept_at * 2 + 64 {
            self.tokens.retain(|_, r| now < r.issued_at + TOKEN_TTL);
            self.tokens_swept_at = self.tokens.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::signature::{parse, sign};
    use crate::domain::Merchant;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2025-12-13 14:25:30 UTC);
    const DEV: DeviceId = DeviceId::from_u32(0x8F3A_2C91);

    fn state(status: DeviceStatus) -> State {
        let mut s = State::new();
        let m = s.add_merchant(Merchant { id: "m".into(), name: "m".into(), client_id: "c".into(), client_secret: "s".into() }).expect("m");
        s.add_device(DEV, m, status).expect("device");
        s
    }

    fn signed(s: &State, ts: &str, nonce: &str) -> Vec<u8> {
        let key = &s.identity_keys(DEV)[0];
        parse(&sign(&key.secret, &signature::signing_string("POS-8F3A2C91", &key.key_id, ts, nonce))).expect("v1")
    }

    fn attest(s: &mut State, ts: OffsetDateTime, nonce: &str, now: OffsetDateTime) -> Result<Attested, AttestError> {
        let raw = crate::time_fmt::rfc3339(ts);
        let mac = signed(s, &raw, nonce);
        let req = AttestRequest { key_id: "idk-8f3a2c91", timestamp_raw: &raw, timestamp: ts, nonce, mac: &mac };
        s.attest(DEV, &req, now, || format!("att_{nonce}"))
    }

    #[test]
    fn att_15_the_window_is_minus_300_plus_60_bounds_included() {
        let mut s = state(DeviceStatus::Claimed);
        assert!(attest(&mut s, T0 - Duration::seconds(300), "nonce00000001", T0).is_ok());
        assert!(attest(&mut s, T0 + Duration::seconds(60), "nonce00000002", T0).is_ok());
        assert_eq!(attest(&mut s, T0 - Duration::seconds(301), "nonce00000003", T0), Err(AttestError::OutsideWindow));
        assert_eq!(attest(&mut s, T0 + Duration::seconds(61), "nonce00000004", T0), Err(AttestError::OutsideWindow));
    }

    #[test]
    fn att_16_att_32_a_nonce_is_used_up_only_by_a_good_signature() {
        let mut s = state(DeviceStatus::Inactive);
        // ATT-34 comes after the signature: the nonce is used up even though the device is inactive.
        assert_eq!(attest(&mut s, T0, "nonce00000001", T0), Err(AttestError::NotClaimed));
        assert_eq!(attest(&mut s, T0, "nonce00000001", T0), Err(AttestError::NonceReused));
        let raw = crate::time_fmt::rfc3339(T0);
        let bad = AttestRequest { key_id: "idk-8f3a2c91", timestamp_raw: &raw, timestamp: T0, nonce: "nonce00000009", mac: &[0; 32] };
        assert_eq!(s.attest(DEV, &bad, T0, || "x".into()), Err(AttestError::BadSignature));
        assert_eq!(attest(&mut s, T0, "nonce00000009", T0), Err(AttestError::NotClaimed), "a refused request does not use up its nonce");
    }

    #[test]
    fn att_18_tokens_are_bound_and_expire_at_300_s() {
        let mut s = state(DeviceStatus::Claimed);
        let t = attest(&mut s, T0, "nonce00000001", T0).expect("attest").token;
        assert_eq!(s.token_device(&t, T0 + Duration::seconds(299)), Ok(DEV));
        assert_eq!(s.token_device(&t, T0 + Duration::seconds(300)), Err(TokenError::Expired));
        assert_eq!(s.token_device("att_never", T0), Err(TokenError::Unknown));
        let later = attest(&mut s, T0 + Duration::seconds(10), "nonce00000002", T0 + Duration::seconds(10)).expect("again").token;
        assert_eq!(s.token_device(&t, T0 + Duration::seconds(20)), Ok(DEV), "ATT-19: older tokens stay valid");
        assert_ne!(t, later);
    }

    /// Issue 20, an attest storm: a device attesting every second for hours holds at most the
    /// tokens of the last five minutes (ATT-18), give or take the sweep's slack.
    #[test]
    fn att_18_a_storm_of_attests_keeps_only_live_tokens() {
        let mut s = state(DeviceStatus::Claimed);
        let ttl = TOKEN_TTL.whole_seconds() as usize;
        for i in 0..5_000_i64 {
            let now = T0 + Duration::seconds(i);
            attest(&mut s, now, &format!("nonce{i:08}"), now).expect("attest");
            assert!(s.tokens.len() <= 2 * (ttl + 1) + 64, "{} tokens held after {i} s", s.tokens.len());
        }
    }

    #[test]
    fn att_30_an_unknown_key_id_is_refused_before_the_window() {
        let mut s = state(DeviceStatus::Claimed);
        let raw = crate::time_fmt::rfc3339(T0);
        let req = AttestRequest { key_id: "idk-00000000", timestamp_raw: &raw, timestamp: T0 - Duration::days(1), nonce: "n", mac: &[] };
        assert_eq!(s.attest(DEV, &req, T0, || "x".into()), Err(AttestError::InvalidKey));
    }
}
