//! One device's requests, read from the journal in order, and what the verdict's rules ask of
//! them. Only the POS device endpoints count: a merchant's claim names the device but is not a
//! request the device made.

use std::collections::{BTreeMap, HashMap};

use time::{Duration, OffsetDateTime};

use super::{Finding, Judged, RuleVerdict, rules};
use crate::journal::{JournalDevice, JournalEntry, TokenId};

/// CLI-01's endpoints: those whose requests carry the three POS headers.
pub(crate) fn pos_headers(path: &str) -> bool {
    crate::endpoints::exact(path).is_some_and(|e| e.pos_headers)
}

/// CLI-13's and CLI-14's endpoints: those behind attestation auth.
pub(crate) fn attested(path: &str) -> bool {
    crate::endpoints::exact(path).is_some_and(|e| e.attested)
}

/// ATT-08: an attestation token lives 300 s from issue (the domain's constant).
pub(crate) const TOKEN_LIFE: Duration = crate::domain::TOKEN_TTL;

/// Tokens issued by an attest 200 in the journal: id → issue time.
pub(crate) type Tokens = HashMap<TokenId, OffsetDateTime>;

pub(crate) struct History<'a> {
    pub(crate) device: String,
    pub(crate) entries: Vec<&'a JournalEntry>,
}

pub(crate) struct Split<'a> {
    pub(crate) devices: Vec<History<'a>>,
    /// Device requests that name no device.
    pub(crate) unnamed: Vec<&'a JournalEntry>,
    pub(crate) tokens: Tokens,
}

/// Groups the journal by device. A request without a valid `X-Device-Id` belongs to the device
/// its attestation token was issued to, when the journal shows that; otherwise to no device.
pub(crate) fn split(entries: &[JournalEntry]) -> Split<'_> {
    let mut tokens = Tokens::new();
    let mut owners: HashMap<TokenId, String> = HashMap::new();
    for e in entries.iter().filter(|e| e.path == "/pos/attest" && e.status == Some(200)) {
        if let (Some(token), Some(JournalDevice::Id(id))) = (e.client.token_id, &e.device) {
            tokens.insert(token, e.time);
            owners.insert(token, id.to_string());
        }
    }
    let mut devices: BTreeMap<String, Vec<&JournalEntry>> = BTreeMap::new();
    let mut unnamed = Vec::new();
    for e in entries.iter().filter(|e| crate::endpoints::device_endpoint(&e.path)) {
        let owner = match &e.device {
            Some(JournalDevice::Id(id)) => Some(id.to_string()),
            _ => e.client.token_id.and_then(|t| owners.get(&t).cloned()),
        };
        match owner {
            Some(device) => devices.entry(device).or_default().push(e),
            None => unnamed.push(e),
        }
    }
    Split { devices: devices.into_iter().map(|(device, entries)| History { device, entries }).collect(), unnamed, tokens }
}

/// CLI-01 (and CLI-13 for attestation-auth requests) over the requests that name no device.
pub(crate) fn run_level(unnamed: &[&JournalEntry]) -> Vec<RuleVerdict> {
    let mut out = Vec::new();
    type EndpointSet = fn(&str) -> bool;
    let sets: [(&str, EndpointSet); 2] = [("CLI-01", pos_headers), ("CLI-13", attested)];
    for (id, of) in sets {
        let Some(info) = rules::info(id) else { continue };
        let these: Vec<&JournalEntry> = unnamed.iter().copied().filter(|e| of(&e.path)).collect();
        let judged = if these.is_empty() {
            Judged::not_judged("every request named its device")
        } else {
            let message = format!("{} request(s) named no device (no valid X-Device-Id, no token the journal knows)", these.len());
            Judged::Findings(vec![Finding::new(message, &these)])
        };
        out.push(info.verdict(judged));
    }
    out
}

impl History<'_> {
    /// The device's requests to one endpoint.
    pub(crate) fn to<'s>(&'s self, path: &'s str) -> impl Iterator<Item = (usize, &'s JournalEntry)> + 's {
        self.entries.iter().copied().enumerate().filter(move |(_, e)| e.path == path)
    }

    /// The device's next request after position `i`, bootstrap requests skipped (a restart is
    /// always allowed).
    pub(crate) fn next_after(&self, i: usize) -> Option<&JournalEntry> {
        self.entries[i + 1..].iter().copied().find(|e| e.path != "/pos/bootstrap")
    }
}

/// A 200 the client received in full: not cut short, not made unreadable by a fault.
pub(crate) fn received_ok(e: &JournalEntry) -> bool {
    e.status == Some(200) && e.connection.is_none() && !e.faults.iter().any(|f| f.kind == "malformed")
}

/// The exchange failed the way CLI-17 means: a 5xx, or a connection ended without an answer.
pub(crate) fn failed(e: &JournalEntry) -> bool {
    e.status.is_some_and(|s| s >= 500) || e.connection.is_some()
}

/// When the client could first have known of the failure: receipt plus any delay a fault added.
pub(crate) fn answered_at(e: &JournalEntry) -> OffsetDateTime {
    let delay: u64 = e.faults.iter().filter_map(|f| f.delay_ms).sum();
    e.time + Duration::milliseconds(i64::try_from(delay).unwrap_or(i64::MAX))
}

pub(crate) fn describe(e: &JournalEntry) -> String {
    let answer = match (e.status, e.connection) {
        (_, Some(end)) => {
            format!("connection {}", serde_json::to_value(end).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
        }
        (Some(s), None) => match e.rule {
            Some(rule) => format!("{s} ({rule})"),
            None => s.to_string(),
        },
        (None, None) => "no answer".to_owned(),
    };
    format!("#{} {} {} {} → {}", e.seq, crate::time_fmt::rfc3339(e.time), e.method, e.path, answer)
}
