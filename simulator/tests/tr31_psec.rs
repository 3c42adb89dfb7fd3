//! The simulator's TR-31 (`crypto::tr31`) against an independent implementation: Python's `psec`,
//! installed by this test in a virtual environment under `target/`. Every block the simulator
//! wraps must unwrap in `psec` to the same key and header; every block `psec` wraps must unwrap in
//! the simulator. A cross-check that cannot install `psec` fails: it never passes silently.

use std::process::Command;

use serde_json::{Value, json};
use viopay_sim::crypto::kcv::kcv;
use viopay_sim::crypto::tr31::{self, Header};

mod py;

/// The cross-check script: reads cases from stdin, unwraps and wraps with psec, prints JSON.
const SCRIPT: &str = r#"
import json, sys
import psec.tr31, psec.aes
cases = json.load(sys.stdin)
out = {"unwrapped": [], "wrapped": [], "refused": []}
for c in cases["ours"]:
    header, key = psec.tr31.unwrap(bytes.fromhex(c["kbpk"]), c["block"])
    out["unwrapped"].append({
        "key": key.hex().upper(),
        "header": [header.version_id, header.key_usage, header.algorithm, header.mode_of_use,
                   header.version_num, header.exportability],
        "kcv": psec.aes.encrypt_aes_ecb(key, bytes(16))[:3].hex().upper(),
    })
for c in cases["theirs"]:
    block = psec.tr31.wrap(bytes.fromhex(c["kbpk"]), c["header"], bytes.fromhex(c["key"]))
    out["wrapped"].append(block)
for c in cases["broken"]:
    try:
        psec.tr31.unwrap(bytes.fromhex(c["kbpk"]), c["block"])
        out["refused"].append(False)
    except Exception:
        out["refused"].append(True)
print(json.dumps(out))
"#;

fn key(seed: u8) -> [u8; 32] {
    std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8 * 7))
}

#[test]
fn psec_unwraps_every_block_the_simulator_wraps_and_the_simulator_unwraps_psec_s() {
    // The six entries of /pos/keys (KEYS-09), under a few wrapping keys, with random padding.
    let headers = [("K0", 'B'), ("K0", 'B'), ("D0", 'B'), ("P0", 'E'), ("D0", 'B'), ("M6", 'C')];
    let mut ours = Vec::new();
    let mut expected = Vec::new();
    for (i, (usage, mode)) in headers.iter().enumerate() {
        for parent in 0..3u8 {
            let (kbpk, clear) = (key(parent * 10 + 1), key(100 + i as u8 + parent));
            let padding: Vec<u8> = (0..16).map(|_| rand::random()).collect();
            let block = tr31::wrap(&kbpk, &Header::aes(usage, *mode), &clear, &padding).expect("wrap");
            ours.push(json!({ "kbpk": hex::encode(kbpk), "block": block }));
            expected.push((clear, *usage, *mode));
        }
    }
    let theirs: Vec<Value> = headers
        .iter()
        .enumerate()
        .map(|(i, (usage, mode))| json!({ "kbpk": hex::encode(key(50 + i as u8)), "key": hex::encode(key(200 + i as u8)), "header": format!("D0000{usage}A{mode}00E0000") }))
        .collect();
    // A block under the wrong parent, one with a flipped MAC character, one with another usage.
    let good = ours[0]["block"].as_str().unwrap_or_default().to_owned();
    let mut flipped = good.clone();
    let last = if flipped.ends_with('0') { '1' } else { '0' };
    flipped.pop();
    flipped.push(last);
    let broken = vec![
        json!({ "kbpk": hex::encode(key(99)), "block": good }),
        json!({ "kbpk": hex::encode(key(1)), "block": flipped }),
        json!({ "kbpk": hex::encode(key(1)), "block": good.replacen("K0AB", "D0AB", 1) }),
    ];

    let python = py::python();
    let mut child = Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    let input = json!({ "ours": ours, "theirs": theirs, "broken": broken }).to_string();
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), input.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("python finishes");
    assert!(out.status.success(), "psec failed: {}", String::from_utf8_lossy(&out.stderr));
    let result: Value = serde_json::from_slice(&out.stdout).expect("JSON from the script");

    // psec reads back every key, header and KCV the simulator wrapped.
    let unwrapped = result["unwrapped"].as_array().expect("unwrapped");
    assert_eq!(unwrapped.len(), expected.len());
    for (got, (clear, usage, mode)) in unwrapped.iter().zip(&expected) {
        assert_eq!(got["key"], hex::encode_upper(clear));
        assert_eq!(got["header"], json!(["D", usage, "A", mode.to_string(), "00", "E"]));
        assert_eq!(got["kcv"], kcv(clear).as_str(), "KEYS-07: the same KCV by both");
    }
    // The simulator unwraps what psec wrapped, header included.
    for (block, (i, (usage, mode))) in result["wrapped"].as_array().expect("wrapped").iter().zip(headers.iter().enumerate()) {
        let block = block.as_str().expect("a block");
        let (header, clear) = tr31::unwrap(&key(50 + i as u8), block).unwrap_or_else(|e| panic!("{block}: {e}"));
        assert_eq!((header, clear), (Header::aes(usage, *mode), key(200 + i as u8).to_vec()));
    }
    // Both refuse the broken blocks.
    assert_eq!(result["refused"], json!([true, true, true]), "psec refuses the broken blocks");
    for b in &broken {
        let kbpk: [u8; 32] = hex::decode(b["kbpk"].as_str().unwrap_or_default()).expect("hex").try_into().expect("32 bytes");
        assert!(tr31::unwrap(&kbpk, b["block"].as_str().unwrap_or_default()).is_err(), "the simulator refuses {b}");
    }
}
