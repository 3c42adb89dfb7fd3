//! Steps 1–4 as the device walks them: bootstrap first (CLI-04), stop polling once claimed
//! (CLI-06), a new code after expiry (CLI-07), no new code while one is pending (CLI-08).

use time::Duration;

use super::history::{History, failed, received_ok};
use super::{Context, Finding, Judged};
use crate::journal::JournalEntry;

/// TIME-01: a pairing code lives 300 s.
const CODE_LIFE: Duration = Duration::seconds(300);

/// Rules that read the device's first requests cannot be judged once the ring dropped entries.
pub(crate) fn history_gone(ctx: &Context<'_>) -> Option<Judged> {
    (ctx.dropped > 0).then(|| {
        Judged::not_judged(format!(
            "the journal ring dropped {} exchange(s), so the device's early requests may be missing (raise --journal-size)",
            ctx.dropped
        ))
    })
}

pub(crate) fn cli_04(h: &History<'_>, ctx: &Context<'_>) -> Judged {
    if let Some(gone) = history_gone(ctx) {
        return gone;
    }
    let mut findings = Vec::new();
    if let Some(first) = h.entries.first()
        && first.path != "/pos/bootstrap"
    {
        findings.push(Finding::new(
            format!("the device's first request was {} {}, not POST /pos/bootstrap", first.method, first.path),
            &[first],
        ));
    }
    if let Some((i, pairing)) = h.to("/pos/pairing-code").next()
        && !h.entries[..i].iter().any(|e| e.path == "/pos/bootstrap" && received_ok(e))
    {
        findings.push(Finding::new("the device requested a pairing code before any bootstrap 200", &[pairing]));
    }
    Judged::Findings(findings)
}

/// After a status 200 matching `told`, the device's next request (bootstrap aside) must be to
/// `then`.
fn next_must_be(h: &History<'_>, told: fn(&JournalEntry) -> bool, then: &str, what: &str) -> Judged {
    let mut looked = 0;
    let mut findings = Vec::new();
    for (i, status) in h.to("/pos/status").filter(|(_, e)| received_ok(e) && told(e)) {
        looked += 1;
        if let Some(next) = h.next_after(i)
            && next.path != then
        {
            findings.push(Finding::new(
                format!("after status read {what}, the next request was {} {}, not {then}", next.method, next.path),
                &[status, next],
            ));
        }
    }
    Judged::of(findings, looked, &format!("no status 200 read {what}"))
}

pub(crate) fn cli_06(h: &History<'_>) -> Judged {
    next_must_be(h, |e| e.client.device_status == Some("claimed"), "/pos/attest", "device_status \"claimed\"")
}

pub(crate) fn cli_07(h: &History<'_>) -> Judged {
    next_must_be(h, |e| e.client.pairing_code_status == Some("expired"), "/pos/pairing-code", "pairing_code_status \"expired\"")
}

pub(crate) fn cli_08(h: &History<'_>) -> Judged {
    let mut looked = 0;
    let mut findings = Vec::new();
    let mut last_issue: Option<(usize, &JournalEntry)> = None;
    // A reason for a new code the rule accepts: a restart (bootstrap) after a code was issued, or
    // a pairing-code request whose answer never arrived whole. A request that follows one is
    // evidence of conformance, judged as a pass.
    let mut reason = false;
    for (i, e) in h.entries.iter().copied().enumerate() {
        if e.path == "/pos/bootstrap" {
            reason |= last_issue.is_some();
            last_issue = None;
        }
        if e.path != "/pos/pairing-code" {
            continue;
        }
        if let Some((_, issued)) = last_issue {
            looked += 1;
            let age = e.time - issued.time;
            if age < CODE_LIFE {
                findings.push(Finding::new(
                    format!(
                        "a new code was requested {} s after the previous one was issued, with no expiry and no restart between",
                        age.whole_seconds()
                    ),
                    &[issued, e],
                ));
            }
        } else if reason {
            looked += 1;
        }
        reason = lost(e);
        if received_ok(e) {
            last_issue = Some((i, e));
        }
    }
    Judged::of(findings, looked, "no second pairing-code request after a code was issued")
}

/// The answer never reached the client whole: a 5xx, a connection ended early, a damaged body.
fn lost(e: &JournalEntry) -> bool {
    failed(e) || (e.status == Some(200) && !received_ok(e))
}
