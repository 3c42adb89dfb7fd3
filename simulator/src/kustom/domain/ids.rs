//! Kustom's identifiers: UUIDs (KCONV-06, KCONV-10), API keys (KAUTH-03), enrollment codes
//! (KEN-11) and simulated hardware ids (KREG-28).

use rand::{Rng, RngExt};

/// KEN-11: no `0`, `O`, `I`, `1`; the simulator draws Kustom's codes from VioPay's alphabet
/// (PAIR-03), defined once.
pub(crate) use crate::ids::CODE_ALPHABET;
pub(crate) const CODE_LEN: usize = 8;

/// KCONV-06: a UUID in the 8-4-4-4-12 hex form, any case, written back in lowercase. Anything else
/// is not a UUID (and names no resource, KCONV-10).
pub(crate) fn parse_uuid(raw: &str) -> Option<String> {
    let b = raw.as_bytes();
    let well_formed =
        b.len() == 36 && b.iter().enumerate().all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { *c == b'-' } else { c.is_ascii_hexdigit() });
    well_formed.then(|| raw.to_ascii_lowercase())
}

/// KCONV-06: a random version 4 UUID, lowercase.
pub(crate) fn new_uuid(rng: &mut impl Rng) -> String {
    let mut b: [u8; 16] = rng.random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// KEN-11: 8 characters drawn from the alphabet.
pub(crate) fn new_code(rng: &mut impl Rng) -> String {
    (0..CODE_LEN).map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())])).collect()
}

/// KREG-28: `SIM-` + 12 uppercase hex digits.
pub(crate) fn new_sim_hardware_id(rng: &mut impl Rng) -> String {
    let b: [u8; 6] = rng.random();
    format!("SIM-{}", hex::encode_upper(b))
}

/// KAUTH-03: `kco_test_ipp_` + 24 lowercase ASCII letters and digits.
pub(crate) fn is_simulator_key(key: &str) -> bool {
    key.strip_prefix("kco_test_ipp_")
        .is_some_and(|rest| rest.len() == 24 && rest.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
}

/// KAUTH-02: `<MID>-<suffix>`, the suffix 6 lowercase letters and digits (the simulator's).
pub(crate) fn is_username_of(username: &str, merchant_id: &str) -> bool {
    username
        .strip_prefix(merchant_id)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|s| s.len() == 6 && s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn kconv_06_uuids_parse_in_any_case_and_are_written_lowercase() {
        assert_eq!(parse_uuid("46910CC3-AB41-4B80-B4A7-94DAB9F1B795").as_deref(), Some("46910cc3-ab41-4b80-b4a7-94dab9f1b795"));
        for bad in
            ["", "46910cc3ab414b80b4a794dab9f1b795", "46910cc3-ab41-4b80-b4a7-94dab9f1b79g", "{46910cc3-ab41-4b80-b4a7-94dab9f1b795}"]
        {
            assert_eq!(parse_uuid(bad), None, "{bad}");
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let id = new_uuid(&mut rng);
        assert_eq!(parse_uuid(&id).as_deref(), Some(id.as_str()));
        assert_eq!((&id[14..15], id.as_bytes()[19]), ("4", id.as_bytes()[19]));
        assert!(matches!(id.as_bytes()[19], b'8' | b'9' | b'a' | b'b'), "{id}");
    }

    #[test]
    fn ken_11_codes_are_8_of_the_32_symbols() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        for _ in 0..200 {
            let c = new_code(&mut rng);
            assert!(c.len() == 8 && c.bytes().all(|b| CODE_ALPHABET.contains(&b)), "{c}");
        }
    }

    #[test]
    fn kauth_02_kauth_03_key_and_username_forms() {
        assert!(is_simulator_key("kco_test_ipp_ujzde8gxd6ncf10epf91dhod"));
        assert!(!is_simulator_key("kco_test_ipp_UJZDE8GXD6NCF10EPF91DHOD"));
        assert!(!is_simulator_key("kco_live_ipp_ujzde8gxd6ncf10epf91dhod"));
        assert!(is_username_of("merchant_12345-k3v9qa", "merchant_12345"));
        assert!(!is_username_of("merchant_12345", "merchant_12345"));
    }
}
