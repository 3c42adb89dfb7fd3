//! The `viopay-sim` command line. Every flag can also be set by a `VIOPAY_SIM_*` environment
//! variable; other tools depend on these exact names.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use time::{Duration, OffsetDateTime};

use crate::clock::ClockMode;
use crate::config::{KeySource, SimConfig};
use crate::fixtures::{FixtureError, Fixtures};
use crate::ids::AppVersion;
use crate::time_fmt::parse_rfc3339;

#[derive(Debug, Parser)]
#[command(name = "viopay-sim", version, about = "Stateful simulator of the VioPay POS device activation API, on a controllable clock")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address to listen on.
    #[arg(long, env = "VIOPAY_SIM_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Fixtures file (TOML): merchants, devices, device ranges. Default: the built-in set.
    #[arg(long, env = "VIOPAY_SIM_FIXTURES")]
    pub fixtures: Option<PathBuf>,

    /// `system` (wall clock) or `virtual` (moves only through POST /_sim/clock/*).
    #[arg(long, env = "VIOPAY_SIM_CLOCK", value_enum, default_value = "system")]
    pub clock: ClockMode,

    /// Start of the virtual clock (RFC 3339). Default: 2025-12-13T14:25:30Z with --seed, else now.
    #[arg(long, env = "VIOPAY_SIM_START_TIME", value_parser = parse_time)]
    pub start_time: Option<OffsetDateTime>,

    /// Seed for codes, ids, trace ids and the signing key: same seed, same requests, same bytes.
    #[arg(long, env = "VIOPAY_SIM_SEED")]
    pub seed: Option<u64>,

    /// min_supported_version returned by bootstrap (overrides the fixtures; default 1.3.5).
    #[arg(long, env = "VIOPAY_SIM_MIN_VERSION", value_parser = parse_version)]
    pub min_version: Option<AppVersion>,

    /// Do not serve the /_sim/ control API.
    #[arg(long, env = "VIOPAY_SIM_NO_CONTROL")]
    pub no_control: bool,

    /// Require this token on the /_sim/ control API (Authorization: Bearer TOKEN or
    /// X-Sim-Control-Token) and for the portal's simulator panel (typed at sign-in). Set it
    /// whenever the simulator listens beyond loopback.
    #[arg(long, env = "VIOPAY_SIM_CONTROL_TOKEN", hide_env_values = true)]
    pub control_token: Option<String>,

    /// Keycloak realm of issued tokens and of the JWKS path.
    #[arg(long, env = "VIOPAY_SIM_REALM", default_value = "viopay")]
    pub realm: String,

    /// Base URL clients use to reach the simulator (token issuer). Default: http://{listen}.
    #[arg(long, env = "VIOPAY_SIM_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// RSA private key (PEM, PKCS#8 or PKCS#1) to sign tokens with. Default: generated at start.
    #[arg(long, env = "VIOPAY_SIM_SIGNING_KEY")]
    pub signing_key: Option<PathBuf>,

    /// Lifetime of access tokens from /client/session, in seconds.
    #[arg(long, env = "VIOPAY_SIM_TOKEN_TTL", default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..))]
    pub token_ttl: u32,

    /// How many exchanges the journal keeps (0 turns it off).
    #[arg(long, env = "VIOPAY_SIM_JOURNAL_SIZE", default_value_t = crate::config::DEFAULT_JOURNAL_CAPACITY)]
    pub journal_size: usize,

    /// Bytes of gzip stream per terminal-parameters chunk (TPAR-06).
    #[arg(long, env = "VIOPAY_SIM_CHUNK_SIZE", default_value_t = 16_384, value_parser = clap::value_parser!(u32).range(16..=1_048_576))]
    pub chunk_size: u32,

    /// Claim each newly issued pairing code as the device's own merchant SECS seconds (on the
    /// simulator's clock) after issue, for unattended firmware runs. Per device: the control API.
    #[arg(long, value_name = "SECS", env = "VIOPAY_SIM_AUTO_CLAIM")]
    pub auto_claim: Option<u32>,

    /// Also serve HTTPS (on --tls-listen) with a generated local CA and server certificate; the
    /// CA certificate is written to --tls-ca-out for the test device to trust.
    #[arg(long, env = "VIOPAY_SIM_TLS")]
    pub tls: bool,

    /// Address to serve HTTPS on.
    #[arg(long, env = "VIOPAY_SIM_TLS_LISTEN", default_value = "127.0.0.1:8443")]
    pub tls_listen: SocketAddr,

    /// A name the generated server certificate covers (repeatable). Default: localhost, 127.0.0.1
    /// and this machine's hostname.
    #[arg(long = "tls-host", env = "VIOPAY_SIM_TLS_HOSTS", value_delimiter = ',')]
    pub tls_hosts: Vec<String>,

    /// Where the generated CA certificate is written (PEM). With --seed the CA stays the same
    /// across restarts, so a device trusts it once.
    #[arg(long, env = "VIOPAY_SIM_TLS_CA_OUT", default_value = "viopay-sim-ca.pem")]
    pub tls_ca_out: PathBuf,

    /// Serve this certificate chain (PEM) instead of generating one (with --tls-key).
    #[arg(long, env = "VIOPAY_SIM_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "VIOPAY_SIM_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Require client certificates signed by this CA (PEM): mutual TLS.
    #[arg(long, env = "VIOPAY_SIM_TLS_CLIENT_CA")]
    pub tls_client_ca: Option<PathBuf>,

    /// A faults file (TOML): named fault profiles, added to the built-in ones (flaky-3g,
    /// gateway-502, retry-twice, slow-and-broken).
    #[arg(long, env = "VIOPAY_SIM_FAULTS")]
    pub faults: Option<PathBuf>,

    /// Arm this fault profile at start, and again after every /_sim/reset (repeatable).
    #[arg(long = "fault-profile", value_name = "NAME", env = "VIOPAY_SIM_FAULT_PROFILES", value_delimiter = ',')]
    pub fault_profiles: Vec<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Judge the POS client a running simulator served (§5.8, CLI-01…CLI-17); exit 0 when no
    /// REQUIRED client rule broke, 1 when one did, 2 when no verdict could be had.
    Verdict(crate::verdict::command::VerdictArgs),
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Fixtures(#[from] FixtureError),
    #[error("--start-time needs --clock virtual")]
    StartTimeWithSystemClock,
    #[error("cannot read --signing-key {path}: {source}")]
    SigningKey { path: String, source: std::io::Error },
    #[error("--faults: {0}")]
    Faults(#[from] Box<crate::faults::ProfileError>),
    #[error("--fault-profile: {0}")]
    FaultProfile(crate::faults::FaultError),
}

fn parse_time(raw: &str) -> Result<OffsetDateTime, String> {
    parse_rfc3339(raw).map_err(|e| format!("not an RFC 3339 timestamp (e.g. 2025-12-13T14:25:30Z): {e}"))
}

fn parse_version(raw: &str) -> Result<AppVersion, String> {
    AppVersion::parse(raw).map_err(|e| e.to_string())
}

impl Cli {
    /// The HTTPS the flags ask for, if any (`--tls`, or a given certificate).
    pub fn tls_options(&self) -> Option<crate::tls::TlsOptions> {
        (self.tls || self.tls_cert.is_some()).then(|| crate::tls::TlsOptions {
            hosts: if self.tls_hosts.is_empty() { crate::tls::default_hosts() } else { self.tls_hosts.clone() },
            ca_out: self.tls_ca_out.clone(),
            seed: self.seed,
            cert: self.tls_cert.clone(),
            key: self.tls_key.clone(),
            client_ca: self.tls_client_ca.clone(),
        })
    }

    /// Everything the flags name, loaded and checked. Errors here exit 2.
    pub fn into_config(self) -> Result<SimConfig, CliError> {
        if self.start_time.is_some() && self.clock != ClockMode::Virtual {
            return Err(CliError::StartTimeWithSystemClock);
        }
        let fixtures = match &self.fixtures {
            Some(path) => Fixtures::load(path)?,
            None => Fixtures::builtin()?,
        };
        let signing_key = match &self.signing_key {
            Some(path) => KeySource::Pem(
                std::fs::read_to_string(path).map_err(|source| CliError::SigningKey { path: path.display().to_string(), source })?,
            ),
            None => KeySource::Generate,
        };
        let fault_profiles = match &self.faults {
            Some(path) => crate::faults::Profiles::with_file(path).map_err(Box::new)?,
            None => crate::faults::Profiles::builtin(),
        };
        for name in &self.fault_profiles {
            fault_profiles.get(name).map_err(CliError::FaultProfile)?;
        }
        Ok(SimConfig {
            fixtures,
            clock: self.clock,
            start_time: self.start_time,
            seed: self.seed,
            min_version: self.min_version,
            control: !self.no_control,
            control_token: self.control_token.filter(|t| !t.is_empty()),
            realm: self.realm,
            public_url: self.public_url,
            signing_key,
            token_ttl: Duration::seconds(i64::from(self.token_ttl)),
            journal_capacity: self.journal_size,
            chunk_size: self.chunk_size as usize,
            auto_claim: self.auto_claim,
            fault_profiles,
            arm_profiles: self.fault_profiles,
        })
    }
}
