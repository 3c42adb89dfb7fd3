//! The non-standard header names the simulator reads or writes, as `HeaderName` constants: a
//! lookup by `&str` parses and validates the name on every call, and these are read on every
//! request.

use axum::http::HeaderName;

pub(crate) const X_TRACE_ID: HeaderName = HeaderName::from_static("x-trace-id");
pub(crate) const X_DEVICE_ID: HeaderName = HeaderName::from_static("x-device-id");
pub(crate) const X_CLIENT_TYPE: HeaderName = HeaderName::from_static("x-client-type");
pub(crate) const X_TIMESTAMP: HeaderName = HeaderName::from_static("x-timestamp");
pub(crate) const X_NONCE: HeaderName = HeaderName::from_static("x-nonce");
