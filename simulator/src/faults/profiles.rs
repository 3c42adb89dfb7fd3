//! Named fault profiles: sets of faults a firmware CI arms by name (`--fault-profile flaky-3g`,
//! `POST /_sim/faults/profiles/flaky-3g`). The built-in ones are written in the faults-file format
//! itself (`fixtures/fault-profiles.toml`), so they double as its example; a `--faults FILE` adds
//! profiles or replaces built-in ones of the same name.
//!
//! ```toml
//! [[profiles.my-profile]]
//! kind = "latency"
//! min_ms = 200
//! max_ms = 900
//! probability = 1.0
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::spec::{FaultError, FaultSpec};

/// What every simulator knows without a faults file: `fixtures/fault-profiles.toml`, a faults
/// file like any other.
pub(crate) const BUILTIN: &str = include_str!("../../fixtures/fault-profiles.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    profiles: BTreeMap<String, Vec<FaultSpec>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: profile `{profile}`, fault {index}: {source}")]
    Fault { path: String, profile: String, index: usize, source: Box<FaultError> },
}

/// Profile name → its faults, each already checked.
#[derive(Debug, Clone, Default)]
pub struct Profiles {
    by_name: BTreeMap<String, Vec<FaultSpec>>,
}

impl Profiles {
    pub fn builtin() -> Self {
        // The built-in text is part of the binary and checked by a unit test.
        Profiles::parse(BUILTIN, "built-in profiles").unwrap_or_default()
    }

    /// The built-in profiles, then those of `path` (replacing any of the same name).
    pub fn with_file(path: &Path) -> Result<Self, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read { path: path.display().to_string(), source })?;
        let mut profiles = Profiles::builtin();
        profiles.by_name.extend(Profiles::parse(&text, &path.display().to_string())?.by_name);
        Ok(profiles)
    }

    pub fn parse(text: &str, source: &str) -> Result<Self, ProfileError> {
        let file: File = toml::from_str(text).map_err(|e| ProfileError::Parse { path: source.to_owned(), message: e.to_string() })?;
        for (profile, faults) in &file.profiles {
            for (i, fault) in faults.iter().enumerate() {
                fault.check().map_err(|source_err| ProfileError::Fault {
                    path: source.to_owned(),
                    profile: profile.clone(),
                    index: i + 1,
                    source: Box::new(source_err),
                })?;
            }
        }
        Ok(Profiles { by_name: file.profiles })
    }

    pub(crate) fn get(&self, name: &str) -> Result<&[FaultSpec], FaultError> {
        self.by_name
            .get(name)
            .map(Vec::as_slice)
            .ok_or_else(|| FaultError::UnknownProfile { name: name.to_owned(), known: self.names().join(", ") })
    }

    pub fn names(&self) -> Vec<String> {
        self.by_name.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_profiles_parse_and_check() {
        let p = Profiles::parse(BUILTIN, "built-in").expect("valid");
        assert_eq!(p.names(), ["flaky-3g", "gateway-502", "retry-twice", "slow-and-broken"]);
        assert_eq!(p.get("retry-twice").map(<[FaultSpec]>::len), Ok(7));
        assert!(matches!(p.get("nope"), Err(FaultError::UnknownProfile { .. })));
    }

    #[test]
    fn a_file_profile_with_a_bad_fault_names_it() {
        let err = Profiles::parse("[[profiles.x]]\nkind = \"reset\"\n[[profiles.x]]\nkind = \"latency\"\n", "f.toml").expect_err("bad");
        assert_eq!(err.to_string(), "f.toml: profile `x`, fault 2: latency needs latency_ms, or min_ms and max_ms");
    }
}
