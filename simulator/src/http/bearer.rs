//! `Authorization: Bearer {jwt}` on merchant endpoints (AUTH-01, CLAIM-02, CLAIM-03).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::note::JournalNote;
use crate::auth::AuthError;
use crate::domain::MerchantIdx;
use crate::errors::CLAIM_04;
use crate::sim::Sim;

/// The merchant a valid token names. CLAIM-02: the merchant comes from here, never from a body.
#[derive(Debug, Clone, Copy)]
pub struct Merchant(pub MerchantIdx);

/// Every token failure is 401 `"4010"` `Unauthorized` (CLAIM-04 on claim, AUTH-13 on
/// `/session/initiate`: the same answer). The reason goes to the journal, where a client developer
/// can read why.
#[derive(Debug)]
pub struct Unauthorized(pub AuthError);

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        JournalNote { device: None, warning: Some(format!("token refused: {}", self.0)) }.attach(ApiError::of(&CLAIM_04).into_response())
    }
}

impl FromRequestParts<Arc<Sim>> for Merchant {
    type Rejection = Unauthorized;

    async fn from_request_parts(parts: &mut Parts, sim: &Arc<Sim>) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).ok_or(Unauthorized(AuthError::Missing))?;
        let value = header.to_str().map_err(|_| Unauthorized(AuthError::NotBearer))?;
        // RFC 9110 §11.1: the scheme name is case-insensitive.
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(Unauthorized(AuthError::NotBearer)),
        };
        let claims = sim.tokens.verify(token, sim.clock.now()).map_err(Unauthorized)?;
        let merchant = sim.store.read().state.merchant_by_id(&claims.merchant_id);
        merchant.map(Merchant).ok_or(Unauthorized(AuthError::UnknownMerchant(claims.merchant_id)))
    }
}
