//! The `[kustom]` part of the fixtures file: merchants with their API key, Basic username and
//! locations (KLOC-04). A fixtures file without it gets the built-in Kustom merchants (KLOC-05:
//! one with one location, one with two), so the Kustom API works out of the box.

use serde::Deserialize;
use toml::Spanned;

use super::domain::ids::{is_simulator_key, is_username_of, parse_uuid};
use super::domain::{KustomState, Location, Merchant};

/// The built-in fixtures file, whose `[kustom]` part is also what a file without one gets.
const BUILTIN_FILE: &str = include_str!("../../fixtures/builtin.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KustomFile {
    #[serde(default)]
    merchants: Vec<MerchantFixture>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MerchantFixture {
    id: Spanned<String>,
    name: String,
    api_key: Spanned<String>,
    username: Spanned<String>,
    #[serde(default)]
    locations: Vec<LocationFixture>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LocationFixture {
    id: Spanned<String>,
    name: String,
    city: String,
}

/// The file's `[kustom]` part alone (the rest of the file is VioPay's, read elsewhere).
#[derive(Deserialize)]
struct Wrapper {
    kustom: KustomFile,
}

/// The built-in merchants.
pub(crate) fn builtin() -> KustomState {
    toml::from_str::<Wrapper>(BUILTIN_FILE).ok().and_then(|w| build(w.kustom).ok()).unwrap_or_default()
}

/// Checks the part; an error is the span it is about and the message.
pub(crate) fn build(file: KustomFile) -> Result<KustomState, (std::ops::Range<usize>, String)> {
    let mut state = KustomState::default();
    for m in file.merchants {
        let id = m.id.get_ref();
        if id.is_empty() || id.contains('-') {
            return Err((m.id.span(), format!("merchant id `{id}` must be a non-empty string without `-`")));
        }
        if state.merchants.iter().any(|o| o.id == *id) {
            return Err((m.id.span(), format!("merchant id `{id}` is already provisioned")));
        }
        let key = m.api_key.get_ref();
        if !is_simulator_key(key) {
            return Err((m.api_key.span(), "api_key must be kco_test_ipp_ and 24 lowercase letters and digits (KAUTH-03)".into()));
        }
        if state.merchants.iter().any(|o| o.api_key == *key) {
            return Err((m.api_key.span(), "api_key already belongs to another merchant".into()));
        }
        if !is_username_of(m.username.get_ref(), id) {
            return Err((m.username.span(), format!("username must be `{id}-` and 6 lowercase letters and digits (KAUTH-02)")));
        }
        let mut locations: Vec<Location> = Vec::new();
        for l in m.locations {
            let lid = parse_uuid(l.id.get_ref()).ok_or_else(|| (l.id.span(), "location id must be a UUID".to_owned()))?;
            let taken = locations.iter().chain(state.merchants.iter().flat_map(|o| o.locations.iter())).any(|o| o.id == lid);
            if taken {
                return Err((l.id.span(), format!("location `{lid}` is already provisioned")));
            }
            locations.push(Location { id: lid, name: l.name, city: l.city });
        }
        state.merchants.push(Merchant { id: id.clone(), name: m.name, api_key: key.clone(), username: m.username.into_inner(), locations });
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kloc_05_builtin_has_a_one_location_and_a_two_location_merchant() {
        let s = builtin();
        let counts: Vec<usize> = s.merchants.iter().map(|m| m.locations.len()).collect();
        assert!(counts.contains(&1) && counts.contains(&2), "{counts:?}");
    }

    #[test]
    fn kloc_04_kconv_06_location_ids_are_kept_in_lowercase() {
        let custom = "[[kustom.merchants]]\nid = \"m1\"\nname = \"x\"\napi_key = \"kco_test_ipp_aaaaaaaaaaaaaaaaaaaaaaaa\"\nusername = \"m1-abcdef\"\n[[kustom.merchants.locations]]\nid = \"0CB1E29C-658C-4A14-95E6-0AF593BD04CF\"\nname = \"A\"\ncity = \"B\"\n";
        let file = toml::from_str::<Wrapper>(custom).expect("toml");
        let state = build(file.kustom).expect("valid");
        assert_eq!(state.merchants[0].locations[0].id, "0cb1e29c-658c-4a14-95e6-0af593bd04cf");
    }
}
