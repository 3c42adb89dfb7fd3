//! Merchants and their API clients.

/// Index of a merchant in [`super::State`]; devices refer to their owner by it (4 bytes, not a
/// UUID string, per device).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MerchantIdx(pub u32);

/// A merchant with the single API client it authenticates with (`/client/session`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Merchant {
    pub id: String,
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
}
