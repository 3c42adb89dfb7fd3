//! `POST /pos/keys`, step 6 (KEYS-*): the device's key set, each key in a TR-31 block under its
//! parent (KEYS-03, KEYS-11): TMK under the ZMK, KEK under the TMK, the rest under the KEK.

use std::sync::{Arc, LazyLock};

use axum::extract::Request;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use rand::RngExt;

use super::attestation::authorize;
use super::error::ApiError;
use super::json_out::ObjectWriter;
use super::note::JournalNote;
use crate::clock::Clock;
use crate::crypto::Key32;
use crate::crypto::tr31::{Header, Kbpk, Tr31Error};
use crate::domain::{KEY_NAMES, KeySet};
use crate::errors::ATT_21;
use crate::store::{Store, ViopayStore};
use crate::time_fmt::rfc3339;

/// KEYS-06 and KEYS-09 per entry: `usage`, TR-31 key usage and mode of use, and which entry's key
/// it is wrapped under (`None`: the device's ZMK).
const ENTRIES: [(&str, &str, char, Option<usize>); 6] = [
    ("key-encryption", "K0", 'B', None),
    ("key-encryption", "K0", 'B', Some(0)),
    ("data-encryption", "D0", 'B', Some(1)),
    ("pin-encryption", "P0", 'E', Some(1)),
    ("data-encryption", "D0", 'B', Some(1)),
    ("mac", "M6", 'C', Some(1)),
];

/// KEYS-01: attestation auth, no body (KEYS-15: a body is ignored; its only errors are auth's).
/// KEYS-12: the first call issues the set, later calls return it; the blocks differ only by their
/// random padding.
pub(crate) async fn keys(
    State(clock): State<Arc<Clock>>,
    State(store): State<Arc<ViopayStore>>,
    // The request itself, not `HeaderMap` (which copies every header): KEYS-15, its body is
    // never read.
    request: Request,
) -> Result<Response, ApiError> {
    let headers = request.headers();
    let now = clock.now();
    // Under the lock: auth, the key set, the ZMK and the random padding. The wrapping (key
    // derivation, CMAC, AES) runs after it is released, so keys calls do not queue on the store.
    let (id, set, zmk, paddings) = {
        let mut store = store.write();
        let Store { state, rng, .. } = &mut *store;
        let id = authorize(headers, state, now)?;
        let set = state.issue_keys(id, now, || rng.random()).map_err(|e| ApiError::with_device(&ATT_21, e.0))?;
        let paddings: [[u8; 16]; 6] = rng.random();
        (id, set, state.zmk(id), paddings)
    };
    let blocks = wrap_blocks(&zmk, &set, &paddings).map_err(|e| ApiError::invalid_body(e.to_string()))?;
    // Written into a buffer of the answer's size at once (about 2.6 KB): `Json` starts at 128
    // bytes and copies the answer five times as it grows.
    let mut body = Vec::with_capacity(4096);
    write_answer(&mut body, &set, &blocks).map_err(|e| ApiError::invalid_body(e.to_string()))?;
    let res = ([(CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response();
    Ok(JournalNote::device(id).attach(res))
}

/// KEYS-03, KEYS-11: each key's TR-31 block under its parent. Each parent's KBEK and KBAK are
/// derived once (the ZMK's, the TMK's, the KEK's): the entries come grouped by parent.
fn wrap_blocks(zmk: &Key32, set: &KeySet, paddings: &[[u8; 16]; 6]) -> Result<[String; 6], Tr31Error> {
    let mut blocks: [String; 6] = Default::default();
    let mut first = 0;
    for group in ENTRIES.chunk_by(|a, b| a.3 == b.3) {
        let Some((_, _, _, parent)) = group.first() else { continue };
        // A local, not kept in an `Option` across groups: moving its key schedules (about 2 KB)
        // in and out cost more than the AES of the block it then wraps.
        let mut kbpk = Kbpk::new(parent.map_or(zmk, |p| &set.keys[p]));
        for i in first..first + group.len() {
            blocks[i] = kbpk.wrap(&HEADERS[i], &set.keys[i], &paddings[i])?;
        }
        first += group.len();
    }
    Ok(blocks)
}

/// The answer (KEYS-02, KEYS-05, KEYS-06, KEYS-13), each block Base64 of its TR-31 text. Fields
/// and entries are in alphabetical order, the order in which the simulator has always written
/// them (a `serde_json::Value` map sorts its keys), so the bytes on the wire stay the same.
fn write_answer(out: &mut Vec<u8>, set: &KeySet, blocks: &[String; 6]) -> Result<(), serde_json::Error> {
    let mut answer = ObjectWriter::open(out);
    let mut key_set = answer.object("key_set");
    key_set.str("expires_at", &rfc3339(set.expires_at()))?;
    key_set.str("issued_at", &rfc3339(set.issued_at))?;
    key_set.str("key_set_id", &set.id("ks"))?;
    key_set.close();
    let mut keys = answer.object("keys");
    for i in BY_NAME {
        let mut entry = keys.object(KEY_NAMES[i]);
        entry.str("kcv", set.kcvs[i].as_str())?;
        entry.base64("key_block", blocks[i].as_bytes());
        entry.str("key_id", &set.id(KEY_NAMES[i]))?;
        entry.str("usage", ENTRIES[i].0)?;
        entry.close();
    }
    keys.close();
    let mut transport = answer.object("transport");
    transport.str("encryption", "AES-256")?;
    transport.str("format", "TR31")?;
    transport.str("wrapped_under", "kek")?;
    transport.close();
    answer.close();
    Ok(())
}

/// [`KEY_NAMES`]' indices in the names' alphabetical order.
const BY_NAME: [usize; 6] = [1, 5, 2, 4, 0, 3];

/// KEYS-09, KEYS-10: each entry's TR-31 header, built once.
static HEADERS: LazyLock<[Header; 6]> = LazyLock::new(|| std::array::from_fn(|i| Header::aes(ENTRIES[i].1, ENTRIES[i].2)));

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    #[test]
    fn by_name_is_key_names_in_alphabetical_order() {
        let mut sorted = KEY_NAMES;
        sorted.sort_unstable();
        assert_eq!(BY_NAME.map(|i| KEY_NAMES[i]), sorted);
    }

    /// The hand-written answer reads byte for byte as serde_json writes the same answer as a
    /// `Value` (keys sorted), which is how the simulator wrote it before.
    #[test]
    fn keys_02_the_answer_reads_as_serde_writes_it() {
        let issued_at = time::macros::datetime!(2025-12-13 14:25:30 UTC);
        let keys: [crate::crypto::Key32; 6] = std::array::from_fn(|i| [u8::try_from(i).unwrap_or(0); 32]);
        let set = KeySet { seq: 3, issued_at, keys, kcvs: keys.each_ref().map(crate::crypto::kcv::kcv) };
        let blocks: [String; 6] = std::array::from_fn(|i| format!("D0144{}0AB00E0000{}", ENTRIES[i].1, "9F".repeat(i + 1)));
        let mut ours = Vec::new();
        write_answer(&mut ours, &set, &blocks).expect("written");
        let entries: serde_json::Map<String, serde_json::Value> = (0..6)
            .map(|i| {
                let entry = serde_json::json!({
                    "kcv": set.kcvs[i].as_str(),
                    "key_block": STANDARD.encode(&blocks[i]),
                    "key_id": set.id(KEY_NAMES[i]),
                    "usage": ENTRIES[i].0,
                });
                (KEY_NAMES[i].to_string(), entry)
            })
            .collect();
        let expected = serde_json::json!({
            "key_set": { "expires_at": "2026-12-13T14:25:30Z", "issued_at": "2025-12-13T14:25:30Z", "key_set_id": "ks-2025-03" },
            "keys": entries,
            "transport": { "encryption": "AES-256", "format": "TR31", "wrapped_under": "kek" },
        });
        assert_eq!(String::from_utf8(ours).expect("UTF-8"), expected.to_string());
    }
}
