//! Merchant sessions: `POST /client/session`, its legacy alias `POST /auth/token` (AUTH-04…07) and
//! `POST /session/initiate` (AUTH-08…13).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::bearer::Merchant;
use super::error::ApiError;
use super::json_body::{self, JsonObject};
use crate::auth::grant::Grants;
use crate::errors::AUTH_07;
use crate::store::ViopayStore;

/// AUTH-06.
#[derive(Serialize)]
pub(crate) struct TokenBody {
    pub(crate) access_token: String,
    pub(crate) token_type: &'static str,
    pub(crate) expires_in: i64,
}

/// AUTH-04/AUTH-05: client credentials for a Keycloak-shaped access token. Body errors are the
/// same 400 `"4000"` `Invalid request body` as claim (Q-13: the real answer is unknown).
pub(crate) async fn client_session(State(grants): State<Grants>, JsonObject(obj): JsonObject) -> Result<Json<TokenBody>, ApiError> {
    let client_id = json_body::required_string(&obj, "client_id", &json_body::go_required("ClientSessionRequest", "ClientID"))?;
    let client_secret = json_body::required_string(&obj, "client_secret", &json_body::go_required("ClientSessionRequest", "ClientSecret"))?;
    // The same grant as the realm's token endpoint; every refusal of the client is AUTH-07 here.
    let issued = crate::auth::grant::client_credentials(&grants, Some(client_id), Some(client_secret)).map_err(|e| match e {
        crate::auth::grant::GrantError::Sign(why) => {
            tracing::error!(error = %why, "token signing failed");
            ApiError::control(StatusCode::INTERNAL_SERVER_ERROR, "5000", format!("cannot sign the access token: {why}"))
        }
        _ => ApiError::of(&AUTH_07),
    })?;
    Ok(Json(TokenBody { access_token: issued.access_token, token_type: "Bearer", expires_in: issued.expires_in }))
}

/// AUTH-09: the resolved merchant context (Q-12: the real fields are unknown).
#[derive(Serialize)]
pub(crate) struct SessionBody {
    pub(crate) merchant_id: String,
    pub(crate) merchant_name: String,
    pub(crate) client_id: String,
    pub(crate) host: String,
}

/// AUTH-08/AUTH-09; AUTH-13: a bad token is 401 `"4010"`. AUTH-11: claim does not require it.
pub(crate) async fn initiate(
    State(store): State<Arc<ViopayStore>>,
    merchant: Merchant,
    JsonObject(obj): JsonObject,
) -> Result<Response, ApiError> {
    let host = json_body::required_string(&obj, "host", &json_body::go_required("InitiateSessionRequest", "Host"))?;
    let store = store.read();
    let idx = match merchant.resolve(&store.state) {
        Ok(idx) => idx,
        Err(unauthorized) => return Ok(unauthorized.into_response()),
    };
    let m = store.state.merchant(idx);
    Ok(Json(SessionBody {
        merchant_id: m.id.clone(),
        merchant_name: m.name.clone(),
        client_id: m.client_id.clone(),
        host: host.to_owned(),
    })
    .into_response())
}
