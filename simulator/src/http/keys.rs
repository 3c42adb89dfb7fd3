//! `POST /pos/keys`, step 6 (KEYS-*): the device's key set, each key in a TR-31 block under its
//! parent (KEYS-03, KEYS-11): TMK under the ZMK, KEK under the TMK, the rest under the KEK.

use std::sync::{Arc, LazyLock};

use axum::extract::Request;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngExt;

use super::attestation::authorize;
use super::error::ApiError;
use super::note::JournalNote;
use crate::clock::Clock;
use crate::crypto::tr31::{Header, Kbpk};
use crate::domain::KEY_NAMES;
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
    // Each parent's KBEK and KBAK are derived once (the ZMK's, the TMK's, the KEK's): the entries
    // come grouped by parent, so one wrapping key is alive at a time.
    let mut wrapping: Option<(Option<usize>, Kbpk)> = None;
    let mut blocks: [String; 6] = Default::default();
    for (i, (_, _, _, parent)) in ENTRIES.iter().enumerate() {
        let kbpk = match &wrapping {
            Some((current, kbpk)) if current == parent => kbpk,
            _ => &wrapping.insert((*parent, Kbpk::new(parent.map_or(&zmk, |p| &set.keys[p])))).1,
        };
        let block = kbpk.wrap(&HEADERS[i], &set.keys[i], &paddings[i]).map_err(|e| ApiError::invalid_body(e.to_string()))?;
        blocks[i] = STANDARD.encode(block);
    }
    let keys = Keys(std::array::from_fn(|i| KeyEntry {
        kcv: &set.kcvs[i],
        key_block: &blocks[i],
        key_id: set.id(KEY_NAMES[i]),
        usage: ENTRIES[i].0,
    }));
    let answer = KeysAnswer {
        key_set: KeySetView { expires_at: rfc3339(set.expires_at()), issued_at: rfc3339(set.issued_at), key_set_id: set.id("ks") },
        keys,
        transport: Transport { encryption: "AES-256", format: "TR31", wrapped_under: "kek" },
    };
    // Written into a buffer of the answer's size at once (about 2.6 KB): `Json` starts at 128
    // bytes and copies the answer five times as it grows.
    let mut body = Vec::with_capacity(4096);
    serde_json::to_writer(&mut body, &answer).map_err(|e| ApiError::invalid_body(e.to_string()))?;
    let res = ([(CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response();
    Ok(JournalNote::device(id).attach(res))
}

// The answer's shape (KEYS-02, KEYS-05, KEYS-06). Fields are declared in alphabetical order, the
// order in which the simulator has always written them (a `serde_json::Value` map sorts its keys),
// so typed answers keep the bytes on the wire the same.

#[derive(serde::Serialize)]
struct KeysAnswer<'a> {
    key_set: KeySetView,
    keys: Keys<'a>,
    transport: Transport,
}

/// The six entries in [`KEY_NAMES`]' order, written as a map sorted by name.
struct Keys<'a>([KeyEntry<'a>; 6]);

/// [`KEY_NAMES`]' indices in the names' alphabetical order.
const BY_NAME: [usize; 6] = [1, 5, 2, 4, 0, 3];

impl serde::Serialize for Keys<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(6))?;
        for i in BY_NAME {
            map.serialize_entry(KEY_NAMES[i], &self.0[i])?;
        }
        map.end()
    }
}

/// KEYS-09, KEYS-10: each entry's TR-31 header, built once.
static HEADERS: LazyLock<[Header; 6]> = LazyLock::new(|| std::array::from_fn(|i| Header::aes(ENTRIES[i].1, ENTRIES[i].2)));

#[derive(serde::Serialize)]
struct KeySetView {
    expires_at: String,
    issued_at: String,
    key_set_id: String,
}

#[derive(serde::Serialize)]
struct KeyEntry<'a> {
    kcv: &'a str,
    key_block: &'a str,
    key_id: String,
    usage: &'static str,
}

#[derive(serde::Serialize)]
struct Transport {
    encryption: &'static str,
    format: &'static str,
    wrapped_under: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_name_is_key_names_in_alphabetical_order() {
        let mut sorted = KEY_NAMES;
        sorted.sort_unstable();
        assert_eq!(BY_NAME.map(|i| KEY_NAMES[i]), sorted);
    }
}
