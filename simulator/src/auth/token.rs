//! Issuing and verifying merchant access tokens. Expiry is read from the simulator clock
//! (TIME-03), never from the wall clock, so a virtual clock expires tokens too.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::keys::SigningKey;
use crate::domain::Merchant;

/// The claims of a simulator access token: the fields of a Keycloak client-credentials token,
/// plus `merchant_id` (AUTH-02).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub typ: String,
    pub azp: String,
    pub preferred_username: String,
    pub scope: String,
    pub merchant_id: String,
}

/// Every way a token can be refused. All of them are 401 `"4010"` on the wire (CLAIM-04, AUTH-13);
/// the variants exist for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no Authorization header")]
    Missing,
    #[error("the Authorization scheme is not Bearer")]
    NotBearer,
    #[error("the token is not a valid RS256 JWT of this simulator: {0}")]
    Invalid(String),
    #[error("the token expired at {0}")]
    Expired(i64),
    #[error("the token names merchant `{0}`, which is not provisioned")]
    UnknownMerchant(String),
    #[error("cannot sign the token: {0}")]
    Sign(String),
}

/// Who a token speaks for: a merchant's service account, or a portal user.
struct Subject {
    sub: String,
    azp: String,
    preferred_username: String,
}

pub struct TokenIssuer {
    key: Arc<SigningKey>,
    issuer: String,
    ttl: Duration,
    validation: Validation,
}

impl TokenIssuer {
    pub fn new(key: Arc<SigningKey>, issuer: String, ttl: Duration) -> Self {
        // Only RS256 is accepted: `alg: none`, HS256 signed with the public key and every other
        // algorithm confusion is refused before the signature is looked at.
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        validation.validate_aud = false;
        // Expiry is checked against the simulator clock below.
        validation.validate_exp = false;
        validation.leeway = 0;
        TokenIssuer { key, issuer, ttl, validation }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// A client-credentials token of the merchant's API client (AUTH-04).
    pub fn issue(&self, merchant: &Merchant, now: OffsetDateTime, jti: String) -> Result<String, AuthError> {
        let who = Subject {
            sub: merchant.id.clone(),
            azp: merchant.client_id.clone(),
            preferred_username: format!("service-account-{}", merchant.client_id),
        };
        self.sign(who, merchant, now, jti)
    }

    /// A password-grant token of a portal user, issued to the client `azp` that asked for it
    /// (AUTH-01: "obtained by user login"). Same claims, so claim accepts either.
    pub fn issue_for_user(
        &self,
        user: &str,
        merchant: &Merchant,
        azp: &str,
        now: OffsetDateTime,
        jti: String,
    ) -> Result<String, AuthError> {
        let who = Subject {
            sub: format!("user:{}", user.to_ascii_lowercase()),
            azp: azp.to_owned(),
            preferred_username: user.to_ascii_lowercase(),
        };
        self.sign(who, merchant, now, jti)
    }

    fn sign(&self, who: Subject, merchant: &Merchant, now: OffsetDateTime, jti: String) -> Result<String, AuthError> {
        let iat = now.unix_timestamp();
        let claims = AccessClaims {
            exp: iat + self.ttl.whole_seconds(),
            iat,
            jti,
            iss: self.issuer.clone(),
            aud: "account".into(),
            sub: who.sub,
            typ: "Bearer".into(),
            azp: who.azp,
            preferred_username: who.preferred_username,
            scope: "profile email".into(),
            merchant_id: merchant.id.clone(),
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.key.kid.clone());
        jsonwebtoken::encode(&header, &claims, self.key.encoding()).map_err(|e| AuthError::Sign(e.to_string()))
    }

    /// Signature, algorithm, issuer and expiry (at `now`) must all hold.
    pub fn verify(&self, token: &str, now: OffsetDateTime) -> Result<AccessClaims, AuthError> {
        let data = jsonwebtoken::decode::<AccessClaims>(token, self.key.decoding(), &self.validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        if data.claims.exp <= now.unix_timestamp() {
            return Err(AuthError::Expired(data.claims.exp));
        }
        Ok(data.claims)
    }
}
