//! The activation rules, pure and synchronous: every operation takes the state and `now` and
//! returns a typed outcome. No HTTP, no clock reads, no randomness except through an injected
//! [`CodeGenerator`]. Rule IDs live in the doc comments of the operations that enforce them.

mod attest;
mod claim;
mod code;
mod config_doc;
mod device;
mod device_admin;
mod keyset;
mod merchant;
mod pairing;
mod secrets;
mod state;
mod status;
mod user;

pub use attest::{AttestError, AttestRequest, Attested, TOKEN_TTL, TokenError, TokenRecord, WINDOW_FUTURE, WINDOW_PAST};
pub use claim::{ClaimError, ClaimRequest, Claimed, OwnClaimError};
pub use code::{CODE_TTL, CodeRecord, CodeState, CodeStatus};
pub use config_doc::{CONFIG_MEMBERS, terminal_parameters_gz};
pub use device::{Device, DeviceStatus};
pub use device_admin::KeyAdminError;
pub use keyset::{ActivateError, KEY_NAMES, Readiness};
pub use merchant::{BadCredentials, Merchant, MerchantIdx};
pub use pairing::{CODE_HISTORY, CodeGenerator, GENERATION_ATTEMPTS, IssuedCode, PairError};
pub use secrets::{DeviceExt, IdentityKey, KeySet, SecretSeed, default_key_id};
pub use state::{ProvisionError, State};
pub use status::StatusView;
pub use user::{BadUserCredentials, PORTAL_CLIENT_ID, User};

/// A well-formed device id that matches no provisioned device (BOOT-07, PAIR-10, STAT-12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("device {0} is not provisioned")]
pub struct DeviceNotFound(pub crate::ids::DeviceId);
