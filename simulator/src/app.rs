//! The composition root: builds each concern's state from a [`SimConfig`], and the router over
//! them. Every concern owns its state and its lock (VioPay's store, Kustom's store, faults, the
//! journal, the clock, the token issuer, portal sessions, automatic claims, the live verdict, the
//! settings); [`App`] only holds them and hands each out as an axum substate (`FromRef`), so a
//! handler takes exactly what it uses (`State<Arc<Clock>>`, `State<Arc<ViopayStore>>`, …).
//!
//! Nothing below this module imports it: the routers of `http`, `kustom`, `control` and `portal`
//! are generic over the root state and name the substates they need as `FromRef` bounds.

use std::sync::{Arc, Weak};

use axum::Router;
use axum::extract::FromRef;

use crate::auth::{KeyError, SigningKey, TokenIssuer};
use crate::auto_claim::AutoClaims;
use crate::clock::{Clock, ClockMode};
use crate::config::{DEFAULT_MIN_VERSION, KeySource, SEEDED_START, SimConfig};
use crate::control::Restart;
use crate::faults::Faults;
use crate::http::envelope::{Envelope, EnvelopeLayer};
use crate::ids::AppVersion;
use crate::journal::Journal;
use crate::kustom::KustomStore;
use crate::portal::{ApiClient, Sessions};
use crate::settings::Settings;
use crate::store::ViopayStore;
use crate::trace::TraceIds;
use crate::verdict::live::Live;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
}

/// Declares [`Parts`] and, for each of its substates, the `FromRef` that hands it out: each
/// concern is named once, with where it lives and its type.
macro_rules! parts {
    (
        substates { $($(#[$doc:meta])* $field:ident: $ty:ty,)* }
        own { $($(#[$own_doc:meta])* $own:ident: $own_ty:ty,)* }
    ) => {
        /// Every concern's state, each behind its own `Arc` so that a handler's substate is one clone.
        struct Parts {
            $($(#[$doc])* $field: $ty,)*
            $($(#[$own_doc])* $own: $own_ty,)*
        }

        // `FromRef` for each substate: the only place that knows where each concern lives.
        $(impl FromRef<App> for $ty {
            fn from_ref(app: &App) -> Self {
                app.0.$field.clone()
            }
        })*
    };
}

parts! {
    substates {
        clock: Arc<Clock>,
        store: Arc<ViopayStore>,
        kustom: Arc<KustomStore>,
        faults: Arc<Faults>,
        journal: Arc<Journal>,
        trace: Arc<TraceIds>,
        tokens: Arc<TokenIssuer>,
        key: Arc<SigningKey>,
        portal: Arc<Sessions>,
        auto_claims: Arc<AutoClaims>,
        settings: Arc<Settings>,
        /// `/_sim/reset`'s reach: every concern that has a start to go back to.
        restart: Restart,
        /// The portal's way into the API (built per call from a weak handle on these parts, so the
        /// parts do not own themselves).
        api: ApiClient,
    }
    own {
        /// What the envelope layer reads on every request (clock, trace ids, faults, journal, live
        /// verdict, automatic claims).
        envelope: EnvelopeLayer,
    }
}

/// The root state of the router: cheap to clone (one `Arc`).
#[derive(Clone)]
pub(crate) struct App(Arc<Parts>);

impl FromRef<App> for crate::auth::grant::Grants {
    fn from_ref(app: &App) -> Self {
        crate::auth::grant::Grants { clock: app.0.clock.clone(), store: app.0.store.clone(), tokens: app.0.tokens.clone() }
    }
}

impl App {
    pub(crate) fn new(config: SimConfig, base_url: &str) -> Result<Self, SimError> {
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
        let faults = Arc::new(Faults::new(seed, config.fault_profiles, config.arm_profiles).map_err(|e| SimError::Config(e.to_string()))?);
        let mut fixtures = config.fixtures;
        let state = std::mem::take(&mut fixtures.state);
        let kustom = std::mem::take(&mut fixtures.kustom);

        let clock = Arc::new(clock);
        let store = Arc::new(ViopayStore::new(state, seed));
        let kustom = Arc::new(KustomStore::new(kustom, seed));
        let journal = Arc::new(Journal::new(config.journal_capacity));
        let trace = Arc::new(TraceIds::new(seed));
        let live = Arc::new(Live::default());
        let auto_claims = Arc::new(AutoClaims::new(config.auto_claim, store.clone(), journal.clone(), trace.clone()));
        let settings = Arc::new(Settings {
            min_version,
            realm: config.realm,
            listen_url,
            base_url,
            control: config.control,
            control_token: config.control_token,
            chunk_size: config.chunk_size,
        });
        let envelope = EnvelopeLayer::new(Arc::new(Envelope {
            clock: clock.clone(),
            trace: trace.clone(),
            faults: faults.clone(),
            journal: journal.clone(),
            live: live.clone(),
            auto_claims: auto_claims.clone(),
        }));
        let restart = Restart {
            fixtures: Arc::new(fixtures),
            clock: clock.clone(),
            store: store.clone(),
            kustom: kustom.clone(),
            journal: journal.clone(),
            faults: faults.clone(),
            trace: trace.clone(),
            auto_claims: auto_claims.clone(),
            live,
        };
        let parts = Arc::new_cyclic(|me: &Weak<Parts>| {
            let me = me.clone();
            Parts {
                clock,
                store,
                kustom,
                faults,
                journal,
                trace,
                tokens: Arc::new(TokenIssuer::new(key.clone(), issuer, config.token_ttl)),
                key,
                portal: Arc::new(Sessions::default()),
                auto_claims,
                settings,
                envelope,
                restart,
                api: ApiClient::new(move || me.upgrade().map(|parts| App(parts).api_router())),
            }
        });
        Ok(App(parts))
    }

    /// The API's own routes: VioPay's endpoints and realm, and Kustom's `/ipp/v1`.
    fn api_routes() -> Router<App> {
        crate::http::routes().merge(crate::kustom::routes())
    }

    /// The whole application: every API route, the control API and the portal when enabled, the
    /// generic errors and the envelope. Tests drive it without a socket.
    pub(crate) fn router(&self) -> Router {
        let mut routes = Self::api_routes();
        let settings = &self.0.settings;
        if settings.control {
            routes = routes
                .merge(crate::control::routes(settings.clone()))
                .merge(crate::portal::routes(settings.clone(), self.0.portal.clone()));
        }
        crate::http::finish(routes, self.0.envelope.clone(), self.clone())
    }

    /// The API alone, as a client of it sees it (the portal's claims go through it, journaled and
    /// faulted like any other request).
    fn api_router(&self) -> Router {
        crate::http::finish(Self::api_routes(), self.0.envelope.clone(), self.clone())
    }

    /// The start-up text: address, clock, merchants with credentials, devices, a first curl.
    pub(crate) fn summary(&self) -> String {
        let p = &self.0;
        crate::summary::render(&crate::summary::Parts {
            store: &p.store,
            kustom: &p.kustom,
            clock: &p.clock,
            tokens: &p.tokens,
            settings: &p.settings,
            fixtures_source: &p.restart.fixtures.source,
        })
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.0.settings.base_url
    }
}

fn now_whole_second() -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;
    use crate::fixtures::Fixtures;

    async fn panics() -> &'static str {
        panic!("a defect in a handler")
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_the_500_envelope_and_is_journaled() {
        let mut config = SimConfig::new(Fixtures::builtin().expect("fixtures"));
        config.seed = Some(1);
        let app = App::new(config, "http://sim.test").expect("sim");
        let router: Router = Router::new().route("/boom", get(panics)).layer(app.0.envelope.clone());
        let res = router.oneshot(Request::get("/boom").body(Body::empty()).expect("request")).await.expect("infallible");
        assert_eq!(res.status(), 500);
        let trace = res.headers().get("x-trace-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let body: serde_json::Value = serde_json::from_slice(&res.into_body().collect().await.expect("body").to_bytes()).expect("JSON");
        assert_eq!((body["error"]["code"].as_str(), body["error"]["trace_id"].as_str()), (Some("5000"), Some(trace.as_str())));
        let entry = app.0.journal.entries(None, Some(10)).0.into_iter().last().expect("journaled");
        assert!(entry.warning.as_deref().is_some_and(|w| w.contains("a defect in a handler")), "{entry:?}");
    }

    /// Issue 20: a fleet onboarding at once (each terminal asking for a code and polling, with a
    /// `User-Agent` the live log reports) leaves the simulator's per-request memory at its bounds:
    /// the journal at its ring's capacity, the live log's memory of reported rules at its cap.
    #[tokio::test]
    async fn a_fleet_onboarding_keeps_the_journal_and_the_live_log_bounded() {
        const DEVICES: u32 = 6_000;
        let fixtures = Fixtures::parse(
            &format!(
                "[[merchants]]\nid = \"550e8400-e29b-41d4-a716-446655440000\"\nname = \"Fleet\"\nclient_id = \"fleet\"\n\
                 client_secret = \"fleet-secret\"\n[[device_ranges]]\nmerchant_id = \"550e8400-e29b-41d4-a716-446655440000\"\n\
                 first = \"POS-A0000000\"\ncount = {DEVICES}\n"
            ),
            "fleet",
        )
        .expect("fixtures");
        let mut config = SimConfig::new(fixtures);
        config.seed = Some(7);
        config.journal_capacity = 500;
        let app = App::new(config, "http://sim.test").expect("sim");
        let router = app.router();
        let request = |method: &str, path: &str, device: &str| {
            Request::builder()
                .method(method)
                .uri(path)
                .header("X-Device-Id", device)
                // Not the documented shape (CLI-02, CLI-03): every device has the live log remember it.
                .header("User-Agent", "Viopay-POS/1.4.2")
                .header("X-Client-Type", "pos")
                .body(Body::empty())
                .expect("request")
        };
        for i in 0..DEVICES {
            let device = format!("POS-{:08X}", 0xA000_0000_u32 + i);
            for (method, path) in [("POST", "/pos/pairing-code"), ("GET", "/pos/status")] {
                let res = router.clone().oneshot(request(method, path, &device)).await.expect("infallible");
                assert_eq!(res.status(), 200, "{method} {path} for {device}");
            }
        }
        let (entries, total) = app.0.journal.entries(None, None);
        assert_eq!((entries.len(), total), (500, u64::from(DEVICES) * 2), "the ring keeps its newest 500 of every exchange");
        let remembered = app.0.envelope.remembered_live();
        assert!(remembered > 0 && remembered <= 10_000, "the live log remembers {remembered} (device, rule) pairs");
    }
}
