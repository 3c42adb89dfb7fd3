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

pub(crate) use attest::{AttestError, AttestRequest, TOKEN_TTL};
pub(crate) use claim::{ClaimError, ClaimRequest, OwnClaimError};
pub(crate) use code::CodeStatus;
pub(crate) use config_doc::{CONFIG_MEMBERS, terminal_parameters_gz};
pub(crate) use device::DeviceStatus;
pub(crate) use device_admin::KeyAdminError;
pub(crate) use keyset::{ActivateError, KEY_NAMES, Readiness};
pub use merchant::Merchant;
pub(crate) use merchant::MerchantIdx;
pub(crate) use pairing::PairError;
pub(crate) use secrets::{IdentityKey, KeySet, SecretSeed, default_key_id};
pub(crate) use state::{ProvisionError, State};
pub(crate) use status::StatusView;
pub(crate) use user::{PORTAL_CLIENT_ID, User};

/// A well-formed device id that matches no provisioned device (BOOT-07, PAIR-10, STAT-12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("device {0} is not provisioned")]
pub(crate) struct DeviceNotFound(pub crate::ids::DeviceId);
