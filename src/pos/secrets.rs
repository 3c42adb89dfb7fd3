//! What the harness must know to act as a device in steps 5–8: its identity key (to sign attests)
//! and its ZMK (to unwrap the TMK). On a simulator the control API shows both (IDK-01…IDK-04); a
//! profile gives them per device, or the scenarios that need them are "n/a".

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::Key32;

#[derive(Clone, PartialEq, Eq)]
pub struct DeviceSecrets {
    pub identity_key_id: String,
    pub identity_secret: Vec<u8>,
    pub zmk: Option<Key32>,
}

/// Secrets stay out of logs and reports.
impl std::fmt::Debug for DeviceSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceSecrets").field("identity_key_id", &self.identity_key_id).finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("{0} is not standard Base64")]
    Base64(&'static str),
    #[error("the ZMK is {0} bytes, not 32 (AES-256)")]
    ZmkLength(usize),
}

impl DeviceSecrets {
    /// From the Base64 texts that fixtures, the control API and profiles use (IDK-03, IDK-04).
    pub fn parse(identity_key_id: &str, identity_secret_b64: &str, zmk_b64: Option<&str>) -> Result<Self, SecretError> {
        let identity_secret = STANDARD.decode(identity_secret_b64.trim()).map_err(|_| SecretError::Base64("the identity secret"))?;
        let zmk = match zmk_b64 {
            None => None,
            Some(z) => {
                let bytes = STANDARD.decode(z.trim()).map_err(|_| SecretError::Base64("the ZMK"))?;
                let len = bytes.len();
                Some(bytes.try_into().map_err(|_| SecretError::ZmkLength(len))?)
            }
        };
        Ok(DeviceSecrets { identity_key_id: identity_key_id.to_owned(), identity_secret, zmk })
    }
}
