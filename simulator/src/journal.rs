//! The request journal (`GET /_sim/journal`): a ring of the last N exchanges, so a long load run
//! cannot exhaust memory.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;

use axum::http::Method;
use parking_lot::Mutex;
use serde::{Serialize, Serializer};
use time::OffsetDateTime;

use crate::ids::DeviceId;
use crate::trace::TraceId;

/// A request path as the journal keeps it: borrowed for a known route, copied otherwise (a `Uri`
/// from hyper shares the connection's read buffer, and ten thousand of those would pin ten
/// thousand buffers).
/// Known routes are the endpoint table's paths; a path under a template (`{id}`) is copied.
pub(crate) fn route_path(path: &str) -> Cow<'static, str> {
    crate::endpoints::exact(path).map_or_else(|| Cow::Owned(path.to_owned()), |e| Cow::Borrowed(e.path))
}

/// The device of an exchange: a well-formed id kept as its 4 bytes, anything else as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JournalDevice {
    Id(DeviceId),
    Raw(String),
}

impl JournalDevice {
    /// From an `X-Device-Id` header value.
    pub(crate) fn from_header(bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes).ok().and_then(|s| DeviceId::parse(s).ok()) {
            Some(id) => JournalDevice::Id(id),
            None => JournalDevice::Raw(String::from_utf8_lossy(bytes).into_owned()),
        }
    }

    fn matches(&self, wanted: &str) -> bool {
        match self {
            JournalDevice::Id(id) => DeviceId::parse(wanted).is_ok_and(|w| w == *id),
            JournalDevice::Raw(raw) => raw == wanted,
        }
    }
}

impl std::fmt::Display for JournalDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JournalDevice::Id(id) => id.fmt(f),
            JournalDevice::Raw(raw) => f.write_str(raw),
        }
    }
}

impl Serialize for JournalDevice {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

fn rfc3339<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::time_fmt::rfc3339_millis(*t))
}

fn method<S: Serializer>(m: &Method, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.as_str())
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct JournalEntry {
    /// Position in the whole run, so a reader can tell how many entries the ring dropped.
    pub(crate) seq: u64,
    /// Simulator-clock time the request was received; written as RFC 3339 (formatted when read,
    /// not on the request path).
    #[serde(serialize_with = "rfc3339")]
    pub(crate) time: OffsetDateTime,
    #[serde(serialize_with = "method")]
    pub(crate) method: Method,
    /// See [`route_path`].
    pub(crate) path: Cow<'static, str>,
    /// The device the exchange concerns: `X-Device-Id` as sent, or the device behind a claimed code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) device: Option<JournalDevice>,
    /// The status sent; absent when the connection ended without an answer (see `connection`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<u16>,
    /// The error code, for error responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) code: Option<String>,
    /// The rule an error answer implements (a forced one included), e.g. `ATT-32`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rule: Option<&'static str>,
    pub(crate) trace_id: TraceId,
    /// BOOT-08: e.g. an app version older than `min_supported_version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) warning: Option<String>,
    /// What the client-conformance verdict (§5.8) reads about the client.
    #[serde(flatten)]
    pub(crate) client: ClientEvidence,
    /// The faults that hit this exchange.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) faults: Vec<crate::faults::FaultHit>,
    /// How the connection ended when no complete answer reached the client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) connection: Option<ConnectionEnd>,
}

/// A connection the simulator ended without a complete answer (CLI-17 reads these).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ConnectionEnd {
    /// TCP RST, nothing sent.
    Reset,
    /// Held without an answer until the client gave up or the fault's maximum passed.
    NeverAnswered,
    /// The head and part of the body sent, then closed short of `Content-Length`.
    Truncated,
}

/// The request headers and answer fields §5.8's rules read, recorded for the POS endpoints only.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub(crate) struct ClientEvidence {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) user_agent: Option<Text>,
    /// `X-Client-Type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) client_type: Option<Text>,
    /// Attest's `X-Timestamp` as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) x_timestamp: Option<Text>,
    /// Attest's `X-Nonce` as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) x_nonce: Option<Text>,
    /// The `Content-Type` of a request with a body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) content_type: Option<Text>,
    /// The request declared a body (a `Content-Length` above 0, or chunked).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) has_body: bool,
    /// An attestation token, as `sha256:` and 12 hex digits of its hash: on an attest 200 the
    /// token issued, on keys, config, terminal-parameters and activate the token carried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) token_id: Option<TokenId>,
    /// Status 200: the fields CLI-05…CLI-07 read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pairing_code_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) device_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) is_claimed: Option<bool>,
}

/// A header value as the journal keeps it. The same text as a recent entry's (a fleet sends one
/// `User-Agent` a million times) shares that entry's allocation, so recording a status poll
/// allocates nothing for it, and the ring drops nothing but a count when it overwrites it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text(Arc<str>);

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(Arc::from(s))
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl Text {
    /// Whether two values share one allocation (a cheap "same text as last time" for callers
    /// that cache a judgement of it).
    pub(crate) fn same(&self, other: &Text) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// How many recent header values each thread keeps for [`intern`].
const RECENT: usize = 8;

/// A header value as [`Text`] (not UTF-8: lossily), shared with an equal value this thread kept
/// recently.
pub(crate) fn intern(bytes: &[u8]) -> Text {
    thread_local! {
        static KEPT: RefCell<(usize, [Option<Text>; RECENT])> = const { RefCell::new((0, [const { None }; RECENT])) };
    }
    KEPT.with_borrow_mut(|(next, kept)| {
        if let Some(found) = kept.iter().flatten().find(|t| t.0.as_bytes() == bytes) {
            return found.clone();
        }
        let text = Text(Arc::from(String::from_utf8_lossy(bytes)));
        kept[*next] = Some(text.clone());
        *next = (*next + 1) % RECENT;
        text
    })
}

/// A token named without the token: the journal is readable by anyone with the control API, and
/// a live token there would let them act as the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TokenId([u8; 6]);

impl TokenId {
    pub(crate) fn of(token: &str) -> Self {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(token.as_bytes());
        let mut id = [0u8; 6];
        id.copy_from_slice(&digest[..6]);
        TokenId(id)
    }
}

impl std::fmt::Display for TokenId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sha256:{}", hex::encode(self.0))
    }
}

impl Serialize for TokenId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Debug)]
pub(crate) struct Journal {
    capacity: usize,
    inner: Mutex<Ring>,
}

#[derive(Debug, Default)]
struct Ring {
    entries: VecDeque<JournalEntry>,
    next_seq: u64,
}

impl Journal {
    pub(crate) fn new(capacity: usize) -> Self {
        Journal { capacity, inner: Mutex::new(Ring::default()) }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Records an entry; `seq` is assigned here.
    pub(crate) fn record(&self, mut entry: JournalEntry) {
        if self.capacity == 0 {
            return;
        }
        let mut ring = self.inner.lock();
        entry.seq = ring.next_seq;
        ring.next_seq += 1;
        if ring.entries.len() == self.capacity {
            ring.entries.pop_front();
        }
        ring.entries.push_back(entry);
    }

    /// Entries oldest first, optionally for one device, at most `limit` of the newest.
    pub(crate) fn entries(&self, device: Option<&str>, limit: Option<usize>) -> (Vec<JournalEntry>, u64) {
        let ring = self.inner.lock();
        let mut picked: Vec<JournalEntry> = ring
            .entries
            .iter()
            .rev()
            .filter(|e| device.is_none_or(|d| e.device.as_ref().is_some_and(|dev| dev.matches(d))))
            .take(limit.unwrap_or(usize::MAX))
            .cloned()
            .collect();
        picked.reverse();
        (picked, ring.next_seq)
    }

    pub(crate) fn clear(&self) {
        *self.inner.lock() = Ring::default();
    }

    /// The control API is not journaled; a claim the simulator makes for a merchant (an automatic
    /// claim, `POST /_sim/devices/{id}/claim`) is, as the `POST /pos/claim` it stands for, saying
    /// who made it (`how`), so that the verdict and a reader of the journal see the claim.
    pub(crate) fn record_simulator_claim(&self, trace_id: TraceId, claim: SimulatorClaim<'_>) {
        let SimulatorClaim { device, code, merchant, at, how } = claim;
        self.record(JournalEntry {
            seq: 0,
            time: at,
            method: Method::POST,
            path: route_path("/pos/claim"),
            device: Some(JournalDevice::Id(device)),
            status: Some(200),
            code: None,
            rule: None,
            trace_id,
            warning: Some(format!("automatic claim of {code} for merchant {merchant} ({how}), not a merchant's own")),
            client: ClientEvidence::default(),
            faults: Vec::new(),
            connection: None,
        });
    }
}

/// A claim the simulator made for a merchant (see [`Journal::record_simulator_claim`]).
pub(crate) struct SimulatorClaim<'a> {
    pub(crate) device: DeviceId,
    pub(crate) code: crate::ids::PairingCode,
    pub(crate) merchant: &'a str,
    pub(crate) at: OffsetDateTime,
    pub(crate) how: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(device: &str) -> JournalEntry {
        JournalEntry {
            seq: 0,
            time: OffsetDateTime::UNIX_EPOCH,
            method: Method::GET,
            path: "/pos/status".into(),
            device: Some(JournalDevice::Raw(device.into())),
            status: Some(200),
            code: None,
            rule: None,
            trace_id: crate::trace::TraceIds::new(1).next_id(),
            warning: None,
            client: ClientEvidence::default(),
            faults: Vec::new(),
            connection: None,
        }
    }

    #[test]
    fn ring_keeps_the_newest_and_filters_by_device() {
        let j = Journal::new(3);
        for d in ["A", "B", "A", "B", "A"] {
            j.record(entry(d));
        }
        let (all, total) = j.entries(None, None);
        assert_eq!(total, 5);
        assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 3, 4]);
        let (a, _) = j.entries(Some("A"), None);
        assert_eq!(a.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 4]);
        let (last, _) = j.entries(None, Some(1));
        assert_eq!(last.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![4]);
    }
}
