//! `POST /realms/{realm}/protocol/openid-connect/token`: Keycloak's token endpoint, form-encoded
//! (RFC 6749 §3.2), so that a standard OAuth 2.0 client that reads the realm's discovery document
//! gets a token where it looks for one. `POST /client/session` stays as the documented JSON way
//! (AUTH-04); both issue the same RS256 JWTs (AUTH-02).
//!
//! Answers follow Keycloak's, errors included: `{"error", "error_description"}` with
//! `invalid_request` (400), `unsupported_grant_type` (400), `invalid_client` (401, unknown
//! client), `unauthorized_client` (401, wrong secret of a known client, or a public client asking
//! for client credentials: Keycloak 20 and later), `invalid_grant` (401, wrong user credentials).
//! Every answer is `Cache-Control: no-store` (RFC 6749 §5.1).

use std::borrow::Cow;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State, rejection::PathRejection};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::auth::grant::{self, GrantError, Grants, Issued};
use crate::settings::Settings;

/// An OAuth 2.0 error answer (RFC 6749 §5.2), in Keycloak's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OAuthError {
    pub(crate) status: StatusCode,
    pub(crate) error: &'static str,
    pub(crate) description: Cow<'static, str>,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<Cow<'static, str>>) -> Self {
        OAuthError { status, error, description: description.into() }
    }
}

impl From<GrantError> for OAuthError {
    fn from(e: GrantError) -> Self {
        const BAD_CLIENT: &str = "Invalid client or Invalid client credentials";
        match e {
            GrantError::MissingClient => OAuthError::new(StatusCode::BAD_REQUEST, "invalid_client", "Missing client_id parameter"),
            GrantError::UnknownClient(_) => OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", BAD_CLIENT),
            GrantError::BadClientSecret => OAuthError::new(StatusCode::UNAUTHORIZED, "unauthorized_client", BAD_CLIENT),
            GrantError::PublicClient => {
                OAuthError::new(StatusCode::UNAUTHORIZED, "unauthorized_client", "Public client not allowed to retrieve service account")
            }
            GrantError::BadUser => OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_grant", "Invalid user credentials"),
            GrantError::Sign(why) => {
                tracing::error!(error = %why, "token signing failed");
                OAuthError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "Cannot sign the access token")
            }
        }
    }
}

fn no_store(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": self.error, "error_description": self.description }));
        let mut res = no_store((self.status, body).into_response());
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6749 §5.2: a 401 names the scheme the client may authenticate with.
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"token\""));
        }
        res
    }
}

/// The token response, as Keycloak sends it for these two grants (no refresh token: the
/// simulator has no refresh grant, so it does not hand out something it would refuse).
fn token_response(issued: &Issued) -> Response {
    no_store(
        Json(json!({
            "access_token": issued.access_token,
            "expires_in": issued.expires_in,
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "scope": "profile email",
        }))
        .into_response(),
    )
}

/// The form's parameters, each at most once (Keycloak refuses a repeated one).
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, OAuthError> {
        let is_form = crate::media::header_is(headers, "application/x-www-form-urlencoded");
        // Keycloak reads only form parameters: any other body has none.
        if !is_form {
            return Ok(Form(Vec::new()));
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (k, v) in form_urlencoded::parse(body) {
            if pairs.iter().any(|(seen, _)| *seen == k) {
                return Err(OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", "duplicated parameter"));
            }
            pairs.push((k.into_owned(), v.into_owned()));
        }
        Ok(Form(pairs))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// `Authorization: Basic` client credentials (client_secret_basic), each part form-decoded as
/// RFC 6749 §2.3.1 asks. A header that is not Basic, or not decodable, is not client credentials.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(b64.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unform = |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8().ok().map(Cow::into_owned);
    Some((unform(id)?, unform(secret)?))
}

pub(crate) async fn token(
    State(settings): State<Arc<Settings>>,
    State(grants): State<Grants>,
    realm: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match realm {
        Ok(Path(realm)) if realm == settings.realm => {}
        _ => return (StatusCode::NOT_FOUND, Json(json!({ "error": "Realm does not exist" }))).into_response(),
    }
    match grant(&grants, &headers, &body) {
        Ok(issued) => token_response(&issued),
        Err(e) => e.into_response(),
    }
}

fn grant(grants: &Grants, headers: &HeaderMap, body: &[u8]) -> Result<Issued, OAuthError> {
    let form = Form::parse(headers, body)?;
    let grant_type = form
        .get("grant_type")
        .filter(|g| !g.is_empty())
        .ok_or_else(|| OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", "Missing form parameter: grant_type"))?;
    // Basic wins over form fields, as in Keycloak's client-secret authenticator.
    let basic = basic_credentials(headers);
    let (client_id, secret) = match &basic {
        Some((id, secret)) => (Some(id.as_str()), Some(secret.as_str())),
        None => (form.get("client_id"), form.get("client_secret")),
    };
    match grant_type {
        "client_credentials" => Ok(grant::client_credentials(grants, client_id, secret)?),
        "password" => {
            let username = form.get("username").unwrap_or_default();
            let password = form.get("password").unwrap_or_default();
            Ok(grant::password(grants, client_id, secret, username, password)?)
        }
        _ => Err(OAuthError::new(StatusCode::BAD_REQUEST, "unsupported_grant_type", "Unsupported grant_type")),
    }
}
