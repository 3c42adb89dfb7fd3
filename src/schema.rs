//! JSON-Schema checks of every response, by endpoint and status (`schemas/catalog.json`). Each
//! violation names the rule it breaks: the deepest `x-rule` annotation on the failing schema path.

use std::collections::HashMap;

use serde_json::Value;

mod routes;
use routes::RouteTable;

/// The API schemas, compiled in so the binary works from any directory. The test suite checks that
/// this list covers every non-`/_sim/` entry of the catalogue.
const FILES: &[(&str, &str)] = &[
    ("catalog.json", include_str!("../schemas/catalog.json")),
    ("error.json", include_str!("../schemas/error.json")),
    ("bootstrap-response.json", include_str!("../schemas/bootstrap-response.json")),
    ("pairing-code-response.json", include_str!("../schemas/pairing-code-response.json")),
    ("status-response.json", include_str!("../schemas/status-response.json")),
    ("claim-response.json", include_str!("../schemas/claim-response.json")),
    ("token-response.json", include_str!("../schemas/token-response.json")),
    ("session-initiate-response.json", include_str!("../schemas/session-initiate-response.json")),
    ("health-response.json", include_str!("../schemas/health-response.json")),
    ("jwks.json", include_str!("../schemas/jwks.json")),
    ("openid-configuration.json", include_str!("../schemas/openid-configuration.json")),
    ("oidc-token-response.json", include_str!("../schemas/oidc-token-response.json")),
    ("oauth-error.json", include_str!("../schemas/oauth-error.json")),
    ("kustom-problem.json", include_str!("../schemas/kustom-problem.json")),
    ("kustom-enrollment.json", include_str!("../schemas/kustom-enrollment.json")),
    ("kustom-enrollment-page.json", include_str!("../schemas/kustom-enrollment-page.json")),
    ("kustom-device.json", include_str!("../schemas/kustom-device.json")),
    ("kustom-device-page.json", include_str!("../schemas/kustom-device-page.json")),
    ("kustom-device-registered.json", include_str!("../schemas/kustom-device-registered.json")),
    ("kustom-location.json", include_str!("../schemas/kustom-location.json")),
    ("kustom-location-page.json", include_str!("../schemas/kustom-location-page.json")),
    ("attest-response.json", include_str!("../schemas/attest-response.json")),
    ("keys-response.json", include_str!("../schemas/keys-response.json")),
    ("envelope.json", include_str!("../schemas/envelope.json")),
    ("config-plaintext.json", include_str!("../schemas/config-plaintext.json")),
    ("terminal-parameters-plaintext.json", include_str!("../schemas/terminal-parameters-plaintext.json")),
    ("activate-response-plaintext.json", include_str!("../schemas/activate-response-plaintext.json")),
];

/// A response that does not match its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: String,
    pub schema: String,
    /// JSON pointer into the response body.
    pub pointer: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("schema {0} is not valid JSON: {1}")]
    Json(String, serde_json::Error),
    #[error("schema {0} does not compile: {1}")]
    Compile(String, String),
    #[error("catalog.json is malformed: {0}")]
    Catalog(String),
}

struct Compiled {
    raw: Value,
    validator: jsonschema::Validator,
}

pub struct Schemas {
    schemas: HashMap<String, Compiled>,
    /// Each route's schema per success status.
    routes: RouteTable<HashMap<u16, String>>,
    error: String,
    /// Routes whose errors are not the envelope (catalogue `errors`): the realm's token endpoint.
    errors: RouteTable<String>,
}

impl std::fmt::Debug for Schemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schemas").field("routes", &self.routes.len()).finish_non_exhaustive()
    }
}

impl Schemas {
    pub fn builtin() -> Result<Self, SchemaError> {
        let mut raw: HashMap<String, Value> = HashMap::new();
        for (name, text) in FILES {
            raw.insert((*name).to_owned(), serde_json::from_str(text).map_err(|e| SchemaError::Json((*name).to_owned(), e))?);
        }
        let catalog = raw.remove("catalog.json").ok_or_else(|| SchemaError::Catalog("missing".into()))?;
        let error = catalog["error"].as_str().ok_or_else(|| SchemaError::Catalog("no `error`".into()))?.to_owned();
        let mut routes = Vec::new();
        for (key, statuses) in catalog["responses"].as_object().ok_or_else(|| SchemaError::Catalog("no `responses`".into()))? {
            let Some((method, template)) = key.split_once(' ') else { continue };
            if template.starts_with("/_sim/") {
                continue;
            }
            let mut by_status = HashMap::new();
            for (status, schema) in statuses.as_object().into_iter().flatten() {
                let status = status.parse::<u16>().map_err(|_| SchemaError::Catalog(format!("{key}: status {status}")))?;
                by_status.insert(status, schema.as_str().unwrap_or_default().to_owned());
            }
            routes.push((method.to_owned(), template.to_owned(), by_status));
        }
        let mut errors = Vec::new();
        for (key, schema) in catalog["errors"].as_object().into_iter().flatten() {
            let (Some((method, template)), Some(schema)) = (key.split_once(' '), schema.as_str()) else { continue };
            errors.push((method.to_owned(), template.to_owned(), schema.to_owned()));
        }
        let mut schemas = HashMap::new();
        for (name, value) in raw {
            let validator = jsonschema::draft202012::new(&value).map_err(|e| SchemaError::Compile(name.clone(), e.to_string()))?;
            schemas.insert(name, Compiled { raw: value, validator });
        }
        let routes = RouteTable::new(routes).map_err(|e| SchemaError::Catalog(e.0))?;
        let errors = RouteTable::new(errors).map_err(|e| SchemaError::Catalog(e.0))?;
        Ok(Schemas { schemas, routes, error, errors })
    }

    /// Names of the schema files the catalogue refers to for API routes.
    pub fn referenced(&self) -> impl Iterator<Item = &str> {
        self.routes
            .values()
            .flat_map(|by_status| by_status.values().map(String::as_str))
            .chain(std::iter::once(self.error.as_str()))
            .chain(self.errors.values().map(String::as_str))
    }

    pub fn has(&self, name: &str) -> bool {
        self.schemas.contains_key(name)
    }

    /// The route's schema per success status.
    fn route(&self, method: &str, path: &str) -> Option<&HashMap<u16, String>> {
        self.routes.get(method, path)
    }

    /// The error schema of a route: the envelope, unless the catalogue's `errors` says otherwise.
    fn error_schema(&self, method: &str, path: &str) -> &str {
        self.errors.get(method, path).map_or(self.error.as_str(), String::as_str)
    }

    /// Checks a response. Error statuses are checked against the envelope (the realm's token
    /// endpoint: its OAuth error, catalogue `errors`); success statuses against the endpoint's
    /// schema where the catalogue has one. A body that is not JSON at all breaks CONV-02 (and
    /// ERR-01 on errors).
    pub fn check(&self, method: &str, path: &str, status: u16, body: &str) -> Vec<Violation> {
        let value = crate::json::parse(body).map(|p| p.value);
        self.check_parsed(method, path, status, value.as_ref())
    }

    /// [`Schemas::check`] on a body already parsed (`None`: not JSON), so a caller that reads the
    /// body too parses it once.
    pub fn check_parsed(&self, method: &str, path: &str, status: u16, body: Option<&Value>) -> Vec<Violation> {
        let schema = if status >= 400 {
            Some(self.error_schema(method, path))
        } else {
            self.route(method, path).and_then(|by_status| by_status.get(&status)).map(String::as_str)
        };
        let Some(schema) = schema else { return Vec::new() };
        let Some(value) = body else {
            let rule = if status >= 400 { "ERR-01" } else { "CONV-02" };
            return vec![Violation {
                rule: rule.into(),
                schema: schema.into(),
                pointer: String::new(),
                message: "the body is not JSON".into(),
            }];
        };
        self.validate(schema, value)
    }

    pub fn validate(&self, schema: &str, value: &Value) -> Vec<Violation> {
        let Some(compiled) = self.schemas.get(schema) else { return Vec::new() };
        // Nearly every answer is valid: `is_valid` stops at nothing and collects nothing, where
        // `iter_errors` builds its error machinery first.
        if compiled.validator.is_valid(value) {
            return Vec::new();
        }
        compiled
            .validator
            .iter_errors(value)
            .map(|e| {
                let mut schema_path = e.schema_path().to_string();
                // A missing property is reported on the object's `required`: judge it by the
                // property's own rule (a missing `trace_id` breaks ERR-04, not ERR-01).
                if let jsonschema::error::ValidationErrorKind::Required { property } = e.kind()
                    && let (Some(parent), Some(name)) = (schema_path.strip_suffix("/required"), property.as_str())
                {
                    schema_path = format!("{parent}/properties/{name}");
                }
                Violation {
                    rule: rule_at(&compiled.raw, &schema_path),
                    schema: schema.to_owned(),
                    pointer: e.instance_path().to_string(),
                    message: e.to_string(),
                }
            })
            .collect()
    }
}

/// The deepest `x-rule` along a JSON-pointer schema path.
fn rule_at(schema: &Value, pointer: &str) -> String {
    let mut node = schema;
    let mut rule = schema.get("x-rule").and_then(Value::as_str).unwrap_or("CONV-02");
    for part in pointer.split('/').filter(|p| !p.is_empty()) {
        let part = part.replace("~1", "/").replace("~0", "~");
        let next = match node {
            Value::Object(map) => map.get(&part),
            Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        let Some(next) = next else { break };
        node = next;
        if let Some(r) = node.get("x-rule").and_then(Value::as_str) {
            rule = r;
        }
    }
    rule.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schemas() -> Schemas {
        Schemas::builtin().expect("schemas")
    }

    #[test]
    fn every_referenced_schema_is_compiled_in() {
        let s = schemas();
        for name in s.referenced() {
            assert!(s.has(name), "{name} is referenced by catalog.json but not compiled in");
        }
    }

    #[test]
    fn violations_name_the_specific_rule() {
        let s = schemas();
        let v = s.check("POST", "/pos/pairing-code", 200, r#"{"pairing_code":"K7M3N0","expires_in_sec":300}"#);
        assert_eq!(v.iter().map(|v| v.rule.as_str()).collect::<Vec<_>>(), vec!["PAIR-03"]);
        let v = s.check("GET", "/pos/status", 404, r#"{"error":{"code":4004,"message":"Device not found","trace_id":"x"}}"#);
        assert_eq!(v.iter().map(|v| v.rule.as_str()).collect::<Vec<_>>(), vec!["ERR-02"]);
        assert_eq!(v[0].pointer, "/error/code");
        let v = s.check("GET", "/pos/status", 200, r#"{"device_status":"claimed","is_claimed":false,"pairing_code_status":"used"}"#);
        assert_eq!(v.iter().map(|v| v.rule.as_str()).collect::<Vec<_>>(), vec!["STAT-04"]);
        let v = s.check("GET", "/pos/status", 404, r#"{"error":{"code":"4004","message":"Device not found"}}"#);
        assert_eq!(v.iter().map(|v| v.rule.as_str()).collect::<Vec<_>>(), vec!["ERR-04"], "a missing trace_id is ERR-04");
        let v = s.check("GET", "/pos/status", 502, "<html>bad gateway</html>");
        assert_eq!(v[0].rule, "ERR-01");
        let echoed = r#"{"error":{"code":"4004","message":"Pairing code not found","details":{"pairing_code":"\ud800"},"trace_id":"t"}}"#;
        assert!(s.check("POST", "/pos/claim", 400, echoed).is_empty(), "an escaped lone surrogate is JSON (RFC 8259)");
        assert!(
            s.check("GET", "/pos/status", 200, r#"{"device_status":"inactive","is_claimed":false,"pairing_code_status":"none"}"#)
                .is_empty()
        );
        assert!(s.check("GET", "/realms/viopay/protocol/openid-connect/certs", 200, r#"{"keys":[]}"#).iter().all(|v| v.rule == "AUTH-03"));
    }

    /// The token endpoint's errors are Keycloak's OAuth errors, not the envelope.
    #[test]
    fn the_token_endpoint_has_its_own_error_schema() {
        let s = schemas();
        let path = "/realms/viopay/protocol/openid-connect/token";
        let oauth = r#"{"error":"invalid_grant","error_description":"Invalid user credentials"}"#;
        assert!(s.check("POST", path, 401, oauth).is_empty());
        assert!(!s.check("POST", path, 401, r#"{"error":{"code":"4010","message":"Unauthorized","trace_id":"t"}}"#).is_empty());
        assert!(!s.check("POST", "/pos/claim", 401, oauth).is_empty(), "elsewhere, errors are the envelope");
        assert!(s.check("POST", path, 200, r#"{"access_token":"x","token_type":"Bearer","expires_in":300}"#).is_empty());
    }
}
