//! The running simulator's shared state: one instance behind an `Arc`, handed to every handler.

use parking_lot::RwLock;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::sync::Arc;

use crate::auth::{KeyError, SigningKey, TokenIssuer};
use crate::clock::{Clock, ClockMode};
use crate::config::{DEFAULT_MIN_VERSION, KeySource, SEEDED_START, SimConfig};
use crate::domain::{SecretSeed, State};
use crate::faults::Faults;
use crate::fixtures::Fixtures;
use crate::ids::AppVersion;
use crate::journal::Journal;
use crate::trace::TraceIds;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
}

/// State and randomness change together under one lock, so an operation that draws a code and
/// stores it is atomic (PAIR-04, PAIR-07, CLAIM-21).
pub struct Store {
    pub state: State,
    pub rng: StdRng,
}

/// Kustom's `/ipp/v1` (KUSTOM-API.md), under a lock of its own: Kustom traffic never waits for
/// VioPay's, and its own draws keep its ids independent of VioPay traffic.
pub struct KustomStore {
    pub state: crate::kustom::KustomState,
    pub rng: StdRng,
}

/// Kustom's generator: the seed, moved off VioPay's sequence.
fn kustom_rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed ^ 0x4b55_5354_4f4d_0001)
}

pub struct Sim {
    pub clock: Clock,
    pub store: RwLock<Store>,
    pub kustom: RwLock<KustomStore>,
    pub fixtures: Fixtures,
    pub seed: u64,
    pub tokens: TokenIssuer,
    pub journal: Journal,
    pub faults: Faults,
    pub trace: TraceIds,
    /// BOOT-06.
    pub min_version: AppVersion,
    pub realm: String,
    /// Where the simulator listens (`http://{bound address}`).
    pub listen_url: String,
    /// Where clients reach it: `--public-url`, else the listen URL. Tokens name it as issuer.
    pub base_url: String,
    pub control: bool,
    /// `--control-token`: what the control API and the portal's simulator panel require.
    pub control_token: Option<String>,
    /// TPAR-06: bytes of gzip stream per terminal-parameters chunk.
    pub chunk_size: usize,
    /// `--auto-claim` and the control API's per-device setting.
    pub auto_claims: crate::auto_claim::AutoClaims,
    /// The client rules already reported in the log, per device.
    pub live: crate::verdict::live::Live,
    /// Signed-in portal users.
    pub portal: crate::portal::Sessions,
}

impl Sim {
    pub fn new(config: SimConfig, base_url: &str) -> Result<Self, SimError> {
        let seed = config.seed.unwrap_or_else(rand::random);
        let clock = match config.clock {
            ClockMode::System => Clock::system(),
            ClockMode::Virtual => {
                let start = config.start_time.unwrap_or_else(|| if config.seed.is_some() { SEEDED_START } else { now_whole_second() });
                Clock::virtual_at(start)
            }
        };
        let key = match config.signing_key {
            KeySource::Generate => Arc::new(SigningKey::generate(config.seed)?),
            KeySource::Pem(pem) => Arc::new(SigningKey::from_pem(&pem)?),
            KeySource::Shared(key) => key,
        };
        let listen_url = base_url.trim_end_matches('/').to_owned();
        let base_url = config.public_url.map_or_else(|| listen_url.clone(), |u| u.trim_end_matches('/').to_owned());
        if config.realm.is_empty() || config.realm.contains('/') {
            return Err(SimError::Config(format!("realm `{}` must be a non-empty name without `/`", config.realm)));
        }
        let issuer = format!("{base_url}/realms/{}", config.realm);
        let min_version = config
            .min_version
            .or_else(|| config.fixtures.min_supported_version.clone())
            .map_or_else(|| AppVersion::parse(DEFAULT_MIN_VERSION).map_err(|e| SimError::Config(e.to_string())), Ok)?;
        let faults = Faults::new(seed, config.fault_profiles, config.arm_profiles).map_err(|e| SimError::Config(e.to_string()))?;
        let mut fixtures = config.fixtures;
        let mut state = std::mem::take(&mut fixtures.state);
        let kustom = std::mem::take(&mut fixtures.kustom);
        state.set_secret_seed(SecretSeed::from_seed(seed));
        Ok(Sim {
            clock,
            store: RwLock::new(Store { state, rng: StdRng::seed_from_u64(seed) }),
            kustom: RwLock::new(KustomStore { state: kustom, rng: kustom_rng(seed) }),
            fixtures,
            seed,
            tokens: TokenIssuer::new(key, issuer, config.token_ttl),
            journal: Journal::new(config.journal_capacity),
            faults,
            trace: TraceIds::new(seed),
            min_version,
            realm: config.realm,
            listen_url,
            base_url,
            control: config.control,
            control_token: config.control_token.clone(),
            chunk_size: config.chunk_size,
            auto_claims: crate::auto_claim::AutoClaims::new(config.auto_claim),
            live: crate::verdict::live::Live::default(),
            portal: crate::portal::Sessions::default(),
        })
    }

    /// Journals an exchange, and says in the log when it shows the device breaking a client rule
    /// (§5.8), so a person at a desk sees it as it happens.
    pub fn record(&self, entry: crate::journal::JournalEntry) {
        self.live.observe(&entry);
        self.journal.record(entry);
    }

    /// `/_sim/reset`: back to the fixtures, the start of the clock and the start of every random
    /// sequence, with an empty journal and only the start fault profiles armed.
    pub fn reset(&self) {
        {
            // The fixtures parsed at start, so they parse again; should they not, the state stays.
            match Fixtures::parse(&self.fixtures.text, &self.fixtures.source) {
                Ok(fixtures) => {
                    let mut state = fixtures.state;
                    state.set_secret_seed(SecretSeed::from_seed(self.seed));
                    let mut store = self.store.write();
                    store.state = state;
                    store.rng = StdRng::seed_from_u64(self.seed);
                    drop(store);
                    *self.kustom.write() = KustomStore { state: fixtures.kustom, rng: kustom_rng(self.seed) };
                }
                Err(e) => tracing::error!(error = %e, "the fixtures no longer parse; the state is kept"),
            }
        }
        self.clock.reset();
        self.journal.clear();
        self.faults.reset();
        self.trace.reset();
        self.auto_claims.reset();
        self.live.reset();
    }

    /// A random UUID-shaped id (version 4 layout) from the seeded generator.
    pub fn random_uuid(rng: &mut StdRng) -> String {
        let b: [u8; 16] = rng.random();
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!("{}-{}-4{}-{:x}{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], 8 | (b[8] & 3), &hex[17..20], &hex[20..32])
    }
}

fn now_whole_second() -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}
