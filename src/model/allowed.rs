//! Predictions as data: every answer the spec allows for one request, each tagged with the rule
//! that allows it and how. The simulator's own answer comes first; a response that matches no
//! alternative breaks the expectation's rule.

use std::sync::Arc;

use serde_json::Value;

use crate::exchange::Exchange;

#[derive(Clone, Debug, PartialEq)]
pub enum StatusMatch {
    Exact(u16),
    OneOf(&'static [u16]),
    /// Any 4xx with the error envelope.
    AnyRefusal,
}

/// One shape of response: status, error code(s), message and the fields it must carry.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// What this answer means, for the model's update (`"success"`, `"expired"`, …).
    pub label: &'static str,
    pub status: StatusMatch,
    /// Accepted `error.code` values (any when empty).
    pub codes: Vec<&'static str>,
    pub message: Option<&'static str>,
    /// Fields the body (or `error.details` for errors) must have with these values. Shared: a
    /// status poll's expected reading is one of a few, built once ([`Outcome::ok_shared`]).
    pub fields: Option<Arc<Value>>,
}

impl Outcome {
    pub fn ok(label: &'static str, fields: Option<Value>) -> Self {
        Outcome { label, status: StatusMatch::Exact(200), codes: Vec::new(), message: None, fields: fields.map(Arc::new) }
    }

    /// [`Outcome::ok`] with fields built once and shared.
    pub fn ok_shared(label: &'static str, fields: Arc<Value>) -> Self {
        Outcome { label, status: StatusMatch::Exact(200), codes: Vec::new(), message: None, fields: Some(fields) }
    }

    pub fn error(label: &'static str, status: u16, code: &'static str, message: &'static str) -> Self {
        Outcome { label, status: StatusMatch::Exact(status), codes: vec![code], message: Some(message), fields: None }
    }

    pub fn refusal(label: &'static str) -> Self {
        Outcome { label, status: StatusMatch::AnyRefusal, codes: Vec::new(), message: None, fields: None }
    }

    pub fn with_fields(mut self, fields: Value) -> Self {
        self.fields = Some(Arc::new(fields));
        self
    }

    pub fn matches(&self, ex: &Exchange) -> bool {
        self.matches_body(ex.status, &ex.json().unwrap_or(Value::Null))
    }

    /// [`Outcome::matches`] on an answer whose body is already parsed (`Null` when it is not
    /// JSON): one parse serves every alternative.
    fn matches_body(&self, status: Option<u16>, body: &Value) -> bool {
        let Some(status) = status else { return false };
        let status_ok = match &self.status {
            StatusMatch::Exact(s) => status == *s,
            StatusMatch::OneOf(list) => list.contains(&status),
            StatusMatch::AnyRefusal => (400..500).contains(&status) && body["error"].is_object(),
        };
        let error = &body["error"];
        let code_ok = self.codes.is_empty() || self.codes.iter().any(|c| error["code"].as_str() == Some(c));
        let message_ok = self.message.is_none_or(|m| error["message"].as_str() == Some(m));
        let holder = if status >= 400 { &error["details"] } else { body };
        let fields_ok = self.fields.as_deref().and_then(Value::as_object).is_none_or(|want| want.iter().all(|(k, v)| &holder[k] == v));
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

/// Why an answer is acceptable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// The simulator's own answer: nothing to report.
    Choice,
    /// Conforming, but not what the SIMULATOR rule named here fixes: an advisory under that rule.
    Differs(&'static str),
    /// Conforming under the rule named here, which lists several answers as conforming or leaves
    /// the behaviour UNKNOWN: no finding at all.
    Permitted(&'static str),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Alternative {
    pub outcome: Outcome,
    pub basis: Basis,
}

/// Everything one request may answer.
#[derive(Clone, Debug)]
pub struct Expect {
    /// The rule a response outside every alternative breaks.
    pub rule: &'static str,
    /// In order of preference: the first that matches judges the response.
    pub alternatives: Vec<Alternative>,
}

impl Expect {
    /// Exactly one acceptable answer, which is also the simulator's.
    pub fn only(rule: &'static str, outcome: Outcome) -> Self {
        Expect { rule, alternatives: vec![Alternative { outcome, basis: Basis::Choice }] }
    }

    /// Adds an answer a SIMULATOR rule does not choose but the spec allows (an advisory).
    pub fn or_differs(mut self, outcome: Outcome, rule: &'static str) -> Self {
        self.alternatives.push(Alternative { outcome, basis: Basis::Differs(rule) });
        self
    }

    /// Adds an answer the spec permits outright (a listed alternative, or an UNKNOWN rule).
    pub fn or_permitted(mut self, outcome: Outcome, rule: &'static str) -> Self {
        self.alternatives.push(Alternative { outcome, basis: Basis::Permitted(rule) });
        self
    }

    /// The simulator's answer.
    pub fn choice(&self) -> Option<&Outcome> {
        self.alternatives.iter().find(|a| a.basis == Basis::Choice).map(|a| &a.outcome)
    }

    pub fn describe(&self) -> String {
        self.alternatives.iter().map(|a| a.outcome.describe()).collect::<Vec<_>>().join(", or ")
    }
}

/// The verdict on one response.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The simulator's own answer.
    Choice { label: &'static str },
    /// Conforming, on another branch than the simulator's: `advisory` when it differs from a
    /// SIMULATOR rule, not when the rule permits it outright. Later checks that assumed the
    /// simulator's branch no longer apply.
    Alternative { label: &'static str, rule: &'static str, advisory: bool, message: String },
    /// Outside the spec.
    Broken { rule: &'static str, message: String },
}

impl Verdict {
    /// The label of the branch the target took (`"unexpected"` when it broke the rule).
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Choice { label } | Verdict::Alternative { label, .. } => label,
            Verdict::Broken { .. } => "unexpected",
        }
    }
}

pub fn judge(expect: &Expect, ex: &Exchange) -> Verdict {
    judge_parsed(expect, ex, &ex.json().unwrap_or(Value::Null))
}

/// [`judge`] on an answer whose body the caller has parsed (`Null` when it is not JSON).
pub fn judge_parsed(expect: &Expect, ex: &Exchange, body: &Value) -> Verdict {
    match expect.alternatives.iter().find(|a| a.outcome.matches_body(ex.status, body)) {
        None => Verdict::Broken { rule: expect.rule, message: format!("expected {}; got {}", expect.describe(), ex.excerpt()) },
        Some(Alternative { outcome, basis: Basis::Choice }) => Verdict::Choice { label: outcome.label },
        Some(Alternative { outcome, basis: basis @ (Basis::Differs(rule) | Basis::Permitted(rule)) }) => {
            let advisory = matches!(basis, Basis::Differs(_));
            let simulator = expect.choice().map_or_else(|| "-".to_owned(), Outcome::describe);
            let message = format!("the simulator answers {simulator}; got {}", ex.excerpt());
            Verdict::Alternative { label: outcome.label, rule, advisory, message }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(status: u16, body: &str) -> Exchange {
        Exchange {
            method: "POST".into(),
            url: "http://t/pos/claim".into(),
            request_headers: Vec::new(),
            request_body: None,
            status: Some(status),
            response_headers: Vec::new(),
            response_body: body.into(),
            elapsed_ms: 0,
            transport_error: None,
        }
    }

    #[test]
    fn the_first_matching_alternative_judges() {
        let e = Expect::only("CLAIM-03", Outcome::error("refused", 401, "4010", "Unauthorized"))
            .or_differs(Outcome { status: StatusMatch::OneOf(&[401, 403]), ..Outcome::refusal("refused") }, "CLAIM-04");
        let env = |code: &str, m: &str| format!(r#"{{"error":{{"code":"{code}","message":"{m}","trace_id":"t"}}}}"#);
        assert_eq!(judge(&e, &exchange(401, &env("4010", "Unauthorized"))), Verdict::Choice { label: "refused" });
        assert!(matches!(
            judge(&e, &exchange(403, &env("4030", "Forbidden"))),
            Verdict::Alternative { rule: "CLAIM-04", advisory: true, .. }
        ));
        assert!(matches!(judge(&e, &exchange(200, "{}")), Verdict::Broken { rule: "CLAIM-03", .. }));
        let p = Expect::only("CODE-04", Outcome::error("superseded", 400, "4004", "Pairing code not found"))
            .or_permitted(Outcome { codes: vec!["4004", "4220"], message: None, ..Outcome::refusal("superseded") }, "PAIR-05");
        assert!(matches!(
            judge(&p, &exchange(400, &env("4220", "Pairing code has expired"))),
            Verdict::Alternative { rule: "PAIR-05", advisory: false, .. }
        ));
    }
}
