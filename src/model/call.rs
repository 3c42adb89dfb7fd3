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
    /// `{"pairing_code": 123456}`.
    NumericCode,
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
            Malformed::NumericCode => r#"{"pairing_code": 123456}"#,
            Malformed::NotAnObject => r#"["K7M3NP"]"#,
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
