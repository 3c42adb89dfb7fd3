//! Trace ids (ERR-07, ERR-08): unique, and reproducible under `--seed`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Trace id `n` is a bijective mix of `seed + n·φ`, so ids never repeat within a run (ERR-07),
/// need no lock, and the same seed gives the same sequence.
/// A trace id: 32 ASCII hex digits, kept on the stack until it is written somewhere.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TraceId([u8; 32]);

impl TraceId {
    pub(crate) fn as_str(&self) -> &str {
        // Always ASCII hex, by construction.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Debug for TraceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for TraceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for TraceId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Debug)]
pub(crate) struct TraceIds {
    seed: u64,
    counter: AtomicU64,
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    // SplitMix64's finaliser: a bijection on u64.
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl TraceIds {
    pub(crate) fn new(seed: u64) -> Self {
        TraceIds { seed, counter: AtomicU64::new(0) }
    }

    /// 32 lowercase hex characters. The first half alone is unique; the second half pads the id
    /// to the W3C trace-id length that tracing back ends expect.
    pub(crate) fn next_id(&self) -> TraceId {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let x = self.seed.wrapping_add(n.wrapping_mul(GOLDEN));
        let mut buf = [0u8; 32];
        for (half, value) in [mix(x), mix(!x)].into_iter().enumerate() {
            for i in 0..16 {
                buf[half * 16 + i] = HEX[((value >> (60 - 4 * i)) & 0xF) as usize];
            }
        }
        TraceId(buf)
    }

    pub(crate) fn reset(&self) {
        self.counter.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn err_07_ids_are_unique_and_seeded() {
        let a = TraceIds::new(7);
        let ids: std::collections::HashSet<TraceId> = (0..10_000).map(|_| a.next_id()).collect();
        assert_eq!(ids.len(), 10_000);
        let (b, c) = (TraceIds::new(7), TraceIds::new(7));
        let id = b.next_id();
        assert_eq!(id, c.next_id());
        assert!(id.as_str().len() == 32 && id.as_str().bytes().all(|x| x.is_ascii_hexdigit()));
        assert_eq!(format!("{:016x}", mix(7)), &id.as_str()[..16]);
        assert_ne!(TraceIds::new(8).next_id(), TraceIds::new(7).next_id());
    }
}
