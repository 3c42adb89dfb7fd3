//! The Gherkin features: compiled into the binary (so `viopay-check` certifies from any
//! directory), or read from a directory given with `--features`.

use std::path::Path;

/// `features/*.feature`, compiled in. A test checks that this list matches the directory.
pub const BUILTIN: &[(&str, &str)] = &[
    ("features/bootstrap.feature", include_str!("../features/bootstrap.feature")),
    ("features/headers.feature", include_str!("../features/headers.feature")),
    ("features/pairing_code.feature", include_str!("../features/pairing_code.feature")),
    ("features/status.feature", include_str!("../features/status.feature")),
    ("features/claim.feature", include_str!("../features/claim.feature")),
    ("features/merchant_auth.feature", include_str!("../features/merchant_auth.feature")),
    ("features/errors.feature", include_str!("../features/errors.feature")),
    ("features/journey.feature", include_str!("../features/journey.feature")),
    ("features/attest.feature", include_str!("../features/attest.feature")),
    ("features/attestation_auth.feature", include_str!("../features/attestation_auth.feature")),
    ("features/keys.feature", include_str!("../features/keys.feature")),
    ("features/config.feature", include_str!("../features/config.feature")),
    ("features/activate.feature", include_str!("../features/activate.feature")),
];

/// `features/kustom/*.feature`, compiled in: Kustom's scenarios (`run --api kustom`).
pub const KUSTOM: &[(&str, &str)] = &[
    ("features/kustom/auth.feature", include_str!("../features/kustom/auth.feature")),
    ("features/kustom/conventions.feature", include_str!("../features/kustom/conventions.feature")),
    ("features/kustom/devices.feature", include_str!("../features/kustom/devices.feature")),
    ("features/kustom/enrollments.feature", include_str!("../features/kustom/enrollments.feature")),
    ("features/kustom/errors.feature", include_str!("../features/kustom/errors.feature")),
    ("features/kustom/locations.feature", include_str!("../features/kustom/locations.feature")),
    ("features/kustom/registration.feature", include_str!("../features/kustom/registration.feature")),
    ("features/kustom/timing.feature", include_str!("../features/kustom/timing.feature")),
];

pub fn kustom() -> Vec<FeatureFile> {
    KUSTOM.iter().map(|(path, text)| FeatureFile { path: (*path).to_owned(), text: (*text).to_owned() }).collect()
}

#[derive(Debug, Clone)]
pub struct FeatureFile {
    pub path: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error("cannot read features from {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
}

pub fn builtin() -> Vec<FeatureFile> {
    BUILTIN.iter().map(|(path, text)| FeatureFile { path: (*path).to_owned(), text: (*text).to_owned() }).collect()
}

/// Every `*.feature` file of a directory, sorted by name.
pub fn from_dir(dir: &Path) -> Result<Vec<FeatureFile>, FeatureError> {
    let io = |source| FeatureError::Io { path: dir.display().to_string(), source };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "feature"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).map_err(|source| FeatureError::Io { path: p.display().to_string(), source })?;
            Ok(FeatureFile { path: p.display().to_string(), text })
        })
        .collect()
}

/// Parses a feature and expands its Scenario Outlines.
pub fn parse(file: &FeatureFile) -> Result<cucumber::gherkin::Feature, FeatureError> {
    use cucumber::feature::Ext as _;
    let err = |message: String| FeatureError::Parse { path: file.path.clone(), message };
    let mut feature =
        cucumber::gherkin::Feature::parse(&file.text, cucumber::gherkin::GherkinEnv::default()).map_err(|e| err(e.to_string()))?;
    feature.path = Some(file.path.clone().into());
    feature.expand_examples().map_err(|e| err(e.to_string()))
}

/// Rule-ID tags of a scenario (without `@`), in order, feature tags first.
pub fn rule_tags(feature: &cucumber::gherkin::Feature, scenario: &cucumber::gherkin::Scenario) -> Vec<String> {
    let mut tags: Vec<String> =
        feature.tags.iter().chain(&scenario.tags).filter(|t| crate::catalogue::Catalogue::is_rule_tag(t)).cloned().collect();
    tags.dedup();
    tags
}
