//! `GET /_sim/merchants`, `POST /_sim/merchants`: merchants with their API-client credentials.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use fake::Fake;
use fake::faker::company::en::CompanyName;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::{CONFLICT, body};
use crate::domain::Merchant;
use crate::http::error::ApiError;
use crate::store::{ViopayStore, random_uuid};

#[derive(Serialize)]
pub(crate) struct MerchantList {
    merchants: Vec<Merchant>,
}

pub(crate) async fn list(State(store): State<Arc<ViopayStore>>) -> Json<MerchantList> {
    let store = store.read();
    Json(MerchantList { merchants: store.state.merchants().map(|(_, m)| m.clone()).collect() })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewMerchant {
    id: Option<String>,
    name: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Creates a merchant. Every field is optional: a missing id is a random UUID, a missing name a
/// fake company name, missing credentials are generated. Answers 201 with the credentials.
pub(crate) async fn create(State(store): State<Arc<ViopayStore>>, raw: Bytes) -> Result<(StatusCode, Json<Merchant>), ApiError> {
    let req: NewMerchant = body::parse(&raw)?;
    let mut store = store.write();
    let store = &mut *store;
    let rng = &mut store.rng;
    let id = req.id.unwrap_or_else(|| random_uuid(rng));
    let name = req.name.unwrap_or_else(|| CompanyName().fake_with_rng(rng));
    let client_id = req.client_id.unwrap_or_else(|| format!("{}-{:04x}", slug(&name), rng.random::<u16>()));
    let client_secret = req
        .client_secret
        .unwrap_or_else(|| (0..24).map(|_| char::from(b"abcdefghijkmnopqrstuvwxyz23456789"[rng.random_range(0..33)])).collect());
    let merchant = Merchant { id, name, client_id, client_secret };
    store.state.add_merchant(merchant.clone()).map_err(|e| ApiError::control(StatusCode::CONFLICT, CONFLICT, e.to_string()))?;
    Ok((StatusCode::CREATED, Json(merchant)))
}

fn slug(name: &str) -> String {
    let s: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == ' ').collect::<String>().to_ascii_lowercase();
    let s = s.split_whitespace().collect::<Vec<_>>().join("-");
    if s.is_empty() { "merchant".into() } else { s }
}
