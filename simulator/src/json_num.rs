//! Whole numbers in JSON request bodies (the control API's and the fault specs'): JSON Schema
//! calls `300` and `300.0` both integers, so both are accepted. A leaf: serde only.

use serde::Deserialize;

/// A JSON integer, also written as a number with a zero fraction (`300.0`): JSON Schema calls
/// both integers, so the control API accepts both (an `"integer"` in its schemas).
pub(crate) fn whole_u32<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    whole(serde_json::Number::deserialize(d)?)
}

fn whole<E: serde::de::Error>(n: serde_json::Number) -> Result<u32, E> {
    let whole = n.as_u64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(u32::MAX)).map(|f| f as u64));
    whole.and_then(|v| u32::try_from(v).ok()).ok_or_else(|| E::custom(format!("{n} is not a whole number from 0 to {}", u32::MAX)))
}

/// An optional whole number of any width (`status`, `step`, milliseconds): integers written with
/// a zero fraction are accepted, like [`whole_u32`]; `null` counts as absent.
pub(crate) fn whole_opt<'de, D: serde::Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<Option<T>, D::Error> {
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else { return Ok(None) };
    let whole = n.as_u64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= 9.0e15).map(|f| f as u64));
    whole.and_then(|v| T::try_from(v).ok()).map(Some).ok_or_else(|| serde::de::Error::custom(format!("{n} is not a whole number in range")))
}

/// [`whole_u32`] for an optional field; `null` counts as absent, like every optional field.
pub(crate) fn whole_u32_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Option::<serde_json::Number>::deserialize(d)?.map(whole).transpose()
}
