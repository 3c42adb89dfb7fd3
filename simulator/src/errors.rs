//! The catalogue of documented errors: HTTP status, `code` and `message` together (§0.4), one
//! constant per rule ID. Handlers and fault injection take their errors from here only.

/// Which `details` key a documented error carries (ERR-05); `None` means none (ERR-06).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailsKey {
    None,
    DeviceId,
    PairingCode,
    Message,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorSpec {
    pub rule: &'static str,
    pub status: u16,
    pub code: &'static str,
    pub message: &'static str,
    pub details: DetailsKey,
}

const fn spec(rule: &'static str, status: u16, code: &'static str, message: &'static str, details: DetailsKey) -> ErrorSpec {
    ErrorSpec { rule, status, code, message, details }
}

use DetailsKey::{DeviceId, Message, PairingCode};

pub const HDR_02: ErrorSpec = spec("HDR-02", 400, "4000", "X-Device-Id header is required", DetailsKey::None);
/// HDR-03 (status, code) with HDR-04's message.
pub const HDR_04: ErrorSpec = spec("HDR-04", 400, "4000", "X-Device-Id header is invalid", DetailsKey::None);
/// HDR-06 (status, code) with HDR-07's message.
pub const HDR_07: ErrorSpec = spec("HDR-07", 400, "4000", "User-Agent header must start with Viopay-POS/", DetailsKey::None);
/// HDR-09 (status, code) with HDR-10's message.
pub const HDR_10: ErrorSpec = spec("HDR-10", 400, "4000", "X-Client-Type header must be pos", DetailsKey::None);

pub const BOOT_07: ErrorSpec = spec("BOOT-07", 404, "4004", "Device not found", DeviceId);
pub const PAIR_10: ErrorSpec = spec("PAIR-10", 404, "4004", "Device not found", DeviceId);
pub const STAT_12: ErrorSpec = spec("STAT-12", 404, "4004", "Device not found", DeviceId);
pub const PAIR_11: ErrorSpec = spec("PAIR-11", 400, "4220", "Device is already claimed", DeviceId);
pub const PAIR_08: ErrorSpec = spec("PAIR-08", 500, "5000", "Failed to create pairing code", DetailsKey::None);

/// CLAIM-03 (401/403, any code) with CLAIM-04's exact answer.
pub const CLAIM_04: ErrorSpec = spec("CLAIM-04", 401, "4010", "Unauthorized", DetailsKey::None);
/// CLAIM-05…CLAIM-08 share status, code and message; `details.message` says what was wrong.
pub const CLAIM_05: ErrorSpec = spec("CLAIM-05", 400, "4000", "Invalid request body", Message);
pub const CLAIM_12: ErrorSpec = spec("CLAIM-12", 400, "4004", "Pairing code not found", PairingCode);
pub const PAIR_05: ErrorSpec = spec("PAIR-05", 400, "4004", "Pairing code not found", PairingCode);
pub const CLAIM_14: ErrorSpec = spec("CLAIM-14", 400, "4004", "Pairing code not found", PairingCode);
pub const CLAIM_16: ErrorSpec = spec("CLAIM-16", 403, "4003", "Device does not belong to your merchant account", DeviceId);
pub const CLAIM_18: ErrorSpec = spec("CLAIM-18", 400, "4220", "Pairing code has already been used", PairingCode);
pub const CLAIM_19: ErrorSpec = spec("CLAIM-19", 400, "4220", "Pairing code has expired", PairingCode);

/// CLAIM-06: the exact validator message for a missing `pairing_code` (CLAIM-07: also for `""`
/// and `null`).
pub const CLAIM_06_MESSAGE: &str =
    "Key: 'ClaimDeviceRequest.PairingCode' Error:Field validation for 'PairingCode' failed on the 'required' tag";

pub const AUTH_07: ErrorSpec = spec("AUTH-07", 401, "4010", "Invalid client credentials", DetailsKey::None);
pub const AUTH_13: ErrorSpec = spec("AUTH-13", 401, "4010", "Unauthorized", DetailsKey::None);

pub const ERR_09: ErrorSpec = spec("ERR-09", 404, "4004", "Route not found", DetailsKey::None);
pub const ERR_10: ErrorSpec = spec("ERR-10", 405, "4050", "Method not allowed", DetailsKey::None);
pub const ERR_11: ErrorSpec = spec("ERR-11", 413, "4130", "Request body too large", DetailsKey::None);

/// ERR-11: the largest accepted request body.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The documented errors a fault can force on an endpoint (`POST /_sim/faults`), by path.
pub fn injectable(path: &str) -> &'static [ErrorSpec] {
    match path {
        "/pos/bootstrap" => &[BOOT_07],
        "/pos/pairing-code" => &[PAIR_08, PAIR_10, PAIR_11],
        "/pos/status" => &[STAT_12],
        "/pos/claim" => &[CLAIM_04, CLAIM_12, CLAIM_18, CLAIM_19],
        "/client/session" | "/auth/token" => &[AUTH_07],
        "/session/initiate" => &[AUTH_13],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn err_02_every_code_is_four_digits() {
        for s in [
            HDR_02, HDR_04, HDR_07, HDR_10, BOOT_07, PAIR_08, PAIR_10, PAIR_11, CLAIM_04, CLAIM_05, CLAIM_12, PAIR_05, CLAIM_14, CLAIM_16,
            CLAIM_18, CLAIM_19, AUTH_07, AUTH_13, ERR_09, ERR_10, ERR_11,
        ] {
            assert!(s.code.len() == 4 && s.code.bytes().all(|b| b.is_ascii_digit()), "{}", s.rule);
        }
    }
}
