//! What holds for every response, whatever was asked: its schema, the trace-id header, no 5xx
//! but PAIR-08's. Scenarios and the fuzzer both run every exchange through here.

use crate::catalogue::Catalogue;
use crate::client::ApiRequest;
use crate::exchange::Exchange;
use crate::schema::Schemas;
use crate::verdict::Finding;

/// The findings on one exchange. A missing response is not a finding: callers report it as an
/// error of the run.
pub fn exchange_findings(schemas: &Schemas, catalogue: &Catalogue, req: &ApiRequest, ex: &Exchange) -> Vec<Finding> {
    let Some(status) = ex.status else { return Vec::new() };
    let mut out = Vec::new();
    let mut add = |rule: &str, message: String| {
        out.push(Finding::new(catalogue, rule, message, Some(ex)));
    };
    for v in schemas.check(&req.method, &req.path, status, &ex.response_body) {
        let at = if v.pointer.is_empty() { "/" } else { &v.pointer };
        add(&v.rule, format!("response does not match {} at `{at}`: {}", v.schema, v.message));
    }
    // ERR-08: X-Trace-Id on every response; on errors equal to error.trace_id.
    let header = ex.header("x-trace-id").map(str::to_owned);
    let body_trace = ex.json().and_then(|v| v["error"]["trace_id"].as_str().map(str::to_owned));
    match (&header, status >= 400) {
        (None, _) => add("ERR-08", "no X-Trace-Id header".into()),
        (Some(h), true) if body_trace.as_deref().is_some_and(|t| t != h) => {
            add("ERR-08", format!("X-Trace-Id `{h}` differs from error.trace_id `{}`", body_trace.unwrap_or_default()))
        }
        _ => {}
    }
    // ERR-12: the only 5xx is PAIR-08's.
    let code = ex.json().and_then(|v| v["error"]["code"].as_str().map(str::to_owned));
    if status >= 500 && !(status == 500 && code.as_deref() == Some("5000") && req.path == "/pos/pairing-code") {
        add("ERR-12", format!("got {status}: the only 5xx allowed is PAIR-08's 500 \"5000\""));
    }
    out
}
