//! Steps 5–8 as the device walks them: order (CLI-09), attest headers (CLI-10…CLI-12),
//! attestation auth (CLI-13, CLI-14) and the activate body (CLI-15).

use std::collections::HashMap;

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::history::{History, TOKEN_LIFE, describe, received_ok};
use super::pairing::history_gone;
use super::{Context, Finding, Judged};
use crate::journal::JournalEntry;

/// ATT-04: at most 5 minutes before and 1 minute after server time.
const WINDOW_PAST: Duration = Duration::seconds(300);
const WINDOW_FUTURE: Duration = Duration::seconds(60);

/// CLI-09: each step's endpoint and the 200 that must come before its first request.
const ORDER: [(&str, &str, &str); 5] = [
    ("/pos/attest", "/pos/status", "a status 200 with is_claimed true"),
    ("/pos/keys", "/pos/attest", "an attest 200"),
    ("/pos/config", "/pos/keys", "a keys 200"),
    ("/pos/terminal-parameters", "/pos/config", "a config 200"),
    ("/pos/activate", "/pos/terminal-parameters", "a terminal-parameters 200"),
];

pub(crate) fn cli_09(h: &History<'_>, ctx: &Context<'_>) -> Judged {
    if let Some(gone) = history_gone(ctx) {
        return gone;
    }
    let mut looked = 0;
    let mut findings = Vec::new();
    for (endpoint, before, what) in ORDER {
        let Some((i, first)) = h.to(endpoint).next() else { continue };
        looked += 1;
        let ready = h.entries[..i]
            .iter()
            .any(|e| e.path == before && received_ok(e) && (before != "/pos/status" || e.client.is_claimed == Some(true)));
        if !ready {
            findings.push(Finding::new(format!("the first {endpoint} request came before {what}"), &[first]));
        }
    }
    Judged::of(findings, looked, "no request of steps 5-8")
}

fn attests<'a>(h: &'a History<'_>) -> Vec<&'a JournalEntry> {
    h.to("/pos/attest").map(|(_, e)| e).collect()
}

/// One finding per entry answered with one of `rules`.
fn answered_with(entries: &[&JournalEntry], rules: &[&str], what: &str) -> Vec<Finding> {
    entries
        .iter()
        .filter(|e| e.rule.is_some_and(|r| rules.contains(&r)))
        .map(|e| Finding::new(format!("{what}: {}", describe(e)), &[e]))
        .collect()
}

pub(crate) fn cli_10(h: &History<'_>) -> Judged {
    let attests = attests(h);
    let mut findings = answered_with(&attests, &["ATT-24", "ATT-25", "ATT-31"], "attest refused for its X-Timestamp");
    for e in attests.iter().copied().filter(|e| !e.rule.is_some_and(|r| ["ATT-24", "ATT-25", "ATT-31"].contains(&r))) {
        let Some(raw) = e.client.x_timestamp.as_deref() else { continue };
        let problem = match OffsetDateTime::parse(raw, &Rfc3339) {
            Err(_) => Some(format!("X-Timestamp `{raw}` is not RFC 3339")),
            Ok(_) if !(raw.ends_with('Z') || raw.ends_with("+00:00")) => Some(format!("X-Timestamp `{raw}` is not UTC (Z or +00:00)")),
            Ok(t) if t < e.time - WINDOW_PAST || t > e.time + WINDOW_FUTURE => {
                Some(format!("X-Timestamp `{raw}` is {} s from the receipt time (window -300 s to +60 s)", (t - e.time).whole_seconds()))
            }
            Ok(_) => None,
        };
        if let Some(problem) = problem {
            findings.push(Finding::new(problem, &[e]));
        }
    }
    Judged::of(findings, attests.len(), "no attest request")
}

fn nonce_ok(n: &str) -> bool {
    n.len() >= 12 && n.bytes().all(|b| b.is_ascii_alphanumeric())
}

pub(crate) fn cli_11(h: &History<'_>) -> Judged {
    let attests = attests(h);
    let mut findings = answered_with(&attests, &["ATT-26", "ATT-27", "ATT-32"], "attest refused for its X-Nonce");
    let mut seen: HashMap<&str, &JournalEntry> = HashMap::new();
    for e in attests.iter().copied() {
        let Some(nonce) = e.client.x_nonce.as_deref() else { continue };
        if !nonce_ok(nonce) && e.rule.is_none_or(|r| r != "ATT-27") {
            findings.push(Finding::new(format!("X-Nonce `{nonce}` is not 12 or more ASCII letters and digits"), &[e]));
        }
        match seen.get(nonce) {
            Some(first) if e.rule.is_none_or(|r| r != "ATT-32") => {
                findings.push(Finding::new(format!("X-Nonce `{nonce}` was used before"), &[first, e]));
            }
            Some(_) => {}
            None => {
                seen.insert(nonce, e);
            }
        }
    }
    Judged::of(findings, attests.len(), "no attest request")
}

pub(crate) fn cli_12(h: &History<'_>) -> Judged {
    let attests = attests(h);
    let findings =
        answered_with(&attests, &["ATT-22", "ATT-23", "ATT-28", "ATT-29", "ATT-30", "ATT-33"], "attest refused for its key or signature");
    Judged::of(findings, attests.len(), "no attest request")
}

fn attested<'a>(h: &'a History<'_>) -> Vec<&'a JournalEntry> {
    h.entries.iter().copied().filter(|e| super::history::attested(&e.path)).collect()
}

/// The carried token had expired when the request arrived (by the journal's attest 200).
fn expired(e: &JournalEntry, ctx: &Context<'_>) -> Option<Duration> {
    let issued = ctx.tokens.get(&e.client.token_id?)?;
    let age = e.time - *issued;
    (age >= TOKEN_LIFE).then_some(age)
}

pub(crate) fn cli_13(h: &History<'_>, ctx: &Context<'_>) -> Judged {
    let requests = attested(h);
    let mut findings = answered_with(&requests, &["ATT-39", "ATT-40", "ATT-41"], "refused by attestation auth");
    for e in requests.iter().copied().filter(|e| e.rule == Some("ATT-38") && expired(e, ctx).is_none()) {
        let why = if e.client.token_id.is_none() { "no Attestation token" } else { "a token the simulator never issued" };
        findings.push(Finding::new(format!("refused with ATT-38 for {why}: {}", describe(e)), &[e]));
    }
    Judged::of(findings, requests.len(), "no keys, config, terminal-parameters or activate request")
}

pub(crate) fn cli_14(h: &History<'_>, ctx: &Context<'_>) -> Judged {
    let requests = attested(h);
    let findings = requests
        .iter()
        .filter_map(|e| expired(e, ctx).map(|age| (e, age)))
        .map(|(e, age)| {
            Finding::new(format!("used a token {} s after its issue (it lives 300 s): {}", age.whole_seconds(), describe(e)), &[e])
        })
        .collect();
    let with_known_token = requests.iter().filter(|e| e.client.token_id.is_some_and(|t| ctx.tokens.contains_key(&t))).count();
    Judged::of(findings, with_known_token, "no request carrying a token issued in the journal")
}

pub(crate) fn cli_15(h: &History<'_>) -> Judged {
    let activates: Vec<&JournalEntry> = h.to("/pos/activate").map(|(_, e)| e).collect();
    let findings = answered_with(&activates, &["MSK-09", "ACT-06"], "activate body refused");
    Judged::of(findings, activates.len(), "no activate request")
}
