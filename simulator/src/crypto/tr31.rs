//! TR-31 key blocks (ANSI X9.143), version `D`: the AES key-derivation binding method, for the
//! AES-256 keys of `/pos/keys` (KEYS-08…KEYS-11).
//!
//! Written here because no Rust crate implements TR-31; kept to what the simulator issues (version
//! D, AES-256 wrapping keys, no optional blocks) and proven against Python's `psec` in
//! `simulator/tests/tr31_psec.rs`. The construction:
//!
//! * derive from the wrapping key (KBPK) an encryption key KBEK and an authentication key KBAK,
//!   each `CMAC(KBPK, counter ‖ usage ‖ 0x00 ‖ 0x0004 ‖ 0x0100)` for counters 1 and 2 (NIST SP
//!   800-108 counter mode; usage `0x0000` for KBEK, `0x0001` for KBAK; `0x0004`/`0x0100` name
//!   AES-256 and 256 bits);
//! * key data = key length in bits (2 bytes, big-endian) ‖ key ‖ random padding to whole blocks;
//! * MAC = `CMAC(KBAK, header ‖ key data)`, 16 bytes;
//! * block = header ‖ hex(AES-256-CBC(KBEK, IV = MAC, key data)) ‖ hex(MAC), uppercase.

use aes::Aes256;
use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, InnerIvInit, KeyIvInit};
use cmac::{Cmac, KeyInit, Mac};

use super::Key32;

const HEADER_LEN: usize = 16;
const MAC_LEN: usize = 16;
const BLOCK: usize = 16;

/// The header fields the simulator sets (KEYS-09, KEYS-10); version `D`, no optional blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Two characters, e.g. `K0`, `D0`, `P0`, `M6`.
    pub key_usage: String,
    /// `A` for AES.
    pub algorithm: char,
    /// `B`, `E`, `C`, …
    pub mode_of_use: char,
    /// Two characters, `00` when versioning is not used.
    pub key_version: String,
    /// `E` (exportable under a trusted key), `N`, `S`.
    pub exportability: char,
}

impl Header {
    /// An AES key block header with key version `00` and exportability `E` (KEYS-10).
    pub fn aes(key_usage: &str, mode_of_use: char) -> Self {
        Header { key_usage: key_usage.to_owned(), algorithm: 'A', mode_of_use, key_version: "00".into(), exportability: 'E' }
    }

    /// The 16 header characters (`D` and the block's length first), appended to `out` without
    /// the formatting machinery (six blocks per keys answer).
    fn write(&self, block_len: usize, out: &mut String) {
        out.push('D');
        let digits = [block_len / 1000 % 10, block_len / 100 % 10, block_len / 10 % 10, block_len % 10];
        out.extend(digits.iter().map(|d| char::from(b'0' + u8::try_from(*d).unwrap_or(0))));
        out.push_str(&self.key_usage);
        out.push(self.algorithm);
        out.push(self.mode_of_use);
        out.push_str(&self.key_version);
        out.push(self.exportability);
        out.push_str("0000");
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Tr31Error {
    #[error("a key block is ASCII of at least {0} characters")]
    TooShort(usize),
    #[error("key block version `{0}` is not supported (only D)")]
    Version(char),
    #[error("the length field says {field} but the block has {actual} characters")]
    Length { field: String, actual: usize },
    #[error("optional blocks are not supported (the header says {0})")]
    OptionalBlocks(String),
    #[error("the encrypted key data or the MAC is not hex of whole 16-byte blocks")]
    Hex,
    #[error("the MAC does not match: wrong wrapping key, or the block was altered")]
    Mac,
    #[error("the decrypted key length field is not valid")]
    KeyLength,
    #[error("a key of {0} bytes is longer than a key block holds")]
    KeyTooLong(usize),
    /// Cannot happen: [`padding_len`] pads the key data to whole blocks before CBC.
    #[error("the key data is not whole 16-byte blocks")]
    NotWholeBlocks,
}

/// KBEK and KBAK from the wrapping key (see the module comment). One CMAC key schedule serves
/// the four derivation blocks.
fn derive(kbpk: &Key32) -> (Key32, Key32) {
    // CMAC takes any AES-256 key: 32 bytes cannot be refused.
    #[allow(clippy::expect_used)]
    let mut mac = <Cmac<Aes256> as KeyInit>::new_from_slice(kbpk).expect("an AES-256 key");
    // One CMAC reset between the four blocks, rather than a copy of its key schedule for each.
    let mut part = |counter: u8, usage: u8| -> [u8; 16] {
        mac.update(&[counter, 0x00, usage, 0x00, 0x00, 0x04, 0x01, 0x00]);
        mac.finalize_reset().into_bytes().into()
    };
    let mut key = |usage: u8| -> Key32 {
        let mut k = [0u8; 32];
        k[..16].copy_from_slice(&part(1, usage));
        k[16..].copy_from_slice(&part(2, usage));
        k
    };
    let kbek = key(0x00);
    (kbek, key(0x01))
}

fn mac(kbak: &Key32, header: &str, key_data: &[u8]) -> Cmac<Aes256> {
    #[allow(clippy::expect_used)]
    let mut mac = <Cmac<Aes256> as KeyInit>::new_from_slice(kbak).expect("an AES-256 key");
    mac.update(header.as_bytes());
    mac.update(key_data);
    mac
}

/// How many padding bytes a key of `key_len` bytes takes (to whole blocks, at least one byte).
pub fn padding_len(key_len: usize) -> usize {
    BLOCK - (2 + key_len) % BLOCK
}

/// A wrapping key with its derived KBEK and KBAK, each with its AES key schedule, for wrapping
/// several keys under one parent (the KEK wraps four per `/pos/keys` answer) without deriving or
/// expanding them again.
pub struct Kbpk {
    kbek: Aes256,
    kbak: Cmac<Aes256>,
}

impl Kbpk {
    pub fn new(kbpk: &Key32) -> Self {
        let (kbek, kbak) = derive(kbpk);
        Kbpk { kbek: <Aes256 as KeyInit>::new(&kbek.into()), kbak: <Cmac<Aes256> as KeyInit>::new(&kbak.into()) }
    }

    /// Wraps `key`. `padding` supplies the random padding ([`padding_len`] bytes are used), so the
    /// caller decides where randomness comes from.
    /// `&mut`: the one CMAC state is reset after each block instead of copied for it (with its
    /// key schedule, about 1 KB).
    pub fn wrap(&mut self, header: &Header, key: &[u8], padding: &[u8]) -> Result<String, Tr31Error> {
        wrap_with(&self.kbek, &mut self.kbak, header, key, padding)
    }
}

/// Wraps `key` under `kbpk` (see [`Kbpk`] to wrap several under one parent).
pub fn wrap(kbpk: &Key32, header: &Header, key: &[u8], padding: &[u8]) -> Result<String, Tr31Error> {
    Kbpk::new(kbpk).wrap(header, key, padding)
}

fn wrap_with(kbek: &Aes256, kbak: &mut Cmac<Aes256>, header: &Header, key: &[u8], padding: &[u8]) -> Result<String, Tr31Error> {
    let bits = u16::try_from(key.len() * 8).map_err(|_| Tr31Error::KeyTooLong(key.len()))?;
    let pad = padding_len(key.len());
    let mut data = Vec::with_capacity(2 + key.len() + pad);
    data.extend_from_slice(&bits.to_be_bytes());
    data.extend_from_slice(key);
    data.extend((0..pad).map(|i| padding.get(i).copied().unwrap_or(0)));
    let block_len = HEADER_LEN + 2 * data.len() + 2 * MAC_LEN;
    // The header's length field has four digits.
    if block_len > 9999 {
        return Err(Tr31Error::KeyTooLong(key.len()));
    }
    let mut block = String::with_capacity(block_len);
    header.write(block_len, &mut block);
    kbak.update(block.as_bytes());
    kbak.update(&data);
    let tag: [u8; 16] = kbak.finalize_reset().into_bytes().into();
    // The cipher is borrowed, not cloned: its key schedule is about 1 KB.
    let len = data.len();
    let encrypted = cbc::Encryptor::<&Aes256>::inner_iv_init(kbek, &tag.into())
        .encrypt_padded::<NoPadding>(&mut data, len)
        .map_err(|_| Tr31Error::NotWholeBlocks)?;
    block.push_str(&hex::encode_upper(encrypted));
    block.push_str(&hex::encode_upper(tag));
    Ok(block)
}

/// Unwraps a version D key block: checks the length field and the MAC; returns the header and
/// the clear key.
pub fn unwrap(kbpk: &Key32, block: &str) -> Result<(Header, Vec<u8>), Tr31Error> {
    let min = HEADER_LEN + 2 * BLOCK + 2 * MAC_LEN;
    if !block.is_ascii() || block.len() < min {
        return Err(Tr31Error::TooShort(min));
    }
    let version = block.chars().next().unwrap_or(' ');
    if version != 'D' {
        return Err(Tr31Error::Version(version));
    }
    let field = &block[1..5];
    if field.parse::<usize>().ok() != Some(block.len()) {
        return Err(Tr31Error::Length { field: field.to_owned(), actual: block.len() });
    }
    if &block[12..14] != "00" {
        return Err(Tr31Error::OptionalBlocks(block[12..14].to_owned()));
    }
    let chars: Vec<char> = block[..HEADER_LEN].chars().collect();
    let header = Header {
        key_usage: block[5..7].to_owned(),
        algorithm: chars[7],
        mode_of_use: chars[8],
        key_version: block[9..11].to_owned(),
        exportability: chars[11],
    };
    let (body, tag) = block[HEADER_LEN..].split_at(block.len() - HEADER_LEN - 2 * MAC_LEN);
    let encrypted = hex::decode(body).map_err(|_| Tr31Error::Hex)?;
    let tag: [u8; 16] = hex::decode(tag).ok().and_then(|t| t.try_into().ok()).ok_or(Tr31Error::Hex)?;
    if encrypted.is_empty() || encrypted.len() % BLOCK != 0 {
        return Err(Tr31Error::Hex);
    }
    let (kbek, kbak) = derive(kbpk);
    let data =
        cbc::Decryptor::<Aes256>::new(&kbek.into(), &tag.into()).decrypt_padded_vec::<NoPadding>(&encrypted).map_err(|_| Tr31Error::Hex)?;
    mac(&kbak, &block[..HEADER_LEN], &data).verify_slice(&tag).map_err(|_| Tr31Error::Mac)?;
    let bits = usize::from(u16::from_be_bytes([data[0], data[1]]));
    if bits % 8 != 0 || bits / 8 > data.len() - 2 {
        return Err(Tr31Error::KeyLength);
    }
    Ok((header, data[2..2 + bits / 8].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> Key32 {
        std::array::from_fn(|i| seed.wrapping_add(i as u8))
    }

    /// A block whose length needs five digits cannot be written: the header's field has four.
    #[test]
    fn a_block_longer_than_the_length_field_is_refused() {
        let header = Header::aes("D0", 'B');
        let long = vec![7u8; 5_000];
        assert_eq!(wrap(&key(1), &header, &long, &[]), Err(Tr31Error::KeyTooLong(5_000)));
        let fits = vec![7u8; 4_900];
        let block = wrap(&key(1), &header, &fits, &[0; 16]).expect("a block of four-digit length");
        assert_eq!(&block[1..5], block.len().to_string());
        assert_eq!(unwrap(&key(1), &block).map(|(_, k)| k.len()), Ok(4_900));
    }

    #[test]
    fn a_wrapped_key_unwraps_to_itself_with_its_header() {
        let (kbpk, tmk) = (key(0), key(0x40));
        let block = wrap(&kbpk, &Header::aes("K0", 'B'), &tmk, &[0xA5; 16]).expect("wrap");
        assert_eq!(block.len(), 144, "KEYS-10: 16 + 96 + 32 characters");
        assert!(block.starts_with("D0144K0AB00E0000"), "{block}");
        assert!(block[16..].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
        let (header, clear) = unwrap(&kbpk, &block).expect("unwrap");
        assert_eq!(header, Header::aes("K0", 'B'));
        assert_eq!(clear, tmk);
    }

    #[test]
    fn the_wrong_parent_a_flipped_mac_byte_or_an_altered_header_is_refused() {
        let kbpk = key(0);
        let block = wrap(&kbpk, &Header::aes("D0", 'B'), &key(9), &[0; 16]).expect("wrap");
        assert_eq!(unwrap(&key(1), &block), Err(Tr31Error::Mac), "another wrapping key");
        let mut flipped = block.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(unwrap(&kbpk, &String::from_utf8(flipped).expect("ascii")), Err(Tr31Error::Mac));
        let usage = block.replacen("D0144D0AB", "D0144P0AB", 1);
        assert_eq!(unwrap(&kbpk, &usage), Err(Tr31Error::Mac), "the header is authenticated");
        assert!(matches!(unwrap(&kbpk, &block.replacen("D0144", "D0145", 1)), Err(Tr31Error::Length { .. })));
        assert_eq!(unwrap(&kbpk, &block.replacen('D', "B", 1)), Err(Tr31Error::Version('B')));
        assert!(unwrap(&kbpk, "D0016K0AB00E0000").is_err());
    }
}
