//! A fault as a user writes it (the body of `POST /_sim/faults`, or one entry of a faults-file
//! profile), checked into the typed [`Fault`] the request path uses. One flat shape for every kind,
//! so a profile file reads like the API call; a field that does not apply to the kind is refused
//! rather than ignored, so that a typo cannot arm a different fault than the one meant.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};

use crate::errors::{self, ErrorSpec};
use crate::ids::DeviceId;
use crate::json_num::{whole_opt, whole_u32_opt};

pub(crate) use crate::endpoints::FAULTABLE;

/// The activation steps of the overview (1 bootstrap … 8 activate) and their endpoints.
pub(crate) fn step_endpoints(step: u8) -> Vec<&'static str> {
    crate::endpoints::of_step(step).collect()
}

/// Upper bound of every time a fault holds a connection: a forgotten fault must not hold sockets
/// for hours.
pub(crate) const MAX_HOLD_MS: u64 = 600_000;

/// The request and file form. Serialised back (with the registry's `id`, `remaining`, `fired`)
/// when faults are listed.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultSpec {
    /// `error`, `status`, `latency`, `dribble`, `reset`, `hang`, `truncate` or `malformed`.
    /// Default: `error` when `rule` is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<String>,
    /// One endpoint; every API endpoint when absent (and no `step`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) endpoint: Option<String>,
    /// The endpoints of one activation step (1–8).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default, deserialize_with = "whole_opt")]
    pub(crate) step: Option<u8>,
    /// Only this device's requests (`X-Device-Id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) device_id: Option<String>,
    /// `error`: the documented error, by rule ID (e.g. `PAIR-08`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rule: Option<String>,
    /// `status`: the HTTP status sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default, deserialize_with = "whole_opt")]
    pub(crate) status: Option<u16>,
    /// `status`: the body sent (default: the status line as plain text, as a gateway sends).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) body: Option<String>,
    /// `status`: the body's `Content-Type` (default `text/plain; charset=utf-8`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) content_type: Option<String>,
    /// `status`: extra response headers, e.g. `{"Retry-After": "2"}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) headers: BTreeMap<String, String>,
    /// `latency`: a fixed delay before the request is handled.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default, deserialize_with = "whole_opt")]
    pub(crate) latency_ms: Option<u64>,
    /// `latency`: a delay drawn from `min_ms..=max_ms` (seeded); `hang`: the longest it holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default, deserialize_with = "whole_opt")]
    pub(crate) min_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default, deserialize_with = "whole_opt")]
    pub(crate) max_ms: Option<u64>,
    /// `dribble`: the time the body's bytes are spread over.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default, deserialize_with = "whole_opt")]
    pub(crate) over_ms: Option<u64>,
    /// `dribble`: in how many pieces (default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default, deserialize_with = "whole_opt")]
    pub(crate) chunks: Option<u32>,
    /// How many matching requests it hits, then it disarms ("fail twice, then succeed": 2).
    /// Default 1, or unlimited with a `probability`.
    #[serde(default, deserialize_with = "whole_u32_opt", skip_serializing)]
    pub(crate) count: Option<u32>,
    /// The chance (0 < p ≤ 1) that a matching request is hit, drawn from the seeded generator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) probability: Option<f64>,
}

/// What a fault does to an exchange.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    /// A documented error envelope, as the endpoint itself would send it (the request is not
    /// handled).
    Error(ErrorSpec),
    /// Any status, body and headers, as something in front of the API (a gateway, a load
    /// balancer) would send them: no envelope, no trace id; the request is not handled.
    Status { status: StatusCode, body: String, content_type: HeaderValue, headers: Vec<(HeaderName, HeaderValue)> },
    /// A delay before the request is handled (stacks with one other fault).
    Latency { min: Duration, max: Duration },
    /// The request is handled; the answer's body trickles out in `chunks` pieces over `over`.
    Dribble { over: Duration, chunks: u32 },
    /// The connection is reset (TCP RST) without an answer; the request is not handled.
    Reset,
    /// The request is accepted and never answered; after `max` the connection is closed (FIN)
    /// without an answer. The request is not handled.
    Hang { max: Duration },
    /// The request is handled; the answer's head and half its body are sent, then the connection
    /// closes before the declared `Content-Length`.
    Truncate,
    /// The request is handled; the answer keeps its status and headers but its body is cut to a
    /// syntactically broken JSON text (with a matching `Content-Length`).
    Malformed,
}

impl Action {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Action::Error(_) => "error",
            Action::Status { .. } => "status",
            Action::Latency { .. } => "latency",
            Action::Dribble { .. } => "dribble",
            Action::Reset => "reset",
            Action::Hang { .. } => "hang",
            Action::Truncate => "truncate",
            Action::Malformed => "malformed",
        }
    }
}

/// A route as written (`{id}` for one path segment, Kustom's) against a request path.
fn route_matches(route: &str, path: &str) -> bool {
    if !route.contains('{') {
        return route == path;
    }
    let (r, p): (Vec<&str>, Vec<&str>) = (route.split('/').collect(), path.split('/').collect());
    r.len() == p.len() && r.iter().zip(&p).all(|(r, p)| if r.starts_with('{') { !p.is_empty() } else { r == p })
}

/// Where a fault applies: an empty list is every faultable endpoint.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scope {
    pub(crate) endpoints: Vec<&'static str>,
    pub(crate) device: Option<DeviceId>,
}

impl Scope {
    pub(crate) fn matches(&self, path: &str, device: Option<&str>) -> bool {
        let list = if self.endpoints.is_empty() { &FAULTABLE[..] } else { self.endpoints.as_slice() };
        let endpoint_ok = list.iter().any(|route| route_matches(route, path));
        endpoint_ok && self.device.is_none_or(|d| device.and_then(|s| DeviceId::parse(s).ok()) == Some(d))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    #[error("`{0}` is not an endpoint faults can be armed on; choose one of: {list}", list = FAULTABLE.join(", "))]
    UnknownEndpoint(String),
    #[error(
        "step must be 1 to 8 (1 bootstrap, 2 pairing-code, 3 status, 4 claim, 5 attest, 6 keys, 7 config and terminal-parameters, 8 activate)"
    )]
    UnknownStep,
    #[error("{endpoint} is not part of step {step}")]
    EndpointNotInStep { endpoint: String, step: u8 },
    #[error("`{0}` is not a fault kind; choose one of: error, status, latency, dribble, reset, hang, truncate, malformed")]
    UnknownKind(String),
    #[error("`{rule}` is not a documented error of {endpoint}; choose one of: {choices}")]
    NotInjectable { endpoint: String, rule: String, choices: String },
    #[error("kind `error` needs `rule` and one `endpoint`")]
    ErrorNeedsRuleAndEndpoint,
    #[error("`{field}` does not apply to kind `{kind}`")]
    NotApplicable { field: &'static str, kind: String },
    #[error("{0}")]
    Invalid(String),
    #[error("count must be at least 1")]
    ZeroCount,
    #[error("probability must be greater than 0 and at most 1")]
    BadProbability,
    #[error("device_id: {0}")]
    BadDevice(String),
    #[error("no fault profile `{name}`; known: {known}")]
    UnknownProfile { name: String, known: String },
}

/// A checked fault, before the registry gives it an id.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub(crate) spec: FaultSpec,
    pub(crate) scope: Scope,
    pub(crate) action: Action,
    /// `None`: until disarmed.
    pub(crate) remaining: Option<u32>,
    pub(crate) probability: Option<f64>,
}

impl FaultSpec {
    /// Checks every field against the kind; the result carries the spec as it will be listed
    /// (with `kind` filled in).
    pub(crate) fn check(&self) -> Result<Checked, FaultError> {
        let kind = match (&self.kind, &self.rule) {
            (Some(k), _) => k.clone(),
            (None, Some(_)) => "error".to_owned(),
            (None, None) => return Err(FaultError::Invalid("give `kind` (or `rule` for a documented error)".into())),
        };
        let scope = self.scope()?;
        self.only_fields_of(&kind)?;
        let ms = |v: u64, field: &str| {
            if v > MAX_HOLD_MS {
                Err(FaultError::Invalid(format!("{field} must be at most {MAX_HOLD_MS}")))
            } else {
                Ok(Duration::from_millis(v))
            }
        };
        let action = match kind.as_str() {
            "error" => Action::Error(self.error_spec()?),
            "status" => self.status_action()?,
            "latency" => match (self.latency_ms, self.min_ms, self.max_ms) {
                (Some(fixed), None, None) => {
                    let d = ms(fixed, "latency_ms")?;
                    Action::Latency { min: d, max: d }
                }
                // The range between the two, in whichever order they come.
                (None, Some(a), Some(b)) => Action::Latency { min: ms(a.min(b), "min_ms")?, max: ms(a.max(b), "max_ms")? },
                _ => return Err(FaultError::Invalid("latency needs latency_ms, or min_ms and max_ms".into())),
            },
            "dribble" => {
                let over = ms(self.over_ms.ok_or_else(|| FaultError::Invalid("dribble needs over_ms".into()))?, "over_ms")?;
                let chunks = self.chunks.unwrap_or(10);
                if !(1..=1000).contains(&chunks) {
                    return Err(FaultError::Invalid("chunks must be 1 to 1000".into()));
                }
                Action::Dribble { over, chunks }
            }
            "reset" => Action::Reset,
            "hang" => Action::Hang { max: ms(self.max_ms.unwrap_or(60_000), "max_ms")? },
            "truncate" => Action::Truncate,
            "malformed" => Action::Malformed,
            other => return Err(FaultError::UnknownKind(other.to_owned())),
        };
        if self.count == Some(0) {
            return Err(FaultError::ZeroCount);
        }
        if let Some(p) = self.probability
            && !(p > 0.0 && p <= 1.0)
        {
            return Err(FaultError::BadProbability);
        }
        let remaining = match (self.count, self.probability) {
            (Some(n), _) => Some(n),
            (None, Some(_)) => None,
            (None, None) => Some(1),
        };
        let mut spec = self.clone();
        spec.kind = Some(kind);
        if let Action::Error(e) = &action {
            spec.rule = Some(e.rule.to_owned());
        }
        Ok(Checked { spec, scope, action, remaining, probability: self.probability })
    }

    fn scope(&self) -> Result<Scope, FaultError> {
        let endpoint = match self.endpoint.as_deref() {
            None | Some("*") => None,
            Some(e) => Some(*FAULTABLE.iter().find(|f| **f == e).ok_or_else(|| FaultError::UnknownEndpoint(e.to_owned()))?),
        };
        let endpoints = match (endpoint, self.step) {
            (_, Some(step)) if step_endpoints(step).is_empty() => return Err(FaultError::UnknownStep),
            (Some(e), Some(step)) if !step_endpoints(step).contains(&e) => {
                return Err(FaultError::EndpointNotInStep { endpoint: e.to_owned(), step });
            }
            (Some(e), _) => vec![e],
            (None, Some(step)) => step_endpoints(step).to_vec(),
            (None, None) => Vec::new(),
        };
        let device = self.device_id.as_deref().map(DeviceId::parse).transpose().map_err(|e| FaultError::BadDevice(e.to_string()))?;
        Ok(Scope { endpoints, device })
    }

    fn only_fields_of(&self, kind: &str) -> Result<(), FaultError> {
        let set: [(&'static str, bool); 10] = [
            ("rule", self.rule.is_some()),
            ("status", self.status.is_some()),
            ("body", self.body.is_some()),
            ("content_type", self.content_type.is_some()),
            ("headers", !self.headers.is_empty()),
            ("latency_ms", self.latency_ms.is_some()),
            ("min_ms", self.min_ms.is_some()),
            ("max_ms", self.max_ms.is_some()),
            ("over_ms", self.over_ms.is_some()),
            ("chunks", self.chunks.is_some()),
        ];
        let allowed: &[&str] = match kind {
            "error" => &["rule"],
            "status" => &["status", "body", "content_type", "headers"],
            "latency" => &["latency_ms", "min_ms", "max_ms"],
            "dribble" => &["over_ms", "chunks"],
            "hang" => &["max_ms"],
            "reset" | "truncate" | "malformed" => &[],
            other => return Err(FaultError::UnknownKind(other.to_owned())),
        };
        match set.iter().find(|(name, given)| *given && !allowed.contains(name)) {
            Some((field, _)) => Err(FaultError::NotApplicable { field, kind: kind.to_owned() }),
            None => Ok(()),
        }
    }

    fn error_spec(&self) -> Result<ErrorSpec, FaultError> {
        let (Some(rule), Some(endpoint)) = (self.rule.as_deref(), self.endpoint.as_deref().filter(|e| *e != "*")) else {
            return Err(FaultError::ErrorNeedsRuleAndEndpoint);
        };
        let choices = errors::injectable(endpoint);
        choices.iter().find(|s| s.rule == rule).copied().ok_or_else(|| FaultError::NotInjectable {
            endpoint: endpoint.to_owned(),
            rule: rule.to_owned(),
            choices: if choices.is_empty() { "none".to_owned() } else { choices.iter().map(|s| s.rule).collect::<Vec<_>>().join(", ") },
        })
    }

    fn status_action(&self) -> Result<Action, FaultError> {
        let status = self
            .status
            .and_then(|s| StatusCode::from_u16(s).ok())
            .filter(|s| (200..=599).contains(&s.as_u16()))
            .ok_or_else(|| FaultError::Invalid("status needs `status` from 200 to 599".into()))?;
        let body = self.body.clone().unwrap_or_else(|| format!("{} {}\n", status.as_u16(), status.canonical_reason().unwrap_or("")));
        // Visible ASCII, space and tab only (`http` would also take obs-text bytes, which the
        // schema, and any sane client, does not).
        let value = |v: &str| {
            Some(v).filter(|v| v.chars().all(|c| c == '\t' || (' '..='~').contains(&c))).and_then(|v| HeaderValue::from_str(v).ok())
        };
        let content_type = value(self.content_type.as_deref().unwrap_or("text/plain; charset=utf-8"))
            .ok_or_else(|| FaultError::Invalid("content_type is not a valid header value".into()))?;
        let headers = self
            .headers
            .iter()
            .map(|(k, v)| {
                let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| FaultError::Invalid(format!("`{k}` is not a header name")))?;
                let v = value(v).ok_or_else(|| FaultError::Invalid(format!("the value of `{k}` is not a header value")))?;
                Ok((name, v))
            })
            .collect::<Result<Vec<_>, FaultError>>()?;
        Ok(Action::Status { status, body, content_type, headers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> Result<Checked, FaultError> {
        serde_json::from_value::<FaultSpec>(json).expect("shape").check()
    }

    #[test]
    fn a_rule_alone_is_a_documented_error_hitting_once() {
        let c = spec(serde_json::json!({"endpoint": "/pos/pairing-code", "rule": "PAIR-08"})).expect("valid");
        assert_eq!(c.action.kind(), "error");
        assert_eq!((c.remaining, c.spec.rule.as_deref(), c.spec.kind.as_deref()), (Some(1), Some("PAIR-08"), Some("error")));
    }

    #[test]
    fn fields_of_another_kind_are_refused() {
        let err = spec(serde_json::json!({"kind": "reset", "status": 503})).expect_err("refused");
        assert_eq!(err, FaultError::NotApplicable { field: "status", kind: "reset".into() });
        assert!(matches!(spec(serde_json::json!({"kind": "error", "rule": "PAIR-08"})), Err(FaultError::ErrorNeedsRuleAndEndpoint)));
        assert!(matches!(spec(serde_json::json!({"kind": "latency"})), Err(FaultError::Invalid(_))));
        let reversed = spec(serde_json::json!({"kind": "latency", "min_ms": 5, "max_ms": 1})).expect("valid").action;
        assert_eq!(reversed, Action::Latency { min: Duration::from_millis(1), max: Duration::from_millis(5) });
        assert!(matches!(spec(serde_json::json!({"kind": "Reset"})), Err(FaultError::UnknownKind(_))));
        assert!(matches!(spec(serde_json::json!({"kind": "hang", "max_ms": 700_000})), Err(FaultError::Invalid(_))));
        assert!(matches!(spec(serde_json::json!({"kind": "teleport"})), Err(FaultError::UnknownKind(_))));
    }

    #[test]
    fn scope_by_step_endpoint_and_device() {
        let c = spec(serde_json::json!({"kind": "reset", "step": 7, "device_id": "POS-00000001"})).expect("valid");
        assert!(c.scope.matches("/pos/terminal-parameters", Some("POS-00000001")));
        assert!(!c.scope.matches("/pos/terminal-parameters", Some("POS-00000002")));
        assert!(!c.scope.matches("/pos/keys", Some("POS-00000001")));
        let all = spec(serde_json::json!({"kind": "truncate"})).expect("valid");
        assert!(all.scope.matches("/auth/token", None) && !all.scope.matches("/_sim/clock", None));
        assert!(!all.scope.matches("/health/live", None) && FAULTABLE.len() == 21);
        // Kustom's templated routes match one segment for `{id}`.
        let kustom = spec(serde_json::json!({"kind": "reset", "endpoint": "/ipp/v1/devices/{id}"})).expect("valid");
        assert!(kustom.scope.matches("/ipp/v1/devices/0cb1e29c-658c-4a14-95e6-0af593bd04cf", None));
        assert!(!kustom.scope.matches("/ipp/v1/devices", None) && !kustom.scope.matches("/ipp/v1/devices/a/b", None));
        assert!(all.scope.matches("/ipp/v1/enrollments/x", None), "every endpoint includes Kustom's");
        assert!(matches!(spec(serde_json::json!({"kind": "reset", "step": 9})), Err(FaultError::UnknownStep)));
        assert!(matches!(
            spec(serde_json::json!({"kind": "reset", "step": 2, "endpoint": "/pos/status"})),
            Err(FaultError::EndpointNotInStep { .. })
        ));
        assert!(matches!(spec(serde_json::json!({"kind": "reset", "endpoint": "/_sim/faults"})), Err(FaultError::UnknownEndpoint(_))));
    }

    #[test]
    fn a_probability_without_count_is_unlimited() {
        let c = spec(serde_json::json!({"kind": "status", "status": 503, "probability": 0.5})).expect("valid");
        assert_eq!(c.remaining, None);
        assert!(matches!(spec(serde_json::json!({"kind": "reset", "probability": 0.0})), Err(FaultError::BadProbability)));
        assert!(matches!(spec(serde_json::json!({"kind": "reset", "count": 0})), Err(FaultError::ZeroCount)));
        let Action::Status { body, content_type, .. } = spec(serde_json::json!({"kind": "status", "status": 502})).expect("valid").action
        else {
            unreachable!()
        };
        assert_eq!((body.as_str(), content_type.to_str().ok()), ("502 Bad Gateway\n", Some("text/plain; charset=utf-8")));
    }
}
