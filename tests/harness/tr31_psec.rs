//! The harness's own TR-31 (`viopay_check::pos::tr31`) against an independent implementation,
//! Python's `psec` (installed by the test under `target/`): every block psec wraps, the harness
//! unwraps to the same key and header; every block the simulator wraps, psec and the harness both
//! unwrap to the same key; a block psec refuses, the harness refuses too. The harness judges the
//! simulator's key blocks with this code, so neither the simulator's TR-31 nor the harness's can
//! approve itself.

use std::process::Command;

use serde_json::{Value, json};
use viopay_check::pos::tr31;
use viopay_sim::crypto::tr31 as sim_tr31;

use crate::py;

const SCRIPT: &str = r#"
import json, sys
import psec.tr31
cases = json.load(sys.stdin)
out = {"wrapped": [], "unwrapped": [], "refused": []}
for c in cases["wrap"]:
    out["wrapped"].append(psec.tr31.wrap(bytes.fromhex(c["kbpk"]), c["header"], bytes.fromhex(c["key"])))
for c in cases["unwrap"]:
    header, key = psec.tr31.unwrap(bytes.fromhex(c["kbpk"]), c["block"])
    out["unwrapped"].append(key.hex())
for c in cases["tampered"]:
    try:
        psec.tr31.unwrap(bytes.fromhex(c["kbpk"]), c["block"])
        out["refused"].append(False)
    except Exception:
        out["refused"].append(True)
print(json.dumps(out))
"#;

fn key(seed: u8) -> [u8; 32] {
    std::array::from_fn(|i| seed.wrapping_mul(37).wrapping_add((i as u8).wrapping_mul(11)))
}

#[test]
fn the_harness_unwraps_what_psec_and_the_simulator_wrap_and_agrees_with_psec() {
    // KEYS-09's six headers.
    let headers = [("K0", 'B'), ("D0", 'B'), ("P0", 'E'), ("M6", 'C')];
    let wrap: Vec<Value> = headers
        .iter()
        .enumerate()
        .map(|(i, (u, m))| json!({ "kbpk": hex::encode(key(i as u8)), "key": hex::encode(key(100 + i as u8)), "header": format!("D0000{u}A{m}00E0000") }))
        .collect();
    // Headers a real server may send (KEYS-10 is the simulator's choice): another key version and
    // exportability, optional blocks (a KCV block; a key set identifier and a KCV, which psec
    // pads with a PB block), so the harness reads X9.143 headers, not the simulator's subset.
    let optional = ["D0000K0AB01N0100KP10012331550BC9", "D0000D0AB02N0200KS1800604B120F9292800000KP10012331550BC9"];
    let wrap: Vec<Value> = wrap
        .into_iter()
        .chain(
            optional
                .iter()
                .enumerate()
                .map(|(i, h)| json!({ "kbpk": hex::encode(key(10 + i as u8)), "key": hex::encode(key(110 + i as u8)), "header": h })),
        )
        .collect();
    let mut sim_blocks = Vec::new();
    for (i, (u, m)) in headers.iter().enumerate() {
        let padding: Vec<u8> = (0..16).map(|_| rand::random()).collect();
        let block = sim_tr31::wrap(&key(50 + i as u8), &sim_tr31::Header::aes(u, *m), &key(150 + i as u8), &padding).expect("wrap");
        sim_blocks.push((key(50 + i as u8), block, key(150 + i as u8)));
    }
    let unwrap: Vec<Value> = sim_blocks.iter().map(|(k, b, _)| json!({ "kbpk": hex::encode(k), "block": b })).collect();
    let good = sim_blocks[0].1.clone();
    let mut flipped = good.clone();
    let last = if flipped.ends_with('0') { '1' } else { '0' };
    flipped.pop();
    flipped.push(last);
    let tampered = vec![
        json!({ "kbpk": hex::encode(key(1)), "block": good.clone() }),
        json!({ "kbpk": hex::encode(sim_blocks[0].0), "block": flipped.clone() }),
        json!({ "kbpk": hex::encode(sim_blocks[0].0), "block": good.replacen("D0144K0", "D0144D0", 1) }),
    ];
    let python = py::python();
    let input = json!({ "wrap": wrap, "unwrap": unwrap, "tampered": tampered }).to_string();
    let mut child = Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), input.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("psec answers");
    assert!(out.status.success(), "psec failed: {}", String::from_utf8_lossy(&out.stdout));
    let out: Value = serde_json::from_slice(&out.stdout).expect("json");

    // psec wraps, the harness unwraps: optional blocks too, read and bound into the MAC.
    let wrapped = out["wrapped"].as_array().expect("wrapped");
    for (i, block) in wrapped.iter().enumerate().skip(headers.len()) {
        let block = block.as_str().expect("block");
        let n = (i - headers.len()) as u8;
        let (header, clear) = tr31::unwrap(&key(10 + n), block).expect("the harness unwraps psec's block with optional blocks");
        assert_eq!(clear, key(110 + n), "{block}");
        assert_eq!(header.blocks.iter().find(|(id, _)| id == "KP").map(|(_, d)| d.as_str()), Some("012331550BC9"), "{block}");
        assert!(header.size > 16 && header.size % 16 == 0, "{block}: header of {} characters", header.size);
        let mut tampered = block.to_owned();
        tampered.replace_range(20..21, if &block[20..21] == "0" { "1" } else { "0" });
        assert!(tr31::unwrap(&key(10 + n), &tampered).is_err(), "an altered optional block fails the MAC: {tampered}");
    }
    for (i, block) in wrapped.iter().take(headers.len()).enumerate() {
        let (header, clear) = tr31::unwrap(&key(i as u8), block.as_str().expect("block")).expect("the harness unwraps psec's block");
        assert_eq!(clear, key(100 + i as u8), "{block}");
        assert_eq!((header.usage.as_str(), header.mode_of_use), headers[i]);
        assert_eq!(tr31::unwrap(&key(200), block.as_str().expect("block")), Err(tr31::UnwrapError::Mac), "another parent");
    }
    // The simulator wraps; psec and the harness unwrap to the same key.
    for (i, (kbpk, block, clear)) in sim_blocks.iter().enumerate() {
        let ours = tr31::unwrap(kbpk, block).expect("the harness unwraps the simulator's block").1;
        assert_eq!(ours, clear.to_vec());
        assert_eq!(out["unwrapped"][i].as_str(), Some(hex::encode(clear).as_str()), "psec agrees");
    }
    // What psec refuses, the harness refuses.
    assert_eq!(out["refused"], json!([true, true, true]));
    assert!(tr31::unwrap(&key(1), &good).is_err());
    assert!(tr31::unwrap(&sim_blocks[0].0, &flipped).is_err());
    assert!(tr31::unwrap(&sim_blocks[0].0, &good.replacen("D0144K0", "D0144D0", 1)).is_err());
}
