//! Generic errors for requests no handler takes (§1.7).

use super::error::ApiError;
use crate::errors::{ERR_09, ERR_10};

/// ERR-09.
pub(crate) async fn route_not_found() -> ApiError {
    ApiError::of(&ERR_09)
}

/// ERR-10.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::of(&ERR_10)
}
