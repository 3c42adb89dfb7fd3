//! `viopay-sim`: a stateful simulator of the VioPay POS device activation API (steps 1–8 and
//! merchant auth), on a controllable clock, with armed network faults and a verdict on the POS
//! client it served (§5.8).
//!
//! Layout: `domain` holds the rules (pure, `now` passed in); `http` is the thin axum layer over it;
//! `kustom` serves Kustom's `/ipp/v1` the same way; `control` is the `/_sim/` API; `portal` the
//! merchant portal at `/portal`; `clock` is the one clock every time rule reads; `app` composes
//! them. To find the code for a rule, grep its ID (`CLAIM-16`, `PAIR-07`, …).
//!
//! The public surface is this facade: [`Simulator`], [`spawn`], [`serve`], [`serve_tls`] and their
//! configuration, plus what the binary, the harness and the integration tests use (the command
//! line, TLS, the verdict command and rule table, the terminal-side cryptography, RFC 3339 times,
//! and a few domain types). Everything else is `pub(crate)`.

pub(crate) mod app;
pub(crate) mod auth;
pub(crate) mod auto_claim;
pub mod cli;
pub(crate) mod clock;
pub(crate) mod config;
mod control;
pub mod crypto;
pub(crate) mod domain;
pub(crate) mod endpoints;
pub(crate) mod errors;
pub(crate) mod faults;
pub(crate) mod fixtures;
pub(crate) mod http;
pub(crate) mod ids;
pub(crate) mod journal;
pub(crate) mod json_num;
pub(crate) mod kustom;
pub(crate) mod media;
mod portal;
pub(crate) mod settings;
pub(crate) mod store;
mod summary;
pub mod time_fmt;
pub mod tls;
pub(crate) mod trace;
pub mod verdict;

use std::future::Future;
use std::net::SocketAddr;

pub use app::SimError;
pub use auth::{AccessClaims, AuthError, KeyError, SigningKey, TokenIssuer};
pub use clock::ClockMode;
pub use config::{KeySource, SimConfig};
pub use domain::Merchant;
pub use faults::{FaultError, ProfileError, Profiles};
pub use fixtures::{BUILTIN_TOML, FixtureError, Fixtures};
pub use ids::{AppVersion, InvalidVersion};

/// A configured simulator, ready to serve.
#[derive(Clone)]
pub struct Simulator {
    app: app::App,
}

impl Simulator {
    /// `base_url` is where clients reach it (used as the token issuer unless
    /// [`SimConfig::public_url`] overrides it).
    pub fn new(config: SimConfig, base_url: &str) -> Result<Self, SimError> {
        Ok(Simulator { app: app::App::new(config, base_url)? })
    }

    /// The whole application as an axum `Router`; tests can drive it without a socket.
    pub fn router(&self) -> axum::Router {
        self.app.router()
    }

    /// The start-up text: address, clock, merchants with credentials, devices, a first curl.
    pub fn summary(&self) -> String {
        self.app.summary()
    }

    pub fn base_url(&self) -> &str {
        self.app.base_url()
    }
}

/// A simulator serving on a socket in the background; stops when dropped.
pub struct RunningSimulator {
    pub addr: SocketAddr,
    pub base_url: String,
    pub simulator: Simulator,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for RunningSimulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSimulator").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        // Dropping a JoinHandle does not stop `axum::serve`: abort it.
        self.task.abort();
    }
}

/// Binds `addr` (port 0 for a random port), builds the simulator with `http://{bound address}` as
/// its base URL and serves it on the current tokio runtime.
pub async fn spawn(config: SimConfig, addr: SocketAddr) -> Result<RunningSimulator, SimError> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| SimError::Bind { addr: addr.to_string(), source })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind { addr: addr.to_string(), source })?;
    let base_url = format!("http://{addr}");
    let simulator = Simulator::new(config, &base_url)?;
    let app = simulator.router();
    let task = tokio::spawn(async move {
        if let Err(e) =
            axum::serve(faults::ConnectionListener::new(listener), app.into_make_service_with_connect_info::<faults::ConnHandle>()).await
        {
            tracing::error!(error = %e, "simulator server stopped");
        }
    });
    Ok(RunningSimulator { addr, base_url, simulator, task })
}

/// Serves on an already bound listener until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    simulator: &Simulator,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(faults::ConnectionListener::new(listener), simulator.router().into_make_service_with_connect_info::<faults::ConnHandle>())
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves HTTPS on an already bound listener until `shutdown` completes (`--tls`).
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    simulator: &Simulator,
    config: std::sync::Arc<tokio_rustls::rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(tls::TlsListener::new(listener, config)?, simulator.router().into_make_service_with_connect_info::<faults::ConnHandle>())
        .with_graceful_shutdown(shutdown)
        .await
}
