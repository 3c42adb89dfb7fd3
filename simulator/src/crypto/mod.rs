//! Bytes in, bytes out: the cryptography of activation steps 5–8. No state, no HTTP, no clock:
//! the domain calls these with keys it holds. Every function is pinned by tests to the worked
//! examples of the API reference (§5.2.3, §5.7, KEYS-07) and, for TR-31, to an independent
//! implementation (Python `psec`, `simulator/tests/tr31_psec.rs`).
//!
//! Ciphers, MACs and hashes come from RustCrypto (`aes`, `cbc`, `cmac`, `hmac`, `sha2`); only the
//! TR-31 key-block framing is written here, because no crate implements ANSI X9.143.

pub mod envelope;
pub mod kcv;
pub mod signature;
pub mod tr31;

/// A 32-byte AES-256 key or HMAC secret.
pub type Key32 = [u8; 32];
