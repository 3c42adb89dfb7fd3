//! Keycloak-shaped discovery for the simulator's tokens (AUTH-03): the JWKS and the realm's
//! OpenID configuration, so that other services can verify simulator tokens.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State, rejection::PathRejection};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::error::ApiError;
use crate::auth::TokenIssuer;
use crate::settings::Settings;

fn check_realm(settings: &Settings, realm: Result<Path<String>, PathRejection>) -> Result<(), ApiError> {
    match realm {
        Ok(Path(realm)) if realm == settings.realm => Ok(()),
        _ => Err(ApiError::control(
            StatusCode::NOT_FOUND,
            "4004",
            format!("Realm not found; this simulator's realm is `{}`", settings.realm),
        )),
    }
}

/// `GET /realms/{realm}/protocol/openid-connect/certs`.
pub(crate) async fn certs(
    State(settings): State<Arc<Settings>>,
    State(tokens): State<Arc<TokenIssuer>>,
    realm: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    check_realm(&settings, realm)?;
    Ok(Json(json!({ "keys": [tokens.key().jwk()] })))
}

/// `GET /realms/{realm}/.well-known/openid-configuration`.
pub(crate) async fn openid_configuration(
    State(settings): State<Arc<Settings>>,
    State(tokens): State<Arc<TokenIssuer>>,
    realm: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    check_realm(&settings, realm)?;
    let issuer = tokens.issuer();
    Ok(Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/protocol/openid-connect/certs"),
        "token_endpoint": format!("{issuer}/protocol/openid-connect/token"),
        "grant_types_supported": ["client_credentials", "password"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    })))
}
