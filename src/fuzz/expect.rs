//! Predictions as data: the set of responses the spec accepts (REQUIRED), and among them the
//! one the simulator gives (SIMULATOR). A response outside the set fails; one inside it but not
//! the simulator's is an advisory.

use serde_json::Value;

use crate::exchange::Exchange;

#[derive(Clone, Debug, PartialEq)]
pub enum StatusMatch {
    Exact(u16),
    OneOf(&'static [u16]),
    /// Any 4xx with the error envelope.
    AnyRefusal,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// What this alternative means, for the oracle's update (`"success"`, `"expired"`, …).
    pub label: &'static str,
    pub status: StatusMatch,
    /// Accepted `error.code` values (any when empty).
    pub codes: Vec<&'static str>,
    pub message: Option<&'static str>,
    /// Fields the body (or `error.details` for errors) must have with these values.
    pub fields: Option<Value>,
}

impl Outcome {
    pub fn ok(label: &'static str, fields: Option<Value>) -> Self {
        Outcome { label, status: StatusMatch::Exact(200), codes: Vec::new(), message: None, fields }
    }

    pub fn error(label: &'static str, status: u16, code: &'static str, message: &'static str) -> Self {
        Outcome { label, status: StatusMatch::Exact(status), codes: vec![code], message: Some(message), fields: None }
    }

    pub fn refusal(label: &'static str) -> Self {
        Outcome { label, status: StatusMatch::AnyRefusal, codes: Vec::new(), message: None, fields: None }
    }

    pub fn with_fields(mut self, fields: Value) -> Self {
        self.fields = Some(fields);
        self
    }

    pub fn matches(&self, ex: &Exchange) -> bool {
        let Some(status) = ex.status else { return false };
        let body = ex.json().unwrap_or(Value::Null);
        let status_ok = match &self.status {
            StatusMatch::Exact(s) => status == *s,
            StatusMatch::OneOf(list) => list.contains(&status),
            StatusMatch::AnyRefusal => (400..500).contains(&status) && body["error"].is_object(),
        };
        let error = &body["error"];
        let code_ok = self.codes.is_empty() || self.codes.iter().any(|c| error["code"].as_str() == Some(c));
        let message_ok = self.message.is_none_or(|m| error["message"].as_str() == Some(m));
        let holder = if status >= 400 { &error["details"] } else { &body };
        let fields_ok = self.fields.as_ref().and_then(Value::as_object).is_none_or(|want| want.iter().all(|(k, v)| &holder[k] == v));
        status_ok && code_ok && message_ok && fields_ok
    }

    /// `400 "4220" "Pairing code has expired"`, `200 {"pairing_code_status":"pending"}`.
    pub fn describe(&self) -> String {
        let status = match &self.status {
            StatusMatch::Exact(s) => s.to_string(),
            StatusMatch::OneOf(list) => list.iter().map(u16::to_string).collect::<Vec<_>>().join(" or "),
            StatusMatch::AnyRefusal => "a 4xx refusal".into(),
        };
        let mut out = status;
        if !self.codes.is_empty() {
            out.push_str(&format!(" {}", self.codes.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(" or ")));
        }
        if let Some(m) = self.message {
            out.push_str(&format!(" \"{m}\""));
        }
        if let Some(f) = &self.fields {
            out.push_str(&format!(" {f}"));
        }
        out
    }
}

/// What one request may answer.
#[derive(Clone, Debug)]
pub struct Expect {
    /// The rule a response outside `required` breaks.
    pub rule: &'static str,
    pub required: Vec<Outcome>,
    /// The simulator's answer and the SIMULATOR rule that fixes it, where the spec allows more.
    pub preferred: Option<(Outcome, &'static str)>,
}

impl Expect {
    pub fn only(rule: &'static str, outcome: Outcome) -> Self {
        Expect { rule, required: vec![outcome], preferred: None }
    }

    pub fn prefer(mut self, outcome: Outcome, rule: &'static str) -> Self {
        self.preferred = Some((outcome, rule));
        self
    }

    pub fn describe(&self) -> String {
        self.required.iter().map(Outcome::describe).collect::<Vec<_>>().join(", or ")
    }
}

/// The verdict on one response.
#[derive(Debug, Clone)]
pub enum Judged {
    /// Within the spec; the label of the alternative it matched, and a SIMULATOR difference if any.
    Accepted { label: &'static str, advisory: Option<(&'static str, String)> },
    /// Outside the spec.
    Broken { rule: &'static str, message: String },
}

pub fn judge(expect: &Expect, ex: &Exchange) -> Judged {
    let got = ex.excerpt();
    match expect.required.iter().find(|o| o.matches(ex)) {
        None => Judged::Broken { rule: expect.rule, message: format!("expected {}; got {got}", expect.describe()) },
        Some(o) => {
            let advisory = expect
                .preferred
                .as_ref()
                .filter(|(p, _)| !p.matches(ex))
                .map(|(p, rule)| (*rule, format!("the simulator answers {}; got {got}", p.describe())));
            Judged::Accepted { label: o.label, advisory }
        }
    }
}
