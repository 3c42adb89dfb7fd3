//! Merchants and their API clients.

/// Index of a merchant in [`super::State`]; devices refer to their owner by it (4 bytes, not a
/// UUID string, per device). Only the state makes one, and only for a merchant it holds: an index
/// is resolved and used under one lock, never carried across a `/_sim/reset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct MerchantIdx(u32);

impl MerchantIdx {
    pub(super) fn new(i: usize) -> Self {
        MerchantIdx(u32::try_from(i).unwrap_or(u32::MAX))
    }

    /// Its position among the state's merchants (reading it cannot make an index).
    pub(crate) fn get(self) -> usize {
        self.0 as usize
    }
}

/// A merchant with the single API client it authenticates with (`/client/session`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Merchant {
    pub id: String,
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
}

/// Client credentials that match no merchant (AUTH-07).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid client credentials")]
pub(crate) struct BadCredentials;
