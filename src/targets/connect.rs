//! Turning `--target URL`, `--profile FILE` or nothing into a [`Target`].

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use super::{ClockControl, DevicePools, DeviceSource, Merchant, Target};
use crate::client::{ApiRequest, Client};
use crate::profile::{self, Profile, ProfileError};

/// What the user asked to certify.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    /// Start the simulator in-process (virtual clock, random port).
    Embedded,
    /// A running simulator with its `/_sim/` control API.
    Simulator(String),
    /// A deployment described by a profile.
    Profile(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Exit code 3.
    #[error("target {url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    /// Exit code 2.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// Exit code 2.
    #[error("{0}")]
    Usage(String),
    /// Exit code 1: the target answered, but not as a simulator should.
    #[error("cannot prepare the target: {0}")]
    Setup(String),
}

/// How a run connects.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Bound on every request.
    pub request_timeout: Duration,
    /// How long the reachability probe may take in all: no answer by then is exit 3, never a hang.
    pub probe_timeout: Duration,
    /// Merchants the harness acts as (at least the two ownership rules need).
    pub merchants: usize,
    /// A simulator's `--control-token`, for its `/_sim/` hooks.
    pub control_token: Option<String>,
    /// The embedded simulator runs on the system clock (`load`: codes and tokens expire in real
    /// time) instead of a virtual one the harness moves.
    pub real_time: bool,
    /// Connections kept open between requests (`load --connections`).
    pub pool: usize,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            request_timeout: Duration::from_secs(30),
            probe_timeout: Duration::from_secs(8),
            merchants: 2,
            control_token: None,
            real_time: false,
            pool: 64,
        }
    }
}

/// Connects; on a simulator the harness provisions `merchants` merchants of its own.
pub async fn connect(spec: &TargetSpec, opts: &ConnectOptions) -> Result<(Target, Client), TargetError> {
    let merchants = opts.merchants.clamp(2, super::LABELS.len());
    let request_timeout = opts.request_timeout;
    match spec {
        TargetSpec::Embedded => {
            let mut config = viopay_sim::SimConfig::new(viopay_sim::Fixtures::builtin().map_err(|e| TargetError::Setup(e.to_string()))?);
            config.clock = if opts.real_time { viopay_sim::ClockMode::System } else { viopay_sim::ClockMode::Virtual };
            config.journal_capacity = 1000;
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
            let running = viopay_sim::spawn(config, addr).await.map_err(|e| TargetError::Setup(e.to_string()))?;
            let client = client(&running.base_url, request_timeout, None, opts.pool)?;
            let mut target = simulator(&client, "embedded simulator", merchants).await?;
            target.embedded = Some(running);
            Ok((target, client))
        }
        TargetSpec::Simulator(url) => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(TargetError::Usage(format!("--target `{url}` must be an http:// or https:// URL")));
            }
            let client = client(url, request_timeout, opts.control_token.clone(), opts.pool)?;
            probe(&client, opts.probe_timeout).await?;
            let target = simulator(&client, url, merchants).await?;
            Ok((target, client))
        }
        TargetSpec::Profile(path) => {
            let (p, merchants) = Profile::load(path)?;
            let client = client(&p.base_url, request_timeout, opts.control_token.clone(), opts.pool)?;
            probe(&client, opts.probe_timeout).await?;
            // A controllable clock may also be readable, which lets BOOT-03 compare server_time.
            let clock_readable = p.clock.mode == profile::ClockMode::Control && {
                let ex = client.send(&ApiRequest::new("GET", "/_sim/clock")).await;
                ex.status == Some(200) && ex.json().is_some_and(|v| v["now"].is_string())
            };
            let labels = super::LABELS;
            let target = Target {
                description: format!("profile {}", path.display()),
                base_url: client.base_url().to_owned(),
                clock: match p.clock.mode {
                    profile::ClockMode::Real => ClockControl::Real,
                    profile::ClockMode::Control => ClockControl::Control,
                },
                frozen: p.clock.mode == profile::ClockMode::Control && p.clock.frozen,
                tokens_follow_clock: p.clock.tokens_follow,
                faults: false,
                clock_readable,
                devices: DeviceSource::Pools(DevicePools::new(merchants.iter().map(|m| (m.name.clone(), m.devices.clone())).collect())),
                secrets: merchants.iter().flat_map(|m| m.secrets.iter().cloned()).collect(),
                merchants: merchants
                    .into_iter()
                    .zip(labels)
                    .map(|(m, label)| Merchant { label, name: m.name, client_id: m.client_id, client_secret: m.client_secret })
                    .collect(),
                unknown_device: p.unknown_device,
                min_version: p.min_supported_version.unwrap_or_else(|| crate::spec::DEFAULT_MIN_VERSION.to_owned()),
                embedded: None,
            };
            Ok((target, client))
        }
    }
}

fn client(url: &str, timeout: Duration, control_token: Option<String>, pool: usize) -> Result<Client, TargetError> {
    Client::with_pool(url, timeout, pool).map(|c| c.with_control_token(control_token)).map_err(|e| TargetError::Setup(e.to_string()))
}

/// Any HTTP answer to `GET /health/live` means reachable; no answer within `timeout` is exit 3.
async fn probe(client: &Client, timeout: Duration) -> Result<(), TargetError> {
    let req = ApiRequest::new("GET", "/health/live");
    let probe = client.send(&req);
    match tokio::time::timeout(timeout, probe).await {
        Ok(ex) if ex.status.is_some() => Ok(()),
        Ok(ex) => Err(TargetError::Unreachable { url: client.base_url().to_owned(), reason: ex.transport_error.unwrap_or_default() }),
        Err(_) => Err(TargetError::Unreachable {
            url: client.base_url().to_owned(),
            reason: format!("no answer within {} s", timeout.as_secs_f64()),
        }),
    }
}

/// A viopay-sim: the harness provisions two merchants of its own and devices on demand.
async fn simulator(client: &Client, description: &str, count: usize) -> Result<Target, TargetError> {
    let clock = client.send(&ApiRequest::new("GET", "/_sim/clock")).await;
    let (mode, tokens_follow_clock) = match (clock.status, clock.json()) {
        // `tokens_follow: false`: the target's identity provider keeps real time (AUTH-14).
        (Some(200), Some(v)) => (v["mode"].as_str().unwrap_or_default().to_owned(), v["tokens_follow"].as_bool().unwrap_or(true)),
        (Some(401), _) => {
            return Err(TargetError::Usage(format!(
                "{description}'s control API asks for its control token (GET /_sim/clock: {}): pass --control-token TOKEN \
                 or set VIOPAY_SIM_CONTROL_TOKEN, the value the simulator was started with",
                clock.excerpt()
            )));
        }
        _ => {
            return Err(TargetError::Usage(format!(
                "{description} has no viopay-sim control API (GET /_sim/clock: {}); describe a real deployment with --profile",
                clock.excerpt()
            )));
        }
    };
    let mut merchants = Vec::new();
    let mut merchant_ids = Vec::new();
    for label in super::LABELS.into_iter().take(count) {
        let ex = client
            .send(&ApiRequest::new("POST", "/_sim/merchants").json(&json!({ "name": format!("viopay-check merchant {label}") })))
            .await;
        let v = ex
            .json()
            .filter(|_| ex.status == Some(201))
            .ok_or_else(|| TargetError::Setup(format!("POST /_sim/merchants: {}", ex.excerpt())))?;
        let field = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        merchant_ids.push(field("id"));
        merchants.push(Merchant { label, name: field("name"), client_id: field("client_id"), client_secret: field("client_secret") });
    }
    let unknown_device = unprovisioned(client).await?;
    // Faults are the simulator's; another resettable target may not offer them (PAIR-08 is then
    // not applicable).
    let faults = client.send(&ApiRequest::new("GET", "/_sim/faults")).await.status == Some(200);
    Ok(Target {
        description: description.to_owned(),
        base_url: client.base_url().to_owned(),
        // `virtual` stands still between moves; `offset` is a test clock the harness moves that
        // keeps running (real time plus an offset); anything else is real time.
        clock: if matches!(mode.as_str(), "virtual" | "offset") { ClockControl::Control } else { ClockControl::Real },
        frozen: mode == "virtual",
        // The simulator judges its tokens' `exp` on its own clock (TIME-03).
        tokens_follow_clock,
        faults,
        clock_readable: true,
        merchants,
        devices: DeviceSource::Provision { merchant_ids },
        unknown_device,
        min_version: crate::spec::DEFAULT_MIN_VERSION.to_owned(),
        secrets: std::collections::HashMap::new(),
        embedded: None,
    })
}

/// A well-formed device id the simulator does not know.
async fn unprovisioned(client: &Client) -> Result<String, TargetError> {
    for candidate in ["POS-DEADBEEF", "POS-0BADC0DE", "POS-F00DF00D", "POS-C0FFEE00"] {
        let ex = client.send(&ApiRequest::new("GET", &format!("/_sim/devices/{candidate}"))).await;
        if ex.status == Some(404) {
            return Ok(candidate.to_owned());
        }
    }
    Err(TargetError::Setup("every candidate unprovisioned device id is provisioned".into()))
}
