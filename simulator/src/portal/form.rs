//! Reading the portal's form posts. A post the portal's own pages did not make (another origin)
//! or cannot be read is answered with a page that says so, never a 5xx.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::layout::problem;
use super::session::{Flash, Sessions, SignedIn, same_origin};

/// The fields of an `application/x-www-form-urlencoded` post.
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }
}

/// Why a post was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    OtherSite,
    NotAForm,
}

impl Refused {
    pub(crate) fn page(self, who: Option<&SignedIn>) -> Response {
        match self {
            Refused::OtherSite => {
                problem(StatusCode::FORBIDDEN, who, "Refused", "This form was sent from another site. Use the portal's own pages.")
            }
            Refused::NotAForm => {
                problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, who, "Cannot read the form", "The portal's forms are sent form-encoded.")
            }
        }
    }
}

/// Checks origin and content type, then decodes the body.
pub(crate) fn read(headers: &HeaderMap, body: &[u8]) -> Result<Fields, Refused> {
    if !same_origin(headers) {
        return Err(Refused::OtherSite);
    }
    let is_form = crate::media::header_is(headers, "application/x-www-form-urlencoded");
    if !is_form && !body.is_empty() {
        return Err(Refused::NotAForm);
    }
    Ok(Fields(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()))
}

/// A signed-in user's form post, read the way every portal action reads one: who is signed in
/// first (a signed-out post goes to the sign-in form), then the body, then origin and type
/// ([`read`]); a refused post is answered with [`Refused::page`] before the action runs.
pub(crate) struct Posted {
    pub(crate) who: SignedIn,
    pub(crate) fields: Fields,
    sessions: Arc<Sessions>,
}

impl Posted {
    /// The action's answer as the next page's flash, and the browser sent there (post, redirect,
    /// get), so that a reload does not post again.
    pub(crate) fn answer(&self, flash: Flash, to: &str) -> Response {
        self.sessions.set_flash(&self.who.session, flash);
        Redirect::to(to).into_response()
    }
}

impl<S> FromRequest<S> for Posted
where
    S: Send + Sync,
    SignedIn: FromRequestParts<S, Rejection: IntoResponse>,
    Arc<Sessions>: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let who = SignedIn::from_request_parts(&mut parts, state).await.map_err(IntoResponse::into_response)?;
        let headers = parts.headers.clone();
        let body = Bytes::from_request(Request::from_parts(parts, body), state).await.map_err(IntoResponse::into_response)?;
        match read(&headers, &body) {
            Ok(fields) => Ok(Posted { who, fields, sessions: Arc::<Sessions>::from_ref(state) }),
            Err(refused) => Err(refused.page(Some(&who))),
        }
    }
}
