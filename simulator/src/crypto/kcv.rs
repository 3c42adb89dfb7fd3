//! Key check values (KEYS-07, MSK-07): the first 3 bytes of the AES-ECB encryption of a 16-byte
//! zero block under the clear key, as 6 uppercase hex characters (the legacy KCV method).

use aes::Aes256;
use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};

use super::Key32;

pub fn kcv(key: &Key32) -> Kcv {
    let cipher = Aes256::new(&Array::from(*key));
    let mut block = Array::from([0u8; 16]);
    cipher.encrypt_block(&mut block);
    let mut text = [0u8; 6];
    // Six hex digits for three bytes: the buffer is exactly the size.
    let _ = hex::encode_to_slice_upper(&block[..3], &mut text);
    Kcv(text)
}

/// A KCV's six uppercase hex digits, held inline: a key set carries six, and is copied out of the
/// store on every keys call, so no allocation each.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Kcv([u8; 6]);

impl Kcv {
    pub fn as_str(&self) -> &str {
        // Only hex digits are ever written into it.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl std::fmt::Display for Kcv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for Kcv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl serde::Serialize for Kcv {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_00_to_1f_has_kcv_f29000() {
        assert_eq!(kcv(&std::array::from_fn(|i| i as u8)).as_str(), "F29000");
    }
}
