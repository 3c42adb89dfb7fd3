//! What holds for every response, whatever was asked: its schema, the trace-id header, no 5xx
//! but PAIR-08's. Scenarios and the fuzzer both run every exchange through here.

use crate::client::ApiRequest;
use crate::exchange::Exchange;
use crate::schema::Schemas;

/// The broken rules on one exchange as (rule, message), and notes that are not rule verdicts. A
/// missing response is neither: callers report it as an error of the run.
pub fn exchange_findings(schemas: &Schemas, req: &ApiRequest, ex: &Exchange) -> (Vec<(String, String)>, Vec<String>) {
    exchange_findings_parsed(schemas, req, ex, crate::json::parse(&ex.response_body).as_ref())
}

/// [`exchange_findings`] on an answer whose body the caller has parsed (`None`: not JSON), so that
/// a caller judging the same body parses it once (`load`, per answer).
pub fn exchange_findings_parsed(
    schemas: &Schemas,
    req: &ApiRequest,
    ex: &Exchange,
    parsed: Option<&crate::json::Parsed>,
) -> (Vec<(String, String)>, Vec<String>) {
    let Some(status) = ex.status else { return (Vec::new(), Vec::new()) };
    let mut out = Vec::new();
    let mut notes = Vec::new();
    if let Some(note) = parsed.and_then(|p| p.not_ijson.as_ref()) {
        notes.push(format!("{note} ({} {})", req.method, req.path));
    }
    let body = parsed.map(|p| &p.value);
    for v in schemas.check_parsed(&req.method, &req.path, status, body) {
        let at = if v.pointer.is_empty() { "/" } else { &v.pointer };
        out.push((v.rule, format!("response does not match {} at `{at}`: {}", v.schema, v.message)));
    }
    // ERR-08: X-Trace-Id on every response; on errors equal to error.trace_id.
    let header = ex.header("x-trace-id");
    let body_trace = body.and_then(|v| v["error"]["trace_id"].as_str());
    match (header, status >= 400) {
        (None, _) => out.push(("ERR-08".into(), "no X-Trace-Id header".into())),
        (Some(h), true) if body_trace.is_some_and(|t| t != h) => {
            out.push(("ERR-08".into(), format!("X-Trace-Id `{h}` differs from error.trace_id `{}`", body_trace.unwrap_or_default())))
        }
        _ => {}
    }
    // ERR-12: the only 5xx is PAIR-08's.
    let code = body.and_then(|v| v["error"]["code"].as_str());
    if status >= 500 && !(status == 500 && code == Some("5000") && req.path == "/pos/pairing-code") {
        out.push(("ERR-12".into(), format!("got {status}: the only 5xx allowed is PAIR-08's 500 \"5000\"")));
    }
    (out, notes)
}
