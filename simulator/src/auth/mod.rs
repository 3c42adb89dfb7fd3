//! Merchant authentication: RS256 JWTs shaped like Keycloak access tokens (AUTH-02), their signing
//! key and its JWKS (AUTH-03).

pub(crate) mod grant;
mod keys;
mod token;

pub use keys::{KeyError, SigningKey};
pub use token::{AccessClaims, AuthError, TokenIssuer};
