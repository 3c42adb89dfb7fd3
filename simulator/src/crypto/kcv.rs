//! Key check values (KEYS-07, MSK-07): the first 3 bytes of the AES-ECB encryption of a 16-byte
//! zero block under the clear key, as 6 uppercase hex characters (the legacy KCV method).

use aes::Aes256;
use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};

use super::Key32;

pub fn kcv(key: &Key32) -> String {
    let cipher = Aes256::new(&Array::from(*key));
    let mut block = Array::from([0u8; 16]);
    cipher.encrypt_block(&mut block);
    hex::encode_upper(&block[..3])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_00_to_1f_has_kcv_f29000() {
        assert_eq!(kcv(&std::array::from_fn(|i| i as u8)), "F29000");
    }
}
