//! Facts of `spec/VIOPAY-API.md` the harness needs, written from the spec and not taken from the
//! simulator's code, so that a bug in the simulator cannot hide itself.

/// TIME-01 / PAIR-02: a pairing code lives 300 s.
pub const CODE_TTL_SECS: u32 = 300;

/// BOOT-06: the default `min_supported_version`.
pub const DEFAULT_MIN_VERSION: &str = "1.3.5";

/// PAIR-03: the code alphabet.
pub const CODE_ALPHABET: &str = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// The documented POS app `User-Agent` (§1.8).
pub const USER_AGENT: &str = "Viopay-POS/1.4.2 (Android 12; PAX-A920)";

/// CLAIM-06: the validator message for a missing `pairing_code`.
pub const CLAIM_06_MESSAGE: &str =
    "Key: 'ClaimDeviceRequest.PairingCode' Error:Field validation for 'PairingCode' failed on the 'required' tag";
