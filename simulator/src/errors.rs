//! The catalogue of documented errors: HTTP status, `code` and `message` together (§0.4), one
//! constant per rule ID. Handlers and fault injection take their errors from here only.

/// Which `details` key a documented error carries (ERR-05); `None` means none (ERR-06).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DetailsKey {
    None,
    DeviceId,
    PairingCode,
    Message,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ErrorSpec {
    pub(crate) rule: &'static str,
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) message: &'static str,
    pub(crate) details: DetailsKey,
}

const fn spec(rule: &'static str, status: u16, code: &'static str, message: &'static str, details: DetailsKey) -> ErrorSpec {
    ErrorSpec { rule, status, code, message, details }
}

use DetailsKey::{DeviceId, Message, PairingCode};

pub(crate) const HDR_02: ErrorSpec = spec("HDR-02", 400, "4000", "X-Device-Id header is required", DetailsKey::None);
/// HDR-03 (status, code) with HDR-04's message.
pub(crate) const HDR_04: ErrorSpec = spec("HDR-04", 400, "4000", "X-Device-Id header is invalid", DetailsKey::None);
/// HDR-06 (status, code) with HDR-07's message.
pub(crate) const HDR_07: ErrorSpec = spec("HDR-07", 400, "4000", "User-Agent header must start with Viopay-POS/", DetailsKey::None);
/// HDR-09 (status, code) with HDR-10's message.
pub(crate) const HDR_10: ErrorSpec = spec("HDR-10", 400, "4000", "X-Client-Type header must be pos", DetailsKey::None);

pub(crate) const BOOT_07: ErrorSpec = spec("BOOT-07", 404, "4004", "Device not found", DeviceId);
pub(crate) const PAIR_10: ErrorSpec = spec("PAIR-10", 404, "4004", "Device not found", DeviceId);
pub(crate) const STAT_12: ErrorSpec = spec("STAT-12", 404, "4004", "Device not found", DeviceId);
pub(crate) const PAIR_11: ErrorSpec = spec("PAIR-11", 400, "4220", "Device is already claimed", DeviceId);
pub(crate) const PAIR_08: ErrorSpec = spec("PAIR-08", 500, "5000", "Failed to create pairing code", DetailsKey::None);

/// CLAIM-03 (401/403, any code) with CLAIM-04's exact answer.
pub(crate) const CLAIM_04: ErrorSpec = spec("CLAIM-04", 401, "4010", "Unauthorized", DetailsKey::None);
/// CLAIM-05…CLAIM-08 share status, code and message; `details.message` says what was wrong.
pub(crate) const CLAIM_05: ErrorSpec = spec("CLAIM-05", 400, "4000", "Invalid request body", Message);
pub(crate) const CLAIM_12: ErrorSpec = spec("CLAIM-12", 400, "4004", "Pairing code not found", PairingCode);
pub(crate) const PAIR_05: ErrorSpec = spec("PAIR-05", 400, "4004", "Pairing code not found", PairingCode);
pub(crate) const CLAIM_14: ErrorSpec = spec("CLAIM-14", 400, "4004", "Pairing code not found", PairingCode);
pub(crate) const CLAIM_16: ErrorSpec = spec("CLAIM-16", 403, "4003", "Device does not belong to your merchant account", DeviceId);
pub(crate) const CLAIM_18: ErrorSpec = spec("CLAIM-18", 400, "4220", "Pairing code has already been used", PairingCode);
pub(crate) const CLAIM_19: ErrorSpec = spec("CLAIM-19", 400, "4220", "Pairing code has expired", PairingCode);

/// CLAIM-06: the exact validator message for a missing `pairing_code` (CLAIM-07: also for `""`
/// and `null`).
pub(crate) const CLAIM_06_MESSAGE: &str =
    "Key: 'ClaimDeviceRequest.PairingCode' Error:Field validation for 'PairingCode' failed on the 'required' tag";

pub(crate) const AUTH_07: ErrorSpec = spec("AUTH-07", 401, "4010", "Invalid client credentials", DetailsKey::None);
pub(crate) const AUTH_13: ErrorSpec = spec("AUTH-13", 401, "4010", "Unauthorized", DetailsKey::None);

pub(crate) const ERR_09: ErrorSpec = spec("ERR-09", 404, "4004", "Route not found", DetailsKey::None);
pub(crate) const ERR_10: ErrorSpec = spec("ERR-10", 405, "4050", "Method not allowed", DetailsKey::None);
pub(crate) const ERR_11: ErrorSpec = spec("ERR-11", 413, "4130", "Request body too large", DetailsKey::None);

/// ERR-11: the largest accepted request body.
pub(crate) const BODY_LIMIT: usize = 64 * 1024;

/// The documented errors a fault can force on an endpoint (`POST /_sim/faults`), by path.
pub(crate) fn injectable(path: &str) -> &'static [ErrorSpec] {
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

// ---- steps 5–8 (§5) ----------------------------------------------------------------------

pub(crate) const ATT_21: ErrorSpec = spec("ATT-21", 404, "4004", "Device not found", DeviceId);
pub(crate) const ATT_22: ErrorSpec = spec("ATT-22", 400, "4000", "X-Key-Id header is required", DetailsKey::None);
pub(crate) const ATT_23: ErrorSpec = spec("ATT-23", 400, "4000", "X-Key-Id header is invalid", DetailsKey::None);
pub(crate) const ATT_24: ErrorSpec = spec("ATT-24", 400, "4000", "X-Timestamp header is required", DetailsKey::None);
pub(crate) const ATT_25: ErrorSpec = spec("ATT-25", 400, "4000", "X-Timestamp header is invalid", DetailsKey::None);
pub(crate) const ATT_26: ErrorSpec = spec("ATT-26", 400, "4000", "X-Nonce header is required", DetailsKey::None);
pub(crate) const ATT_27: ErrorSpec = spec("ATT-27", 400, "4000", "X-Nonce header is invalid", DetailsKey::None);
pub(crate) const ATT_28: ErrorSpec = spec("ATT-28", 400, "4000", "X-Signature header is required", DetailsKey::None);
pub(crate) const ATT_29: ErrorSpec = spec("ATT-29", 400, "4000", "X-Signature header is invalid", DetailsKey::None);
pub(crate) const ATT_30: ErrorSpec = spec("ATT-30", 401, "4010", "Invalid device key", DetailsKey::None);
/// `details.server_time` (filled by the handler).
pub(crate) const ATT_31: ErrorSpec = spec("ATT-31", 401, "4010", "Timestamp outside the accepted window", DetailsKey::None);
pub(crate) const ATT_32: ErrorSpec = spec("ATT-32", 401, "4010", "Nonce already used", DetailsKey::None);
pub(crate) const ATT_33: ErrorSpec = spec("ATT-33", 401, "4010", "Invalid signature", DetailsKey::None);
pub(crate) const ATT_34: ErrorSpec = spec("ATT-34", 400, "4220", "Device is not claimed", DeviceId);
pub(crate) const ATT_38: ErrorSpec = spec("ATT-38", 401, "4010", "Unauthorized", DetailsKey::None);
pub(crate) const ATT_39: ErrorSpec = spec("ATT-39", 400, "4000", "X-Device-Id header is required", DetailsKey::None);
pub(crate) const ATT_40: ErrorSpec = spec("ATT-40", 400, "4000", "X-Device-Id header is invalid", DetailsKey::None);
pub(crate) const ATT_41: ErrorSpec = spec("ATT-41", 403, "4003", "Attestation token does not belong to this device", DeviceId);
pub(crate) const MSK_09: ErrorSpec = spec("MSK-09", 400, "4000", "Invalid envelope", Message);
pub(crate) const MSK_10: ErrorSpec = spec("MSK-10", 400, "4220", "Keys have not been issued", DetailsKey::None);
pub(crate) const ACT_06: ErrorSpec = spec("ACT-06", 400, "4000", "Invalid envelope", Message);
/// `details.not_ready` (filled by the handler).
pub(crate) const ACT_07: ErrorSpec = spec("ACT-07", 400, "4220", "Device is not ready for activation", DetailsKey::None);

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
