//! TR-31 key block unwrapping, version `D` (ANSI X9.143, AES key derivation binding method), as a
//! terminal does it: derive the encryption and authentication keys from the wrapping key with
//! CMAC in counter mode (NIST SP 800-108), decrypt the key data with AES-CBC using the block's MAC
//! as the IV, and verify the MAC (CMAC over the header and the clear key data). Only unwrapping:
//! the harness never issues keys.

use aes::Aes256;
use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockModeDecrypt, KeyIvInit};
use cmac::{Cmac, KeyInit, Mac};

use super::Key32;

/// The header of a key block: 16 characters, then the optional blocks it announces (X9.143; the
/// simulator sends none, KEYS-10 is its choice, so a real server's `KP`, `KS`, `PB`… blocks are
/// read, bound into the MAC and otherwise left to the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockHeader {
    pub version: char,
    /// The length field: the whole block's length in characters.
    pub length: String,
    pub usage: String,
    pub algorithm: char,
    pub mode_of_use: char,
    pub key_version: String,
    pub exportability: char,
    pub optional_blocks: String,
    pub reserved: String,
    /// The optional blocks: identifier and data.
    pub blocks: Vec<(String, String)>,
    /// Characters of the whole header, optional blocks included (what the MAC covers first).
    pub size: usize,
}

impl BlockHeader {
    pub fn parse(block: &str) -> Option<Self> {
        let h = block.get(..16)?;
        let c: Vec<char> = h.chars().collect();
        if c.len() != 16 {
            return None;
        }
        let count: usize = h[12..14].parse().ok()?;
        let mut blocks = Vec::with_capacity(count);
        let mut at = 16;
        for _ in 0..count {
            let id = block.get(at..at + 2)?.to_owned();
            let short = usize::from_str_radix(block.get(at + 2..at + 4)?, 16).ok()?;
            // A length of 00 announces the extended form: two hex digits giving the number of
            // bytes of the length that follows, written in hex.
            let (len, data_from) = if short == 0 {
                let bytes = usize::from_str_radix(block.get(at + 4..at + 6)?, 16).ok()?;
                let len = usize::from_str_radix(block.get(at + 6..at + 6 + 2 * bytes)?, 16).ok()?;
                (len, at + 6 + 2 * bytes)
            } else {
                (short, at + 4)
            };
            if len < data_from - at {
                return None;
            }
            blocks.push((id, block.get(data_from..at + len)?.to_owned()));
            at += len;
        }
        Some(BlockHeader {
            version: c[0],
            length: h[1..5].to_owned(),
            usage: h[5..7].to_owned(),
            algorithm: c[7],
            mode_of_use: c[8],
            key_version: h[9..11].to_owned(),
            exportability: c[11],
            optional_blocks: h[12..14].to_owned(),
            reserved: h[14..16].to_owned(),
            blocks,
            size: at,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnwrapError {
    #[error("not an ASCII key block of at least 16 + 32 + 32 characters")]
    Shape,
    #[error("version `{0}`: the harness unwraps version D (AES) blocks")]
    Version(char),
    #[error("the length field `{field}` does not match the block's {actual} characters")]
    Length { field: String, actual: usize },
    #[error("the key data or the MAC is not hex of whole 16-byte blocks")]
    Hex,
    #[error("the MAC does not verify under the parent key: wrapped under another key, or altered")]
    Mac,
    #[error("the decrypted key length field does not fit the key data")]
    KeyLength,
}

fn cmac(key: &Key32, parts: &[&[u8]]) -> [u8; 16] {
    // An AES-256 CMAC accepts every 32-byte key.
    let Ok(mut mac) = <Cmac<Aes256> as KeyInit>::new_from_slice(key) else { return [0; 16] };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// SP 800-108 counter mode with CMAC: counter, key usage indicator (0000 encryption, 0001 MAC),
/// separator, algorithm indicator (0004: AES-256) and length in bits (0100), two blocks.
fn derived(kbpk: &Key32, usage_indicator: u8) -> Key32 {
    let mut out = [0u8; 32];
    for (i, half) in out.chunks_mut(16).enumerate() {
        let counter = u8::try_from(i + 1).unwrap_or(1);
        half.copy_from_slice(&cmac(kbpk, &[&[counter, 0x00, usage_indicator, 0x00, 0x00, 0x04, 0x01, 0x00]]));
    }
    out
}

/// Unwraps `block` under `kbpk`: the header and the clear key.
pub fn unwrap(kbpk: &Key32, block: &str) -> Result<(BlockHeader, Vec<u8>), UnwrapError> {
    if !block.is_ascii() || block.len() < 16 + 32 + 32 {
        return Err(UnwrapError::Shape);
    }
    let header = BlockHeader::parse(block).ok_or(UnwrapError::Shape)?;
    if header.version != 'D' {
        return Err(UnwrapError::Version(header.version));
    }
    if header.length.parse::<usize>().ok() != Some(block.len()) {
        return Err(UnwrapError::Length { field: header.length.clone(), actual: block.len() });
    }
    let size = header.size;
    if block.len() < size + 32 + 32 {
        return Err(UnwrapError::Shape);
    }
    let (data_hex, mac_hex) = block[size..].split_at(block.len() - size - 32);
    let encrypted = hex::decode(data_hex).map_err(|_| UnwrapError::Hex)?;
    let mac: [u8; 16] = hex::decode(mac_hex).ok().and_then(|m| m.try_into().ok()).ok_or(UnwrapError::Hex)?;
    if encrypted.is_empty() || encrypted.len() % 16 != 0 {
        return Err(UnwrapError::Hex);
    }
    let kbek = derived(kbpk, 0x00);
    let kbak = derived(kbpk, 0x01);
    let clear = cbc::Decryptor::<Aes256>::new(&kbek.into(), &mac.into())
        .decrypt_padded_vec::<NoPadding>(&encrypted)
        .map_err(|_| UnwrapError::Hex)?;
    let expected = cmac(&kbak, &[&block.as_bytes()[..size], &clear]);
    // Not secret-dependent timing that matters here: the harness verifies, it is not an oracle.
    if expected != mac {
        return Err(UnwrapError::Mac);
    }
    let bits = usize::from(u16::from_be_bytes([clear[0], clear[1]]));
    if bits == 0 || bits % 8 != 0 || 2 + bits / 8 > clear.len() {
        return Err(UnwrapError::KeyLength);
    }
    Ok((header, clear[2..2 + bits / 8].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block produced by `psec` 1.3.0 (`psec.tr31.wrap(bytes(range(32)), "D0000K0AB00E0000",
    /// bytes(range(32, 64)))`), recorded here so that this unit test needs no Python; the live
    /// cross-check against psec is `tests/harness/tr31_psec.rs`.
    const PSEC_BLOCK: &str = include_str!("tr31_psec_vector.txt");

    #[test]
    fn unwraps_a_block_wrapped_by_psec() {
        let kbpk: Key32 = std::array::from_fn(|i| i as u8);
        let (header, key) = unwrap(&kbpk, PSEC_BLOCK.trim()).expect("psec's block unwraps");
        assert_eq!((header.version, header.usage.as_str(), header.algorithm, header.mode_of_use), ('D', "K0", 'A', 'B'));
        assert_eq!(key, (32u8..64).collect::<Vec<_>>());
        let other: Key32 = [7; 32];
        assert_eq!(unwrap(&other, PSEC_BLOCK.trim()), Err(UnwrapError::Mac));
        assert!(matches!(unwrap(&kbpk, &PSEC_BLOCK.trim().replacen('D', "B", 1)), Err(UnwrapError::Version('B'))));
    }
}
