//! The configuration values handlers read once the simulator is built, resolved from
//! [`crate::SimConfig`] by the composition root. A module of its own, apart from `config`: the
//! handlers that read these need nothing of how a simulator is configured (fixtures, profiles).

use crate::ids::AppVersion;

/// The configuration values handlers read once the simulator is built (resolved from
/// [`crate::SimConfig`] by the composition root): fixed for the simulator's life, so shared without a
/// lock.
#[derive(Debug)]
pub(crate) struct Settings {
    /// BOOT-06.
    pub(crate) min_version: AppVersion,
    /// The Keycloak realm of the token issuer (AUTH-03).
    pub(crate) realm: String,
    /// Where the simulator listens (`http://{bound address}`).
    pub(crate) listen_url: String,
    /// Where clients reach it: `--public-url`, else the listen URL. Tokens name it as issuer.
    pub(crate) base_url: String,
    /// The control API and the portal are served.
    pub(crate) control: bool,
    /// `--control-token`: what the control API and the portal's simulator panel require.
    pub(crate) control_token: Option<String>,
    /// TPAR-06: bytes of gzip stream per terminal-parameters chunk.
    pub(crate) chunk_size: usize,
}
