//! `Authorization: Bearer {jwt}` on merchant endpoints (AUTH-01, CLAIM-02, CLAIM-03).

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::note::JournalNote;
use crate::auth::{AuthError, TokenIssuer};
use crate::clock::Clock;
use crate::domain::{MerchantIdx, State};
use crate::errors::CLAIM_04;
use crate::store::ViopayStore;

/// The merchant a valid token names, by id. CLAIM-02: the merchant comes from here, never from a
/// body. The handler resolves it under the lock it works under ([`Merchant::resolve`]), so a
/// `/_sim/reset` in between cannot leave it pointing at a merchant that is gone.
#[derive(Debug, Clone)]
pub(crate) struct Merchant(pub String);

impl Merchant {
    pub(crate) fn resolve(&self, state: &State) -> Result<MerchantIdx, Unauthorized> {
        state.merchant_by_id(&self.0).ok_or_else(|| Unauthorized(AuthError::UnknownMerchant(self.0.clone())))
    }
}

/// Every token failure is 401 `"4010"` `Unauthorized` (CLAIM-04 on claim, AUTH-13 on
/// `/session/initiate`: the same answer). The reason goes to the journal, where a client developer
/// can read why.
#[derive(Debug)]
pub(crate) struct Unauthorized(pub AuthError);

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        JournalNote { warning: Some(format!("token refused: {}", self.0)), ..JournalNote::default() }
            .attach(ApiError::of(&CLAIM_04).into_response())
    }
}

/// Reads the token issuer, the clock and VioPay's store from the root state, whatever it is.
impl<S> FromRequestParts<S> for Merchant
where
    S: Send + Sync,
    Arc<TokenIssuer>: FromRef<S>,
    Arc<Clock>: FromRef<S>,
    Arc<ViopayStore>: FromRef<S>,
{
    type Rejection = Unauthorized;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).ok_or(Unauthorized(AuthError::Missing))?;
        let value = header.to_str().map_err(|_| Unauthorized(AuthError::NotBearer))?;
        // RFC 9110 §11.1: the scheme name is case-insensitive.
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(Unauthorized(AuthError::NotBearer)),
        };
        let now = Arc::<Clock>::from_ref(state).now();
        let claims = Arc::<TokenIssuer>::from_ref(state).verify(token, now).map_err(Unauthorized)?;
        let merchant = Merchant(claims.merchant_id);
        // Refused here already when unknown; handlers resolve it again under their own lock.
        merchant.resolve(&Arc::<ViopayStore>::from_ref(state).read().state)?;
        Ok(merchant)
    }
}
