//! The kinds of request the model predicts that are not plain "this device calls that endpoint":
//! malformed claim bodies and the `Content-Type` a claim is sent with. Scenarios and the fuzzer
//! build their requests from these, so both name the same cases.

/// A malformed claim body (CLAIM-05…CLAIM-08).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// `{}`: CLAIM-06's exact validator message.
    MissingCode,
    /// `{"pairing_code": ""}`.
    EmptyCode,
    /// `{"pairing_code": null}`.
    NullCode,
    /// Not JSON.
    BrokenJson,
    /// `pairing_code` present but not a string (a number, boolean, array or object); the fuzzer
    /// sends `{"pairing_code": 123456}`.
    NotAString,
    /// A JSON value that is not an object, e.g. an array.
    NotAnObject,
}

impl Malformed {
    pub fn body(self) -> &'static str {
        match self {
            Malformed::MissingCode => "{}",
            Malformed::EmptyCode => r#"{"pairing_code": ""}"#,
            Malformed::NullCode => r#"{"pairing_code": null}"#,
            Malformed::BrokenJson => r#"{"pairing_code":"#,
            Malformed::NotAString => r#"{"pairing_code": 123456}"#,
            Malformed::NotAnObject => r#"["K7M3NP"]"#,
        }
    }
}

/// One fault in the POS headers of a request (§1.8), the other headers valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderFault {
    /// No `X-Device-Id` (HDR-02).
    MissingDeviceId,
    /// An `X-Device-Id` that is not `POS-` + 8 hex characters (HDR-03).
    InvalidDeviceId,
    /// A `User-Agent` without the `Viopay-POS/` prefix (HDR-06).
    ForeignUserAgent,
    /// No `X-Client-Type` (HDR-09).
    MissingClientType,
}

impl HeaderFault {
    /// The header and the value it gets (`None`: the header is left out).
    pub fn header(self) -> (&'static str, Option<&'static str>) {
        match self {
            HeaderFault::MissingDeviceId => ("X-Device-Id", None),
            HeaderFault::InvalidDeviceId => ("X-Device-Id", Some("POS-XYZ")),
            HeaderFault::ForeignUserAgent => ("User-Agent", Some("curl/8.5.0")),
            HeaderFault::MissingClientType => ("X-Client-Type", None),
        }
    }

    /// `req` with the fault put in.
    pub fn apply(self, mut req: crate::client::ApiRequest) -> crate::client::ApiRequest {
        let (name, value) = self.header();
        req.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        match value {
            Some(v) => req.header(name, v),
            None => req,
        }
    }
}

/// The `Content-Type` a claim carries (CLAIM-01 requires JSON; CLAIM-09, CLAIM-24).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContentType {
    Json,
    Other(String),
    Missing,
}

impl ContentType {
    /// From a header value: `application/json` compared as a media type, parameters allowed.
    pub fn parse(value: Option<&str>) -> Self {
        match value {
            None => ContentType::Missing,
            Some(v) if v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")) => ContentType::Json,
            Some(v) => ContentType::Other(v.to_owned()),
        }
    }

    pub fn is_json(&self) -> bool {
        *self == ContentType::Json
    }

    pub fn header(&self) -> Option<&str> {
        match self {
            ContentType::Json => Some("application/json"),
            ContentType::Other(v) => Some(v),
            ContentType::Missing => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_a_media_type_with_parameters_allowed() {
        assert!(ContentType::parse(Some("application/json; charset=utf-8")).is_json());
        assert!(ContentType::parse(Some("Application/JSON")).is_json());
        assert_eq!(ContentType::parse(Some("text/plain")), ContentType::Other("text/plain".into()));
        assert_eq!(ContentType::parse(None), ContentType::Missing);
    }
}
