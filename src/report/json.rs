//! The JSON report: the rule matrix and every scenario, each finding with its request, response
//! and a curl command that reproduces it.

use serde_json::{Value, json};

use super::Report;

pub fn to_json(report: &Report) -> Value {
    let mut value = serde_json::to_value(report).unwrap_or(Value::Null);
    value["rules_doc"] = json!(crate::catalogue::RULES_DOC);
    // Add the replay command next to every finding's exchange.
    if let Some(scenarios) = value["scenarios"].as_array_mut() {
        for (s, original) in scenarios.iter_mut().zip(&report.scenarios) {
            if let Some(findings) = s["findings"].as_array_mut() {
                for (f, of) in findings.iter_mut().zip(&original.findings) {
                    if let Some(ex) = &of.exchange {
                        f["curl"] = json!(ex.curl());
                    }
                }
            }
        }
    }
    value
}
