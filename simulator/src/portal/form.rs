//! Reading the portal's form posts. A post the portal's own pages did not make (another origin)
//! or cannot be read is answered with a page that says so, never a 5xx.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::layout::problem;
use super::session::{SignedIn, same_origin};

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
