//! Pacing, judged on the system clock only (TIME-03): status polls 3–5 s apart while pending
//! (CLI-05, each gap from when the previous answer reached the client), and a pause of at least 1 s before retrying a failed request (CLI-17).

use time::Duration;

use super::history::{History, answered_at, failed, received_ok};
use super::{Context, Finding, Judged};

const TOO_FAST: Duration = Duration::milliseconds(2500);
const TOO_SLOW: Duration = Duration::seconds(10);
const RETRY_PAUSE: Duration = Duration::seconds(1);

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_seconds_f64())
}

pub(crate) fn cli_05(h: &History<'_>, ctx: &Context<'_>) -> Judged {
    if let Some(off) = ctx.pacing_off {
        return Judged::not_judged(off);
    }
    let mut looked = 0;
    let mut findings = Vec::new();
    let mut pending = None;
    for e in h.entries.iter().copied() {
        match e.path.as_ref() {
            // A restart or a new code starts a new polling run.
            "/pos/bootstrap" | "/pos/pairing-code" => pending = None,
            "/pos/status" => {
                if let Some(prev) = pending {
                    looked += 1;
                    // From when the previous answer reached the client: a poll 5 s after an
                    // answer the network (an injected latency or dribble) held for 8 s is on time.
                    let gap = e.time - answered_at(prev);
                    if gap < TOO_FAST {
                        findings.push((format!("too fast: {} between status polls while pending (3-5 s expected)", secs(gap)), e));
                    } else if gap > TOO_SLOW {
                        findings.push((format!("too slow: {} between status polls while pending (3-5 s expected)", secs(gap)), e));
                    }
                }
                pending = (received_ok(e) && e.client.pairing_code_status == Some("pending")).then_some(e);
            }
            _ => {}
        }
    }
    let findings = group(findings);
    Judged::of(findings, looked, "no two consecutive status polls while a code was pending")
}

/// One finding per kind of message (too fast, too slow), every poll as evidence.
fn group(items: Vec<(String, &crate::journal::JournalEntry)>) -> Vec<Finding> {
    let mut out: Vec<(String, Vec<&crate::journal::JournalEntry>)> = Vec::new();
    for (message, e) in items {
        let kind = message.split(':').next().unwrap_or_default().to_owned();
        match out.iter_mut().find(|(m, _)| m.split(':').next() == Some(kind.as_str())) {
            Some((_, entries)) => entries.push(e),
            None => out.push((message, vec![e])),
        }
    }
    out.into_iter()
        .map(|(message, entries)| {
            let message = if entries.len() > 1 { format!("{message} (first of {} such polls)", entries.len()) } else { message };
            Finding::new(message, &entries)
        })
        .collect()
}

pub(crate) fn cli_17(h: &History<'_>, ctx: &Context<'_>) -> Judged {
    if let Some(off) = ctx.pacing_off {
        return Judged::not_judged(off);
    }
    let mut looked = 0;
    let mut findings = Vec::new();
    for (i, f) in h.entries.iter().copied().enumerate().filter(|(_, e)| failed(e)) {
        let Some(retry) = h.entries[i + 1..].iter().copied().find(|e| e.path == f.path) else { continue };
        looked += 1;
        let pause = retry.time - answered_at(f);
        if pause < RETRY_PAUSE {
            findings.push(Finding::new(
                format!("retried {} {} after {} (at least 1 s expected)", retry.method, retry.path, secs(pause)),
                &[f, retry],
            ));
        }
    }
    Judged::of(findings, looked, "no retry after a 5xx or a dropped connection")
}
