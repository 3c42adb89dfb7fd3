//! The two OAuth 2.0 grants of the simulator's Keycloak-compatible token endpoint (RFC 6749 §4.3
//! and §4.4), shared by that endpoint and the portal's sign-in so that both issue the same tokens
//! for the same credentials. Tokens are the RS256 JWTs of `/client/session` (AUTH-02).

use std::sync::Arc;

use time::OffsetDateTime;

use super::TokenIssuer;
use crate::clock::Clock;
use crate::domain::{MerchantIdx, State};
use crate::store::{ViopayStore, random_uuid};

pub(crate) use crate::domain::PORTAL_CLIENT_ID;

/// A client as it authenticated: the portal's public client, or a merchant's confidential API
/// client (the fixtures' `client_id`/`client_secret`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Client {
    Portal,
    Merchant(MerchantIdx),
}

/// Why a grant was refused, in the terms Keycloak answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum GrantError {
    #[error("no client_id was given")]
    MissingClient,
    #[error("client `{0}` is not registered in the realm")]
    UnknownClient(String),
    #[error("the client secret is wrong")]
    BadClientSecret,
    #[error("a public client cannot use the client_credentials grant")]
    PublicClient,
    #[error("invalid user credentials")]
    BadUser,
    #[error("cannot sign the access token: {0}")]
    Sign(String),
}

/// An issued access token and who it speaks for.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub(crate) access_token: String,
    pub(crate) expires_in: i64,
    pub(crate) expires_at: OffsetDateTime,
}

/// Client authentication (RFC 6749 §2.3.1): the portal's client needs no secret; a merchant's API
/// client needs its own, compared in constant time.
pub(crate) fn authenticate(state: &State, client_id: Option<&str>, secret: Option<&str>) -> Result<Client, GrantError> {
    let client_id = client_id.filter(|c| !c.is_empty()).ok_or(GrantError::MissingClient)?;
    if client_id == PORTAL_CLIENT_ID {
        return Ok(Client::Portal);
    }
    let idx = state.merchant_by_client_id(client_id).ok_or_else(|| GrantError::UnknownClient(client_id.to_owned()))?;
    state.authenticate_client(client_id, secret.unwrap_or_default()).map_err(|_| GrantError::BadClientSecret)?;
    Ok(Client::Merchant(idx))
}

/// What a grant reads: the clock (issue time), VioPay's store (clients, users, the seeded `jti`)
/// and the issuer that signs. A substate of its own: the realm's token endpoint, `/client/session`
/// and the portal's sign-in all grant.
#[derive(Clone)]
pub(crate) struct Grants {
    pub(crate) clock: Arc<Clock>,
    pub(crate) store: Arc<ViopayStore>,
    pub(crate) tokens: Arc<TokenIssuer>,
}

/// `grant_type=client_credentials`: the merchant's service account.
pub(crate) fn client_credentials(grants: &Grants, client_id: Option<&str>, secret: Option<&str>) -> Result<Issued, GrantError> {
    let now = grants.clock.now();
    let (merchant, jti) = {
        let mut store = grants.store.write();
        let idx = match authenticate(&store.state, client_id, secret)? {
            Client::Portal => return Err(GrantError::PublicClient),
            Client::Merchant(idx) => idx,
        };
        let merchant = store.state.merchant(idx).clone();
        (merchant, random_uuid(&mut store.rng))
    };
    let token = grants.tokens.issue(&merchant, now, jti).map_err(|e| GrantError::Sign(e.to_string()))?;
    Ok(issued(grants, token, now))
}

/// `grant_type=password`: a portal user (`[[users]]`), through any client of the realm.
pub(crate) fn password(
    grants: &Grants,
    client_id: Option<&str>,
    secret: Option<&str>,
    username: &str,
    password: &str,
) -> Result<Issued, GrantError> {
    let now = grants.clock.now();
    let (merchant, user, azp, jti) = {
        let mut store = grants.store.write();
        let client = authenticate(&store.state, client_id, secret)?;
        let user = store.state.authenticate_user(username, password).map_err(|_| GrantError::BadUser)?;
        let merchant = store.state.merchant(user.merchant).clone();
        let username = user.username.clone();
        let azp = match client {
            Client::Portal => PORTAL_CLIENT_ID.to_owned(),
            Client::Merchant(idx) => store.state.merchant(idx).client_id.clone(),
        };
        (merchant, username, azp, random_uuid(&mut store.rng))
    };
    let token = grants.tokens.issue_for_user(&user, &merchant, &azp, now, jti).map_err(|e| GrantError::Sign(e.to_string()))?;
    Ok(issued(grants, token, now))
}

fn issued(grants: &Grants, access_token: String, now: OffsetDateTime) -> Issued {
    let ttl = grants.tokens.ttl();
    Issued { access_token, expires_in: ttl.whole_seconds(), expires_at: now + ttl }
}

/// A fresh token for a signed-in portal user whose token expired, as Keycloak's refresh grant
/// would give the portal; refused when the user no longer exists (after a reset).
pub(crate) fn renew_for_user(grants: &Grants, username: &str) -> Result<Issued, GrantError> {
    let now = grants.clock.now();
    let (merchant, user, jti) = {
        let mut store = grants.store.write();
        let user = store.state.user(username).ok_or(GrantError::BadUser)?;
        let merchant = store.state.merchant(user.merchant).clone();
        let user = user.username.clone();
        (merchant, user, random_uuid(&mut store.rng))
    };
    let token = grants.tokens.issue_for_user(&user, &merchant, PORTAL_CLIENT_ID, now, jti).map_err(|e| GrantError::Sign(e.to_string()))?;
    Ok(issued(grants, token, now))
}
