//! The harness as a POS terminal in steps 5–8: it signs attests, unwraps the key hierarchy from
//! the ZMK down, opens and seals MSK envelopes, and judges what it unwrapped and decrypted.
//!
//! This crypto is the harness's own, written from the spec (§5) and the standards it names (TR-31
//! version D per ANSI X9.143 with NIST SP 800-38B CMAC and the SP 800-108 counter-mode key
//! derivation; HMAC-SHA256; AES-256-CBC with PKCS7), on the RustCrypto primitives. It never calls
//! the simulator's `crypto` module: a bug there must not be able to approve itself. The harness's
//! TR-31 is further checked against Python's `psec` (`tests/harness/tr31_psec.rs`).

pub mod attest;
pub mod device;
pub mod envelope;
pub mod secrets;
pub mod tr31;
pub mod verify;

/// A 256-bit key: an identity secret, a ZMK, or a clear key from the hierarchy.
pub type Key32 = [u8; 32];

pub use secrets::DeviceSecrets;
