//! What holds for every response, whatever was asked: its schema, the trace-id header, no 5xx
//! but PAIR-08's. Scenarios and the fuzzer both run every exchange through here.

use crate::client::ApiRequest;
use crate::exchange::Exchange;
use crate::schema::Schemas;

/// The broken rules on one exchange as (rule, message), and notes that are not rule verdicts. A
/// missing response is neither: callers report it as an error of the run.
pub fn exchange_findings(schemas: &Schemas, req: &ApiRequest, ex: &Exchange) -> (Vec<(String, String)>, Vec<String>) {
    let Some(status) = ex.status else { return (Vec::new(), Vec::new()) };
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let parsed = crate::json::parse(&ex.response_body);
    if let Some(note) = parsed.as_ref().and_then(|p| p.not_ijson.clone()) {
        notes.push(format!("{note} ({} {})", req.method, req.path));
    }
    for v in schemas.check(&req.method, &req.path, status, &ex.response_body) {
        let at = if v.pointer.is_empty() { "/" } else { &v.pointer };
        out.push((v.rule, format!("response does not match {} at `{at}`: {}", v.schema, v.message)));
    }
    // ERR-08: X-Trace-Id on every response; on errors equal to error.trace_id.
    let body = parsed.map(|p| p.value);
    let header = ex.header("x-trace-id");
    let body_trace = body.as_ref().and_then(|v| v["error"]["trace_id"].as_str());
    match (header, status >= 400) {
        (None, _) => out.push(("ERR-08".into(), "no X-Trace-Id header".into())),
        (Some(h), true) if body_trace.is_some_and(|t| t != h) => {
            out.push(("ERR-08".into(), format!("X-Trace-Id `{h}` differs from error.trace_id `{}`", body_trace.unwrap_or_default())))
        }
        _ => {}
    }
    // ERR-12: the only 5xx is PAIR-08's.
    let code = body.as_ref().and_then(|v| v["error"]["code"].as_str());
    if status >= 500 && !(status == 500 && code == Some("5000") && req.path == "/pos/pairing-code") {
        out.push(("ERR-12".into(), format!("got {status}: the only 5xx allowed is PAIR-08's 500 \"5000\"")));
    }
    (out, notes)
}
