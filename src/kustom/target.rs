//! The Kustom target: where `/ipp/v1` is, the merchants the harness acts as (their API keys and
//! locations), how it registers devices (KFLOW-04), and whether it can reset the target and move
//! its clock. A simulator says all of it through its control API (`/_sim/kustom/merchants`,
//! `/_sim/clock`); a real backend through a profile with `api = "kustom"` ([`KustomProfile`]).

use std::time::Duration;

use serde_json::Value;

use super::check::Answer;
use crate::exchange::Exchange;
use crate::targets::{TargetError, TargetSpec};

#[derive(Debug, Clone)]
pub struct Merchant {
    pub id: String,
    pub key: String,
    /// The HTTP Basic username issued with the key (KAUTH-02).
    pub username: String,
    pub locations: Vec<String>,
}

pub struct Target {
    pub name: String,
    pub base: String,
    pub merchants: Vec<Merchant>,
    /// The target's clock can be moved (`/_sim/clock/advance`).
    pub clock: bool,
    /// The target's clock stands still between moves (`GET /_sim/clock` says `virtual`): only then
    /// are time boundaries exact. Otherwise they are judged over each exchange's window.
    pub frozen: bool,
    /// The target can be put back to its fixtures (`/_sim/reset`): lists then hold only what the
    /// harness made, and are judged in full. Otherwise only what the harness made is judged.
    pub fresh: bool,
    /// The path of the POS app's registration with a code (KREG-03 on the simulator; KREG-04: a
    /// real one is the profile's to name); `None`: registrations by code are not applicable.
    pub registration: Option<String>,
    /// The testing endpoints may be called (a playground, KREG-26).
    pub playground: bool,
    http: reqwest::Client,
    /// A simulator's `--control-token`, sent on `/_sim/` requests only.
    control_token: Option<String>,
    _embedded: Option<viopay_sim::RunningSimulator>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target").field("name", &self.name).field("base", &self.base).finish_non_exhaustive()
    }
}

/// Adds a simulator's control token to a `/_sim/` request.
fn control(req: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
    match token {
        Some(t) => req.header(crate::client::CONTROL_TOKEN_HEADER, t),
        None => req,
    }
}

fn setup(e: impl std::fmt::Display) -> TargetError {
    TargetError::Setup(e.to_string())
}

pub async fn connect(spec: &TargetSpec, timeout: Duration, control_token: Option<String>) -> Result<Target, TargetError> {
    let http = reqwest::Client::builder().timeout(timeout).build().map_err(setup)?;
    let (name, base, embedded) = match spec {
        TargetSpec::Embedded => {
            let mut config = viopay_sim::SimConfig::new(viopay_sim::Fixtures::builtin().map_err(setup)?);
            config.clock = viopay_sim::ClockMode::Virtual;
            config.journal_capacity = 1000;
            let running = viopay_sim::spawn(config, std::net::SocketAddr::from(([127, 0, 0, 1], 0))).await.map_err(setup)?;
            ("embedded simulator".to_owned(), running.base_url.clone(), Some(running))
        }
        TargetSpec::Simulator(url) => (url.clone(), url.trim_end_matches('/').to_owned(), None),
        TargetSpec::Profile(path) => {
            let mut target = KustomProfile::load(path)?.target(http)?;
            target.control_token = control_token;
            return Ok(target);
        }
    };
    let unreachable = |reason: String| TargetError::Unreachable { url: base.clone(), reason };
    let answer = control(http.get(format!("{base}/_sim/kustom/merchants")), control_token.as_deref())
        .send()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    if answer.status() == reqwest::StatusCode::UNAUTHORIZED {
        return Err(TargetError::Usage(format!(
            "{base}'s control API asks for its control token: pass --control-token TOKEN or set VIOPAY_SIM_CONTROL_TOKEN, \
             the value the simulator was started with"
        )));
    }
    let merchants_doc: Value =
        answer.json().await.map_err(|e| setup(format!("{base}/_sim/kustom/merchants is not the simulator's control API: {e}")))?;
    let merchants: Vec<Merchant> = merchants_doc["merchants"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            Some(Merchant {
                id: m["id"].as_str()?.to_owned(),
                key: m["api_key"].as_str()?.to_owned(),
                username: m["username"].as_str()?.to_owned(),
                locations: m["locations"].as_array()?.iter().filter_map(|l| l["id"].as_str().map(str::to_owned)).collect(),
            })
        })
        .filter(|m| !m.locations.is_empty())
        .collect();
    if merchants.len() < 2 {
        return Err(setup("the target needs two Kustom merchants with a location each (KLOC-05)"));
    }
    let merchants = by_locations(merchants);
    // A target other than the simulator names its own registration request (KREG-04).
    let registration = merchants_doc["registration_path"].as_str().unwrap_or("/ipp/v1/devices/register").to_owned();
    let clock: Value = control(http.get(format!("{base}/_sim/clock")), control_token.as_deref())
        .send()
        .await
        .map_err(|e| unreachable(e.to_string()))?
        .json()
        .await
        .unwrap_or(Value::Null);
    Ok(Target {
        name,
        base,
        merchants,
        // `virtual` stands still between moves; `offset` is a test clock that moves and keeps
        // running (real time plus an offset); anything else is real time.
        clock: matches!(clock["mode"].as_str(), Some("virtual" | "offset")),
        frozen: clock["mode"] == "virtual",
        fresh: true,
        registration: Some(registration),
        playground: true,
        http,
        control_token,
        _embedded: embedded,
    })
}

/// A real Kustom deployment (playground or production), in TOML:
///
/// ```toml
/// api = "kustom"
/// base_url = "https://api.playground.kustom.co"
/// playground = true                                # testing endpoints allowed (never on production, KREG-26)
/// registration_path = "/ipp/v1/devices/register"   # the POS app's registration with a code, if known (KREG-04)
/// [[merchants]]                                    # two: the cross-merchant rules need a second one
/// id = "merchant_12345"
/// api_key_env = "KUSTOM_KEY_A"                     # or api_key = "kco_…"
/// locations = ["46910cc3-ab41-4b80-b4a7-94dab9f1b795"]
/// ```
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KustomProfile {
    api: String,
    base_url: String,
    #[serde(default)]
    playground: bool,
    registration_path: Option<String>,
    merchants: Vec<ProfileMerchant>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileMerchant {
    id: String,
    api_key: Option<String>,
    api_key_env: Option<String>,
    username: Option<String>,
    locations: Vec<String>,
}

impl KustomProfile {
    pub fn load(path: &std::path::Path) -> Result<Self, TargetError> {
        let bad = |why: String| TargetError::Setup(format!("{}: {why}", path.display()));
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let profile: KustomProfile = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if profile.api != "kustom" {
            return Err(bad(format!(
                "api = \"{}\": certify it with --api {} (a Kustom profile says api = \"kustom\")",
                profile.api, profile.api
            )));
        }
        if profile.merchants.len() < 2 || profile.merchants.iter().any(|m| m.locations.is_empty()) {
            return Err(bad("two merchants with a location each are needed (the cross-merchant rules)".into()));
        }
        Ok(profile)
    }

    fn target(self, http: reqwest::Client) -> Result<Target, TargetError> {
        let mut merchants = Vec::new();
        for m in self.merchants {
            let key = match (m.api_key, m.api_key_env) {
                (Some(k), _) => k,
                (None, Some(var)) => {
                    std::env::var(&var).map_err(|_| TargetError::Setup(format!("merchant {}: ${var} is not set", m.id)))?
                }
                (None, None) => return Err(TargetError::Setup(format!("merchant {}: give api_key or api_key_env", m.id))),
            };
            let locations = m.locations.iter().map(|l| l.to_lowercase()).collect();
            merchants.push(Merchant { id: m.id, key, username: m.username.unwrap_or_default(), locations });
        }
        let merchants = by_locations(merchants);
        Ok(Target {
            name: self.base_url.clone(),
            base: self.base_url.trim_end_matches('/').to_owned(),
            merchants,
            clock: false,
            frozen: false,
            fresh: false,
            registration: self.registration_path,
            playground: self.playground,
            http,
            control_token: None,
            _embedded: None,
        })
    }
}

/// Merchant `A` is one with the fewest locations, `B` one with the most (stable otherwise): the
/// scenarios exercise both branches of location defaulting (KEN-10) and the cross-merchant rules
/// with A and B, whatever order the target or the profile lists its merchants in.
fn by_locations(mut merchants: Vec<Merchant>) -> Vec<Merchant> {
    merchants.sort_by_key(|m| m.locations.len());
    let most = merchants.iter().enumerate().skip(1).max_by_key(|(i, m)| (m.locations.len(), std::cmp::Reverse(*i))).map(|(i, _)| i);
    if let Some(i) = most {
        merchants.swap(1, i);
    }
    merchants
}

impl Target {
    /// One request with a JSON body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<(Answer, Exchange), String> {
        let body = body.map(Value::to_string);
        let mut headers: Vec<(&str, String)> = headers.to_vec();
        if body.is_some() {
            headers.push(("content-type", "application/json".into()));
        }
        self.exchange(method, path, &headers, body).await
    }

    /// One request as given (any body, any headers), with the exchange a report shows; `Err` when
    /// no answer came.
    pub async fn exchange(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, String)],
        body: Option<String>,
    ) -> Result<(Answer, Exchange), String> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method.clone(), &url);
        if path.starts_with("/_sim/") {
            req = control(req, self.control_token.as_deref());
        }
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        if let Some(b) = &body {
            req = req.body(b.clone());
        }
        let started = std::time::Instant::now();
        let res = req.send().await.map_err(|e| format!("no answer: {e}"))?;
        let status = res.status().as_u16();
        let response_headers: Vec<(String, String)> =
            res.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned())).collect();
        let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let raw = res.text().await.map_err(|e| format!("the answer broke off: {e}"))?;
        let exchange = Exchange {
            method: method.to_string(),
            url,
            request_headers: headers.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
            request_body: body,
            status: Some(status),
            response_headers,
            response_body: raw.clone(),
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            transport_error: None,
        };
        let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
        Ok((Answer { status, content_type, body, raw }, exchange))
    }

    /// Back to the fixtures before a case (the simulator's `/_sim/reset`); nothing to do on a
    /// target that cannot be reset (its lists are then judged on what the harness made only).
    pub async fn reset(&self) -> Result<(), String> {
        if !self.fresh {
            return Ok(());
        }
        let r = control(self.http.post(format!("{}/_sim/reset", self.base)), self.control_token.as_deref())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if r.status().is_success() { Ok(()) } else { Err(format!("/_sim/reset answered {}", r.status())) }
    }

    pub async fn advance(&self, seconds: u64) -> Result<(), String> {
        let r = control(self.http.post(format!("{}/_sim/clock/advance", self.base)), self.control_token.as_deref())
            .json(&serde_json::json!({ "seconds": seconds }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if r.status().is_success() { Ok(()) } else { Err(format!("/_sim/clock/advance answered {}", r.status())) }
    }
}
