//! Everything a simulator instance is built from. The command line fills it in `main.rs`; tests
//! and the harness's embedded target build it directly.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use crate::auth::SigningKey;
use crate::clock::ClockMode;
use crate::fixtures::Fixtures;
use crate::ids::AppVersion;

/// BOOT-06: the default `min_supported_version`.
pub const DEFAULT_MIN_VERSION: &str = "1.3.5";

/// Where a seeded virtual clock starts when no `--start-time` is given: the `server_time` of the
/// documentation's bootstrap example. A fixed start is what makes `--seed` runs byte-identical.
pub const SEEDED_START: OffsetDateTime = time::macros::datetime!(2025-12-13 14:25:30 UTC);

/// Keycloak's default access-token lifespan (TIME-06 leaves the real value open).
pub const DEFAULT_TOKEN_TTL: Duration = Duration::seconds(300);

/// The default journal ring size.
pub const DEFAULT_JOURNAL_CAPACITY: usize = 10_000;

/// TPAR-06: the default terminal-parameters chunk, in bytes of gzip stream.
pub const DEFAULT_CHUNK_SIZE: usize = 16_384;

/// Where the token signing key comes from.
#[derive(Clone)]
pub enum KeySource {
    /// Generate one at start (derived from `--seed` when given).
    Generate,
    /// A PEM-encoded RSA private key (`--signing-key FILE`).
    Pem(String),
    /// An already built key, shared between instances (tests build one key for many simulators).
    Shared(Arc<SigningKey>),
}

#[derive(Clone)]
pub struct SimConfig {
    pub fixtures: Fixtures,
    pub clock: ClockMode,
    /// Start of a virtual clock. Default: [`SEEDED_START`] with a seed, else the current second.
    pub start_time: Option<OffsetDateTime>,
    /// Makes codes, generated ids, trace ids, token ids and the signing key reproducible.
    pub seed: Option<u64>,
    /// Overrides the fixtures' `min_supported_version` (BOOT-06).
    pub min_version: Option<AppVersion>,
    /// Serve the `/_sim/` control API.
    pub control: bool,
    /// Require this token on the control API and for the portal's simulator panel.
    pub control_token: Option<String>,
    /// Keycloak realm of the token issuer and the JWKS path (AUTH-03).
    pub realm: String,
    /// Base URL the simulator is reached at, used in the token issuer. Default: `http://{listen}`.
    pub public_url: Option<String>,
    pub signing_key: KeySource,
    pub token_ttl: Duration,
    pub journal_capacity: usize,
    /// TPAR-06: bytes of gzip stream per terminal-parameters chunk.
    pub chunk_size: usize,
    /// Claim each newly issued code as the device's merchant this many seconds after issue.
    pub auto_claim: Option<u32>,
    /// The fault profiles that can be armed by name (built-in ones, plus `--faults FILE`).
    pub fault_profiles: crate::faults::Profiles,
    /// Profiles armed at start and again by `/_sim/reset` (`--fault-profile`).
    pub arm_profiles: Vec<String>,
}

impl SimConfig {
    /// Defaults for everything but the fixtures: system clock, control API on, realm `viopay`.
    pub fn new(fixtures: Fixtures) -> Self {
        SimConfig {
            fixtures,
            clock: ClockMode::System,
            start_time: None,
            seed: None,
            min_version: None,
            control: true,
            control_token: None,
            realm: "viopay".into(),
            public_url: None,
            signing_key: KeySource::Generate,
            token_ttl: DEFAULT_TOKEN_TTL,
            journal_capacity: DEFAULT_JOURNAL_CAPACITY,
            chunk_size: DEFAULT_CHUNK_SIZE,
            auto_claim: None,
            fault_profiles: crate::faults::Profiles::builtin(),
            arm_profiles: Vec::new(),
        }
    }

    /// A virtual clock starting at `start`.
    pub fn with_virtual_clock(mut self, start: OffsetDateTime) -> Self {
        self.clock = ClockMode::Virtual;
        self.start_time = Some(start);
        self
    }
}
