//! Kustom's merchants, from the fixtures: their API keys (KAUTH-03, KAUTH-05) and locations
//! (KLOC-03, KLOC-04, KEN-10).

use serde::Serialize;

use super::KustomState;

/// KLOC-03.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Location {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) city: String,
}

/// A merchant of the fixtures: its id (MID), one API key with its Basic username, its locations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Merchant {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) api_key: String,
    pub(crate) username: String,
    pub(crate) locations: Vec<Location>,
}

impl KustomState {
    /// KAUTH-03, KAUTH-05: the key alone names the merchant.
    pub(crate) fn merchant_by_key(&self, key: &str) -> Option<usize> {
        self.merchants.iter().position(|m| super::ids::is_simulator_key(key) && m.api_key == key)
    }

    pub(crate) fn merchant(&self, idx: usize) -> Option<&Merchant> {
        self.merchants.get(idx)
    }

    /// KEN-10 (and KDEV-14, KREG-28): a present `location_id` must be a UUID of one of the
    /// merchant's locations; an absent one is the merchant's only location. The error is the
    /// message for `errors.location_id`.
    pub(crate) fn resolve_location(
        &self,
        merchant: usize,
        raw: Option<&serde_json::Value>,
        default_to_only: bool,
    ) -> Result<Option<String>, String> {
        let locations = self.merchants.get(merchant).map_or(&[][..], |m| m.locations.as_slice());
        match raw {
            None if !default_to_only => Ok(None),
            None => match locations {
                [only] => Ok(Some(only.id.clone())),
                [] => Err("must be given: the merchant has no location".into()),
                _ => Err("must be given: the merchant has several locations".into()),
            },
            Some(serde_json::Value::String(s)) if s.trim().is_empty() => Err("must not be blank".into()),
            Some(serde_json::Value::String(s)) => {
                let id = super::ids::parse_uuid(s).ok_or_else(|| "must be a UUID".to_owned())?;
                locations.iter().any(|l| l.id == id).then_some(Some(id)).ok_or_else(|| "names no location of the merchant".into())
            }
            Some(_) => Err("must be a string".into()),
        }
    }
}
