//! Identifier newtypes. Each has a `parse` constructor so that malformed input is refused at the
//! edge and the domain only ever sees valid values.

use std::fmt;

/// A device id, `POS-` followed by 8 uppercase hex digits (HDR-05).
///
/// Stored as the `u32` the hex digits spell: a million provisioned devices then cost four bytes of
/// key each, and `device_ranges` can count up by plain addition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct DeviceId(u32);

/// Why a device id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a device id of the form POS-XXXXXXXX (8 uppercase hex digits)")]
pub(crate) struct InvalidDeviceId(pub String);

impl DeviceId {
    /// HDR-05: exactly `^POS-[0-9A-F]{8}$`. Lowercase hex, a lowercase prefix, an empty value and
    /// extra characters are all refused.
    pub(crate) fn parse(raw: &str) -> Result<Self, InvalidDeviceId> {
        let bad = || InvalidDeviceId(raw.to_owned());
        let hex = raw.strip_prefix("POS-").ok_or_else(bad)?;
        if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)) {
            return Err(bad());
        }
        u32::from_str_radix(hex, 16).map(DeviceId).map_err(|_| bad())
    }

    pub(crate) const fn from_u32(n: u32) -> Self {
        DeviceId(n)
    }

    pub(crate) const fn as_u32(self) -> u32 {
        self.0
    }

    /// The id `n` places after this one, if it still fits in 8 hex digits (`device_ranges`).
    pub(crate) fn checked_add(self, n: u32) -> Option<Self> {
        self.0.checked_add(n).map(DeviceId)
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "POS-{:08X}", self.0)
    }
}

/// PAIR-03: the 32 symbols a pairing code is drawn from (no `0`, `O`, `I`, `1`).
pub(crate) const CODE_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// PAIR-03: every code has six symbols.
pub(crate) const CODE_LEN: usize = 6;
/// Number of distinct codes: 32^6.
pub(crate) const CODE_SPACE: u32 = 1 << (5 * CODE_LEN as u32);

/// A pairing code (PAIR-03). Six symbols of a 32-symbol alphabet are exactly 30 bits, so the code
/// is stored as that number: lookups hash a `u32`, not a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PairingCode(u32);

impl PairingCode {
    /// The code whose symbols spell `n` in base 32. `n` is taken modulo the code space.
    pub(crate) const fn from_index(n: u32) -> Self {
        PairingCode(n % CODE_SPACE)
    }

    /// CLAIM-11: what a claim looks up: the submitted text trimmed of surrounding whitespace and
    /// uppercased. The one normaliser for every place that reads a submitted code.
    pub(crate) fn normalise(raw: &str) -> String {
        raw.trim().to_uppercase()
    }

    /// A code exactly as a device displays it: six symbols of [`CODE_ALPHABET`]. Anything else is
    /// not a code that can exist, which claim reports as "not found" (CLAIM-13).
    pub(crate) fn parse(s: &str) -> Option<Self> {
        if s.len() != CODE_LEN {
            return None;
        }
        s.bytes()
            .try_fold(0u32, |acc, b| {
                let digit = CODE_ALPHABET.iter().position(|&c| c == b)?;
                Some(acc * 32 + digit as u32)
            })
            .map(PairingCode)
    }
}

impl fmt::Display for PairingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; CODE_LEN];
        let mut n = self.0;
        for slot in buf.iter_mut().rev() {
            *slot = CODE_ALPHABET[(n % 32) as usize];
            n /= 32;
        }
        // The alphabet is ASCII, so the buffer is valid UTF-8.
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

/// An app version such as `1.4.2`, compared numerically component by component (BOOT-08).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppVersion(Vec<u64>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a version of the form X.Y.Z (dot-separated numbers)")]
pub struct InvalidVersion(pub String);

impl AppVersion {
    pub fn parse(raw: &str) -> Result<Self, InvalidVersion> {
        let parts: Result<Vec<u64>, _> = raw.split('.').map(str::parse::<u64>).collect();
        match parts {
            Ok(p) if !p.is_empty() => Ok(AppVersion(p)),
            _ => Err(InvalidVersion(raw.to_owned())),
        }
    }

    /// Missing trailing components count as zero, so `1.3` equals `1.3.0`.
    pub fn is_older_than(&self, other: &AppVersion) -> bool {
        let len = self.0.len().max(other.0.len());
        let at = |v: &AppVersion, i: usize| v.0.get(i).copied().unwrap_or(0);
        (0..len).map(|i| at(self, i).cmp(&at(other, i))).find(|o| o.is_ne()).is_some_and(|o| o.is_lt())
    }
}

impl fmt::Display for AppVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u64::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hdr_05_device_id_pattern_is_strict() {
        assert_eq!(DeviceId::parse("POS-8F3A2C91").map(|d| d.to_string()), Ok("POS-8F3A2C91".into()));
        for bad in ["POS-8f3a2c91", "pos-8F3A2C91", "", "POS-8F3A2C9", "POS-8F3A2C911", "POS-8F3A2C9G", "POS-+F3A2C91", "XPOS-8F3A2C91"] {
            assert!(DeviceId::parse(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn pair_03_codes_round_trip_through_the_alphabet() {
        for n in [0, 1, 31, 32, 12345, CODE_SPACE - 1] {
            let code = PairingCode::from_index(n);
            let text = code.to_string();
            assert_eq!(text.len(), 6);
            assert!(text.bytes().all(|b| CODE_ALPHABET.contains(&b)));
            assert_eq!(PairingCode::parse(&text), Some(code));
        }
        assert_eq!(PairingCode::from_index(0).to_string(), "AAAAAA");
        assert_eq!(PairingCode::from_index(CODE_SPACE - 1).to_string(), "999999");
        assert_eq!(PairingCode::parse("K7M3N0"), None, "0 is not in the alphabet");
        assert_eq!(PairingCode::parse("k7m3np"), None, "lookup expects normalised input");
    }

    #[test]
    fn boot_08_versions_compare_numerically() {
        let v = |s| AppVersion::parse(s).expect("valid");
        assert!(v("1.3.4").is_older_than(&v("1.3.5")));
        assert!(!v("1.10.0").is_older_than(&v("1.3.5")));
        assert!(!v("1.3.5").is_older_than(&v("1.3.5")));
        assert!(!v("1.3").is_older_than(&v("1.3.0")));
        assert!(v("1.3").is_older_than(&v("1.3.1")));
        assert!(AppVersion::parse("1.x").is_err());
        assert!(AppVersion::parse("").is_err());
    }
}
