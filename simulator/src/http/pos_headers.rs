//! The POS activation headers (§1.8): the only authentication of bootstrap, pairing-code and
//! status (HDR-01). Checked in HDR-11's order, first failure reported.

use axum::extract::FromRequestParts;
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};

use super::error::ApiError;
use crate::errors::{HDR_02, HDR_04, HDR_07, HDR_10};
use crate::ids::{AppVersion, DeviceId};

const UA_PREFIX: &[u8] = b"Viopay-POS/";

/// A device that presented well-formed POS headers. Whether it is provisioned is the handler's
/// check (HDR-11: lookup comes last).
#[derive(Debug, Clone)]
pub(crate) struct PosDevice {
    pub(crate) id: DeviceId,
    /// The `User-Agent` as sent; only bootstrap reads the version in it (BOOT-08), so it is parsed
    /// there, not on every status poll.
    user_agent: HeaderValue,
}

impl PosDevice {
    /// BOOT-08: the text after `Viopay-POS/` up to the first space.
    pub(crate) fn version_text(&self) -> String {
        let rest = String::from_utf8_lossy(&self.user_agent.as_bytes()[UA_PREFIX.len()..]).into_owned();
        rest.split(' ').next().unwrap_or_default().to_owned()
    }

    /// That text as a version, when it is one.
    pub(crate) fn version(&self) -> Option<AppVersion> {
        AppVersion::parse(&self.version_text()).ok()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PosDevice {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        pos_device(&parts.headers)
    }
}

/// HDR-12: `HeaderMap` matches names case-insensitively.
pub(crate) fn pos_device(headers: &HeaderMap) -> Result<PosDevice, ApiError> {
    // HDR-02, then HDR-03/HDR-04/HDR-05.
    let raw = headers.get(super::header_names::X_DEVICE_ID).ok_or_else(|| ApiError::of(&HDR_02))?;
    let id = raw.to_str().ok().and_then(|s| DeviceId::parse(s).ok()).ok_or_else(|| ApiError::of(&HDR_04))?;
    // HDR-06/HDR-07; HDR-08: only the prefix is checked.
    let ua = headers.get(USER_AGENT).filter(|ua| ua.as_bytes().starts_with(UA_PREFIX)).ok_or_else(|| ApiError::of(&HDR_07))?;
    // HDR-09/HDR-10: exactly `pos`.
    if headers.get(super::header_names::X_CLIENT_TYPE).map(|v| v.as_bytes()) != Some(b"pos".as_slice()) {
        return Err(ApiError::of(&HDR_10));
    }
    Ok(PosDevice { id, user_agent: ua.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("ascii"));
        }
        h
    }

    #[test]
    fn hdr_11_first_failure_in_order_is_reported() {
        let rule = |h: &HeaderMap| pos_device(h).err().map(|e| e.rule);
        assert_eq!(rule(&headers(&[])), Some("HDR-02"));
        assert_eq!(rule(&headers(&[("x-device-id", "bad")])), Some("HDR-04"));
        assert_eq!(rule(&headers(&[("x-device-id", "POS-00000001")])), Some("HDR-07"));
        assert_eq!(rule(&headers(&[("x-device-id", "POS-00000001"), ("user-agent", "curl/8")])), Some("HDR-07"));
        let ok_ua = ("user-agent", "Viopay-POS/1.4.2 (Android 12; PAX-A920)");
        assert_eq!(rule(&headers(&[("x-device-id", "POS-00000001"), ok_ua])), Some("HDR-10"));
        assert_eq!(rule(&headers(&[("x-device-id", "POS-00000001"), ok_ua, ("x-client-type", "POS")])), Some("HDR-10"));
        let dev = pos_device(&headers(&[("x-device-id", "POS-00000001"), ok_ua, ("x-client-type", "pos")])).expect("valid");
        assert_eq!(dev.version().map(|v| v.to_string()), Some("1.4.2".into()));
    }

    #[test]
    fn hdr_08_only_the_prefix_matters() {
        let h = headers(&[("x-device-id", "POS-00000001"), ("user-agent", "Viopay-POS/whatever"), ("x-client-type", "pos")]);
        let dev = pos_device(&h).expect("valid");
        assert_eq!(dev.version(), None);
        assert_eq!(dev.version_text(), "whatever");
    }
}
