//! A JSON object writer for large answers the simulator builds from its own values (the keys
//! answer: 2.6 KB, nearly all Base64). serde_json escapes every string byte by byte through a
//! table; here a string that needs no escape (the usual case: ids, hex, times, Base64) is copied
//! as it is, and Base64 is encoded straight into the output instead of into a `String` first. A
//! string that does need escaping still goes through serde_json, so the bytes are what serde
//! would write either way.

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::PAD;
use base64::engine::simd::Simd;

/// The standard alphabet with padding, as `general_purpose::STANDARD`, encoded with the widest
/// vector instructions the CPU has (detected once; scalar when it has none).
static STANDARD: LazyLock<Simd> = LazyLock::new(|| Simd::standard(PAD));

/// One JSON object being written into `out`: `{`, then fields in the order they are added.
pub(crate) struct ObjectWriter<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> ObjectWriter<'a> {
    pub(crate) fn open(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        ObjectWriter { out, first: true }
    }

    /// `"name":"value"`.
    pub(crate) fn str(&mut self, name: &'static str, value: &str) -> Result<(), serde_json::Error> {
        self.name(name);
        write_str(self.out, value)
    }

    /// `"name":"<Base64 of value>"` (standard alphabet, padded), encoded in place.
    pub(crate) fn base64(&mut self, name: &'static str, value: &[u8]) {
        self.name(name);
        self.out.push(b'"');
        let start = self.out.len();
        let len = base64::encoded_len(value.len(), true).unwrap_or(0);
        self.out.resize(start + len, 0);
        // The slice is exactly the encoded length, so encoding cannot run out of room.
        let written = STANDARD.encode_slice(value, &mut self.out[start..]).unwrap_or(0);
        self.out.truncate(start + written);
        self.out.push(b'"');
    }

    /// `"name":{…}`: the nested object, written until it is closed.
    pub(crate) fn object(&mut self, name: &'static str) -> ObjectWriter<'_> {
        self.name(name);
        ObjectWriter::open(self.out)
    }

    pub(crate) fn close(self) {
        self.out.push(b'}');
    }

    fn name(&mut self, name: &'static str) {
        if !std::mem::take(&mut self.first) {
            self.out.push(b',');
        }
        // Names are the answer's own field names: literals, none of which needs escaping.
        debug_assert!(needs_no_escape(name), "{name:?}");
        self.out.reserve(name.len() + 3);
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
    }
}

/// A JSON string: copied between quotes when no byte needs escaping, else serde_json's escaping.
fn write_str(out: &mut Vec<u8>, s: &str) -> Result<(), serde_json::Error> {
    if needs_no_escape(s) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        serde_json::to_writer(out, s)
    }
}

/// serde_json escapes control characters, `"` and `\` (and nothing else: not `/`, not non-ASCII).
fn needs_no_escape(s: &str) -> bool {
    s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(build: impl FnOnce(&mut ObjectWriter<'_>) -> Result<(), serde_json::Error>) -> String {
        let mut out = Vec::new();
        let mut w = ObjectWriter::open(&mut out);
        build(&mut w).expect("written");
        w.close();
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn strings_read_as_serde_writes_them_escaped_or_not() {
        let values = ["", "plain", "ks-2025-01", "a\"b", "back\\slash", "tab\there", "nl\n", "\u{1}", "é ü 漢", "a/b", "\u{7f}"];
        for v in values {
            let ours = written(|w| w.str("k", v));
            assert_eq!(ours, serde_json::json!({ "k": v }).to_string(), "{v:?}");
        }
    }

    #[test]
    fn nested_objects_and_base64_read_as_serde_writes_them() {
        let bytes: Vec<u8> = (0..=255).collect();
        for len in [0, 1, 2, 3, 4, 31, 32, 33, 100, 256] {
            let ours = written(|w| {
                w.str("a", "x")?;
                let mut inner = w.object("b");
                inner.base64("c", &bytes[..len]);
                inner.str("d", "y")?;
                inner.close();
                w.str("e", "z")
            });
            let expected = serde_json::json!({ "a": "x", "b": { "c": base64::engine::general_purpose::STANDARD.encode(&bytes[..len]), "d": "y" }, "e": "z" });
            assert_eq!(ours, expected.to_string(), "{len} bytes");
        }
    }
}
