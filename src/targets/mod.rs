//! Where requests go and what the target can do. Three kinds, one shape: the embedded simulator,
//! a running simulator reached by URL (the harness provisions through `/_sim/`), or a real
//! deployment described by a profile.

mod connect;
mod pool;

use std::time::Duration;

pub use connect::{ConnectOptions, TargetError, TargetSpec, connect};

/// Merchant labels in scenarios and fuzz output: the first merchant is `A`, the second `B`, ….
pub const LABELS: [&str; 26] =
    ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z"];
pub use pool::{DevicePools, Exhausted};

use crate::client::{ApiRequest, Client};
use crate::pos::DeviceSecrets;

/// How time can be moved on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockControl {
    /// `POST /_sim/clock/advance {"seconds": N}`: expiry scenarios take one call.
    Control,
    /// Wall clock: expiry scenarios wait for real (`@slow`).
    Real,
}

/// A merchant the harness acts as: `A` is the first, `B` the second (ownership needs two), …
#[derive(Debug, Clone)]
pub struct Merchant {
    pub label: &'static str,
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
}

/// Where fresh devices come from.
#[derive(Debug)]
pub enum DeviceSource {
    /// A simulator: provision a new device of the merchant through `POST /_sim/devices`.
    Provision { merchant_ids: Vec<String> },
    /// A profile's finite pools of inactive devices.
    Pools(DevicePools),
}

#[derive(Debug)]
pub struct Target {
    /// Human description: "embedded simulator", the URL, or the profile path.
    pub description: String,
    pub base_url: String,
    pub clock: ClockControl,
    /// The target's clock stands still between the harness's moves (the simulator's virtual
    /// clock; a profile's `[clock] frozen = true`). Only then are time boundaries judged exactly;
    /// a clock that keeps running (real time, or a test clock that adds an offset to it) is
    /// judged with the tolerance of real time.
    pub frozen: bool,
    /// AUTH-14: the target's Bearer tokens expire on the clock the harness moves. True for the
    /// simulator; for a profile only when it says so (`[clock] tokens_follow = true`): a real
    /// identity provider's clock is real time, whatever the backend's test clock says.
    pub tokens_follow_clock: bool,
    /// `/_sim/faults` is available (PAIR-08 can be forced).
    pub faults: bool,
    /// `GET /_sim/clock` tells the target's time (to compare `server_time` with, BOOT-03).
    pub clock_readable: bool,
    pub merchants: Vec<Merchant>,
    pub devices: DeviceSource,
    pub unknown_device: String,
    /// The `min_supported_version` the target is configured with (BOOT-06).
    pub min_version: String,
    /// A profile's device secrets by device id (steps 5–8); a simulator shows them instead.
    pub secrets: std::collections::HashMap<String, DeviceSecrets>,
    /// Keeps the embedded simulator alive for the run.
    pub embedded: Option<viopay_sim::RunningSimulator>,
}

impl Target {
    /// A fresh inactive device of merchant `label` (`A` or `B`).
    pub async fn take_device(&self, client: &Client, label: &str) -> Result<String, TakeError> {
        let index = self.merchant_index(label)?;
        match &self.devices {
            DeviceSource::Pools(pools) => loop {
                let id = pools.take(index).map_err(TakeError::Exhausted)?;
                // A real backend keeps what earlier runs did to its devices: only one that reads
                // inactive with no code (its starting state, STAT-03) is fresh; others are skipped,
                // never judged.
                let ex = client.send(&crate::session::Session::pos("GET", "/pos/status", &id)).await;
                let v = ex.json().unwrap_or_default();
                let fresh = ex.status == Some(200) && v["device_status"] == "inactive" && v["pairing_code_status"] == "none";
                if fresh || ex.status != Some(200) {
                    return Ok(id);
                }
                pools.skip(index);
            },
            DeviceSource::Provision { merchant_ids } => {
                let body = serde_json::json!({ "merchant_id": merchant_ids[index] });
                let ex = client.send(&ApiRequest::new("POST", "/_sim/devices").json(&body)).await;
                let id = ex.json().and_then(|v| v["device_ids"][0].as_str().map(str::to_owned));
                id.ok_or_else(|| TakeError::Provisioning(ex.excerpt()))
            }
        }
    }

    /// The harness provisions devices and merchants itself through `/_sim/` (identity keys and key
    /// rotation too: IDK-06, KEYS-14).
    pub fn provisions(&self) -> bool {
        matches!(self.devices, DeviceSource::Provision { .. })
    }

    /// The id of merchant `label` where the harness created it (CFG-07's defaults then apply).
    pub fn merchant_id(&self, label: &str) -> Option<String> {
        let DeviceSource::Provision { merchant_ids } = &self.devices else { return None };
        merchant_ids.get(self.merchant_index(label).ok()?).cloned()
    }

    /// What the harness needs to act as device `id` in steps 5–8: on a simulator its control API
    /// shows the device's first active identity key and its ZMK (IDK-01…IDK-04); a profile gives
    /// them per device. `Err` says why there are none (the scenario is then "n/a").
    pub async fn device_secrets(&self, client: &Client, id: &str) -> Result<DeviceSecrets, String> {
        if !self.provisions() {
            return self.secrets.get(id).cloned().ok_or_else(|| {
                format!("the profile gives no identity key for {id}: give its entry identity_key_id and identity_secret_env (and zmk_env for steps 6–8)")
            });
        }
        let ex = client.send(&ApiRequest::new("GET", &format!("/_sim/devices/{id}"))).await;
        let v = ex.json().filter(|_| ex.status == Some(200)).ok_or_else(|| format!("GET /_sim/devices/{id}: {}", ex.excerpt()))?;
        let key = v["identity_keys"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|k| k["revoked"] != true)
            .ok_or_else(|| format!("{id} has no active identity key"))?;
        DeviceSecrets::parse(key["key_id"].as_str().unwrap_or_default(), key["secret"].as_str().unwrap_or_default(), v["zmk"].as_str())
            .map_err(|e| format!("GET /_sim/devices/{id}: {e}"))
    }

    pub fn merchant(&self, label: &str) -> Result<&Merchant, TakeError> {
        Ok(&self.merchants[self.merchant_index(label)?])
    }

    fn merchant_index(&self, label: &str) -> Result<usize, TakeError> {
        self.merchants.iter().position(|m| m.label == label).ok_or_else(|| TakeError::NoMerchant(label.to_owned()))
    }

    /// Moves the target's clock, or waits for real.
    pub async fn advance(&self, client: &Client, seconds: u32) -> Result<(), String> {
        match self.clock {
            ClockControl::Real => {
                tokio::time::sleep(Duration::from_secs(u64::from(seconds))).await;
                Ok(())
            }
            ClockControl::Control => {
                let ex =
                    client.send(&ApiRequest::new("POST", "/_sim/clock/advance").json(&serde_json::json!({ "seconds": seconds }))).await;
                if ex.status == Some(200) { Ok(()) } else { Err(format!("cannot move the target clock: {}", ex.excerpt())) }
            }
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum TakeError {
    #[error(transparent)]
    Exhausted(Exhausted),
    #[error("cannot provision a device: {0}")]
    Provisioning(String),
    #[error("no merchant {0}: scenarios use merchants A and B")]
    NoMerchant(String),
}
