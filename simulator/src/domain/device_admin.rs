//! The simulator's own provisioning of steps 5–8 state: identity keys (IDK-06) and a
//! device reset, so a firmware can run activation again. Not part of the VioPay API.

use super::DeviceNotFound;
use super::device::DeviceStatus;
use super::secrets::IdentityKey;
use super::state::State;
use crate::crypto::Key32;
use crate::ids::DeviceId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KeyAdminError {
    #[error(transparent)]
    Device(#[from] DeviceNotFound),
    #[error("key id `{0}` must be 1 to 128 visible ASCII characters")]
    InvalidKeyId(String),
    #[error("device {device} already has an identity key `{key_id}`")]
    Duplicate { device: DeviceId, key_id: String },
    #[error("device {device} has no identity key `{key_id}`")]
    Unknown { device: DeviceId, key_id: String },
}

impl State {
    /// IDK-06: adds an identity key; it revokes no other. Key ids belong to one device (IDK-02).
    pub(crate) fn add_identity_key(&mut self, id: DeviceId, key_id: String, secret: Key32) -> Result<IdentityKey, KeyAdminError> {
        if key_id.is_empty() || key_id.len() > 128 || !key_id.bytes().all(|b| (0x21..=0x7E).contains(&b)) {
            return Err(KeyAdminError::InvalidKeyId(key_id));
        }
        let mut keys = self.identity_keys(id);
        if !self.contains_device(id) {
            return Err(DeviceNotFound(id).into());
        }
        if keys.iter().any(|k| k.key_id == key_id) {
            return Err(KeyAdminError::Duplicate { device: id, key_id });
        }
        let key = IdentityKey { key_id, secret, revoked: false };
        keys.push(key.clone());
        self.device_ext_mut(id)?.identity_keys = Some(keys);
        Ok(key)
    }

    /// IDK-06: a revoked key stays revoked and attest refuses its id (ATT-30); tokens already
    /// issued stay valid (ATT-19).
    pub(crate) fn revoke_identity_key(&mut self, id: DeviceId, key_id: &str) -> Result<(), KeyAdminError> {
        let mut keys = self.identity_keys(id);
        let key =
            keys.iter_mut().find(|k| k.key_id == key_id).ok_or_else(|| KeyAdminError::Unknown { device: id, key_id: key_id.to_owned() })?;
        key.revoked = true;
        self.device_ext_mut(id)?.identity_keys = Some(keys);
        Ok(())
    }

    /// Back to `inactive` with no code, no claim, no key set, no tokens and no activation; the
    /// device keeps its provisioning merchant, identity keys, ZMK and terminal id.
    pub(crate) fn reset_device(&mut self, id: DeviceId) -> Result<(), DeviceNotFound> {
        let device = self.devices.get_mut(&id).ok_or(DeviceNotFound(id))?;
        device.status = DeviceStatus::Inactive;
        device.claimed_by = None;
        let codes = std::mem::take(&mut device.codes);
        if let Some(ext) = device.ext.as_mut() {
            ext.key_set = None;
            ext.activated_at = None;
            ext.nonces.clear();
        }
        for record in codes {
            if self.codes.get(&record.code) == Some(&id) {
                self.codes.remove(&record.code);
            }
        }
        self.tokens.retain(|_, r| r.device != id);
        Ok(())
    }
}
